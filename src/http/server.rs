//! The public listener: accept (up to `max_connections` at once), an
//! optional TLS handshake within its deadline, then one connection served
//! by hyper-util's auto builder (HTTP/1.1 with upgrades and HTTP/2, h2c or
//! by ALPN) under the deadlines of [`super::conn`], each request answered
//! by the [`Sidecar`]. On shutdown the listener closes, connections drain
//! gracefully up to the drain deadline, and whatever is left is closed.

use super::Sidecar;
use super::accept::{self, Accepted, Spread};
use super::conn::{self, ConnLimits};
use super::tls::TlsError;
use crate::config::ServerConfig;
use crate::proxy::headers::ClientInfo;
use hyper_util::rt::TokioIo;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

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

/// Serves the public listener until `shutdown` resolves, then drains.
/// Connections run on the worker runtimes of `spread`, if any.
pub async fn serve<S: Sidecar>(
    listener: TcpListener,
    sidecar: Arc<S>,
    tls: Option<TlsAcceptor>,
    spread: Spread,
    shutdown: impl Future<Output = ()>,
) {
    let max = sidecar.server().max_connections;
    let conns = accept::accept(listener, max, spread, shutdown, |stream, peer, stopped| {
        connection(sidecar.clone(), stream, peer, tls.clone(), stopped)
    })
    .await;
    let drain = sidecar.server().drain_timeout;
    tracing::info!(drain = ?drain, connections = conns.len(), "shutting down: draining");
    match accept::drain(conns, drain).await {
        0 => tracing::info!("all connections closed"),
        left => tracing::warn!(left, "drain deadline passed; closing remaining connections"),
    }
}

/// One accepted connection: TLS handshake (if any) within its deadline,
/// then HTTP.
async fn connection<S: Sidecar>(
    sidecar: Arc<S>,
    stream: Accepted,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let stream = match stream.into_stream() {
        Ok(s) => s,
        Err(e) => return tracing::debug!(%peer, error = %e, "accepted connection lost"),
    };
    let _ = stream.set_nodelay(true);
    let server = sidecar.server();
    let Some(acceptor) = tls else {
        let client = ClientInfo {
            peer: peer.ip(),
            tls: false,
        };
        return http(sidecar, TokioIo::new(stream), client, &server, stop).await;
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
            http(sidecar, TokioIo::new(tls_stream), client, &server, stop).await;
        }
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake deadline passed"),
    }
}

async fn http<S: Sidecar, I>(
    sidecar: Arc<S>,
    io: TokioIo<I>,
    client: ClientInfo,
    server: &ServerConfig,
    stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = ConnLimits::public(server);
    conn::serve(io, &limits, stop, move |req| {
        sidecar.clone().handle(client, req)
    })
    .await;
}
