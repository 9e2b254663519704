//! Applies parsed PATCH operations to a SCIM JSON resource (RFC 7644 §3.5.2).
//!
//! This module owns path resolution on the resource (case-insensitive keys,
//! extension objects keyed by URN), the add/replace/remove rules for simple,
//! complex and multi-valued attributes, value-filter targets, path-less
//! operations, mutability checks, atomicity and paths that name a whole
//! schema (an extension URN with an object value: each attribute written as
//! a path-less operation does; remove clears the extension). Writing one
//! value into the resource lives in `write`, value normalization in
//! `values`.

use crate::error::ScimType;
use serde_json::{Map, Value};

use super::undo::Undo;
use super::write::{current, existing_key, write};
use super::{ENTERPRISE_USER_URN, Op, OpKind, PatchError, PatchOptions};
use crate::protocol::filter::ast::CORE_URN_PREFIX;
use crate::protocol::filter::parser::parse_patch_path;
use crate::protocol::filter::{AttrPath, PatchPath};
use crate::schema::get_ci;

/// Applies `ops` in order to `resource`, atomically: on any error the resource
/// is left unchanged (RFC 7644 §3.5.2: "if an error occurs … the original
/// resource … SHALL be unchanged"). The caller diffs before/after to learn
/// what changed.
pub fn apply(resource: &mut Value, ops: &[Op], opts: &PatchOptions<'_>) -> Result<(), PatchError> {
    super::check_op_count(ops.len(), opts)?;
    let mut undo = Undo::default();
    for (i, op) in ops.iter().enumerate() {
        let whole = op.path.as_ref().and_then(|p| whole_schema(p, opts));
        undo.record(resource, op, whole.is_some());
        if let Err(e) = apply_op(resource, op, opts) {
            undo.restore(resource);
            return Err(e.at(i));
        }
    }
    Ok(())
}

/// [`apply`] to a working copy that the caller drops when it fails: the
/// same operations and errors, without the undo log (a failed PATCH may
/// leave the copy partly changed), so a path-less operation (Okta's
/// `{"op":"replace","value":{"active":false}}`) costs no snapshot of the
/// whole resource.
pub fn apply_to_copy(
    work: &mut Value,
    ops: &[Op],
    opts: &PatchOptions<'_>,
) -> Result<(), PatchError> {
    super::check_op_count(ops.len(), opts)?;
    for (i, op) in ops.iter().enumerate() {
        apply_op(work, op, opts).map_err(|e| e.at(i))?;
    }
    Ok(())
}

fn apply_op(work: &mut Value, op: &Op, opts: &PatchOptions<'_>) -> Result<(), PatchError> {
    match &op.path {
        Some(path) => match whole_schema(path, opts) {
            Some(urn) => apply_schema(work, op, &urn, opts),
            None => {
                check_writable(&path.attr, opts)?;
                write(work, op.kind, path, op.value.clone(), opts)
            }
        },
        None => apply_pathless(work, op, opts),
    }
}

/// Whether the schema makes `attr` readOnly. In the lenient dialects an
/// attribute that RFC 7643 defines as writable but the mapping computes
/// (a template or constant) is not: the change is applied to the working
/// copy and never written to the app.
// Entra: its default attribute mappings PATCH computed attributes too
// (`{"op":"Replace","path":"name.formatted","value":"Ada Lovelace"}`, built by
// Join(" ", givenName, surname)); answering 400 would fail every update.
pub(super) fn is_read_only(attr: &AttrPath, opts: &PatchOptions<'_>) -> bool {
    if !attr.is_read_only_in(opts.schema) {
        return false;
    }
    !(opts.dialect.lenient() && attr.rfc_writable(opts.schema))
}

/// RFC 7643 §2.2 `mutability: readOnly` → `400 mutability` (RFC 7644 §3.5.2).
fn check_writable(attr: &AttrPath, opts: &PatchOptions<'_>) -> Result<(), PatchError> {
    if is_read_only(attr, opts) {
        return Err(PatchError::new(
            ScimType::Mutability,
            format!("attribute {attr} is readOnly"),
        ));
    }
    Ok(())
}

/// RFC 7644 §3.5.2.1/§3.5.2.3 without `path`: "the "value" parameter contains a
/// set of attributes"; each key is handled as if it were the path.
fn apply_pathless(work: &mut Value, op: &Op, opts: &PatchOptions<'_>) -> Result<(), PatchError> {
    let Some(Value::Object(attrs)) = &op.value else {
        return Err(PatchError::new(
            ScimType::InvalidValue,
            "without a \"path\", \"value\" must be an object",
        ));
    };
    for (key, v) in attrs {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        match v {
            Value::Object(ext) if is_schema_key(work, key) => {
                for (sub_key, sub_v) in ext {
                    let path = key_path(&format!("{key}:{sub_key}"), opts)?;
                    pathless_one(work, op.kind, &path, sub_v, opts)?;
                }
            }
            // Entra (aadOptscim062020): {"op":"replace","value":{"name.givenName":"…",
            // "urn:…:enterprise:2.0:User:employeeNumber":"…"}} — dotted and URN keys.
            _ => {
                let path = key_path(key, opts)?;
                pathless_one(work, op.kind, &path, v, opts)?;
            }
        }
    }
    Ok(())
}

/// Whether a path-less value key names a whole schema (`"urn:…:enterprise:2.0:User": {…}`)
/// rather than a URN-qualified attribute.
fn is_schema_key(work: &Value, key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let listed = get_ci(work, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(key)))
        });
    lower.starts_with("urn:")
        && (lower == ENTERPRISE_USER_URN.to_ascii_lowercase()
            || (lower.starts_with(CORE_URN_PREFIX) && lower.matches(':').count() == 7)
            || listed
            || get_ci(work, key).is_some())
}

pub(super) fn key_path(key: &str, opts: &PatchOptions<'_>) -> Result<PatchPath, PatchError> {
    parse_patch_path(key, &opts.filter_limits).map_err(|e| {
        PatchError::new(
            ScimType::InvalidPath,
            format!("value key {key:?} is invalid: {e}"),
        )
    })
}

pub(super) fn pathless_one(
    work: &mut Value,
    kind: OpKind,
    path: &PatchPath,
    v: &Value,
    opts: &PatchOptions<'_>,
) -> Result<(), PatchError> {
    if is_read_only(&path.attr, opts) {
        let unchanged = path.filter.is_none() && current(work, &path.attr) == Some(v);
        // Okta: {"op":"replace","value":{"id":"G","displayName":"…"}} re-sends read-only `id`.
        if unchanged || opts.dialect.lenient() {
            return Ok(());
        }
        return Err(PatchError::new(
            ScimType::Mutability,
            format!("attribute {} is readOnly", path.attr),
        ));
    }
    write(work, kind, path, Some(v.clone()), opts)
}

/// The schema URN a `path` names as a whole (RFC 7644 §3.5.2: "urn:…:enterprise:2.0:User"
/// with an object of the extension's attributes), which the path grammar
/// reads as an attribute `User` of the URN before it.
pub(super) fn whole_schema(path: &PatchPath, opts: &PatchOptions<'_>) -> Option<String> {
    if path.filter.is_some() || path.attr.sub.is_some() || path.sub.is_some() {
        return None;
    }
    let full = format!("{}:{}", path.attr.urn.as_deref()?, path.attr.name);
    let schema = opts.schema;
    let known = full.eq_ignore_ascii_case(ENTERPRISE_USER_URN)
        || full.eq_ignore_ascii_case(&schema.core.id)
        || schema
            .extensions
            .iter()
            .any(|e| e.id.eq_ignore_ascii_case(&full));
    known.then_some(full)
}

/// An operation whose path names a whole schema: add and replace write each
/// attribute of the object value as if it were the path (as a path-less
/// operation does); remove clears every writable attribute of an extension.
/// The core schema cannot be removed as a whole.
pub(super) fn apply_schema(
    work: &mut Value,
    op: &Op,
    urn: &str,
    opts: &PatchOptions<'_>,
) -> Result<(), PatchError> {
    let core = urn.eq_ignore_ascii_case(&opts.schema.core.id);
    let qualified = |key: &str| match core {
        true => key.to_owned(),
        false => format!("{urn}:{key}"),
    };
    match (op.kind, &op.value) {
        (OpKind::Remove, _) if core => Err(PatchError::new(
            ScimType::InvalidPath,
            format!("remove cannot target the core schema {urn}; name its attributes"),
        )),
        (OpKind::Remove, _) => {
            let keys: Vec<String> = match get_ci(work, urn) {
                Some(Value::Object(ext)) => ext.keys().cloned().collect(),
                _ => Vec::new(),
            };
            for key in keys {
                let path = key_path(&qualified(&key), opts)?;
                if !is_read_only(&path.attr, opts) {
                    write(work, OpKind::Remove, &path, None, opts)?;
                }
            }
            drop_if_empty(work, urn);
            Ok(())
        }
        (kind, Some(Value::Object(attrs))) => {
            for (key, v) in attrs {
                if key.eq_ignore_ascii_case("schemas") {
                    continue;
                }
                let path = key_path(&qualified(key), opts)?;
                pathless_one(work, kind, &path, v, opts)?;
            }
            Ok(())
        }
        _ => Err(PatchError::new(
            ScimType::InvalidValue,
            format!("a path naming the schema {urn} takes an object of its attributes"),
        )),
    }
}

/// Removes the extension object `urn` and its `schemas` entry when nothing is left in it.
fn drop_if_empty(work: &mut Value, urn: &str) {
    let Some(root) = work.as_object_mut() else {
        return;
    };
    let Some(key) = existing_key(root, urn) else {
        return;
    };
    if root
        .get(&key)
        .and_then(Value::as_object)
        .is_some_and(Map::is_empty)
    {
        root.remove(&key);
        let schemas = existing_key(root, "schemas").unwrap_or_else(|| "schemas".to_owned());
        if let Some(Value::Array(list)) = root.get_mut(&schemas) {
            list.retain(|u| !u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(urn)));
        }
    }
}
