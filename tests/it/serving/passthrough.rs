//! Pass-through: everything outside the SCIM base path reaches the app with
//! its method, path, query, body, status and end-to-end headers intact,
//! hop-by-hop headers removed and `X-Forwarded-*` set; 502 and 504 when the
//! app fails; WebSocket upgrades relayed; HTTP/2 clients served.

use crate::support;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::*;
use tokio_tungstenite::tungstenite::Message;

/// An upstream that describes the request it got as JSON. `?status=N`
/// chooses the status; it also sends hop-by-hop headers to be stripped.
async fn echo(req: Request<Incoming>) -> Response<scim_sidecar::body::Body> {
    let (parts, b) = req.into_parts();
    let bytes = b.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let mut headers = BTreeMap::new();
    for (k, v) in &parts.headers {
        headers
            .entry(k.as_str().to_string())
            .or_insert_with(Vec::new)
            .push(v.to_str().unwrap_or("?").to_string());
    }
    let status = parts
        .uri
        .query()
        .and_then(|q| q.strip_prefix("status="))
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(200);
    let desc = json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&bytes),
    });
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-app", "legacy")
        .header("connection", "x-resp-hop")
        .header("x-resp-hop", "1")
        .header("keep-alive", "timeout=5")
        .body(body(serde_json::to_vec(&desc).unwrap()))
        .unwrap()
}

async fn sidecar_before_echo() -> Sidecar {
    let up = upstream(echo).await;
    start(load(&config_text(up, ""))).await
}

#[tokio::test]
async fn methods_paths_queries_bodies_and_statuses_pass_through() {
    let sc = sidecar_before_echo().await;
    let c = client();
    for (method, status) in [
        (Method::GET, 200u16),
        (Method::POST, 201),
        (Method::PUT, 204),
        (Method::PATCH, 418),
        (Method::DELETE, 404),
        (Method::OPTIONS, 500),
        (Method::from_bytes(b"PURGE").unwrap(), 200),
    ] {
        let url = sc.url(&format!("/app/items/7?status={status}"));
        let req = Request::builder()
            .method(method.clone())
            .uri(&url)
            .header("x-custom", "kept")
            .body(body(format!("payload for {method}")))
            .unwrap();
        let (parts, bytes) = send(&c, req).await;
        assert_eq!(parts.status.as_u16(), status, "{method}");
        assert_eq!(parts.headers["x-app"], "legacy");
        if status == 204 {
            continue; // no body on 204
        }
        let got = json(&bytes);
        assert_eq!(got["method"], method.as_str());
        assert_eq!(got["uri"], format!("/app/items/7?status={status}"));
        assert_eq!(got["headers"]["x-custom"][0], "kept");
        assert_eq!(got["body"], format!("payload for {method}"));
    }
}

#[tokio::test]
async fn hop_by_hop_headers_are_removed_both_ways() {
    let sc = sidecar_before_echo().await;
    let req = Request::get(sc.url("/hop"))
        .header("connection", "x-hop-one")
        .header("x-hop-one", "secret")
        .header("keep-alive", "timeout=9")
        .header("proxy-authorization", "Basic Zm9vOmJhcg==")
        .header("proxy-connection", "keep-alive")
        .header("te", "gzip, trailers")
        .header("upgrade", "h2c")
        .header("authorization", "Bearer app-session-token")
        .body(body(""))
        .unwrap();
    let (parts, bytes) = send(&client(), req).await;
    let got = json(&bytes);
    let headers = got["headers"].as_object().unwrap();
    // Every one of them was sent (RFC 9110 §7.6.1 lists them).
    for gone in [
        "x-hop-one",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "upgrade",
    ] {
        assert!(
            !headers.contains_key(gone),
            "{gone} reached the app: {headers:?}"
        );
    }
    // Of TE only `trailers` goes on: it is end-to-end in meaning (gRPC).
    assert_eq!(got["headers"]["te"], json!(["trailers"]));
    // The app's own Authorization (not a SCIM request) is end-to-end.
    assert_eq!(
        got["headers"]["authorization"][0],
        "Bearer app-session-token"
    );
    assert!(parts.headers.get("x-resp-hop").is_none());
    assert!(parts.headers.get("keep-alive").is_none());
    assert_eq!(parts.headers["x-app"], "legacy");
}

#[tokio::test]
async fn forwarded_headers_are_set_and_not_forgeable() {
    let sc = sidecar_before_echo().await;
    let req = Request::get(sc.url("/who"))
        .header("host", "app.example.com")
        .header("x-forwarded-for", "6.6.6.6")
        .header("x-forwarded-host", "evil.example")
        .body(body(""))
        .unwrap();
    let (_, bytes) = send(&client(), req).await;
    let h = &json(&bytes)["headers"];
    assert_eq!(h["x-forwarded-for"], json!(["127.0.0.1"]));
    assert_eq!(h["x-forwarded-proto"], json!(["http"]));
    assert_eq!(h["x-forwarded-host"], json!(["app.example.com"]));
    assert_eq!(h["host"], json!(["app.example.com"]));
}

#[tokio::test]
async fn trusted_proxies_extend_the_forwarded_chain() {
    let up = upstream(echo).await;
    let text = config_text(up, "").replace(
        &format!("url = \"http://{up}\""),
        &format!("url = \"http://{up}\"\ntrusted_proxies = [\"127.0.0.0/8\"]"),
    );
    let sc = start(load(&text)).await;
    let req = Request::get(sc.url("/who"))
        .header("x-forwarded-for", "203.0.113.7")
        .header("x-forwarded-proto", "https")
        .body(body(""))
        .unwrap();
    let (_, bytes) = send(&client(), req).await;
    let h = &json(&bytes)["headers"];
    assert_eq!(h["x-forwarded-for"], json!(["203.0.113.7, 127.0.0.1"]));
    assert_eq!(h["x-forwarded-proto"], json!(["https"]));
}

#[tokio::test]
async fn http2_clients_are_served_and_authority_becomes_host() {
    let sc = sidecar_before_echo().await;
    let req = Request::post(sc.url("/h2?x=1"))
        .version(http::Version::HTTP_2)
        .body(body("over h2"))
        .unwrap();
    let (parts, bytes) = send(&h2_client(), req).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(parts.version, http::Version::HTTP_2);
    let got = json(&bytes);
    assert_eq!(got["body"], "over h2");
    assert_eq!(got["uri"], "/h2?x=1");
    assert_eq!(got["headers"]["host"][0], sc.addr.to_string());
    assert_eq!(got["headers"]["x-forwarded-host"][0], sc.addr.to_string());
}

#[tokio::test]
async fn response_trailers_pass_through() {
    let up = upstream(|_req| async {
        let mut trailers = http::HeaderMap::new();
        trailers.insert("x-checksum", "abc123".parse().unwrap());
        let frames = vec![
            Ok::<_, hyper::Error>(hyper::body::Frame::data(Bytes::from_static(b"data"))),
            Ok(hyper::body::Frame::trailers(trailers)),
        ];
        let b = http_body_util::StreamBody::new(futures_util::stream::iter(frames));
        Response::builder()
            .header("trailer", "x-checksum")
            .body(BodyExt::boxed(b))
            .unwrap()
    })
    .await;
    let sc = start(load(&config_text(up, ""))).await;
    let req = Request::get(sc.url("/t"))
        .header("te", "gzip, trailers")
        .body(body(""))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    let collected = resp.into_body().collect().await.unwrap();
    let trailers = collected
        .trailers()
        .cloned()
        .expect("trailers reached the client");
    assert_eq!(trailers["x-checksum"], "abc123");
    assert_eq!(collected.to_bytes(), Bytes::from_static(b"data"));
}

#[tokio::test]
async fn unreachable_app_is_502() {
    let sc = start(load(&config_text(closed_port().await, ""))).await;
    let (parts, bytes) = send(
        &client(),
        Request::get(sc.url("/x")).body(body("")).unwrap(),
    )
    .await;
    assert_eq!(parts.status, StatusCode::BAD_GATEWAY);
    assert!(String::from_utf8_lossy(&bytes).contains("unreachable"));
}

#[tokio::test]
async fn slow_app_is_504() {
    let up = upstream(|_req| async {
        std::future::pending::<()>().await;
        unreachable!()
    })
    .await;
    let text = config_text(up, "").replace(
        &format!("url = \"http://{up}\""),
        &format!("url = \"http://{up}\"\nresponse_header_timeout = \"300ms\""),
    );
    let sc = start(load(&text)).await;
    let started = std::time::Instant::now();
    let (parts, _) = send(
        &client(),
        Request::get(sc.url("/slow")).body(body("")).unwrap(),
    )
    .await;
    assert_eq!(parts.status, StatusCode::GATEWAY_TIMEOUT);
    // The configured 300 ms, not the 60 s default, gave the 504.
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "504 after {took:?}"
    );
}

/// An upstream that accepts WebSocket upgrades and echoes every message.
async fn websocket_echo(mut req: Request<Incoming>) -> Response<scim_sidecar::body::Body> {
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    use tokio_tungstenite::tungstenite::protocol::Role;
    let key = req.headers().get("sec-websocket-key").cloned();
    let Some(key) = key else {
        return Response::builder()
            .status(400)
            .body(body("not a websocket"))
            .unwrap();
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let io = hyper_util::rt::TokioIo::new(upgraded);
        let mut ws =
            tokio_tungstenite::WebSocketStream::from_raw_socket(io, Role::Server, None).await;
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                break;
            }
            if ws.send(msg).await.is_err() {
                break;
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", derive_accept_key(key.as_bytes()))
        .body(body(""))
        .unwrap()
}

#[tokio::test]
async fn websocket_echo_through_the_proxy() {
    let up = upstream(websocket_echo).await;
    let sc = start(load(&config_text(up, ""))).await;
    let stream = tokio::net::TcpStream::connect(sc.addr).await.unwrap();
    let url = format!("ws://{}/ws", sc.addr);
    let (mut ws, resp) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("handshake");
    assert_eq!(resp.status(), StatusCode::SWITCHING_PROTOCOLS);
    ws.send(Message::text("hello through the sidecar"))
        .await
        .unwrap();
    let echoed = ws.next().await.unwrap().unwrap();
    assert_eq!(
        echoed.into_text().unwrap().as_str(),
        "hello through the sidecar"
    );
    let big = vec![7u8; 200_000];
    ws.send(Message::binary(big.clone())).await.unwrap();
    let echoed = ws.next().await.unwrap().unwrap();
    assert_eq!(echoed.into_data().as_ref(), big.as_slice());
    ws.close(None).await.unwrap();
}

#[tokio::test]
async fn admin_livez_startupz_and_readyz_follow_the_app() {
    let sc = sidecar_before_echo().await;
    let c = client();
    let admin = |p: &str| format!("http://{}{p}", sc.admin);
    let (live, _) = send(&c, Request::get(admin("/livez")).body(body("")).unwrap()).await;
    assert_eq!(live.status, StatusCode::OK);
    let (ready, _) = send(&c, Request::get(admin("/readyz")).body(body("")).unwrap()).await;
    assert_eq!(ready.status, StatusCode::OK);

    let down = start(load(&config_text(closed_port().await, ""))).await;
    let admin = |p: &str| format!("http://{}{p}", down.admin);
    let (live, _) = send(&c, Request::get(admin("/livez")).body(body("")).unwrap()).await;
    assert_eq!(
        live.status,
        StatusCode::OK,
        "liveness never depends on the app"
    );
    let (ready, _) = send(&c, Request::get(admin("/readyz")).body(body("")).unwrap()).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    // Started (config loaded, listeners bound and accepting) without the
    // app: a native sidecar's startup probe passes before the app starts.
    let (started, bytes) = send(&c, Request::get(admin("/startupz")).body(body("")).unwrap()).await;
    assert_eq!(started.status, StatusCode::OK, "{bytes:?}");
}

#[tokio::test]
async fn json_bodies_round_trip_unchanged() {
    let sc = sidecar_before_echo().await;
    let payload = json!({"a": [1, 2, 3], "ü": "ñ"}).to_string();
    let req = Request::post(sc.url("/api/x"))
        .header("content-type", "application/json")
        .body(body(payload.clone()))
        .unwrap();
    let (_, bytes) = send(&client(), req).await;
    let got: Value = json(&bytes);
    assert_eq!(got["body"], payload);
    assert_eq!(got["headers"]["content-type"][0], "application/json");
}
