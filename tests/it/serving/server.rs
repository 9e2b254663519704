//! The listener's own behaviour: graceful shutdown finishing in-flight
//! requests, header-read deadlines against slow clients, oversized and
//! malformed request heads rejected without harming other connections.

use crate::support;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, Notify, oneshot};

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests() {
    // The app signals when the request arrived and answers only when released.
    let arrived = Arc::new(Notify::new());
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let release = Arc::new(Mutex::new(Some(release_rx)));
    let (a, r) = (arrived.clone(), release.clone());
    let up = upstream(move |_req: Request<Incoming>| {
        let (a, r) = (a.clone(), r.clone());
        async move {
            a.notify_one();
            if let Some(rx) = r.lock().await.take() {
                let _ = rx.await;
            }
            Response::new(body("finished"))
        }
    })
    .await;
    let mut sc = start(load(&config_text(up, ""))).await;
    let url = sc.url("/slow-report");
    let in_flight =
        tokio::spawn(
            async move { send(&client(), Request::get(url).body(body("")).unwrap()).await },
        );
    arrived.notified().await;

    sc.shutdown();
    // New connections are refused once the listener is closed; poll until then.
    let addr = sc.addr;
    loop {
        if TcpStream::connect(addr).await.is_err() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(
        !sc.task.is_finished(),
        "server exited with a request in flight"
    );
    let _ = release_tx.send(());
    let (parts, bytes) = in_flight.await.unwrap();
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(&bytes[..], b"finished");
    (&mut sc.task).await.unwrap().unwrap();
}

/// Reads until the server closes the connection; a server that never does
/// fails the test (the guard is far above the configured deadlines).
async fn read_to_end(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut buf),
    )
    .await;
    assert!(closed.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn slow_headers_are_cut_off_without_harming_others() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let text = config_text(up, "").replace(
        "drain_timeout = \"5s\"",
        "drain_timeout = \"5s\"\nheader_read_timeout = \"200ms\"",
    );
    let sc = start(load(&text)).await;
    let mut slow = TcpStream::connect(sc.addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // Meanwhile another client is served normally.
    let (parts, _) = send(&client(), Request::get(sc.url("/")).body(body("")).unwrap()).await;
    assert_eq!(parts.status, StatusCode::OK);
    // The slow connection is closed by the server at the header deadline
    // (read returns EOF), without an answer: the head never ended.
    let started = std::time::Instant::now();
    let answer = read_to_end(&mut slow).await;
    assert_eq!(answer, "", "a half head is not answered");
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(3),
        "closed after {took:?}, not at the 200 ms deadline"
    );
}

#[tokio::test]
async fn oversized_and_malformed_heads_are_rejected() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let sc = start(load(&config_text(up, ""))).await;

    let mut big = TcpStream::connect(sc.addr).await.unwrap();
    let huge = "a".repeat(200 * 1024);
    let req = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {huge}\r\n\r\n");
    let _ = big.write_all(req.as_bytes()).await;
    let answer = read_to_end(&mut big).await;
    assert!(
        answer.starts_with("HTTP/1.1 431 "),
        "{}",
        &answer[..answer.len().min(80)]
    );

    let mut bad = TcpStream::connect(sc.addr).await.unwrap();
    bad.write_all(b"NOT HTTP AT ALL\r\n\r\n").await.unwrap();
    let answer = read_to_end(&mut bad).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");

    let (parts, _) = send(&client(), Request::get(sc.url("/")).body(body("")).unwrap()).await;
    assert_eq!(parts.status, StatusCode::OK, "the server still serves");
}
