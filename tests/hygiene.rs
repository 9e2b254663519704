//! Path and header hygiene at the front door: spellings of a SCIM base
//! path are never passed through with the IdP's `Authorization`; spoofable
//! client-address and URL-override headers from untrusted peers do not
//! reach the app; a client's broken body is its own 400, an oversized app
//! answer a 502 naming the limit; locations use only a trustworthy origin;
//! HEAD works wherever GET does.

mod support;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const USERS: &str = r#"
[users.list]
get = "/api/users"
items = "$.items[*]"
total = "$.total"

[users.get]
get = "/api/users/{id}"

[users.create]
post = "/api/users"

[users.update]
patch = "/api/users/{id}"

[users.attributes]
id = { path = "$.id", mutability = "readOnly" }
userName = "$.login"
title = "$.title"
"#;

/// An app that echoes the headers it got as JSON and counts requests;
/// `/api/users…` answers like a user API (with a long title on `big`).
async fn echo_app(count: Arc<AtomicUsize>, auths: Arc<Mutex<Vec<String>>>) -> std::net::SocketAddr {
    upstream(move |req: Request<Incoming>| {
        let (count, auths) = (count.clone(), auths.clone());
        async move {
            count.fetch_add(1, Ordering::SeqCst);
            if let Some(a) = req.headers().get("authorization") {
                auths
                    .lock()
                    .unwrap()
                    .push(a.to_str().unwrap_or("").to_string());
            }
            let path = req.uri().path().to_string();
            let reply = if path == "/api/users" {
                json!({"items": [{"id": "7", "login": "a@x"}], "total": 1})
            } else if path == "/api/users/big" {
                json!({"id": "big", "login": "b@x", "title": "t".repeat(4000)})
            } else if path.starts_with("/api/users/") {
                json!({"id": "7", "login": "a@x"})
            } else {
                let headers: serde_json::Map<String, Value> = req
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
                    .collect();
                // Read the body, so a broken upload surfaces as an error.
                let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                Value::Object(headers)
            };
            Response::new(body(reply.to_string()))
        }
    })
    .await
}

struct App {
    count: Arc<AtomicUsize>,
    auths: Arc<Mutex<Vec<String>>>,
    addr: std::net::SocketAddr,
}

async fn app() -> App {
    let count = Arc::new(AtomicUsize::new(0));
    let auths = Arc::new(Mutex::new(Vec::new()));
    let addr = echo_app(count.clone(), auths.clone()).await;
    App { count, auths, addr }
}

async fn call(
    sc: &Sidecar,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (http::response::Parts, bytes::Bytes) {
    let mut b = Request::builder().method(method).uri(sc.url(path));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    send(&client(), b.body(body("")).unwrap()).await
}

#[tokio::test]
async fn base_path_spellings_never_reach_the_app() {
    let app = app().await;
    let sc = start(load(&config_text(app.addr, USERS))).await;
    let bearer = format!("Bearer {TOKEN}");
    for path in [
        "/SCIM/v2/Users",
        "//scim/v2/Users",
        "/scim/V2/Users",
        "/scim//v2//Users",
        "/Scim/V2/users/7",
    ] {
        let (parts, bytes) = call(&sc, "GET", path, &[("authorization", &bearer)]).await;
        assert_eq!(parts.status, StatusCode::OK, "{path}: {bytes:?}");
        assert_eq!(parts.headers["content-type"], "application/scim+json");
    }
    for path in [
        "/%73cim/v2/Users",
        "/scim%2Fv2/Users",
        "/x/../scim/v2/Users",
        "/scim;a=b/v2/Users",
    ] {
        let (parts, bytes) = call(&sc, "GET", path, &[("authorization", &bearer)]).await;
        assert_eq!(parts.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(json(&bytes)["status"], "400");
    }
    // SCIM work reaches the app with the host credentials only.
    assert!(app.auths.lock().unwrap().is_empty(), "{:?}", app.auths);
    let scim_calls = app.count.load(Ordering::SeqCst);
    // A path outside every base path is passed through, header and all.
    let (parts, _) = call(
        &sc,
        "GET",
        "/scim/v3/Users",
        &[("authorization", "Bearer app-own")],
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(app.count.load(Ordering::SeqCst), scim_calls + 1);
    assert_eq!(*app.auths.lock().unwrap(), vec!["Bearer app-own"]);
}

#[tokio::test]
async fn spoofable_headers_from_untrusted_peers_are_removed() {
    let app = app().await;
    let sc = start(load(&config_text(app.addr, ""))).await;
    let spoof = [
        ("x-client-ip", "6.6.6.6"),
        ("true-client-ip", "6.6.6.6"),
        ("cf-connecting-ip", "6.6.6.6"),
        ("x-original-url", "/admin"),
        ("x-rewrite-url", "/admin"),
        ("x_forwarded_for", "6.6.6.6"),
        ("x_real_ip", "6.6.6.6"),
        ("x-forwarded-for", "6.6.6.6"),
        ("x-kept", "yes"),
    ];
    let (parts, bytes) = call(&sc, "GET", "/echo", &spoof).await;
    assert_eq!(parts.status, StatusCode::OK);
    let seen = json(&bytes);
    for (name, _) in &spoof[..7] {
        assert!(seen.get(*name).is_none(), "{name} reached the app: {seen}");
    }
    assert_eq!(seen["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen["x-kept"], "yes");
}

/// Client-address and URL-override headers apps, frameworks and
/// request-IP libraries believe.
const CLIENT_ADDRESS_HEADERS: [&str; 22] = [
    "client-ip",
    "x-cluster-client-ip",
    "fastly-client-ip",
    "x-envoy-external-address",
    "x-envoy-original-remote-address",
    "true-client-ip",
    "cf-connecting-ip",
    "x-client-ip",
    "x-originating-ip",
    "x-remote-ip",
    "x-remote-addr",
    "forwarded-for",
    "x-forwarded",
    "x-original-forwarded-for",
    "x-real-ip",
    "forwarded",
    "x-azure-clientip",
    "wl-proxy-client-ip",
    "x_cluster_client_ip",
    "x-forwarded-scheme",
    "x-forwarded-ssl",
    "x-original-host",
];

#[tokio::test]
async fn client_address_headers_from_untrusted_peers_never_reach_the_app() {
    let app = app().await;
    let up = app.addr;
    let plain = start(load(&config_text(up, ""))).await;
    let text = config_text(up, "").replace(
        &format!("url = \"http://{up}\""),
        &format!("url = \"http://{up}\"\ntrusted_proxies = [\"127.0.0.0/8\"]"),
    );
    let behind_proxy = start(load(&text)).await;
    let spoof: Vec<(&str, &str)> = CLIENT_ADDRESS_HEADERS
        .iter()
        .map(|name| (*name, "6.6.6.6"))
        .collect();
    for (sc, trusted) in [(&plain, false), (&behind_proxy, true)] {
        let (_, bytes) = call(sc, "GET", "/echo", &spoof).await;
        let h = json(&bytes);
        for name in CLIENT_ADDRESS_HEADERS {
            // A trusted proxy may vouch for them; nobody else.
            assert_eq!(
                h.get(name).is_some(),
                trusted,
                "{name} (trusted peer: {trusted}): {h}"
            );
        }
    }
}

#[tokio::test]
async fn a_broken_client_body_is_400_not_502() {
    let app = app().await;
    let sc = start(load(&config_text(app.addr, ""))).await;
    let mut s = tokio::net::TcpStream::connect(sc.addr).await.unwrap();
    s.write_all(
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZZ\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let answer = String::from_utf8_lossy(&buf);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
}

#[tokio::test]
async fn an_oversized_app_answer_is_502_naming_the_limit() {
    let app = app().await;
    let extra = format!("[host]\nmax_response_bytes = 1024\n{USERS}");
    let sc = start(load(&config_text(app.addr, &extra))).await;
    let bearer = format!("Bearer {TOKEN}");
    let (parts, bytes) = call(
        &sc,
        "GET",
        "/scim/v2/Users/big",
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(parts.status, StatusCode::BAD_GATEWAY);
    let err = json(&bytes);
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("exceeds 1024 bytes"),
        "{err}"
    );
    // A small answer is fine.
    let (parts, _) = call(
        &sc,
        "GET",
        "/scim/v2/Users/7",
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
}

async fn location(sc: &Sidecar, headers: &[(&str, &str)]) -> String {
    let bearer = format!("Bearer {TOKEN}");
    let mut all = vec![("authorization", bearer.as_str())];
    all.extend_from_slice(headers);
    let (parts, bytes) = call(sc, "GET", "/scim/v2/Users/7", &all).await;
    assert_eq!(parts.status, StatusCode::OK);
    json(&bytes)["meta"]["location"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn locations_use_public_url_or_trusted_proxies_only() {
    let app = app().await;
    let forged = [
        ("host", "evil.example"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example"),
    ];

    let sc = start(load(&config_text(app.addr, USERS))).await;
    assert_eq!(location(&sc, &forged).await, "/scim/v2/Users/7");

    let text = config_text(app.addr, USERS).replace(
        "drain_timeout = \"5s\"",
        "drain_timeout = \"5s\"\npublic_url = \"https://sso.example.com\"",
    );
    let sc = start(load(&text)).await;
    assert_eq!(
        location(&sc, &forged).await,
        "https://sso.example.com/scim/v2/Users/7"
    );

    let text = config_text(app.addr, USERS).replace(
        &format!("url = \"http://{}\"", app.addr),
        &format!(
            "url = \"http://{}\"\ntrusted_proxies = [\"127.0.0.1\"]",
            app.addr
        ),
    );
    let sc = start(load(&text)).await;
    let via_proxy = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "idp-facing.example"),
    ];
    assert_eq!(
        location(&sc, &via_proxy).await,
        "https://idp-facing.example/scim/v2/Users/7"
    );
}

#[tokio::test]
async fn head_is_answered_where_get_is() {
    let app = app().await;
    let sc = start(load(&config_text(app.addr, USERS))).await;
    let bearer = format!("Bearer {TOKEN}");
    for path in [
        "/scim/v2/Users",
        "/scim/v2/Users/7",
        "/scim/v2/ServiceProviderConfig",
    ] {
        let (parts, bytes) = call(&sc, "HEAD", path, &[("authorization", &bearer)]).await;
        assert_eq!(parts.status, StatusCode::OK, "{path}");
        assert!(bytes.is_empty(), "{path}: HEAD has no body");
    }
    let (parts, _) = call(
        &sc,
        "POST",
        "/scim/v2/Users/7",
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(parts.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(parts.headers["allow"], "GET, HEAD, PUT, PATCH, DELETE");
}
