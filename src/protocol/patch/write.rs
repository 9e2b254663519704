//! Writes one value into a SCIM JSON resource (RFC 7644 §3.5.2): resolves
//! the container a path names (case-insensitive keys, extension objects
//! keyed by URN), and adds, replaces or removes simple, complex and
//! multi-valued attributes and value-filter targets.

use std::borrow::Cow;

use crate::error::ScimType;
use serde_json::{Map, Value};

use super::values::{
    append_unique, element_from_filter, enforce_single_primary, normalize, primaries, remove_listed,
};
use super::{OpKind, PatchError, PatchOptions};
use crate::protocol::filter::{AttrPath, Filter, PatchPath, matches_element};
use crate::schema::get_ci;

pub(super) fn current<'v>(work: &'v Value, attr: &AttrPath) -> Option<&'v Value> {
    let container = match attr.extension() {
        Some(urn) => get_ci(work, urn)?,
        None => work,
    };
    let top = get_ci(container, &attr.name)?;
    match &attr.sub {
        Some(sub) => get_ci(top, sub),
        None => Some(top),
    }
}

pub(super) fn existing_key(map: &Map<String, Value>, name: &str) -> Option<String> {
    if map.contains_key(name) {
        return Some(name.to_owned());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Writes one operation at `path`, normalizing the value first and enforcing
/// the single-`primary` rule afterwards.
pub(super) fn write(
    work: &mut Value,
    kind: OpKind,
    path: &PatchPath,
    mut value: Option<Value>,
    opts: &PatchOptions<'_>,
) -> Result<(), PatchError> {
    if let Some(v) = value.as_mut() {
        match &path.filter {
            Some(_) => {
                let schema_path = AttrPath {
                    sub: path.sub.clone(),
                    ..path.attr.clone()
                };
                normalize(&schema_path, v, opts)?;
            }
            None => normalize(&path.attr, v, opts)?,
        }
    }
    let Some(map) = container_mut(work, &path.attr, kind != OpKind::Remove)? else {
        return Ok(());
    };
    let key = existing_key(map, &path.attr.name).unwrap_or_else(|| path.attr.name.clone());
    let before = primaries(map.get(&key));
    match (&path.filter, &path.attr.sub) {
        (None, None) => write_attr(map, &key, kind, value)?,
        (None, Some(sub)) => write_sub(map, &key, sub, kind, value)?,
        (Some(filter), _) => {
            let target = Target {
                attr: &path.attr,
                filter,
                sub: path.sub.as_deref(),
            };
            write_filtered(map, &key, &target, kind, value, opts)?;
        }
    }
    enforce_single_primary(map.get_mut(&key), &before);
    Ok(())
}

/// The object holding `attr`: the resource, or its extension object keyed by
/// URN (RFC 7643 §3.3), created on writes. `None` when removing from a missing extension.
fn container_mut<'v>(
    work: &'v mut Value,
    attr: &AttrPath,
    create: bool,
) -> Result<Option<&'v mut Map<String, Value>>, PatchError> {
    let Some(root) = work.as_object_mut() else {
        return Err(PatchError::new(
            ScimType::InvalidSyntax,
            "the resource is not a JSON object",
        ));
    };
    let Some(urn) = attr.extension() else {
        return Ok(Some(root));
    };
    let key = match existing_key(root, urn) {
        Some(k) => k,
        None if create => {
            add_schema(root, urn);
            urn.to_owned()
        }
        None => return Ok(None),
    };
    if root.get(&key).is_none_or(Value::is_null) {
        root.insert(key.clone(), Value::Object(Map::new()));
    }
    match root.get_mut(&key) {
        Some(Value::Object(m)) => Ok(Some(m)),
        _ => Err(PatchError::new(
            ScimType::InvalidPath,
            format!("extension {urn} is not an object"),
        )),
    }
}

/// Lists a newly written extension in `schemas` (RFC 7643 §3: extensions in use are listed).
fn add_schema(root: &mut Map<String, Value>, urn: &str) {
    let key = existing_key(root, "schemas").unwrap_or_else(|| "schemas".to_owned());
    if let Some(Value::Array(list)) = root.get_mut(&key)
        && !list
            .iter()
            .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn)))
    {
        list.push(Value::String(urn.to_owned()));
    }
}

/// Sets `key`; an empty array or `null` leaves the attribute unassigned (RFC 7643 §2.5).
fn set(map: &mut Map<String, Value>, key: &str, v: Value) {
    let v = match v {
        Value::Array(items) => {
            let mut unique = Vec::new();
            append_unique(&mut unique, Value::Array(items));
            Value::Array(unique)
        }
        v => v,
    };
    if v.is_null() || v.as_array().is_some_and(Vec::is_empty) {
        map.remove(key);
    } else {
        map.insert(key.to_owned(), v);
    }
}

/// Complex values merge: given sub-attributes replace, others stay, `null` removes
/// (RFC 7644 §3.5.2.1 and §3.5.2.3 for complex targets).
fn merge(obj: &mut Map<String, Value>, v: Map<String, Value>) {
    for (k, val) in v {
        let key = existing_key(obj, &k).unwrap_or(k);
        if val.is_null() {
            obj.remove(&key);
        } else {
            obj.insert(key, val);
        }
    }
}

/// `attr` without filter or sub-attribute (RFC 7644 §3.5.2.1–3).
fn write_attr(
    map: &mut Map<String, Value>,
    key: &str,
    kind: OpKind,
    value: Option<Value>,
) -> Result<(), PatchError> {
    let value = value.filter(|v| !v.is_null());
    match (kind, value) {
        (OpKind::Remove, Some(listed)) => {
            // Entra: {"op":"Remove","path":"members","value":[{"$ref":null,"value":"U"}]}
            match map.get_mut(key) {
                Some(Value::Array(items)) => remove_listed(items, &listed),
                None | Some(Value::Null) => {}
                Some(_) => {
                    return Err(PatchError::new(
                        ScimType::InvalidValue,
                        format!("{key} is not multi-valued"),
                    ));
                }
            }
            if map
                .get(key)
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                map.remove(key);
            }
        }
        (OpKind::Remove | OpKind::Replace, None) => {
            map.remove(key);
        }
        (OpKind::Add, None) => {}
        (OpKind::Add, Some(v)) => match (map.get_mut(key), v) {
            (Some(Value::Array(items)), v) => append_unique(items, v),
            (Some(Value::Object(obj)), Value::Object(v)) => merge(obj, v),
            (_, v) => set(map, key, v),
        },
        (OpKind::Replace, Some(v)) => match (map.get_mut(key), v) {
            (Some(Value::Object(obj)), Value::Object(v)) => merge(obj, v),
            (_, v) => set(map, key, v),
        },
    }
    Ok(())
}

/// `attr.sub` (e.g. `name.familyName`): on a multi-valued attribute every element is targeted.
fn write_sub(
    map: &mut Map<String, Value>,
    key: &str,
    sub: &str,
    kind: OpKind,
    value: Option<Value>,
) -> Result<(), PatchError> {
    let value = value.filter(|v| !v.is_null());
    match map.get_mut(key) {
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Value::Object(obj) = item {
                    set_sub(obj, sub, kind, value.clone());
                }
            }
        }
        Some(Value::Object(obj)) => set_sub(obj, sub, kind, value),
        None | Some(Value::Null) => {
            if kind != OpKind::Remove
                && let Some(v) = value
            {
                map.insert(
                    key.to_owned(),
                    Value::Object(Map::from_iter([(sub.to_owned(), v)])),
                );
            }
        }
        Some(_) => {
            return Err(PatchError::new(
                ScimType::InvalidPath,
                format!("{key} has no sub-attributes"),
            ));
        }
    }
    if map
        .get(key)
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        map.remove(key);
    }
    Ok(())
}

fn set_sub(obj: &mut Map<String, Value>, sub: &str, kind: OpKind, value: Option<Value>) {
    let key = existing_key(obj, sub).unwrap_or_else(|| sub.to_owned());
    match (kind, value) {
        (OpKind::Remove, _) | (OpKind::Replace, None) => {
            obj.remove(&key);
        }
        (OpKind::Add, None) => {}
        (OpKind::Add, Some(v)) => match obj.get_mut(&key) {
            Some(Value::Array(items)) => append_unique(items, v),
            _ => {
                obj.insert(key, v);
            }
        },
        (OpKind::Replace, Some(v)) => {
            obj.insert(key, v);
        }
    }
}

/// A value-filter target: `attr[filter]` or `attr[filter].sub`.
struct Target<'a> {
    attr: &'a AttrPath,
    filter: &'a Filter,
    sub: Option<&'a str>,
}

/// `attr[filter][.sub]` on a multi-valued attribute (RFC 7644 §3.5.2.1–3).
fn write_filtered(
    map: &mut Map<String, Value>,
    key: &str,
    t: &Target<'_>,
    kind: OpKind,
    value: Option<Value>,
    opts: &PatchOptions<'_>,
) -> Result<(), PatchError> {
    let value = value.filter(|v| !v.is_null());
    match map.get(key) {
        Some(Value::Array(_)) => {}
        None | Some(Value::Null) if kind == OpKind::Remove => return Ok(()),
        None | Some(Value::Null) => {
            map.insert(key.to_owned(), Value::Array(Vec::new()));
        }
        Some(_) => {
            return Err(PatchError::new(
                ScimType::InvalidPath,
                format!("{} is not multi-valued", t.attr),
            ));
        }
    }
    let Some(Value::Array(items)) = map.get_mut(key) else {
        return Ok(());
    };
    let top = match t.attr.sub {
        None => Cow::Borrowed(t.attr),
        Some(_) => Cow::Owned(AttrPath {
            sub: None,
            ..t.attr.clone()
        }),
    };
    let hits: Vec<bool> = items
        .iter()
        .map(|e| matches_element(t.filter, e, &top, opts.schema))
        .collect();
    if hits.iter().any(|h| *h) || kind == OpKind::Remove {
        update_hits(items, &hits, t.sub, kind, value)?;
    } else if let Some(v) = value {
        items.push(new_element(t, kind, v)?);
    }
    if map
        .get(key)
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        map.remove(key);
    }
    Ok(())
}

fn update_hits(
    items: &mut Vec<Value>,
    hits: &[bool],
    sub: Option<&str>,
    kind: OpKind,
    value: Option<Value>,
) -> Result<(), PatchError> {
    if sub.is_none() && (kind == OpKind::Remove || value.is_none()) {
        // "the values matched by the filter are removed" (RFC 7644 §3.5.2.2).
        let mut it = hits.iter();
        items.retain(|_| !it.next().copied().unwrap_or(false));
        return Ok(());
    }
    for (item, _) in items.iter_mut().zip(hits).filter(|(_, h)| **h) {
        match (sub, &value, item) {
            (Some(s), _, Value::Object(obj)) => set_sub(obj, s, kind, value.clone()),
            (None, Some(Value::Object(v)), Value::Object(obj)) if kind == OpKind::Add => {
                merge(obj, v.clone())
            }
            (None, Some(v @ Value::Object(_)), item) => *item = v.clone(),
            (None, Some(_), _) => {
                return Err(PatchError::new(
                    ScimType::InvalidValue,
                    "the value for a filtered target must be an object",
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// No element matched: `add`, and `replace` with a sub-attribute, create the
/// element the filter describes (Entra: {"op":"Replace","path":"emails[type eq \"work\"].value",
/// "value":"…"} on a user without a work email); `replace` without sub-attribute
/// is `noTarget` (RFC 7644 §3.5.2.3).
fn new_element(t: &Target<'_>, kind: OpKind, v: Value) -> Result<Value, PatchError> {
    let no_match = || {
        PatchError::new(
            ScimType::NoTarget,
            format!("no element of {} matches [{}]", t.attr, t.filter),
        )
    };
    if kind == OpKind::Replace && t.sub.is_none() {
        return Err(no_match());
    }
    let mut element = element_from_filter(t.filter).ok_or_else(no_match)?;
    match (t.sub, v) {
        (Some(s), v) => {
            element.insert(s.to_owned(), v);
        }
        (None, Value::Object(v)) => merge(&mut element, v),
        (None, _) => {
            return Err(PatchError::new(
                ScimType::InvalidValue,
                "the value for a filtered target must be an object",
            ));
        }
    }
    Ok(Value::Object(element))
}
