//! The `run` binary with stderr and stdout on pipes nobody reads, as with
//! a blocked container log driver or a full disk: requests never wait for
//! logging. 10,000 requests (refused tokens, SCIM reads and pass-through,
//! on several keep-alive connections at once) are all answered while the
//! log pipe is full; the lines that could not be kept are counted on
//! `/metrics`, and once the pipe is read again one line says how many were
//! lost, matching the counter. With the pipe full again, SIGTERM still
//! ends the process within its drain timeout, and every line that did
//! reach the pipe is whole. Synchronised on the process's log lines, on
//! answers and on its exit, never on sleeps.

use crate::support;

use http::{Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// Longest wait for one answer: a request held up by logging is a stall.
const STALL: Duration = Duration::from_secs(10);
/// The config's drain timeout, and so the longest wait for the exit.
const DRAIN: Duration = Duration::from_secs(10);

/// The child, killed (by its own id) if the test ends before it exits.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Reads stderr lines until one has `message`; returns the reader and
/// the lines read (parsed), on a blocking thread.
async fn read_until(
    mut r: BufReader<ChildStderr>,
    message: &'static str,
) -> (BufReader<ChildStderr>, Vec<Value>) {
    let read = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap() == 0 {
                panic!("stderr ended before `{message}`");
            }
            let v: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("a torn or non-JSON line ({e}): {line:?}"));
            let found = v["message"] == message;
            lines.push(v);
            if found {
                return (r, lines);
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or_else(|_| panic!("no `{message}` line"))
        .unwrap()
}

/// A pooled client whose connections come from `local`.
fn client_from(local: [u8; 4]) -> Client<HttpConnector, scim_sidecar::body::Body> {
    let mut connector = HttpConnector::new();
    connector.set_local_address(Some(IpAddr::from(local)));
    Client::builder(TokioExecutor::new()).build(connector)
}

/// `n` requests from `tasks` tasks at once, each on its own keep-alive
/// connections; request `i` is a refused token, a SCIM read or a
/// pass-through request by `i % 5`. Refused tokens come from 127.0.0.2,
/// so that the failed-authentication guard, which blocks that address
/// (429), lets the others through. Panics if a request is not answered
/// within [`STALL`].
async fn traffic(addr: SocketAddr, n: usize, tasks: usize) {
    let tasks: Vec<_> = (0..tasks)
        .map(|t| {
            tokio::spawn(async move {
                let (good, bad) = (client_from([127, 0, 0, 1]), client_from([127, 0, 0, 2]));
                for i in (t..n).step_by(tasks) {
                    let (path, token, ok): (&str, &str, &[u16]) = match i % 5 {
                        0 | 1 => ("/scim/v2/Users", "wrong-token-0123456789", &[401, 429]),
                        2 => ("/scim/v2/Users/1001", EXAMPLE_TOKEN, &[200]),
                        3 => ("/", "app-session", &[200]),
                        _ => ("/no-such-page?q=1", "app-session", &[404]),
                    };
                    let req = Request::get(format!("http://{addr}{path}"))
                        .header("authorization", format!("Bearer {token}"))
                        .body(body(""))
                        .unwrap();
                    let client = if i % 5 < 2 { &bad } else { &good };
                    let answered = tokio::time::timeout(STALL, send(client, req)).await;
                    let (parts, _) =
                        answered.unwrap_or_else(|_| panic!("request {i} ({path}) stalled"));
                    assert!(
                        ok.contains(&parts.status.as_u16()),
                        "{path}: {}",
                        parts.status
                    );
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

async fn dropped_total(admin: SocketAddr) -> f64 {
    let req = Request::get(format!("http://{admin}/metrics"))
        .body(body(""))
        .unwrap();
    let (parts, bytes) = send(&client(), req).await;
    assert_eq!(parts.status, StatusCode::OK);
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    metric(&text, "scim_sidecar_log_lines_dropped_total")
        .unwrap_or_else(|| panic!("no dropped-lines counter in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_pipe_nobody_reads_stops_no_request_and_no_shutdown() {
    let (_app, app_addr) = start_example_app().await;
    let dir = temp_dir("log-pipe");
    let config = dir.join("sidecar.toml");
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let text = std::fs::read_to_string(example)
        .unwrap()
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace(
            "admin_listen = \"127.0.0.1:9090\"",
            "admin_listen = \"127.0.0.1:0\"\ndrain_timeout = \"10s\"",
        )
        .replace("127.0.0.1:3000", &app_addr.to_string());
    std::fs::write(&config, text).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
        .args(["run", "--log-format", "json", "--config"])
        .arg(&config)
        .env("APP_API_KEY", APP_KEY)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scim-sidecar");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    // Held, never read.
    let _stdout = child.stdout.take().unwrap();
    let mut child = Proc(child);

    let (stderr, lines) = read_until(stderr, "scim-sidecar listening").await;
    let listening = lines.last().unwrap();
    let addr: SocketAddr = listening["public"].as_str().unwrap().parse().unwrap();
    let admin: SocketAddr = listening["admin"].as_str().unwrap().parse().unwrap();

    // Nobody reads stderr from here on: the pipe and the buffer fill up.
    traffic(addr, 10_000, 8).await;
    let dropped_while_full = dropped_total(admin).await;
    assert!(
        dropped_while_full > 0.0,
        "the log pipe never filled up: the test proves nothing"
    );

    // Reading again: the lines kept come out, then one says how many
    // were lost, as many as counted.
    let (stderr, lines) = read_until(stderr, "log lines dropped").await;
    let reported: u64 = lines
        .iter()
        .filter(|l| l["message"] == "log lines dropped")
        .map(|l| l["dropped"].as_u64().unwrap())
        .sum();
    let counted = dropped_total(admin).await;
    assert!(counted >= dropped_while_full);
    assert_eq!(
        reported as f64, counted,
        "reported and counted drops differ"
    );
    assert!(
        lines.iter().any(|l| l["message"] == "scim request"),
        "no request line was kept"
    );

    // Full again, then SIGTERM: the exit does not wait on the pipe.
    traffic(addr, 3_000, 8).await;
    let kill = Command::new("kill")
        .arg("-TERM")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + DRAIN;
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "still running {DRAIN:?} after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");

    // What reached the pipe is whole lines, but for the last one when the
    // process ended in the middle of a write.
    let mut rest = Vec::new();
    stderr.into_inner().read_to_end(&mut rest).unwrap();
    let rest = String::from_utf8_lossy(&rest);
    let whole = rest.rsplit_once('\n').map_or("", |(w, _)| w);
    for line in whole.lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|e| panic!("a torn or non-JSON line ({e}): {line:?}"));
    }
}
