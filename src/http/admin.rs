//! The admin listener, on its own port and never in the public Service:
//! `/livez` answers while the process runs (never upstream-dependent, so a
//! down app does not restart the sidecar), `/readyz` answers 200 only
//! when the config is loaded and the app is reachable — and, with `[host]
//! ready_read`, when one authenticated read of the app's user list
//! succeeds, so credentials the app no longer accepts show as not ready —
//! and `/metrics` serves the Prometheus registry in the format the
//! scraper's `Accept` prefers (Prometheus text 0.0.4 by default).

use super::accept;
use super::conn::{self, ConnLimits};
use crate::body::{Body, empty, full};
use crate::proxy::plain;
use crate::state::State;
use http::header::{CONTENT_TYPE, HeaderValue, VARY};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Admin connections open at once; probes and scrapes need few.
const MAX_ADMIN_CONNECTIONS: usize = 64;

/// Serves the admin endpoints until `shutdown` resolves. Connections get
/// the same header deadline (sniff included) and idle timeout as the
/// public port's, capped lower.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let conns = accept::accept(
        listener,
        MAX_ADMIN_CONNECTIONS,
        shutdown,
        |stream, _, stopped| {
            let limits = ConnLimits::admin(&state.runtime().config.server);
            let st = state.clone();
            async move {
                let io = TokioIo::new(stream);
                conn::serve(io, &limits, stopped, move |req| handle(st.clone(), req)).await;
            }
        },
    )
    .await;
    accept::drain(conns, Duration::from_secs(1)).await;
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
    }
    match req.uri().path() {
        "/livez" => plain(StatusCode::OK, "ok\n"),
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
    let host = crate::host::HostCtx {
        state,
        rt: &rt,
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
