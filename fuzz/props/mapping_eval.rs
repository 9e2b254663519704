//! Properties of reading an app record through a mapping, whatever the
//! app's JSON holds, for every shipped users and groups mapping:
//! 1. nothing panics, and reading is deterministic;
//! 2. a record that maps is a SCIM resource: an object whose `schemas`
//!    names the core schema, a non-empty string `id`, and only attributes
//!    the compiled schema declares (what `/Schemas` advertises) or the
//!    extension objects `schemas` names;
//! 3. at most one value of a multi-valued attribute is primary;
//! 4. a PUT of what a GET returned changes nothing: the replace body of
//!    the resource, stored and read again, leaves no change to send
//!    (Okta's AIW echoes every GET back as a PUT).

use scim_sidecar::mapping::ResourceMapping;
use serde_json::Value;

use super::common::{has_two_primaries, mappings, merge_patch};

/// Checks one app record against every mapping.
pub fn check(record: &Value) {
    for (name, m) in mappings() {
        let ctx = || format!("config {name} ({}), record {record}", m.core_schema());
        let Ok(scim) = m.to_scim(record) else {
            continue;
        };
        assert_eq!(m.to_scim(record).ok().as_ref(), Some(&scim), "{}", ctx());
        check_shape(m, &scim, &ctx);
        if let Some(attr) = has_two_primaries(&scim) {
            panic!("two primary {attr}: {scim}\n{}", ctx());
        }
        check_echo(m, record, &scim, &ctx);
    }
}

fn check_shape(m: &ResourceMapping, scim: &Value, ctx: &dyn Fn() -> String) {
    let o = scim
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {}", ctx()));
    let schemas: Vec<&str> = o["schemas"]
        .as_array()
        .unwrap_or_else(|| panic!("no schemas array: {scim}\n{}", ctx()))
        .iter()
        .map(|s| s.as_str().expect("schema URNs are strings"))
        .collect();
    assert!(schemas.contains(&m.core_schema()), "{scim}\n{}", ctx());
    let id = o.get("id").and_then(Value::as_str);
    assert!(
        id.is_some_and(|i| !i.is_empty()),
        "no id: {scim}\n{}",
        ctx()
    );
    for key in o.keys() {
        let known = ["schemas", "id", "meta"].contains(&key.as_str())
            || m.schema().attribute(None, key).is_some()
            || schemas.iter().any(|s| s.eq_ignore_ascii_case(key));
        assert!(known, "`{key}` is not declared: {scim}\n{}", ctx());
    }
}

fn check_echo(m: &ResourceMapping, record: &Value, scim: &Value, ctx: &dyn Fn() -> String) {
    let Ok(body) = m.to_host_replace(scim) else {
        return;
    };
    let mut stored = record.clone();
    merge_patch(&mut stored, &body);
    let Ok(again) = m.to_scim(&stored) else {
        return;
    };
    if let Ok(left) = m.changes_to_host(&again, scim) {
        assert!(
            left.is_empty(),
            "a PUT of the GET would still write {:?}\nread: {scim}\nstored: {stored}\nread again: {again}\n{}",
            left.attributes,
            ctx()
        );
    }
}
