//! The admin listener, on its own port and never in the public Service:
//! `/livez` answers while the process runs (never upstream-dependent, so a
//! down app does not restart the sidecar) and `/readyz` answers 200 only
//! when the config is loaded and the app is reachable.

use crate::body::{Body, empty};
use crate::proxy::plain;
use crate::state::State;
use http::{Method, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves the admin endpoints until `shutdown` resolves.
pub async fn serve(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let st = state.clone();
                let svc = service_fn(move |req| handle(st.clone(), req));
                let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed\n",
        ));
    }
    Ok(match req.uri().path() {
        "/livez" => plain(StatusCode::OK, "ok\n"),
        "/readyz" => match app_reachable(&state).await {
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
    })
}

/// Readiness: a TCP connect to the app, or a GET of its health path that
/// answers below 500.
async fn app_reachable(state: &State) -> Result<(), String> {
    let up = &state.config.upstream;
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
