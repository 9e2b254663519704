//! Groups as roles on users (`[groups.roles]`): the app has no groups, only
//! role values on each user (`roles: ["admin", "billing"]`) or role
//! assignment endpoints. A group is a named role; its id is the role value,
//! so ids are stable and the sidecar keeps no state. Its members are the
//! users holding the role (found with the users list's role search, or a
//! bounded scan); adding and removing members grants and takes the role,
//! one user at a time (O(k) in the members changed), each a locked,
//! version-checked, replayable write. A user's read-only `groups`
//! attribute (RFC 7643 §4.1.2) lists the groups its roles stand for.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::checks::{self, WriteKind};
use super::ctx::{Ctx, body_of};
use super::filter_check;
use super::members::{self, MemberEdit};
use super::read::{fetch_current, id_of};
use super::reply::resource_response;
use crate::body::{Body, empty};
use crate::error::{ScimError, ScimType};
use crate::host::exec::{self, Known};
use crate::host::{CallError, paging};
use crate::mapping::{OpKind, ResourceMapping, RolesSpec};
use crate::plan::{self, Condition, Purpose, Repeat, Step, WritePlan};
use crate::protocol::LIST_URN;
use crate::protocol::filter::{CompValue, CompareOp, Filter, matches};
use crate::protocol::patch::{self, PatchOptions};
use crate::protocol::projection::project;
use crate::protocol::query::{ListQuery, Projection};
use crate::schema::{GROUP_URN, get_ci};
use crate::scim::input::normalise_resource;
use crate::telemetry::ProvisioningEvent;

/// Attempts of one user's role write when the app reports a concurrent change.
const MAX_ATTEMPTS: usize = 4;

fn spec<'a>(ctx: &'a Ctx<'_>) -> Result<&'a RolesSpec, ScimError> {
    ctx.mapping()
        .roles()
        .ok_or_else(|| ScimError::internal("groups are not roles here"))
}

fn users<'a>(ctx: &'a Ctx<'_>) -> Result<&'a ResourceMapping, ScimError> {
    ctx.config()
        .users
        .as_deref()
        .ok_or_else(|| ScimError::internal("groups as roles need a users mapping"))
}

/// A context for calls on the users mapping, within this request's deadline.
fn users_ctx<'a>(ctx: &'a Ctx<'a>, users: &'a ResourceMapping) -> Ctx<'a> {
    Ctx {
        host: ctx.host.with_mapping(users),
        dialect: ctx.dialect,
        collection_url: members::users_url(ctx),
        locks: ctx.locks,
        audit: ctx.audit,
    }
}

/// The group resource of `role` (without members).
fn group(ctx: &Ctx<'_>, role: &str, name: &str) -> Value {
    ctx.finish(json!({
        "schemas": [GROUP_URN],
        "id": role,
        "displayName": name,
        "meta": {"resourceType": "Group"},
    }))
}

/// The group whose id is `id`, or 404.
fn group_of_id(ctx: &Ctx<'_>, id: &str) -> Result<Value, ScimError> {
    let name = spec(ctx)?
        .name_of_role(id)
        .ok_or_else(|| ScimError::not_found("no such group"))?;
    Ok(group(ctx, id, &name))
}

/// The users holding `role`: through the users list's role search when
/// the mapping has one, else a scan bounded by the scan limit; every
/// answer is re-checked against the user's role values.
async fn holders(ctx: &Ctx<'_>, role: &str) -> Result<Vec<Value>, ScimError> {
    let spec = spec(ctx)?;
    let users = users(ctx)?;
    let uctx = users_ctx(ctx, users);
    let query = spec.search_query(role, Some(&ctx.host.conn.vars))?;
    let limit = ctx.config().scim.filter_scan_limit.min(spec.max) as u64;
    let (items, complete) =
        paging::walk_list(&uctx.host, OpKind::List, None, &query, None, limit).await?;
    if !complete {
        return Err(ScimError::bad_request(
            ScimType::TooMany,
            format!(
                "more than {limit} users would have to be read for this group's members; ask with excludedAttributes=members"
            ),
        ));
    }
    let mut out = Vec::new();
    for item in items {
        let host = if users.fetch_each() {
            let id = users.id_of_host(&item)?;
            fetch_current(&uctx, &id).await?.host
        } else {
            item
        };
        if spec.roles_of(&host).iter().any(|r| r == role) {
            let scim = users.to_scim(&host)?;
            let id = id_of(&scim)?;
            let name = get_ci(&scim, "userName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            out.push(members::member_value(&uctx.collection_url, &id, name));
        }
    }
    Ok(out)
}

async fn with_members(ctx: &Ctx<'_>, mut g: Value, p: &Projection) -> Result<Value, ScimError> {
    if members::wanted(p) {
        let list = holders(ctx, &id_of(&g)?).await?;
        if let Value::Object(o) = &mut g {
            o.insert("members".into(), Value::Array(list));
        }
    }
    Ok(g)
}

/// `GET /Groups` and searches: the named groups (and, where unknown names
/// pass as roles, the one a `displayName eq` names), filtered in the
/// sidecar; members read only when shown or filtered on.
pub async fn list(ctx: &Ctx<'_>, q: ListQuery) -> Result<Value, ScimError> {
    if let Some(f) = &q.filter {
        filter_check::check(ctx.mapping(), f)?;
    }
    let spec = spec(ctx)?;
    let mut candidates: Vec<Value> = spec
        .named()
        .iter()
        .map(|(name, role)| group(ctx, role, name))
        .collect();
    if let Some(name) = q.filter.as_ref().and_then(display_name_term)
        && spec.named().iter().all(|(n, _)| *n != name)
        && let Ok(role) = spec.role_of_name(&name)
    {
        candidates.push(group(ctx, &role, &name));
    }
    let needs_members = members::wanted(&q.projection)
        || q.filter
            .as_ref()
            .is_some_and(|f| f.to_string().to_ascii_lowercase().contains("members"));
    if let Some(f) = &q.filter {
        let schema = ctx.mapping().schema();
        let mut kept = Vec::new();
        for c in candidates {
            let c = if needs_members {
                with_members(ctx, c, &Projection::default()).await?
            } else {
                c
            };
            if matches(f, &c, schema) {
                kept.push(c);
            }
        }
        candidates = kept;
    }
    let total = candidates.len();
    let count = q.count.unwrap_or(100) as usize;
    let mut page = Vec::new();
    for c in candidates
        .into_iter()
        .skip((q.start_index - 1) as usize)
        .take(count)
    {
        let mut c = match c.get("members") {
            None => with_members(ctx, c, &q.projection).await?,
            Some(_) => c,
        };
        project(&mut c, &q.projection, ctx.mapping().schema());
        page.push(c);
    }
    Ok(json!({
        "schemas": [LIST_URN],
        "totalResults": total,
        "startIndex": q.start_index,
        "itemsPerPage": page.len(),
        "Resources": page,
    }))
}

/// The name of a `displayName eq "…"` term reachable through `and`.
fn display_name_term(f: &Filter) -> Option<String> {
    match f {
        Filter::And(a, b) => display_name_term(a).or_else(|| display_name_term(b)),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } if path.sub.is_none() && path.name.eq_ignore_ascii_case("displayName") => Some(s.clone()),
        _ => None,
    }
}

/// `GET /Groups/{id}`.
pub async fn get(ctx: &Ctx<'_>, id: &str, p: &Projection) -> Result<Response<Body>, ScimError> {
    let g = with_members(ctx, group_of_id(ctx, id)?, p).await?;
    Ok(resource_response(ctx, StatusCode::OK, g, p, false))
}

/// The role a request body's `displayName` stands for (400 naming the
/// allowed names for an unknown one), and the member ids it lists.
fn parse_body(ctx: &Ctx<'_>, json: Value) -> Result<(String, String, Vec<String>), ScimError> {
    let m = ctx.mapping();
    let mut wanted = normalise_resource(json, m.core_schema(), ctx.dialect)?;
    let list = members::take(&mut wanted);
    checks::unmapped(ctx, &wanted)?;
    checks::required(m.schema(), &wanted)?;
    let name = get_ci(&wanted, "displayName")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let role = spec(ctx)?.role_of_name(&name).map_err(|allowed| {
        ScimError::bad_request(
            ScimType::InvalidValue,
            format!("`{name}` is not a group of this app; the groups are: {allowed}"),
        )
    })?;
    Ok((role, name, members::ids_of(list.as_ref())?))
}

/// `POST /Groups`: a named role exists already, so a create only grants
/// the role to the initial members: 201, and the same on a replay.
pub async fn create(ctx: &Ctx<'_>, req: Request<Incoming>) -> Result<Response<Body>, ScimError> {
    let (json, _, p) = body_of(ctx, req).await?;
    let (role, name, add) = parse_body(ctx, json)?;
    let _held = ctx.lock(vec![ctx.lock_key(&role)]).await?;
    grant(ctx, &role, &add, &[]).await?;
    tracing::info!(op = "create", members = add.len(), "role group created");
    let mut g = group(ctx, &role, &name);
    if let Value::Object(o) = &mut g {
        let list = add
            .iter()
            .map(|i| members::member_value(&members::users_url(ctx), i, None));
        o.insert("members".into(), Value::Array(list.collect()));
    }
    let event = ProvisioningEvent::created(ctx.host.conn, ctx.mapping().core_schema(), &g);
    ctx.audit.record(event);
    Ok(resource_response(ctx, StatusCode::CREATED, g, &p, true))
}

/// `PUT /Groups/{id}`: the name must stay the role's; members become
/// exactly the listed ones (the role's holders are read once to diff).
pub async fn replace(
    ctx: &Ctx<'_>,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let (json, _, p) = body_of(ctx, req).await?;
    let current = group_of_id(ctx, id)?;
    let (role, _, all) = parse_body(ctx, json)?;
    if role != id {
        return Err(immutable_name());
    }
    let _held = ctx.lock(vec![ctx.lock_key(id)]).await?;
    let have = members::ids_of(Some(&Value::Array(holders(ctx, id).await?)))?;
    let add: Vec<String> = all.iter().filter(|i| !have.contains(i)).cloned().collect();
    let remove: Vec<String> = have.iter().filter(|i| !all.contains(i)).cloned().collect();
    grant(ctx, id, &add, &remove).await?;
    ctx.audit.record_members(ctx.host.conn, id, &add, &remove);
    let mut g = current;
    if let Value::Object(o) = &mut g {
        let users = members::users_url(ctx);
        let list = all.iter().map(|i| members::member_value(&users, i, None));
        o.insert("members".into(), Value::Array(list.collect()));
    }
    Ok(resource_response(ctx, StatusCode::OK, g, &p, false))
}

fn immutable_name() -> ScimError {
    ScimError::bad_request(
        ScimType::Mutability,
        "a group here stands for a role: its displayName cannot change",
    )
}

/// `PATCH /Groups/{id}`: membership operations grant and take the role;
/// other operations may not change the name. 204, or 200 when the IdP
/// asks for attributes.
pub async fn patch(
    ctx: &Ctx<'_>,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let (json, _, p) = body_of(ctx, req).await?;
    let current = group_of_id(ctx, id)?;
    let m = ctx.mapping();
    let opts = PatchOptions {
        dialect: ctx.dialect,
        max_operations: ctx.config().scim.max_patch_operations,
        schema: m.schema(),
        ..PatchOptions::default()
    };
    let changes = patch::member_changes(&patch::parse(&json, &opts)?)?;
    let mut after = current.clone();
    patch::apply(&mut after, &changes.other_ops, &opts)?;
    checks::mutability(m.schema(), &current, &mut after, WriteKind::Patch)
        .map_err(|_| immutable_name())?;
    let _held = ctx.lock(vec![ctx.lock_key(id)]).await?;
    let (add, remove) = match MemberEdit::from_patch(&changes) {
        MemberEdit::None => (Vec::new(), Vec::new()),
        MemberEdit::Change { add, remove } => (add, remove),
        MemberEdit::Replace(all) => {
            let have = members::ids_of(Some(&Value::Array(holders(ctx, id).await?)))?;
            let add = all.iter().filter(|i| !have.contains(i)).cloned().collect();
            let remove = have.into_iter().filter(|i| !all.contains(i)).collect();
            (add, remove)
        }
    };
    grant(ctx, id, &add, &remove).await?;
    ctx.audit.record_members(ctx.host.conn, id, &add, &remove);
    if p.attributes.is_empty() && p.excluded.is_empty() {
        let mut resp = Response::new(empty());
        *resp.status_mut() = StatusCode::NO_CONTENT;
        return Ok(resp);
    }
    let g = with_members(ctx, current, &p).await?;
    Ok(resource_response(ctx, StatusCode::OK, g, &p, false))
}

/// `DELETE /Groups/{id}`: the role is taken from every holder; 204.
pub async fn delete(ctx: &Ctx<'_>, id: &str) -> Result<Response<Body>, ScimError> {
    group_of_id(ctx, id)?;
    let _held = ctx.lock(vec![ctx.lock_key(id)]).await?;
    let have = members::ids_of(Some(&Value::Array(holders(ctx, id).await?)))?;
    grant(ctx, id, &[], &have).await?;
    tracing::info!(op = "delete", members = have.len(), "role group deleted");
    let event = ProvisioningEvent::deleted(ctx.host.conn, ctx.mapping().core_schema(), id, true);
    ctx.audit.record(event);
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    Ok(resp)
}

/// Grants `role` to `add` and takes it from `remove`, after checking that
/// every user to add exists: through the role endpoints, or one locked,
/// version-checked write of each user's role field.
async fn grant(
    ctx: &Ctx<'_>,
    role: &str,
    add: &[String],
    remove: &[String],
) -> Result<(), ScimError> {
    let spec = spec(ctx)?;
    if !spec.writes_field() {
        members::check_users_exist(ctx, add).await?;
        let plan = WritePlan {
            steps: plan::role_grants(ctx.mapping(), role, add, remove),
        };
        tracing::debug!(%plan, "role plan");
        return exec::run(&ctx.host, &plan, Known::default(), &Value::Null)
            .await
            .map(drop)
            .map_err(|s| s.into_scim_error());
    }
    let users = users(ctx)?;
    let uctx = users_ctx(ctx, users);
    for (ids, present) in [(remove, false), (add, true)] {
        for user in ids {
            set_role(&uctx, spec, user, role, present).await?;
        }
    }
    Ok(())
}

/// Adds or removes `role` in one user's role field: read, write with the
/// user's version as precondition, re-read and retry when it changed.
async fn set_role(
    uctx: &Ctx<'_>,
    spec: &RolesSpec,
    user: &str,
    role: &str,
    present: bool,
) -> Result<(), ScimError> {
    let users = uctx.mapping();
    let _held = uctx.lock(vec![uctx.lock_key(user)]).await?;
    for _ in 0..MAX_ATTEMPTS {
        let current = match fetch_current(uctx, user).await {
            Err(e) if e.status == StatusCode::NOT_FOUND && present => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("member `{user}` is not a user of this app"),
                ));
            }
            Err(e) if e.status == StatusCode::NOT_FOUND => return Ok(()),
            other => other?,
        };
        let Some(body) = spec.user_body(&current.host, role, present) else {
            return Ok(()); // already as asked: a replay converges here
        };
        let kind = if users.op(OpKind::Update).is_some() {
            OpKind::Update
        } else {
            OpKind::Replace
        };
        let body = if kind == OpKind::Replace {
            merged_replace(users, &current.host, body)?
        } else {
            body
        };
        let op = users
            .op(kind)
            .ok_or_else(|| ScimError::internal("no user update"))?;
        let step = Step {
            op: kind,
            purpose: if present {
                Purpose::AddMembers
            } else {
                Purpose::RemoveMembers
            },
            body: Some(body),
            changes: vec!["groups".into()],
            precondition: op.uses_version(),
            repeat: Repeat::Safe,
            when: Condition::Always,
            member: None,
            role: None,
            target: None,
        };
        let known = Known {
            id: Some(user.to_owned()),
            scim: Some(current.scim.clone()),
            version: users.host_version(&current.host),
            item: None,
            whole: false,
        };
        let plan = WritePlan { steps: vec![step] };
        match exec::run(&uctx.host, &plan, known, &current.scim).await {
            Ok(_) => return Ok(()),
            Err(s) if matches!(s.error, CallError::Conflict) => continue,
            Err(s) => return Err(s.into_scim_error()),
        }
    }
    Err(CallError::Conflict.into())
}

/// For apps whose only update is a full replace: the user's current
/// writable body with the new role values laid in.
fn merged_replace(users: &ResourceMapping, host: &Value, roles: Value) -> Result<Value, ScimError> {
    let scim = users.to_scim(host)?;
    let mut full = users.to_host_replace(&scim)?;
    merge(&mut full, roles);
    Ok(full)
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}
