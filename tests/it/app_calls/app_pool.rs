//! The connections to the app: requests in sequence reuse one keep-alive
//! connection, and a connection the app closes after its answer is
//! replaced for the next request without the client noticing.

use crate::support;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;
use tokio::net::TcpListener;

/// An app that counts the connections it accepted; with `close`, it ends
/// every connection after its first answer.
async fn counting_app(close: bool) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let svc = service_fn(move |_req: Request<Incoming>| async move {
                    let mut resp = Response::new(Full::new(Bytes::from_static(b"page")));
                    if close {
                        resp.headers_mut()
                            .insert("connection", http::HeaderValue::from_static("close"));
                    }
                    Ok::<_, Infallible>(resp)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, accepted)
}

async fn get_page(sc: &Sidecar) -> (StatusCode, Bytes) {
    let uri = format!("http://{}/page", sc.addr);
    let resp = client()
        .request(Request::get(uri).body(body("")).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.into_body().collect().await.unwrap().to_bytes())
}

#[tokio::test]
async fn requests_in_sequence_reuse_one_app_connection() {
    let (app, accepted) = counting_app(false).await;
    let sc = start(load(&config_text(app, ""))).await;
    for _ in 0..5 {
        assert_eq!(get_page(&sc).await, (StatusCode::OK, Bytes::from("page")));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_connection_the_app_closed_is_replaced() {
    let (app, accepted) = counting_app(true).await;
    let sc = start(load(&config_text(app, ""))).await;
    for _ in 0..3 {
        assert_eq!(get_page(&sc).await, (StatusCode::OK, Bytes::from("page")));
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
