//! Front-door claims: an endpoint the config does not map is 501,
//! `/readyz` follows the app through `health_path`, and
//! `/ServiceProviderConfig` states what each config really supports.

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};

use super::support::*;

const USERS_ONLY: &str = r#"
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
userName = "$.login"
"#;

#[tokio::test]
async fn groups_are_501_where_the_config_maps_only_users() {
    let up = upstream(|_req| async {
        Response::new(body(r#"{"items": [{"id": "1", "login": "a@x"}]}"#))
    })
    .await;
    let sc = start(load(&config_text(up, USERS_ONLY))).await;
    let (status, list) = call(&sc, "GET", "/scim/v2/Users", None).await;
    assert_eq!((status, &list["totalResults"]), (StatusCode::OK, &json!(1)));
    let group =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "x"});
    for (method, path, body) in [
        ("GET", "/scim/v2/Groups", None),
        (
            "GET",
            "/scim/v2/Groups?filter=displayName%20eq%20%22x%22",
            None,
        ),
        ("POST", "/scim/v2/Groups", Some(group)),
        ("GET", "/scim/v2/Groups/7", None),
        ("DELETE", "/scim/v2/Groups/7", None),
    ] {
        let (status, err) = call(&sc, method, path, body).await;
        assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{method} {path}");
        assert_eq!(err["status"], "501");
        assert!(err["detail"].as_str().unwrap().contains("/Groups"), "{err}");
    }
    let (_, types) = call(&sc, "GET", "/scim/v2/ResourceTypes", None).await;
    assert_eq!(types["totalResults"], json!(1), "only Users is advertised");
}

/// An app whose health path answers the status in `health`, counted.
async fn health_app(health: Arc<AtomicU16>, probes: Arc<AtomicUsize>) -> std::net::SocketAddr {
    upstream(move |req: Request<Incoming>| {
        let (health, probes) = (health.clone(), probes.clone());
        async move {
            let status = match req.uri().path() {
                "/healthz/app" => {
                    probes.fetch_add(1, Ordering::SeqCst);
                    health.load(Ordering::SeqCst)
                }
                _ => 200,
            };
            Response::builder()
                .status(status)
                .body(body("status"))
                .unwrap()
        }
    })
    .await
}

async fn readyz(sc: &Sidecar) -> StatusCode {
    let req = Request::get(format!("http://{}/readyz", sc.admin))
        .body(body(""))
        .unwrap();
    send(&client(), req).await.0.status
}

#[tokio::test]
async fn readyz_follows_the_apps_health_path() {
    let (health, probes) = (Arc::new(AtomicU16::new(200)), Arc::default());
    let app = health_app(health.clone(), Arc::clone(&probes)).await;
    let text = config_text(app, "").replace(
        &format!("url = \"http://{app}\""),
        &format!("url = \"http://{app}\"\nhealth_path = \"/healthz/app\""),
    );
    let sc = start(load(&text)).await;
    for (app_says, ready) in [
        (200, StatusCode::OK),
        (503, StatusCode::SERVICE_UNAVAILABLE),
        (500, StatusCode::SERVICE_UNAVAILABLE),
        // Below 500: the app answers, so it is up (an unknown path, a
        // health page behind a login).
        (404, StatusCode::OK),
        (401, StatusCode::OK),
        (200, StatusCode::OK),
    ] {
        health.store(app_says, Ordering::SeqCst);
        let before = probes.load(Ordering::SeqCst);
        assert_eq!(
            readyz(&sc).await,
            ready,
            "the app's health path says {app_says}"
        );
        assert_eq!(probes.load(Ordering::SeqCst), before + 1, "probed once");
    }
    let down = closed_port().await;
    let text = config_text(down, "").replace(
        &format!("url = \"http://{down}\""),
        &format!("url = \"http://{down}\"\nhealth_path = \"/healthz/app\""),
    );
    let sc = start(load(&text)).await;
    assert_eq!(readyz(&sc).await, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn service_provider_config_states_what_each_config_supports() {
    let spc = |sc: Sidecar| async move {
        let (status, spc) = call(&sc, "GET", "/scim/v2/ServiceProviderConfig", None).await;
        assert_eq!(status, StatusCode::OK);
        spc
    };
    let (example, _) = start_example().await;
    let full = spc(example).await;
    let (without_version, _) = start_example_with(|t| {
        t.replace("\"meta.version\"      = \"$.version\"", "")
            .replace("headers = { \"If-Match\" = \"{version}\" }", "")
            + "\n[scim]\nmax_page_size = 50\n"
    })
    .await;
    let lean = spc(without_version).await;
    let (with_password, _) = start_example_with(|t| {
        t.replace(
            "locale            = \"$.locale\"",
            "locale            = \"$.locale\"\npassword          = \"$.password\"",
        )
    })
    .await;
    let password = spc(with_password).await;
    let up = upstream(|_req| async { Response::new(body("")) }).await;
    let nothing = spc(start(load(&config_text(up, ""))).await).await;

    let row = |s: &serde_json::Value| {
        json!([
            s["patch"]["supported"],
            s["filter"]["supported"],
            s["filter"]["maxResults"],
            s["sort"]["supported"],
            s["etag"]["supported"],
            s["changePassword"]["supported"],
            s["bulk"]["supported"]
        ])
    };
    assert_eq!(
        row(&full),
        json!([true, true, 200, true, true, false, false])
    );
    assert_eq!(
        row(&lean),
        json!([true, true, 50, true, false, false, false])
    );
    assert_eq!(
        row(&password),
        json!([true, true, 200, true, true, true, false])
    );
    assert_eq!(
        row(&nothing),
        json!([false, false, 0, false, false, false, false])
    );
}
