//! Path and header hygiene at the front door: spellings of a SCIM base
//! path — and aliases a lenient app would read as one (encodings, trailing
//! dots, path parameters, fullwidth letters) — are never passed through
//! with the IdP's `Authorization`; spoofable client-address and
//! URL-override headers from untrusted peers do not reach the app; a client's broken body is its own 400, an oversized app
//! answer a 502 naming the limit; locations use only a trustworthy origin;
//! HEAD works wherever GET does.

use crate::support;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::record::Recorder;
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

/// Sends `GET <path>` as raw HTTP/1.1 bytes (for targets a `Uri` will not
/// hold) and returns the status and body.
async fn raw_get(sc: &Sidecar, path: &[u8]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(sc.addr).await.unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(path);
    req.extend_from_slice(
        format!(
            " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    stream.write_all(&req).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

#[tokio::test]
async fn spellings_that_alias_a_base_path_are_refused_and_never_forwarded() {
    let rec = Recorder::default();
    let up = support::app::App::handler(|_| Response::new(body("app")))
        .recorded(&rec)
        .serve()
        .await;
    // A second connection on a base path of its own.
    let tenant = format!(
        "[[connections]]\nid = \"acme\"\nidp = \"entra\"\nbase_path = \"/tenants/acme/scim\"\ntokens = [\"{}\"]\n",
        scim_sidecar::auth::token_hash_string("acme-token-0123456789abcdefghijklmnopq")
    );
    let sc = start(load(&config_text(up, &tenant))).await;
    let bearer = format!("Bearer {TOKEN}");
    let get = |path: &str| {
        Request::get(sc.url(path))
            .header("authorization", &bearer)
            .body(body(""))
            .unwrap()
    };
    for path in [
        // Trailing dots and spaces (Windows, IIS).
        "/scim/v2./Users",
        "/scim/v2../Users",
        "/scim/v2.",
        "/scim/v2%2e/",
        "/scim/v2%2E%2E/Users",
        "/scim/v2%20/",
        "/scim/v2%20%20/Users",
        "/scim/v2%09/Users",
        "/scim/v2%00/Users",
        "/scim%20/v2/Users",
        // Percent-encoding, once or twice.
        "/scim/v2%2FUsers",
        "/scim%2Fv2/Users",
        "/%73cim/v2/Users",
        "/scim/v2%252e/Users",
        "/%2573cim/v2/Users",
        // Path parameters (Servlet containers).
        "/scim/v2;x/Users",
        "/scim;jsessionid=1/v2/Users",
        "/scim/v2%3Bx/Users",
        // Dot segments and backslashes.
        "/x/../scim/v2/Users",
        "/x/..%2Fscim/v2/Users",
        "/x/%2e%2e/scim/v2/Users",
        "/./scim/v2/Users",
        "/scim%5Cv2/Users",
        // Compatibility forms (NFKC): fullwidth, mathematical, circled,
        // superscript, Kelvin sign, long s.
        "/scim/%EF%BD%962/Users",
        "/%EF%BD%93%EF%BD%83%EF%BD%89%EF%BD%8D/%EF%BD%96%EF%BC%92/Users",
        "/scim%EF%BC%8Fv2/Users",
        "/%F0%9D%90%AC%F0%9D%90%9C%F0%9D%90%A2%F0%9D%90%A6/v2/Users",
        "/%E2%93%A2cim/v2/Users",
        "/scim/v%C2%B2/Users",
        "/%C5%BFcim/v2/Users",
        // A connection's own base path, spelt the same ways.
        "/tenants/acme/scim./Users",
        "/tenants/%61cme/scim/Users",
        "/tenants/acme/%EF%BD%93cim/Users",
        "/TENANTS/ACME/SCIM%20/Users",
    ] {
        let (parts, bytes) = send(&client(), get(path)).await;
        assert_eq!(parts.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(parts.headers["content-type"], "application/scim+json");
        let err = json(&bytes);
        assert_eq!(err["status"], "400", "{path}: {err}");
        assert_eq!(
            err["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
    }
    // Raw UTF-8 in the request target (fullwidth `ｖ`, `ｓｃｉｍ`), which
    // the HTTP parser lets through: refused the same way.
    for raw in ["/scim/ｖ2/Users", "/ｓｃｉｍ/v2/Users"] {
        let (status, body) = raw_get(&sc, raw.as_bytes()).await;
        assert_eq!(status, 400, "{raw}: {body}");
        assert!(body.contains("messages:2.0:Error"), "{raw}: {body}");
    }
    assert!(
        rec.seen().is_empty(),
        "an alias reached the app: {:?}",
        rec.calls()
    );
    // Look-alikes that are not the base path are the app's.
    let look_alikes = [
        "/scim/v2x/Users",
        "/scimfoo",
        "/scim/v2.1/Users",
        "/scim/v2-beta/Users",
        "/scim/v22/Users",
        "/scim/v1/Users",
        "/scim/%EF%BD%963/Users",
        "/tenants/acme/scimx/Users",
        "/tenants/acme.json",
        "/assets/app.js",
    ];
    for path in look_alikes {
        let (parts, bytes) = send(&client(), get(path)).await;
        assert_eq!(parts.status, StatusCode::OK, "{path}");
        assert_eq!(&bytes[..], b"app", "{path}");
    }
    assert_eq!(rec.seen().len(), look_alikes.len(), "{:?}", rec.calls());
}
