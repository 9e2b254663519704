//! What the bundled example app (through `config/example.toml`) does with
//! Okta's requests beyond the lifecycle table's sequence
//! ([`crate::lifecycle`], case `example_okta`): the app's own uniqueness
//! error translated to 409, import paging through every user once, unknown
//! ids, malformed filters and bad tokens, and bad bodies refused without
//! changing the app.

use crate::support;

use crate::lifecycle::okta::create_body as okta_create_body;
use http::StatusCode;
use serde_json::json;
use support::*;

const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[tokio::test]
async fn app_side_uniqueness_error_is_translated_to_409() {
    // Without the pre-create lookup, the app's own `422 taken` answers and
    // the mapping's error rule turns it into 409 uniqueness. Only then does
    // the sidecar look the holder up (it could be its own half-made
    // account); this one is not, so the app's answer stands.
    let (sc, app) = start_example_with(|t| t.replace("unique = [\"userName\"]", "")).await;
    let calls_before = app.request_count();
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("ADA.LOVELACE@example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["scimType"], "uniqueness");
    assert_eq!(err["detail"], "userName is already taken");
    assert_eq!(
        app.request_count(),
        calls_before + 3,
        "the create, then the holder's lookup and read"
    );
    assert_eq!(app.users().len(), 3);
}

#[tokio::test]
async fn import_pages_through_every_user_once() {
    let (sc, app) = start_example().await;
    for i in 0..247 {
        let (status, body) = call(
            &sc,
            "POST",
            "/scim/v2/Users",
            Some(okta_create_body(&format!("user{i:03}@okta.local"))),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(app.users().len(), 250);
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let (status, page) = call(
            &sc,
            "GET",
            &format!("/scim/v2/Users?startIndex={start}&count=100"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["totalResults"], json!(250));
        assert_eq!(page["startIndex"], json!(start));
        let items = page["Resources"].as_array().unwrap();
        assert_eq!(page["itemsPerPage"], json!(items.len()));
        seen.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        start += 100;
        if start > 250 {
            break;
        }
    }
    assert_eq!(seen.len(), 250);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 250, "a user appeared twice");
    // A count above the app's cap of 100 is filled with several app calls.
    let (_, big) = call(&sc, "GET", "/scim/v2/Users?startIndex=51&count=150", None).await;
    assert_eq!(big["itemsPerPage"], json!(150));
    assert_eq!(big["Resources"][0]["id"], seen[50].as_str());
}

#[tokio::test]
async fn unknown_ids_malformed_filters_and_bad_tokens() {
    let (sc, _app) = start_example().await;
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users/010101001010101011001010101011",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["status"], "404");
    assert_eq!(err["schemas"], json!([ERROR_URN]));
    assert!(err["detail"].as_str().is_some_and(|d| !d.is_empty()));

    let (status, err) = call(&sc, "GET", "/scim/v2/Users?filter=RANDOMUSERNAMECAPS", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["scimType"], "invalidFilter");

    // A malformed Authorization header replaces the sidecar's token.
    let r = call_with(
        &sc,
        "GET",
        "/scim/v2/Users",
        None,
        &[("authorization", "non-token")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let err = r.body;
    assert_eq!(err["status"], "401");
    assert!(err["detail"].is_string());
}

#[tokio::test]
async fn bad_bodies_get_scim_errors_and_change_nothing() {
    let (sc, app) = start_example().await;
    let before = app.users();
    let cases = [
        ("POST", "/scim/v2/Users", "{not json", "invalidSyntax"),
        (
            "POST",
            "/scim/v2/Users",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":42}"#,
            "invalidValue",
        ),
        (
            "POST",
            "/scim/v2/Users",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}"#,
            "invalidValue",
        ),
        (
            "POST",
            "/scim/v2/Users",
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@y","active":"maybe"}"#,
            "invalidValue",
        ),
        (
            "PATCH",
            "/scim/v2/Users/1001",
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"jump","path":"title"}]}"#,
            "invalidSyntax",
        ),
        (
            "PATCH",
            "/scim/v2/Users/1001",
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}"#,
            "invalidPath",
        ),
        (
            "PATCH",
            "/scim/v2/Users/1001",
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"id","value":"9"}]}"#,
            "mutability",
        ),
        (
            "PATCH",
            "/scim/v2/Users/1001",
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove"}]}"#,
            "noTarget",
        ),
    ];
    for (method, path, raw, scim_type) in cases {
        // Raw bytes: the first body is not JSON, so no helper can send it.
        let req = http::Request::builder()
            .method(method)
            .uri(sc.url(path))
            .header("authorization", format!("Bearer {}", sc.token))
            .header("content-type", "application/scim+json")
            .body(body(raw.to_string()))
            .unwrap();
        let r = call_raw(&sc, req).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{raw}: {}", r.body);
        assert_eq!(r.body["scimType"], scim_type, "{raw}: {}", r.body);
    }
    assert_eq!(app.users(), before, "a rejected request changed the app");
}
