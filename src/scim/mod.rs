//! The SCIM front door: everything below a SCIM base path (`[scim]
//! base_path` or a connection's own), routed once before it gets here
//! ([`ScimRoute`]). A request goes through named phases — authenticate (a
//! token is valid only on its connection's base path; a request without a
//! valid one meets the guard against token guessing), rate-limit the
//! connection, check the media type, take the route's action, then the
//! endpoint — and every outcome, including every failure, is a SCIM
//! response (`application/scim+json`, RFC 7644 §3.12 error bodies). SCIM
//! requests are never forwarded to the app as they are, so the IdP's
//! `Authorization` header never reaches it. What the front door works
//! with is handed to it ([`Services`]).

pub mod discovery;
pub mod input;
pub mod resource;
pub mod response;
pub mod services;

pub use services::Services;

use crate::auth::{AuthError, Principal};
use crate::body::Body;
use crate::config::Config;
use crate::coordination::retry_after_secs;
use crate::error::ScimError;
use crate::proxy::headers::{ClientInfo, X_FORWARDED_HOST, X_FORWARDED_PROTO, client_address};
use crate::route::{Action, Endpoint, NoRoute, ResourceKind, ScimRoute};
use crate::telemetry::metrics::Limit;
use crate::telemetry::request::set_connection;
use http::header::{ALLOW, CONTENT_TYPE, HOST, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::Incoming;
use response::{error_response, is_json_media_type, json_response};
use std::time::Duration;

/// The request as the front door received it.
pub struct Front<'a> {
    /// What the front door works with.
    pub services: Services<'a>,
    /// The client connection.
    pub client: ClientInfo,
    /// The request's route: base path, endpoint and action.
    pub route: &'a ScimRoute,
}

/// Handles one SCIM request; never fails.
pub async fn handle(front: Front<'_>, req: Request<Incoming>) -> Response<Body> {
    let mut resp = phases(&front, req).await;
    // A 429 always says when to come back (RFC 6585 §4).
    if resp.status() == StatusCode::TOO_MANY_REQUESTS && !resp.headers().contains_key(RETRY_AFTER) {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

async fn phases(front: &Front<'_>, req: Request<Incoming>) -> Response<Body> {
    let s = front.services;
    let principal = match authenticate(front, req.headers()).await {
        Ok(p) => p,
        Err(resp) => return *resp,
    };
    if let Err(wait) = s.limits.admit(principal.connection).await {
        tracing::info!("connection over its rate limit");
        let conn = s.config.connections.get(principal.connection);
        s.metrics
            .rate_limited(Limit::Connection, conn.map_or("", |c| c.id.as_str()));
        return too_many(wait, "too many requests for this connection; retry later");
    }
    if let Err(e) = check_media_type(&req) {
        return error_response(&e);
    }
    let endpoint = &front.route.endpoint;
    let action = match &front.route.action {
        Ok(a) => *a,
        Err(NoRoute::MethodNotAllowed(allow)) => return method_not_allowed(allow),
        Err(NoRoute::NotServed) => return error_response(&not_served(endpoint, &req)),
    };
    let scim_url = format!(
        "{}{}",
        public_origin(s.config, front.client, req.headers()),
        s.config
            .connections
            .get(principal.connection)
            .map_or(front.route.base.as_str(), |c| c.base_path.as_str())
    );
    let scope = resource::Scope {
        services: s,
        principal,
        scim_url,
    };
    match dispatch(scope, endpoint, action, req).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

/// Phases 1 and 2: the token, which must belong to a connection served on
/// this base path, then — only for a request without a valid token — the
/// failed-authentication guard, keyed on the client address as resolved
/// through `[upstream] trusted_proxies`. A valid token is never refused by
/// the guard: tokens are 256 random bits, so the guard is there to slow
/// guessing, and an address that also sends bad tokens (an ingress shared
/// with an attacker) must not lock the IdP out.
async fn authenticate(
    front: &Front<'_>,
    headers: &HeaderMap,
) -> Result<Principal, Box<Response<Body>>> {
    let s = front.services;
    let result =
        s.auth
            .authenticate(headers)
            .and_then(|p| match s.config.connections.get(p.connection) {
                Some(c) if c.base_path.eq_ignore_ascii_case(&front.route.base) => Ok(p),
                _ => Err(AuthError::Invalid),
            });
    let e = match result {
        Ok(p) => {
            // Which connection and which of its tokens (by index, for
            // rotation) — never the token itself.
            let span = tracing::Span::current();
            match s.config.connections.get(p.connection) {
                Some(c) => {
                    record_principal(&span, &c.id, p.token);
                    set_connection(c);
                    s.metrics.token_used(&c.id, p.token, p.scheme.label());
                }
                None => {
                    span.record("token", p.token);
                }
            }
            return Ok(p);
        }
        Err(e) => e,
    };
    let ip = client_address(
        front.client.peer,
        headers,
        &s.config.upstream.trusted_proxies,
    );
    if let Some(wait) = s.limits.failed_auth.blocked(ip).await {
        tracing::info!(%ip, "client blocked after repeated failed authentications");
        s.metrics.rate_limited(Limit::FailedAuth, "");
        return Err(Box::new(too_many(
            wait,
            "too many failed authentications; retry later",
        )));
    }
    s.metrics.auth_failure(e.label());
    match s.limits.failed_auth.failed(ip).await {
        Some(wait) => {
            tracing::warn!(%ip, "failed-authentication budget spent; client blocked");
            s.metrics.rate_limited(Limit::FailedAuth, "");
            Err(Box::new(too_many(
                wait,
                "too many failed authentications; retry later",
            )))
        }
        None => Err(Box::new(unauthorized(e))),
    }
}

/// Records the request span's `conn` and `token` fields together: one
/// update of the span instead of one per field.
fn record_principal(span: &tracing::Span, conn: &str, token: usize) {
    let Some(fields) = span.metadata().map(|m| m.fields()) else {
        return;
    };
    if let (Some(c), Some(t)) = (fields.field("conn"), fields.field("token")) {
        span.record_all(&fields.value_set(&[
            (&c, Some(&conn as &dyn tracing::Value)),
            (&t, Some(&token as &dyn tracing::Value)),
        ]));
    }
}

/// A 429 with `Retry-After` in whole seconds (RFC 6585 §4, RFC 9110 §10.2.3).
fn too_many(wait: Duration, detail: &'static str) -> Response<Body> {
    error_response(
        &ScimError::client(StatusCode::TOO_MANY_REQUESTS, None, detail)
            .with_retry_after(retry_after_secs(wait)),
    )
}

/// A request whose path reaches a SCIM base path only through
/// percent-encoding or dot segments: refused, never passed through.
pub fn refused() -> Response<Body> {
    error_response(&ScimError::client(
        StatusCode::BAD_REQUEST,
        None,
        "the request path is not in canonical form; send the SCIM base path as configured",
    ))
}

/// The scheme and authority clients use, for absolute `meta.location` and
/// `Location` URLs: `[server] public_url`, else what a trusted proxy says
/// (`X-Forwarded-Proto`/`-Host`, or `Host` behind it). A `Host` from any
/// other peer is not trusted, and locations are then absolute paths.
fn public_origin(config: &Config, client: ClientInfo, headers: &HeaderMap) -> String {
    if let Some(origin) = &config.server.public_origin {
        return origin.clone();
    }
    let trusted = config
        .upstream
        .trusted_proxies
        .iter()
        .any(|c| c.contains(client.peer));
    if !trusted {
        return String::new();
    }
    let first = |name| {
        headers
            .get(name)
            .and_then(|h| h.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
    };
    let proto = match first(X_FORWARDED_PROTO) {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        Some(p) if p.eq_ignore_ascii_case("http") => "http",
        _ if client.tls => "https",
        _ => "http",
    };
    match first(X_FORWARDED_HOST).or_else(|| first(HOST)) {
        Some(h) if is_host(h) => format!("{proto}://{h}"),
        _ => String::new(),
    }
}

/// A plausible `host[:port]`: a valid URI authority without user info.
fn is_host(h: &str) -> bool {
    !h.is_empty() && !h.contains('@') && h.parse::<http::uri::Authority>().is_ok()
}

/// A 401 with a bearer challenge (RFC 6750 §3).
fn unauthorized(e: AuthError) -> Response<Body> {
    tracing::info!(reason = ?e, "scim request not authenticated");
    let mut resp = error_response(&ScimError::unauthorized(e.to_string()));
    resp.headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(e.challenge()));
    resp
}

/// Phase 2: a body, when present, must be JSON. A missing `Content-Type` is
/// accepted (Okta's SPEC test POSTs with only `Authorization` and `Accept`).
fn check_media_type(req: &Request<Incoming>) -> Result<(), ScimError> {
    match req.headers().get(CONTENT_TYPE) {
        Some(v) if !v.to_str().is_ok_and(is_json_media_type) => Err(ScimError::client(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
            "request bodies must be application/scim+json or application/json",
        )),
        _ => Ok(()),
    }
}

/// Phase 3: the action.
async fn dispatch(
    scope: resource::Scope<'_>,
    endpoint: &Endpoint,
    action: Action,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    let s = scope.services;
    match (action, endpoint) {
        (Action::ServiceProviderConfig, _) => Ok(json_response(
            StatusCode::OK,
            &s.discovery.service_provider_config,
        )),
        (Action::ResourceTypes, Endpoint::ResourceTypes(name)) => s
            .discovery
            .resource_types(name.as_deref())
            .map(|v| json_response(StatusCode::OK, &v)),
        (Action::Schemas, Endpoint::Schemas(urn)) => s
            .discovery
            .schemas(urn.as_deref())
            .map(|v| json_response(StatusCode::OK, &v)),
        (_, Endpoint::Collection(kind) | Endpoint::Search(kind) | Endpoint::Item(kind, _)) => {
            let mapping = match kind {
                ResourceKind::User => s.config.users.as_deref(),
                ResourceKind::Group => s.config.groups.as_deref(),
            };
            match mapping {
                Some(m) => Ok(resource::handle(scope, m, endpoint, action, req).await),
                None => Err(ScimError::not_implemented(format!(
                    "/{} is not configured in this deployment",
                    kind.endpoint()
                ))),
            }
        }
        _ => Err(ScimError::internal(
            "the route table and the endpoint disagree",
        )),
    }
}

/// The answer for an endpoint that has no methods.
fn not_served(endpoint: &Endpoint, req: &Request<Incoming>) -> ScimError {
    match endpoint {
        Endpoint::Me => ScimError::not_implemented(
            "/Me is not supported: SCIM clients here are provisioning services, not users",
        ),
        Endpoint::Bulk => ScimError::not_implemented("bulk operations are not supported"),
        Endpoint::RootSearch => ScimError::not_implemented(
            "searching at the service root is not supported; use /Users/.search",
        ),
        _ => ScimError::not_found(format!("no SCIM endpoint at {}", req.uri().path())),
    }
}

/// A 405 SCIM error with `Allow` (RFC 9110 §15.5.6).
pub fn method_not_allowed(allow: &str) -> Response<Body> {
    let e = ScimError::client(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        format!("method not allowed here; allowed: {allow}"),
    );
    let mut resp = error_response(&e);
    if let Ok(v) = HeaderValue::from_str(allow) {
        resp.headers_mut().insert(ALLOW, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_must_be_plain_authorities() {
        assert!(is_host("idp.example:8443"));
        assert!(is_host("[::1]:80"));
        assert!(!is_host("evil.example/path"));
        assert!(!is_host("user@evil.example"));
        assert!(!is_host("a b"));
        assert!(!is_host(""));
    }
}
