//! Soak harness: the release binary in front of the bundled example app,
//! under concurrent Okta-shaped SCIM traffic (lookup, create, GET, PUT
//! profile update, PUT deactivation, import pages) and pass-through
//! traffic, for a bounded time, all on 127.0.0.1. It counts every answer
//! that is not the expected one, samples the sidecar's resident memory
//! once a second, and afterwards checks the app: every user created is
//! there exactly once and every deactivation was applied. Exits 1 when
//! anything is off. Not part of `cargo test`:
//!
//! ```text
//! cargo build --release
//! cargo run --release --example soak -- --seconds 60 --workers 8 --pass 4
//! ```

#[path = "demo_app/mod.rs"]
mod demo_app;
#[path = "soak/traffic.rs"]
mod traffic;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const API_KEY: &str = "soak-app-key";

/// Command-line settings.
struct Settings {
    seconds: u64,
    workers: usize,
    pass: usize,
    binary: String,
}

fn settings() -> Result<Settings, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    let number = |flag: &str, default: u64| -> Result<u64, String> {
        value(flag).map_or(Ok(default), |v| {
            v.parse().map_err(|_| format!("{flag} needs a number"))
        })
    };
    let release = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/scim-sidecar");
    Ok(Settings {
        seconds: number("--seconds", 60)?,
        workers: number("--workers", 8)? as usize,
        pass: number("--pass", 4)? as usize,
        binary: value("--binary")
            .cloned()
            .unwrap_or_else(|| release.to_owned()),
    })
}

/// The sidecar process and its address; stderr is drained by a thread.
struct Sidecar {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn_sidecar(binary: &str, app: std::net::SocketAddr) -> Result<Sidecar, String> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml"))
        .map_err(|e| e.to_string())?
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:9090", "127.0.0.1:0")
        .replace("127.0.0.1:3000", &app.to_string());
    let dir = std::env::temp_dir().join(format!("scim-sidecar-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let config = dir.join("sidecar.toml");
    std::fs::write(&config, text).map_err(|e| e.to_string())?;
    let mut child = Command::new(binary)
        .args(["run", "--log-format", "json", "--config"])
        .arg(&config)
        .env("APP_API_KEY", API_KEY)
        .env("RUST_LOG", "warn,scim_sidecar::http::server=info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot start {binary} (build it with `cargo build --release`): {e}")
        })?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["message"] == "scim-sidecar listening" {
                let _ = tx.send(v["public"].as_str().unwrap_or_default().to_owned());
            } else if v["level"] == "WARN" || v["level"] == "ERROR" {
                eprintln!("sidecar: {line}");
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "the sidecar did not start listening")?;
    Ok(Sidecar { child, addr, dir })
}

/// The sidecar's resident set and its peak, in KiB.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run() -> Result<bool, String> {
    let s = settings()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let app_addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = demo_app::DemoApp::new(API_KEY);
    app.seed();
    tokio::spawn(app.clone().serve(listener, std::future::pending()));
    let sidecar = spawn_sidecar(&s.binary, app_addr)?;
    let pid = sidecar.child.id();
    let base = format!("http://{}", sidecar.addr);
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(traffic::Counts::default());
    let mut tasks = Vec::new();
    for w in 0..s.workers {
        tasks.push(tokio::spawn(traffic::okta_worker(
            base.clone(),
            w,
            stop.clone(),
            counts.clone(),
        )));
    }
    for w in 0..s.pass {
        tasks.push(tokio::spawn(traffic::pass_worker(
            base.clone(),
            w,
            stop.clone(),
            counts.clone(),
        )));
    }
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    while started.elapsed() < Duration::from_secs(s.seconds) {
        tick.tick().await;
        samples.push(rss_kib(pid).0);
    }
    stop.store(true, Ordering::SeqCst);
    let mut made = Vec::new();
    for t in tasks {
        made.extend(t.await.map_err(|e| e.to_string())?);
    }
    let elapsed = started.elapsed();
    let (_, peak) = rss_kib(pid);
    let report = traffic::Report::new(&app, &made, &counts, &samples, peak, elapsed);
    report.print(&s, &sidecar.addr);
    Ok(report.ok())
}
