//! SCIM resource endpoints (`/Users`, later `/Groups`) over a compiled
//! mapping, RFC 7644 §3.3–§3.6. Each request reads as named phases: parse
//! the SCIM input, lock, read, plan, call the app, map back, respond.
//! Listing and searching live in [`list`], creates in [`create`], replace,
//! PATCH and delete in [`update`], the input checks in [`checks`]; this
//! module dispatches and owns reads of one resource and the response
//! shapes.

mod checks;
mod create;
mod explain;
mod filter_check;
mod list;
mod members;
mod roles;
mod update;

use super::Services;
use super::response::{error_response, json_response};
use crate::auth::Principal;
use crate::body::Body;
use crate::config::{Config, Connection, Idp};
use crate::coordination::{KeyGuard, WriteLocks};
use crate::error::ScimError;
use crate::host::{HostCtx, bad_answer};
use crate::mapping::{OpKind, ResourceMapping};
use crate::protocol::patch::Dialect;
use crate::protocol::projection::project;
use crate::protocol::query::{self, ListQuery};
use crate::route::{Action, Endpoint, ResourceKind, ScimRoute};
use crate::telemetry::Audit;
use http::header::{ETAG, HeaderValue, IF_NONE_MATCH, LOCATION};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::Value;
use tokio::time::Instant;

/// One SCIM request's context.
pub struct Ctx<'a> {
    /// App calls.
    pub host: HostCtx<'a>,
    /// The request dialect of the connection.
    pub dialect: Dialect,
    /// Absolute or path URL of the collection, for `meta.location`.
    pub collection_url: String,
    /// Per-resource write locks.
    pub locks: &'a WriteLocks,
    /// Where provisioning events go.
    pub audit: &'a Audit,
}

impl<'a> Ctx<'a> {
    /// The context of one request of connection `conn` on `mapping`, with
    /// the request deadline starting now.
    fn new(
        services: Services<'a>,
        mapping: &'a ResourceMapping,
        conn: &'a Connection,
        collection_url: String,
    ) -> Self {
        Ctx {
            host: HostCtx {
                app: services.app(),
                mapping,
                conn,
                deadline: Instant::now() + services.config.scim.request_timeout,
            },
            dialect: match conn.idp {
                Idp::Okta => Dialect::Okta,
                Idp::Entra => Dialect::Entra,
                Idp::OneLogin => Dialect::OneLogin,
                Idp::JumpCloud => Dialect::JumpCloud,
                Idp::PingOne => Dialect::PingOne,
                Idp::Generic => Dialect::Generic,
            },
            collection_url,
            locks: services.locks,
            audit: services.audit,
        }
    }

    fn mapping(&self) -> &ResourceMapping {
        self.host.mapping
    }

    fn config(&self) -> &Config {
        self.host.app.config
    }

    /// Reads the request's JSON body within the request deadline (a client
    /// that sends its body too slowly gets 408).
    async fn read_body(&self, body: Incoming, max: usize) -> Result<Value, ScimError> {
        match tokio::time::timeout_at(self.host.deadline, super::input::read_json(body, max)).await
        {
            Ok(result) => result,
            Err(_) => Err(ScimError::client(
                StatusCode::REQUEST_TIMEOUT,
                None,
                "the request body did not arrive in time",
            )),
        }
    }

    /// Takes the write locks on `keys` for the rest of the request (within
    /// its deadline): concurrent writes to one resource run one at a time.
    async fn lock(&self, keys: Vec<String>) -> Result<Vec<KeyGuard<'_>>, ScimError> {
        self.locks
            .lock_all(keys, self.host.deadline)
            .await
            .map_err(|e| {
                ScimError::client(StatusCode::SERVICE_UNAVAILABLE, None, e.to_string())
                    .with_retry_after(1)
            })
    }

    /// The write-lock key of resource `id` of this type.
    fn lock_key(&self, id: &str) -> String {
        format!("{}:{id}", self.mapping().schema().name)
    }

    /// The SCIM resource of a host resource: mapped, with a user's `groups`
    /// when groups are roles, and `meta.location`.
    fn resource_of(&self, host: &Value) -> Result<Value, ScimError> {
        let mut scim = self.mapping().to_scim(host)?;
        let groups = self.config().groups.as_deref();
        if let (Some(spec), crate::mapping::ResourceKind::User) =
            (groups.and_then(|g| g.roles()), self.mapping().kind())
        {
            let linked = roles::user_groups(self, spec, host);
            if let (false, Value::Object(o)) = (linked.is_empty(), &mut scim) {
                o.insert("groups".into(), Value::Array(linked));
            }
        }
        Ok(self.finish(scim))
    }

    /// What a write knows beyond the SCIM resource: the connection's
    /// variables and the app's current JSON of the resource.
    fn write_env<'v>(&'v self, current: Option<&'v Value>) -> crate::mapping::WriteEnv<'v> {
        crate::mapping::WriteEnv {
            conn: Some(&self.host.conn.vars),
            current,
        }
    }

    /// Finishes a mapped resource: `meta.location`.
    fn finish(&self, mut resource: Value) -> Value {
        let id = resource
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let (Some(id), Some(meta)) =
            (id, resource.get_mut("meta").and_then(Value::as_object_mut))
        {
            let encoded =
                percent_encoding::utf8_percent_encode(&id, percent_encoding::NON_ALPHANUMERIC);
            meta.insert(
                "location".into(),
                format!("{}/{encoded}", self.collection_url).into(),
            );
        }
        resource
    }
}

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
        Action::Get => get(&ctx, id, req.uri().query(), req.headers()).await,
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
    let (ctx, action, id) = offline_ctx(services, conn, method, rest, scim_url)?;
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
    let body = list::list(ctx, q).await?;
    Ok(json_response(StatusCode::OK, &body))
}

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
async fn fetch_current(ctx: &Ctx<'_>, id: &str) -> Result<Current, ScimError> {
    let current = fetch_any(ctx, id).await?;
    if ctx.mapping().is_protected(&current.scim) {
        tracing::info!("a protected app account was asked for; answering 404");
        return Err(ScimError::not_found("resource not found"));
    }
    Ok(current)
}

/// Reads one resource by id, protected or not.
async fn fetch_any(ctx: &Ctx<'_>, id: &str) -> Result<Current, ScimError> {
    let vars = crate::mapping::Vars {
        id: Some(id),
        ..ctx.host.vars()
    };
    let reply = ctx.host.read(OpKind::Get, &vars).await?;
    let op = ctx
        .mapping()
        .op(OpKind::Get)
        .ok_or_else(|| ScimError::internal("no get operation"))?;
    let body = reply.body.ok_or_else(|| bad_answer("get"))?;
    let item = op.extract_item(&body).ok_or_else(|| bad_answer("get"))?;
    let scim = ctx.resource_of(item)?;
    // The item is usually the whole answer: kept without a copy.
    let host = match std::ptr::eq(item, &body) {
        true => body,
        false => item.clone(),
    };
    Ok(Current { host, scim })
}

/// Reads one resource by id and maps it.
async fn fetch(ctx: &Ctx<'_>, id: &str) -> Result<Value, ScimError> {
    fetch_current(ctx, id).await.map(|c| c.scim)
}

/// Reads a write request: its JSON body (within the deadline), headers and
/// the projection asked for in its query.
async fn body_of(
    ctx: &Ctx<'_>,
    req: Request<Incoming>,
) -> Result<(Value, HeaderMap, query::Projection), ScimError> {
    let cfg = &ctx.config().scim;
    let q = query::from_query(req.uri().query(), 1, &Default::default())?;
    let (parts, body) = req.into_parts();
    let json = ctx.read_body(body, cfg.max_body_bytes).await?;
    Ok((json, parts.headers, q.projection))
}

/// The `id` of a mapped resource.
fn id_of(resource: &Value) -> Result<String, ScimError> {
    resource
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| bad_answer("get"))
}

/// `GET /Users/{id}` (RFC 7644 §3.4.1), with `If-None-Match` → 304.
async fn get(
    ctx: &Ctx<'_>,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response<Body>, ScimError> {
    let q = query::from_query(query, 1, &Default::default())?;
    let mut resource = fetch(ctx, id).await?;
    members::attach(ctx, &mut resource, &q.projection).await?;
    if let (Some(tag), Some(inm)) = (etag(&resource), headers.get(IF_NONE_MATCH))
        && inm.to_str().is_ok_and(|v| etag_matches(v, &tag))
    {
        let mut resp = Response::new(crate::body::empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        set_etag(&mut resp, Some(tag));
        return Ok(resp);
    }
    Ok(resource_response(
        ctx,
        StatusCode::OK,
        resource,
        &q.projection,
        false,
    ))
}

/// A single-resource response: projection, `ETag`, and `Location` on 201.
fn resource_response(
    ctx: &Ctx<'_>,
    status: StatusCode,
    mut resource: Value,
    projection: &query::Projection,
    with_location: bool,
) -> Response<Body> {
    let tag = etag(&resource);
    let location = with_location
        .then(|| meta(&resource, "location"))
        .flatten()
        .and_then(|l| HeaderValue::from_str(l).ok());
    project(&mut resource, projection, ctx.mapping().schema());
    let mut resp = json_response(status, &resource);
    set_etag(&mut resp, tag);
    if let (true, Some(l)) = (with_location, location) {
        resp.headers_mut().insert(LOCATION, l);
    }
    resp
}

/// `meta.version` as an entity tag (RFC 7644 §3.14).
fn etag(resource: &Value) -> Option<String> {
    meta(resource, "version").map(str::to_string)
}

/// A string of the resource's `meta` (plain lookups: `Value::pointer`
/// allocates for every segment of its path).
fn meta<'a>(resource: &'a Value, key: &str) -> Option<&'a str> {
    resource.get("meta")?.get(key)?.as_str()
}

fn set_etag(resp: &mut Response<Body>, tag: Option<String>) {
    if let Some(v) = tag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        resp.headers_mut().insert(ETAG, v);
    }
}

/// Weak comparison of an `If-Match`/`If-None-Match` list against a tag
/// (RFC 9110 §8.8.3.2); `*` matches any.
fn etag_matches(header: &str, tag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header
        .split(',')
        .any(|t| t.trim() == "*" || strip(t) == strip(tag))
}

/// `If-Match` on writes (RFC 7644 §3.14): 412 when the resource changed.
fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), ScimError> {
    let Some(h) = headers.get(http::header::IF_MATCH) else {
        return Ok(());
    };
    let Some(tag) = etag(current) else {
        return Ok(());
    };
    if h.to_str().is_ok_and(|v| etag_matches(v, &tag)) {
        Ok(())
    } else {
        Err(ScimError::client(
            StatusCode::PRECONDITION_FAILED,
            None,
            "the resource has changed since the version in If-Match",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_weakly() {
        assert!(etag_matches("W/\"3\"", "W/\"3\""));
        assert!(etag_matches("\"3\"", "W/\"3\""));
        assert!(etag_matches("\"1\", W/\"3\"", "W/\"3\""));
        assert!(etag_matches("*", "W/\"9\""));
        assert!(!etag_matches("W/\"2\"", "W/\"3\""));
    }
}
