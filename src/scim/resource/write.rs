//! Writes (RFC 7644 §3.3, §3.5.1, §3.5.2, §3.6): create, replace, PATCH and
//! delete. PUT and PATCH both compute the resource as it should be, diff it
//! against the app's current state, and send the app only what changed —
//! through the update (or replace) operation and, where `active` is an
//! action, through activate/deactivate. Every write ends by reading the
//! resource back from the app, so the answer is the app's truth.

use super::{Ctx, bad_answer, check_if_match, fetch, resource_response};
use crate::body::Body;
use crate::error::{ScimError, ScimType};
use crate::host::map_error;
use crate::mapping::{OnDelete, OpKind, Unmapped, Vars};
use crate::protocol::patch::{self, PatchOptions};
use crate::protocol::query::{self, Projection};
use crate::schema::get_ci;
use crate::scim::input::normalise_resource;
use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::Value;

/// Top-level attributes a client cannot set; echoed by Okta on PUT and
/// ignored there (RFC 7643 §3.1: `id` and `meta` are readOnly).
const READ_ONLY: [&str; 4] = ["id", "meta", "groups", "schemas"];

async fn body_of(
    ctx: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<(Value, HeaderMap, Projection), ScimError> {
    let cfg = &ctx.state().config.scim;
    let q = query::from_query(req.uri().query(), 1, &Default::default())?;
    let (parts, body) = req.into_parts();
    let json = ctx.read_body(body, cfg.max_body_bytes).await?;
    Ok((json, parts.headers, q.projection))
}

/// `POST /Users` (RFC 7644 §3.3): 201 with the created resource.
pub async fn create(ctx: &Ctx<'_>, req: Request<Incoming>) -> Result<Response<Body>, ScimError> {
    let (json, _, projection) = body_of(ctx, req).await?;
    let m = ctx.mapping();
    let resource = normalise_resource(json, m.core_schema(), ctx.dialect)?;
    check_unmapped(ctx, &resource)?;
    check_required(&resource, m.core_schema())?;
    check_unique(ctx, &resource).await?;
    let host_body = m.to_host(&resource).map_err(|e| map_error(&e))?;
    let reply = ctx
        .host
        .call(
            OpKind::Create,
            &Vars {
                resource: Some(&resource),
                ..ctx.host.vars()
            },
            Some(host_body),
        )
        .await?;
    let op = m
        .op(OpKind::Create)
        .ok_or_else(|| ScimError::internal("no create operation"))?;
    let created = match (
        op.then_get(),
        reply.body.as_ref().and_then(|b| op.extract_item(b)),
    ) {
        (false, Some(item)) => ctx.finish(m.to_scim(item).map_err(|e| map_error(&e))?),
        _ => {
            let id = m
                .created_id(reply.body.as_ref(), reply.location.as_deref())
                .ok_or_else(|| bad_answer("create"))?;
            fetch(ctx, &id).await?
        }
    };
    let created = settle_active(ctx, &resource, created).await?;
    tracing::info!(op = "create", "resource created");
    Ok(resource_response(
        ctx,
        StatusCode::CREATED,
        created,
        &projection,
        true,
    ))
}

/// After a create: an `active: false` that the app's create could not carry
/// (because `active` is an action) is applied with the deactivate action.
async fn settle_active(ctx: &Ctx<'_>, wanted: &Value, created: Value) -> Result<Value, ScimError> {
    let want = wanted.get("active").and_then(Value::as_bool);
    let have = created.get("active").and_then(Value::as_bool);
    match (want, have) {
        (Some(w), Some(h)) if w != h && ctx.mapping().active_via_actions() => {
            let id = id_of(&created)?;
            set_active(ctx, &id, w).await?;
            fetch(ctx, &id).await
        }
        _ => Ok(created),
    }
}

/// `PUT /Users/{id}` (RFC 7644 §3.5.1): replaces the mapped attributes;
/// read-only members the client echoes (`id`, `meta`, `groups`, `schemas`)
/// are ignored.
pub async fn replace(
    ctx: &Ctx<'_>,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let (json, headers, projection) = body_of(ctx, req).await?;
    let m = ctx.mapping();
    let mut wanted = normalise_resource(json, m.core_schema(), ctx.dialect)?;
    check_unmapped(ctx, &wanted)?;
    check_required(&wanted, m.core_schema())?;
    let before = fetch(ctx, id).await?;
    check_if_match(&headers, &before)?;
    if let (Value::Object(w), Value::Object(b)) = (&mut wanted, &before) {
        w.retain(|k, _| !READ_ONLY.iter().any(|r| r.eq_ignore_ascii_case(k)));
        for key in ["id", "meta", "schemas"] {
            if let Some(v) = b.get(key) {
                w.insert(key.into(), v.clone());
            }
        }
    }
    let after = write_changes(ctx, id, &before, &wanted).await?;
    Ok(resource_response(
        ctx,
        StatusCode::OK,
        after,
        &projection,
        false,
    ))
}

/// `PATCH /Users/{id}` (RFC 7644 §3.5.2): the operations are applied to the
/// current SCIM resource, then only the difference goes to the app.
pub async fn patch(
    ctx: &Ctx<'_>,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let (json, headers, projection) = body_of(ctx, req).await?;
    let opts = PatchOptions {
        dialect: ctx.dialect,
        max_operations: ctx.state().config.scim.max_patch_operations,
        schema: ctx.mapping().schema(),
        ..PatchOptions::default()
    };
    let ops = patch::parse(&json, &opts).map_err(ScimError::from)?;
    let before = fetch(ctx, id).await?;
    check_if_match(&headers, &before)?;
    let mut after = before.clone();
    patch::apply(&mut after, &ops, &opts).map_err(ScimError::from)?;
    check_unmapped(ctx, &after)?;
    let after = write_changes(ctx, id, &before, &after).await?;
    Ok(resource_response(
        ctx,
        StatusCode::OK,
        after,
        &projection,
        false,
    ))
}

/// Sends the difference between `before` and `after` to the app and reads
/// the resource back. Nothing is sent when nothing changed.
async fn write_changes(
    ctx: &Ctx<'_>,
    id: &str,
    before: &Value,
    after: &Value,
) -> Result<Value, ScimError> {
    let m = ctx.mapping();
    let changes = m
        .changes_to_host(before, after)
        .map_err(|e| map_error(&e))?;
    if changes.body.is_none() && changes.active_change.is_none() {
        return Ok(before.clone());
    }
    let vars = Vars {
        id: Some(id),
        resource: Some(after),
        ..ctx.host.vars()
    };
    if changes.body.is_some() {
        if m.op(OpKind::Replace).is_some() {
            let full = m.to_host_replace(after).map_err(|e| map_error(&e))?;
            ctx.host.call(OpKind::Replace, &vars, Some(full)).await?;
        } else {
            ctx.host.call(OpKind::Update, &vars, changes.body).await?;
        }
    }
    if let Some(active) = changes.active_change {
        set_active(ctx, id, active).await?;
    }
    tracing::info!(op = "update", "resource updated");
    fetch(ctx, id).await
}

async fn set_active(ctx: &Ctx<'_>, id: &str, active: bool) -> Result<(), ScimError> {
    let kind = if active {
        OpKind::Activate
    } else {
        OpKind::Deactivate
    };
    let vars = Vars {
        id: Some(id),
        ..ctx.host.vars()
    };
    ctx.host.call(kind, &vars, None).await.map(drop)
}

/// `DELETE /Users/{id}` (RFC 7644 §3.6): 204. Without a delete operation
/// the mapping either deactivates instead or refuses with 405.
pub async fn delete(
    ctx: &Ctx<'_>,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response<Body>, ScimError> {
    let m = ctx.mapping();
    let vars = Vars {
        id: Some(id),
        ..ctx.host.vars()
    };
    if headers.contains_key(http::header::IF_MATCH) {
        let current = fetch(ctx, id).await?;
        check_if_match(headers, &current)?;
    }
    if m.op(OpKind::Delete).is_some() {
        ctx.host.call(OpKind::Delete, &vars, None).await?;
    } else if m.on_delete() == OnDelete::Deactivate {
        let before = fetch(ctx, id).await?;
        let mut after = before.clone();
        if let Value::Object(o) = &mut after {
            o.insert("active".into(), Value::Bool(false));
        }
        write_changes(ctx, id, &before, &after).await?;
    } else {
        return Err(ScimError::client(
            StatusCode::METHOD_NOT_ALLOWED,
            None,
            "this app does not support deleting resources; deactivate them with active=false",
        ));
    }
    tracing::info!(op = "delete", "resource deleted");
    let mut resp = Response::new(crate::body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

fn id_of(resource: &Value) -> Result<String, ScimError> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad_answer("get"))
}

/// The unmapped-attribute policy: `reject` → 400 naming them; `ignore` →
/// dropped, counted in the debug log (Okta always sends `password`,
/// `groups`, `locale`).
fn check_unmapped(ctx: &Ctx<'_>, resource: &Value) -> Result<(), ScimError> {
    let unmapped = ctx.mapping().unmapped_attributes(resource);
    if unmapped.is_empty() {
        return Ok(());
    }
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

/// RFC 7643 `required` core attributes: `userName` (User), `displayName` (Group).
fn check_required(resource: &Value, core: &str) -> Result<(), ScimError> {
    let name = if core.ends_with(":Group") {
        "displayName"
    } else {
        "userName"
    };
    let present = get_ci(resource, name)
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    if present {
        Ok(())
    } else {
        Err(ScimError::bad_request(
            ScimType::InvalidValue,
            format!("`{name}` is required and must be a non-empty string"),
        ))
    }
}

/// Uniqueness before create: for apps whose create does not enforce it, a
/// pushed-down lookup of each `unique` attribute must find nothing (the
/// match re-checked case-insensitively for `userName`, RFC 7643
/// `caseExact: false`).
async fn check_unique(ctx: &Ctx<'_>, resource: &Value) -> Result<(), ScimError> {
    for attr in ctx.mapping().unique_before_create() {
        let Some(value) = get_ci(resource, attr).and_then(Value::as_str) else {
            continue;
        };
        let filter_text = format!("{attr} eq {}", Value::String(value.to_string()));
        let filter = crate::protocol::filter::parse(&filter_text).map_err(|e| {
            ScimError::bad_request(ScimType::InvalidValue, format!("`{attr}`: {e}"))
        })?;
        let q = query::ListQuery {
            filter: Some(filter.clone()),
            start_index: 1,
            count: Some(1),
            ..Default::default()
        };
        // The lookup's own 400s (scan limit, unmapped attribute) are not the
        // client's fault: the create cannot be checked, so it is refused as
        // a sidecar limitation rather than answered as a bad filter.
        let found = super::list::list(ctx, q).await.map_err(|e| {
            if e.scim_type == Some(ScimType::InvalidFilter)
                || e.scim_type == Some(ScimType::TooMany)
            {
                ScimError::internal(format!(
                    "cannot verify that {attr} is unique before creating: {}",
                    e.detail
                ))
            } else {
                e
            }
        })?;
        if found
            .get("totalResults")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            > 0
        {
            return Err(ScimError::client(
                StatusCode::CONFLICT,
                Some(ScimType::Uniqueness),
                format!("a resource with this {attr} already exists"),
            ));
        }
    }
    Ok(())
}
