//! Listeners and connection handling: one public port serving HTTP/1.1 and
//! h2c (hyper-util's auto builder, with upgrades), timers so header-read
//! deadlines apply, and graceful shutdown — stop accepting, let in-flight
//! requests finish up to the drain deadline, then return.

use crate::body::Body;
use crate::http::admin;
use crate::proxy::{self, headers::ClientInfo};
use crate::scim;
use crate::state::State;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tracing::Instrument;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A bound, not yet serving sidecar.
pub struct Server {
    state: Arc<State>,
    public: TcpListener,
    admin: TcpListener,
}

impl Server {
    /// Binds both listeners; with port 0 the OS picks free ports.
    pub async fn bind(state: State) -> Result<Self, ServeError> {
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })
        };
        let public = bind(state.config.server.listen).await?;
        let admin = bind(state.config.server.admin_listen).await?;
        Ok(Self::with_listeners(state, public, admin))
    }

    /// Uses listeners bound by the caller (the config's addresses are then
    /// only defaults for reporting).
    pub fn with_listeners(state: State, public: TcpListener, admin: TcpListener) -> Self {
        Self {
            state: Arc::new(state),
            public,
            admin,
        }
    }

    /// The bound public address.
    pub fn local_addr(&self) -> SocketAddr {
        self.public
            .local_addr()
            .unwrap_or(self.state.config.server.listen)
    }

    /// The bound admin address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .unwrap_or(self.state.config.server.admin_listen)
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let public_addr = self.local_addr();
        let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let admin = tokio::spawn(admin::serve(self.admin, self.state.clone(), async move {
            let _ = admin_stopped.await;
        }));
        tracing::info!(public = %public_addr, "scim-sidecar listening");
        accept_loop(self.public, self.state.clone(), shutdown).await;
        let _ = stop_admin.send(());
        let _ = admin.await;
        Ok(())
    }
}

fn builder(state: &State) -> auto::Builder<TokioExecutor> {
    let cfg = &state.config.server;
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.header_read_timeout)
        .max_buf_size(cfg.max_header_bytes);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(cfg.http2_max_concurrent_streams)
        .max_header_list_size(u32::try_from(cfg.max_header_bytes).unwrap_or(u32::MAX));
    b
}

async fn accept_loop(listener: TcpListener, state: Arc<State>, shutdown: impl Future<Output = ()>) {
    let builder = builder(&state);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let st = state.clone();
                    let svc = service_fn(move |req| handle(st.clone(), peer, req));
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
                    let conn = graceful.watch(conn.into_owned());
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly
                    // instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    let drain = state.config.server.drain_timeout;
    tracing::info!(drain = ?drain, "shutting down: draining in-flight requests");
    match tokio::time::timeout(drain, graceful.shutdown()).await {
        Ok(()) => tracing::info!("all connections closed"),
        Err(_) => tracing::warn!("drain deadline passed; closing remaining connections"),
    }
}

/// Routes one request: SCIM below the base path, pass-through otherwise.
async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let request_id = state.request_id();
    let is_scim = scim::is_scim_path(&state.config.scim.base_path, req.uri().path());
    let span = tracing::info_span!(
        "request",
        id = %request_id,
        method = %req.method(),
        route = if is_scim { "scim" } else { "pass" },
        conn = tracing::field::Empty,
        token = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let mut resp = if is_scim {
            scim::handle(&state, req).await
        } else {
            let client = ClientInfo {
                peer: peer.ip(),
                tls: false,
            };
            proxy::forward(&state, client, req).await
        };
        let status = resp.status().as_u16();
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if is_scim {
            tracing::info!(status, micros, "scim request");
        } else {
            tracing::debug!(status, micros, "pass-through request");
        }
        if let (true, Ok(v)) = (is_scim, http::HeaderValue::from_str(&request_id)) {
            resp.headers_mut().insert("x-request-id", v);
        }
        Ok(resp)
    }
    .instrument(span)
    .await
}
