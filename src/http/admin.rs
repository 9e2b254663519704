//! The admin listener, on its own port and never in the public Service,
//! with its own connection budget ([`super::budget`]) and a short header
//! deadline: `/livez` answers while the process runs (never
//! upstream-dependent, so a down app does not restart the sidecar),
//! `/startupz` answers 200 once the public listener accepts (the config is
//! loaded and both ports are bound; the app may not be up yet, and with a
//! native sidecar it is not: the kubelet starts it only after this
//! passes), `/readyz` answers 200 only
//! when the config is loaded and the app is reachable — and, with `[host]
//! ready_read`, when one authenticated read of the app's user list
//! succeeds, so credentials the app no longer accepts show as not ready —
//! and `/metrics` serves the Prometheus registry in the format the
//! scraper's `Accept` prefers (Prometheus text 0.0.4 by default).

use super::accept;
use super::budget::Budget;
use super::conn::{self, Activity, ConnLimits};
use crate::body::{Body, empty, full};
use crate::host::{App, HostCtx};
use crate::proxy::plain;
use crate::state::State;
use http::header::{CONTENT_TYPE, HeaderValue, VARY};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
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
pub async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    started: Arc<AtomicBool>,
    shutdown: impl Future<Output = ()>,
) {
    let budget = Budget::new(state.runtime().config.server.admin_max_connections);
    let conns = accept::accept(listener, budget.max(), shutdown, |stream, _, stopped| {
        let limits = ConnLimits::admin(&state.runtime().config.server);
        let (st, started) = (state.clone(), started.clone());
        let activity = Arc::new(Activity::default());
        let mut admitted = budget.admit(activity.clone());
        async move {
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
    })
    .await;
    accept::drain(conns, Duration::from_secs(1)).await;
}

async fn handle(state: Arc<State>, started: bool, req: Request<Incoming>) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match req.uri().path() {
        "/livez" => plain(StatusCode::OK, "ok\n"),
        "/startupz" if started => plain(StatusCode::OK, "started\n"),
        "/startupz" => plain(StatusCode::SERVICE_UNAVAILABLE, "starting\n"),
        "/metrics" => metrics(&state, req.headers()),
        "/readyz" => match ready(&state).await {
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
fn metrics(state: &State, headers: &HeaderMap) -> Response<Body> {
    let format = crate::telemetry::metrics::Format::from_headers(headers);
    let mut resp = Response::new(full(state.metrics.encode_as(format)));
    let content_type = HeaderValue::from_static(format.content_type());
    resp.headers_mut().insert(CONTENT_TYPE, content_type);
    resp.headers_mut()
        .insert(VARY, HeaderValue::from_static("accept"));
    resp
}

/// Readiness: the app is reachable and, with `ready_read`, answers an
/// authenticated read.
async fn ready(state: &State) -> Result<(), String> {
    app_reachable(state).await?;
    if state.runtime().config.host.ready_read {
        authenticated_read(state).await?;
    }
    Ok(())
}

/// One page of one user through the mapping's list call, with the host
/// credentials: an app that refuses them (401, 403) or fails is not ready.
async fn authenticated_read(state: &State) -> Result<(), String> {
    let rt = state.runtime();
    let (Some(mapping), Some(conn)) = (&rt.config.users, rt.config.connections.first()) else {
        return Ok(());
    };
    let host = HostCtx {
        app: App {
            client: &state.client,
            config: &rt.config,
            gate: &rt.limits.app,
            metrics: &state.metrics,
        },
        mapping,
        conn,
        deadline: tokio::time::Instant::now() + Duration::from_secs(5),
    };
    let first = mapping.plan_pages(1, 1);
    let page = first.first();
    let vars = crate::mapping::Vars {
        offset: page.and_then(|p| p.offset),
        limit: Some(1),
        page: page.and_then(|p| p.page),
        ..host.vars()
    };
    match host.read(crate::mapping::OpKind::List, &vars).await {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("the app's list answered {}", e.status.as_u16())),
    }
}

/// Reachability: a TCP connect to the app, or a GET of its health path
/// that answers below 500.
async fn app_reachable(state: &State) -> Result<(), String> {
    let rt = state.runtime();
    let up = &rt.config.upstream;
    let deadline = up.connect_timeout.min(Duration::from_secs(2));
    match &up.health_path {
        None => {
            let addr = up.authority.as_str().to_string();
            match tokio::time::timeout(deadline, tokio::net::TcpStream::connect(addr)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("connect timed out".into()),
            }
        }
        Some(path) => {
            let uri = Uri::builder()
                .scheme(up.scheme.clone())
                .authority(up.authority.clone())
                .path_and_query(path.as_str())
                .build()
                .map_err(|e| e.to_string())?;
            let req = Request::get(uri).body(empty()).map_err(|e| e.to_string())?;
            let resp =
                crate::upstream::send(&state.client, req, deadline.max(Duration::from_secs(2)))
                    .await
                    .map_err(|e| e.to_string())?;
            if resp.status().is_server_error() {
                Err(format!("health path answered {}", resp.status()))
            } else {
                Ok(())
            }
        }
    }
}
