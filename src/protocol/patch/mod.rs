//! SCIM PATCH (RFC 7644 §3.5.2): parsing a PatchOp body and applying it.
//!
//! This module owns the PatchOp message: [`parse`] turns the JSON body into
//! typed [`Op`]s (paths parsed once), [`apply`] applies them atomically to the
//! SCIM JSON representation of a resource, and [`member_changes`] extracts
//! group membership edits so the caller can issue O(k) host calls without
//! listing the group. It knows nothing about HTTP or the host mapping: the
//! caller fetches and maps the resource, applies the ops, then diffs the
//! resource before and after to decide what to write back (this module does
//! not report touched attributes; diffing is exact and cheap on one resource).
//!
//! IdP dialects: Okta and Entra quirks are accepted when [`Dialect`] says so;
//! [`Dialect::Generic`] is strict RFC. Each quirk is marked `// Entra:` or
//! `// Okta:` with the request shape from `docs/idp-behavior.md`.

mod apply;
mod members;
mod undo;
mod values;
mod write;

#[cfg(test)]
mod tests;

use serde_json::Value;

use super::filter::{FilterLimits, PatchPath, parser::parse_patch_path};
use crate::error::ScimType;
use crate::schema::ResourceSchema;
use std::sync::LazyLock;

pub use apply::{apply, apply_to_copy};
pub use members::{MemberChanges, member_changes};

/// The schema URN a PATCH body must carry (RFC 7644 §3.5.2).
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The Enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The operation of one PATCH op (RFC 7644 §3.5.2.1–3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// `add`
    Add,
    /// `replace`
    Replace,
    /// `remove`
    Remove,
}

/// One parsed PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// What to do.
    pub kind: OpKind,
    /// Where; `None` for path-less add/replace whose value is an object.
    pub path: Option<PatchPath>,
    /// The `value` member: `None` when absent, `Some(Null)` when explicitly null.
    pub value: Option<Value>,
}

/// Which IdP's request shapes to accept (configured per connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Okta: path-less replace objects (re-sending read-only `id`).
    Okta,
    /// Entra ID: string booleans, remove with a value array, bare `manager`.
    Entra,
    /// OneLogin: Entra's relaxations, plus the legacy schema names of its
    /// SCIM 1.1-era user templates (`urn:scim:schemas:core:1.0`,
    /// `urn:scim:schemas:extension:enterprise:1.0`/`2.0`) and single
    /// objects where SCIM has lists.
    OneLogin,
    /// JumpCloud's custom SCIM connector: Entra-style requests (its group
    /// member PATCH carries a `value` array without a filter).
    JumpCloud,
    /// PingOne's SCIM provisioner: Entra's relaxations.
    PingOne,
    /// Strict RFC 7644.
    #[default]
    Generic,
}

impl Dialect {
    /// Whether the Okta/Entra relaxations apply.
    pub fn lenient(self) -> bool {
        !matches!(self, Dialect::Generic)
    }
}

/// The full RFC 7643 User schema, for callers without a mapping.
static RFC_USER: LazyLock<ResourceSchema> = LazyLock::new(ResourceSchema::rfc7643_user);

/// Options for [`parse`] and [`apply`].
#[derive(Clone, Copy)]
pub struct PatchOptions<'a> {
    /// The IdP dialect.
    pub dialect: Dialect,
    /// Maximum operations per request; more → `400 tooMany`.
    pub max_operations: usize,
    /// The resource's compiled schema: booleans, caseExact, readOnly.
    pub schema: &'a ResourceSchema,
    /// Limits for the paths and value filters in `path`.
    pub filter_limits: FilterLimits,
}

impl Default for PatchOptions<'static> {
    fn default() -> Self {
        Self {
            dialect: Dialect::Generic,
            max_operations: 1000,
            schema: &RFC_USER,
            filter_limits: FilterLimits::default(),
        }
    }
}

impl std::fmt::Debug for PatchOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatchOptions")
            .field("dialect", &self.dialect)
            .field("max_operations", &self.max_operations)
            .finish_non_exhaustive()
    }
}

/// RFC 7644 §3.5.2 leaves the operation count unbounded; ours is capped
/// (`400 tooMany`) so one request cannot hold the sidecar for long.
pub(crate) fn check_op_count(n: usize, opts: &PatchOptions<'_>) -> Result<(), PatchError> {
    if n > opts.max_operations {
        let msg = format!(
            "{n} operations exceed the maximum of {}",
            opts.max_operations
        );
        return Err(PatchError::new(ScimType::TooMany, msg));
    }
    Ok(())
}

/// A rejected PATCH; always HTTP 400 with this `scimType` (RFC 7644 §3.12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct PatchError {
    /// `invalidSyntax`, `invalidPath`, `invalidValue`, `noTarget`, `mutability` or `tooMany`.
    pub scim_type: ScimType,
    /// Names the operation index and the problem.
    pub detail: String,
}

impl PatchError {
    /// Creates an error with the given `scimType`.
    pub fn new(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self {
            scim_type,
            detail: detail.into(),
        }
    }

    /// Prefixes the detail with `Operations[i]: `.
    pub fn at(self, index: usize) -> Self {
        Self {
            scim_type: self.scim_type,
            detail: format!("Operations[{index}]: {}", self.detail),
        }
    }
}

/// Parses a PatchOp body (RFC 7644 §3.5.2): `schemas` must contain
/// [`PATCH_OP_URN`], `Operations` must be a non-empty array of at most
/// `opts.max_operations` ops; `op` is matched case-insensitively.
pub fn parse(body: &Value, opts: &PatchOptions<'_>) -> Result<Vec<Op>, PatchError> {
    let syntax = |m: &str| PatchError::new(ScimType::InvalidSyntax, m);
    if !body.is_object() {
        return Err(syntax("the request body must be a JSON object"));
    }
    let has_urn = crate::schema::get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_URN))
            })
        });
    if !has_urn {
        return Err(syntax(&format!(
            "\"schemas\" must contain \"{PATCH_OP_URN}\""
        )));
    }
    let ops = crate::schema::get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| syntax("\"Operations\" must be an array"))?;
    if ops.is_empty() {
        return Err(syntax("\"Operations\" must contain at least one operation"));
    }
    check_op_count(ops.len(), opts)?;
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_op(op, opts).map_err(|e| e.at(i)))
        .collect()
}

fn parse_op(op: &Value, opts: &PatchOptions<'_>) -> Result<Op, PatchError> {
    let get = |k: &str| crate::schema::get_ci(op, k);
    if !op.is_object() {
        return Err(PatchError::new(
            ScimType::InvalidSyntax,
            "an operation must be a JSON object",
        ));
    }
    // Entra: {"op":"Replace",…} — op names are matched case-insensitively.
    let name = get("op").and_then(Value::as_str).unwrap_or_default();
    let kind = [
        ("add", OpKind::Add),
        ("replace", OpKind::Replace),
        ("remove", OpKind::Remove),
    ]
    .into_iter()
    .find_map(|(n, k)| name.eq_ignore_ascii_case(n).then_some(k))
    .ok_or_else(|| {
        PatchError::new(
            ScimType::InvalidSyntax,
            "\"op\" must be \"add\", \"replace\" or \"remove\"",
        )
    })?;
    let path = match get("path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(parse_patch_path(s, &opts.filter_limits).map_err(|e| {
            PatchError::new(ScimType::InvalidPath, format!("path {s:?} is invalid: {e}"))
        })?),
        Some(_) => {
            return Err(PatchError::new(
                ScimType::InvalidPath,
                "\"path\" must be a string",
            ));
        }
    };
    let value = get("value").cloned();
    check_shape(kind, path.as_ref(), value.as_ref(), opts.dialect)?;
    Ok(Op { kind, path, value })
}

/// The per-op rules of RFC 7644 §3.5.2.1–3 that need no resource.
fn check_shape(
    kind: OpKind,
    path: Option<&PatchPath>,
    value: Option<&Value>,
    dialect: Dialect,
) -> Result<(), PatchError> {
    match (kind, path) {
        (OpKind::Remove, None) => Err(PatchError::new(
            ScimType::NoTarget,
            "remove requires a \"path\"",
        )),
        (OpKind::Remove, Some(p)) => match value {
            None | Some(Value::Null) => Ok(()),
            // Entra: {"op":"Remove","path":"members","value":[{"$ref":null,"value":"U"}]}
            Some(_) if dialect.lenient() && p.filter.is_none() && p.attr.sub.is_none() => Ok(()),
            Some(_) => Err(PatchError::new(
                ScimType::InvalidValue,
                "remove does not take a \"value\"",
            )),
        },
        (_, Some(_)) if value.is_none() => Err(PatchError::new(
            ScimType::InvalidValue,
            "add and replace require a \"value\"",
        )),
        (_, None) if !value.is_some_and(Value::is_object) => Err(PatchError::new(
            ScimType::InvalidValue,
            "without a \"path\", \"value\" must be an object of attributes",
        )),
        _ => Ok(()),
    }
}

impl From<PatchError> for crate::error::ScimError {
    fn from(e: PatchError) -> Self {
        Self::bad_request(e.scim_type, e.detail)
    }
}
