//! The pieces of the reload-trigger tests: a sidecar served by
//! `serve_with_reload` as the binary runs it (its reload log captured
//! in-process), Kubernetes-style volumes updated the way the kubelet's
//! AtomicWriter does, a neighbour that keeps writing, and a spy that
//! counts who opens which file.

use crate::support::{LogBuf, body, client, send};
use http::{Request, StatusCode};
use notify::event::{AccessKind, EventKind};
use notify::{RecursiveMode, Watcher};
use scim_sidecar::runtime::ReloadStats;
use scim_sidecar::{Config, Server, State};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Deadline of waits that only synchronise (never reached when all is well).
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A config in front of `up` whose one connection, `okta-test`, has the
/// tokens given by `tokens` (`tokens = [...]` and/or `token_files = [...]`).
/// Failed authentications are not rate-limited: the tests hammer old tokens.
pub fn config(up: SocketAddr, tokens: &str, scim: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
drain_timeout = "5s"

[scim]
failed_auth_limit = {{ requests_per_second = 10000, burst = 1000000 }}
{scim}

[upstream]
url = "http://{up}"

[[connections]]
id = "okta-test"
idp = "okta"
{tokens}
"#
    )
}

/// `sha256:<hex>` of a token.
pub fn hash(token: &str) -> String {
    scim_sidecar::auth::token_hash_string(token)
}

/// Replaces a file atomically, as editors do.
pub fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A sidecar served by `serve_with_reload`.
pub struct Running {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub state: Arc<State>,
    pub logs: LogBuf,
    hup: mpsc::Sender<()>,
    _stop: oneshot::Sender<()>,
}

impl Running {
    /// Loads `path` and serves it with reloads; `logs` must capture on
    /// this thread (a current-thread test runtime).
    pub async fn start(path: &Path, logs: &LogBuf) -> Self {
        let config = Config::from_file(path).unwrap_or_else(|e| panic!("{e}"));
        let server = Server::bind(State::new(config)).await.unwrap();
        let (addr, admin, state) = (server.local_addr(), server.admin_addr(), server.state());
        let (hup, reloads) = mpsc::channel(1);
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        tokio::spawn(scim_sidecar::serve_with_reload(
            server,
            path.to_path_buf(),
            shutdown,
            reloads,
        ));
        Self {
            addr,
            admin,
            state,
            logs: logs.clone(),
            hup,
            _stop: stop,
        }
    }

    /// The status of a discovery GET below `base` with `token`.
    pub async fn status(&self, base: &str, token: &str) -> StatusCode {
        let req = Request::get(format!("http://{}{base}/ServiceProviderConfig", self.addr))
            .header("authorization", format!("Bearer {token}"))
            .body(body(""))
            .unwrap();
        send(&client(), req).await.0.status
    }

    /// The admin port's `/metrics` text.
    pub async fn metrics(&self) -> String {
        let req = Request::get(format!("http://{}/metrics", self.admin))
            .body(body(""))
            .unwrap();
        let (parts, bytes) = send(&client(), req).await;
        assert_eq!(parts.status, StatusCode::OK);
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// What SIGHUP does in the binary.
    pub async fn hup(&self) {
        self.hup.send(()).await.unwrap();
    }

    /// The reload log lines with `message`.
    pub fn lines(&self, message: &str) -> Vec<serde_json::Value> {
        self.logs
            .json_lines()
            .into_iter()
            .filter(|l| l["message"] == message)
            .collect()
    }

    /// Every reload log line, as `level message trigger`.
    pub fn all_lines(&self) -> Vec<String> {
        self.logs
            .json_lines()
            .iter()
            .map(|l| format!("{} {} {}", l["level"], l["message"], l["trigger"]))
            .collect()
    }

    /// The reload counters.
    pub fn stats(&self) -> ReloadStats {
        *self.state.reloads().borrow()
    }

    /// Waits until `n` lines with `message` were logged.
    pub async fn wait_lines(&self, message: &str, n: usize) {
        let start = tokio::time::Instant::now();
        while self.lines(message).len() < n {
            assert!(
                start.elapsed() < PATIENCE,
                "no {n} `{message}` lines within {PATIENCE:?}: {:?}",
                self.all_lines()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Polls `base` with `token` until it answers `want`; how long that took.
    pub async fn wait_status(&self, base: &str, token: &str, want: StatusCode) -> Duration {
        let start = tokio::time::Instant::now();
        loop {
            if self.status(base, token).await == want {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < PATIENCE,
                "{base} never answered {want} to that token: {:?}",
                self.all_lines()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A Kubernetes ConfigMap or Secret volume as the kubelet's AtomicWriter
/// lays it out: the files are symlinks `name -> ..data/name`, `..data` is
/// a symlink to a timestamped directory, and an update writes a new such
/// directory, points `..data_tmp` at it, renames that over `..data` and
/// removes the old directory.
pub struct Volume {
    pub dir: PathBuf,
    version: usize,
}

impl Volume {
    /// A volume in `dir` (created) holding `files`.
    pub fn new(dir: PathBuf, files: &[(&str, &str)]) -> Self {
        std::fs::create_dir_all(&dir).unwrap();
        let mut v = Self { dir, version: 0 };
        v.publish(files);
        v
    }

    /// The path a container sees for `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Publishes new contents, atomically.
    pub fn publish(&mut self, files: &[(&str, &str)]) {
        let old = self.stamp();
        self.version += 1;
        let new = self.stamp();
        std::fs::create_dir(self.dir.join(&new)).unwrap();
        for (name, text) in files {
            std::fs::write(self.dir.join(&new).join(name), text).unwrap();
        }
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&new, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
        if self.version > 1 {
            std::fs::remove_dir_all(self.dir.join(old)).unwrap();
        }
        for (name, _) in files {
            let link = self.dir.join(name);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(format!("..data/{name}"), link).unwrap();
            }
        }
    }

    fn stamp(&self) -> String {
        format!(
            "..2026_12_05_10_00_{:02}.{}",
            self.version,
            100 + self.version
        )
    }
}

/// A neighbour in `dir` that rewrites `name` every 100 ms until dropped
/// (the sidecar's own log file, say); `writes` counts its writes.
pub struct Neighbour {
    pub writes: watch::Receiver<usize>,
    task: tokio::task::JoinHandle<()>,
}

impl Neighbour {
    pub fn start(path: PathBuf) -> Self {
        let (tx, writes) = watch::channel(0);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            for n in 1.. {
                tick.tick().await;
                std::fs::write(&path, format!("line {n}\n")).unwrap();
                tx.send_replace(n);
            }
        });
        Self { writes, task }
    }

    /// Waits until it has written `n` times.
    pub async fn wait_writes(&mut self, n: usize) {
        tokio::time::timeout(PATIENCE, self.writes.wait_for(|w| *w >= n))
            .await
            .expect("the neighbour writes")
            .unwrap();
    }
}

impl Drop for Neighbour {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Who opens files in a directory, seen through the test's own watch.
/// Marks delimit spans: the spy opens `marker` itself, and the kernel
/// queues every open before that one ahead of it.
pub struct Spy {
    events: std::sync::mpsc::Receiver<notify::Event>,
    marker: PathBuf,
    _watcher: notify::RecommendedWatcher,
}

impl Spy {
    pub fn new(dir: &Path) -> Self {
        let marker = dir.join("spy-marker");
        std::fs::write(&marker, "").unwrap();
        let (tx, events) = std::sync::mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
            if let Ok(e) = e {
                let _ = tx.send(e);
            }
        })
        .unwrap();
        watcher.watch(dir, RecursiveMode::NonRecursive).unwrap();
        Self {
            events,
            marker,
            _watcher: watcher,
        }
    }

    /// Opens the marker and returns every path opened since the last mark.
    pub fn mark(&self) -> Vec<PathBuf> {
        std::fs::read(&self.marker).unwrap();
        let mut opened = Vec::new();
        loop {
            let e = self
                .events
                .recv_timeout(PATIENCE)
                .expect("the spy sees its own marker");
            if !matches!(e.kind, EventKind::Access(AccessKind::Open(_))) {
                continue;
            }
            if e.paths.contains(&self.marker) {
                return opened;
            }
            opened.extend(e.paths);
        }
    }
}

/// A log writer that, while the line with `message` is being written (the
/// code logging it waits for the write), sends the sidecar one request with
/// `token` and keeps its status: what a client gets at the very moment the
/// line appears. Every line also goes to `logs`.
#[derive(Clone)]
pub struct LineProbe {
    pub logs: LogBuf,
    pub addr: Arc<std::sync::OnceLock<SocketAddr>>,
    pub statuses: Arc<std::sync::Mutex<Vec<u16>>>,
    message: String,
    token: String,
}

impl LineProbe {
    pub fn new(message: &str, token: &str) -> Self {
        Self {
            logs: LogBuf::default(),
            addr: Arc::default(),
            statuses: Arc::default(),
            message: format!("\"message\":\"{message}\""),
            token: token.to_owned(),
        }
    }

    /// Captures JSON logs at `filter` on this thread until the guard drops.
    pub fn capture(&self, filter: &str) -> tracing::dispatcher::DefaultGuard {
        // LogBuf's capture sets up what scoped capture needs; then ours.
        drop(LogBuf::default().capture("off"));
        let w = self.clone();
        let d = scim_sidecar::telemetry::logs::dispatch(
            scim_sidecar::telemetry::LogFormat::Json,
            tracing_subscriber::EnvFilter::new(filter),
            move || w.clone(),
            false,
        );
        tracing::dispatcher::set_default(&d)
    }

    /// One blocking `GET .../ServiceProviderConfig` with the token; its status.
    fn probe(&self, addr: SocketAddr) -> u16 {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(
            s,
            "GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: sidecar\r\n\
             Authorization: Bearer {}\r\nConnection: close\r\n\r\n",
            self.token
        )
        .unwrap();
        let mut head = [0u8; 12];
        s.read_exact(&mut head).unwrap();
        String::from_utf8_lossy(&head[9..12]).parse().unwrap()
    }
}

impl std::io::Write for LineProbe {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let line = String::from_utf8_lossy(b);
        if let Some(addr) = self.addr.get().filter(|_| line.contains(&self.message)) {
            let status = self.probe(*addr);
            self.statuses.lock().unwrap().push(status);
        }
        self.logs.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
