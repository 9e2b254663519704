//! Reads SCIM documents the way rules address them: the value a rule
//! reads (selector and `select = "primary"` rules pick their element),
//! the value at a path without selectors, and `active`. Attribute names
//! are case-insensitive (RFC 7643 §2.1).

use serde_json::Value;

use crate::mapping::model::rule::AttrRule;
use crate::mapping::path::ScimPath;
use crate::schema::get_ci;

/// The SCIM `active` value of a resource (bool or Entra's `"True"`).
pub fn active_of(scim: &Value) -> Option<bool> {
    match get_ci(scim, "active")? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The value a rule reads from a SCIM document (case-insensitive names).
pub(crate) fn scim_value<'a>(rule: &AttrRule, scim: &'a Value) -> Option<&'a Value> {
    let base = match &rule.target.urn {
        Some(u) => get_ci(scim, u)?,
        None => scim,
    };
    let v = get_ci(base, &rule.target.attr)?;
    let v = match &rule.target.selector {
        Some(_) => select(rule, v.as_array()?)?,
        None if rule.write_opts.pick_primary => {
            let items = v.as_array()?;
            let primary = |it: &&Value| get_ci(it, "primary") == Some(&Value::Bool(true));
            items.iter().find(primary).or(items.first())?
        }
        None => v,
    };
    match &rule.target.sub {
        Some(s) => get_ci(v, s),
        None => Some(v),
    }
}

/// The element a selector rule addresses: the one whose selector
/// sub-attribute matches (case-insensitively); else, for a `type` selector,
/// an element without a `type` that is primary or alone.
pub(crate) fn select<'a>(rule: &AttrRule, items: &'a [Value]) -> Option<&'a Value> {
    let (sel, want) = rule.target.selector.as_ref()?;
    let matches = |it: &&Value| {
        get_ci(it, sel)
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(want))
    };
    let primary = |it: &&Value| get_ci(it, "primary") == Some(&Value::Bool(true));
    let found = items.iter().find(matches).or_else(|| {
        let untyped = |it: &&Value| get_ci(it, sel).is_none_or(Value::is_null);
        items
            .iter()
            .filter(untyped)
            .find(|it| primary(it) || items.len() == 1)
    });
    // `select = "primary"`: one host field takes the element of the
    // selected type, else the primary element of any type, else the first.
    match found {
        None if rule.write_opts.pick_primary => items.iter().find(primary).or(items.first()),
        other => other,
    }
}

/// The SCIM value at a path without selectors (case-insensitive names).
pub(crate) fn scim_at<'a>(scim: &'a Value, p: &ScimPath) -> Option<&'a Value> {
    let base = match &p.urn {
        Some(u) => get_ci(scim, u)?,
        None => scim,
    };
    let v = get_ci(base, &p.attr)?;
    match &p.sub {
        Some(s) => get_ci(v, s),
        None => Some(v),
    }
    .filter(|v| !is_blank(v))
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}
