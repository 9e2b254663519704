//! Write plans: what a SCIM write (create, replace, PATCH, delete) does to
//! the app, as a small typed value built before any call is made. Each
//! step is one app call with its purpose, the SCIM attributes it changes,
//! whether it carries the app's version as a precondition and whether it
//! is safe to repeat. The planner picks the fewest calls the mapping
//! allows (`active` rides in the create body when it is a field, an action
//! call only when it is an action). The plan is what runs, what debug logs
//! show and what `explain` prints. Building a plan is pure: no I/O, no
//! HTTP; the host layer executes it.

use std::fmt;

use http::Method;
use serde_json::Value;

use crate::mapping::{MapError, OnDelete, OpKind, Operation, ResourceMapping, WriteEnv};

/// Why a step exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Create the resource.
    Create,
    /// Set the attributes the create call does not accept.
    CompleteCreate,
    /// Send the changed fields.
    Update,
    /// Send the full replacement body.
    Replace,
    /// Set `active` to true through the app's action.
    Activate,
    /// Set `active` to false through the app's action.
    Deactivate,
    /// The call an action makes first (unlock before activate).
    Prepare,
    /// Delete the resource.
    Delete,
    /// Add group members.
    AddMembers,
    /// Remove group members.
    RemoveMembers,
    /// Write a group's whole member list (apps that only replace it).
    ReplaceMembers,
}

impl Purpose {
    /// A short label for logs and `explain`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::CompleteCreate => "complete create",
            Self::Update => "update",
            Self::Replace => "replace",
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
            Self::Prepare => "prepare",
            Self::Delete => "delete",
            Self::AddMembers => "add members",
            Self::RemoveMembers => "remove members",
            Self::ReplaceMembers => "replace members",
        }
    }
}

/// Whether a step may be sent again after the app refused it with 429/503
/// or after a failure the IdP will replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Sending it twice has the effect of sending it once (GET, PUT,
    /// DELETE, a PATCH of absolute values, an action whose "already done"
    /// answer the mapping reads as success).
    Safe,
    /// Sending it twice may do it twice (a POST create).
    Once,
}

/// When a step runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Always.
    Always,
    /// Only when the resource's `active` is not `want`; when the state is
    /// unknown, run if `if_unknown`.
    ActiveIsNot {
        /// The wanted value.
        want: bool,
        /// Whether to run when the state is not known.
        if_unknown: bool,
    },
}

/// One app call of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The mapping operation called.
    pub op: OpKind,
    /// Why.
    pub purpose: Purpose,
    /// The host request body, before wrapping.
    pub body: Option<Value>,
    /// The SCIM attributes this step writes.
    pub changes: Vec<String>,
    /// Whether the call carries the app's version as a precondition.
    pub precondition: bool,
    /// Whether the step is safe to repeat.
    pub repeat: Repeat,
    /// When it runs.
    pub when: Condition,
    /// The `{member}` of a member call.
    pub member: Option<String>,
    /// The `{role}` of a role call (groups as roles).
    pub role: Option<String>,
    /// The `{id}` when it is not the resource's own (a member's user id
    /// when a group's membership is written on users).
    pub target: Option<String>,
}

/// The app calls of one SCIM write, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WritePlan {
    /// The steps.
    pub steps: Vec<Step>,
}

impl WritePlan {
    /// Whether the plan makes no call.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The SCIM attributes the plan writes, in step order.
    pub fn changes(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .flat_map(|s| s.changes.iter().map(String::as_str))
    }
}

impl fmt::Display for WritePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("no app call: nothing changes");
        }
        for (i, s) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}. {}", i + 1, s.purpose.label())?;
            if !s.changes.is_empty() {
                write!(f, " ({})", s.changes.join(", "))?;
            }
            if let Some(m) = &s.member {
                write!(f, " {m}")?;
            }
            if let Some(t) = &s.target {
                write!(f, " on {t}")?;
            }
            if s.precondition {
                f.write_str(" if unchanged")?;
            }
            if let Condition::ActiveIsNot { want, if_unknown } = s.when {
                let state = if want { "inactive" } else { "active" };
                let unknown = if if_unknown { " or unknown" } else { "" };
                write!(f, " when {state}{unknown}")?;
            }
        }
        Ok(())
    }
}

/// How a step may be repeated: by its method, or because the mapping reads
/// the app's "already done" answer as success.
fn repeat_of(op: &Operation) -> Repeat {
    if *op.method() != Method::POST || op.has_success_rule() {
        Repeat::Safe
    } else {
        Repeat::Once
    }
}

pub(crate) fn step(
    m: &ResourceMapping,
    kind: OpKind,
    purpose: Purpose,
    body: Option<Value>,
    changes: Vec<String>,
    when: Condition,
) -> Option<Step> {
    let op = m.op(kind)?;
    Some(Step {
        op: kind,
        purpose,
        body,
        changes,
        precondition: op.uses_version(),
        repeat: repeat_of(op),
        when,
        member: None,
        role: None,
        target: None,
    })
}

/// The steps of an `active` change through the app's actions: the
/// action's `before` call (unlock a locked account) when it has one, then
/// the action; each safe to replay as its method and error rules say.
fn action(m: &ResourceMapping, active: bool, when: Condition) -> Vec<Step> {
    let (kind, purpose) = if active {
        (OpKind::Activate, Purpose::Activate)
    } else {
        (OpKind::Deactivate, Purpose::Deactivate)
    };
    let Some(main) = step(m, kind, purpose, None, vec!["active".into()], when) else {
        return Vec::new();
    };
    let first = m.op(kind).and_then(Operation::before).map(|b| Step {
        op: kind,
        purpose: Purpose::Prepare,
        body: None,
        changes: Vec::new(),
        precondition: b.uses_version(),
        repeat: repeat_of(b),
        when,
        member: None,
        role: None,
        target: None,
    });
    first.into_iter().chain([main]).collect()
}

/// The plan of a create (RFC 7644 §3.3) of `wanted`: the create call with
/// every attribute it accepts (`active` included when it is a field);
/// an update with the rest when the create call accepts only some; and,
/// unless the new account already has the wanted state (an account is
/// assumed active when its state is not known), the action when `active`
/// is an action, or an update of the field when the create call sent it.
pub fn create(
    m: &ResourceMapping,
    wanted: &Value,
    env: &WriteEnv<'_>,
) -> Result<WritePlan, MapError> {
    let (first, rest) = m.to_host_create_in(wanted, env)?;
    let written = |w: bool| {
        m.writable_attributes(wanted)
            .into_iter()
            .filter(|a| m.create_writes(a) == w)
            .collect::<Vec<_>>()
    };
    let mut steps = Vec::new();
    let created = written(true);
    let sends_active = created.iter().any(|a| a == "active");
    steps.extend(step(
        m,
        OpKind::Create,
        Purpose::Create,
        Some(first),
        created,
        Condition::Always,
    ));
    if let Some(rest) = rest {
        let (kind, purpose) = (update_kind(m), Purpose::CompleteCreate);
        steps.extend(step(
            m,
            kind,
            purpose,
            Some(rest),
            written(false),
            Condition::Always,
        ));
    }
    if let Some(want) = crate::mapping::active_of(wanted) {
        let when = Condition::ActiveIsNot {
            want,
            if_unknown: !want,
        };
        if m.active_via_actions() {
            steps.extend(action(m, want, when));
        } else if sends_active {
            steps.extend(active_again(m, wanted, want, when, env)?);
        }
    }
    Ok(WritePlan { steps })
}

/// `active` as a field the create call sent: some apps ignore it there
/// (every account starts active). When the new account does not show the
/// state asked, an update sends it again (the whole body where the
/// mapping only replaces).
fn active_again(
    m: &ResourceMapping,
    wanted: &Value,
    want: bool,
    when: Condition,
    env: &WriteEnv<'_>,
) -> Result<Option<Step>, MapError> {
    let kind = update_kind(m);
    let body = match kind {
        OpKind::Replace => Some(m.to_host_replace_in(wanted, env)?),
        _ => {
            let mut before = wanted.clone();
            if let Value::Object(o) = &mut before {
                o.insert("active".into(), Value::Bool(!want));
            }
            m.changes_to_host_in(&before, wanted, env)?.body
        }
    };
    if body.is_none() {
        return Ok(None);
    }
    let changes = vec!["active".to_owned()];
    Ok(step(m, kind, Purpose::CompleteCreate, body, changes, when))
}

/// The operation that sends changed fields: `update`, else `replace`.
fn update_kind(m: &ResourceMapping) -> OpKind {
    if m.op(OpKind::Update).is_some() {
        OpKind::Update
    } else {
        OpKind::Replace
    }
}

/// The plan that turns the resource `before` into `after` (a PUT or a
/// PATCH already applied, RFC 7644 §3.5): one update with only the changed
/// fields (or one full replace where the mapping has `replace`), and the
/// `active` action when `active` is an action and changed. Empty when
/// nothing the mapping stores changes.
pub fn update(
    m: &ResourceMapping,
    before: &Value,
    after: &Value,
    env: &WriteEnv<'_>,
) -> Result<WritePlan, MapError> {
    let changes = m.changes_to_host_in(before, after, env)?;
    let mut steps = Vec::new();
    let fields: Vec<String> = changes
        .attributes
        .iter()
        .filter(|a| changes.active_change.is_none() || *a != "active")
        .cloned()
        .collect();
    if changes.body.is_some() {
        let s = if m.op(OpKind::Replace).is_some() {
            let full = m.to_host_replace_in(after, env)?;
            step(
                m,
                OpKind::Replace,
                Purpose::Replace,
                Some(full),
                fields,
                Condition::Always,
            )
        } else {
            step(
                m,
                OpKind::Update,
                Purpose::Update,
                changes.body,
                fields,
                Condition::Always,
            )
        };
        steps.extend(s);
    }
    if let Some(active) = changes.active_change {
        steps.extend(action(m, active, Condition::Always));
    }
    Ok(WritePlan { steps })
}

/// The plan of a DELETE (RFC 7644 §3.6): the app's delete, or — with
/// `on_delete = "deactivate"` — the plan that sets `active` to false on
/// `current`. `None` when the mapping can do neither.
pub fn delete(
    m: &ResourceMapping,
    current: Option<&Value>,
    env: &WriteEnv<'_>,
) -> Result<Option<WritePlan>, MapError> {
    if let Some(s) = step(
        m,
        OpKind::Delete,
        Purpose::Delete,
        None,
        Vec::new(),
        Condition::Always,
    ) {
        return Ok(Some(WritePlan { steps: vec![s] }));
    }
    match (m.on_delete(), current) {
        (OnDelete::Deactivate, Some(before)) => {
            let mut after = before.clone();
            if let Value::Object(o) = &mut after {
                o.insert("active".into(), Value::Bool(false));
            }
            update(m, before, &after, env).map(Some)
        }
        _ => Ok(None),
    }
}

mod members;

pub use members::{membership, role_grants};

#[cfg(test)]
mod tests;
