//! Replace (RFC 7644 §3.5.1), PATCH (§3.5.2) and delete (§3.6) of one
//! resource. A write holds the resource's lock, reads the app's current
//! state, computes the new state (the PUT body with readOnly values kept,
//! or the PATCH operations applied), checks it, plans only what changed
//! and runs the plan with the app's version as a precondition where the
//! mapping names one. When the app answers that the resource changed in
//! between, the write is computed again on fresh state (PATCH operations
//! are relative, so re-applying them is their meaning) — unless the IdP
//! sent `If-Match`, which then fails with 412 as RFC 7644 §3.14 asks.

use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::Value;

use super::checks::{self, WriteKind};
use super::ctx::{Ctx, body_of};
use super::members::{self, MemberEdit};
use super::read::{Current, fetch, fetch_current, from_whole_answer};
use super::reply::{check_if_match, resource_response};
use super::unique::{check_renames, claim_keys};
use crate::body::{Body, empty};
use crate::error::ScimError;
use crate::host::CallError;
use crate::host::exec::{self, Known};
use crate::mapping::OpKind;
use crate::plan::{self, WritePlan};
use crate::protocol::patch::{self, PatchOptions};
use crate::scim::input::normalise_resource;
use crate::scim::response::error_response;
use crate::telemetry::ProvisioningEvent;

/// Attempts of one write when the app reports a concurrent change.
const MAX_WRITE_ATTEMPTS: usize = 6;

/// A random wait of up to 10 ms × `attempt` before re-applying a write
/// that lost a race, so competing replicas fall out of step.
fn conflict_backoff(attempt: usize) -> std::time::Duration {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(attempt);
    let max_ms = 10 * attempt as u64;
    std::time::Duration::from_millis(h.finish() % max_ms.max(1) + 1)
}

/// A write's parsed request: the new state is computed from the current
/// one at each attempt.
pub(super) enum Change {
    /// PUT: the wanted resource (RFC 7644 §3.5.1).
    Replace(Value),
    /// PATCH: the operations (RFC 7644 §3.5.2).
    Patch(Vec<patch::Op>),
}

impl Change {
    /// Parses a PUT or PATCH body; a group's membership edit is split off.
    pub(super) fn parse(
        ctx: &Ctx<'_>,
        put: bool,
        json: Value,
    ) -> Result<(Self, MemberEdit), ScimError> {
        let m = ctx.mapping();
        if put {
            let mut wanted = normalise_resource(json, m.core_schema(), ctx.dialect)?;
            // RFC 7644 §3.5.1: a replacement without `members` empties the group.
            let edit = match members::split(ctx) {
                true => MemberEdit::Replace(members::ids_of(members::take(&mut wanted).as_ref())?),
                false => MemberEdit::None,
            };
            let edit = members::refuse_unstored(ctx, edit)?;
            checks::unmapped(ctx, &wanted)?;
            checks::required(m.schema(), &wanted)?;
            return Ok((Self::Replace(wanted), edit));
        }
        let mut ops = patch::parse(&json, &patch_options(ctx))?;
        let mut edit = MemberEdit::None;
        if members::split(ctx) {
            let changes = patch::member_changes(&ops)?;
            edit = members::refuse_unstored(ctx, MemberEdit::from_patch(&changes))?;
            ops = changes.other_ops;
        }
        Ok((Self::Patch(ops), edit))
    }

    /// The new state of `current`, checked (mutability, unmapped).
    pub(super) fn apply(&self, ctx: &Ctx<'_>, current: &Value) -> Result<Value, ScimError> {
        let schema = ctx.mapping().schema();
        match self {
            Self::Replace(wanted) => {
                let mut after = wanted.clone();
                checks::mutability(schema, current, &mut after, WriteKind::Replace)?;
                Ok(after)
            }
            Self::Patch(ops) => {
                // A failed PATCH drops this copy: it needs no undo log.
                let mut after = current.clone();
                patch::apply_to_copy(&mut after, ops, &patch_options(ctx))?;
                checks::mutability(schema, current, &mut after, WriteKind::Patch)?;
                checks::unmapped(ctx, &after)?;
                Ok(after)
            }
        }
    }
}

fn patch_options<'a>(ctx: &'a Ctx<'_>) -> PatchOptions<'a> {
    PatchOptions {
        dialect: ctx.dialect,
        max_operations: ctx.config().scim.max_patch_operations,
        schema: ctx.mapping().schema(),
        ..PatchOptions::default()
    }
}

/// `PUT /Users/{id}`: replaces the mapped attributes; readOnly members the
/// client echoes (`id`, `meta`, `groups`) are ignored (RFC 7644 §3.5.1).
pub async fn replace(
    ctx: &Ctx<'_>,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let (json, headers, projection) = body_of(ctx, req).await?;
    let (change, edit) = Change::parse(ctx, true, json)?;
    let (mut after, shown) = write(ctx, id, &headers, &edit, &change).await?;
    if let (Some(list), Value::Object(o)) = (shown, &mut after) {
        o.insert("members".into(), Value::Array(list));
    }
    Ok(resource_response(
        ctx,
        StatusCode::OK,
        after,
        &projection,
        false,
    ))
}

/// `PATCH /Users/{id}`: the operations are applied to the current SCIM
/// resource, then only the difference goes to the app.
pub async fn patch(
    ctx: &Ctx<'_>,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let (json, headers, projection) = body_of(ctx, req).await?;
    let explicit = !projection.attributes.is_empty() || !projection.excluded.is_empty();
    let (change, edit) = Change::parse(ctx, false, json)?;
    let (mut after, _) = write(ctx, id, &headers, &edit, &change).await?;
    if members::managed(ctx) {
        // RFC 7644 §3.5.2 allows 204: a group's member list is not read
        // back after every membership change unless the IdP asks for it.
        if !explicit {
            let mut resp = Response::new(empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            return Ok(resp);
        }
        members::attach(ctx, &mut after, &projection).await?;
    }
    Ok(resource_response(
        ctx,
        StatusCode::OK,
        after,
        &projection,
        false,
    ))
}

/// One attempt's plan: the state it was computed from, the new state,
/// the app calls, and the member list that results when it is known.
pub(super) struct Planned {
    pub current: Current,
    pub after: Value,
    pub plan: WritePlan,
    pub shown: Option<Vec<Value>>,
}

/// Reads the resource, checks the IdP's `If-Match`, computes the new state
/// and plans the app calls (reads only; nothing is written).
pub(super) async fn plan_write(
    ctx: &Ctx<'_>,
    id: &str,
    headers: &HeaderMap,
    edit: &MemberEdit,
    change: &Change,
) -> Result<Planned, ScimError> {
    let current = fetch_current(ctx, id).await?;
    check_if_match(headers, &current.scim)?;
    let after = change.apply(ctx, &current.scim)?;
    let mut plan = plan::update(
        ctx.mapping(),
        &current.scim,
        &after,
        &ctx.write_env(Some(&current.host)),
    )?;
    let (member_steps, shown) = members::steps_on(ctx, Some(id), Some(&current.host), edit).await?;
    members::merge_steps(&mut plan.steps, member_steps);
    Ok(Planned {
        current,
        after,
        plan,
        shown,
    })
}

/// Locks the resource, then reads, computes, plans and runs until the
/// plan applies on the state it was computed from; answers the resource
/// as the app holds it afterwards.
async fn write(
    ctx: &Ctx<'_>,
    id: &str,
    headers: &HeaderMap,
    edit: &MemberEdit,
    change: &Change,
) -> Result<(Value, Option<Vec<Value>>), ScimError> {
    let held = ctx.lock(vec![ctx.lock_key(id)]).await?;
    for attempt in 1..=MAX_WRITE_ATTEMPTS {
        let Planned {
            current,
            after,
            plan,
            shown,
        } = plan_write(ctx, id, headers, edit, change).await?;
        if plan.is_empty() {
            return Ok((current.scim, shown));
        }
        // A rename claims its new unique values as a create does, so two
        // writers cannot take the same login at once in this sidecar.
        let before_keys = claim_keys(ctx.mapping(), &current.scim);
        let claims: Vec<String> = claim_keys(ctx.mapping(), &after)
            .into_iter()
            .filter(|k| !before_keys.contains(k))
            .collect();
        let claimed = ctx.lock(claims).await?;
        check_renames(ctx, id, &current.scim, &after).await?;
        ctx.confirm(&held).await?;
        ctx.confirm(&claimed).await?;
        tracing::debug!(%plan, attempt, "write plan");
        match exec::run(&ctx.host, &plan, known(id, &current, ctx), &after).await {
            Ok(known) => {
                tracing::info!(op = "update", steps = plan.steps.len(), "resource updated");
                // Member calls leave the group itself as it was read.
                let only_members = plan
                    .steps
                    .iter()
                    .all(|s| s.member.is_some() || s.changes == ["members"]);
                let done = match only_members {
                    true => current.scim.clone(),
                    false => read_back(ctx, id, known).await?,
                };
                let (conn, schema) = (ctx.host.conn, ctx.mapping().core_schema());
                ctx.audit
                    .record_write(conn, schema, id, &current.scim, &done, &plan);
                if !only_members {
                    checks::applied_active(&after, &done)?;
                }
                return Ok((done, shown));
            }
            Err(s) if matches!(s.error, CallError::Conflict) && s.applied.is_empty() => {
                tracing::info!(
                    attempt,
                    "the resource changed in the app meanwhile; re-applying"
                );
                // Writers in other replicas retried in step would collide
                // again: wait a short random while, growing per attempt.
                let wait = conflict_backoff(attempt);
                if tokio::time::Instant::now() + wait < ctx.host.deadline {
                    tokio::time::sleep(wait).await;
                }
            }
            Err(s) => return Err(s.into_scim_error()),
        }
    }
    Err(CallError::Conflict.into())
}

fn known(id: &str, current: &Current, ctx: &Ctx<'_>) -> Known {
    Known {
        id: Some(id.to_owned()),
        scim: Some(current.scim.clone()),
        version: ctx.mapping().host_version(&current.host),
        item: None,
        whole: false,
    }
}

/// The resource after a write: the last call's answer when it is the
/// whole record, else the app's read-back; when that fails, the last
/// answer of the plan that carried the resource.
async fn read_back(ctx: &Ctx<'_>, id: &str, mut known: Known) -> Result<Value, ScimError> {
    if let Some(answered) = from_whole_answer(ctx, &mut known) {
        return answered;
    }
    match fetch(ctx, id).await {
        Ok(r) => Ok(r),
        Err(e) => match known.scim.filter(|_| known.item.is_some()) {
            Some(scim) => {
                tracing::warn!(
                    status = e.status.as_u16(),
                    "read-back failed; answering the app's write answer"
                );
                Ok(ctx.finish(scim))
            }
            None => Err(e.with_note("the change was applied; reading it back failed")),
        },
    }
}

/// `DELETE /Users/{id}`: 204. Without a delete operation the mapping
/// either deactivates instead or refuses with 405.
pub async fn delete(
    ctx: &Ctx<'_>,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response<Body>, ScimError> {
    let m = ctx.mapping();
    let _held = ctx.lock(vec![ctx.lock_key(id)]).await?;
    // A protected account must be read to be recognised (and refused).
    let needs_current = headers.contains_key(http::header::IF_MATCH)
        || m.protects()
        || m.op(OpKind::Delete).is_none_or(|o| o.uses_version());
    let current = match needs_current {
        true => Some(fetch_current(ctx, id).await?),
        false => None,
    };
    if let Some(c) = &current {
        check_if_match(headers, &c.scim)?;
    }
    let env = ctx.write_env(current.as_ref().map(|c| &c.host));
    let Some(plan) = plan::delete(m, current.as_ref().map(|c| &c.scim), &env)? else {
        return Ok(refused_delete());
    };
    let start = match &current {
        Some(c) => known(id, c, ctx),
        None => Known {
            id: Some(id.to_owned()),
            ..Known::default()
        },
    };
    let after = current.as_ref().map_or(Value::Null, |c| c.scim.clone());
    exec::run(&ctx.host, &plan, start, &after)
        .await
        .map_err(|s| s.into_scim_error())?;
    tracing::info!(op = "delete", "resource deleted");
    let removed = m.op(OpKind::Delete).is_some();
    let event = ProvisioningEvent::deleted(ctx.host.conn, m.core_schema(), id, removed);
    ctx.audit.record(event);
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

/// The app cannot delete: 405 with the methods this item does allow
/// (RFC 9110 §15.5.6).
fn refused_delete() -> Response<Body> {
    let e = ScimError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        "this app does not support deleting resources; deactivate them with active=false",
    );
    let mut resp = error_response(&e);
    resp.headers_mut().insert(
        http::header::ALLOW,
        http::HeaderValue::from_static("GET, HEAD, PUT, PATCH"),
    );
    resp
}
