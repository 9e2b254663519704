//! Runs a [`WritePlan`] on the app, step by step: each step's condition is
//! checked against what is known of the resource, the app's version is
//! sent where the step carries a precondition, a step that is safe to
//! repeat is retried while the app pushes back, and what each answer says
//! about the resource (its id, its state, its new version) is carried to
//! the next step. When a step fails, the error says which steps the app
//! already applied, so the IdP's replay of the same request can finish the
//! job (see the resource handlers).

use serde_json::Value;

use super::{CallError, HostCtx, HostReply, Preview};
use crate::error::ScimError;
use crate::mapping::{OpKind, Vars, active_of};
use crate::plan::{Condition, Purpose, Step, WritePlan};

/// What is known of the resource while a plan runs.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The resource id (given for updates, learnt from a create).
    pub id: Option<String>,
    /// The SCIM resource as last seen (read before, or mapped from an answer).
    pub scim: Option<Value>,
    /// The app's version as last seen, for preconditions.
    pub version: Option<Value>,
    /// The last app answer that carried the resource (host JSON); when
    /// set, `scim` is its mapping (`to_scim`, before `meta.location`).
    pub item: Option<Value>,
    /// Whether `item` is the whole record, current after every step run
    /// (the last call answered with it): no read-back is needed.
    pub whole: bool,
}

/// A plan that stopped at a failing step.
#[derive(Debug)]
pub struct Stopped {
    /// Why.
    pub error: CallError,
    /// The step that failed.
    pub failed: Purpose,
    /// The steps the app applied before it.
    pub applied: Vec<Purpose>,
    /// The steps not attempted after it.
    pub pending: Vec<Purpose>,
    /// What was known when it stopped (the id of a created resource).
    pub known: Known,
}

impl Stopped {
    /// The SCIM error for the IdP, naming what the app applied.
    pub fn into_scim_error(self) -> ScimError {
        let note = self.note();
        ScimError::from(self.error).with_note(&note)
    }

    /// `the app applied: create (id 17); not applied: deactivate`.
    pub fn note(&self) -> String {
        let names = |v: &[Purpose]| v.iter().map(|p| p.label()).collect::<Vec<_>>().join(", ");
        if self.applied.is_empty() {
            return String::new();
        }
        let id = self
            .known
            .id
            .as_deref()
            .map(|i| format!(" (id {i})"))
            .unwrap_or_default();
        let mut pending = vec![self.failed];
        pending.extend(&self.pending);
        format!(
            "the app applied: {}{id}; not applied: {}; sending the same request again completes it",
            names(&self.applied),
            names(&pending),
        )
    }
}

/// Runs `plan` with `known` as the starting knowledge; `resource` is the
/// SCIM resource for attribute placeholders in templates.
pub async fn run(
    host: &HostCtx<'_>,
    plan: &WritePlan,
    mut known: Known,
    resource: &Value,
) -> Result<Known, Box<Stopped>> {
    let mut applied = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        if !should_run(step, &known) {
            tracing::debug!(
                step = step.purpose.label(),
                "step skipped: already in the wanted state"
            );
            continue;
        }
        let collection = (step.op == OpKind::Create)
            .then(|| preview(host, step, &known, resource).ok())
            .flatten()
            .map(|p| p.url);
        match run_step(host, step, &known, resource).await {
            Ok(reply) => {
                learn(host, step, reply, &mut known, collection.as_deref());
                applied.push(step.purpose);
                if let (OpKind::Create, None, Some(next)) =
                    (step.op, &known.id, plan.steps.get(i + 1))
                {
                    // The app made the resource but did not say which it
                    // is: no later step can address it.
                    return Err(Box::new(Stopped {
                        error: CallError::Failed(unnamed_create()),
                        failed: next.purpose,
                        applied,
                        pending: plan.steps[i + 2..].iter().map(|s| s.purpose).collect(),
                        known,
                    }));
                }
            }
            Err(error) => {
                return Err(Box::new(Stopped {
                    error,
                    failed: step.purpose,
                    applied,
                    pending: plan.steps[i + 1..].iter().map(|s| s.purpose).collect(),
                    known,
                }));
            }
        }
    }
    Ok(known)
}

/// The app accepted a create and its answer names no id (neither in the
/// body nor in `Location`).
pub fn unnamed_create() -> ScimError {
    tracing::warn!("the app's answer to a create names no id");
    ScimError::upstream(
        http::StatusCode::BAD_GATEWAY,
        "the app accepted the create but its answer names no id",
    )
}

fn should_run(step: &Step, known: &Known) -> bool {
    match step.when {
        Condition::Always => true,
        Condition::ActiveIsNot { want, if_unknown } => {
            match known.scim.as_ref().and_then(active_of) {
                Some(active) => active != want,
                None => if_unknown,
            }
        }
    }
}

/// The placeholder values of a step.
fn step_vars<'a>(
    host: &'a HostCtx<'_>,
    step: &'a Step,
    known: &'a Known,
    resource: &'a Value,
) -> Vars<'a> {
    Vars {
        id: step.target.as_deref().or(known.id.as_deref()),
        resource: Some(resource),
        current: known.scim.as_ref(),
        version: known.version.as_ref().filter(|_| step.precondition),
        member: step.member.as_deref(),
        role: step.role.as_deref(),
        ..host.vars()
    }
}

/// A create's id: from its answer's body, else from a `Location` naming
/// one member of the collection the create was sent to (same origin,
/// path `<collection>/<id>`). A `Location` anywhere else names no id.
fn created_id(host: &HostCtx<'_>, reply: &HostReply, collection: Option<&str>) -> Option<String> {
    let m = host.mapping;
    if let Some(id) = m.created_id(reply.body.as_ref(), None) {
        return Some(id);
    }
    let location = reply.location.as_deref()?;
    let id = m.created_id(None, Some(location))?;
    let vars = Vars {
        id: Some(&id),
        ..host.vars()
    };
    let get = host.preview(OpKind::Get, &vars, None).ok();
    if collection.is_some_and(|c| in_collection(c, location))
        || get.is_some_and(|g| same_path(&g.url, location))
    {
        return Some(id);
    }
    tracing::warn!("the app's create answer points outside the collection; its id is not taken");
    None
}

/// The path of `location` when it is an absolute path or an absolute URL
/// on the origin of `url` (trailing `/` dropped).
fn local_path(url: &str, location: &str) -> Option<(String, String)> {
    let base = url.parse::<http::Uri>().ok()?;
    let loc = location.parse::<http::Uri>().ok()?;
    let same_origin = loc.authority().is_none()
        || (loc.scheme() == base.scheme() && loc.authority() == base.authority());
    if !same_origin || !loc.path().starts_with('/') {
        return None;
    }
    let trim = |p: &str| p.strip_suffix('/').unwrap_or(p).to_owned();
    Some((trim(base.path()), trim(loc.path())))
}

/// Whether `location` is one level below the collection URL `collection`.
fn in_collection(collection: &str, location: &str) -> bool {
    local_path(collection, location).is_some_and(|(coll, loc)| {
        loc.rsplit_once('/')
            .is_some_and(|(parent, last)| parent == coll && !last.is_empty())
    })
}

/// Whether `location` is the resource URL `url` itself.
fn same_path(url: &str, location: &str) -> bool {
    local_path(url, location).is_some_and(|(a, b)| a == b)
}

/// The request a step would send, given what is known (see `explain`).
pub fn preview(
    host: &HostCtx<'_>,
    step: &Step,
    known: &Known,
    resource: &Value,
) -> Result<Preview, ScimError> {
    host.preview(
        step.op,
        &step_vars(host, step, known, resource),
        step.body.clone(),
    )
}

async fn run_step(
    host: &HostCtx<'_>,
    step: &Step,
    known: &Known,
    resource: &Value,
) -> Result<HostReply, CallError> {
    let vars = step_vars(host, step, known, resource);
    tracing::debug!(
        step = step.purpose.label(),
        op = step.op.key(),
        attributes = step.changes.len(),
        precondition = step.precondition,
        "app write"
    );
    if step.purpose == Purpose::Prepare {
        return host.call_before(step.op, &vars, step.repeat).await;
    }
    host.call(step.op, &vars, step.body.clone(), step.repeat)
        .await
}

/// Updates the knowledge from a step's answer: a create's id, the
/// resource when the answer carries it, the `active` an action set.
/// `collection` is the URL a create was sent to.
fn learn(
    host: &HostCtx<'_>,
    step: &Step,
    reply: HostReply,
    known: &mut Known,
    collection: Option<&str>,
) {
    let m = host.mapping;
    if matches!(step.op, OpKind::MemberAdd | OpKind::MemberRemove) || step.target.is_some() {
        return; // a member call says nothing about the resource itself
    }
    known.whole = false;
    if step.op == OpKind::Create {
        known.id = created_id(host, &reply, collection);
    }
    // The answer is not needed after this: its resource is moved out.
    let item = m
        .op(step.op)
        .filter(|op| !(step.op == OpKind::Create && op.then_get()))
        .and_then(|op| reply.body.and_then(|b| op.take_item(b)))
        .filter(Value::is_object);
    match item.and_then(|i| m.to_scim(&i).ok().map(|s| (i, s))) {
        Some((item, scim)) => {
            known.whole = m.op(step.op).is_some_and(|o| o.returns_resource());
            known.version = m.host_version(&item);
            known.id = known
                .id
                .take()
                .or_else(|| scim.get("id").and_then(Value::as_str).map(str::to_owned));
            known.scim = Some(scim);
            known.item = Some(item);
        }
        None => {
            // The change happened but its new version is unknown: later
            // steps carry no stale precondition, and the last answer that
            // carried the resource no longer shows it.
            known.version = None;
            known.item = None;
            known.whole = false;
            if matches!(step.purpose, Purpose::Activate | Purpose::Deactivate)
                && let Some(Value::Object(o)) = known.scim.as_mut()
            {
                let active = step.purpose == Purpose::Activate;
                o.insert("active".into(), Value::Bool(active));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{in_collection, same_path};

    #[test]
    fn a_location_names_an_id_only_inside_the_collection() {
        let coll = "http://127.0.0.1:3000/api/users";
        assert!(in_collection(coll, "/api/users/17"));
        assert!(in_collection(coll, "/api/users/17/"));
        assert!(in_collection(coll, "http://127.0.0.1:3000/api/users/17"));
        assert!(!in_collection(coll, "http://evil.example/api/users/17"));
        assert!(!in_collection(coll, "/api/admins/steal"));
        assert!(!in_collection(coll, "/api/users/17/sessions/steal"));
        assert!(!in_collection(coll, "/steal"));
        assert!(!in_collection(coll, "steal"));
        assert!(!in_collection(coll, "https://127.0.0.1:3000/api/users/17"));
        assert!(same_path("http://a:1/api/v2/user/17", "/api/v2/user/17"));
        assert!(!same_path("http://a:1/api/v2/user/17", "/api/v2/user/18"));
    }
}
