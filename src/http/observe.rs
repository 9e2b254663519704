//! What the front door records about each request: the request context
//! (id, connection, app-call count), one `request` span carrying the
//! request id, method, path (never the query), client address, route, SCIM
//! resource and operation, the in-flight gauge, and at the end the request
//! log line, the request metrics, the `X-Request-Id` response header, an
//! audit event for a refused SCIM write, and for pass-through the access
//! line ([`super::access`]). Only names, ids, paths, addresses, counts,
//! statuses and durations are recorded: never headers, tokens, queries or
//! bodies.

use super::access::Access;
use crate::body::Body;
use crate::config::AccessLog;
use crate::proxy::headers::IpText;
use crate::route::{Endpoint, Labels, ResourceKind, Route};
use crate::telemetry::audit::Audit;
use crate::telemetry::event::{EventKind, ProvisioningEvent, ResourceType};
use crate::telemetry::metrics::{InFlight, Metrics, ScimLabels};
use crate::telemetry::request::{RequestCtx, X_REQUEST_ID};
use http::{Request, Response};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;
use tracing::Span;

/// A SCIM request as observed: its labels and, for an item, its id and
/// resource type (the audit event of a refused write names them).
struct ScimSeen {
    labels: Labels,
    id: Option<String>,
    kind: Option<ResourceKind>,
}

impl ScimSeen {
    /// What is observed of `route`; nothing for pass-through.
    fn of(route: &Route) -> Option<Self> {
        let labels = route.labels()?;
        let endpoint = match route {
            Route::Scim(r) => Some(&r.endpoint),
            _ => None,
        };
        Some(Self {
            labels,
            id: endpoint.and_then(Endpoint::item_id).map(str::to_owned),
            kind: endpoint.and_then(Endpoint::resource_kind),
        })
    }

    /// The audit kind of a write operation.
    fn write_kind(&self) -> Option<EventKind> {
        let rt = match self.kind? {
            ResourceKind::User => ResourceType::User,
            ResourceKind::Group => ResourceType::Group,
        };
        match self.labels.operation {
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
    scim: Option<ScimSeen>,
    access: Option<Access>,
    _in_flight: InFlight,
}

impl Observed {
    /// Starts observing `req` from `client`, classified as `route`;
    /// `access` says which pass-through requests get an access line,
    /// `request_id` makes an id for a request that brings none.
    pub fn start<B>(
        metrics: &Metrics,
        request_id: impl FnOnce() -> String,
        req: &Request<B>,
        client: IpAddr,
        access: AccessLog,
        route: &Route,
    ) -> Self {
        let ctx = RequestCtx::new(req.headers(), request_id);
        let started = Instant::now();
        let scim = ScimSeen::of(route);
        let route = route.name();
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
                    resource = s.labels.resource,
                    op = s.labels.operation,
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
            _in_flight: metrics.in_flight(route),
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

    /// Records the outcome (inside the request span) in `metrics` and, for
    /// a refused SCIM write, `audit`, and returns the response with its
    /// `X-Request-Id`.
    pub fn finish(
        self,
        metrics: &Metrics,
        audit: &Audit,
        mut resp: Response<Body>,
    ) -> Response<Body> {
        let elapsed = self.started.elapsed();
        let status = resp.status();
        match &self.scim {
            Some(seen) => {
                let duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3;
                let conn = self.ctx.connection();
                let app_calls = self.ctx.app_calls();
                tracing::info!(
                    status = status.as_u16(),
                    app_calls,
                    duration_ms,
                    "scim request"
                );
                metrics.scim_request(
                    ScimLabels {
                        connection: conn.map_or("none", |c| c.id.as_str()),
                        resource: seen.labels.resource,
                        operation: seen.labels.operation,
                        status: status.as_u16(),
                    },
                    elapsed,
                );
                if let (Some(kind), Some(c), true) = (
                    seen.write_kind(),
                    conn,
                    status.is_client_error() || status.is_server_error(),
                ) {
                    let id = seen.id.clone().unwrap_or_default();
                    audit.record(
                        ProvisioningEvent::for_connection(kind, c.clone(), id)
                            .failed(status.as_u16()),
                    );
                }
                resp.headers_mut().insert(X_REQUEST_ID, self.ctx.header());
                resp
            }
            None => {
                metrics.passthrough(status, elapsed);
                if !resp.headers().contains_key(X_REQUEST_ID) {
                    resp.headers_mut().insert(X_REQUEST_ID, self.ctx.header());
                }
                match self.access {
                    Some(a) => resp
                        .map(|b| a.body(status.as_u16(), b, metrics.passthrough_response_bytes())),
                    None => resp.map(|b| metrics.count_body(b, false)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::ScimRoute;
    use http::Method;

    #[test]
    fn writes_have_audit_kinds() {
        let kind = |m: Method, rest: &str| {
            let route = Route::Scim(ScimRoute::new("/scim/v2".into(), rest.into(), &m));
            ScimSeen::of(&route).and_then(|s| s.write_kind())
        };
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
        assert!(ScimSeen::of(&Route::Refused).is_some_and(|s| s.write_kind().is_none()));
    }
}
