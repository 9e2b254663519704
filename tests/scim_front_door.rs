//! The SCIM front door: bearer authentication with SCIM 401 bodies, media
//! types, discovery endpoints and their 405s, SCIM 404s — and the guarantee
//! that no SCIM request (nor the IdP's Authorization header) reaches the app.

mod support;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::*;

async fn counted_sidecar() -> (Sidecar, Counter) {
    let hits: Counter = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let up = upstream(move |_req: Request<Incoming>| {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            Response::new(body("app"))
        }
    })
    .await;
    (start(load(&config_text(up, ""))).await, hits)
}

fn get(sc: &Sidecar, path: &str, auth: Option<&str>) -> Request<scim_sidecar::body::Body> {
    let mut b = Request::get(sc.url(path));
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(body("")).unwrap()
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

#[tokio::test]
async fn unauthenticated_requests_get_scim_401s() {
    let (sc, hits) = counted_sidecar().await;
    let c = client();
    for (auth, challenge) in [
        (None, "Bearer realm=\"scim\""),
        (
            Some("non-token"),
            "Bearer realm=\"scim\", error=\"invalid_request\"",
        ),
        (
            Some("Basic dXNlcjpwYXNz"),
            "Bearer realm=\"scim\", error=\"invalid_request\"",
        ),
        (
            Some("Bearer wrong-token"),
            "Bearer realm=\"scim\", error=\"invalid_token\"",
        ),
        (
            Some("Bearer "),
            "Bearer realm=\"scim\", error=\"invalid_request\"",
        ),
    ] {
        for path in [
            "/scim/v2/Users?startIndex=1&count=2",
            "/scim/v2/Nope",
            "/scim/v2",
        ] {
            let (parts, bytes) = send(&c, get(&sc, path, auth)).await;
            assert_eq!(parts.status, StatusCode::UNAUTHORIZED, "{auth:?} {path}");
            assert_eq!(parts.headers["www-authenticate"], challenge);
            assert_eq!(parts.headers["content-type"], "application/scim+json");
            let b = json(&bytes);
            assert_eq!(
                b["schemas"][0],
                "urn:ietf:params:scim:api:messages:2.0:Error"
            );
            assert_eq!(b["status"], "401");
            assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()));
            assert!(
                !bytes.windows(11).any(|w| w == b"wrong-token"),
                "token echoed"
            );
        }
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a SCIM request reached the app"
    );
}

#[tokio::test]
async fn scim_requests_never_reach_the_app() {
    let (sc, hits) = counted_sidecar().await;
    let c = client();
    let auth = bearer();
    for (method, path) in [
        ("GET", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users"),
        ("GET", "/scim/v2/Users/1001"),
        ("PATCH", "/scim/v2/Groups/7"),
        ("GET", "/scim/v2/Unknown/thing"),
        ("DELETE", "/scim/v2/Schemas"),
        ("GET", "/scim/v2/ServiceProviderConfig"),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(sc.url(path))
            .header("authorization", &auth)
            .header("content-type", "application/scim+json")
            .body(body("{}"))
            .unwrap();
        let (parts, _) = send(&c, req).await;
        assert_eq!(
            parts.headers["content-type"], "application/scim+json",
            "{method} {path}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // The same client still reaches the app outside the base path.
    let (parts, _) = send(&c, get(&sc, "/scim/v2x", Some(&auth))).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn discovery_endpoints_answer_and_refuse_writes() {
    let (sc, _) = counted_sidecar().await;
    let c = client();
    let auth = bearer();
    let (parts, bytes) = send(&c, get(&sc, "/scim/v2/ServiceProviderConfig", Some(&auth))).await;
    assert_eq!(parts.status, StatusCode::OK);
    let spc = json(&bytes);
    assert_eq!(
        spc["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    for path in ["/scim/v2/ResourceTypes", "/scim/v2/Schemas"] {
        let (parts, bytes) = send(&c, get(&sc, path, Some(&auth))).await;
        assert_eq!(parts.status, StatusCode::OK);
        let list = json(&bytes);
        assert_eq!(
            list["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        );
        assert!(list["totalResults"].is_u64());
    }
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for path in [
            "/scim/v2/ServiceProviderConfig",
            "/scim/v2/ResourceTypes",
            "/scim/v2/Schemas",
        ] {
            let req = Request::builder()
                .method(method)
                .uri(sc.url(path))
                .header("authorization", &auth)
                .body(body("test"))
                .unwrap();
            let (parts, bytes) = send(&c, req).await;
            assert_eq!(
                parts.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(parts.headers["allow"], "GET, HEAD");
            assert_eq!(json(&bytes)["status"], "405");
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_bad_media_types_are_scim_errors() {
    let (sc, _) = counted_sidecar().await;
    let c = client();
    let auth = bearer();
    let (parts, bytes) = send(&c, get(&sc, "/scim/v2/Widgets", Some(&auth))).await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND);
    assert_eq!(json(&bytes)["status"], "404");
    let (parts, bytes) = send(&c, get(&sc, "/scim/v2/Me", Some(&auth))).await;
    assert_eq!(parts.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(json(&bytes)["status"], "501");
    let (parts, _) = send(&c, get(&sc, "/scim/v2/Bulk", Some(&auth))).await;
    assert_eq!(parts.status, StatusCode::NOT_IMPLEMENTED);
    let req = Request::post(sc.url("/scim/v2/Users"))
        .header("authorization", &auth)
        .header("content-type", "text/xml")
        .body(body("<user/>"))
        .unwrap();
    let (parts, bytes) = send(&c, req).await;
    assert_eq!(parts.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(json(&bytes)["status"], "415");
}

#[tokio::test]
async fn custom_base_path_is_honoured() {
    let up = upstream(|_req| async { Response::new(body("app")) }).await;
    let text = format!(
        "{}\n[scim]\nbase_path = \"/idp/scim/\"\n",
        config_text(up, "")
    );
    let sc = start(load(&text)).await;
    let c = client();
    let (parts, _) = send(
        &c,
        get(&sc, "/idp/scim/ServiceProviderConfig", Some(&bearer())),
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    let (parts, bytes) = send(
        &c,
        get(&sc, "/scim/v2/ServiceProviderConfig", Some(&bearer())),
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(
        &bytes[..],
        b"app",
        "the default base path is an ordinary app path here"
    );
}
