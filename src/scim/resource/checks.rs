//! Checks of a SCIM write's input against the compiled schema, before any
//! app call: attributes the mapping does not cover (`unmapped` policy),
//! `required` attributes, and mutability (RFC 7643 §2.2, RFC 7644 §3.5.1
//! and §3.5.2): a PUT ignores readOnly values and may not change an
//! immutable value that is set; a PATCH may not change a readOnly or an
//! immutable value that is set (`400 mutability`).

use serde_json::{Map, Value};

use super::ctx::Ctx;
use crate::error::{ScimError, ScimType};
use crate::mapping::{Unmapped, active_of};
use crate::schema::{AttrType, Attribute, Mutability, ResourceSchema, get_ci};

/// How the new state of a resource was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A full replacement (PUT).
    Replace,
    /// Operations applied to the current state (PATCH).
    Patch,
}

/// The unmapped-attribute policy: `reject` → 400 naming them; `ignore` →
/// dropped, counted in the debug log (Okta always sends `password`,
/// `groups`, `locale`) — except `active: false`, which is refused either way.
pub fn unmapped(ctx: &Ctx<'_>, resource: &Value) -> Result<(), ScimError> {
    let unmapped = ctx.mapping().unmapped_attributes(resource);
    if unmapped.is_empty() {
        return Ok(());
    }
    unmapped_deactivation(&unmapped, resource)?;
    match ctx.mapping().unmapped_policy() {
        Unmapped::Ignore => {
            tracing::debug!(count = unmapped.len(), attributes = ?unmapped, "unmapped attributes ignored");
            Ok(())
        }
        Unmapped::Reject => Err(ScimError::bad_request(
            ScimType::InvalidValue,
            format!(
                "attributes not supported by this deployment: {}",
                unmapped.join(", ")
            ),
        )),
    }
}

/// `active: false` is never ignored: a mapping without an `active` rule
/// cannot deactivate, and answering success would leave an account active
/// that the IdP believes is not. `active: true` is what such an app's
/// accounts already are.
fn unmapped_deactivation(unmapped: &[String], resource: &Value) -> Result<(), ScimError> {
    let active_unmapped = unmapped.iter().any(|a| a.eq_ignore_ascii_case("active"));
    if active_unmapped && active_of(resource) == Some(false) {
        return Err(ScimError::bad_request(
            ScimType::InvalidValue,
            "this deployment cannot deactivate accounts: its mapping has no `active` rule, \
             so `active: false` was not applied",
        ));
    }
    Ok(())
}

/// After a write the app said it applied: the account's `active` must be
/// what was asked. An app that answers success without (de)activating
/// would otherwise leave an account active that the IdP believes is not.
pub fn applied_active(wanted: &Value, got: &Value) -> Result<(), ScimError> {
    match (active_of(wanted), active_of(got)) {
        (Some(want), Some(is)) if want != is => {
            tracing::warn!(want, "the app answered success but did not apply `active`");
            let state = if is { "active" } else { "inactive" };
            Err(ScimError::upstream(
                http::StatusCode::BAD_GATEWAY,
                format!(
                    "the app answered success but the account is still {state}; \
                     sending the same request again retries it"
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// RFC 7643 `required` attributes of the core schema must have a value
/// (`userName` for a User, `displayName` for a Group).
pub fn required(schema: &ResourceSchema, resource: &Value) -> Result<(), ScimError> {
    for a in schema.core.attributes.iter().filter(|a| a.required) {
        let present = match get_ci(resource, &a.name) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        if !present {
            return Err(ScimError::bad_request(
                ScimType::InvalidValue,
                format!("`{}` is required and must be a non-empty string", a.name),
            ));
        }
    }
    Ok(())
}

/// Enforces mutability between the current resource and its new state:
/// readOnly values come from `before` whatever `after` says (for a PATCH
/// the engine has already refused readOnly targets the dialect does not
/// tolerate); an immutable value that is set may not change (a PUT that
/// leaves it out keeps it).
pub fn mutability(
    schema: &ResourceSchema,
    before: &Value,
    after: &mut Value,
    kind: WriteKind,
) -> Result<(), ScimError> {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return Ok(());
    };
    for s in schema.schemas() {
        let core = s.id == schema.core.id;
        let (bc, ac) = if core {
            (Some(b), Some(&mut *a))
        } else {
            (
                get_ci_obj(b, &s.id),
                container(a, &s.id, b.contains_key(&s.id)),
            )
        };
        let (Some(bc), Some(ac)) = (bc, ac) else {
            continue;
        };
        for attr in &s.attributes {
            settle(attr, bc, ac, kind)?;
        }
    }
    for attr in &schema.common {
        if attr.mutability == Mutability::ReadOnly {
            restore(b, a, &attr.name);
        }
    }
    Ok(())
}

/// One attribute (and the sub-attributes of a singular complex one).
fn settle(
    attr: &Attribute,
    before: &Map<String, Value>,
    after: &mut Map<String, Value>,
    kind: WriteKind,
) -> Result<(), ScimError> {
    match attr.mutability {
        Mutability::ReadOnly => restore(before, after, &attr.name),
        Mutability::Immutable => immutable(attr, before, after, kind)?,
        _ if attr.ty == AttrType::Complex && !attr.multi_valued => {
            let b = get_ci_obj(before, &attr.name);
            let has_after = find_ci(after, &attr.name).is_some();
            if let Some(b) = b
                && let Some(a) =
                    container(after, &attr.name, has_after || kind == WriteKind::Replace)
            {
                for sub in &attr.sub_attributes {
                    settle(sub, b, a, kind)?;
                }
                if a.is_empty() {
                    remove_ci(after, &attr.name);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

fn immutable(
    attr: &Attribute,
    before: &Map<String, Value>,
    after: &mut Map<String, Value>,
    kind: WriteKind,
) -> Result<(), ScimError> {
    let set = |m: &Map<String, Value>| {
        find_ci(m, &attr.name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_null())
    };
    let (Some(old), new) = (set(before), set(after)) else {
        return Ok(()); // never set: the first value may be written
    };
    match new {
        None if kind == WriteKind::Replace => {
            after.insert(attr.name.clone(), old);
            Ok(())
        }
        Some(new) if same(attr, &old, &new) => Ok(()),
        _ => Err(ScimError::bad_request(
            ScimType::Mutability,
            format!("`{}` is immutable: it cannot change once set", attr.name),
        )),
    }
}

/// Equality honouring `caseExact` for strings.
fn same(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !attr.case_exact => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Sets `after[name]` to `before[name]` (or removes it).
fn restore(before: &Map<String, Value>, after: &mut Map<String, Value>, name: &str) {
    let was = find_ci(before, name);
    // Left as it was (a PATCH copies the resource): nothing to put back.
    let mut now = after.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name));
    let unchanged = match (was, now.next(), now.next()) {
        (None, None, _) => true,
        (Some((bk, bv)), Some((ak, av)), None) => bk == ak && identical(bv, av),
        _ => false,
    };
    if unchanged {
        return;
    }
    remove_ci(after, name);
    if let Some((k, v)) = was {
        after.insert(k.clone(), v.clone());
    }
}

/// Whether two values are the same, down to how they serialise: `==`,
/// with floats also compared by their bits (`-0.0 == 0.0`, but they are
/// written differently).
fn identical(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y && x.as_f64().map(f64::to_bits) == y.as_f64().map(f64::to_bits)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| identical(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && identical(va, vb))
        }
        _ => a == b,
    }
}

fn find_ci<'m>(m: &'m Map<String, Value>, name: &str) -> Option<(&'m String, &'m Value)> {
    m.get_key_value(name)
        .or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
}

fn remove_ci(m: &mut Map<String, Value>, name: &str) {
    let keys: Vec<String> = m
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    for k in keys {
        m.remove(&k);
    }
}

fn get_ci_obj<'m>(m: &'m Map<String, Value>, name: &str) -> Option<&'m Map<String, Value>> {
    find_ci(m, name).and_then(|(_, v)| v.as_object())
}

/// The object at `name` in `m` (created when `create`), or `None`.
fn container<'m>(
    m: &'m mut Map<String, Value>,
    name: &str,
    create: bool,
) -> Option<&'m mut Map<String, Value>> {
    let key = find_ci(m, name).map(|(k, _)| k.clone());
    let key = match key {
        Some(k) => k,
        None if create => {
            m.insert(name.to_owned(), Value::Object(Map::new()));
            name.to_owned()
        }
        None => return None,
    };
    m.get_mut(&key)?.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn active_must_read_back_as_asked() {
        let inactive = json!({"active": false});
        assert!(applied_active(&inactive, &json!({"active": false})).is_ok());
        assert!(applied_active(&json!({"active": "False"}), &json!({"active": false})).is_ok());
        let e = applied_active(&inactive, &json!({"active": true})).unwrap_err();
        assert_eq!(e.status, http::StatusCode::BAD_GATEWAY);
        assert!(e.detail.contains("still active"), "{}", e.detail);
        // Nothing asked, or nothing the app shows: nothing to check.
        assert!(applied_active(&json!({}), &json!({"active": true})).is_ok());
        assert!(applied_active(&inactive, &json!({})).is_ok());
    }

    fn schema() -> ResourceSchema {
        let mut s = ResourceSchema::rfc7643_user();
        s.core.attributes.push(Attribute {
            mutability: Mutability::Immutable,
            ..Attribute::custom("employeeKey", AttrType::String)
        });
        let name = s.attribute_mut(None, "name").unwrap();
        name.sub_attributes
            .iter_mut()
            .find(|a| a.name == "formatted")
            .unwrap()
            .mutability = Mutability::ReadOnly;
        s
    }

    #[test]
    fn read_only_values_come_from_the_app() {
        let before = json!({"id": "1", "userName": "a", "name": {"formatted": "A B", "givenName": "A"}, "meta": {"version": "W/\"1\""}});
        let mut after = json!({"id": "2", "userName": "a", "name": {"formatted": "X", "givenName": "B"}, "meta": {}});
        mutability(&schema(), &before, &mut after, WriteKind::Replace).unwrap();
        assert_eq!(after["id"], "1");
        assert_eq!(after["meta"]["version"], "W/\"1\"");
        assert_eq!(after["name"], json!({"formatted": "A B", "givenName": "B"}));
    }

    /// A readOnly member is the app's, however the copy differs: another
    /// spelling of its name, a second spelling next to it, a float zero
    /// of the other sign; one left as it was stays.
    #[test]
    fn read_only_values_are_put_back_exactly() {
        let before = json!({"id": "1", "meta": {"version": -0.0, "created": "t"}});
        let cases = [
            json!({"id": "1", "meta": {"version": -0.0, "created": "t"}}),
            json!({"id": "1", "META": {"version": -0.0, "created": "t"}}),
            json!({"id": "1", "meta": {"version": 0.0, "created": "t"}}),
            json!({"id": "1", "Meta": {}, "meta": {"version": -0.0, "created": "t"}}),
            json!({"ID": "1", "meta": {"version": -0.0, "created": "t"}}),
        ];
        let want = json!({"id": "1", "meta": {"version": -0.0, "created": "t"}});
        for mut after in cases {
            mutability(&schema(), &before, &mut after, WriteKind::Patch).unwrap();
            assert_eq!(after.to_string(), want.to_string());
        }
    }

    #[test]
    fn immutable_values_may_be_set_once_and_kept_but_not_changed() {
        let s = schema();
        let unset = json!({"userName": "a"});
        let mut first = json!({"userName": "a", "employeeKey": "K1"});
        mutability(&s, &unset, &mut first, WriteKind::Patch).unwrap();
        let set = json!({"userName": "a", "employeeKey": "K1"});
        let mut omitted = json!({"userName": "b"});
        mutability(&s, &set, &mut omitted, WriteKind::Replace).unwrap();
        assert_eq!(
            omitted["employeeKey"], "K1",
            "a PUT that leaves it out keeps it"
        );
        let mut same = json!({"userName": "a", "employeeKey": "k1"});
        mutability(&s, &set, &mut same, WriteKind::Replace).unwrap();
        for kind in [WriteKind::Replace, WriteKind::Patch] {
            let mut changed = json!({"userName": "a", "employeeKey": "K2"});
            let e = mutability(&s, &set, &mut changed, kind).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::Mutability));
        }
        let mut removed = json!({"userName": "a"});
        let e = mutability(&s, &set, &mut removed, WriteKind::Patch).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::Mutability));
    }
}
