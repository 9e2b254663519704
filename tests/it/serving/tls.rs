//! TLS: the public port with a certificate from a CA made in the test —
//! TLS 1.3 and 1.2 accepted, TLS 1.1 refused, ALPN offering h2 — the
//! handshake deadline, the certificate swapped under traffic through a
//! Kubernetes-style `..data` symlink without dropping open connections, a
//! bad new pair refused with the old one kept, and `https://` apps trusted
//! through `[upstream] ca_file`.

use crate::support;

use http::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, ServerName};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const GUARD: Duration = Duration::from_secs(15);

/// A test CA that issues `localhost` certificates.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "scim-sidecar test CA");
        let cert = params.self_signed(&key).unwrap();
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `localhost`: (cert PEM, key PEM, cert DER).
    fn leaf(&self, cn: &str) -> (String, String, CertificateDer<'static>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem(), cert.der().clone())
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn connector(ca: &Ca, versions: &[&'static rustls::SupportedProtocolVersion]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice_compat(&ca.pem))
        .unwrap();
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // Every handshake is a full one, so each shows the certificate served now.
    cfg.resumption = rustls::client::Resumption::disabled();
    TlsConnector::from(Arc::new(cfg))
}

trait PemCompat {
    fn from_pem_slice_compat(pem: &str) -> CertificateDer<'static>;
}

impl PemCompat for CertificateDer<'static> {
    fn from_pem_slice_compat(pem: &str) -> CertificateDer<'static> {
        use rustls::pki_types::pem::PemObject;
        CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
    }
}

async fn tls_connect(addr: std::net::SocketAddr, c: &TlsConnector) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    c.connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake")
}

/// One HTTP/1.1 request on an open TLS stream; returns the status line.
async fn get_on(s: &mut TlsStream<TcpStream>) -> String {
    s.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    // The upstream answers "ok" with a content-length: read to its end.
    while !got.ends_with(b"ok") {
        let n = tokio::time::timeout(GUARD, s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "connection closed: {}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn leaf_of(s: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    s.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

/// A Kubernetes Secret volume: `..data` → `..vN`, files linked through it.
struct SecretDir(TempDir, usize);

impl SecretDir {
    fn new(name: &str, cert: &str, key: &str) -> Self {
        let mut d = Self(temp_dir(name), 0);
        d.publish(cert, key);
        std::os::unix::fs::symlink("..data/tls.crt", d.0.join("tls.crt")).unwrap();
        std::os::unix::fs::symlink("..data/tls.key", d.0.join("tls.key")).unwrap();
        d
    }

    /// Writes version N+1 and swaps `..data` to it atomically.
    fn publish(&mut self, cert: &str, key: &str) {
        self.1 += 1;
        let v = format!("..v{}", self.1);
        std::fs::create_dir(self.0.join(&v)).unwrap();
        std::fs::write(self.0.join(&v).join("tls.crt"), cert).unwrap();
        std::fs::write(self.0.join(&v).join("tls.key"), key).unwrap();
        let tmp = self.0.join("..data_tmp");
        std::os::unix::fs::symlink(&v, &tmp).unwrap();
        std::fs::rename(&tmp, self.0.join("..data")).unwrap();
    }

    fn path(&self, f: &str) -> String {
        self.0.join(f).display().to_string()
    }
}

/// Writes a config with `[server.tls]` next to nothing else and loads it
/// from the file, as the binary does.
fn tls_config(
    up: std::net::SocketAddr,
    secret: &SecretDir,
    extra: &str,
) -> (TempDir, PathBuf, scim_sidecar::Config) {
    let text = config_text(up, "").replace(
        "drain_timeout = \"5s\"",
        &format!(
            "drain_timeout = \"5s\"\n\n[server.tls]\ncert = \"{}\"\nkey = \"{}\"\n{extra}\n",
            secret.path("tls.crt"),
            secret.path("tls.key")
        ),
    );
    let dir = temp_dir("tls-config");
    let path = dir.join("sidecar.toml");
    std::fs::write(&path, text).unwrap();
    let config = scim_sidecar::Config::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
    (dir, path, config)
}

async fn ok_app() -> std::net::SocketAddr {
    upstream(|_req| async { Response::new(body("ok")) }).await
}

#[tokio::test]
async fn tls_13_and_12_served_with_alpn_and_tls_11_refused() {
    let ca = Ca::new();
    let (cert, key, der) = ca.leaf("one");
    let secret = SecretDir::new("tls-versions", &cert, &key);
    let (_dir, _, config) = tls_config(ok_app().await, &secret, "");
    let sc = start(config).await;

    let mut s13 = tls_connect(sc.addr, &connector(&ca, &[&rustls::version::TLS13])).await;
    assert_eq!(
        s13.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_3)
    );
    assert_eq!(s13.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(leaf_of(&s13), der);
    drop(s13.shutdown().await);

    let mut only_h1 = connector(&ca, &[&rustls::version::TLS12]);
    let mut cfg = (*only_h1.config().clone()).clone();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    only_h1 = TlsConnector::from(Arc::new(cfg));
    let mut s12 = tls_connect(sc.addr, &only_h1).await;
    assert_eq!(
        s12.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert!(get_on(&mut s12).await.starts_with("HTTP/1.1 200"));

    // HTTP/2 by ALPN, end to end.
    let s = tls_connect(sc.addr, &connector(&ca, &[&rustls::version::TLS13])).await;
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(s))
            .await
            .unwrap();
    tokio::spawn(conn);
    let resp = sender
        .send_request(Request::get("https://localhost/").body(body("")).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), http::Version::HTTP_2);

    // A TLS 1.1 ClientHello gets an alert (or a close), never a ServerHello.
    let mut raw = TcpStream::connect(sc.addr).await.unwrap();
    let mut hello = vec![0x16, 0x03, 0x01, 0x00, 47, 0x01, 0x00, 0x00, 43, 0x03, 0x02];
    hello.extend_from_slice(&[7u8; 32]);
    hello.extend_from_slice(&[0x00, 0x00, 0x04, 0x00, 0x2f, 0x00, 0x35, 0x01, 0x00]);
    raw.write_all(&hello).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(GUARD, raw.read_to_end(&mut answer)).await;
    assert!(
        answer.is_empty() || answer[0] == 0x15,
        "not refused: {answer:?}"
    );
}

#[tokio::test]
async fn an_unfinished_handshake_is_cut_at_its_deadline() {
    let ca = Ca::new();
    let (cert, key, _) = ca.leaf("one");
    let secret = SecretDir::new("tls-deadline", &cert, &key);
    let (_dir, _, config) = tls_config(ok_app().await, &secret, "handshake_timeout = \"300ms\"");
    let sc = start(config).await;
    let mut silent = TcpStream::connect(sc.addr).await.unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(GUARD, silent.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "the handshake had no deadline");
}

#[tokio::test]
async fn certificate_is_swapped_under_traffic_and_a_bad_one_refused() {
    let ca = Ca::new();
    let (cert1, key1, der1) = ca.leaf("first");
    let (cert2, key2, der2) = ca.leaf("second");
    let (cert3, _, _) = ca.leaf("third");
    let mut secret = SecretDir::new("tls-reload", &cert1, &key1);
    let (_dir, path, config) = tls_config(ok_app().await, &secret, "");
    let server = scim_sidecar::Server::bind(scim_sidecar::State::new(config))
        .await
        .unwrap();
    let certs = server.certs();
    let (sc, state) = start_server(server).await;
    let _reloader = scim_sidecar::runtime::Reloader::spawn(path, state.clone(), certs);
    let mut reloads = state.reloads();
    let c = connector(&ca, &[&rustls::version::TLS13]);
    let mut h1 = (*c.config().clone()).clone();
    h1.alpn_protocols = vec![b"http/1.1".to_vec()];
    let h1 = TlsConnector::from(Arc::new(h1));

    let mut open = tls_connect(sc.addr, &h1).await;
    assert!(get_on(&mut open).await.starts_with("HTTP/1.1 200"));
    assert_eq!(leaf_of(&open), der1);

    // Traffic keeps flowing on fresh connections during the swap.
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let (addr, hc) = (sc.addr, h1.clone());
    let traffic = tokio::spawn(async move {
        let mut served = 0;
        while !*stopped.borrow_and_update() {
            let mut s = tls_connect(addr, &hc).await;
            assert!(get_on(&mut s).await.starts_with("HTTP/1.1 200"));
            served += 1;
        }
        served
    });

    secret.publish(&cert2, &key2);
    reloaded(&mut reloads, |s| s.certs_applied == 1).await;
    let fresh = tls_connect(sc.addr, &c).await;
    assert_eq!(leaf_of(&fresh), der2);
    // The connection opened before the swap still works.
    assert!(get_on(&mut open).await.starts_with("HTTP/1.1 200"));

    // A certificate with someone else's key is refused; the second stays.
    secret.publish(&cert3, &key1);
    reloaded(&mut reloads, |s| s.certs_rejected == 1).await;
    let after = tls_connect(sc.addr, &c).await;
    assert_eq!(leaf_of(&after), der2);

    stop.send(true).unwrap();
    assert!(traffic.await.unwrap() > 0);
    assert_eq!(reloads.borrow().certs_applied, 1);
}

#[tokio::test]
async fn https_apps_are_trusted_through_ca_file() {
    let ca = Ca::new();
    let (cert, key, _) = ca.leaf("app");
    let app = tls_app(&cert, &key).await;
    let dir = temp_dir("upstream-ca");
    std::fs::write(dir.join("app-ca.pem"), &ca.pem).unwrap();
    let text = config_text(app, "").replace(
        &format!("http://{app}"),
        &format!("https://localhost:{}", app.port()),
    );
    let with_ca = text.replace(
        &format!("url = \"https://localhost:{}\"", app.port()),
        &format!(
            "url = \"https://localhost:{}\"\nca_file = \"app-ca.pem\"",
            app.port()
        ),
    );
    std::fs::write(dir.join("with-ca.toml"), &with_ca).unwrap();
    std::fs::write(dir.join("without.toml"), &text).unwrap();

    let sc = start(scim_sidecar::Config::from_file(&dir.join("with-ca.toml")).unwrap()).await;
    let (parts, bytes) = send(
        &client(),
        Request::get(sc.url("/hello")).body(body("")).unwrap(),
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(&bytes[..], b"over tls");

    // The system roots do not know the test CA.
    let sc = start(scim_sidecar::Config::from_file(&dir.join("without.toml")).unwrap()).await;
    let (parts, _) = send(
        &client(),
        Request::get(sc.url("/hello")).body(body("")).unwrap(),
    )
    .await;
    assert_eq!(parts.status, StatusCode::BAD_GATEWAY);
}

/// An HTTPS app on 127.0.0.1 with a `localhost` certificate.
async fn tls_app(cert: &str, key: &str) -> std::net::SocketAddr {
    use rustls::pki_types::PrivateKeyDer;
    use rustls::pki_types::pem::PemObject;
    let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap();
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(|_req| async {
                    Ok::<_, std::convert::Infallible>(Response::new(body("over tls")))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    addr
}
