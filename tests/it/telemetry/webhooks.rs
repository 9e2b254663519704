//! Webhooks against in-test receivers: provisioning events arrive as JSON
//! whose `X-Scim-Sidecar-Signature` verifies with an HMAC computed here
//! from the documented scheme; a receiver that fails first sees the same
//! event again; a stuck receiver with a full queue makes the sidecar drop
//! (count and log) new events while SCIM requests keep being answered; a
//! receiver that refuses an event for good is not retried.

use crate::support;

use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use scim_sidecar::config::{Connection, Idp, WebhookConfig};
use scim_sidecar::telemetry::webhook::Webhooks;
use scim_sidecar::telemetry::{EventKind, Metrics, ProvisioningEvent};
use serde_json::{Value, json};
use sha2::Sha256;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::*;
use tokio::sync::mpsc;

const SECRET: &str = "whsec-test-0123456789abcdef";
const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// One request as the receiver saw it.
struct Delivery {
    headers: HeaderMap,
    body: bytes::Bytes,
}

/// A receiver that reports every request on `tx` and answers with
/// `answer(n)` for the n-th request (0-based); `None` never answers.
async fn receiver(
    tx: mpsc::UnboundedSender<Delivery>,
    answer: impl Fn(usize) -> Option<u16> + Clone + Send + Sync + 'static,
) -> SocketAddr {
    let n = Arc::new(AtomicUsize::new(0));
    upstream(move |req: Request<Incoming>| {
        let (tx, answer, n) = (tx.clone(), answer.clone(), n.clone());
        async move {
            let (parts, b) = req.into_parts();
            let body = b.collect().await.unwrap().to_bytes();
            let _ = tx.send(Delivery {
                headers: parts.headers,
                body,
            });
            match answer(n.fetch_add(1, Ordering::SeqCst)) {
                Some(status) => Response::builder()
                    .status(status)
                    .body(support::body("ok"))
                    .unwrap(),
                None => std::future::pending().await,
            }
        }
    })
    .await
}

/// Checks the documented signature scheme with an HMAC computed here:
/// `t=<secs>,v1=hex(HMAC-SHA256(secret, "<t>.<body>"))`, `t` recent.
fn assert_signed(d: &Delivery) {
    let header = d.headers["x-scim-sidecar-signature"].to_str().unwrap();
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("bad signature header {header}"));
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let t_secs: u64 = t.parse().unwrap();
    assert!(now.abs_diff(t_secs) < 300, "stale timestamp {t}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(&d.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v1, expected, "signature does not verify");
    let mut tampered = Hmac::<Sha256>::new_from_slice(b"another secret entirely").unwrap();
    tampered.update(t.as_bytes());
    tampered.update(b".");
    tampered.update(&d.body);
    assert_ne!(hex(&tampered.finalize().into_bytes()), v1);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn webhook_toml(addr: SocketAddr, extra: &str) -> String {
    format!(
        r#"
[[webhooks]]
name = "test"
url = "http://{addr}/hooks/scim"
secret = "{SECRET}"
backoff = "10ms"
max_backoff = "50ms"
{extra}
"#
    )
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the receiver got nothing within 10 s")
        .expect("receiver channel closed")
}

async fn create_user(sc: &Sidecar, user_name: &str) -> Value {
    let body = json!({"schemas": [USER_URN], "userName": user_name, "active": true});
    let create = call(sc, "POST", "/scim/v2/Users", Some(body));
    let (status, created) = tokio::time::timeout(Duration::from_secs(5), create)
        .await
        .expect("a SCIM request waited on a webhook");
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test]
async fn signed_events_are_retried_until_delivered() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    // 503 first, then 200.
    let addr = receiver(tx, |n| Some(if n == 0 { 503 } else { 200 })).await;
    let (sc, _app) = start_example_with(|t| t + &webhook_toml(addr, "")).await;

    let created = create_user(&sc, "hooked.user@example.com").await;
    let id = created["id"].as_str().unwrap();
    let first = next(&mut rx).await;
    let second = next(&mut rx).await;
    for d in [&first, &second] {
        assert_signed(d);
        assert_eq!(d.headers["content-type"], "application/json");
        assert_eq!(d.headers["x-scim-sidecar-event"], "user.created");
    }
    // The same event, re-signed: same delivery id and body.
    assert_eq!(
        first.headers["x-scim-sidecar-delivery"],
        second.headers["x-scim-sidecar-delivery"]
    );
    assert_eq!(first.body, second.body);
    let event: Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(event["type"], "user.created");
    assert_eq!(
        event["id"],
        second.headers["x-scim-sidecar-delivery"].to_str().unwrap()
    );
    assert_eq!(event["resource"], json!({"type": "User", "id": id}));
    assert_eq!(
        (&event["connection"], &event["idp"]),
        (&json!("demo"), &json!("okta"))
    );
    assert_eq!(event["result"], "success");
    assert!(
        event["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!("userName"))
    );
    assert!(event["time"].as_str().unwrap().ends_with('Z'));
    let body = String::from_utf8_lossy(&second.body);
    assert!(
        !body.contains("hooked.user"),
        "an attribute value leaked: {body}"
    );
}

#[tokio::test]
async fn retries_and_drops_are_counted() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let addr = receiver(tx, |n| Some(if n == 0 { 500 } else { 204 })).await;
    let (_app, app_addr) = start_example_app().await;
    let config = example_config(&app_addr.to_string(), |t| {
        t + &webhook_toml(addr, "events = [\"user.*\"]")
    });
    // The state outlives the server, so its registry is readable after
    // the shutdown.
    let (sc, state) = start_with_state(config).await;
    let mut sc = sc.with_token(EXAMPLE_TOKEN);
    create_user(&sc, "counted@example.com").await;
    next(&mut rx).await;
    next(&mut rx).await;
    // Shutting down waits for the delivery task to finish its event.
    sc.shutdown();
    (&mut sc.task).await.unwrap().unwrap();

    let text = state.metrics.encode();
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_webhook_deliveries_total{webhook=\"test\",result=\"failed\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_webhook_deliveries_total{webhook=\"test\",result=\"delivered\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric_sum(&text, "scim_sidecar_webhook_events_dropped_total"),
        0.0
    );
}

#[tokio::test]
async fn a_stuck_receiver_with_a_full_queue_drops_without_slowing_scim() {
    let logs = LogBuf::default();
    let _guard = logs.capture("info");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let addr = receiver(tx, |_| None).await;
    let extra = "queue = 1\ntimeout = \"60s\"";
    let (sc, _app) = start_example_with(|t| t + &webhook_toml(addr, extra)).await;

    // The first event is taken by the delivery task, which then waits on
    // the receiver; the second fills the queue; the third has no room.
    create_user(&sc, "one@example.com").await;
    let first = next(&mut rx).await;
    assert_signed(&first);
    create_user(&sc, "two@example.com").await;
    create_user(&sc, "three@example.com").await;

    let text = metrics_text(&sc).await;
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_webhook_events_dropped_total{webhook=\"test\",reason=\"queue_full\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "scim_sidecar_webhook_queue_length{webhook=\"test\"}"),
        Some(1.0)
    );
    let dropped: Vec<Value> = logs
        .json_lines()
        .into_iter()
        .filter(|l| l["message"] == "webhook event dropped")
        .collect();
    assert_eq!(dropped.len(), 1, "{}", logs.text());
    assert_eq!(
        (
            &dropped[0]["reason"],
            &dropped[0]["webhook"],
            &dropped[0]["event"]
        ),
        (&json!("queue_full"), &json!("test"), &json!("user.created"))
    );
    assert!(dropped[0]["event_id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(dropped[0]["level"], "WARN");
}

fn hook(addr: SocketAddr, events: &[&str]) -> WebhookConfig {
    WebhookConfig {
        name: "direct".into(),
        url: format!("http://{addr}/").parse().unwrap(),
        secret: scim_sidecar::config::webhooks::Secret::new(SECRET),
        events: events.iter().map(|e| e.to_string()).collect(),
        timeout: Duration::from_secs(5),
        max_attempts: 5,
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(10),
        queue: 10,
    }
}

/// Webhooks with one receiver, TLS through ring.
fn webhooks(cfg: WebhookConfig, metrics: &Arc<Metrics>) -> Webhooks {
    let ring = Arc::new(rustls::crypto::ring::default_provider());
    Webhooks::new(&[cfg], metrics.clone(), ring)
}

/// A connection as the config would hold it.
fn connection(idp: Idp) -> Connection {
    Connection {
        id: "acme".into(),
        idp,
        token_hashes: vec![],
        vars: Default::default(),
        base_path: "/scim/v2".into(),
        rate_limit: None,
    }
}

#[tokio::test]
async fn refused_events_are_not_retried_and_filters_apply() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let addr = receiver(tx, |_| Some(400)).await;
    let metrics = Arc::new(Metrics::new());
    let hooks = webhooks(hook(addr, &["user.deleted"]), &metrics);
    hooks.start();
    let conn = connection(Idp::Entra);
    // Not subscribed: never sent.
    hooks.enqueue(&ProvisioningEvent::new(EventKind::UserCreated, &conn, "1"));
    hooks.enqueue(&ProvisioningEvent::new(EventKind::UserDeleted, &conn, "1"));
    let d = next(&mut rx).await;
    assert_eq!(d.headers["x-scim-sidecar-event"], "user.deleted");
    hooks.shutdown(Duration::from_secs(2)).await;
    assert!(rx.try_recv().is_err(), "a refused event was retried");
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_webhook_events_dropped_total{webhook=\"direct\",reason=\"rejected\"}"
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn shutdown_flushes_within_its_deadline_and_counts_what_is_left() {
    let logs = LogBuf::default();
    let _guard = logs.capture("warn");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let addr = receiver(tx, |_| None).await;
    let metrics = Arc::new(Metrics::new());
    let mut cfg = hook(addr, &["*"]);
    cfg.timeout = Duration::from_secs(60);
    let hooks = webhooks(cfg, &metrics);
    hooks.start();
    let conn = connection(Idp::Okta);
    for id in ["1", "2", "3"] {
        hooks.enqueue(&ProvisioningEvent::new(EventKind::UserUpdated, &conn, id));
    }
    next(&mut rx).await;
    // The receiver holds the first delivery forever; shutdown still ends
    // at its flush deadline, with every undelivered event counted.
    tokio::time::timeout(
        Duration::from_secs(5),
        hooks.shutdown(Duration::from_millis(200)),
    )
    .await
    .expect("shutdown waited past its flush deadline");
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_webhook_events_dropped_total{webhook=\"direct\",reason=\"shutdown\"}"
        ),
        Some(3.0),
        "{text}"
    );
    let dropped = logs
        .json_lines()
        .into_iter()
        .filter(|l| l["message"] == "webhook event dropped" && l["reason"] == "shutdown")
        .count();
    assert_eq!(dropped, 3, "{}", logs.text());
}

/// A reload that changes `[[webhooks]]` takes effect at once: events after
/// it go to the new receiver and no longer to the removed one; a receiver
/// added beside an unchanged one gets events alongside it.
#[tokio::test]
async fn a_reload_puts_new_receivers_in_force() {
    let (tx_a, mut rx_a) = mpsc::unbounded_channel();
    let a = receiver(tx_a, |_| Some(200)).await;
    let (tx_b, mut rx_b) = mpsc::unbounded_channel();
    let b = receiver(tx_b, |_| Some(200)).await;
    let (_app, app_addr) = start_example_app().await;
    let app = app_addr.to_string();
    let b_toml = webhook_toml(b, "").replace("name = \"test\"", "name = \"b\"");
    let (sc, state) = start_with_state(example_config(&app, |t| t + &webhook_toml(a, ""))).await;
    let sc = sc.with_token(EXAMPLE_TOKEN);
    let resource =
        |d: &Delivery| serde_json::from_slice::<Value>(&d.body).unwrap()["resource"]["id"].clone();

    let first = create_user(&sc, "before.reload@example.com").await;
    assert_eq!(resource(&next(&mut rx_a).await), first["id"]);

    state.apply(example_config(&app, |t| t + &b_toml));
    let second = create_user(&sc, "after.reload@example.com").await;
    assert_eq!(resource(&next(&mut rx_b).await), second["id"]);
    assert!(
        rx_a.try_recv().is_err(),
        "the removed receiver got an event"
    );

    state.apply(example_config(&app, |t| t + &b_toml + &webhook_toml(a, "")));
    let third = create_user(&sc, "both.receivers@example.com").await;
    assert_eq!(resource(&next(&mut rx_a).await), third["id"]);
    assert_eq!(resource(&next(&mut rx_b).await), third["id"]);
}

/// A receiver removed by a reload still delivers what it had queued,
/// retries included, under the settings it was queued for.
#[tokio::test]
async fn a_removed_receiver_delivers_what_it_had_queued() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    // 503 first, then 200.
    let addr = receiver(tx, |n| Some(if n == 0 { 503 } else { 200 })).await;
    let metrics = Arc::new(Metrics::new());
    let hooks = webhooks(hook(addr, &["*"]), &metrics);
    hooks.start();
    hooks.enqueue(&ProvisioningEvent::new(
        EventKind::UserUpdated,
        &connection(Idp::Okta),
        "1",
    ));
    hooks.reconfigure(&[]);
    assert!(hooks.is_empty());
    let first = next(&mut rx).await;
    let second = next(&mut rx).await;
    assert_eq!(
        first.headers["x-scim-sidecar-delivery"], second.headers["x-scim-sidecar-delivery"],
        "the retry is the same event"
    );
    assert_signed(&second);
    hooks.shutdown(Duration::from_secs(2)).await;
    let text = metrics.encode();
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_webhook_deliveries_total{webhook=\"direct\",result=\"delivered\"}"
        ),
        Some(1.0),
        "{text}"
    );
}
