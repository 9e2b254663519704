//! Group membership at scale: one PATCH that adds k = 100 and removes
//! k = 100 members of a group of N = 10 000, against the bundled example
//! app (its teams API) through the real sidecar, in-process on loopback.
//! Reports the PATCH's wall time (median of the repetitions) and the app
//! calls it made, which must not grow with N.
//!
//! `cargo bench --bench groups` (results in docs/benchmarks.md).

#[path = "../examples/demo_app/mod.rs"]
mod demo_app;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const N: usize = 10_000;
const K: usize = 100;
const REPS: usize = 7;
const TOKEN: &str = "demo-token-for-local-testing-only-change-me";

async fn start() -> (std::net::SocketAddr, demo_app::DemoApp, String, Vec<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind app");
    let app_addr = listener.local_addr().expect("addr");
    let app = demo_app::DemoApp::new("demo-app-key");
    tokio::spawn(app.clone().serve(listener, std::future::pending()));
    let team = app.seed_team("Everyone", N);
    let spare_team = app.seed_team("Spare", K);
    let spare = app.team_members(&spare_team).expect("spare team");
    let text = include_str!("../config/example.toml")
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:9090", "127.0.0.1:0")
        .replace("127.0.0.1:3000", &app_addr.to_string());
    let env = |n: &str| (n == "APP_API_KEY").then(|| "demo-app-key".to_string());
    let config = scim_sidecar::Config::from_toml(&text, &env).expect("example config");
    let server = scim_sidecar::Server::bind(scim_sidecar::State::new(config))
        .await
        .expect("bind sidecar");
    let addr = server.local_addr();
    tokio::spawn(server.serve(std::future::pending()));
    (addr, app, team, spare)
}

fn patch(add: &[String], remove: &[String]) -> Value {
    let list = |ids: &[String]| ids.iter().map(|i| json!({"value": i})).collect::<Vec<_>>();
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "add", "path": "members", "value": list(add)},
        {"op": "remove", "path": "members", "value": list(remove)}
    ]})
}

#[tokio::main]
async fn main() {
    let (addr, app, team, spare) = start().await;
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let members = app.team_members(&team).expect("team");
    let (mut inside, mut outside): (Vec<String>, Vec<String>) =
        (members[..K].to_vec(), spare.clone());
    let mut times = Vec::new();
    let mut calls = Vec::new();
    for _ in 0..REPS {
        let body = patch(&outside, &inside);
        let req = Request::builder()
            .method("PATCH")
            .uri(format!("http://{addr}/scim/v2/Groups/{team}"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/scim+json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        let before = app.request_count();
        let started = Instant::now();
        let resp = client.request(req).await.expect("patch");
        let status = resp.status();
        let _ = resp.into_body().collect().await;
        times.push(started.elapsed());
        calls.push(app.request_count() - before);
        assert_eq!(status, 204, "the PATCH failed");
        assert_eq!(app.team_members(&team).expect("team").len(), N);
        std::mem::swap(&mut inside, &mut outside);
    }
    times.sort();
    let median: Duration = times[REPS / 2];
    println!(
        "group of {N}, PATCH adding {K} and removing {K}: median {:.1} ms over {REPS} runs (min {:.1}, max {:.1}); app calls per PATCH: {:?}",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[REPS - 1].as_secs_f64() * 1e3,
        calls
    );
}
