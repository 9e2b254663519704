//! Membership plans: the calls that add and remove group members,
//! O(k) in the members changed and never a listing of the group first
//! (a group of 10 000 members gains 3 and loses 2 in 5 calls, or in 2
//! where the app takes batches). Every step is safe to replay when the
//! app's add is idempotent and its "not a member" answer to a removal is
//! read as success (an `"ok"` error rule).

use serde_json::Value;

use super::{Condition, Purpose, Step, step};
use crate::mapping::{OpKind, ResourceMapping};

/// The steps that add `add` and remove `remove` (member ids) of the group
/// mapped by `m`: one call per member, or one batch call for each list.
pub fn membership(m: &ResourceMapping, add: &[String], remove: &[String]) -> Vec<Step> {
    let mut steps = Vec::new();
    for (kind, purpose, ids) in [
        (OpKind::MemberRemove, Purpose::RemoveMembers, remove),
        (OpKind::MemberAdd, Purpose::AddMembers, add),
    ] {
        if ids.is_empty() {
            continue;
        }
        let Some(op) = m.op(kind) else { continue };
        match op.batch() {
            Some(path) => {
                let mut body = Value::Object(serde_json::Map::new());
                let list = ids.iter().cloned().map(Value::String).collect();
                path.set(&mut body, Value::Array(list));
                let changes = vec!["members".into()];
                steps.extend(step(
                    m,
                    kind,
                    purpose,
                    Some(body),
                    changes,
                    Condition::Always,
                ));
            }
            None => {
                for id in ids {
                    let s = step(
                        m,
                        kind,
                        purpose,
                        None,
                        vec!["members".into()],
                        Condition::Always,
                    );
                    steps.extend(s.map(|s| Step {
                        member: Some(id.clone()),
                        ..s
                    }));
                }
            }
        }
    }
    steps
}

/// Groups as roles through role endpoints: the steps that grant `role` to
/// `add` and take it from `remove` (user ids).
pub fn role_grants(
    m: &ResourceMapping,
    role: &str,
    add: &[String],
    remove: &[String],
) -> Vec<Step> {
    let mut steps = Vec::new();
    for (kind, purpose, ids) in [
        (OpKind::MemberRemove, Purpose::RemoveMembers, remove),
        (OpKind::MemberAdd, Purpose::AddMembers, add),
    ] {
        for id in ids {
            let s = step(
                m,
                kind,
                purpose,
                None,
                vec!["members".into()],
                Condition::Always,
            );
            steps.extend(s.map(|s| Step {
                member: Some(id.clone()),
                role: Some(role.to_owned()),
                ..s
            }));
        }
    }
    steps
}
