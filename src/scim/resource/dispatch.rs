//! From an action to its handler: what the front door hands a resource
//! endpoint ([`Scope`]) becomes the request's context and runs the
//! action — listing and searching, create, get, replace, PATCH, delete,
//! or their groups-as-roles forms. The same context is made for requests
//! from outside the server (`explain`, `check --probe`), so they are
//! planned exactly as the server would.

use super::ctx::Ctx;
use super::{create, explain, get, list, roles, update};
use crate::auth::Principal;
use crate::body::Body;
use crate::error::ScimError;
use crate::host::CallLog;
use crate::mapping::ResourceMapping;
use crate::protocol::query::{self, ListQuery};
use crate::route::{Action, Endpoint, ResourceKind, ScimRoute};
use crate::scim::response::{error_response, json_bytes_response, json_response};
use crate::scim::services::Services;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::Value;

/// What the front door hands a resource endpoint.
pub struct Scope<'a> {
    /// What the front door works with.
    pub services: Services<'a>,
    /// The authenticated caller.
    pub principal: Principal,
    /// The SCIM base URL of the connection (public origin, when known, and
    /// base path), for `meta.location`.
    pub scim_url: String,
}

/// Handles an action on a resource type; errors become SCIM responses.
pub async fn handle(
    scope: Scope<'_>,
    mapping: &ResourceMapping,
    endpoint: &Endpoint,
    action: Action,
    req: Request<Incoming>,
) -> Response<Body> {
    let Scope {
        services,
        principal,
        scim_url,
    } = scope;
    let Some(conn) = services.config.connections.get(principal.connection) else {
        return error_response(&ScimError::internal("unknown connection"));
    };
    let collection = endpoint
        .resource_kind()
        .map_or("Users", ResourceKind::endpoint);
    let ctx = Ctx::new(services, mapping, conn, format!("{scim_url}/{collection}"));
    let id = endpoint.item_id().unwrap_or_default();
    if mapping.roles().is_some() {
        return roles_action(&ctx, action, id, req)
            .await
            .unwrap_or_else(|e| error_response(&e));
    }
    let result = match action {
        Action::List => list_from_query(&ctx, &req).await,
        Action::Search => list_from_search(&ctx, req).await,
        Action::Create => create::create(&ctx, req).await,
        Action::Get => get::get(&ctx, id, req.uri().query(), req.headers()).await,
        Action::Replace => update::replace(&ctx, id, req).await,
        Action::Patch => update::patch(&ctx, id, req).await,
        Action::Delete => update::delete(&ctx, id, req.headers()).await,
        _ => Err(ScimError::internal("not a resource action")),
    };
    result.unwrap_or_else(|e| error_response(&e))
}

/// Explains a SCIM request for connection `conn` (see `explain`): `rest`
/// is the path below the base path, `scim_url` the connection's SCIM base
/// URL.
#[allow(clippy::too_many_arguments)]
pub async fn explain_request(
    services: Services<'_>,
    conn: usize,
    method: &Method,
    rest: &str,
    query: Option<&str>,
    body: Option<Value>,
    offline: bool,
    scim_url: &str,
) -> Result<String, ScimError> {
    let log = CallLog::default();
    let (mut ctx, action, id) = offline_ctx(services, conn, method, rest, scim_url)?;
    ctx.host.calls = Some(&log);
    explain::explain(&ctx, action, &id, query, body, offline).await
}

/// The SCIM answer of a `GET` for connection `conn`, mapped from the app's
/// answers (read-only; what `check --probe` shows).
pub async fn read_request(
    services: Services<'_>,
    conn: usize,
    rest: &str,
    query: Option<&str>,
    scim_url: &str,
) -> Result<Value, ScimError> {
    let (ctx, action, id) = offline_ctx(services, conn, &Method::GET, rest, scim_url)?;
    explain::read_value(&ctx, action, &id, query, || Ok(Value::Null)).await
}

/// The context, action and item id of a request made outside the server.
fn offline_ctx<'a>(
    services: Services<'a>,
    conn: usize,
    method: &Method,
    rest: &str,
    scim_url: &str,
) -> Result<(Ctx<'a>, Action, String), ScimError> {
    let route = ScimRoute::new(String::new(), rest.to_owned(), method);
    let action = route
        .action
        .map_err(|_| ScimError::not_found(format!("no SCIM endpoint answers {method} {rest}")))?;
    let Some(kind) = route.endpoint.resource_kind() else {
        return Err(ScimError::not_found(
            "explain covers /Users and /Groups requests",
        ));
    };
    let id = route.endpoint.item_id().unwrap_or_default().to_owned();
    let mapping = match kind {
        ResourceKind::User => services.config.users.as_deref(),
        ResourceKind::Group => services.config.groups.as_deref(),
    }
    .ok_or_else(|| ScimError::not_implemented(format!("/{} is not configured", kind.endpoint())))?;
    let conn = services
        .config
        .connections
        .get(conn)
        .ok_or_else(|| ScimError::internal("unknown connection"))?;
    let url = format!("{scim_url}/{}", kind.endpoint());
    Ok((Ctx::new(services, mapping, conn, url), action, id))
}

/// An action on groups stored as roles.
async fn roles_action(
    ctx: &Ctx<'_>,
    action: Action,
    id: &str,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let cfg = &ctx.config().scim;
    match action {
        Action::List => {
            let q = query::from_query(
                req.uri().query(),
                cfg.max_page_size as u64,
                &Default::default(),
            )?;
            Ok(json_response(StatusCode::OK, &roles::list(ctx, q).await?))
        }
        Action::Search => {
            let body = ctx.read_body(req.into_body(), cfg.max_body_bytes).await?;
            let q = query::from_search_body(&body, cfg.max_page_size as u64, &Default::default())?;
            Ok(json_response(StatusCode::OK, &roles::list(ctx, q).await?))
        }
        Action::Get => {
            let q = query::from_query(req.uri().query(), 1, &Default::default())?;
            roles::get(ctx, id, &q.projection).await
        }
        Action::Create => roles::create(ctx, req).await,
        Action::Replace => roles::replace(ctx, id, req).await,
        Action::Patch => roles::patch(ctx, id, req).await,
        Action::Delete => roles::delete(ctx, id).await,
        _ => Err(ScimError::internal("not a resource action")),
    }
}

async fn list_from_query(
    ctx: &Ctx<'_>,
    req: &Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let cfg = &ctx.config().scim;
    let q = query::from_query(
        req.uri().query(),
        cfg.max_page_size as u64,
        &Default::default(),
    )?;
    list_response(ctx, q).await
}

async fn list_from_search(
    ctx: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let cfg = &ctx.config().scim;
    let body = ctx.read_body(req.into_body(), cfg.max_body_bytes).await?;
    let q = query::from_search_body(&body, cfg.max_page_size as u64, &Default::default())?;
    list_response(ctx, q).await
}

async fn list_response(ctx: &Ctx<'_>, q: ListQuery) -> Result<Response<Body>, ScimError> {
    Ok(json_bytes_response(
        StatusCode::OK,
        list::list_json(ctx, q).await?,
    ))
}
