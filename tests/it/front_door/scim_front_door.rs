//! The SCIM front door: bearer authentication with SCIM 401 bodies, media
//! types, discovery endpoints and their 405s, SCIM 404s — and the guarantee
//! that no SCIM request (nor the IdP's Authorization header) reaches the app.

use crate::support;

use http::{Request, Response, StatusCode};
use serde_json::json;
use support::app::App;
use support::record::Recorder;
use support::*;

/// A sidecar without resource mappings in front of an app that records
/// every request it gets.
async fn recorded_sidecar() -> (Sidecar, Recorder) {
    let rec = Recorder::default();
    let up = App::handler(|_| Response::new(body("app")))
        .recorded(&rec)
        .serve()
        .await;
    (start(load(&config_text(up, ""))).await, rec)
}

/// A GET with the given Authorization header, or none.
fn get(sc: &Sidecar, path: &str, auth: Option<&str>) -> Request<scim_sidecar::body::Body> {
    let mut b = Request::get(sc.url(path));
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    b.body(body("")).unwrap()
}

#[tokio::test]
async fn unauthenticated_requests_get_scim_401s() {
    let (sc, app) = recorded_sidecar().await;
    for (auth, challenge) in [
        (None, "Bearer realm=\"scim\""),
        // Okta's SPEC test; a bare value is read as a token (Okta's Header
        // Auth app sends one), and this one is no valid token.
        (
            Some("non-token"),
            "Bearer realm=\"scim\", error=\"invalid_token\"",
        ),
        (
            Some("not a token"),
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
            // Raw: missing and malformed credentials instead of the token.
            let r = call_raw(&sc, get(&sc, path, auth)).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?} {path}");
            assert_eq!(r.headers["www-authenticate"], challenge);
            assert_eq!(r.headers["content-type"], "application/scim+json");
            let b = &r.body;
            assert_eq!(
                b["schemas"][0],
                "urn:ietf:params:scim:api:messages:2.0:Error"
            );
            assert_eq!(b["status"], "401");
            assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()));
            assert!(!b.to_string().contains("wrong-token"), "token echoed");
        }
    }
    assert!(
        app.seen().is_empty(),
        "a SCIM request reached the app: {:?}",
        app.calls()
    );
}

#[tokio::test]
async fn scim_requests_never_reach_the_app() {
    // The example mapping (users and groups), so SCIM work does call the
    // app: through its API with the host key, never as the SCIM request.
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                      "userName": "door@example.com", "active": true});
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "title", "value": "x"}]});
    for (method, path, body) in [
        ("GET", "/scim/v2/Users?startIndex=1&count=2", None),
        ("POST", "/scim/v2/Users", Some(user)),
        ("GET", "/scim/v2/Users/1001", None),
        ("PATCH", "/scim/v2/Users/1001", Some(patch)),
        ("DELETE", "/scim/v2/Users/1002", None),
        ("GET", "/scim/v2/Groups/t1", None),
        ("GET", "/SCIM/V2/users/1003", None),
        ("GET", "/scim/v2/Unknown/thing", None),
        ("DELETE", "/scim/v2/Schemas", None),
        ("GET", "/scim/v2/ServiceProviderConfig", None),
    ] {
        let r = call_with(&sc, method, path, body, &[]).await;
        if r.status != StatusCode::NO_CONTENT {
            assert_eq!(
                r.headers["content-type"], "application/scim+json",
                "{method} {path}"
            );
        }
    }
    let seen = proxy.seen();
    assert!(
        seen.len() > 8,
        "the SCIM work called the app: {:?}",
        proxy.recorder.calls()
    );
    for s in &seen {
        assert!(
            s.path.starts_with("/api/"),
            "{} {} reached the app",
            s.method,
            s.path
        );
        assert_eq!(
            s.authorization, None,
            "{} {} carried an Authorization",
            s.method, s.path
        );
        assert_eq!(s.headers["x-api-key"], APP_KEY);
    }
    assert!(
        app.user("1002").is_none(),
        "the SCIM delete was done, through the API"
    );
    // The same client still reaches the app outside the base path (raw:
    // not a SCIM request), its Authorization with it.
    proxy.recorder.clear();
    let bearer = format!("Bearer {}", sc.token);
    let (parts, _) = send(&client(), get(&sc, "/scim/v2x", Some(&bearer))).await;
    assert_eq!(parts.status, StatusCode::NOT_FOUND, "the app's own 404");
    assert_eq!(proxy.recorder.calls(), ["GET /scim/v2x"]);
    assert_eq!(proxy.seen()[0].authorization.as_deref(), Some(&*bearer));
}

#[tokio::test]
async fn discovery_endpoints_answer_and_refuse_writes() {
    let (sc, _) = recorded_sidecar().await;
    let (status, spc) = call(&sc, "GET", "/scim/v2/ServiceProviderConfig", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        spc["schemas"][0],
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
    );
    assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
    for path in ["/scim/v2/ResourceTypes", "/scim/v2/Schemas"] {
        let (status, list) = call(&sc, "GET", path, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            list["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:ListResponse"
        );
        // No resource is mapped here: nothing to describe.
        assert_eq!(list["totalResults"], json!(0), "{path}: {list}");
        assert_eq!(list["Resources"], json!([]), "{path}: {list}");
    }
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        for path in [
            "/scim/v2/ServiceProviderConfig",
            "/scim/v2/ResourceTypes",
            "/scim/v2/Schemas",
        ] {
            // Raw: no media type and a body that is not JSON; the method
            // is refused before either is looked at.
            let req = Request::builder()
                .method(method)
                .uri(sc.url(path))
                .header("authorization", format!("Bearer {}", sc.token))
                .body(body("test"))
                .unwrap();
            let r = call_raw(&sc, req).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert_eq!(r.headers["allow"], "GET, HEAD");
            assert_eq!(r.body["status"], "405");
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_bad_media_types_are_scim_errors() {
    let (sc, _) = recorded_sidecar().await;
    let (status, err) = call(&sc, "GET", "/scim/v2/Widgets", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["status"], "404");
    let (status, err) = call(&sc, "GET", "/scim/v2/Me", None).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(err["status"], "501");
    let (status, _) = call(&sc, "GET", "/scim/v2/Bulk", None).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    // Raw: a media type the helper never sends.
    let req = Request::post(sc.url("/scim/v2/Users"))
        .header("authorization", format!("Bearer {}", sc.token))
        .header("content-type", "text/xml")
        .body(body("<user/>"))
        .unwrap();
    let r = call_raw(&sc, req).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.body["status"], "415");
}

#[tokio::test]
async fn custom_base_path_is_honoured() {
    let up = upstream(|_req| async { Response::new(body("app")) }).await;
    let text = format!(
        "{}\n[scim]\nbase_path = \"/idp/scim/\"\n",
        config_text(up, "")
    );
    let sc = start(load(&text)).await;
    let (status, _) = call(&sc, "GET", "/idp/scim/ServiceProviderConfig", None).await;
    assert_eq!(status, StatusCode::OK);
    // Raw: under this base path the default one is an ordinary app path.
    let bearer = format!("Bearer {}", sc.token);
    let (parts, bytes) = send(
        &client(),
        get(&sc, "/scim/v2/ServiceProviderConfig", Some(&bearer)),
    )
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(
        &bytes[..],
        b"app",
        "the default base path is an ordinary app path here"
    );
}

#[tokio::test]
async fn okta_header_auth_sends_the_bare_token_and_it_is_counted_apart() {
    let (up, app) = {
        let rec = Recorder::default();
        let up = App::handler(|_| Response::new(body("app")))
            .recorded(&rec)
            .serve()
            .await;
        (up, rec)
    };
    let guard = "[scim]\nfailed_auth_limit = { requests_per_second = 0.01, burst = 2 }\n";
    let sc = start(load(&config_text(up, guard))).await;
    let spc = "/scim/v2/ServiceProviderConfig";
    // Okta: SCIM 2.0 Test App (Header Auth) sends its API Token field
    // verbatim, `Authorization: <token>` when the admin pasted the token.
    let (r, _) = send(&client(), get(&sc, spc, Some(TOKEN))).await;
    assert_eq!(r.status, StatusCode::OK);
    let (r, _) = send(&client(), get(&sc, spc, Some(&format!("Bearer {TOKEN}")))).await;
    assert_eq!(r.status, StatusCode::OK);
    let uses = |text: &str, scheme: &str| {
        let series = format!(
            "scim_sidecar_scim_token_uses_total{{connection=\"okta-test\",token=\"0\",scheme=\"{scheme}\"}}"
        );
        metric(text, &series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    let text = metrics_text(&sc).await;
    assert_eq!((uses(&text, "bare"), uses(&text, "bearer")), (1.0, 1.0));
    // A bare value that is no valid token is an ordinary 401, and counts
    // towards the failed-authentication guard.
    for _ in 0..2 {
        let (r, _) = send(
            &client(),
            get(&sc, spc, Some("wrong-bare-token-0123456789")),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.headers["www-authenticate"],
            "Bearer realm=\"scim\", error=\"invalid_token\""
        );
    }
    let (r, _) = send(
        &client(),
        get(&sc, spc, Some("wrong-bare-token-0123456789")),
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let text = metrics_text(&sc).await;
    assert_eq!(
        metric(
            &text,
            "scim_sidecar_scim_auth_failures_total{reason=\"invalid\"}"
        ),
        Some(3.0),
        "the third spent the budget"
    );
    assert_eq!(uses(&text, "bare"), 1.0);
    assert!(app.seen().is_empty(), "{:?}", app.calls());
}
