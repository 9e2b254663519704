//! The pooled HTTP client to the app, shared by pass-through and SCIM calls,
//! and the classification of its failures: the app unreachable → 502, the
//! app too slow → 504, an app answer over the size limit → 502 naming the
//! limit, a client's broken request body → 400. The client itself has no
//! deadline; callers wrap each call in the deadline that fits it.
//!
//! `https://` apps are reached over rustls (TLS 1.2 and 1.3, RFC 8446)
//! with HTTP/1.1 (pass-through upgrades need it), trusting `[upstream]
//! ca_file` when set and the system roots otherwise.

use crate::body::Body;
use crate::config::UpstreamConfig;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::crypto::CryptoProvider;
use std::sync::Arc;
use std::time::Duration;

/// The shared pooled client.
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Body>;

/// Builds the pooled keep-alive client.
pub fn build_client(cfg: &UpstreamConfig, provider: Arc<CryptoProvider>) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(cfg.connect_timeout));
    connector.set_keepalive(Some(Duration::from_secs(60)));
    connector.enforce_http(false);
    let tls = HttpsConnectorBuilder::new()
        .with_tls_config(client_tls(cfg, provider))
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(cfg.pool_idle_timeout)
        .pool_max_idle_per_host(cfg.pool_max_idle)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(tls)
}

/// The rustls client config: the CA file's roots, or the system's.
fn client_tls(cfg: &UpstreamConfig, provider: Arc<CryptoProvider>) -> rustls::ClientConfig {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match &cfg.ca_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem).flatten() {
                if let Err(e) = roots.add(cert) {
                    tracing::warn!(error = %e, "a certificate of upstream.ca_file is not usable");
                }
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 && cfg.scheme == http::uri::Scheme::HTTPS {
                tracing::warn!("no system CA certificates found; set upstream.ca_file");
            }
        }
    }
    rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the crypto provider (ring) supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
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
