//! Properties of a SCIM User create or replace body, whatever it holds,
//! against every shipped users mapping and every dialect:
//! 1. nothing panics: normalisation, the unmapped-attribute list, the
//!    create plan, the replace body, the update plan;
//! 2. normalisation is idempotent and leaves no top-level `null`;
//! 3. a create plan starts with the create call, and every step calls an
//!    operation the mapping has;
//! 4. replay convergence: an account the create call made from its body is
//!    recognised by the replay of the same create — what it would still
//!    write holds only attributes the create call itself does not write
//!    (else a replay of a create whose answer was lost is refused for ever);
//! 5. a PUT of the same body onto that account plans nothing the create
//!    call already wrote.

use scim_sidecar::mapping::ResourceMapping;
use scim_sidecar::plan::{self, Purpose};
use scim_sidecar::protocol::patch::Dialect;
use scim_sidecar::schema::Mutability;
use scim_sidecar::scim::input::normalise_resource;
use serde_json::Value;

use super::common::{overlay, users};

/// Checks one body against every users mapping.
pub fn check(body: &Value) {
    for (name, m) in users() {
        for dialect in [Dialect::Generic, Dialect::Okta, Dialect::Entra] {
            let ctx = || format!("config {name}, {dialect:?}, body {body}");
            let Ok(wanted) = normalise_resource(body.clone(), m.core_schema(), dialect) else {
                continue;
            };
            let again = normalise_resource(wanted.clone(), m.core_schema(), dialect);
            assert_eq!(
                again.ok().as_ref(),
                Some(&wanted),
                "not idempotent: {}",
                ctx()
            );
            let nulls = wanted
                .as_object()
                .is_some_and(|o| o.values().any(Value::is_null));
            assert!(!nulls, "a null survived: {}", ctx());
            let _ = m.unmapped_attributes(&wanted);
            let _ = m.to_host_replace(&wanted);
            check_create(m, &wanted, &ctx);
        }
    }
}

fn check_create(m: &ResourceMapping, wanted: &Value, ctx: &dyn Fn() -> String) {
    let Ok(p) = plan::create(m, wanted, &Default::default()) else {
        return;
    };
    let first = p.steps.first().map(|s| s.purpose);
    assert_eq!(first, Some(Purpose::Create), "{p}: {}", ctx());
    for s in &p.steps {
        assert!(
            m.op(s.op).is_some(),
            "step {} has no operation: {}",
            s.purpose.label(),
            ctx()
        );
    }
    let Some(made) = stored(m, p.steps[0].body.as_ref()) else {
        return;
    };
    let target = overlay(&made, &without_write_only(m, wanted));
    let Ok(left) = m.changes_to_host(&made, &target) else {
        return;
    };
    for a in &left.attributes {
        assert!(
            !m.create_writes(a),
            "the replay of a finished create would rewrite `{a}`, which the create call wrote\n\
             made: {made}\ntarget: {target}\n{}",
            ctx()
        );
    }
    if let Ok(put) = plan::update(m, &made, &target, &Default::default()) {
        for a in put.changes() {
            assert!(!m.create_writes(a), "PUT rewrites `{a}`: {put}\n{}", ctx());
        }
    }
}

/// The account an app makes from the create call's body: the body as it
/// is, under the id it names (an id derived from a written field) or
/// else under a new one.
fn stored(m: &ResourceMapping, body: Option<&Value>) -> Option<Value> {
    let mut record = body?.clone();
    if let Ok(made) = m.to_scim(&record) {
        return Some(made);
    }
    record
        .as_object_mut()?
        .insert("id".into(), Value::from("4242"));
    m.to_scim(&record).ok()
}

/// `wanted` without its writeOnly attributes (a password is never read back).
fn without_write_only(m: &ResourceMapping, wanted: &Value) -> Value {
    let mut out = wanted.clone();
    if let Value::Object(o) = &mut out {
        for a in &m.schema().core.attributes {
            if a.mutability == Mutability::WriteOnly {
                o.retain(|k, _| !k.eq_ignore_ascii_case(&a.name));
            }
        }
    }
    out
}
