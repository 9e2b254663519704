//! Connection deadlines: a socket that sends nothing, or half an HTTP/2
//! preface, is closed at the header deadline on the public and admin ports
//! while other clients are served; idle connections are closed; a drain
//! is not held by an idle HTTP/2 client, which is sent GOAWAY; the number
//! of connections is capped. The admin port has its own budget and header
//! deadline: `/livez` answers within the kubelet's 1 s probe timeout while
//! silent sockets fill either port.

use crate::support;

use http::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Far above every deadline configured here: reaching it fails the test.
const GUARD: Duration = Duration::from_secs(15);

fn config(up: std::net::SocketAddr, server_extra: &str) -> String {
    config_text(up, "").replace(
        "drain_timeout = \"5s\"",
        &format!("drain_timeout = \"30s\"\n{server_extra}"),
    )
}

/// Reads until the server closes; panics if it does not within [`GUARD`].
async fn closed(mut s: TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    tokio::time::timeout(GUARD, s.read_to_end(&mut buf))
        .await
        .expect("the server kept the connection open")
        .ok();
    buf
}

#[tokio::test]
async fn silent_and_half_preface_sockets_are_closed_at_the_header_deadline() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let sc = start(load(&config(up, "header_read_timeout = \"300ms\""))).await;
    let mut silent = Vec::new();
    let mut half = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(sc.addr).await.unwrap());
        let mut s = TcpStream::connect(sc.addr).await.unwrap();
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nS").await.unwrap();
        half.push(s);
    }
    let admin_silent = TcpStream::connect(sc.admin).await.unwrap();
    // Meanwhile others are served, on both ports.
    let (parts, _) = send(&client(), Request::get(sc.url("/")).body(body("")).unwrap()).await;
    assert_eq!(parts.status, StatusCode::OK);
    let livez = format!("http://{}/livez", sc.admin);
    let (parts, _) = send(&client(), Request::get(livez).body(body("")).unwrap()).await;
    assert_eq!(parts.status, StatusCode::OK);
    for s in silent.into_iter().chain(half).chain([admin_silent]) {
        let answer = closed(s).await;
        assert!(
            answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
            "{answer:?}"
        );
    }
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let sc = start(load(&config(up, "idle_timeout = \"300ms\""))).await;
    let mut s = TcpStream::connect(sc.addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // The answer arrives, then the idle connection is closed.
    let answer = String::from_utf8_lossy(&closed(s).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn drain_sends_goaway_and_is_not_held_by_an_idle_h2c_client() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let mut sc = start(load(&config(up, ""))).await;
    let tcp = TcpStream::connect(sc.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    let conn_done = tokio::spawn(conn);
    let req = Request::get(sc.url("/")).body(body("")).unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The client stays connected and idle; drain_timeout is 30 s.
    sc.shutdown();
    let stopped = tokio::time::timeout(GUARD, &mut sc.task).await;
    assert!(stopped.is_ok(), "the idle h2c client held the drain");
    // The client saw the connection end (GOAWAY, then close).
    let ended = tokio::time::timeout(GUARD, conn_done).await;
    assert!(ended.is_ok(), "the h2 connection was not closed");
    assert!(
        sender
            .send_request(Request::get("/").body(body("")).unwrap())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn drain_is_not_held_by_an_h2c_client_that_never_answers() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let mut sc = start(load(&config(up, ""))).await;
    let mut raw = TcpStream::connect(sc.addr).await.unwrap();
    // Preface, an empty SETTINGS frame, then HEADERS for `GET /` (HPACK
    // indexed :method GET, :scheme http, :path /), END_STREAM|END_HEADERS.
    let mut frames = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    frames.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]);
    frames.extend_from_slice(&[0, 0, 3, 0x1, 0x5, 0, 0, 0, 1, 0x82, 0x86, 0x84]);
    raw.write_all(&frames).await.unwrap();
    // Wait for the response HEADERS frame on stream 1 (type 0x1).
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    while !has_frame(&got, 0x1, 1) {
        let n = tokio::time::timeout(GUARD, raw.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    // The client now never reads, acks or closes again.
    sc.shutdown();
    let stopped = tokio::time::timeout(GUARD, &mut sc.task).await;
    assert!(stopped.is_ok(), "a silent h2c client held the drain");
    drop(raw);
}

/// Whether `bytes` (after the server's frames start) hold a frame of
/// `kind` on `stream`.
fn has_frame(bytes: &[u8], kind: u8, stream: u32) -> bool {
    let mut at = 0;
    while bytes.len() >= at + 9 {
        let len = usize::from(bytes[at]) << 16
            | usize::from(bytes[at + 1]) << 8
            | usize::from(bytes[at + 2]);
        let id = u32::from_be_bytes([bytes[at + 5], bytes[at + 6], bytes[at + 7], bytes[at + 8]])
            & 0x7fff_ffff;
        if bytes[at + 3] == kind && id == stream {
            return true;
        }
        at += 9 + len;
    }
    false
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let sc = start(load(&config(up, "max_connections = 2"))).await;
    // Two connections hold both slots with an unfinished request head.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(sc.addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        holders.push(s);
    }
    let url = sc.url("/");
    let third =
        tokio::spawn(
            async move { send(&client(), Request::get(url).body(body("")).unwrap()).await },
        );
    // Not served while both slots are taken …
    let early = tokio::time::timeout(Duration::from_millis(300), async {
        while !third.is_finished() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        early.is_err(),
        "a third connection was served beyond the cap"
    );
    // … and served as soon as one is freed.
    drop(holders.pop());
    let (parts, _) = tokio::time::timeout(GUARD, third).await.unwrap().unwrap();
    assert_eq!(parts.status, StatusCode::OK);
}

/// One probe as the kubelet sends it: a new connection, `GET path`, the
/// answer's status line within the probe's default 1 s timeout (Kubernetes
/// `timeoutSeconds`); `None` when it did not come.
async fn probe(admin: std::net::SocketAddr, path: &str) -> Option<String> {
    let attempt = async {
        let mut s = TcpStream::connect(admin).await.ok()?;
        let head = format!("GET {path} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n");
        s.write_all(head.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).await.ok()?;
        let text = String::from_utf8_lossy(&answer).into_owned();
        text.lines().next().map(str::to_owned)
    };
    tokio::time::timeout(Duration::from_secs(1), attempt)
        .await
        .ok()
        .flatten()
}

/// `n` connected sockets that never send a byte.
async fn silent(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(TcpStream::connect(addr).await.unwrap());
    }
    out
}

#[tokio::test]
async fn livez_answers_while_silent_sockets_fill_both_ports() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    // Default deadlines and budgets: 30 s for a head on the public port.
    let sc = start(load(&config_text(up, ""))).await;
    let _public = silent(sc.addr, 80).await;
    for _ in 0..3 {
        let status = probe(sc.admin, "/livez").await;
        assert_eq!(
            status.as_deref(),
            Some("HTTP/1.1 200 OK"),
            "public port full"
        );
    }
    // Fresh silent sockets on the admin port before every probe, more than
    // its budget and younger than its header deadline: the probe still
    // gets in.
    let mut held = Vec::new();
    for round in 0..5 {
        held.push(silent(sc.admin, 80).await);
        let status = probe(sc.admin, "/livez").await;
        assert_eq!(
            status.as_deref(),
            Some("HTTP/1.1 200 OK"),
            "round {round}: admin port full"
        );
    }
}

#[tokio::test]
async fn the_admin_port_has_its_own_header_deadline() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let sc = start(load(&config(
        up,
        "header_read_timeout = \"30s\"\nadmin_header_read_timeout = \"300ms\"",
    )))
    .await;
    let mut public = TcpStream::connect(sc.addr).await.unwrap();
    let admin = TcpStream::connect(sc.admin).await.unwrap();
    assert!(closed(admin).await.is_empty());
    // The public port's silent socket is still open: its deadline is 30 s.
    let mut byte = [0u8; 1];
    let still_open = tokio::time::timeout(Duration::from_millis(200), public.read(&mut byte)).await;
    assert!(still_open.is_err(), "{still_open:?}");
}
