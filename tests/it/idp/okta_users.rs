//! Okta's provisioning sequences (docs of what Okta sends: test connection,
//! lookup before create, create, duplicate, import paging, GET → PUT profile
//! updates, PUT and PATCH deactivation and reactivation, 404s, 401s) run
//! against the bundled example app through `config/example.toml`. Every
//! state change is checked in the app's own store.

use crate::support;

use http::StatusCode;
use serde_json::{Value, json};
use support::*;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

fn okta_create_body(user_name: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

fn app_user_by_login(app: &demo_app::DemoApp, login: &str) -> Vec<Value> {
    app.users()
        .into_iter()
        .filter(|u| {
            u["login"]
                .as_str()
                .is_some_and(|l| l.eq_ignore_ascii_case(login))
        })
        .collect()
}

#[tokio::test]
async fn test_connection_lists_with_integer_counters() {
    let (sc, app) = start_example().await;
    let Reply {
        status,
        headers,
        body,
    } = call_with(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/scim+json");
    assert_eq!(body["schemas"], json!([LIST_URN]));
    assert_eq!(body["totalResults"], json!(3));
    assert_eq!(body["startIndex"], json!(1));
    assert_eq!(body["itemsPerPage"], json!(2));
    // What Okta's SPEC test reads from the first resource, as the app
    // holds it.
    let first = &body["Resources"][0];
    let id = first["id"].as_str().expect("a string id");
    let stored = app.user(id).expect("the app's user");
    assert_eq!(first["userName"], stored["login"]);
    assert_eq!(first["name"]["givenName"], stored["profile"]["first"]);
    assert_eq!(first["name"]["familyName"], stored["profile"]["last"]);
    assert_eq!(first["emails"][0]["value"], stored["contact"]["email"]);
    assert_eq!(first["active"], json!(stored["state"] == "ACTIVE"));
    assert_eq!(body["Resources"][1]["id"], "1002", "in the app's order");
}

#[tokio::test]
async fn lookup_before_create_decodes_both_space_encodings_and_ignores_case() {
    let (sc, _app) = start_example().await;
    for path in [
        "/scim/v2/Users?filter=userName%20eq%20%22ada.lovelace%40example.com%22&startIndex=1&count=100",
        "/scim/v2/Users?filter=userName+eq+%22ada.lovelace%40example.com%22",
        "/scim/v2/Users?filter=USERNAME%20EQ%20%22ADA.Lovelace%40Example.com%22",
    ] {
        let (status, body) = call(&sc, "GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body["totalResults"], json!(1), "{path}: {body}");
        assert_eq!(body["Resources"][0]["userName"], "ada.lovelace@example.com");
    }
    let (status, body) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22nobody%40okta.local%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["totalResults"], json!(0));
    assert_eq!(body["Resources"], json!([]));
}

#[tokio::test]
async fn create_then_duplicate_in_other_case_is_409() {
    let (sc, app) = start_example().await;
    let Reply {
        status,
        headers,
        body: created,
    } = call_with(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("test.user@okta.local")),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{id}"))
    );
    assert_eq!(created["userName"], "test.user@okta.local");
    assert_eq!(created["name"]["givenName"], "Test");
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none(), "password returned");
    assert_eq!(created["schemas"][0], USER_URN);

    let stored = app.user(&id).expect("user exists in the app");
    assert_eq!(stored["login"], "test.user@okta.local");
    assert_eq!(stored["profile"]["first"], "Test");
    assert_eq!(stored["profile"]["last"], "User");
    assert_eq!(stored["contact"]["email"], "test.user@okta.local");
    assert_eq!(stored["external_id"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(stored["state"], "ACTIVE");

    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("Test.USER@okta.local")),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["scimType"], "uniqueness");
    assert_eq!(err["status"], "409");
    assert_eq!(err["schemas"], json!([ERROR_URN]));
    assert_eq!(
        app_user_by_login(&app, "test.user@okta.local").len(),
        1,
        "a duplicate was created"
    );

    let (status, fetched) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["id"], id.as_str());
    assert_eq!(fetched["userName"], "test.user@okta.local");
}

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
async fn get_then_put_updates_the_profile_and_ignores_read_only_echoes() {
    let (sc, app) = start_example().await;
    let (_, mut user) = call(&sc, "GET", "/scim/v2/Users/1002", None).await;
    // Okta PUTs back what it got, with its changes patched in.
    user["name"]["givenName"] = json!("Alan M.");
    user["title"] = json!("Mathematician");
    user["groups"] = json!([{"value": "t1", "display": "Engineering"}]);
    let (status, updated) = call(&sc, "PUT", "/scim/v2/Users/1002", Some(user.clone())).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"]["givenName"], "Alan M.");
    assert_eq!(updated["title"], "Mathematician");
    let stored = app.user("1002").unwrap();
    assert_eq!(stored["profile"]["first"], "Alan M.");
    assert_eq!(stored["profile"]["title"], "Mathematician");
    assert_eq!(stored["login"], "alan.turing@example.com");

    // PUT replaces: an attribute left out is cleared in the app.
    let mut without_title = updated.clone();
    without_title.as_object_mut().unwrap().remove("title");
    let (status, cleared) = call(&sc, "PUT", "/scim/v2/Users/1002", Some(without_title)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(cleared.get("title").is_none());
    assert!(app.user("1002").unwrap()["profile"]["title"].is_null());
}

#[tokio::test]
async fn put_deactivation_keeps_the_user_readable_and_findable() {
    let (sc, app) = start_example().await;
    let (_, mut user) = call(&sc, "GET", "/scim/v2/Users/1003", None).await;
    user["active"] = json!(false);
    let (status, after) = call(&sc, "PUT", "/scim/v2/Users/1003", Some(user.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["active"], false);
    assert_eq!(app.user("1003").unwrap()["state"], "SUSPENDED");
    let (status, got) = call(&sc, "GET", "/scim/v2/Users/1003", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["active"], false);
    let (_, found) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22grace.hopper%40example.com%22",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], json!(1));
    assert_eq!(found["Resources"][0]["active"], false);
    // A repeated deactivation converges (the app's 409 means "already done").
    let (status, _) = call(&sc, "PUT", "/scim/v2/Users/1003", Some(user.clone())).await;
    assert_eq!(status, StatusCode::OK);
    user["active"] = json!(true);
    let (status, after) = call(&sc, "PUT", "/scim/v2/Users/1003", Some(user)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["active"], true);
    assert_eq!(app.user("1003").unwrap()["state"], "ACTIVE");
}

#[tokio::test]
async fn patch_deactivation_and_reactivation_without_path() {
    let (sc, app) = start_example().await;
    let patch = |active: bool| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "replace", "value": {"active": active}}]})
    };
    let (status, body) = call(&sc, "PATCH", "/scim/v2/Users/1001", Some(patch(false))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);
    assert_eq!(app.user("1001").unwrap()["state"], "SUSPENDED");
    let (status, body) = call(&sc, "PATCH", "/scim/v2/Users/1001", Some(patch(true))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], true);
    assert_eq!(app.user("1001").unwrap()["state"], "ACTIVE");
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
async fn delete_is_204_then_404_and_the_app_forgets_the_user() {
    let (sc, app) = start_example().await;
    let (status, _) = call(&sc, "DELETE", "/scim/v2/Users/1002", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.user("1002").is_none());
    let (status, _) = call(&sc, "GET", "/scim/v2/Users/1002", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&sc, "DELETE", "/scim/v2/Users/1002", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_idp_token_never_reaches_the_app_but_the_api_key_does() {
    let (sc, app) = start_example().await;
    let (status, _) = call(&sc, "GET", "/scim/v2/Users/1001", None).await;
    assert_eq!(status, StatusCode::OK);
    let headers = app.last_request_headers().expect("the app was called");
    assert!(
        headers.get("authorization").is_none(),
        "the IdP's Authorization reached the app"
    );
    assert_eq!(headers["x-api-key"], APP_KEY);
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
