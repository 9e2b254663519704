//! The SCIM front door: everything below `[scim] base_path`. A request goes
//! through named phases — authenticate, check the media type, route, then
//! the endpoint — and every outcome, including every failure, is a SCIM
//! response (`application/scim+json`, RFC 7644 §3.12 error bodies). SCIM
//! requests are never forwarded to the app as they are, so the IdP's
//! `Authorization` header never reaches it.

pub mod discovery;
pub mod input;
pub mod locks;
pub mod resource;
pub mod response;
pub mod route;

use crate::auth::{AuthError, Principal};
use crate::body::Body;
use crate::error::ScimError;
use crate::state::State;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use response::{error_response, is_json_media_type, json_response};
use route::{Action, Endpoint, NoRoute, ResourceKind};

/// Whether `path` is below the SCIM base path.
pub fn is_scim_path(base: &str, path: &str) -> bool {
    path.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Handles one SCIM request; never fails.
pub async fn handle(state: &State, req: Request<Incoming>) -> Response<Body> {
    let principal = match state.auth.authenticate(req.headers()) {
        Ok(p) => {
            // Which connection and which of its tokens (by index, for
            // rotation) — never the token itself.
            let span = tracing::Span::current();
            if let Some(c) = state.config.connections.get(p.connection) {
                span.record("conn", c.id.as_str());
            }
            span.record("token", p.token);
            p
        }
        Err(e) => return unauthorized(e),
    };
    if let Err(e) = check_media_type(&req) {
        return error_response(&e);
    }
    let rest = req
        .uri()
        .path()
        .strip_prefix(state.config.scim.base_path.as_str())
        .unwrap_or("")
        .to_string();
    let endpoint = route::classify(&rest);
    let action = match route::route(&endpoint, req.method()) {
        Ok(a) => a,
        Err(NoRoute::MethodNotAllowed(allow)) => return method_not_allowed(&allow),
        Err(NoRoute::NotServed) => return error_response(&not_served(&endpoint, &req)),
    };
    match dispatch(state, principal, endpoint, action, req).await {
        Ok(resp) => resp,
        Err(e) => error_response(&e),
    }
}

/// Phase 1 failed: a 401 with a bearer challenge (RFC 6750 §3).
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
    state: &State,
    principal: Principal,
    endpoint: Endpoint,
    action: Action,
    req: Request<Incoming>,
) -> Result<Response<Body>, ScimError> {
    match (action, &endpoint) {
        (Action::ServiceProviderConfig, _) => Ok(json_response(
            StatusCode::OK,
            &state.discovery.service_provider_config,
        )),
        (Action::ResourceTypes, Endpoint::ResourceTypes(name)) => state
            .discovery
            .resource_types(name.as_deref())
            .map(|v| json_response(StatusCode::OK, &v)),
        (Action::Schemas, Endpoint::Schemas(urn)) => state
            .discovery
            .schemas(urn.as_deref())
            .map(|v| json_response(StatusCode::OK, &v)),
        (_, Endpoint::Collection(kind) | Endpoint::Search(kind) | Endpoint::Item(kind, _)) => {
            let mapping = match kind {
                ResourceKind::User => state.config.users.as_deref(),
                ResourceKind::Group => state.config.groups.as_deref(),
            };
            match mapping {
                Some(m) => Ok(resource::handle(state, principal, m, endpoint, action, req).await),
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
    fn scim_prefix_matches_whole_segments() {
        assert!(is_scim_path("/scim/v2", "/scim/v2"));
        assert!(is_scim_path("/scim/v2", "/scim/v2/Users"));
        assert!(!is_scim_path("/scim/v2", "/scim/v22"));
        assert!(!is_scim_path("/scim/v2", "/scim"));
        assert!(!is_scim_path("/scim/v2", "/other/scim/v2"));
    }
}
