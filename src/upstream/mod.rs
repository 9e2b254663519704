//! The pooled HTTP client to the app, shared by pass-through and SCIM calls,
//! and the classification of its failures: the app unreachable → 502, the
//! app too slow → 504, an app answer over the size limit → 502 naming the
//! limit, a client's broken request body → 400. The client itself has no
//! deadline; callers wrap each call in the deadline that fits it.
//!
//! `https://` apps are reached over rustls (TLS 1.2 and 1.3, RFC 8446)
//! with HTTP/1.1 (pass-through upgrades need it), trusting `[upstream]
//! ca_file` when set and the system roots otherwise. Connections are kept
//! alive and reused, see [`pool`].

mod pool;

use crate::config::UpstreamConfig;
use http::{Request, Response, StatusCode};
use rustls::crypto::CryptoProvider;
use std::sync::Arc;
use std::time::Duration;

pub use pool::{HttpClient, PooledBody};

/// Builds the pooled keep-alive client.
pub fn build_client(cfg: &UpstreamConfig, provider: Arc<CryptoProvider>) -> HttpClient {
    HttpClient::new(pool::Settings {
        tls: Arc::new(client_tls(cfg, provider)),
        connect_timeout: cfg.connect_timeout,
        idle_timeout: cfg.pool_idle_timeout,
        max_idle: cfg.pool_max_idle,
    })
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
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the crypto provider (ring) supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    tls
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
    req: Request<crate::body::Body>,
    deadline: Duration,
) -> Result<Response<PooledBody>, UpstreamError> {
    match tokio::time::timeout(deadline, client.request(req)).await {
        Err(_) => Err(UpstreamError::Timeout(deadline)),
        Ok(Err(e)) => Err(UpstreamError::Unreachable(describe(&e))),
        Ok(Ok(resp)) => Ok(resp),
    }
}

/// A short cause chain for logs (no request data in it).
fn describe(e: &pool::PoolError) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
