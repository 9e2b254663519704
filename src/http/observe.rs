//! What the front door records about each request: the request context
//! (id, connection, app-call count), one `request` span carrying the
//! request id, method, path (never the query), client address, route, SCIM
//! resource and operation, the in-flight gauge, and at the end the request
//! log line, the request metrics, the `X-Request-Id` response header, an
//! audit event for a refused SCIM write, and for pass-through the access
//! line ([`super::access`]). Only names, ids, paths, addresses, counts,
//! statuses and durations are recorded: never headers, tokens, queries or
//! bodies.

use super::access::{Access, IpText};
use crate::body::Body;
use crate::config::AccessLog;
use crate::scim::route::{self, Endpoint, ResourceKind};
use crate::state::State;
use crate::telemetry::event::{EventKind, ProvisioningEvent, ResourceType};
use crate::telemetry::metrics::{InFlight, ScimLabels};
use crate::telemetry::request::{RequestCtx, X_REQUEST_ID};
use http::{Method, Request, Response};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::Span;

/// The labels of a SCIM request, from its path and method alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimOp {
    /// `Users`, `Groups`, `ServiceProviderConfig`, `ResourceTypes`,
    /// `Schemas`, `Me`, `Bulk`, `root` or `unknown`.
    pub resource: &'static str,
    /// `list`, `search`, `get`, `create`, `replace`, `patch`, `delete`,
    /// `discovery` or `other`.
    pub operation: &'static str,
    /// The resource id of an item request.
    pub id: Option<String>,
    kind: Option<ResourceKind>,
}

impl ScimOp {
    /// Classifies `rest`, the path below the SCIM base path.
    pub fn classify(method: &Method, rest: &str) -> Self {
        let endpoint = route::classify(rest);
        let (resource, kind) = match &endpoint {
            Endpoint::Collection(k) | Endpoint::Search(k) | Endpoint::Item(k, _) => {
                (k.endpoint(), Some(*k))
            }
            Endpoint::ServiceProviderConfig => ("ServiceProviderConfig", None),
            Endpoint::ResourceTypes(_) => ("ResourceTypes", None),
            Endpoint::Schemas(_) => ("Schemas", None),
            Endpoint::Me => ("Me", None),
            Endpoint::Bulk => ("Bulk", None),
            Endpoint::RootSearch => ("root", None),
            Endpoint::Unknown => ("unknown", None),
        };
        let read = *method == Method::GET || *method == Method::HEAD;
        let operation = match (&endpoint, method) {
            (Endpoint::Collection(_), _) if read => "list",
            (Endpoint::Collection(_), &Method::POST) => "create",
            (Endpoint::Search(_) | Endpoint::RootSearch, &Method::POST) => "search",
            (Endpoint::Item(..), _) if read => "get",
            (Endpoint::Item(..), &Method::PUT) => "replace",
            (Endpoint::Item(..), &Method::PATCH) => "patch",
            (Endpoint::Item(..), &Method::DELETE) => "delete",
            (
                Endpoint::ServiceProviderConfig | Endpoint::ResourceTypes(_) | Endpoint::Schemas(_),
                _,
            ) if read => "discovery",
            _ => "other",
        };
        let id = match endpoint {
            Endpoint::Item(_, id) => Some(id),
            _ => None,
        };
        Self {
            resource,
            operation,
            id,
            kind,
        }
    }

    /// A request that reached a SCIM base path only through encoding or
    /// dot segments (refused before routing).
    pub fn unrouted() -> Self {
        Self {
            resource: "unknown",
            operation: "other",
            id: None,
            kind: None,
        }
    }

    /// The audit kind of a write operation.
    fn write_kind(&self) -> Option<EventKind> {
        let rt = match self.kind? {
            ResourceKind::User => ResourceType::User,
            ResourceKind::Group => ResourceType::Group,
        };
        match self.operation {
            "create" => Some(EventKind::created(rt)),
            "replace" | "patch" => Some(EventKind::updated(rt)),
            "delete" => Some(EventKind::deleted(rt)),
            _ => None,
        }
    }
}

/// One request being observed.
pub struct Observed {
    ctx: Arc<RequestCtx>,
    span: Span,
    started: Instant,
    scim: Option<ScimOp>,
    access: Option<Access>,
    _in_flight: InFlight,
}

impl Observed {
    /// Starts observing `req` from `client`; `scim` is its classification
    /// when it is a SCIM request, `access` says which pass-through
    /// requests get an access line.
    pub fn start<B>(
        state: &State,
        req: &Request<B>,
        client: IpAddr,
        access: AccessLog,
        scim: Option<ScimOp>,
    ) -> Self {
        let ctx = RequestCtx::new(req.headers(), || state.request_id());
        let started = Instant::now();
        let route = if scim.is_some() { "scim" } else { "pass" };
        // Pass-through opens no span at `info`: its line is the access
        // line, which carries its own fields.
        let (span, access) = match &scim {
            Some(s) => {
                let ip = IpText::new(client);
                let span = tracing::info_span!(
                    "request",
                    request_id = ctx.id(),
                    method = req.method().as_str(),
                    path = req.uri().path(),
                    client = ip.as_str(),
                    route,
                    resource = s.resource,
                    op = s.operation,
                    conn = tracing::field::Empty,
                    token = tracing::field::Empty,
                );
                (span, None)
            }
            None => {
                let span = tracing::debug_span!(
                    "request",
                    request_id = ctx.id(),
                    method = req.method().as_str(),
                    route,
                );
                (
                    span,
                    Access::start(access, req, client, ctx.clone(), started),
                )
            }
        };
        Self {
            _in_flight: state.metrics.in_flight(route),
            ctx,
            span,
            started,
            scim,
            access,
        }
    }

    /// The request span.
    pub fn span(&self) -> Span {
        self.span.clone()
    }

    /// The request context, to scope the handler with.
    pub fn ctx(&self) -> Arc<RequestCtx> {
        self.ctx.clone()
    }

    /// Records the outcome (inside the request span) and returns the
    /// response with its `X-Request-Id`.
    pub fn finish(self, state: &State, mut resp: Response<Body>) -> Response<Body> {
        let elapsed = self.started.elapsed();
        let status = resp.status();
        match &self.scim {
            Some(op) => {
                let duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
                let conn = self.ctx.connection();
                let app_calls = self.ctx.app_calls();
                tracing::info!(
                    status = status.as_u16(),
                    app_calls,
                    duration_ms,
                    "scim request"
                );
                state.metrics.scim_request(
                    ScimLabels {
                        connection: conn.map_or_else(|| "none".to_string(), |c| c.id.clone()),
                        resource: op.resource,
                        operation: op.operation,
                        status: status.as_u16(),
                    },
                    elapsed,
                );
                if let (Some(kind), Some(c), true) = (
                    op.write_kind(),
                    conn,
                    status.is_client_error() || status.is_server_error(),
                ) {
                    let id = op.id.clone().unwrap_or_default();
                    state.audit.record(
                        ProvisioningEvent::for_connection(kind, c.clone(), id)
                            .failed(status.as_u16()),
                    );
                }
                resp.headers_mut().insert(X_REQUEST_ID, self.ctx.header());
                resp
            }
            None => {
                state.metrics.passthrough(status, elapsed);
                if !resp.headers().contains_key(X_REQUEST_ID) {
                    resp.headers_mut().insert(X_REQUEST_ID, self.ctx.header());
                }
                match self.access {
                    Some(a) => resp.map(|b| {
                        a.body(
                            status.as_u16(),
                            b,
                            state.metrics.passthrough_response_bytes(),
                        )
                    }),
                    None => resp.map(|b| state.metrics.count_body(b, false)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, rest: &str) -> (&'static str, &'static str, Option<String>) {
        let o = ScimOp::classify(&method, rest);
        (o.resource, o.operation, o.id)
    }

    #[test]
    fn operations_from_method_and_path() {
        assert_eq!(op(Method::GET, "/Users"), ("Users", "list", None));
        assert_eq!(op(Method::POST, "/Users"), ("Users", "create", None));
        assert_eq!(
            op(Method::POST, "/Groups/.search"),
            ("Groups", "search", None)
        );
        assert_eq!(
            op(Method::PATCH, "/Users/42"),
            ("Users", "patch", Some("42".into()))
        );
        assert_eq!(op(Method::PUT, "/users/42").1, "replace");
        assert_eq!(op(Method::DELETE, "/Users/42").1, "delete");
        assert_eq!(op(Method::GET, "/Schemas"), ("Schemas", "discovery", None));
        assert_eq!(op(Method::POST, "/Schemas").1, "other");
        assert_eq!(op(Method::GET, "/Nope"), ("unknown", "other", None));
    }

    #[test]
    fn writes_have_audit_kinds() {
        let kind = |m, rest| ScimOp::classify(&m, rest).write_kind();
        assert_eq!(kind(Method::POST, "/Users"), Some(EventKind::UserCreated));
        assert_eq!(
            kind(Method::PATCH, "/Groups/g"),
            Some(EventKind::GroupUpdated)
        );
        assert_eq!(
            kind(Method::DELETE, "/Users/1"),
            Some(EventKind::UserDeleted)
        );
        assert_eq!(kind(Method::GET, "/Users/1"), None);
        assert_eq!(kind(Method::POST, "/Users/.search"), None);
    }
}
