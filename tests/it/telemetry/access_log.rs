//! Pass-through access lines, captured in-process: one line per request
//! passed to the app, on the target `scim_sidecar::access`, with method,
//! path without its query, status, body bytes, duration, request id and
//! client address, and never the query, a header value or a body. A
//! failed pass-through names its request id, method and path; a response
//! that broke off, or that the client left, is an error line. `[log]
//! access = "errors"` keeps only failures, `"off"` none, a reload switches
//! between them, and an unknown value is refused with its location.

use crate::support;

use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::time::Duration;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACCESS: &str = "scim_sidecar::access";

/// The access lines logged so far.
fn access_lines(logs: &LogBuf) -> Vec<Value> {
    logs.json_lines()
        .into_iter()
        .filter(|l| l["target"] == ACCESS)
        .collect()
}

/// The access line of request `rid`, once it is written.
async fn access_line(logs: &LogBuf, rid: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(l) = access_lines(logs)
            .into_iter()
            .find(|l| l["request_id"] == rid)
        {
            return l;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no access line for {rid} in\n{}",
            logs.text()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn get(sc: &Sidecar, path: &str, rid: &str) -> Request<scim_sidecar::body::Body> {
    Request::get(sc.url(path))
        .header("x-request-id", rid)
        .header("authorization", "Bearer app-session-canary")
        .body(body(""))
        .unwrap()
}

#[tokio::test]
async fn every_pass_through_request_has_one_access_line() {
    let logs = LogBuf::default();
    let _guard = logs.capture("info");
    let (sc, _app) = start_example().await;
    let c = client();
    let (home, home_body) = send(&c, get(&sc, "/?session=query-canary-1", "acc-1")).await;
    assert_eq!(home.status, StatusCode::OK);
    let echo = Request::post(sc.url("/echo?next=query-canary-2"))
        .header("x-request-id", "acc-2")
        .body(body("body-canary-3"))
        .unwrap();
    let (echoed, echo_body) = send(&c, echo).await;
    assert_eq!(echoed.status, StatusCode::OK);
    let (missing, missing_body) = send(&c, get(&sc, "/no-such-page", "acc-3")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    for (rid, method, path, status, bytes) in [
        ("acc-1", "GET", "/", 200, home_body.len()),
        ("acc-2", "POST", "/echo", 200, echo_body.len()),
        ("acc-3", "GET", "/no-such-page", 404, missing_body.len()),
    ] {
        let l = access_line(&logs, rid).await;
        assert_eq!(l["level"], "INFO", "{l}");
        assert_eq!(l["message"], "pass-through request", "{l}");
        assert_eq!(
            (
                &l["method"],
                &l["path"],
                l["status"].as_u64(),
                l["bytes"].as_u64()
            ),
            (
                &Value::from(method),
                &Value::from(path),
                Some(status),
                Some(bytes as u64)
            ),
            "{l}"
        );
        assert_eq!(l["client"], "127.0.0.1", "{l}");
        assert!(l["duration_ms"].as_f64().is_some_and(|d| d >= 0.0), "{l}");
        assert!(l.get("error").is_none() && l.get("span").is_none(), "{l}");
    }
    assert_eq!(access_lines(&logs).len(), 3, "{}", logs.text());
    let text = logs.text();
    for canary in [
        "query-canary",
        "body-canary",
        "app-session-canary",
        "session=",
    ] {
        assert!(!text.contains(canary), "`{canary}` is in the log:\n{text}");
    }
}

#[tokio::test]
async fn a_failed_pass_through_names_its_request() {
    let logs = LogBuf::default();
    let _guard = logs.capture("info");
    let sc = start(load(&config_text(closed_port().await, ""))).await;
    let (parts, _) = send(&client(), get(&sc, "/api/things?q=query-canary", "fail-1")).await;
    assert_eq!(parts.status, StatusCode::BAD_GATEWAY);
    let l = access_line(&logs, "fail-1").await;
    assert_eq!(
        (l["status"].as_u64(), &l["path"]),
        (Some(502), &"/api/things".into())
    );
    let warning = logs
        .json_lines()
        .into_iter()
        .find(|l| l["message"] == "pass-through failed")
        .unwrap_or_else(|| panic!("no warning in\n{}", logs.text()));
    assert_eq!(warning["level"], "WARN");
    assert_eq!(
        (&warning["request_id"], &warning["method"], &warning["path"]),
        (&"fail-1".into(), &"GET".into(), &"/api/things".into()),
        "{warning}"
    );
    assert!(!logs.text().contains("query-canary"));
}

#[tokio::test]
async fn errors_mode_keeps_failures_only_and_reloads_switch_modes() {
    let up = upstream(|req: Request<hyper::body::Incoming>| async move {
        let status = if req.uri().path() == "/boom" {
            503
        } else {
            200
        };
        http::Response::builder()
            .status(status)
            .body(body("answer"))
            .unwrap()
    })
    .await;
    let text = |mode: &str| config_text(up, &format!("[log]\naccess = \"{mode}\"\n"));
    let logs = LogBuf::default();
    let _guard = logs.capture("info");
    let (sc, state) = start_with_state(load(&text("errors"))).await;
    let c = client();
    let status = |rid: &'static str, path: &'static str| {
        let (c, req) = (c.clone(), get(&sc, path, rid));
        async move { send(&c, req).await.0.status.as_u16() }
    };
    assert_eq!(status("errors-ok", "/fine").await, 200);
    assert_eq!(status("errors-boom", "/boom").await, 503);
    assert_eq!(access_line(&logs, "errors-boom").await["status"], 503);

    state.apply(load(&text("off")));
    assert_eq!(status("off-boom", "/boom").await, 503);
    state.apply(load(&text("all")));
    assert_eq!(status("all-ok", "/fine").await, 200);
    assert_eq!(access_line(&logs, "all-ok").await["status"], 200);

    let ids: Vec<Value> = access_lines(&logs)
        .iter()
        .map(|l| l["request_id"].clone())
        .collect();
    assert_eq!(ids, ["errors-boom", "all-ok"], "{}", logs.text());
}

/// An app that answers every request with a head promising 100 bytes,
/// sends 7 and closes.
async fn breaking_app() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&b[..n]),
                    }
                }
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
                    .await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn responses_that_do_not_reach_their_end_are_errors() {
    let logs = LogBuf::default();
    let _guard = logs.capture("info");
    let broken = start(load(&config_text(
        breaking_app().await,
        "[log]\naccess = \"errors\"\n",
    )))
    .await;
    let resp = client()
        .request(get(&broken, "/download", "cut-1"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.into_body().collect().await.is_err());
    let l = access_line(&logs, "cut-1").await;
    assert_eq!(
        (l["status"].as_u64(), l["bytes"].as_u64()),
        (Some(200), Some(7))
    );
    assert_eq!(l["error"], "the app's response body broke off", "{l}");

    // A response that never ends, left by its client after the first bytes.
    let endless = upstream(|_req| async {
        let first = futures_util::stream::iter([Ok(hyper::body::Frame::data(
            bytes::Bytes::from_static(b"first"),
        ))]);
        let frames = futures_util::StreamExt::chain(first, futures_util::stream::pending());
        http::Response::new(BodyExt::boxed(http_body_util::StreamBody::new(frames)))
    })
    .await;
    let sc = start(load(&config_text(endless, "[log]\naccess = \"errors\"\n"))).await;
    let mut resp = client()
        .request(get(&sc, "/stream", "left-1"))
        .await
        .unwrap();
    let first = resp.body_mut().frame().await.unwrap().unwrap();
    assert_eq!(first.data_ref().map(|d| &d[..]), Some(&b"first"[..]));
    drop(resp);
    let l = access_line(&logs, "left-1").await;
    assert_eq!(
        (l["status"].as_u64(), l["bytes"].as_u64()),
        (Some(200), Some(5))
    );
    assert_eq!(
        l["error"], "the client left before the response ended",
        "{l}"
    );
}

#[test]
fn an_unknown_access_setting_is_refused_with_its_location() {
    let text = config_text(
        "127.0.0.1:1".parse().unwrap(),
        "[log]\naccess = \"verbose\"\n",
    );
    let env = |_: &str| None;
    let errs = scim_sidecar::Config::from_toml(&text, &env).unwrap_err();
    let rendered = errs.render("t.toml", &text);
    let line = text.lines().position(|l| l.starts_with("access")).unwrap() + 1;
    let expected = format!(
        "t.toml:{line}:10: error: `log.access`: unknown access log setting `verbose`, expected `all`, `errors` or `off`"
    );
    assert!(rendered.contains(&expected), "{rendered}");
}

#[tokio::test]
async fn the_client_is_the_address_a_trusted_proxy_reports() {
    let up = upstream(|_req: Request<hyper::body::Incoming>| async move {
        http::Response::new(body("answer"))
    })
    .await;
    let url = format!("url = \"http://{up}\"");
    let trusting = config_text(up, "").replace(
        &url,
        &format!("{url}\ntrusted_proxies = [\"127.0.0.1/32\"]"),
    );
    let logs = LogBuf::default();
    let _guard = logs.capture("info");
    let c = client();
    let via_proxy = |sc: &Sidecar, rid: &str| {
        Request::get(sc.url("/page"))
            .header("x-request-id", rid)
            .header("x-forwarded-for", "198.51.100.4, 203.0.113.7")
            .body(body(""))
            .unwrap()
    };

    // The sidecar's peer (127.0.0.1) is a trusted proxy: the client is the
    // rightmost address it reports.
    let trusted = start(load(&trusting)).await;
    assert_eq!(
        send(&c, via_proxy(&trusted, "xff-trusted")).await.0.status,
        200
    );
    assert_eq!(
        access_line(&logs, "xff-trusted").await["client"],
        "203.0.113.7"
    );

    // From a peer nobody trusts the header is the client's own word.
    let untrusted = start(load(&config_text(up, ""))).await;
    assert_eq!(
        send(&c, via_proxy(&untrusted, "xff-ignored"))
            .await
            .0
            .status,
        200
    );
    assert_eq!(
        access_line(&logs, "xff-ignored").await["client"],
        "127.0.0.1"
    );
}
