//! What the sidecar does when the app misbehaves or the client sends hostile
//! input: ids that try to change the app endpoint are encoded as one path
//! segment; app errors, garbage and timeouts become SCIM 502/504 errors;
//! filters the app cannot answer are evaluated up to the scan limit and
//! refused beyond it — never answered with a silent empty list.

use crate::support;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};
use support::record::{Recorder, Seen};
use support::*;

const MAPPING: &str = r#"
[scim]
filter_scan_limit = 5
request_timeout = "1s"

[host]
timeout = "300ms"

[users.list]
get = "/u"
items = "$.items[*]"
paging = "none"

[users.get]
get = "/u/{id}"

[users.create]
post = "/u"

[users.update]
patch = "/u/{id}"

[users.attributes]
userName = "$.name"
title = "$.title"
"#;

/// An app whose list holds `n` users and whose item endpoint misbehaves on
/// purpose; it records every request it receives.
async fn odd_app(n: usize, rec: Recorder) -> std::net::SocketAddr {
    upstream(move |req: Request<Incoming>| {
        let rec = rec.clone();
        async move {
            let path = req.uri().path().to_string();
            rec.record(Seen::new(&req.into_parts().0, &[]));
            let respond = |status: u16, body: String| Response::builder().status(status).body(support::body(body)).unwrap();
            match path.as_str() {
                "/u" => {
                    let items: Vec<Value> = (0..n)
                        .map(|i| json!({"id": i, "name": format!("user{i}"), "title": if i % 2 == 0 { json!("Eng") } else { Value::Null }}))
                        .collect();
                    respond(200, json!({"items": items}).to_string())
                }
                "/u/boom" => respond(500, "internal error with a stack trace and user@example.com".into()),
                "/u/garbage" => respond(200, "<html>not json</html>".into()),
                "/u/noid" => respond(200, json!({"name": "x"}).to_string()),
                "/u/slow" => {
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                _ => respond(404, json!({"error": "not found"}).to_string()),
            }
        }
    })
    .await
}

async fn setup(n: usize) -> (Sidecar, Recorder) {
    let rec = Recorder::default();
    let app = odd_app(n, rec.clone()).await;
    (start(load(&config_text(app, MAPPING))).await, rec)
}

#[tokio::test]
async fn hostile_ids_stay_one_encoded_path_segment() {
    let (sc, seen) = setup(1).await;
    for (id, expected) in [
        ("..%2F..%2Fadmin", "/u/..%2F..%2Fadmin"),
        ("a%2Fb", "/u/a%2Fb"),
        ("x%0D%0AHost:%20evil", "/u/x%0D%0AHost%3A%20evil"),
        ("a%3Fq%3D1%23f", "/u/a%3Fq%3D1%23f"),
        ("%25", "/u/%25"),
    ] {
        seen.clear();
        let (status, err) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}: {err}");
        assert_eq!(err["status"], "404");
        assert_eq!(seen.calls(), [format!("GET {expected}")], "{id}");
        assert!(seen.seen()[0].query.is_empty(), "{id}");
    }
    // Dot-only ids never reach the app at all.
    for id in ["%2E%2E", ".", "%2e"] {
        seen.clear();
        let (status, _) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert!(seen.seen().is_empty(), "{id} reached the app");
    }
}

#[tokio::test]
async fn app_failures_become_scim_errors_without_app_data() {
    let (sc, _) = setup(1).await;
    let (status, err) = call(&sc, "GET", "/scim/v2/Users/boom", None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(err["status"], "502");
    assert!(
        !err["detail"].as_str().unwrap().contains("user@example.com"),
        "app body leaked: {err}"
    );
    let (status, err) = call(&sc, "GET", "/scim/v2/Users/garbage", None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    let (status, err) = call(&sc, "GET", "/scim/v2/Users/noid", None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
}

#[tokio::test]
async fn a_slow_app_is_cut_at_the_host_timeout() {
    // A request deadline far above the 300 ms host timeout: only the host
    // timeout can answer quickly.
    let app = odd_app(1, Recorder::default()).await;
    let mapping = MAPPING.replace("request_timeout = \"1s\"", "request_timeout = \"20s\"");
    assert_ne!(mapping, MAPPING);
    let sc = start(load(&config_text(app, &mapping))).await;
    let started = std::time::Instant::now();
    let (status, err) = call(&sc, "GET", "/scim/v2/Users/slow", None).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{err}");
    assert_eq!(err["status"], "504");
    assert!(
        took < std::time::Duration::from_secs(5),
        "504 after {took:?}"
    );
}

#[tokio::test]
async fn unreachable_app_is_a_scim_502() {
    let text = config_text(closed_port().await, MAPPING);
    let sc = start(load(&text)).await;
    let (status, err) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        err["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
}

#[tokio::test]
async fn filters_without_push_down_are_evaluated_within_the_scan_limit() {
    let (sc, _) = setup(5).await;
    let (status, list) = call(&sc, "GET", "/scim/v2/Users?filter=title%20pr", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalResults"], json!(3));
    let (status, list) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22USER3%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["totalResults"],
        json!(1),
        "userName matches case-insensitively"
    );
    assert_eq!(list["Resources"][0]["id"], "3");
}

#[tokio::test]
async fn filters_beyond_the_scan_limit_are_refused_not_emptied() {
    let (sc, _) = setup(6).await;
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22nobody%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "invalidFilter");
    // Unfiltered paging still works: the app returns everything at once.
    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=3&count=2", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["itemsPerPage"], json!(2));
    assert_eq!(list["totalResults"], json!(6));
    assert_eq!(list["Resources"][0]["id"], "2");
}

#[tokio::test]
async fn a_body_that_never_arrives_is_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (sc, seen) = setup(1).await;
    // Raw TCP: a body shorter than its Content-Length, which no helper sends.
    let mut stream = tokio::net::TcpStream::connect(sc.addr).await.unwrap();
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{{\"userName\""
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 1024];
    let read =
        tokio::time::timeout(std::time::Duration::from_secs(20), stream.read(&mut buf)).await;
    let n = read.expect("the sidecar answered").unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"status\":\"408\""), "{text}");
    assert!(seen.seen().is_empty(), "nothing reached the app");
}

#[tokio::test]
async fn filters_on_unmapped_attributes_are_invalid_not_empty() {
    let (sc, seen) = setup(3).await;
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=ims.value%20eq%20%22x%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "invalidFilter");
    assert!(err["detail"].as_str().unwrap().contains("ims"));
    assert!(seen.seen().is_empty(), "the app was not asked");
}

/// An app that caps its pages at 2 while the mapping declares 5, and
/// reports its total: the sidecar must not skip records silently.
#[tokio::test]
async fn pages_shorter_than_declared_are_a_502_not_a_gap() {
    let app = upstream(|req: Request<Incoming>| async move {
        let q = req.uri().query().unwrap_or("").to_string();
        let offset: usize = q
            .split('&')
            .find_map(|p| p.strip_prefix("offset="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let items: Vec<Value> = (offset..5)
            .take(2)
            .map(|i| json!({"id": i, "name": format!("u{i}"), "title": "t"}))
            .collect();
        Response::new(body(json!({"items": items, "total": 5}).to_string()))
    })
    .await;
    let mapping = MAPPING.replace(
        "get = \"/u\"\nitems = \"$.items[*]\"\npaging = \"none\"",
        "get = \"/u\"\nquery = { offset = \"{offset}\", limit = \"{limit}\" }\nitems = \"$.items[*]\"\ntotal = \"$.total\"\nmax_page_size = 5",
    );
    assert_ne!(mapping, MAPPING);
    let sc = start(load(&config_text(app, &mapping))).await;
    let (status, err) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=5", None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("max_page_size"));
    let (status, err) = call(&sc, "GET", "/scim/v2/Users?filter=title%20pr", None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "offset walks continue from where a short page stopped: {err}"
    );
    assert_eq!(err["totalResults"], json!(5));
}
