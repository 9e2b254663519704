//! The Rails-style app behind the shipped `config/rails.toml`: lookups
//! pushed down to its `?email=` search, Okta's provisioning lifecycle with
//! `{"user": …}` envelopes and PATCHes of only the changed fields, 422
//! validation errors, and import paging across the app's pages.

use super::*;
use http::Method;

fn rails_seed(app: &RailsApp) {
    app.insert("ada.lovelace@example.com", "Ada", "Lovelace");
    app.insert("alan.turing@example.com", "Alan", "Turing");
    app.insert("grace.hopper@example.com", "Grace", "Hopper");
}

fn rails_expected_auth() -> String {
    format!("Token token=\"{}\"", rails_app::API_TOKEN)
}

#[tokio::test]
async fn rails_test_connection_and_lookups_are_pushed_down() {
    let app = RailsApp::new();
    rails_seed(&app);
    let sc = start_rails(&app, |t| t).await;

    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], json!(3));
    assert_eq!(list["startIndex"], json!(1));
    assert_eq!(list["itemsPerPage"], json!(2));
    let first = &list["Resources"][0];
    assert_eq!(first["id"], "1", "integer ids read as strings");
    assert_eq!(first["userName"], "ada.lovelace@example.com");
    assert_eq!(
        first["name"],
        json!({"givenName": "Ada", "familyName": "Lovelace"})
    );
    assert_eq!(first["displayName"], "Ada Lovelace");
    assert_eq!(first["active"], true);
    assert_eq!(
        first["emails"],
        json!([{"value": "ada.lovelace@example.com", "type": "work"}])
    );
    assert_eq!(first["meta"]["created"], "2024-05-01T12:00:01Z");
    assert_eq!(first["meta"]["resourceType"], "User");
    let seen = app.rec.seen();
    assert_eq!(seen.len(), 1, "one app page answers the probe");
    assert_eq!(seen[0].query["page"], "1");
    assert_eq!(seen[0].query["per_page"], "100");

    for path in lookup_paths("alan.turing@example.com", "Alan.TURING@Example.COM") {
        app.rec.clear();
        let (status, found) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {found}");
        assert_eq!(found["totalResults"], json!(1), "{path}: {found}");
        assert_eq!(found["Resources"][0]["id"], "2");
        assert_eq!(found["Resources"][0]["userName"], "alan.turing@example.com");
        // Pushed down: one search call carrying the value as Okta sent it.
        let seen = app.rec.seen();
        assert_eq!(seen.len(), 1, "{path}");
        assert_eq!(seen[0].path, "/users.json");
        let sent = seen[0].query["email"].to_lowercase();
        assert_eq!(sent, "alan.turing@example.com", "{path}");
    }
    let (status, none) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22nobody%40okta.local%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["totalResults"], json!(0));
    assert_eq!(none["Resources"], json!([]));
    assert_app_credentials(&app.rec, &rails_expected_auth());
}

#[tokio::test]
async fn rails_okta_provisioning_lifecycle() {
    let app = RailsApp::new();
    rails_seed(&app);
    let sc = start_rails(&app, |t| t).await;
    let login = "test.user@okta.local";

    // Create: 201 with the app's id; only mapped fields reach the app,
    // wrapped in {"user": …}.
    app.rec.clear();
    let (status, created) =
        call(&sc, "POST", "/scim/v2/Users", Some(okta_create_body(login))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "4");
    assert_eq!(created["userName"], login);
    assert_eq!(created["name"]["givenName"], "Test");
    assert_eq!(created["title"], "Engineer");
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none());
    let posts: Vec<_> = app
        .rec
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::POST)
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        Some(json!({"user": {
            "email": login, "first_name": "Test", "last_name": "User",
            "job_title": "Engineer", "active": true,
            "emails": [{"address": login, "kind": "work"}],
        }}))
    );
    let stored = app.user(4).expect("created in the app");
    assert_eq!(stored["email"], login);
    assert_eq!(stored["first_name"], "Test");
    assert_eq!(stored["last_name"], "User");
    assert_eq!(stored["job_title"], "Engineer");
    assert_eq!(stored["active"], true);
    assert_eq!(
        stored["emails"],
        json!([{"address": login, "kind": "work"}])
    );

    // Duplicates in any case: the app's 422 becomes 409 uniqueness.
    for dup in [login, "TEST.User@okta.local"] {
        let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(okta_create_body(dup))).await;
        assert_scim_error(status, &err, StatusCode::CONFLICT, Some("uniqueness"));
        assert_eq!(err["detail"], "a user with this email already exists");
        assert_eq!(app.by_email(login).len(), 1, "a duplicate was created");
        assert_eq!(app.len(), 4);
    }

    // Profile update: Okta GETs, then PUTs the whole resource back with
    // its changes; the app gets a PATCH of only the changed fields.
    let (status, mut user) = call(&sc, "GET", "/scim/v2/Users/4", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], "4");
    user["name"]["givenName"] = json!("Testy");
    user["active"] = json!(false);
    user["groups"] = json!([]);
    app.rec.clear();
    let (status, updated) = call(&sc, "PUT", "/scim/v2/Users/4", Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"]["givenName"], "Testy");
    assert_eq!(updated["displayName"], "Testy User");
    assert_eq!(updated["active"], false);
    let writes: Vec<_> = app
        .rec
        .seen()
        .into_iter()
        .filter(|s| s.method != Method::GET)
        .collect();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].method, Method::PATCH);
    assert_eq!(writes[0].path, "/users/4.json");
    assert_eq!(
        writes[0].body,
        Some(json!({"user": {"first_name": "Testy", "active": false}}))
    );
    let stored = app.user(4).unwrap();
    assert_eq!(stored["first_name"], "Testy");
    assert_eq!(stored["active"], false);
    assert_eq!(stored["email"], login);

    // Path-less PATCH reactivation, deactivation, reactivation.
    for active in [true, false, true] {
        app.rec.clear();
        let (status, body) = call(
            &sc,
            "PATCH",
            "/scim/v2/Users/4",
            Some(okta_patch_active(active)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], active);
        assert_eq!(app.user(4).unwrap()["active"], active);
        let patch = app
            .rec
            .seen()
            .into_iter()
            .find(|s| s.method == Method::PATCH);
        assert_eq!(
            patch.unwrap().body,
            Some(json!({"user": {"active": active}}))
        );
    }

    // DELETE removes the record: 204, then 404 for GET and DELETE.
    let (status, body) = call(&sc, "DELETE", "/scim/v2/Users/4", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(app.user(4).is_none(), "still in the app");
    assert_eq!(app.len(), 3);
    let (status, err) = call(&sc, "GET", "/scim/v2/Users/4", None).await;
    assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);
    let (status, err) = call(&sc, "DELETE", "/scim/v2/Users/4", None).await;
    assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);

    assert_app_credentials(&app.rec, &rails_expected_auth());
}

#[tokio::test]
async fn rails_unknown_ids_and_invalid_values() {
    let app = RailsApp::new();
    rails_seed(&app);
    let sc = start_rails(&app, |t| t).await;
    for id in ["999", "abc", "1.json"] {
        let (status, err) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
        assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);
    }
    // Another 422 (not "has already been taken") is the default 400.
    let bad = json!({"schemas": [PATCH_URN],
        "Operations": [{"op": "replace", "path": "userName", "value": "not-an-email"}]});
    let (status, err) = call(&sc, "PATCH", "/scim/v2/Users/1", Some(bad)).await;
    assert_scim_error(status, &err, StatusCode::BAD_REQUEST, Some("invalidValue"));
    assert_eq!(app.user(1).unwrap()["email"], "ada.lovelace@example.com");
    // The app renames "home" emails to "personal", both ways.
    let home = json!({"schemas": [PATCH_URN], "Operations": [{"op": "add", "path": "emails",
        "value": [{"value": "ada@home.example", "type": "home"}]}]});
    let (status, body) = call(&sc, "PATCH", "/scim/v2/Users/1", Some(home)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.user(1).unwrap()["emails"],
        json!([
            {"kind": "work", "address": "ada.lovelace@example.com"},
            {"kind": "personal", "address": "ada@home.example"}
        ])
    );
    assert_eq!(
        body["emails"][1],
        json!({"value": "ada@home.example", "type": "home"})
    );
    assert_app_credentials(&app.rec, &rails_expected_auth());
}

#[tokio::test]
async fn rails_import_pages_through_every_user_once() {
    let app = RailsApp::new();
    for i in 0..230 {
        app.insert(&format!("user{i:03}@example.com"), "U", &format!("{i}"));
    }
    let sc = start_rails(&app, |t| t).await;
    let mut seen_ids = Vec::new();
    let mut start_index = 1;
    while start_index <= 230 {
        let path = format!("/scim/v2/Users?startIndex={start_index}&count=100");
        let (status, page) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["totalResults"], json!(230));
        assert_eq!(page["startIndex"], json!(start_index));
        let items = page["Resources"].as_array().unwrap();
        assert_eq!(page["itemsPerPage"], json!(items.len()));
        seen_ids.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        start_index += 100;
    }
    let want: Vec<String> = (1..=230).map(|i| i.to_string()).collect();
    assert_eq!(seen_ids, want, "every user once, in order");

    // A SCIM page that straddles two app pages: both are fetched and sliced.
    app.rec.clear();
    let (_, page) = call(&sc, "GET", "/scim/v2/Users?startIndex=51&count=100", None).await;
    assert_eq!(page["itemsPerPage"], json!(100));
    assert_eq!(page["Resources"][0]["id"], "51");
    assert_eq!(page["Resources"][99]["id"], "150");
    let pages: Vec<(String, String)> = app
        .rec
        .seen()
        .iter()
        .map(|s| (s.query["page"].clone(), s.query["per_page"].clone()))
        .collect();
    assert_eq!(
        pages,
        [("1".into(), "100".into()), ("2".into(), "100".into())]
    );
    assert_app_credentials(&app.rec, &rails_expected_auth());
}
