//! The `scim-sidecar run` binary as a child process: a config written to a
//! temporary directory, JSON logs read line by line from stderr, readiness
//! and every later event taken from those lines (never from a sleep),
//! and real signals sent to its process id.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use tokio::sync::mpsc;

use super::support::*;

/// Longest wait for any log line or exit the tests expect.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running `scim-sidecar run`.
pub struct Binary {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    /// Every log line read so far, parsed.
    pub log: Vec<Value>,
    /// The public address it listens on.
    pub addr: SocketAddr,
    /// The admin address it listens on.
    pub admin: SocketAddr,
    /// The config file it runs with.
    pub config: PathBuf,
    _dir: TempDir,
}

/// `config/example.toml` for the app at `app`, on free ports, with `edit`.
pub fn example_text(app: SocketAddr, edit: impl FnOnce(String) -> String) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    edit(
        text.replace("127.0.0.1:8080", "127.0.0.1:0")
            .replace("127.0.0.1:9090", "127.0.0.1:0")
            .replace("127.0.0.1:3000", &app.to_string()),
    )
}

/// Writes `text` to `path` atomically, as a ConfigMap update does.
pub fn write_config(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

impl Binary {
    /// Starts the binary on `text` with `APP_API_KEY` = `api_key` and
    /// `RUST_LOG` = `log`; returns once it logs that it listens.
    pub async fn start(text: &str, api_key: &str, log: &str) -> Self {
        let dir = temp_dir("binary");
        let config = dir.join("sidecar.toml");
        write_config(&config, text);
        let mut child = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
            .args(["run", "--log-format", "json", "--config"])
            .arg(&config)
            .env("APP_API_KEY", api_key)
            .env("RUST_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn scim-sidecar");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut b = Self {
            child,
            lines,
            log: Vec::new(),
            addr: "0.0.0.0:0".parse().unwrap(),
            admin: "0.0.0.0:0".parse().unwrap(),
            config,
            _dir: dir,
        };
        let listening = b.wait_for("scim-sidecar listening").await;
        b.addr = listening["public"].as_str().unwrap().parse().unwrap();
        b.admin = listening["admin"].as_str().unwrap().parse().unwrap();
        b
    }

    /// `http://addr` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next log line whose message is `message` (lines read on the way
    /// are kept in [`Self::log`]).
    pub async fn wait_for(&mut self, message: &str) -> Value {
        loop {
            let line = tokio::time::timeout(PATIENCE, self.lines.recv())
                .await
                .unwrap_or_else(|_| panic!("no `{message}` log line within {PATIENCE:?}"))
                .unwrap_or_else(|| panic!("the process ended before logging `{message}`"));
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("a log line that is not JSON ({e}): {line}"));
            self.log.push(v.clone());
            if v["message"] == message {
                return v;
            }
        }
    }

    /// Sends `signal` (`TERM`, `HUP`) to the process, by its id.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Ends the process at once (SIGKILL: a pod's container killed or its
    /// node lost), by its id, and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit; reads the rest of its log.
    pub async fn exited(&mut self) -> ExitStatus {
        while let Ok(Some(line)) = tokio::time::timeout(PATIENCE, self.lines.recv()).await {
            if let Ok(v) = serde_json::from_str(&line) {
                self.log.push(v);
            }
        }
        self.child.wait().expect("wait for scim-sidecar")
    }

    /// Every log line read so far, as text.
    pub fn log_text(&self) -> String {
        self.log
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        // Only this test's own child, by its id.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
