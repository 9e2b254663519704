//! Creates (RFC 7644 §3.3), safe to replay. A create claims its unique
//! values (a keyed lock), looks for an account that already holds them,
//! and then either runs the create plan or converges on what exists:
//!
//! - an account this sidecar left half-made (its first create call
//!   succeeded, a later step failed) is recognised — every attribute the
//!   create call writes is already as asked, a later step's attributes are
//!   not, and no other `externalId` is set — and completed: 201, never a
//!   409 that Okta and Entra would retry for ever (an account already
//!   exactly as asked is a duplicate: 409, as RFC 7644 §3.3 says);
//! - with `on_create_conflict = "adopt"`, any other holder (an account made
//!   by SSO just-in-time login or by hand) is updated to the IdP's values
//!   and answered 201;
//! - otherwise 409 `uniqueness`.
//!
//! When a step after the create call fails, the error names what was
//! applied, and the new account is kept for the replay to complete, or
//! deleted again with `on_failed_create = "delete"`.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::Value;

use super::checks;
use super::ctx::{Ctx, body_of};
use super::members::{self, MemberEdit};
use super::read::{Current, fetch, from_whole_answer, id_of};
use super::reply::resource_response;
use super::unique::{claim_keys, find_existing};
use crate::body::Body;
use crate::coordination::KeyGuard;
use crate::error::{ScimError, ScimType};
use crate::host::exec::{self, Known, Stopped};
use crate::host::{CallError, bad_answer};
use crate::mapping::{MapError, OnCreateConflict, OnFailedCreate, ResourceMapping};
use crate::plan::{self, WritePlan};
use crate::protocol::overlay::overlay;
use crate::schema::{Mutability, get_ci};
use crate::scim::input::normalise_resource;
use crate::telemetry::ProvisioningEvent;

/// `POST /Users`: 201 with the created (or completed, or adopted) resource.
pub async fn create(ctx: &Ctx<'_>, req: Request<Incoming>) -> Result<Response<Body>, ScimError> {
    let (json, _, projection) = body_of(ctx, req).await?;
    let m = ctx.mapping();
    let mut wanted = normalise_resource(json, m.core_schema(), ctx.dialect)?;
    let edit = match members::split(ctx) {
        true => MemberEdit::Replace(members::ids_of(members::take(&mut wanted).as_ref())?),
        false => MemberEdit::None,
    };
    let edit = members::refuse_unstored(ctx, edit)?;
    checks::unmapped(ctx, &wanted)?;
    checks::required(m.schema(), &wanted)?;
    let claims = ctx.lock(claim_keys(m, &wanted)).await?;
    let mut resource = create_retrying(ctx, &wanted, &edit, &claims).await?;
    if let (MemberEdit::Replace(ids), Value::Object(o)) = (&edit, &mut resource) {
        let users = members::users_url(ctx);
        let list = ids
            .iter()
            .map(|i| members::member_value(&users, i, None))
            .collect();
        o.insert("members".into(), Value::Array(list));
    }
    let event = ProvisioningEvent::created(ctx.host.conn, m.core_schema(), &resource);
    ctx.audit.record(event);
    Ok(resource_response(
        ctx,
        StatusCode::CREATED,
        resource,
        &projection,
        true,
    ))
}

/// Attempts of one create while the app answers 429.
const MAX_CREATE_ATTEMPTS: u32 = 2;

/// Plans and runs a create. The app's 429 (RFC 6585 §4) says it did not
/// process the call, but the create call is not safe to repeat blindly:
/// the uniqueness lookup runs again (it also recognises an account a
/// later step left half-made) and the create is retried after the app's
/// `Retry-After`, within the request's deadline.
async fn create_retrying(
    ctx: &Ctx<'_>,
    wanted: &Value,
    edit: &MemberEdit,
    claims: &[KeyGuard<'_>],
) -> Result<Value, ScimError> {
    let mut attempt = 1;
    loop {
        let planned = plan_create(ctx, wanted, edit).await?;
        ctx.confirm(claims).await?;
        let result = match planned {
            CreatePlan::Fresh(plan) => fresh(ctx, wanted, edit, plan).await,
            CreatePlan::Converge(c) => converge(ctx, *c).await,
        };
        let wait = match &result {
            Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
                std::time::Duration::from_secs(e.retry_after.unwrap_or(1))
            }
            _ => return result,
        };
        if attempt >= MAX_CREATE_ATTEMPTS || tokio::time::Instant::now() + wait >= ctx.host.deadline
        {
            return result;
        }
        tracing::info!(
            attempt,
            "the app answered a create with 429; looking up and retrying"
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

/// A create with no existing holder: run the plan (the create, then its
/// initial members), then read back.
async fn fresh(
    ctx: &Ctx<'_>,
    wanted: &Value,
    edit: &MemberEdit,
    plan: WritePlan,
) -> Result<Value, ScimError> {
    let m = ctx.mapping();
    tracing::debug!(%plan, "create plan");
    match exec::run(&ctx.host, &plan, Known::default(), wanted).await {
        Ok(known) if known.id.is_none() => recover(ctx, wanted, edit, exec::unnamed_create()).await,
        Ok(known) => {
            tracing::info!(op = "create", steps = plan.steps.len(), "resource created");
            let created = read_back_created(ctx, known, wanted).await?;
            checks::applied_active(wanted, &created)?;
            Ok(created)
        }
        Err(stopped) if stopped.applied.is_empty() => {
            // Nothing happened in the app. An app that enforces uniqueness
            // itself may hold this sidecar's half-made account: look.
            if is_uniqueness(&stopped.error) && m.unique_before_create().is_empty() {
                let by_name = ["userName".to_owned()];
                if let Ok(Some(existing)) = find_existing(ctx, wanted, &by_name).await
                    && let Ok(c) = plan_converge(ctx, existing, wanted, edit, false).await
                {
                    return converge(ctx, c).await;
                }
            }
            Err(stopped.into_scim_error())
        }
        Err(stopped) if stopped.known.id.is_none() => {
            recover(ctx, wanted, edit, stopped.into_scim_error()).await
        }
        Err(stopped) => Err(undo(ctx, *stopped).await),
    }
}

/// The app accepted a create but its answer named no id: the new account
/// is found by its unique values and finished here, as the IdP's replay
/// would, so the IdP learns the id now. `error` is answered when it cannot
/// be found (or is someone else's).
async fn recover(
    ctx: &Ctx<'_>,
    wanted: &Value,
    edit: &MemberEdit,
    error: ScimError,
) -> Result<Value, ScimError> {
    let m = ctx.mapping();
    let mut attrs = m.unique_before_create().to_vec();
    if attrs.is_empty() {
        let required = m.schema().core.attributes.iter().find(|a| a.required);
        attrs.push(required.map_or_else(|| "userName".to_owned(), |a| a.name.clone()));
    }
    let Ok(Some(existing)) = find_existing(ctx, wanted, &attrs).await else {
        return Err(error);
    };
    tracing::info!("the new account was found by its unique values");
    match plan_converge(ctx, existing, wanted, edit, true).await {
        Ok(c) => converge(ctx, c).await,
        Err(_) => Err(error),
    }
}

fn is_uniqueness(e: &CallError) -> bool {
    matches!(e, CallError::Failed(s) if s.scim_type == Some(ScimType::Uniqueness))
}

/// A later step of a create failed: keep the account for the replay to
/// complete, or delete it again (`on_failed_create = "delete"`).
async fn undo(ctx: &Ctx<'_>, stopped: Stopped) -> ScimError {
    let m = ctx.mapping();
    let id = stopped.known.id.clone();
    if m.on_failed_create() != OnFailedCreate::Delete {
        return stopped.into_scim_error();
    }
    let Some(id) = id else {
        return stopped.into_scim_error();
    };
    let undone = match plan::delete(m, None, &ctx.write_env(None)) {
        Ok(Some(p)) => {
            let known = Known {
                id: Some(id),
                ..Known::default()
            };
            exec::run(&ctx.host, &p, known, &Value::Null).await.is_ok()
        }
        _ => false,
    };
    let note = if undone {
        "the new account was deleted again; sending the same request again creates it"
    } else {
        "deleting the new account again failed; sending the same request again completes it"
    };
    tracing::warn!(undone, "a create failed after its first step");
    ScimError::from(stopped.error).with_note(note)
}

/// What to do with an existing holder of a create's unique values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// It is this sidecar's half-made account of the same request: finish it.
    Complete,
    /// Adopt another account (`on_create_conflict = "adopt"`).
    Adopt,
    /// It already holds every value asked: a duplicate (409), unless this
    /// very request made it.
    Same,
    /// 409 `uniqueness`.
    Conflict,
}

/// `members_pending`: a group's member list still differs from the one asked.
fn decide(
    m: &ResourceMapping,
    existing: &Value,
    wanted: &Value,
    members_pending: bool,
) -> Result<Decision, MapError> {
    // Another IdP identity (a different externalId) is never completed.
    let other_identity = m.schema().attribute(None, "externalId").is_some()
        && match (get_ci(existing, "externalId"), get_ci(wanted, "externalId")) {
            (Some(Value::String(a)), Some(Value::String(b))) => a != b,
            _ => false,
        };
    let target = overlay(existing, &without_write_only(m, wanted, |_| true));
    let changes = m.changes_to_host(existing, &target)?;
    // `active` is left out: an app that ignored it on create shows the
    // default state, and the plan's follow-up update may not have run.
    let first_step_matches = changes
        .attributes
        .iter()
        .all(|a| a == "active" || !m.create_writes(a));
    let remaining = !changes.is_empty() || members_pending;
    Ok(if !other_identity && first_step_matches && remaining {
        Decision::Complete
    } else if m.on_create_conflict() == OnCreateConflict::Adopt {
        Decision::Adopt
    } else if !other_identity && first_step_matches {
        Decision::Same
    } else {
        Decision::Conflict
    })
}

/// What a create does, decided from the app's state (reads only).
pub(super) enum CreatePlan {
    /// Nothing holds its unique values: create.
    Fresh(WritePlan),
    /// An existing account is completed or adopted.
    Converge(Box<Converging>),
}

/// Completing or adopting an existing account.
pub(super) struct Converging {
    /// Complete or adopt.
    pub decision: Decision,
    /// The account as the app holds it.
    pub existing: Current,
    /// Its id.
    pub id: String,
    /// The state it is brought to.
    pub target: Value,
    /// The app calls that bring it there.
    pub plan: WritePlan,
}

/// Looks for a holder of `wanted`'s unique values and plans the create,
/// the completion or the adoption; 409 for another account's values.
pub(super) async fn plan_create(
    ctx: &Ctx<'_>,
    wanted: &Value,
    edit: &MemberEdit,
) -> Result<CreatePlan, ScimError> {
    let m = ctx.mapping();
    match find_existing(ctx, wanted, m.unique_before_create()).await? {
        Some(existing) => Ok(CreatePlan::Converge(Box::new(
            plan_converge(ctx, existing, wanted, edit, false).await?,
        ))),
        None => {
            let mut plan = plan::create(m, wanted, &ctx.write_env(None))?;
            plan.steps.extend(members::steps(ctx, None, edit).await?.0);
            Ok(CreatePlan::Fresh(plan))
        }
    }
}

/// Decides what to do with `existing`, and plans it; 409 when it is
/// another account, or already as asked unless `made_here` (this request
/// created it and only lost its id).
async fn plan_converge(
    ctx: &Ctx<'_>,
    existing: Current,
    wanted: &Value,
    edit: &MemberEdit,
    made_here: bool,
) -> Result<Converging, ScimError> {
    let m = ctx.mapping();
    let id = id_of(&existing.scim)?;
    let (member_steps, _) = match edit {
        MemberEdit::None => (Vec::new(), None),
        _ => members::steps(ctx, Some(&id), edit).await?,
    };
    // An account the mapping protects is never completed, adopted or
    // overwritten, whatever the IdP sends.
    let decision = if m.is_protected(&existing.scim) {
        Decision::Conflict
    } else {
        decide(m, &existing.scim, wanted, !member_steps.is_empty())?
    };
    if decision == Decision::Conflict || (decision == Decision::Same && !made_here) {
        let attr = m
            .unique_before_create()
            .first()
            .map_or("userName", String::as_str);
        return Err(ScimError::client(
            StatusCode::CONFLICT,
            Some(ScimType::Uniqueness),
            format!("a resource with this {attr} already exists"),
        ));
    }
    // A completion does not send again what the create call already
    // wrote and the app cannot show (a password).
    let mut target = match decision {
        Decision::Complete | Decision::Same => overlay(
            &existing.scim,
            &without_write_only(m, wanted, |a| m.create_writes(a)),
        ),
        _ => overlay(&existing.scim, wanted),
    };
    checks::mutability(
        m.schema(),
        &existing.scim,
        &mut target,
        checks::WriteKind::Replace,
    )?;
    let mut plan = plan::update(
        m,
        &existing.scim,
        &target,
        &ctx.write_env(Some(&existing.host)),
    )?;
    plan.steps.extend(member_steps);
    Ok(Converging {
        decision,
        existing,
        id,
        target,
        plan,
    })
}

/// Completes or adopts an existing account.
async fn converge(ctx: &Ctx<'_>, c: Converging) -> Result<Value, ScimError> {
    let m = ctx.mapping();
    let _held = ctx.lock(vec![ctx.lock_key(&c.id)]).await?;
    tracing::info!(decision = ?c.decision, plan = %c.plan, "create converges on an existing account");
    let known = Known {
        id: Some(c.id.clone()),
        version: m.host_version(&c.existing.host),
        scim: Some(c.existing.scim),
        item: None,
        whole: false,
    };
    exec::run(&ctx.host, &c.plan, known, &c.target)
        .await
        .map_err(|s| s.into_scim_error())?;
    let done = fetch(ctx, &c.id).await?;
    checks::applied_active(&c.target, &done)?;
    Ok(done)
}

/// `wanted` without the writeOnly attributes for which `drop` holds.
fn without_write_only(m: &ResourceMapping, wanted: &Value, drop: impl Fn(&str) -> bool) -> Value {
    let mut out = wanted.clone();
    if let Value::Object(o) = &mut out {
        for a in &m.schema().core.attributes {
            if a.mutability == Mutability::WriteOnly && drop(&a.name) {
                o.retain(|k, _| !k.eq_ignore_ascii_case(&a.name));
            }
        }
    }
    out
}

/// The resource after a create: what the create answer carried when
/// nothing changed it since, else the app's read-back; when that fails
/// after the app accepted the create, the resource as stored (the values
/// the app accepted, under the id it gave), so the IdP learns the id —
/// unless the app says that id does not exist (502).
async fn read_back_created(
    ctx: &Ctx<'_>,
    mut known: Known,
    wanted: &Value,
) -> Result<Value, ScimError> {
    let id = known.id.clone().ok_or_else(|| bad_answer("create"))?;
    if let Some(answered) = from_whole_answer(ctx, &mut known) {
        return answered;
    }
    match fetch(ctx, &id).await {
        Ok(r) => Ok(r),
        // The id the answer named is not one the app holds: no 201 (nor
        // an event) for a resource nobody can read.
        Err(e) if e.status == StatusCode::NOT_FOUND => {
            tracing::warn!("a created resource reads back as not found");
            Err(ScimError::upstream(
                StatusCode::BAD_GATEWAY,
                format!(
                    "the app applied: create; its answer names id {id:?}, which reads back as not found"
                ),
            ))
        }
        Err(e) => {
            tracing::warn!(
                status = e.status.as_u16(),
                "reading a created resource back failed; answering what the app accepted"
            );
            Ok(ctx.finish(ctx.mapping().as_stored(wanted, &id)?))
        }
    }
}
