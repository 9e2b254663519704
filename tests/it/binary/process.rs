//! The `run` binary itself, with real signals: SIGTERM during traffic
//! loses no request the sidecar accepted (requests held in flight finish,
//! new connections are refused, every request the app saw was answered in
//! full); reloads by SIGHUP during traffic fail none; and its log, at the
//! most verbose level, carries no token, `Authorization` value, API key,
//! SCIM body value or query, while naming every response's `X-Request-Id`.
//! Everything is synchronised on the process's own log lines and on the
//! app's arrivals, never on sleeps.

use crate::support;

pub(crate) mod binary;

use binary::{Binary, example_text, write_config};
use bytes::Bytes;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use support::faults::{Fault, FaultProxy};
use support::*;
use tokio::sync::watch;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// The example app (seeded), serving until the test ends.
async fn example_app(key: &str) -> (demo_app::DemoApp, SocketAddr) {
    app::App::example(key).serve_example().await
}

fn new_user(login: &str) -> Value {
    json!({"schemas": [USER_URN], "userName": login,
           "name": {"givenName": "Drain", "familyName": "Test"}, "active": true})
}

/// A request to the binary, with the example token when `scim`.
fn request(url: String, method: &str, body: Option<&Value>) -> Request<scim_sidecar::body::Body> {
    let b = Request::builder()
        .method(method)
        .uri(url)
        .header("authorization", format!("Bearer {EXAMPLE_TOKEN}"));
    match body {
        Some(v) => b
            .header("content-type", "application/scim+json")
            .body(support::body(v.to_string()))
            .unwrap(),
        None => b.body(support::body("")).unwrap(),
    }
}

/// One request; `Err` when the transport failed (nothing was answered).
async fn try_send(
    c: &hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        scim_sidecar::body::Body,
    >,
    req: Request<scim_sidecar::body::Body>,
) -> Result<(StatusCode, Bytes), String> {
    use http_body_util::BodyExt;
    let resp = c.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok((status, bytes.to_bytes()))
}

/// What one background worker saw.
#[derive(Default)]
struct Seen {
    /// Pass-through request ids answered 200 in full.
    passed: BTreeSet<String>,
    /// Logins whose create was answered 201, with the id answered.
    created: BTreeMap<String, String>,
    /// HTTP answers other than the expected ones (never allowed).
    wrong: Vec<String>,
    /// The transport error that stopped the worker.
    stopped_by: Option<String>,
}

/// Pass-through GETs and SCIM creates, alternating, until the transport
/// fails (the listener closed) or `stop` is set.
async fn worker(base: String, w: usize, done: Arc<AtomicUsize>, stop: Arc<AtomicBool>) -> Seen {
    let c = client();
    let mut seen = Seen::default();
    for i in 0..5000 {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let id = format!("w{w}-{i}");
        let result = if i % 2 == 0 {
            try_send(&c, request(format!("{base}/?probe={id}"), "GET", None))
                .await
                .map(|(s, b)| {
                    if s == StatusCode::OK && b.ends_with(b"</html>\n") {
                        seen.passed.insert(id.clone());
                    } else {
                        seen.wrong.push(format!("GET {id}: {s}"));
                    }
                })
        } else {
            let login = format!("{id}@example.com");
            let body = new_user(&login);
            try_send(
                &c,
                request(format!("{base}/scim/v2/Users"), "POST", Some(&body)),
            )
            .await
            .map(|(s, b)| match (s, serde_json::from_slice::<Value>(&b)) {
                (StatusCode::CREATED, Ok(v)) => {
                    seen.created
                        .insert(login, v["id"].as_str().unwrap_or_default().to_owned());
                }
                _ => seen.wrong.push(format!("POST {login}: {s}")),
            })
        };
        if let Err(e) = result {
            seen.stopped_by = Some(e);
            break;
        }
        done.fetch_add(1, Ordering::SeqCst);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_traffic_loses_no_accepted_request() {
    let (app, app_addr) = example_app(APP_KEY).await;
    let proxy = FaultProxy::start(app_addr).await;
    let (open, gate) = watch::channel(false);
    proxy.fail("GET", "/headers", 3, Fault::held(gate.clone()));
    proxy.fail("POST", "/api/users$", 3, Fault::held(gate));
    let mut bin = Binary::start(&example_text(proxy.addr, |t| t), APP_KEY, "info").await;

    // Six requests held in flight: three pass-through, three SCIM creates
    // (the app has made the accounts; its answers wait).
    let held = (0..6).map(|i| {
        let (c, url) = (client(), bin.url(""));
        tokio::spawn(async move {
            let req = match i % 2 {
                0 => request(format!("{url}/headers?held={i}"), "GET", None),
                _ => request(
                    format!("{url}/scim/v2/Users"),
                    "POST",
                    Some(&new_user(&format!("held{i}@example.com"))),
                ),
            };
            try_send(&c, req).await
        })
    });
    let held: Vec<_> = held.collect();
    let mut arrivals = proxy.arrivals();
    // 3 pages, 3 lookups before the creates, 3 creates.
    arrivals.wait_for(|n| *n >= 9).await.unwrap();

    let (done, stop) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let workers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(worker(bin.url(""), w, done.clone(), stop.clone())))
        .collect();
    let mut progress = proxy.arrivals();
    let at = *progress.borrow();
    progress.wait_for(|n| *n >= at + 200).await.unwrap();

    bin.signal("TERM");
    bin.wait_for("shutting down: draining").await;
    assert!(
        tokio::net::TcpStream::connect(bin.addr).await.is_err(),
        "new connections are refused once draining"
    );
    open.send(true).unwrap();
    for (i, h) in held.into_iter().enumerate() {
        let (status, body) = h.await.unwrap().expect("a held request was cut");
        let want = if i % 2 == 0 {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        assert_eq!(status, want, "held request {i}: {body:?}");
        if i % 2 == 1 {
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["userName"], format!("held{i}@example.com"));
        }
    }
    let status = bin.exited().await;
    assert!(status.success(), "exit status {status}");
    assert!(
        bin.log
            .iter()
            .any(|l| l["message"] == "all connections closed"),
        "{}",
        bin.log_text()
    );
    stop.store(true, Ordering::SeqCst);

    let mut passed = BTreeSet::new();
    let mut created = BTreeMap::new();
    for w in workers {
        let seen = w.await.unwrap();
        assert!(
            seen.wrong.is_empty(),
            "answers that are not success: {:?}",
            seen.wrong
        );
        passed.extend(seen.passed);
        created.extend(seen.created);
    }
    // Every page request the app saw was answered in full.
    let probed: BTreeSet<String> = proxy
        .seen()
        .iter()
        .filter_map(|s| s.query.get("probe").cloned())
        .collect();
    let lost: Vec<_> = probed.difference(&passed).collect();
    assert!(
        lost.is_empty(),
        "the app served, the client never got: {lost:?}"
    );
    // Every account the app holds from the traffic was answered 201, once.
    for u in app.users() {
        let login = u["login"].as_str().unwrap();
        if login.starts_with('w') {
            assert_eq!(
                created.get(login),
                u["id"].as_str().map(str::to_owned).as_ref(),
                "{login}"
            );
        }
    }
    let made = app
        .users()
        .iter()
        .filter(|u| u["login"].as_str().unwrap().starts_with('w'))
        .count();
    assert_eq!(made, created.len(), "accounts made without a 201");
    assert!(
        passed.len() + created.len() >= 20,
        "too little traffic to prove anything"
    );
    println!(
        "SIGTERM under traffic: {} requests answered, {} pages, {} creates, 6 held in flight",
        done.load(Ordering::SeqCst),
        passed.len(),
        created.len()
    );
}

/// SCIM reads and writes and pass-through, until `stop`; every answer
/// must be a success. Returns the number of requests and what failed.
async fn steady(base: String, w: usize, stop: Arc<AtomicBool>) -> (usize, Vec<String>) {
    let c = client();
    let mut failed = Vec::new();
    let mut n = 0;
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": format!("Worker {w}")}]});
    while !stop.load(Ordering::SeqCst) {
        let (req, want) = match n % 4 {
            0 => (
                request(format!("{base}/scim/v2/Users/1001"), "GET", None),
                200,
            ),
            1 => (
                request(
                    format!("{base}/scim/v2/Users?startIndex=1&count=2"),
                    "GET",
                    None,
                ),
                200,
            ),
            2 => (
                request(format!("{base}/scim/v2/Users/1002"), "PATCH", Some(&patch)),
                200,
            ),
            _ => (request(format!("{base}/"), "GET", None), 200),
        };
        match try_send(&c, req).await {
            Ok((s, _)) if s.as_u16() == want => {}
            Ok((s, b)) => failed.push(format!("{s}: {}", String::from_utf8_lossy(&b))),
            Err(e) => failed.push(e),
        }
        n += 1;
    }
    (n, failed)
}

/// The status of a discovery GET with `token`.
async fn status_with(bin: &Binary, token: &str) -> StatusCode {
    let req = Request::get(bin.url("/scim/v2/ServiceProviderConfig"))
        .header("authorization", format!("Bearer {token}"))
        .body(support::body(""))
        .unwrap();
    send(&client(), req).await.0.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_by_sighup_during_traffic_fail_no_request() {
    let (_app, app_addr) = example_app(APP_KEY).await;
    let second = "second-token-for-the-reload-test-0123456789";
    let hash = scim_sidecar::auth::token_hash_string(second);
    let a = example_text(app_addr, |t| t);
    let tokens =
        "tokens = [\"sha256:4054bccf971055987c0cff7a53b3335161ad23a133000fbcc0f811cb69cd11d7\"";
    assert!(a.contains(tokens));
    let b = a.replace(tokens, &format!("{tokens}, \"{hash}\""));
    let mut bin = Binary::start(&a, APP_KEY, "info").await;
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| tokio::spawn(steady(bin.url(""), w, stop.clone())))
        .collect();
    for round in 0..4 {
        write_config(&bin.config, &b);
        bin.signal("HUP");
        bin.wait_for("config reloaded").await;
        assert_eq!(
            status_with(&bin, second).await,
            StatusCode::OK,
            "round {round}"
        );
        write_config(&bin.config, &a);
        bin.signal("HUP");
        bin.wait_for("config reloaded").await;
        assert_eq!(status_with(&bin, second).await, StatusCode::UNAUTHORIZED);
    }
    // An invalid config is refused; the running one keeps serving.
    write_config(&bin.config, &a.replace("[users.list]", "[users.lost]"));
    bin.signal("HUP");
    bin.wait_for("config reload refused; the old config stays")
        .await;
    assert_eq!(status_with(&bin, EXAMPLE_TOKEN).await, StatusCode::OK);
    stop.store(true, Ordering::SeqCst);
    let mut total = 0;
    for w in workers {
        let (n, failed) = w.await.unwrap();
        assert!(
            failed.is_empty(),
            "{} of {n} requests failed: {failed:?}",
            failed.len()
        );
        total += n;
    }
    assert!(total >= 40, "only {total} requests ran during the reloads");
    println!("9 reloads (8 applied, 1 refused) during {total} requests: none failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_carries_no_secret_or_body_value_and_names_every_request_id() {
    let api_key = "app-key-canary-31415926535";
    let (_app, app_addr) = example_app(api_key).await;
    let mut bin = Binary::start(&example_text(app_addr, |t| t), api_key, "trace").await;
    let canaries = [
        EXAMPLE_TOKEN,
        api_key,
        "wrong-canary-token-2718281828",
        "canary.person@example.com",
        "Quillnib",
        "Pa55word-canary",
        "Keeper of Canaries",
        "app-session-canary",
        "pass-through-canary-body",
    ];
    let user = json!({"schemas": [USER_URN], "userName": "canary.person@example.com",
        "name": {"givenName": "Quillnib", "familyName": "Zephyrine"},
        "password": "Pa55word-canary", "title": "Keeper of Canaries", "active": true});
    let c = client();
    let mut answered = Vec::new();
    let (s, created) = try_send(&c, request(bin.url("/scim/v2/Users"), "POST", Some(&user)))
        .await
        .unwrap();
    assert_eq!(s, StatusCode::CREATED);
    let id = serde_json::from_slice::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "Keeper of Canaries"}]});
    let lookup = "/scim/v2/Users?filter=userName%20eq%20%22canary.person%40example.com%22";
    for (method, path, body) in [
        ("GET", lookup.to_owned(), None),
        ("PATCH", format!("/scim/v2/Users/{id}"), Some(&patch)),
        ("PUT", format!("/scim/v2/Users/{id}"), Some(&user)),
        ("GET", format!("/scim/v2/Users/{id}"), None),
        ("DELETE", format!("/scim/v2/Users/{id}"), None),
    ] {
        let resp = c
            .request(request(bin.url(&path), method, body))
            .await
            .unwrap();
        answered.push((
            resp.headers()["x-request-id"].to_str().unwrap().to_owned(),
            resp.status(),
        ));
    }
    let wrong = Request::get(bin.url("/scim/v2/Users"))
        .header("authorization", "Bearer wrong-canary-token-2718281828")
        .body(support::body(""))
        .unwrap();
    let resp = c.request(wrong).await.unwrap();
    answered.push((
        resp.headers()["x-request-id"].to_str().unwrap().to_owned(),
        resp.status(),
    ));
    let echo = Request::post(bin.url("/echo?session=app-session-canary"))
        .header("authorization", "Bearer app-session-canary")
        .body(support::body("pass-through-canary-body"))
        .unwrap();
    let resp = c.request(echo).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let echo_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap();
    bin.signal("TERM");
    assert!(bin.exited().await.success());

    let text = bin.log_text();
    assert!(bin.log.len() > 20, "trace logging is on: {text}");
    for canary in canaries {
        assert!(!text.contains(canary), "`{canary}` is in the log:\n{text}");
    }
    for (rid, status) in answered {
        let line = bin
            .log
            .iter()
            .find(|l| l["message"] == "scim request" && l["span"]["request_id"] == rid.as_str());
        let line = line.unwrap_or_else(|| panic!("no `scim request` line for {rid}:\n{text}"));
        assert_eq!(line["status"], status.as_u16(), "{line}");
    }
    let access = bin
        .log
        .iter()
        .find(|l| l["message"] == "pass-through request" && l["request_id"] == echo_id.as_str())
        .unwrap_or_else(|| panic!("no access line for {echo_id}:\n{text}"));
    assert_eq!(
        (&access["path"], &access["status"]),
        (&json!("/echo"), &json!(200))
    );
}
