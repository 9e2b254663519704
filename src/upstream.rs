//! The pooled HTTP client to the app, shared by pass-through and SCIM calls,
//! and the classification of its failures: the app unreachable → 502, the
//! app too slow → 504. The client itself has no deadline; callers wrap each
//! call in the deadline that fits it.

use crate::body::Body;
use crate::config::UpstreamConfig;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

/// The shared pooled client.
pub type HttpClient = Client<HttpConnector, Body>;

/// Builds the pooled keep-alive client.
pub fn build_client(cfg: &UpstreamConfig) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(cfg.connect_timeout));
    connector.set_keepalive(Some(Duration::from_secs(60)));
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(cfg.pool_idle_timeout)
        .pool_max_idle_per_host(cfg.pool_max_idle)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector)
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
}

impl UpstreamError {
    /// The status answered to the client: 504 for timeouts, 502 otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Unreachable(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

/// Sends a request, waiting at most `deadline` for the response head.
pub async fn send(
    client: &HttpClient,
    req: Request<Body>,
    deadline: Duration,
) -> Result<Response<Incoming>, UpstreamError> {
    match tokio::time::timeout(deadline, client.request(req)).await {
        Err(_) => Err(UpstreamError::Timeout(deadline)),
        Ok(Err(e)) => Err(UpstreamError::Unreachable(describe(&e))),
        Ok(Ok(resp)) => Ok(resp),
    }
}

/// A short cause chain for logs (no request data in it).
fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
