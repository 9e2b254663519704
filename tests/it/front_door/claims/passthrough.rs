//! Pass-through claims: pooled keep-alive connections to the app, request
//! trailers kept, HTTP/2 keep-alive pings that close dead peers.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::support::*;

/// An app that counts the connections it accepts and describes each
/// request's body and trailers.
async fn counting_app(accepted: Arc<AtomicUsize>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let svc = service_fn(|req: Request<Incoming>| async move {
                    let collected = req.into_body().collect().await.unwrap();
                    let trailer = collected
                        .trailers()
                        .and_then(|t| t.get("x-checksum"))
                        .map(|v| v.to_str().unwrap().to_owned());
                    let body = collected.to_bytes();
                    let text = format!("{} bytes, trailer {trailer:?}", body.len());
                    Ok::<_, Infallible>(Response::new(super::support::body(text)))
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn pass_through_reuses_pooled_keep_alive_connections_to_the_app() {
    let accepted = Arc::new(AtomicUsize::new(0));
    let app = counting_app(accepted.clone()).await;
    let sc = start(load(&config_text(app, ""))).await;
    for i in 0..10 {
        // A new client connection each time: only the sidecar's pool can
        // keep the app's connection.
        let (parts, bytes) = send(
            &client(),
            Request::get(sc.url(&format!("/page/{i}")))
                .body(body(""))
                .unwrap(),
        )
        .await;
        assert_eq!(parts.status, StatusCode::OK);
        assert_eq!(&bytes[..], b"0 bytes, trailer None");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "ten requests in sequence, one connection to the app"
    );
}

#[tokio::test]
async fn request_trailers_reach_the_app() {
    let app = counting_app(Arc::default()).await;
    let sc = start(load(&config_text(app, ""))).await;
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-checksum", "c0ffee".parse().unwrap());
    let frames = vec![
        Ok::<_, hyper::Error>(Frame::data(Bytes::from_static(b"upload"))),
        Ok(Frame::trailers(trailers)),
    ];
    let b = StreamBody::new(futures_util::stream::iter(frames));
    let req = Request::post(sc.url("/upload"))
        .header("trailer", "x-checksum")
        .body(BodyExt::boxed(b))
        .unwrap();
    let (parts, bytes) = send(&client(), req).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(&bytes[..], b"6 bytes, trailer Some(\"c0ffee\")");
}

/// Reads HTTP/2 frames until the server closes; whether a PING came.
async fn pinged_then_closed(stream: &mut TcpStream) -> bool {
    let mut pinged = false;
    let mut head = [0u8; 9];
    while stream.read_exact(&mut head).await.is_ok() {
        let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; len];
        if stream.read_exact(&mut payload).await.is_err() {
            break;
        }
        // PING (type 6) without the ACK flag: the server's probe.
        pinged |= head[3] == 6 && head[4] & 1 == 0;
        if head[3] == 4 && head[4] & 1 == 0 {
            // Acknowledge the server's SETTINGS, as a live client would.
            let _ = stream.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]).await;
        }
    }
    pinged
}

#[tokio::test]
async fn http2_keep_alive_pings_close_a_peer_that_stops_answering() {
    let up = upstream(|_req| async { Response::new(body("ok")) }).await;
    let text = config_text(up, "").replace(
        "drain_timeout = \"5s\"",
        "drain_timeout = \"5s\"\nhttp2_keep_alive_interval = \"200ms\"\nhttp2_keep_alive_timeout = \"200ms\"",
    );
    let sc = start(load(&text)).await;
    let mut stream = TcpStream::connect(sc.addr).await.unwrap();
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let started = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(10), pinged_then_closed(&mut stream))
        .await
        .expect("the server kept a dead peer's connection open");
    assert!(closed, "no keep-alive PING was sent");
    let took = started.elapsed();
    // The idle timeout (120 s by default) is not what closed it.
    assert!(took < Duration::from_secs(5), "closed after {took:?}");
}
