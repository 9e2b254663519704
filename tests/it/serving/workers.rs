//! Worker runtimes (`--worker-threads` above one): connections are spread
//! over single-threaded runtimes, each with its own keep-alive
//! connections to the app, and the sidecar answers through them as it
//! does on one runtime.

use crate::support::*;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use scim_sidecar::runtime::Workers;
use scim_sidecar::{Server, State};
use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// An app that answers 200 and records the client port of every
/// connection it is asked on.
async fn app_recording_connections() -> (SocketAddr, Arc<Mutex<HashSet<u16>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, peer)) = listener.accept().await {
            let record = record.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req: Request<Incoming>| {
                    record.lock().expect("lock").insert(peer.port());
                    async { Ok::<_, Infallible>(Response::new(body("ok"))) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// Two client connections open at once go to two workers, and each
/// worker calls the app on its own connection: the second request does
/// not borrow the first worker's idle app connection (which would hand
/// every exchange between threads).
#[tokio::test]
async fn each_worker_serves_its_connections_with_its_own_app_connections() {
    let (app, seen) = app_recording_connections().await;
    let workers = Workers::start(2).expect("workers");
    let server = Server::bind(State::new(load(&config_text(app, ""))))
        .await
        .expect("bind")
        .spread_over(workers.spread());
    let (mut sc, _) = start_server(server).await;
    // Two clients, so two connections to the sidecar, both kept open.
    let (first, second) = (client(), client());
    for (i, c) in [&first, &second].into_iter().enumerate() {
        let resp = c
            .get(sc.url(&format!("/page/{i}")).parse().expect("uri"))
            .await
            .expect("answered");
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
    }
    assert_eq!(
        seen.lock().expect("lock").len(),
        2,
        "one app connection per worker"
    );
    // Later requests on either connection reuse their worker's.
    for c in [&first, &second] {
        let resp = c
            .get(sc.url("/again").parse().expect("uri"))
            .await
            .expect("answered");
        assert_eq!(resp.status(), StatusCode::OK);
        let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
    }
    assert_eq!(seen.lock().expect("lock").len(), 2);
    sc.shutdown();
    let _ = (&mut sc.task).await;
    tokio::task::spawn_blocking(move || workers.stop())
        .await
        .expect("workers stopped");
}
