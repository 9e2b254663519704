//! Pass-through overhead: the same load against an app directly and through
//! the sidecar, in one run, so the ratio is meaningful on a noisy machine.
//! Everything runs in-process on loopback: a tiny app, the real sidecar
//! (`Server::bind`), and a pooled client with a fixed concurrency.
//!
//! `cargo bench --bench passthrough` (results in docs/benchmarks.md).

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use scim_sidecar::{Config, Server, State};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 32;
const BODY: &[u8] = &[b'x'; 1024];

async fn app() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let svc = service_fn(|_req| async {
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(BODY))))
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

async fn sidecar(upstream: SocketAddr) -> SocketAddr {
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n[upstream]\nurl = \"http://{upstream}\"\n\
         [[connections]]\nid = \"bench\"\ntokens = [\"{}\"]\n",
        scim_sidecar::auth::token_hash_string("bench-token")
    );
    let config = Config::from_toml(&text, &|_| None).expect("bench config");
    let server = Server::bind(State::new(config))
        .await
        .expect("bind sidecar");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    addr
}

/// Runs the load; returns (requests per second, p50, p99).
async fn load(target: SocketAddr) -> (f64, Duration, Duration) {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let url: http::Uri = format!("http://{target}/page").parse().expect("uri");
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (client, url) = (client.clone(), url.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(REQUESTS / CONCURRENCY);
            for _ in 0..REQUESTS / CONCURRENCY {
                let t = Instant::now();
                let req = Request::get(url.clone())
                    .body(Full::new(Bytes::new()))
                    .expect("request");
                let resp = client.request(req).await.expect("response");
                let body = resp.into_body().collect().await.expect("body").to_bytes();
                assert_eq!(body.len(), BODY.len());
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::with_capacity(REQUESTS);
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    (
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let upstream = app().await;
        let proxy = sidecar(upstream).await;
        // Warm both paths (connection pools, allocator).
        let _ = load(upstream).await;
        let _ = load(proxy).await;
        let (direct_rps, d50, d99) = load(upstream).await;
        let (proxied_rps, p50, p99) = load(proxy).await;
        println!("{REQUESTS} GETs of a 1 KiB body, {CONCURRENCY} concurrent, keep-alive, loopback");
        println!("direct   {direct_rps:>9.0} req/s  p50 {d50:>9.1?}  p99 {d99:>9.1?}");
        println!("proxied  {proxied_rps:>9.0} req/s  p50 {p50:>9.1?}  p99 {p99:>9.1?}");
        println!(
            "proxied/direct throughput ratio: {:.2}",
            proxied_rps / direct_rps
        );
    });
}
