//! What an operator sees of a provisioning run against the bundled example
//! app: `/metrics` on the admin port counts SCIM requests by connection,
//! resource, operation and status, every call made on the app, pass-through
//! requests and bytes, auth failures and audit events; it speaks Prometheus
//! text 0.0.4 (read here by a strict parser) unless OpenMetrics is asked
//! for, has the `process_*` series, and describes every documented family
//! from the start; and request ids are honoured (or replaced when not
//! sane), returned, and sent to the app.

use crate::support;

use http::{Request, StatusCode};
use serde_json::{Value, json};
use support::*;

mod exposition;
use exposition::parse_prometheus_text;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn new_user(user_name: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": "Metric", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "active": true
    })
}

#[tokio::test]
async fn metrics_count_a_scripted_provisioning_run() {
    let (sc, app) = start_example().await;
    let app_requests_before = app.request_count();

    // Okta: test connection, lookup, create, GET + PUT, PATCH deactivate, delete.
    let (s, _) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    assert_eq!(s, 200);
    let lookup = "/scim/v2/Users?filter=userName%20eq%20%22metric.user%40example.com%22";
    let (s, v) = call(&sc, "GET", lookup, None).await;
    assert_eq!((s, v["totalResults"].as_u64()), (StatusCode::OK, Some(0)));
    let (s, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(new_user("metric.user@example.com")),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let item = format!("/scim/v2/Users/{id}");
    let (s, mut user) = call(&sc, "GET", &item, None).await;
    assert_eq!(s, 200);
    user["title"] = json!("Analyst");
    let (s, _) = call(&sc, "PUT", &item, Some(user)).await;
    assert_eq!(s, 200);
    let deactivate = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (s, _) = call(&sc, "PATCH", &item, Some(deactivate)).await;
    assert_eq!(s, 200);
    let (s, _) = call(&sc, "DELETE", &item, None).await;
    assert_eq!(s, 204);

    // A wrong token, and an ordinary page through the sidecar.
    let bad = Request::get(sc.url("/scim/v2/Users"))
        .header("authorization", "Bearer not-the-right-token")
        .body(body(Vec::new()))
        .unwrap();
    assert_eq!(call_raw(&sc, bad).await.status, 401);
    let page = Request::get(sc.url("/api/status"))
        .body(body(Vec::new()))
        .unwrap();
    let (parts, page_body) = send(&client(), page).await;
    assert_eq!(parts.status, 200);

    let text = metrics_text(&sc).await;
    let scim = |op: &str, status: u16| {
        let series = format!(
            "scim_sidecar_scim_requests_total{{connection=\"demo\",resource=\"Users\",operation=\"{op}\",status=\"{status}\"}}"
        );
        metric(&text, &series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(scim("list", 200), 2.0);
    assert_eq!(scim("create", 201), 1.0);
    assert_eq!(scim("get", 200), 1.0);
    assert_eq!(scim("replace", 200), 1.0);
    assert_eq!(scim("patch", 200), 1.0);
    assert_eq!(scim("delete", 204), 1.0);
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_scim_requests_total{connection=\"none\",resource=\"Users\",operation=\"list\",status=\"401\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_scim_auth_failures_total{reason=\"invalid\"}"
        ),
        Some(1.0)
    );
    // Every authenticated request names its token by index (rotation):
    // the 7 above and the strict reader's /Schemas and /ResourceTypes.
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_scim_token_uses_total{connection=\"demo\",token=\"0\",scheme=\"bearer\"}"
        ),
        Some(9.0)
    );
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_scim_request_duration_seconds_count{connection=\"demo\",resource=\"Users\",operation=\"create\"}"
        ),
        Some(1.0)
    );

    // Every call the app saw for SCIM work is counted, with its latency;
    // the one other /api request was the pass-through page.
    let app_calls = app.request_count() - app_requests_before - 1;
    assert!(app_calls >= 8, "{app_calls}");
    assert_eq!(
        metric_sum(&text, "scim_sidecar_scim_app_calls_total"),
        app_calls as f64
    );
    assert_eq!(
        metric_sum(&text, "scim_sidecar_scim_app_call_duration_seconds_count"),
        app_calls as f64
    );
    for (op, status) in [
        ("create", 201),
        ("delete", 204),
        ("deactivate", 200),
        ("update", 200),
    ] {
        let series =
            format!("scim_sidecar_scim_app_calls_total{{operation=\"{op}\",status=\"{status}\"}}");
        assert_eq!(metric(&text, &series), Some(1.0), "{series} in\n{text}");
    }

    assert_eq!(
        metric(
            &text,
            "scim_sidecar_passthrough_requests_total{status=\"200\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_passthrough_bytes_total{direction=\"response\"}"
        ),
        Some(page_body.len() as f64)
    );
    assert_eq!(
        metric(&text, "scim_sidecar_in_flight_requests{route=\"scim\"}"),
        Some(0.0)
    );
    for event in [
        "user.created",
        "user.updated",
        "user.deactivated",
        "user.deleted",
    ] {
        let series =
            format!("scim_sidecar_audit_events_total{{event=\"{event}\",result=\"success\"}}");
        assert_eq!(metric(&text, &series), Some(1.0), "{series} in\n{text}");
    }
}

#[tokio::test]
async fn request_ids_are_honoured_returned_and_sent_to_the_app() {
    let (sc, app) = start_example().await;
    let (_, list) = call(&sc, "GET", "/scim/v2/Users?count=1", None).await;
    let id = list["Resources"][0]["id"].as_str().unwrap().to_string();

    let sent_to_app = || {
        app.last_request_headers().unwrap()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string()
    };
    let item = format!("/scim/v2/Users/{id}");

    // SCIM: the client's id comes back and reaches the app's API.
    let rid = "okta-7f3a9c1e-0001";
    let r = call_with(&sc, "GET", &item, None, &[("x-request-id", rid)]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["x-request-id"], rid);
    assert_eq!(sent_to_app(), rid);

    // An id that is not sane is replaced by a generated one, used throughout.
    let insane = [("x-request-id", "has spaces; and <tags>")];
    let r = call_with(&sc, "GET", &item, None, &insane).await;
    let generated = r.headers["x-request-id"].to_str().unwrap().to_string();
    assert!(
        generated.len() == 12 && generated.bytes().all(|b| b.is_ascii_hexdigit()),
        "{generated}"
    );
    assert_eq!(sent_to_app(), generated);

    // Pass-through: the id reaches the app and comes back.
    let page = Request::get(sc.url("/api/status"))
        .header("x-request-id", "trace-42")
        .body(body(Vec::new()))
        .unwrap();
    let (parts, _) = send(&client(), page).await;
    assert_eq!(parts.status, 200);
    assert_eq!(sent_to_app(), "trace-42");
    assert_eq!(parts.headers["x-request-id"], "trace-42");
}

#[tokio::test]
async fn rate_limit_rejections_and_config_reloads_are_counted() {
    let (_app, app_addr) = start_example_app().await;
    let limited = |t: String| {
        t.replace(
            "idp = \"okta\"",
            "idp = \"okta\"\nrate_limit = { requests_per_second = 0.01, burst = 1 }",
        )
    };
    let config = example_config(&app_addr.to_string(), limited);
    let (sc, state) = start_with_state(config.clone()).await;
    // Plain requests: the checked helper's own discovery reads would spend
    // the burst.
    let list = || {
        Request::get(sc.url("/scim/v2/Users?count=1"))
            .header("authorization", format!("Bearer {EXAMPLE_TOKEN}"))
            .body(body(Vec::new()))
            .unwrap()
    };
    assert_eq!(send(&client(), list()).await.0.status, 200);
    assert_eq!(send(&client(), list()).await.0.status, 429);

    state.apply(config);
    state.reject_reload();

    let text = metrics_text(&sc).await;
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_scim_rate_limited_total{limit=\"connection\",connection=\"demo\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_scim_requests_total{connection=\"demo\",resource=\"Users\",operation=\"list\",status=\"429\"}"
        ),
        Some(1.0)
    );
    for result in ["ok", "rejected"] {
        let series = format!("scim_sidecar_config_reloads_total{{result=\"{result}\"}}");
        assert_eq!(metric(&text, &series), Some(1.0), "{series} in\n{text}");
    }
}

/// The metric names in the tables of docs/observability.md.
fn documented_families() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/observability.md"
    ))
    .unwrap();
    let metrics = doc
        .split("\n## ")
        .find(|s| s.starts_with("Metrics"))
        .unwrap();
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|n| n.starts_with("scim_sidecar_") || n.starts_with("process_"))
        .map(str::to_owned)
        .collect()
}

/// `GET /metrics` with an optional `Accept`: content type and text.
async fn scrape(sc: &Sidecar, accept: Option<&str>) -> (String, String) {
    let mut req = Request::get(format!("http://{}/metrics", sc.admin));
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let (parts, bytes) = send(&client(), req.body(body(Vec::new())).unwrap()).await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.headers["vary"], "accept");
    let ct = parts.headers["content-type"].to_str().unwrap().to_owned();
    (ct, String::from_utf8(bytes.to_vec()).unwrap())
}

const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

#[tokio::test]
async fn a_fresh_server_describes_every_documented_family() {
    let up = upstream(|_req| async { http::Response::new(body("app")) }).await;
    let sc = start(load(&config_text(up, ""))).await;
    let (ct, text) = scrape(&sc, None).await;
    assert_eq!(ct, PROMETHEUS_TEXT);
    let families = parse_prometheus_text(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let documented = documented_families();
    assert!(documented.len() >= 20, "{documented:?}");
    for name in &documented {
        assert!(families.contains_key(name), "{name} missing in\n{text}");
    }
    for name in families.keys() {
        assert!(documented.contains(name), "{name} is not documented");
    }
    // Series whose labels the config names start at 0.
    for series in [
        "scim_sidecar_scim_token_uses_total{connection=\"okta-test\",token=\"0\",scheme=\"bearer\"}",
        "scim_sidecar_scim_token_uses_total{connection=\"okta-test\",token=\"0\",scheme=\"bare\"}",
        "scim_sidecar_scim_auth_failures_total{reason=\"invalid\"}",
        "scim_sidecar_scim_rate_limited_total{limit=\"failed_auth\",connection=\"\"}",
        "scim_sidecar_config_reloads_total{result=\"rejected\"}",
    ] {
        assert_eq!(metric(&text, series), Some(0.0), "{series} in\n{text}");
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text_unless_openmetrics_is_asked_for() {
    let up = upstream(|_req| async { http::Response::new(body("app")) }).await;
    let sc = start(load(&config_text(up, ""))).await;
    // Something in every kind of family: a SCIM request (histograms), a
    // failed one, a pass-through.
    assert_eq!(
        call(&sc, "GET", "/scim/v2/ServiceProviderConfig", None)
            .await
            .0,
        200
    );
    let bad = Request::get(sc.url("/scim/v2/Users"))
        .header("authorization", "Bearer wrong")
        .body(body(Vec::new()))
        .unwrap();
    assert_eq!(send(&client(), bad).await.0.status, 401);
    assert_eq!(
        send(
            &client(),
            Request::get(sc.url("/page")).body(body("")).unwrap()
        )
        .await
        .0
        .status,
        200
    );

    for accept in [
        None,
        Some("*/*"),
        Some("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"),
    ] {
        let (ct, text) = scrape(&sc, accept).await;
        assert_eq!(ct, PROMETHEUS_TEXT, "{accept:?}");
        let families = parse_prometheus_text(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(
            families["scim_sidecar_scim_request_duration_seconds"]
                .series
                .len()
                > 3
        );
        assert_eq!(families["scim_sidecar_build_info"].kind, "gauge");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let (_, text) = scrape(&sc, None).await;
    let value = |s: &str| metric(&text, s).unwrap_or_else(|| panic!("no {s} in\n{text}"));
    assert!(value("process_cpu_seconds_total") >= 0.0);
    assert!(value("process_resident_memory_bytes") > 0.0);
    assert!(value("process_open_fds") >= 3.0);
    assert!(value("process_max_fds") >= value("process_open_fds"));
    let started = value("process_start_time_seconds");
    assert!(
        started <= now + 1.0 && started > now - 86_400.0,
        "{started} vs {now}"
    );

    // What Prometheus 3 sends: OpenMetrics.
    let prometheus = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
                      application/openmetrics-text;version=0.0.1;q=0.4,\
                      text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
    let (ct, text) = scrape(&sc, Some(prometheus)).await;
    assert_eq!(
        ct,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(text.ends_with("# EOF\n") && text.matches("# EOF").count() == 1);
    assert!(
        parse_prometheus_text(&text).is_err(),
        "OpenMetrics is not 0.0.4"
    );
    for line in [
        "# TYPE scim_sidecar_scim_requests counter",
        "# TYPE scim_sidecar_build info",
        "# TYPE process_cpu_seconds counter",
        "# UNIT process_cpu_seconds seconds",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    assert!(
        metric(
            &text,
            "scim_sidecar_scim_auth_failures_total{reason=\"invalid\"}"
        ) == Some(1.0)
    );
}
