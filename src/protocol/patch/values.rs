//! Value normalization and multi-valued helpers for the PATCH engine.
//!
//! This module owns what happens to a PATCH `value` before it is written:
//! Entra's string booleans and bare `manager` ids, `null` sub-attributes
//! inside multi-valued elements, element identity for de-duplication, the
//! element an `add`/`replace` creates from a value filter, and the "at most
//! one `primary`" rule (RFC 7643 §2.4). It does not walk paths.

use crate::error::ScimType;
use serde_json::{Map, Value};

use super::{Dialect, PatchError, PatchOptions};
use crate::protocol::filter::{AttrPath, CompValue, CompareOp, Filter};
use crate::schema::get_ci;

/// Normalizes `value` written at schema path `path` (sub-attributes of object
/// values are visited with `path.sub` set).
pub fn normalize(
    path: &AttrPath,
    value: &mut Value,
    opts: &PatchOptions<'_>,
) -> Result<(), PatchError> {
    if is_manager(path) && value.is_string() {
        // Entra: {"op":"Add","path":"urn:…:enterprise:2.0:User:manager","value":"<managerId>"}
        if !opts.dialect.lenient() {
            return Err(PatchError::new(
                ScimType::InvalidValue,
                "\"manager\" must be an object with a \"value\"",
            ));
        }
        let id = std::mem::take(value);
        *value = Value::Object(Map::from_iter([("value".to_owned(), id)]));
    }
    match value {
        Value::String(s) if path.is_boolean_in(opts.schema) => {
            *value = Value::Bool(string_bool(s, path, opts.dialect)?);
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                // Entra: [{"$ref":null,"value":"U"}] — null members of an element mean "no value".
                if let Value::Object(obj) = item {
                    obj.retain(|_, v| !v.is_null());
                }
                normalize(path, item, opts)?;
            }
        }
        Value::Object(obj) if path.sub.is_none() => {
            for (k, v) in obj.iter_mut() {
                let child = AttrPath {
                    sub: Some(k.clone()),
                    ..path.clone()
                };
                normalize(&child, v, opts)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The [`AttrPath::key`] of the Enterprise User `manager` attribute.
const MANAGER_KEY: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager";

fn is_manager(path: &AttrPath) -> bool {
    path.sub.is_none() && path.key_eq_ignore_case(MANAGER_KEY)
}

/// Entra: {"op":"Replace","path":"active","value":"False"} (also "true"/"false").
fn string_bool(s: &str, path: &AttrPath, dialect: Dialect) -> Result<bool, PatchError> {
    let parsed = if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    };
    match parsed {
        Some(b) if dialect.lenient() => Ok(b),
        _ => Err(PatchError::new(
            ScimType::InvalidValue,
            format!("{path} must be a boolean, got {s:?}"),
        )),
    }
}

/// Whether two elements of a multi-valued attribute denote the same value:
/// equal JSON, or equal `value` (and equal `type` when present), so that
/// re-adding a member is a no-op (RFC 7644 §3.5.2.1). [`append_unique`]
/// indexes elements by a key with exactly this equality; this pairwise
/// form is its specification, checked against it in the tests.
#[cfg(test)]
fn same_element(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    let (Some(va), Some(vb)) = (get_ci(a, "value"), get_ci(b, "value")) else {
        return false;
    };
    va == vb
        && match (element_type(a), element_type(b)) {
            (Some(x), Some(y)) => x == y || x.to_lowercase() == y.to_lowercase(),
            (x, y) => x == y,
        }
}

fn element_type(v: &Value) -> Option<&str> {
    get_ci(v, "type").and_then(Value::as_str)
}

/// Appends `value` (one element or an array of them) to `items`, skipping
/// duplicates (equal JSON, or equal `value` and case-folded `type`). Uses a hash index, so an
/// add of n elements costs O(n), not O(n²): a 1 MiB body of members must
/// not hold a worker for seconds.
pub fn append_unique(items: &mut Vec<Value>, value: Value) {
    let new = match value {
        Value::Array(v) => v,
        v => vec![v],
    };
    let mut seen: std::collections::HashSet<String> = items.iter().map(element_key).collect();
    for v in new {
        if !v.is_null() && seen.insert(element_key(&v)) {
            items.push(v);
        }
    }
}

/// A key equal for two elements exactly when they are duplicates: the
/// `value` and case-folded `type` when there is a `value`, else the whole
/// element (serde_json's maps are ordered, so equal objects print equally).
fn element_key(v: &Value) -> String {
    match get_ci(v, "value") {
        Some(value) => format!(
            "v{}|{}",
            value,
            element_type(v)
                .map(str::to_lowercase)
                .unwrap_or_else(|| "\u{0}".into())
        ),
        None => format!("j{v}"),
    }
}

/// Removes from `items` every element matching one of `value`'s elements.
pub fn remove_listed(items: &mut Vec<Value>, value: &Value) {
    let listed: Vec<&Value> = match value {
        Value::Array(v) => v.iter().collect(),
        v => vec![v],
    };
    items.retain(|e| {
        !listed
            .iter()
            .any(|l| match (get_ci(e, "value"), get_ci(l, "value")) {
                (Some(a), Some(b)) => a == b,
                _ => e == *l,
            })
    });
}

/// Builds the element a value filter describes from its `eq` terms joined by
/// `and` (`type eq "work"` → `{"type":"work"}`); `None` if the filter uses
/// anything else, since then no single element is implied.
pub fn element_from_filter(filter: &Filter) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    collect_eq(filter, &mut out).then_some(out)
}

fn collect_eq(filter: &Filter, out: &mut Map<String, Value>) -> bool {
    match filter {
        Filter::And(l, r) => collect_eq(l, out) && collect_eq(r, out),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.urn.is_none() && path.sub.is_none() => {
            let v = match value {
                CompValue::Null => return false,
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Str(s) => Value::String(s.clone()),
            };
            out.insert(path.name.clone(), v);
            true
        }
        _ => false,
    }
}

fn is_primary(v: &Value) -> bool {
    get_ci(v, "primary").and_then(Value::as_bool) == Some(true)
}

/// The elements marked `primary: true`, snapshotted before an operation.
pub fn primaries(attr: Option<&Value>) -> Vec<Value> {
    match attr {
        Some(Value::Array(items)) => items.iter().filter(|v| is_primary(v)).cloned().collect(),
        _ => Vec::new(),
    }
}

/// RFC 7643 §2.4: "The primary attribute value "true" MUST appear no more than
/// once." The element the operation made primary wins; others become false.
pub fn enforce_single_primary(attr: Option<&mut Value>, before: &[Value]) {
    let Some(Value::Array(items)) = attr else {
        return;
    };
    let flagged: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| is_primary(v))
        .map(|(i, _)| i)
        .collect();
    if flagged.len() < 2 {
        return;
    }
    let newly = flagged
        .iter()
        .rev()
        .find(|&&i| items.get(i).is_some_and(|v| !before.contains(v)));
    let keep = newly.or(flagged.first()).copied();
    for i in flagged {
        if Some(i) != keep
            && let Some(Value::Object(obj)) = items.get_mut(i)
        {
            let key = obj
                .keys()
                .find(|k| k.eq_ignore_ascii_case("primary"))
                .cloned();
            obj.insert(
                key.unwrap_or_else(|| "primary".to_owned()),
                Value::Bool(false),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manager_key_is_the_enterprise_manager_key() {
        let urn = super::super::ENTERPRISE_USER_URN;
        assert_eq!(MANAGER_KEY, format!("{urn}:manager").to_ascii_lowercase());
        let path = AttrPath {
            urn: Some(urn.to_owned()),
            name: "Manager".into(),
            sub: None,
        };
        assert!(is_manager(&path));
        assert_eq!(path.key(), MANAGER_KEY);
    }
}

#[cfg(test)]
mod scale_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn append_unique_dedupes_like_same_element_at_scale() {
        let mut items = vec![
            json!({"value": "u1", "type": "Work"}),
            json!({"display": "no value"}),
        ];
        let mut added: Vec<Value> = (0..20_000)
            .map(|i| json!({"value": format!("u{}", i % 10_000)}))
            .collect();
        added.push(json!({"value": "u1", "type": "work"}));
        added.push(json!({"display": "no value"}));
        added.push(json!({"value": 7}));
        append_unique(&mut items, Value::Array(added));
        // u0..u9999 untyped (10 000) + the two originals + the number 7.
        assert_eq!(items.len(), 10_003);
        for (i, a) in items.iter().enumerate().take(50) {
            for b in items.iter().skip(i + 1).take(50) {
                assert!(!same_element(a, b), "{a} ~ {b}");
            }
        }
    }
}
