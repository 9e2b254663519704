//! TLS on the public port (rustls; TLS 1.2 and 1.3 only, RFC 8446; ALPN
//! `h2` and `http/1.1`, RFC 7301). The certificate is served from a
//! [`CertStore`] that swaps its key pair atomically: when the PEM files
//! change (a cert-manager renewal, a Kubernetes Secret update) the new pair
//! is loaded and checked — parsable, non-empty chain, private key matching
//! the leaf — and only then used by new handshakes. A bad pair is refused,
//! logged, and the old one stays. Connections already open are untouched.

use crate::config::TlsConfig;
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_rustls::TlsAcceptor;

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The certificate file holds no usable PEM certificate.
    #[error("{0}: no PEM certificate found")]
    NoCertificate(String),
    /// The key file holds no usable PEM private key.
    #[error("{0}: no PEM private key found")]
    NoKey(String),
    /// rustls refused the pair (e.g. the key does not match the leaf).
    #[error("the certificate and key are not a usable pair: {0}")]
    Pair(rustls::Error),
}

/// The served certificate, swappable while serving.
#[derive(Debug)]
pub struct CertStore {
    current: ArcSwap<CertifiedKey>,
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    loaded: Mutex<[u8; 32]>,
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

impl CertStore {
    /// Loads the pair named by `[server.tls]`.
    pub fn load(cfg: &TlsConfig, provider: Arc<CryptoProvider>) -> Result<Arc<Self>, TlsError> {
        let (pair, digest) = read_pair(&cfg.cert, &cfg.key, &provider)?;
        Ok(Arc::new(Self {
            current: ArcSwap::from_pointee(pair),
            cert: cfg.cert.clone(),
            key: cfg.key.clone(),
            provider,
            loaded: Mutex::new(digest),
        }))
    }

    /// Re-reads the files: `Ok(true)` when a new pair is now served,
    /// `Ok(false)` when the files did not change, `Err` (old pair kept)
    /// when the new files are not a usable pair.
    pub fn reload(&self) -> Result<bool, TlsError> {
        let (pair, digest) = read_pair(&self.cert, &self.key, &self.provider)?;
        let mut loaded = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if *loaded == digest {
            return Ok(false);
        }
        self.current.store(Arc::new(pair));
        *loaded = digest;
        Ok(true)
    }

    /// The directories to watch for changes of the pair.
    pub fn watched(&self) -> Vec<PathBuf> {
        vec![self.cert.clone(), self.key.clone()]
    }

    /// The acceptor for the public listener.
    pub fn acceptor(self: &Arc<Self>) -> TlsAcceptor {
        let mut cfg = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .expect("the crypto provider (ring) supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        TlsAcceptor::from(Arc::new(cfg))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Reads and checks a pair; the digest covers both files.
fn read_pair(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
) -> Result<(CertifiedKey, [u8; 32]), TlsError> {
    let (cert_pem, key_pem) = (read(cert)?, read(key)?);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::NoCertificate(cert.display().to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.display().to_string()));
    }
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| TlsError::NoKey(key.display().to_string()))?;
    let pair = CertifiedKey::from_der(chain, key_der, provider).map_err(TlsError::Pair)?;
    let mut h = Sha256::new();
    h.update(&cert_pem);
    h.update([0]);
    h.update(&key_pem);
    Ok((pair, h.finalize().into()))
}
