//! The two worked examples of docs/mapping.md, proven end to end: an
//! in-memory Rails-style API (`tests/shapes/rails_app.rs`) behind the
//! shipped `config/rails.toml`, and an in-memory Django REST Framework API
//! (`tests/shapes/django_app.rs`) behind `config/django.toml`, each
//! provisioned through the sidecar with Okta's sequences (test connection,
//! lookup in three encodings, create with `password` and `groups`,
//! duplicates, GET → PUT, path-less PATCH deactivation and reactivation,
//! DELETE, import paging). After every state change the app's own store is
//! checked, and every call the app received must carry the app's
//! credentials from `[host] headers`, never the IdP's bearer token. The
//! shipped configs are read from disk with only addresses and the token
//! hash replaced; `scim-sidecar check` must accept all three, and the guide
//! must show each of them as it is.

mod support;

#[path = "shapes/django_app.rs"]
mod django_app;
#[path = "shapes/rails_app.rs"]
mod rails_app;

use django_app::DjangoApp;
use http::{Method, Request, StatusCode};
use rails_app::RailsApp;
use scim_sidecar::Config;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use support::*;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

// ------------------------------------------------------------- harness

fn config_path(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(file)
        .display()
        .to_string()
}

/// The shipped config `file` with its listeners on ephemeral ports, its
/// upstream at `app` and its token hash replaced by the test token's. Each
/// replaced line must occur exactly once, so a reshaped config fails here
/// instead of silently testing something else.
fn retarget(file: &str, app: SocketAddr) -> String {
    let text = std::fs::read_to_string(config_path(file)).unwrap();
    let hash = scim_sidecar::config::token_hash_string(TOKEN);
    let mut hits = [0; 4];
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let t = line.trim_start();
            let (i, new) = if t.starts_with("listen =") {
                (0, "listen = \"127.0.0.1:0\"".to_string())
            } else if t.starts_with("admin_listen =") {
                (1, "admin_listen = \"127.0.0.1:0\"".to_string())
            } else if t.starts_with("url =") {
                (2, format!("url = \"http://{app}\""))
            } else if t.starts_with("tokens =") {
                (3, format!("tokens = [\"{hash}\"]"))
            } else {
                return line.to_string();
            };
            hits[i] += 1;
            new
        })
        .collect();
    assert_eq!(hits, [1; 4], "{file}: listen, admin_listen, url, tokens");
    lines.join("\n")
}

/// Loads a config text with exactly one environment variable defined.
fn load_with(text: &str, var: &str, value: &str) -> Config {
    let env = |name: &str| (name == var).then(|| value.to_string());
    Config::from_toml(text, &env).unwrap_or_else(|e| panic!("{}", e.render(var, text)))
}

/// Replaces `from` (which must occur) in a config text.
fn edit(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in the config");
    text.replace(from, to)
}

async fn start_rails(app: &RailsApp, change: impl FnOnce(String) -> String) -> Sidecar {
    let text = change(retarget("rails.toml", app.serve().await));
    start(load_with(&text, "RAILS_API_TOKEN", rails_app::API_TOKEN)).await
}

async fn start_django(app: &DjangoApp, change: impl FnOnce(String) -> String) -> Sidecar {
    let text = change(retarget("django.toml", app.serve().await));
    start(load_with(&text, "DJANGO_API_TOKEN", django_app::API_TOKEN)).await
}

/// A SCIM request as Okta sends it; the body is `Null` when empty.
async fn call(sc: &Sidecar, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let b = Request::builder()
        .method(method)
        .uri(sc.url(path))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("user-agent", "Okta SCIM Client 1.0.0")
        .header("accept", "application/scim+json")
        .header("accept-charset", "utf-8");
    let req = match body {
        Some(v) => b
            .header("content-type", "application/scim+json; charset=utf-8")
            .body(support::body(v.to_string())),
        None => b.body(support::body("")),
    };
    let (parts, bytes) = send(&client(), req.unwrap()).await;
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        json(&bytes)
    };
    (parts.status, v)
}

/// Okta's create body (idp-behavior §2.2 d) plus a title and a department.
fn okta_create_body(user_name: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "title": "Engineer",
        ENTERPRISE_URN: {"department": "Engineering"},
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

/// Okta's path-less deactivation/reactivation PATCH.
fn okta_patch_active(active: bool) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": active}}]})
}

/// Every call the app received carried the app's credentials and never
/// the IdP's bearer token.
fn assert_app_credentials(auths: &[Option<String>], expected: &str) {
    assert!(!auths.is_empty(), "the app received no calls");
    for a in auths {
        assert_eq!(a.as_deref(), Some(expected));
        assert!(
            !a.as_deref().unwrap_or("").contains(TOKEN),
            "IdP token leaked"
        );
    }
}

fn assert_scim_error(status: StatusCode, body: &Value, want: StatusCode, scim_type: Option<&str>) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["schemas"], json!([ERROR_URN]));
    assert_eq!(body["status"], want.as_u16().to_string());
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

/// The lookup filter in Okta's `%20` form, the older `+` form, and with
/// the value in another case.
fn lookup_paths(user_name: &str, other_case: &str) -> [String; 3] {
    let enc = |s: &str| s.replace('@', "%40");
    [
        format!(
            "/scim/v2/Users?filter=userName%20eq%20%22{}%22&startIndex=1&count=100",
            enc(user_name)
        ),
        format!("/scim/v2/Users?filter=userName+eq+%22{}%22", enc(user_name)),
        format!(
            "/scim/v2/Users?filter=userName%20eq%20%22{}%22&startIndex=1&count=100",
            enc(other_case)
        ),
    ]
}

// --------------------------------------------------------------- Rails

fn rails_seed(app: &RailsApp) {
    app.insert("ada.lovelace@example.com", "Ada", "Lovelace");
    app.insert("alan.turing@example.com", "Alan", "Turing");
    app.insert("grace.hopper@example.com", "Grace", "Hopper");
}

fn rails_auths(app: &RailsApp) -> Vec<Option<String>> {
    app.seen().into_iter().map(|s| s.authorization).collect()
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
    let seen = app.seen();
    assert_eq!(seen.len(), 1, "one app page answers the probe");
    assert_eq!(seen[0].query["page"], "1");
    assert_eq!(seen[0].query["per_page"], "100");

    for path in lookup_paths("alan.turing@example.com", "Alan.TURING@Example.COM") {
        app.clear_seen();
        let (status, found) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {found}");
        assert_eq!(found["totalResults"], json!(1), "{path}: {found}");
        assert_eq!(found["Resources"][0]["id"], "2");
        assert_eq!(found["Resources"][0]["userName"], "alan.turing@example.com");
        // Pushed down: one search call carrying the value as Okta sent it.
        let seen = app.seen();
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
    assert_app_credentials(&rails_auths(&app), &rails_expected_auth());
}

#[tokio::test]
async fn rails_okta_provisioning_lifecycle() {
    let app = RailsApp::new();
    rails_seed(&app);
    let sc = start_rails(&app, |t| t).await;
    let login = "test.user@okta.local";

    // Create: 201 with the app's id; only mapped fields reach the app,
    // wrapped in {"user": …}.
    app.clear_seen();
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
    app.clear_seen();
    let (status, updated) = call(&sc, "PUT", "/scim/v2/Users/4", Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"]["givenName"], "Testy");
    assert_eq!(updated["displayName"], "Testy User");
    assert_eq!(updated["active"], false);
    let writes: Vec<_> = app
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
        app.clear_seen();
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
        let patch = app.seen().into_iter().find(|s| s.method == Method::PATCH);
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

    assert_app_credentials(&rails_auths(&app), &rails_expected_auth());
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
    assert_app_credentials(&rails_auths(&app), &rails_expected_auth());
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
    app.clear_seen();
    let (_, page) = call(&sc, "GET", "/scim/v2/Users?startIndex=51&count=100", None).await;
    assert_eq!(page["itemsPerPage"], json!(100));
    assert_eq!(page["Resources"][0]["id"], "51");
    assert_eq!(page["Resources"][99]["id"], "150");
    let pages: Vec<(String, String)> = app
        .seen()
        .iter()
        .map(|s| (s.query["page"].clone(), s.query["per_page"].clone()))
        .collect();
    assert_eq!(
        pages,
        [("1".into(), "100".into()), ("2".into(), "100".into())]
    );
    assert_app_credentials(&rails_auths(&app), &rails_expected_auth());
}

// -------------------------------------------------------------- Django

fn django_seed(app: &DjangoApp) -> Vec<String> {
    vec![
        app.insert("ada.lovelace", "Ada", "Lovelace"),
        app.insert("Alan.Turing", "Alan", "Turing"),
        app.insert("grace.hopper", "Grace", "Hopper"),
    ]
}

fn django_auths(app: &DjangoApp) -> Vec<Option<String>> {
    app.seen().into_iter().map(|s| s.authorization).collect()
}

fn django_expected_auth() -> String {
    format!("Bearer {}", django_app::API_TOKEN)
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<usize> = s.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[tokio::test]
async fn django_lookups_are_scanned_because_the_app_search_is_case_sensitive() {
    let app = DjangoApp::new();
    let ids = django_seed(&app);
    let sc = start_django(&app, |t| t).await;

    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], json!(3));
    assert_eq!(list["itemsPerPage"], json!(2));
    let first = &list["Resources"][0];
    assert_eq!(first["id"], ids[0].as_str());
    assert!(is_uuid(first["id"].as_str().unwrap()));
    assert_eq!(first["userName"], "ada.lovelace");
    assert_eq!(
        first["name"],
        json!({"givenName": "Ada", "familyName": "Lovelace"})
    );
    assert_eq!(first["active"], true);
    assert_eq!(
        first["emails"],
        json!([{"type": "work", "value": "ada.lovelace@example.com", "primary": true}])
    );
    assert_eq!(first["meta"]["created"], "2024-05-01T12:00:00Z");
    assert_eq!(
        list["Resources"][1]["meta"]["created"],
        "2024-05-01T12:00:01.5Z"
    );

    // The stored login is "Alan.Turing". Every form of the lookup finds it:
    // the sidecar reads the app's pages and compares case-insensitively,
    // without ever using the app's case-sensitive `?username=` filter.
    for path in lookup_paths("Alan.Turing", "alan.turing") {
        app.clear_seen();
        let (status, found) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {found}");
        assert_eq!(found["totalResults"], json!(1), "{path}: {found}");
        assert_eq!(found["Resources"][0]["id"], ids[1].as_str());
        assert_eq!(found["Resources"][0]["userName"], "Alan.Turing");
        let seen = app.seen();
        assert_eq!(seen.len(), 1, "three users fit one app page");
        assert_eq!(seen[0].path, "/api/v1/accounts/");
        assert!(
            !seen[0].query.contains_key("username"),
            "{path}: pushed down"
        );
        assert_eq!(seen[0].query["offset"], "0");
        assert_eq!(seen[0].query["limit"], "50");
    }
    let (status, none) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22nobody%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["totalResults"], json!(0));
    assert_app_credentials(&django_auths(&app), &django_expected_auth());
}

#[tokio::test]
async fn django_scan_beyond_the_limit_is_refused_not_missed() {
    let app = DjangoApp::new();
    for i in 0..8 {
        app.insert(&format!("user{i}"), "U", &format!("{i}"));
    }
    let sc = start_django(&app, |t| {
        edit(t, "filter_scan_limit = 10000", "filter_scan_limit = 5")
    })
    .await;
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22user7%22",
        None,
    )
    .await;
    assert_scim_error(status, &err, StatusCode::BAD_REQUEST, Some("invalidFilter"));
    // The pre-create uniqueness lookup is the same scan: creates are
    // refused too rather than risking a duplicate — as a limit of the
    // sidecar (500), not as a bad filter the IdP never sent.
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("new.user")),
    )
    .await;
    assert_scim_error(status, &err, StatusCode::INTERNAL_SERVER_ERROR, None);
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("cannot verify that userName is unique")
    );
    assert_eq!(app.len(), 8);
    assert!(app.seen().iter().all(|s| s.method == Method::GET));
}

#[tokio::test]
async fn django_okta_provisioning_lifecycle() {
    let app = DjangoApp::new();
    django_seed(&app);
    let sc = start_django(&app, |t| t).await;
    let login = "test.user@okta.local";

    app.clear_seen();
    let (status, created) =
        call(&sc, "POST", "/scim/v2/Users", Some(okta_create_body(login))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert!(is_uuid(&id), "{id}");
    assert_eq!(created["userName"], login);
    assert_eq!(created[ENTERPRISE_URN]["department"], "Engineering");
    assert_eq!(created["meta"]["created"], "2024-05-01T12:00:04.5Z");
    assert!(created.get("password").is_none());
    let posts: Vec<_> = app
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::POST)
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        Some(json!({
            "username": login, "email": login, "given_name": "Test",
            "family_name": "User", "is_active": true, "department": "Engineering",
        }))
    );
    let stored = app.account(&id).expect("created in the app");
    assert_eq!(stored["username"], login);
    assert_eq!(stored["email"], login);
    assert_eq!(stored["given_name"], "Test");
    assert_eq!(stored["family_name"], "User");
    assert_eq!(stored["is_active"], true);
    assert_eq!(stored["department"], "Engineering");
    assert_eq!(
        stored["date_joined"],
        json!(django_app::EPOCH_START_MS + 4500)
    );

    // Duplicates in any case are caught by the pre-create lookup; the
    // differently cased one would have been accepted by the app itself.
    for dup in [login, "Test.USER@okta.local"] {
        app.clear_seen();
        let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(okta_create_body(dup))).await;
        assert_scim_error(status, &err, StatusCode::CONFLICT, Some("uniqueness"));
        assert!(
            app.seen().iter().all(|s| s.method == Method::GET),
            "create reached the app"
        );
        assert_eq!(app.by_username_any_case(login).len(), 1);
        assert_eq!(app.len(), 4);
    }

    // GET → PUT: the app gets a full PUT with every mapped field.
    let (status, mut user) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    user["name"]["givenName"] = json!("Testy");
    user["active"] = json!(false);
    user["groups"] = json!([]);
    app.clear_seen();
    let (status, updated) = call(&sc, "PUT", &format!("/scim/v2/Users/{id}"), Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"]["givenName"], "Testy");
    assert_eq!(updated["active"], false);
    let full = |active: bool, given: &str| {
        json!({
            "username": login, "email": login, "given_name": given,
            "family_name": "User", "is_active": active, "department": "Engineering",
        })
    };
    let puts: Vec<_> = app
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::PUT)
        .collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].path, format!("/api/v1/accounts/{id}/"));
    assert_eq!(puts[0].body, Some(full(false, "Testy")));
    let stored = app.account(&id).unwrap();
    assert_eq!(stored["given_name"], "Testy");
    assert_eq!(stored["is_active"], false);

    // Clearing an attribute with PUT sends it as null.
    let (_, mut user) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    user.as_object_mut().unwrap().remove(ENTERPRISE_URN);
    let (status, cleared) = call(&sc, "PUT", &format!("/scim/v2/Users/{id}"), Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert!(cleared.get(ENTERPRISE_URN).is_none(), "{cleared}");
    assert!(app.account(&id).unwrap()["department"].is_null());

    // Path-less PATCH reactivation, deactivation, reactivation: full PUTs.
    for active in [true, false, true] {
        app.clear_seen();
        let path = format!("/scim/v2/Users/{id}");
        let (status, body) = call(&sc, "PATCH", &path, Some(okta_patch_active(active))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], active);
        assert_eq!(app.account(&id).unwrap()["is_active"], active);
        let put = app
            .seen()
            .into_iter()
            .find(|s| s.method == Method::PUT)
            .expect("a PUT");
        assert_eq!(put.body.unwrap()["is_active"], active);
    }

    // DELETE: the app has none; the account is deactivated and stays.
    app.clear_seen();
    let (status, body) = call(&sc, "DELETE", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let stored = app.account(&id).expect("still in the app");
    assert_eq!(stored["is_active"], false);
    assert_eq!(stored["username"], login);
    let methods: Vec<Method> = app.seen().into_iter().map(|s| s.method).collect();
    assert_eq!(
        methods,
        [Method::GET, Method::PUT],
        "read, then one full PUT"
    );
    let (status, got) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["active"], false);
    // A repeated DELETE converges without writing.
    app.clear_seen();
    let (status, _) = call(&sc, "DELETE", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.seen().iter().all(|s| s.method == Method::GET));
    assert_eq!(app.len(), 4);

    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users/00000000-0000-4000-8000-000000000000",
        None,
    )
    .await;
    assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);
    assert_app_credentials(&django_auths(&app), &django_expected_auth());
}

#[tokio::test]
async fn django_app_side_uniqueness_error_is_translated_to_409() {
    // Without `unique`, creates go straight to the app: its 400 for an
    // existing username becomes 409 uniqueness — but its check is
    // case-sensitive, which is why the shipped config keeps `unique`.
    let app = DjangoApp::new();
    django_seed(&app);
    let sc = start_django(&app, |t| edit(t, "unique = [\"userName\"]", "")).await;
    app.clear_seen();
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("grace.hopper")),
    )
    .await;
    assert_scim_error(status, &err, StatusCode::CONFLICT, Some("uniqueness"));
    assert_eq!(err["detail"], "a user with this username already exists");
    let seen = app.seen();
    assert_eq!(seen[0].method, Method::POST, "no lookup before the create");
    assert!(
        seen[1..].iter().all(|s| s.method == Method::GET),
        "after the app's refusal only reads (looking for a half-made account)"
    );
    assert_eq!(app.len(), 3);
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("Grace.Hopper")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(app.by_username_any_case("grace.hopper").len(), 2);
    assert_app_credentials(&django_auths(&app), &django_expected_auth());
}

#[tokio::test]
async fn django_import_fills_scim_pages_within_the_apps_limit() {
    let app = DjangoApp::new();
    let ids: Vec<String> = (0..120)
        .map(|i| app.insert(&format!("user{i:03}"), "U", &format!("{i}")))
        .collect();
    let sc = start_django(&app, |t| t).await;
    let mut seen_ids = Vec::new();
    let mut start_index = 1;
    while start_index <= 120 {
        app.clear_seen();
        let path = format!("/scim/v2/Users?startIndex={start_index}&count=100");
        let (status, page) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["totalResults"], json!(120));
        assert_eq!(page["startIndex"], json!(start_index));
        let items = page["Resources"].as_array().unwrap();
        assert_eq!(items.len(), if start_index == 1 { 100 } else { 20 });
        assert_eq!(page["itemsPerPage"], json!(items.len()));
        seen_ids.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        let calls: Vec<(String, String)> = app
            .seen()
            .iter()
            .map(|s| (s.query["offset"].clone(), s.query["limit"].clone()))
            .collect();
        let want: Vec<(String, String)> = if start_index == 1 {
            vec![("0".into(), "50".into()), ("50".into(), "50".into())]
        } else {
            vec![("100".into(), "50".into())]
        };
        assert_eq!(calls, want, "startIndex={start_index}");
        start_index += 100;
    }
    assert_eq!(seen_ids, ids, "every user once, in order");
    assert_app_credentials(&django_auths(&app), &django_expected_auth());
}

// ------------------------------------------------------------- configs

#[test]
fn check_accepts_every_shipped_config_and_names_missing_secrets() {
    for (file, var) in [
        ("example.toml", "APP_API_KEY"),
        ("rails.toml", "RAILS_API_TOKEN"),
        ("django.toml", "DJANGO_API_TOKEN"),
    ] {
        let path = config_path(file);
        let run = |with_secret: bool| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"));
            cmd.args(["check", "--config", &path])
                .env_remove("SCIM_SIDECAR_CONFIG")
                .env_remove(var);
            if with_secret {
                cmd.env(var, "a-test-secret");
            }
            cmd.output().expect("run scim-sidecar")
        };
        let ok = run(true);
        let stderr = String::from_utf8_lossy(&ok.stderr);
        assert_eq!(ok.status.code(), Some(0), "{file}:\n{stderr}");
        let stdout = String::from_utf8_lossy(&ok.stdout);
        assert!(stdout.contains(&format!("{path}: ok")), "{file}:\n{stdout}");
        let missing = run(false);
        assert_eq!(missing.status.code(), Some(1), "{file} without {var}");
        let stderr = String::from_utf8_lossy(&missing.stderr);
        assert!(
            stderr.contains(&format!("`{var}` is not set")),
            "{file}:\n{stderr}"
        );
    }
}

#[test]
fn the_guide_shows_the_shipped_configs_verbatim() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mapping.md"))
            .unwrap();
    for file in ["example.toml", "rails.toml", "django.toml"] {
        let text = std::fs::read_to_string(config_path(file)).unwrap();
        let block = format!("```toml\n{}\n```", text.trim_end());
        assert!(
            guide.contains(&block),
            "docs/mapping.md does not show config/{file} as it is"
        );
    }
}
