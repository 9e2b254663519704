//! Outbound HTTP: the sidecar's one client stack, used for calls to the
//! app (`upstream`) and for webhook deliveries (`telemetry::webhook`).
//! Each use builds its own [`HttpClient`] from [`Settings`] — whom it
//! trusts, its connect deadline, how long and how many idle connections
//! it keeps — over the same connector: HTTP/1.1 (pass-through upgrades
//! need it), plain or over rustls (TLS 1.2 and 1.3, RFC 8446, `http/1.1`
//! by ALPN), with connections kept alive and reused (see [`pool`]). The
//! client has no request deadline; callers wrap each call in the deadline
//! that fits it.

pub mod pool;

pub use pool::{Checkin, HttpClient, PoolError, PooledBody, Settings};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;

/// The TLS settings of every outbound connection: TLS 1.3 and 1.2,
/// `http/1.1` by ALPN, servers verified against `roots`.
pub fn tls_config(roots: RootCertStore, provider: Arc<CryptoProvider>) -> rustls::ClientConfig {
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .expect("the crypto provider (ring) supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    tls
}

/// The system's CA certificates (none, when the system has none: the
/// caller says what that means for it).
pub fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    roots
}

/// The certificates of a PEM file; one that cannot be used is skipped
/// with a warning naming `setting`, the key the file was given by.
pub fn pem_roots(pem: &[u8], setting: &str) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem).flatten() {
        if let Err(e) = roots.add(cert) {
            tracing::warn!(error = %e, "a certificate of {setting} is not usable");
        }
    }
    roots
}
