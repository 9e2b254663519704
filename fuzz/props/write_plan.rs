//! Properties of planning a PATCH on an app record, whatever the record
//! and the PatchOp hold, with the example users mapping (whose app
//! applies an update as a JSON merge patch and `suspend`/`unsuspend` as
//! `state`), in every dialect:
//! 1. nothing panics: reading the record, parsing and applying the
//!    operations, planning;
//! 2. a failed PATCH leaves the resource as it was (atomic);
//! 3. a plan calls only operations the mapping has, at most one update
//!    and one action, and never writes an attribute the mapping cannot
//!    write; it is empty exactly when nothing the mapping stores changes;
//! 4. convergence: once the app has applied the plan, planning the same
//!    target again on the app's new state is empty — the IdP's replay of
//!    a PATCH that succeeded changes nothing more.

use scim_sidecar::mapping::{OpKind, ResourceMapping};
use scim_sidecar::plan::{self, Purpose, WritePlan};
use scim_sidecar::protocol::patch::{self, Dialect, PatchOptions};
use serde_json::Value;

use super::common::{example_users, merge_patch};

/// Checks `[record, patch]` (or `{"record", "patch"}`).
pub fn check(input: &Value) {
    let (record, body) = match input {
        Value::Array(a) if a.len() == 2 => (&a[0], &a[1]),
        Value::Object(o) => match (o.get("record"), o.get("patch")) {
            (Some(r), Some(p)) => (r, p),
            _ => return,
        },
        _ => return,
    };
    let m = example_users();
    let Ok(current) = m.to_scim(record) else {
        return;
    };
    for dialect in [Dialect::Generic, Dialect::Okta, Dialect::Entra] {
        let ctx = || format!("{dialect:?}\nrecord {record}\npatch {body}");
        let opts = PatchOptions {
            dialect,
            schema: m.schema(),
            ..PatchOptions::default()
        };
        let Ok(ops) = patch::parse(body, &opts) else {
            continue;
        };
        let mut after = current.clone();
        if patch::apply(&mut after, &ops, &opts).is_err() {
            assert_eq!(
                after,
                current,
                "a failed PATCH changed the resource: {}",
                ctx()
            );
            continue;
        }
        let Ok(p) = plan::update(m, &current, &after, &Default::default()) else {
            continue;
        };
        check_plan(m, &p, &current, &after, &ctx);
        converges(m, record, &p, &after, &ctx);
    }
}

fn check_plan(
    m: &ResourceMapping,
    p: &WritePlan,
    current: &Value,
    after: &Value,
    ctx: &dyn Fn() -> String,
) {
    let count = |purposes: &[Purpose]| {
        p.steps
            .iter()
            .filter(|s| purposes.contains(&s.purpose))
            .count()
    };
    assert!(
        count(&[Purpose::Update, Purpose::Replace]) <= 1,
        "{p}: {}",
        ctx()
    );
    assert!(
        count(&[Purpose::Activate, Purpose::Deactivate]) <= 1,
        "{p}: {}",
        ctx()
    );
    assert_eq!(
        count(&[
            Purpose::Update,
            Purpose::Replace,
            Purpose::Activate,
            Purpose::Deactivate
        ]),
        p.steps.len(),
        "{p}: {}",
        ctx()
    );
    for s in &p.steps {
        assert!(m.op(s.op).is_some(), "{p}: {}", ctx());
    }
    let writable = m.writable_attributes(after);
    let before = m.writable_attributes(current);
    for a in p.changes() {
        let known = a == "active" || writable.iter().chain(&before).any(|w| w == a);
        assert!(
            known,
            "the plan writes `{a}`, which the mapping does not: {p}\n{}",
            ctx()
        );
    }
    let changes = m
        .changes_to_host(current, after)
        .expect("planned, so mappable");
    assert_eq!(p.is_empty(), changes.is_empty(), "{p}: {}", ctx());
}

/// The example app after the plan: the update merged in, the action's state set.
fn converges(
    m: &ResourceMapping,
    record: &Value,
    p: &WritePlan,
    after: &Value,
    ctx: &dyn Fn() -> String,
) {
    let mut stored = record.clone();
    for s in &p.steps {
        match (s.op, &s.body) {
            (OpKind::Update, Some(b)) => merge_patch(&mut stored, b),
            (OpKind::Activate, _) => {
                merge_patch(&mut stored, &serde_json::json!({"state": "ACTIVE"}))
            }
            (OpKind::Deactivate, _) => {
                merge_patch(&mut stored, &serde_json::json!({"state": "SUSPENDED"}))
            }
            _ => return,
        }
    }
    let Ok(now) = m.to_scim(&stored) else {
        panic!(
            "the app's state after the plan does not map: {stored}\n{p}\n{}",
            ctx()
        );
    };
    let replay = plan::update(m, &now, after, &Default::default())
        .unwrap_or_else(|e| panic!("the replay does not plan ({e}): {}", ctx()));
    assert!(
        replay.is_empty(),
        "the replay would write again: {replay}\nfirst plan: {p}\nstored: {stored}\nread: {now}\nwanted: {after}\n{}",
        ctx()
    );
}
