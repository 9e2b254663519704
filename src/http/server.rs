//! The public listener: accept (up to `max_connections` at once), an
//! optional TLS handshake within its deadline, then one connection served
//! by hyper-util's auto builder (HTTP/1.1 with upgrades and HTTP/2, h2c or
//! by ALPN) under the deadlines of [`super::conn`]. Each request loads the
//! current runtime once and is routed: SCIM below a base path, refused when
//! a base path is reached only through encoding, pass-through otherwise.
//! On shutdown the listener closes, connections drain gracefully up to the
//! drain deadline, and whatever is left is closed.

use super::accept;
use super::admin;
use super::conn::{self, ConnLimits};
use super::observe::Observed;
use super::tls::{CertStore, TlsError};
use crate::body::Body;
use crate::config::ServerConfig;
use crate::proxy::{
    self,
    headers::{ClientInfo, client_address},
};
use crate::route::Route;
use crate::scim::{self, Front};
use crate::state::State;
use crate::telemetry::request::X_REQUEST_ID;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::Instrument;

/// Longest wait for queued webhook events on shutdown.
const WEBHOOK_FLUSH: Duration = Duration::from_secs(10);

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
    /// The TLS certificate could not be loaded.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
}

/// A bound, not yet serving sidecar.
pub struct Server {
    state: Arc<State>,
    public: TcpListener,
    admin: TcpListener,
    certs: Option<Arc<CertStore>>,
}

impl Server {
    /// Binds both listeners (with port 0 the OS picks free ports) and loads
    /// the TLS certificate when `[server.tls]` is set.
    pub async fn bind(state: State) -> Result<Self, ServeError> {
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })
        };
        let server = state.runtime().config.server.clone();
        let public = bind(server.listen).await?;
        let admin = bind(server.admin_listen).await?;
        Self::with_listeners(state, public, admin)
    }

    /// Uses listeners bound by the caller (the config's addresses are then
    /// only defaults for reporting).
    pub fn with_listeners(
        state: State,
        public: TcpListener,
        admin: TcpListener,
    ) -> Result<Self, ServeError> {
        let certs = match &state.runtime().config.server.tls {
            Some(tls) => Some(CertStore::load(tls, state.crypto.clone())?),
            None => None,
        };
        Ok(Self {
            state: Arc::new(state),
            public,
            admin,
            certs,
        })
    }

    /// The shared state (for reloads).
    pub fn state(&self) -> Arc<State> {
        self.state.clone()
    }

    /// The certificate store, when TLS is on (for reloads).
    pub fn certs(&self) -> Option<Arc<CertStore>> {
        self.certs.clone()
    }

    /// The bound public address.
    pub fn local_addr(&self) -> SocketAddr {
        self.public
            .local_addr()
            .unwrap_or(self.state.runtime().config.server.listen)
    }

    /// The bound admin address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .unwrap_or(self.state.runtime().config.server.admin_listen)
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let public_addr = self.local_addr();
        let admin_addr = self.admin_addr();
        let (stop_admin, admin_stopped) = tokio::sync::oneshot::channel::<()>();
        let started = Arc::new(AtomicBool::new(false));
        let admin = tokio::spawn(admin::serve(
            self.admin,
            self.state.clone(),
            started.clone(),
            async move {
                let _ = admin_stopped.await;
            },
        ));
        tracing::info!(public = %public_addr, admin = %admin_addr, tls = self.certs.is_some(), "scim-sidecar listening");
        self.state.audit.webhooks().start();
        let acceptor = self.certs.as_ref().map(CertStore::acceptor);
        // The accept loop starts right below: from here on, /startupz passes.
        started.store(true, Ordering::Release);
        accept_loop(self.public, self.state.clone(), acceptor, shutdown).await;
        let drain = self.state.runtime().config.server.drain_timeout;
        self.state
            .audit
            .webhooks()
            .shutdown(drain.min(WEBHOOK_FLUSH))
            .await;
        let _ = stop_admin.send(());
        let _ = admin.await;
        Ok(())
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) {
    let max = state.runtime().config.server.max_connections;
    let conns = accept::accept(listener, max, shutdown, |stream, peer, stopped| {
        connection(state.clone(), stream, peer, tls.clone(), stopped)
    })
    .await;
    let drain = state.runtime().config.server.drain_timeout;
    tracing::info!(drain = ?drain, connections = conns.len(), "shutting down: draining");
    match accept::drain(conns, drain).await {
        0 => tracing::info!("all connections closed"),
        left => tracing::warn!(left, "drain deadline passed; closing remaining connections"),
    }
}

/// One accepted connection: TLS handshake (if any) within its deadline,
/// then HTTP.
async fn connection(
    state: Arc<State>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let server = state.runtime().config.server.clone();
    let Some(acceptor) = tls else {
        let client = ClientInfo {
            peer: peer.ip(),
            tls: false,
        };
        return http(state, TokioIo::new(stream), client, &server, stop).await;
    };
    let deadline = server
        .tls
        .as_ref()
        .map_or(Duration::from_secs(10), |t| t.handshake_timeout);
    match tokio::time::timeout(deadline, acceptor.accept(stream)).await {
        Ok(Ok(tls_stream)) => {
            let client = ClientInfo {
                peer: peer.ip(),
                tls: true,
            };
            http(state, TokioIo::new(tls_stream), client, &server, stop).await;
        }
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake deadline passed"),
    }
}

async fn http<I>(
    state: Arc<State>,
    io: TokioIo<I>,
    client: ClientInfo,
    server: &ServerConfig,
    stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = ConnLimits::public(server);
    conn::serve(io, &limits, stop, move |req| {
        handle(state.clone(), client, req)
    })
    .await;
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
    let observed = Observed::start(&state, &req, client_ip, rt.config.log.access, &route);
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
        observed.finish(&state, resp)
    };
    ctx.scope(work.instrument(span)).await
}
