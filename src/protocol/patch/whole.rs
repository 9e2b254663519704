//! PATCH paths that name a whole schema (RFC 7644 §3.5.2): `"path":
//! "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"` with an
//! object of the extension's attributes, which the path grammar reads as an
//! attribute `User` of the URN before it. Add and replace write each
//! attribute as a path-less operation does; remove clears an extension.

use serde_json::{Map, Value};

use super::apply::{existing_key, is_read_only, key_path, pathless_one, write};
use super::{ENTERPRISE_USER_URN, Op, OpKind, PatchError, PatchOptions};
use crate::error::ScimType;
use crate::protocol::filter::PatchPath;
use crate::schema::get_ci;

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
