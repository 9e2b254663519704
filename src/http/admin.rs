//! The admin listener, on its own port and never in the public Service,
//! with its own connection budget ([`super::budget`]) and a short header
//! deadline: `/livez` answers while the process runs (never
//! upstream-dependent, so a down app does not restart the sidecar),
//! `/startupz` answers 200 once the public listener accepts (the config is
//! loaded and both ports are bound; the app may not be up yet, and with a
//! native sidecar it is not: the kubelet starts it only after this
//! passes), `/readyz` answers 200 only when the [`Sidecar`] finds the app
//! ready: reachable — and, with `[host] ready_read`, answering one
//! authenticated read of its user list, so credentials the app no longer
//! accepts show as not ready — and `/metrics` serves the Prometheus registry in the format the
//! scraper's `Accept` prefers (Prometheus text 0.0.4 by default).

use super::Sidecar;
use super::accept;
use super::budget::Budget;
use super::conn::{self, Activity, ConnLimits};
use crate::body::{Body, full};
use crate::proxy::plain;
use crate::telemetry::metrics::{Format, Metrics};
use http::header::{CONTENT_TYPE, HeaderValue, VARY};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves the admin endpoints until `shutdown` resolves; `/startupz`
/// passes once `started` is set. At most `[server] admin_max_connections`
/// connections, the one idle the longest closed when a newcomer fills the
/// budget; each gets `[server] admin_header_read_timeout` for a request
/// head (the first one counted from the accept).
pub async fn serve<S: Sidecar>(
    listener: TcpListener,
    sidecar: Arc<S>,
    started: Arc<AtomicBool>,
    shutdown: impl Future<Output = ()>,
) {
    let budget = Budget::new(sidecar.server().admin_max_connections);
    let conns = accept::accept(
        listener,
        budget.max(),
        accept::Spread::default(),
        shutdown,
        |stream, _, stopped| {
            let limits = ConnLimits::admin(&sidecar.server());
            let (st, started) = (sidecar.clone(), started.clone());
            let activity = Arc::new(Activity::default());
            let mut admitted = budget.admit(activity.clone());
            async move {
                let Ok(stream) = stream.into_stream() else {
                    return;
                };
                let io = TokioIo::new(stream);
                let serve = conn::serve_tracked(io, &limits, stopped, activity, move |req| {
                    handle(st.clone(), started.load(Ordering::Acquire), req)
                });
                tokio::select! {
                    () = serve => {}
                    () = admitted.closed() => {
                        tracing::debug!("admin connection closed to make room for a new one");
                    }
                }
            }
        },
    )
    .await;
    accept::drain(conns, Duration::from_secs(1)).await;
}

async fn handle<S: Sidecar>(
    sidecar: Arc<S>,
    started: bool,
    req: Request<Incoming>,
) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match req.uri().path() {
        "/livez" => plain(StatusCode::OK, "ok\n"),
        "/startupz" if started => plain(StatusCode::OK, "started\n"),
        "/startupz" => plain(StatusCode::SERVICE_UNAVAILABLE, "starting\n"),
        "/metrics" => metrics(sidecar.metrics(), req.headers()),
        "/readyz" => match sidecar.ready().await {
            Ok(()) => plain(StatusCode::OK, "ready\n"),
            Err(why) => {
                tracing::debug!(reason = %why, "not ready");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not ready: the app is unreachable\n",
                )
            }
        },
        _ => plain(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// The registry as Prometheus text 0.0.4, or as OpenMetrics when the
/// scraper's `Accept` prefers it (as Prometheus's own does).
fn metrics(registry: &Metrics, headers: &HeaderMap) -> Response<Body> {
    let format = Format::from_headers(headers);
    let mut resp = Response::new(full(registry.encode_as(format)));
    let content_type = HeaderValue::from_static(format.content_type());
    resp.headers_mut().insert(CONTENT_TYPE, content_type);
    resp.headers_mut()
        .insert(VARY, HeaderValue::from_static("accept"));
    resp
}
