//! Shared test support: starts the real sidecar (`Server::bind` + `serve`)
//! on 127.0.0.1:0 in-process, in-test apps ([`app`]: one builder for the
//! handler apps and the bundled example app, with request recording
//! ([`record`]) and the fault-injecting proxy ([`faults`])), a pooled HTTP
//! client, and the one SCIM request helper ([`call`], [`call_with`], and
//! [`call_raw`] for requests only a hand can build) that checks every
//! answer as a strict SCIM client would ([`strict`]). Everything
//! synchronises on bound listeners and channels, never on sleeps.
#![allow(dead_code)]

pub mod app;
pub mod faults;
pub mod record;
pub mod redis;
pub mod strict;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use scim_sidecar::body::Body;
use scim_sidecar::{Config, Server, State};
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The demo bearer token used by test configs.
pub const TOKEN: &str = "test-token-0123456789abcdefghijklmnopqrstuv";

/// A running sidecar.
pub struct Sidecar {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<Result<(), scim_sidecar::ServeError>>,
    /// The bearer token [`call`] sends.
    pub token: String,
    /// Headers [`call`] sends with every request (an IdP's own, say).
    pub headers: Vec<(String, String)>,
    discovery: tokio::sync::OnceCell<strict::Discovery>,
}

impl Sidecar {
    /// The same sidecar, called with another bearer token.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = token.to_owned();
        self
    }

    /// The same sidecar, called with these headers on every request.
    pub fn with_headers(mut self, headers: &[(&str, &str)]) -> Self {
        self.headers = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self
    }

    /// `http://127.0.0.1:port` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Signals shutdown (graceful drain follows).
    pub fn shutdown(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A config text for a sidecar in front of `upstream`, with `extra` TOML
/// appended (tables such as `[users]`).
pub fn config_text(upstream: SocketAddr, extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
drain_timeout = "5s"

[upstream]
url = "http://{upstream}"

[[connections]]
id = "okta-test"
idp = "okta"
tokens = ["{hash}"]
{extra}
"#,
        hash = scim_sidecar::auth::token_hash_string(TOKEN)
    )
}

/// Loads a config text (panicking with the rendered errors if invalid).
pub fn load(text: &str) -> Config {
    let env = |name: &str| std::env::var(name).ok();
    Config::from_toml(text, &env).unwrap_or_else(|e| panic!("{}", e.render("test.toml", text)))
}

/// Starts the sidecar with a config.
pub async fn start(config: Config) -> Sidecar {
    let server = Server::bind(State::new(config)).await.expect("bind");
    let addr = server.local_addr();
    let admin = server.admin_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    Sidecar {
        addr,
        admin,
        stop: Some(stop),
        task,
        token: TOKEN.to_owned(),
        headers: Vec::new(),
        discovery: tokio::sync::OnceCell::new(),
    }
}

/// A SCIM answer.
#[derive(Debug)]
pub struct Reply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: serde_json::Value,
}

/// Sends a SCIM request with the sidecar's token (and a SCIM media type
/// when there is a body); the answer is checked as a strict SCIM client
/// would before it is returned.
pub async fn call(
    sc: &Sidecar,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (http::StatusCode, serde_json::Value) {
    let r = call_with(sc, method, path, body, &[]).await;
    (r.status, r.body)
}

/// Like [`call`], with extra request headers (after the sidecar's own
/// [`Sidecar::headers`]), returning the answer's headers too.
pub async fn call_with(
    sc: &Sidecar,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut req = scim(method, &sc.url(path), body);
    let auth = format!("Bearer {}", sc.token).parse().unwrap();
    req.headers_mut().insert("authorization", auth);
    let own = sc.headers.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    for (k, v) in own.chain(headers.iter().copied()) {
        let name = http::HeaderName::from_bytes(k.as_bytes()).unwrap();
        req.headers_mut().insert(name, v.parse().unwrap());
    }
    call_raw(sc, req).await
}

/// Sends a request built by hand, for what [`call_with`] cannot send (no
/// `Authorization` header, a body that is not JSON, another media type),
/// and checks the answer as [`call_with`] does.
pub async fn call_raw(sc: &Sidecar, req: Request<Body>) -> Reply {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let (parts, bytes) = send(&client(), req).await;
    let body = if bytes.is_empty() {
        serde_json::Value::Null
    } else {
        json(&bytes)
    };
    if let Some(d) = discovery(sc, &path).await {
        let what = format!("{method} {path}");
        strict::check(d, parts.status.as_u16(), &parts.headers, &body, &what);
    }
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// The sidecar's own `/Schemas` and `/ResourceTypes`, read once, for the
/// SCIM base path that `path` lies under; both documents are checked
/// themselves (RFC 7643 §6, §7) before anything is checked against them.
async fn discovery<'s>(sc: &'s Sidecar, path: &str) -> Option<&'s strict::Discovery> {
    let base = scim_base(path)?;
    let d = sc
        .discovery
        .get_or_init(|| async {
            let get = |what: &str| {
                let url = sc.url(&format!("{base}/{what}"));
                let token = sc.token.clone();
                async move {
                    let mut req = scim("GET", &url, None);
                    req.headers_mut()
                        .insert("authorization", format!("Bearer {token}").parse().unwrap());
                    let (parts, bytes) = send(&client(), req).await;
                    assert_eq!(parts.status, 200, "GET {url}");
                    (url, parts.headers, json(&bytes))
                }
            };
            let schemas = get("Schemas").await;
            let types = get("ResourceTypes").await;
            let resources =
                |v: &serde_json::Value| v["Resources"].as_array().cloned().unwrap_or_default();
            let d = strict::Discovery {
                schemas: resources(&schemas.2),
                resource_types: resources(&types.2),
            };
            for (url, headers, body) in [&schemas, &types] {
                strict::check(&d, 200, headers, body, &format!("GET {url}"));
            }
            d
        })
        .await;
    Some(d)
}

/// The SCIM base path of a request path (everything before its endpoint).
fn scim_base(path: &str) -> Option<String> {
    let path = path.split('?').next()?;
    let endpoints = [
        "users",
        "groups",
        "schemas",
        "resourcetypes",
        "serviceproviderconfig",
        "me",
        "bulk",
        ".search",
    ];
    let segments: Vec<&str> = path.split('/').collect();
    let i = segments
        .iter()
        .position(|s| endpoints.contains(&s.to_ascii_lowercase().as_str()))?;
    Some(segments[..i].join("/"))
}

/// Starts an in-test upstream serving `handler`; returns its address.
/// The server runs until the test's runtime ends.
pub async fn upstream<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let h = handler.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let h = h.clone();
                    async move { Ok::<_, Infallible>(h(req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// A pooled HTTP/1.1 client.
pub fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// An HTTP/2 prior-knowledge client.
pub fn h2_client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(HttpConnector::new())
}

/// A body from bytes.
pub fn body(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|n| match n {}).boxed()
}

/// Sends a request and collects the response.
pub async fn send(
    client: &Client<HttpConnector, Body>,
    req: Request<Body>,
) -> (http::response::Parts, Bytes) {
    let resp = client.request(req).await.expect("request");
    let (parts, b) = resp.into_parts();
    let bytes = b.collect().await.expect("body").to_bytes();
    (parts, bytes)
}

/// Parses a JSON body.
pub fn json(bytes: &Bytes) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

/// A port that nothing listens on, and nothing else in this process can
/// take: a socket stays bound to it without listening (a connection is
/// refused with a reset) for the rest of the test run. A port released
/// after binding could be handed to another test's listener meanwhile.
pub async fn closed_port() -> SocketAddr {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let a = socket.local_addr().unwrap();
    // Held, not listening, until the test process exits.
    std::mem::forget(socket);
    a
}

/// The bundled example app, included from `examples/`.
#[path = "../../../examples/demo_app/mod.rs"]
pub mod demo_app;

/// The example app's API key in tests.
pub const APP_KEY: &str = "demo-app-key";

/// Starts the bundled example app (seeded) and a sidecar in front of it
/// configured by `config/example.toml` (ports replaced by test ports).
pub async fn start_example() -> (Sidecar, demo_app::DemoApp) {
    start_example_with(|t| t).await
}

/// Starts the bundled example app (seeded) behind a fault-injecting proxy,
/// and a sidecar in front configured by `config/example.toml` edited by
/// `edit`.
pub async fn start_example_faulty(
    edit: impl FnOnce(String) -> String,
) -> (Sidecar, demo_app::DemoApp, faults::FaultProxy) {
    start_faulty_with(example_text(), edit).await
}

/// Like [`start_example_faulty`], with the config `text` written for the
/// bundled app at its usual addresses (`config/example.toml`, or
/// [`drafted_example`]).
pub async fn start_faulty_with(
    text: String,
    edit: impl FnOnce(String) -> String,
) -> (Sidecar, demo_app::DemoApp, faults::FaultProxy) {
    let (app, proxy) = app::App::example(APP_KEY).serve_behind_faults().await;
    let config = config_for_example(text, &proxy.addr.to_string(), edit);
    let sc = start(config).await.with_token(EXAMPLE_TOKEN);
    (sc, app, proxy)
}

/// A sidecar configured by `config/example.toml` for an app at `app`.
pub async fn start_example_config(app: &str, edit: impl FnOnce(String) -> String) -> Sidecar {
    start(example_config(app, edit))
        .await
        .with_token(EXAMPLE_TOKEN)
}

/// The text of `config/example.toml`.
pub fn example_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml")).unwrap()
}

/// The config `scim-sidecar draft --openapi
/// http://127.0.0.1:3000/openapi.json --listen 127.0.0.1:8080` writes for
/// the bundled app from its own OpenAPI document (`examples/demo_app/
/// openapi.json`, served at `/openapi.json`), unedited.
pub fn drafted_example() -> String {
    let settings = scim_sidecar::draft::Settings {
        app_url: Some("http://127.0.0.1:3000".into()),
        listen: "127.0.0.1:8080".into(),
        idp: "okta".into(),
    };
    scim_sidecar::draft::draft_text(demo_app::OPENAPI, &settings)
        .unwrap_or_else(|e| panic!("the bundled app's document does not draft: {e}"))
}

/// The variable a draft's `[[connections]]` reads its token hash from.
pub const SCIM_TOKEN_SHA256: &str = "SCIM_TOKEN_SHA256";

/// The config of `config/example.toml` for an app at `app` (ports
/// replaced by test ports), edited by `edit`.
pub fn example_config(app: &str, edit: impl FnOnce(String) -> String) -> Config {
    config_for_example(example_text(), app, edit)
}

/// A config `text` written for the bundled app at its usual addresses,
/// for an app at `app` (ports replaced by test ports), edited by `edit`;
/// `${APP_API_KEY}` is the app's key and `${SCIM_TOKEN_SHA256}` the hash
/// of [`EXAMPLE_TOKEN`].
pub fn config_for_example(text: String, app: &str, edit: impl FnOnce(String) -> String) -> Config {
    let text = text
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:9090", "127.0.0.1:0")
        .replace("127.0.0.1:3000", app);
    let text = edit(text);
    let env = |name: &str| match name {
        "APP_API_KEY" => Some(APP_KEY.to_string()),
        SCIM_TOKEN_SHA256 => Some(scim_sidecar::auth::token_hash_string(EXAMPLE_TOKEN)),
        _ => None,
    };
    Config::from_toml(&text, &env).unwrap_or_else(|e| panic!("{}", e.render("example.toml", &text)))
}

/// Starts the bundled example app (seeded); returns it and its address.
pub async fn start_example_app() -> (demo_app::DemoApp, SocketAddr) {
    app::App::example(APP_KEY).serve_example().await
}

/// Like [`start_example`], with the config text edited first.
pub async fn start_example_with(
    edit: impl FnOnce(String) -> String,
) -> (Sidecar, demo_app::DemoApp) {
    let (app, app_addr) = start_example_app().await;
    let sc = start_example_config(&app_addr.to_string(), edit).await;
    (sc, app)
}

/// The bearer token of `config/example.toml` (printed by the quickstart).
pub const EXAMPLE_TOKEN: &str = "demo-token-for-local-testing-only-change-me";

/// A SCIM request builder with the example token and SCIM media type.
fn scim(method: &str, url: &str, body: Option<serde_json::Value>) -> Request<Body> {
    let b = Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {EXAMPLE_TOKEN}"))
        .header("accept", "application/scim+json");
    match body {
        Some(v) => b
            .header("content-type", "application/scim+json; charset=utf-8")
            .body(body_bytes(serde_json::to_vec(&v).unwrap()))
            .unwrap(),
        None => b.body(body_bytes(Vec::new())).unwrap(),
    }
}

fn body_bytes(v: Vec<u8>) -> Body {
    Full::new(Bytes::from(v)).map_err(|n| match n {}).boxed()
}

/// Starts the sidecar and returns its shared state too (for reload tests).
pub async fn start_with_state(config: Config) -> (Sidecar, std::sync::Arc<State>) {
    start_server(Server::bind(State::new(config)).await.expect("bind")).await
}

/// Serves an already bound server.
pub async fn start_server(server: Server) -> (Sidecar, std::sync::Arc<State>) {
    let addr = server.local_addr();
    let admin = server.admin_addr();
    let state = server.state();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve(async move {
        let _ = stopped.await;
    }));
    let sc = Sidecar {
        addr,
        admin,
        stop: Some(stop),
        task,
        token: TOKEN.to_owned(),
        headers: Vec::new(),
        discovery: tokio::sync::OnceCell::new(),
    };
    (sc, state)
}

/// A fresh, empty directory for one test, removed with everything in it
/// when the guard is dropped (also when the test fails).
pub fn temp_dir(name: &str) -> TempDir {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("scim-sidecar-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    TempDir(dir)
}

/// A directory removed on drop; derefs to its path.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Waits until the reload counters satisfy `done`.
pub async fn reloaded(
    rx: &mut tokio::sync::watch::Receiver<scim_sidecar::runtime::ReloadStats>,
    done: impl Fn(&scim_sidecar::runtime::ReloadStats) -> bool,
) -> scim_sidecar::runtime::ReloadStats {
    let waited = tokio::time::timeout(std::time::Duration::from_secs(20), rx.wait_for(|s| done(s)))
        .await
        .expect("no reload within 20s")
        .expect("state dropped");
    *waited
}

/// Log output captured in memory: a `MakeWriter` for
/// `scim_sidecar::telemetry::logs::dispatch`.
#[derive(Clone, Default)]
pub struct LogBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuf {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The lines written so far, parsed as JSON.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Captures JSON logs at `filter` on this thread until the guard drops
    /// (use it from a current-thread `#[tokio::test]`).
    pub fn capture(&self, filter: &str) -> tracing::dispatcher::DefaultGuard {
        // tracing-core computes a callsite's interest with the current
        // thread's dispatcher alone while only one dispatcher exists; a
        // callsite first hit on another test's thread would then be cached
        // as disabled for ours too. A second, never-dropped dispatcher
        // makes it ask every live dispatcher instead.
        static SECOND: std::sync::OnceLock<tracing::Dispatch> = std::sync::OnceLock::new();
        SECOND.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
        let b = self.clone();
        let d = scim_sidecar::telemetry::logs::dispatch(
            scim_sidecar::telemetry::LogFormat::Json,
            tracing_subscriber::EnvFilter::new(filter),
            move || b.clone(),
            false,
        );
        tracing::dispatcher::set_default(&d)
    }
}

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads the admin port's `/metrics` (Prometheus text, as scrapers that
/// do not ask for OpenMetrics get it).
pub async fn metrics_text(sc: &Sidecar) -> String {
    let req = Request::get(format!("http://{}/metrics", sc.admin))
        .body(body(Vec::new()))
        .unwrap();
    let (parts, bytes) = send(&client(), req).await;
    assert_eq!(parts.status, 200);
    assert_eq!(
        parts.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8",
        "{:?}",
        parts.headers
    );
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The value of one series (`name{labels}` exactly as exposed), if present.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (s, v) = l.rsplit_once(' ')?;
        (s == series).then(|| v.parse().ok()).flatten()
    })
}

/// The sum of every series of family `name` (any labels).
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// Held by the tests that time answers against a deadline (the fault
/// matrix) and by the tests that start several sidecar processes at once
/// (the replicas), so the ones never run beside the others on a small
/// machine: a test's timing is then its own.
static APART: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Takes [`APART`] for the rest of the test.
pub async fn apart() -> tokio::sync::MutexGuard<'static, ()> {
    APART.lock().await
}
