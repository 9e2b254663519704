//! The gate in front of the app: the sidecar's own API calls are capped at
//! `[host] max_in_flight`, callers beyond wait in a queue of `max_queued`,
//! and past that SCIM answers 429 with `Retry-After` — an IdP's import
//! burst queues instead of overloading the app.

use crate::support;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;
use tokio::sync::watch;

const USERS: &str = r#"
[host]
max_in_flight = 2
max_queued = 3

[users.list]
get = "/api/users"
items = "$.items[*]"

[users.get]
get = "/api/users/{id}"

[users.create]
post = "/api/users"

[users.update]
patch = "/api/users/{id}"

[users.attributes]
id = { path = "$.id", mutability = "readOnly" }
userName = "$.login"
"#;

#[tokio::test]
async fn an_import_burst_queues_within_bounds() {
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (release, released) = watch::channel(false);
    let (n, p) = (now.clone(), peak.clone());
    let up = upstream(move |_req: Request<Incoming>| {
        let (n, p, mut released) = (n.clone(), p.clone(), released.clone());
        async move {
            let current = n.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(current, Ordering::SeqCst);
            let _ = released.wait_for(|r| *r).await;
            n.fetch_sub(1, Ordering::SeqCst);
            Response::new(body(json!({"id": "7", "login": "a@x"}).to_string()))
        }
    })
    .await;
    let (sc, state) = start_with_state(load(&config_text(up, USERS))).await;
    let get = |sc: &Sidecar| {
        Request::get(sc.url("/scim/v2/Users/7"))
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(body(""))
            .unwrap()
    };
    let mut burst = Vec::new();
    for _ in 0..5 {
        let req = get(&sc);
        burst.push(tokio::spawn(async move { send(&client(), req).await }));
    }
    // Two calls reach the app, three wait in line.
    let rt = state.runtime();
    while now.load(Ordering::SeqCst) < 2 || rt.limits.app.waiting() < 3 {
        tokio::task::yield_now().await;
    }
    // The line is full: the next SCIM request is told to come back.
    let (parts, bytes) = send(&client(), get(&sc)).await;
    assert_eq!(parts.status, StatusCode::TOO_MANY_REQUESTS, "{bytes:?}");
    assert!(parts.headers.contains_key("retry-after"));
    assert_eq!(json(&bytes)["status"], "429");

    release.send(true).unwrap();
    for r in burst {
        let (parts, _) = r.await.unwrap();
        assert_eq!(parts.status, StatusCode::OK);
    }
    assert_eq!(
        peak.load(Ordering::SeqCst),
        2,
        "the app saw more than max_in_flight"
    );
}
