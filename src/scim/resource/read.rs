//! Reads of one resource, shared by every action: the app's record of an
//! id ([`Current`]) and its SCIM form — mapped, with `meta.location` and,
//! for a user whose groups are roles, its read-only `groups` (RFC 7643
//! §4.1.2). An account the mapping protects reads as not found.

use super::ctx::Ctx;
use crate::error::ScimError;
use crate::host::bad_answer;
use crate::host::exec::Known;
use crate::mapping::{ResourceKind, RolesSpec};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

/// A resource as the app holds it now: its host JSON (for the app's
/// version) and its SCIM form.
#[derive(Debug, Clone)]
pub struct Current {
    /// The app's JSON of the resource.
    pub host: Value,
    /// The mapped SCIM resource, `meta.location` included.
    pub scim: Value,
}

/// Reads one resource by id from the app and maps it; an account the
/// mapping protects is not found.
pub(super) async fn fetch_current(ctx: &Ctx<'_>, id: &str) -> Result<Current, ScimError> {
    let current = fetch_any(ctx, id).await?;
    if ctx.mapping().is_protected(&current.scim) {
        tracing::info!("a protected app account was asked for; answering 404");
        return Err(ScimError::not_found("resource not found"));
    }
    Ok(current)
}

/// Reads one resource by id, protected or not.
pub(super) async fn fetch_any(ctx: &Ctx<'_>, id: &str) -> Result<Current, ScimError> {
    let host = crate::host::record::read_record(&ctx.host, id).await?;
    let scim = resource_of(ctx, &host)?;
    Ok(Current { host, scim })
}

/// Reads one resource by id and maps it.
pub(super) async fn fetch(ctx: &Ctx<'_>, id: &str) -> Result<Value, ScimError> {
    fetch_current(ctx, id).await.map(|c| c.scim)
}

/// The `id` of a mapped resource.
pub(super) fn id_of(resource: &Value) -> Result<String, ScimError> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad_answer("get"))
}

/// The SCIM resource of a host resource: mapped, with a user's `groups`
/// when groups are roles, and `meta.location`.
pub(super) fn resource_of(ctx: &Ctx<'_>, host: &Value) -> Result<Value, ScimError> {
    let scim = ctx.mapping().to_scim(host)?;
    Ok(resource_from(ctx, host, scim))
}

/// The resource a write's last answer carried, when that answer was the
/// whole record (`returns = "resource"`): already mapped when the answer
/// was learnt, so only `groups` and `meta.location` are added. `None` when
/// the resource must be read back.
pub(super) fn from_whole_answer(
    ctx: &Ctx<'_>,
    known: &mut Known,
) -> Option<Result<Value, ScimError>> {
    let item = known.item.as_ref().filter(|_| known.whole)?;
    Some(match known.scim.take() {
        Some(scim) => Ok(resource_from(ctx, item, scim)),
        None => resource_of(ctx, item),
    })
}

/// [`resource_of`] for a host resource already mapped: `scim` is
/// `to_scim(host)`.
fn resource_from(ctx: &Ctx<'_>, host: &Value, mut scim: Value) -> Value {
    if let Some(spec) = roles_as_groups(ctx) {
        let linked = user_groups(ctx, spec, host);
        if let (false, Value::Object(o)) = (linked.is_empty(), &mut scim) {
            o.insert("groups".into(), Value::Array(linked));
        }
    }
    ctx.finish(scim)
}

/// The roles that stand for groups, when the mapping is of users whose
/// `groups` are read from their roles (added to each user it reads).
pub(super) fn roles_as_groups<'c>(ctx: &'c Ctx<'_>) -> Option<&'c RolesSpec> {
    let groups = ctx.config().groups.as_deref()?;
    (ctx.mapping().kind() == ResourceKind::User)
        .then(|| groups.roles())
        .flatten()
}

/// `groups` of a user whose roles stand for groups (RFC 7643 §4.1.2).
fn user_groups(ctx: &Ctx<'_>, spec: &RolesSpec, host: &Value) -> Vec<Value> {
    let base = ctx.collection_url.rsplit_once('/').map_or("", |(b, _)| b);
    spec.roles_of(host)
        .into_iter()
        .filter_map(|role| {
            let name = spec.name_of_role(&role)?;
            let encoded = utf8_percent_encode(&role, NON_ALPHANUMERIC);
            Some(json!({"value": role, "display": name, "type": "direct",
                        "$ref": format!("{base}/Groups/{encoded}")}))
        })
        .collect()
}
