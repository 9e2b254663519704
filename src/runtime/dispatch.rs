//! Where the running sidecar meets the HTTP edge: [`State`] is the
//! listeners' [`Sidecar`]. Each public request loads the runtime snapshot
//! once, is classified once ([`Route`]) and observed (span, metrics, log
//! line, the audit event of a refused write), then answered by the SCIM
//! front door below a base path, refused when a base path is reached only
//! through encoding, and passed through to the app otherwise. The admin
//! port reads the metrics registry and the app's readiness from here too.

use super::state::State;
use crate::body::Body;
use crate::config::ServerConfig;
use crate::host::ready;
use crate::http::Sidecar;
use crate::http::observe::Observed;
use crate::proxy::{
    self,
    headers::{ClientInfo, client_address},
};
use crate::route::Route;
use crate::scim::{self, Front};
use crate::telemetry::Metrics;
use crate::telemetry::request::X_REQUEST_ID;
use http::{Request, Response};
use hyper::body::Incoming;
use std::future::Future;
use std::sync::Arc;
use tracing::Instrument;

impl Sidecar for State {
    fn server(&self) -> ServerConfig {
        self.runtime().config.server.clone()
    }

    fn handle(
        self: Arc<Self>,
        client: ClientInfo,
        req: Request<Incoming>,
    ) -> impl Future<Output = Response<Body>> + Send + 'static {
        handle(self, client, req)
    }

    fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    async fn ready(&self) -> Result<(), String> {
        let rt = self.runtime();
        ready::ready(self.services(&rt).app()).await
    }
}

/// Routes one request: SCIM below a base path, pass-through otherwise.
async fn handle(
    state: Arc<State>,
    client: ClientInfo,
    mut req: Request<Incoming>,
) -> Response<Body> {
    let rt = state.runtime();
    // The one classification of this request: dispatch, metrics and the
    // request span all read it.
    let route = Route::classify(&rt.base_paths, req.method(), req.uri().path());
    // The address access and request lines name: the client as the
    // trusted proxies report it, else the TCP peer.
    let client_ip = client_address(
        client.peer,
        req.headers(),
        &rt.config.upstream.trusted_proxies,
    );
    let observed = Observed::start(
        &state.metrics,
        || state.request_id(),
        &req,
        client_ip,
        rt.config.log.access,
        &route,
    );
    let (span, ctx) = (observed.span(), observed.ctx());
    let request_id = ctx.header();
    let work = async move {
        let resp = match &route {
            Route::Scim(route) => {
                let front = Front {
                    services: state.services(&rt),
                    client,
                    route,
                };
                // Boxed: a SCIM request's future is large (every endpoint,
                // every app call), and the wrappers around this one (span,
                // request context, hyper's service) move it by value; the
                // pass-through branch would otherwise carry its size too.
                Box::pin(scim::handle(front, req)).await
            }
            Route::Refused => scim::refused(),
            Route::PassThrough => {
                req.headers_mut().insert(X_REQUEST_ID, request_id);
                proxy::forward(
                    &state.client,
                    &rt.config.upstream,
                    &state.metrics,
                    client,
                    req,
                )
                .await
            }
        };
        observed.finish(&state.metrics, &state.audit, resp)
    };
    ctx.scope(work.instrument(span)).await
}
