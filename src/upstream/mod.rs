//! Calls to the app, shared by pass-through and SCIM work: the client
//! built for `[upstream]` and the classification of its failures — the app
//! unreachable → 502, the app too slow → 504, an app answer over the size
//! limit → 502 naming the limit, a client's broken request body → 400.
//!
//! The client is the crate's one client stack ([`client`]) with the
//! app's settings: `https://` apps are verified against `[upstream]
//! ca_file` when set and the system roots otherwise; connections are kept
//! alive and reused within `pool_idle_timeout` and `pool_max_idle`. The
//! client itself has no deadline; [`send`] waits for the answer's head as
//! long as the caller allows.

use crate::body::Body;
use crate::client::{self, HttpClient, PooledBody, Settings};
use crate::config::UpstreamConfig;
use http::uri::Scheme;
use http::{Request, Response, StatusCode};
use rustls::crypto::CryptoProvider;
use std::sync::Arc;
use std::time::Duration;

/// Builds the pooled keep-alive client to the app.
pub fn build_client(cfg: &UpstreamConfig, provider: Arc<CryptoProvider>) -> HttpClient {
    let roots = match &cfg.ca_pem {
        Some(pem) => client::pem_roots(pem, "upstream.ca_file"),
        None => {
            let roots = client::system_roots();
            if roots.is_empty() && cfg.scheme == Scheme::HTTPS {
                tracing::warn!("no system CA certificates found; set upstream.ca_file");
            }
            roots
        }
    };
    HttpClient::new(Settings {
        tls: Arc::new(client::tls_config(roots, provider)),
        connect_timeout: cfg.connect_timeout,
        idle_timeout: cfg.pool_idle_timeout,
        max_idle: cfg.pool_max_idle,
    })
}

/// Why a call to the app failed.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No answer head within the deadline.
    #[error("the app did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made or broke.
    #[error("the app is unreachable: {0}")]
    Unreachable(String),
    /// The app's answer is larger than the sidecar reads.
    #[error("the app's answer exceeds {0} bytes")]
    TooLarge(usize),
    /// The client's request body broke off or was malformed; not the app's
    /// fault.
    #[error("the request body could not be read from the client")]
    ClientBody,
}

impl UpstreamError {
    /// The status answered to the client: 504 for timeouts, 502 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Unreachable(_) | Self::TooLarge(_) => StatusCode::BAD_GATEWAY,
            Self::ClientBody => StatusCode::BAD_REQUEST,
        }
    }
}

/// Sends a request (absolute URI: the app's origin and the path), waiting
/// at most `deadline` for the response head.
pub async fn send(
    client: &HttpClient,
    req: Request<Body>,
    deadline: Duration,
) -> Result<Response<PooledBody>, UpstreamError> {
    match tokio::time::timeout(deadline, client.request(req)).await {
        Err(_) => Err(UpstreamError::Timeout(deadline)),
        Ok(Err(e)) => Err(UpstreamError::Unreachable(e.describe())),
        Ok(Ok(resp)) => Ok(resp),
    }
}
