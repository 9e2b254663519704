//! Apps of other shapes, each provisioned through its shipped config with
//! Okta's and Entra's user sequences, every state change checked in the
//! app's own store, every answer read by the strict SCIM client of
//! `support::call`:
//!
//! - `config/matrix.toml` (`more_shapes/matrix_app.rs`): a Matrix
//!   homeserver's admin API — ids derived from the login, upsert creates,
//!   one `threepids` list for emails and phones, the IdP's id as one
//!   `external_ids` element, one display name;
//! - `config/crm.toml` (`more_shapes/crm_app.rs`): action endpoints with
//!   bodies, a third account state (locked) that takes two calls to leave,
//!   a manager cleared as `"manager": null`, one phone field;
//! - `config/fab.toml` (`more_shapes/fab_app.rs`): a Flask-AppBuilder API
//!   — one Rison `q` with filters and 0-based pages, fields the create
//!   requires that the IdP does not send, a protected service account.

use crate::support;

mod crm_app;
mod fab_app;
mod matrix_app;

use crm_app::CrmApp;
use fab_app::FabApp;
use http::StatusCode;
use matrix_app::MatrixApp;
use scim_sidecar::Config;
use serde_json::{Value, json};
use std::net::SocketAddr;
use support::{Sidecar, call, start};

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

// ------------------------------------------------------------- harness

/// The shipped config `file` on ephemeral ports, its upstream at `app`,
/// its connection's dialect `idp` and token hash the test token's; each
/// replaced line must occur exactly once.
fn retarget(file: &str, app: SocketAddr, idp: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(file);
    let text = std::fs::read_to_string(path).unwrap();
    let hash = scim_sidecar::auth::token_hash_string(support::TOKEN);
    let mut hits = [0; 5];
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
            } else if t.starts_with("idp =") {
                (4, format!("idp = \"{idp}\""))
            } else {
                return line.to_string();
            };
            hits[i] += 1;
            new
        })
        .collect();
    assert_eq!(
        hits, [1; 5],
        "{file}: listen, admin_listen, url, tokens, idp"
    );
    lines.join("\n")
}

fn load(text: &str, env: &[(&str, &str)]) -> Config {
    let lookup = |name: &str| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    Config::from_toml(text, &lookup).unwrap_or_else(|e| panic!("{}", e.render("config", text)))
}

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

fn okta_create(user_name: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENT],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name.to_lowercase(), "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

fn entra_create(user_name: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENT],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "title": null,
        "phoneNumbers": null,
        ENT: {"department": "Finance", "manager": null}
    })
}

fn filter(attr: &str, value: &str) -> String {
    let v = value.replace('@', "%40");
    format!("/scim/v2/Users?filter={attr}%20eq%20%22{v}%22&startIndex=1&count=100")
}

fn scim_error(status: StatusCode, body: &Value, want: u16, scim_type: Option<&str>) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
}

// -------------------------------------------------------------- Matrix

const TEST_ID: &str = "@test.user=40okta.local:example.org";

async fn start_matrix(app: &MatrixApp, idp: &str) -> Sidecar {
    let text = retarget("matrix.toml", app.serve().await, idp);
    start(load(
        &text,
        &[
            ("MATRIX_ADMIN_TOKEN", matrix_app::ADMIN_TOKEN),
            ("MATRIX_SERVER_NAME", matrix_app::SERVER),
        ],
    ))
    .await
}

fn matrix_seed(app: &MatrixApp) {
    // The sidecar's own admin account, and a person.
    app.insert(
        "@scim-bot:example.org",
        json!({"displayname": "SCIM", "admin": true, "password": "bot-secret"}),
    );
    app.insert(
        "@alan.turing=40example.com:example.org",
        json!({"displayname": "Alan Turing",
               "threepids": [{"medium": "email", "address": "alan@example.com"}]}),
    );
}

fn matrix_auth_only(app: &MatrixApp) {
    let want = format!("Bearer {}", matrix_app::ADMIN_TOKEN);
    let seen = app.rec.seen();
    assert!(!seen.is_empty());
    for s in seen {
        assert_eq!(
            s.authorization.as_deref(),
            Some(want.as_str()),
            "{}",
            s.path
        );
    }
}

#[tokio::test]
async fn matrix_okta_user_sequence() {
    let app = MatrixApp::new();
    matrix_seed(&app);
    let sc = start_matrix(&app, "okta").await;

    // Test connection: the sidecar's own account is not listed.
    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["userName"], "alan.turing@example.com");

    // Okta's lookup is one get-by-key call of the derived id.
    app.rec.clear();
    let (status, found) = call(
        &sc,
        "GET",
        &filter("userName", "Test.User@okta.local"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found} {:?}", app.rec.calls());
    assert_eq!(found["totalResults"], 0);
    assert_eq!(
        app.rec.calls(),
        ["GET /_synapse/admin/v2/users/@test.user%3D40okta.local:example.org"]
    );

    // Create: a PUT of the id derived from the login.
    app.rec.clear();
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create("Test.User@okta.local")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], TEST_ID);
    assert_eq!(created["userName"], "test.user@okta.local");
    assert_eq!(created["displayName"], "Test User");
    assert_eq!(created["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(
        created["emails"],
        json!([{"value": "test.user@okta.local", "type": "work", "primary": true}])
    );
    let u = app.user(TEST_ID).expect("created in the app");
    assert_eq!(u["displayname"], "Test User");
    assert_eq!(
        u["threepids"],
        json!([{"medium": "email", "address": "test.user@okta.local"}])
    );
    assert_eq!(
        u["external_ids"],
        json!([{"auth_provider": "scim", "external_id": "00ujl29u0le5T6Aj10h7"}])
    );
    assert_eq!(u["password"], "1mz050nq");
    assert_eq!(u["deactivated"], false);

    // Found again, in another case; a duplicate is 409 and changes nothing.
    let (_, found) = call(
        &sc,
        "GET",
        &filter("userName", "TEST.USER@okta.local"),
        None,
    )
    .await;
    assert_eq!(found["Resources"][0]["id"], TEST_ID);
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create("test.user@OKTA.local")),
    )
    .await;
    scim_error(status, &err, 409, Some("uniqueness"));
    assert_eq!(app.len(), 3);

    // Profile update: GET, then PUT with a phone added and no displayName:
    // the display name is composed, the phone joins the email.
    let path = format!("/scim/v2/Users/{}", TEST_ID.replace('@', "%40"));
    let (_, mut user) = call(&sc, "GET", &path, None).await;
    user["name"] = json!({"givenName": "Testy", "familyName": "User"});
    user.as_object_mut().unwrap().remove("displayName");
    user["phoneNumbers"] = json!([{"value": "+15551234", "type": "mobile"}]);
    let (status, updated) = call(&sc, "PUT", &path, Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["displayName"], "Testy User");
    let u = app.user(TEST_ID).unwrap();
    assert_eq!(u["displayname"], "Testy User");
    assert_eq!(
        u["threepids"],
        json!([{"medium": "email", "address": "test.user@okta.local"},
               {"medium": "msisdn", "address": "+15551234"}])
    );

    // Deactivate and reactivate with Okta's path-less PATCH.
    for active in [false, true] {
        let body = patch(json!([{"op": "replace", "value": {"active": active}}]));
        let (status, r) = call(&sc, "PATCH", &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["active"], active);
        assert_eq!(app.user(TEST_ID).unwrap()["deactivated"], !active);
    }

    // A Matrix id never changes: a rename is refused.
    let rename = patch(json!([{"op": "replace", "path": "userName", "value": "other@okta.local"}]));
    let (status, err) = call(&sc, "PATCH", &path, Some(rename)).await;
    scim_error(status, &err, 400, Some("mutability"));

    // Import: every account but the protected one.
    let (_, all) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=100", None).await;
    assert_eq!(all["totalResults"], 2);
    let names: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"scim-bot"), "{names:?}");

    // The protected account cannot be read, changed or taken over.
    let bot = "/scim/v2/Users/%40scim-bot%3Aexample.org";
    let (status, _) = call(&sc, "GET", bot, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
    let (status, _) = call(&sc, "PATCH", bot, Some(off)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(okta_create("scim-bot"))).await;
    scim_error(status, &err, 409, Some("uniqueness"));
    let bot_user = app.user("@scim-bot:example.org").unwrap();
    assert_eq!(bot_user["password"], "bot-secret");
    assert_eq!(bot_user["deactivated"], false);
    matrix_auth_only(&app);
}

/// A deactivated account is left out of the homeserver's default list:
/// the upsert create must not overwrite it (and its password) because the
/// uniqueness check asks for the id itself.
#[tokio::test]
async fn an_upsert_create_cannot_take_over_a_hidden_account() {
    let app = MatrixApp::new();
    matrix_seed(&app);
    app.insert(
        "@eve=40example.com:example.org",
        json!({"displayname": "Eve (left)", "deactivated": true, "password": "old-secret",
               "external_ids": [{"auth_provider": "scim", "external_id": "00uOLD"}]}),
    );
    let sc = start_matrix(&app, "okta").await;
    let mut body = okta_create("Eve@example.com");
    body["password"] = json!("attacker-chosen");
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(body)).await;
    scim_error(status, &err, 409, Some("uniqueness"));
    let eve = app.user("@eve=40example.com:example.org").unwrap();
    assert_eq!(eve["password"], "old-secret");
    assert_eq!(eve["deactivated"], true);
    assert_eq!(eve["displayname"], "Eve (left)");
    assert!(
        !app.rec.calls().iter().any(|c| c.starts_with("PUT ")),
        "{:?}",
        app.rec.calls()
    );
}

#[tokio::test]
async fn matrix_entra_user_sequence() {
    let app = MatrixApp::new();
    matrix_seed(&app);
    let sc = start_matrix(&app, "entra").await;
    let login = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
    let id = "@test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1:example.org";

    // Test connection with a random GUID, then the create with nulls.
    let (status, none) = call(
        &sc,
        "GET",
        &filter("userName", "85e5c1a7-5f55-4a5b-bb5d-8ad9c0ea2f8c"),
        None,
    )
    .await;
    assert_eq!(
        (status, none["totalResults"].clone()),
        (StatusCode::OK, json!(0))
    );
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(entra_create(login))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], id);
    assert_eq!(created["displayName"], "givenName familyName");
    let u = app.user(id).unwrap();
    assert_eq!(
        u["external_ids"],
        json!([{"auth_provider": "scim", "external_id": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"}])
    );

    // Entra finds users by externalId too: a scan of the list here.
    let (_, by_ext) = call(
        &sc,
        "GET",
        &filter("externalId", "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"),
        None,
    )
    .await;
    assert_eq!(by_ext["Resources"][0]["id"], id, "{by_ext}");

    // Capitalised Replace ops on the work email and a new mobile phone,
    // and the externalId removed: the identity element goes, the others stay.
    let path = format!("/scim/v2/Users/{}", id.replace('@', "%40"));
    let ops = patch(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@testuser.com"},
        {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+4915112345"},
        {"op": "Remove", "path": "externalId"}
    ]));
    let (status, r) = call(&sc, "PATCH", &path, Some(ops)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let u = app.user(id).unwrap();
    assert_eq!(
        u["threepids"],
        json!([{"medium": "email", "address": "new@testuser.com"},
               {"medium": "msisdn", "address": "+4915112345"}])
    );
    assert_eq!(u["external_ids"], json!([]));
    assert!(r.get("externalId").is_none());

    // String booleans disable and enable.
    for (v, deactivated) in [("False", true), ("True", false)] {
        let ops = patch(json!([{"op": "Replace", "path": "active", "value": v}]));
        let (status, r) = call(&sc, "PATCH", &path, Some(ops)).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(app.user(id).unwrap()["deactivated"], deactivated);
    }

    // DELETE deactivates (a homeserver never deletes) and answers 204.
    let (status, _) = call(&sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.user(id).unwrap()["deactivated"], true);
    matrix_auth_only(&app);
}

#[tokio::test]
async fn a_login_outside_the_matrix_alphabet_is_refused_naming_the_rule() {
    let app = MatrixApp::new();
    let sc = start_matrix(&app, "okta").await;
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create("Ada Lovelace")),
    )
    .await;
    scim_error(status, &err, 400, Some("invalidValue"));
    let detail = err["detail"].as_str().unwrap();
    assert!(
        detail.contains("localpart") && detail.contains("a-z0-9._=/-"),
        "{detail}"
    );
    assert!(
        !detail.contains("Lovelace"),
        "no values in errors: {detail}"
    );
    assert_eq!(app.len(), 0);
}

#[tokio::test]
async fn readyz_reads_the_app_with_the_sidecars_credentials() {
    let app = MatrixApp::new();
    let sc = start_matrix(&app, "okta").await;
    let readyz = || async {
        let req = http::Request::get(format!("http://{}/readyz", sc.admin))
            .body(support::body(""))
            .unwrap();
        support::send(&support::client(), req).await.0.status
    };
    assert_eq!(readyz().await, StatusCode::OK);
    app.revoke_token();
    assert_eq!(readyz().await, StatusCode::SERVICE_UNAVAILABLE);
}

// ----------------------------------------------------- Flask-AppBuilder

async fn start_fab(app: &FabApp, idp: &str, edit: impl FnOnce(String) -> String) -> Sidecar {
    let text = edit(retarget("fab.toml", app.serve().await, idp));
    start(load(
        &text,
        &[
            ("FAB_ACCESS_TOKEN", fab_app::ACCESS_TOKEN),
            ("FAB_SERVICE_USER", fab_app::SERVICE_USER),
        ],
    ))
    .await
}

fn fab_seed(app: &FabApp) {
    for (u, f, l) in [("ada", "Ada", "Lovelace"), ("alan", "Alan", "Turing")] {
        app.insert(json!({"username": u, "first_name": f, "last_name": l,
            "email": format!("{u}@example.com"), "password": "x", "roles": [3]}));
    }
}

/// The `q` documents the app received (every `q` of each call).
fn fab_queries(app: &FabApp) -> Vec<Vec<Value>> {
    app.rec
        .seen()
        .iter()
        .filter(|s| s.path == "/api/v1/security/users/")
        .map(|s| {
            s.query
                .get("q")
                .map(|q| vec![fab_app::parse_q(q).expect(q)])
                .unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn fab_okta_user_sequence() {
    let app = FabApp::new();
    fab_seed(&app);
    let sc = start_fab(&app, "okta", |t| t).await;

    // Test connection: pages from 0, the service account left out.
    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=100", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], 2, "{list}");
    assert_eq!(list["Resources"][0]["userName"], "ada");
    assert_eq!(
        list["Resources"][0]["meta"]["created"],
        "2024-05-01T12:00:02.250000Z"
    );
    assert_eq!(
        fab_queries(&app),
        [[json!({"order_column": "id", "order_direction": "asc", "page": 0, "page_size": 100})]]
    );

    // Lookup: one call, one `q` holding the filter and the paging.
    app.rec.clear();
    let (_, found) = call(&sc, "GET", &filter("userName", "ALAN"), None).await;
    assert_eq!(found["Resources"][0]["userName"], "alan", "{found}");
    let seen = app.rec.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/api/v1/security/users/");
    assert_eq!(
        fab_queries(&app),
        [[
            json!({"filters": [{"col": "username", "opr": "eq", "value": "ALAN"}],
                 "order_column": "id", "order_direction": "asc", "page": 0, "page_size": 100})
        ]]
    );

    // Create: the password the app requires is generated, the roles are
    // the configured constant.
    let mut body = okta_create("grace");
    body.as_object_mut().unwrap().remove("password");
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let pk: u64 = created["id"].as_str().unwrap().parse().unwrap();
    let u = app.user(pk).unwrap();
    assert_eq!(u["username"], "grace");
    assert_eq!(
        (u["first_name"].clone(), u["last_name"].clone()),
        (json!("Test"), json!("User"))
    );
    assert_eq!(u["email"], "grace");
    assert_eq!(u["roles"], json!([3]));
    let pw = u["password"].as_str().unwrap();
    assert!(
        pw.len() == 32 && pw.chars().all(|c| c.is_ascii_alphanumeric()),
        "{pw}"
    );
    assert!(created.get("password").is_none());

    // A duplicate in another case is refused before the app sees it.
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(okta_create("GRACE"))).await;
    scim_error(status, &err, 409, Some("uniqueness"));
    assert_eq!(app.len(), 4);

    // GET → PUT: only the change is sent; roles and password stay.
    let path = format!("/scim/v2/Users/{pk}");
    let (_, mut user) = call(&sc, "GET", &path, None).await;
    user["name"]["givenName"] = json!("Grace");
    app.rec.clear();
    let (status, r) = call(&sc, "PUT", &path, Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let put = app
        .rec
        .seen()
        .into_iter()
        .find(|s| s.method == http::Method::PUT)
        .unwrap();
    assert_eq!(put.body, Some(json!({"first_name": "Grace"})));
    assert_eq!(app.user(pk).unwrap()["password"], pw);

    // Deactivate, reactivate.
    for active in [false, true] {
        let body = patch(json!([{"op": "replace", "value": {"active": active}}]));
        let (status, r) = call(&sc, "PATCH", &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(app.user(pk).unwrap()["active"], active);
    }

    // Renames that collide are refused: with another user (in another
    // case) and with the protected service account.
    for taken in ["ADA", fab_app::SERVICE_USER] {
        let body = patch(json!([{"op": "replace", "path": "userName", "value": taken}]));
        let (status, err) = call(&sc, "PATCH", &path, Some(body)).await;
        scim_error(status, &err, 409, Some("uniqueness"));
        assert_eq!(app.user(pk).unwrap()["username"], "grace");
    }
    let body = patch(json!([{"op": "replace", "path": "userName", "value": "Grace.Hopper"}]));
    let (status, r) = call(&sc, "PATCH", &path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(app.user(pk).unwrap()["username"], "Grace.Hopper");

    // Import in pages of one: page numbers from 0.
    app.rec.clear();
    let (_, page2) = call(&sc, "GET", "/scim/v2/Users?startIndex=2&count=1", None).await;
    assert_eq!(page2["Resources"][0]["userName"], "ada", "{page2}");

    // The service account: not readable, not deletable.
    let (status, _) = call(&sc, "GET", "/scim/v2/Users/1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&sc, "DELETE", "/scim/v2/Users/1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(app.user(1).is_some());

    let (status, _) = call(&sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.user(pk).is_none());
}

#[tokio::test]
async fn fab_entra_user_sequence() {
    let app = FabApp::new();
    fab_seed(&app);
    let sc = start_fab(&app, "entra", |t| t).await;
    let login = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(entra_create(login))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let pk: u64 = created["id"].as_str().unwrap().parse().unwrap();
    let u = app.user(pk).unwrap();
    assert_eq!(u["email"], "Test_User_fd0ea19b@testuser.com");
    assert_eq!(u["first_name"], "givenName");
    assert_eq!(u["password"].as_str().map(str::len), Some(32));

    let (_, found) = call(&sc, "GET", &filter("userName", login), None).await;
    assert_eq!(found["totalResults"], 1);

    let path = format!("/scim/v2/Users/{pk}");
    let ops = patch(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@testuser.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Hopper"},
        {"op": "Replace", "path": "active", "value": "False"}
    ]));
    let (status, r) = call(&sc, "PATCH", &path, Some(ops)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let u = app.user(pk).unwrap();
    assert_eq!(u["email"], "new@testuser.com");
    assert_eq!(u["last_name"], "Hopper");
    assert_eq!(u["active"], false);

    let (status, _) = call(&sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A login holding every character with a meaning in Rison, JSON or a
/// query string is looked up through each encoder and found exactly.
#[tokio::test]
async fn structured_query_values_round_trip_with_every_special_character() {
    const HOSTILE: &str = "o'neil!(a,b):c*d@e$f g&h=i+j%k#l?m/n;\"o\\p{q}[r]~ü";
    for encoder in ["rison", "json"] {
        let app = FabApp::new();
        fab_seed(&app);
        let pk = app.insert(
            json!({"username": HOSTILE, "first_name": "H", "last_name": "S",
            "email": "h@example.com", "password": "x", "roles": [3]}),
        );
        // A decoy whose name is the hostile one cut at its first quote.
        app.insert(json!({"username": "o", "first_name": "D", "last_name": "D",
            "email": "d@example.com", "password": "x", "roles": [3]}));
        let sc = start_fab(&app, "okta", |t| {
            t.replace("{ rison = {", &format!("{{ {encoder} = {{"))
        })
        .await;
        let scim_literal = serde_json::to_string(HOSTILE).unwrap();
        let f: String =
            form_urlencoded::byte_serialize(format!("userName eq {scim_literal}").as_bytes())
                .collect();
        app.rec.clear();
        let (status, found) = call(&sc, "GET", &format!("/scim/v2/Users?filter={f}"), None).await;
        assert_eq!(status, StatusCode::OK, "{encoder}: {found}");
        assert_eq!(found["totalResults"], 1, "{encoder}: {found}");
        assert_eq!(found["Resources"][0]["id"], pk.to_string(), "{encoder}");
        assert_eq!(found["Resources"][0]["userName"], HOSTILE, "{encoder}");
        let q = &app.rec.seen()[0].query["q"];
        let doc = fab_app::parse_q(q).expect(q);
        assert_eq!(doc["filters"][0]["value"], HOSTILE, "{encoder}: {q}");
        assert_eq!(
            doc["page"], 0,
            "{encoder}: the value did not break out: {q}"
        );
    }
}

// ----------------------------------------------------------------- CRM

async fn start_crm(app: &CrmApp, idp: &str) -> Sidecar {
    let text = retarget("crm.toml", app.serve().await, idp);
    start(load(&text, &[("CRM_API_KEY", crm_app::API_KEY)])).await
}

/// The non-GET calls the app received, as `METHOD path body`.
fn crm_writes(app: &CrmApp) -> Vec<String> {
    app.rec
        .seen()
        .iter()
        .filter(|s| s.method != http::Method::GET)
        .map(|s| {
            let body = s.body.as_ref().map(Value::to_string).unwrap_or_default();
            format!("{} {} {body}", s.method, s.path)
                .trim_end()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn crm_okta_user_sequence() {
    let app = CrmApp::new();
    let boss =
        app.insert(json!({"email": "boss@example.com", "first_name": "B", "last_name": "Oss"}));
    let sc = start_crm(&app, "okta").await;

    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    assert_eq!(
        (status, list["totalResults"].clone()),
        (StatusCode::OK, json!(1))
    );
    let mut body = okta_create("test.user@okta.local");
    body["phoneNumbers"] = json!([{"type": "work", "value": "+1 555 0100", "primary": true},
                                  {"type": "home", "value": "+1 555 0199"}]);
    body[ENT] = json!({"department": "R&D", "manager": {"value": boss.to_string()}});
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id: u64 = created["id"].as_str().unwrap().parse().unwrap();
    let p = app.person(id).unwrap();
    assert_eq!(p["phone"], "+1 555 0100", "the primary phone of any type");
    assert_eq!(p["manager"], json!({"id": boss.to_string()}));
    assert_eq!(
        created["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100", "primary": true}])
    );

    // Deactivate: the action carries its body.
    let path = format!("/scim/v2/Users/{id}");
    app.rec.clear();
    let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
    let (status, r) = call(&sc, "PATCH", &path, Some(off.clone())).await;
    assert_eq!(
        (status, r["active"].clone()),
        (StatusCode::OK, json!(false)),
        "{r}"
    );
    assert_eq!(
        crm_writes(&app),
        [format!(
            "POST /api/people/{id}/deactivate {{\"reason\":\"deprovisioned\",\"source\":\"scim\"}}"
        )]
    );
    assert_eq!(app.person(id).unwrap()["status"], "deactivated");

    // Reactivate: unlock ("not locked" is already done), then reactivate.
    let on = patch(json!([{"op": "replace", "value": {"active": true}}]));
    let (status, r) = call(&sc, "PATCH", &path, Some(on.clone())).await;
    assert_eq!(
        (status, r["active"].clone()),
        (StatusCode::OK, json!(true)),
        "{r}"
    );
    assert_eq!(app.person(id).unwrap()["status"], "active");

    // Locked after failed sign-ins: reads as inactive; reactivating takes
    // the unlock and the reactivation, in that order.
    app.lock(id);
    let (_, user) = call(&sc, "GET", &path, None).await;
    assert_eq!(user["active"], false);
    app.rec.clear();
    let (status, r) = call(&sc, "PATCH", &path, Some(on)).await;
    assert_eq!(
        (status, r["active"].clone()),
        (StatusCode::OK, json!(true)),
        "{r}"
    );
    assert_eq!(
        crm_writes(&app),
        [
            format!("POST /api/people/{id}/unlock"),
            format!("POST /api/people/{id}/reactivate")
        ]
    );
    assert_eq!(app.person(id).unwrap()["status"], "active");

    // GET → PUT without the manager: cleared as `"manager": null`.
    let (_, mut user) = call(&sc, "GET", &path, None).await;
    user[ENT].as_object_mut().unwrap().remove("manager");
    user["title"] = json!("Lead");
    app.rec.clear();
    let (status, r) = call(&sc, "PUT", &path, Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let patch_sent = &app
        .rec
        .seen()
        .into_iter()
        .find(|s| s.method == http::Method::PATCH)
        .unwrap();
    assert_eq!(
        patch_sent.body,
        Some(json!({"manager": null, "title": "Lead"}))
    );
    assert_eq!(app.person(id).unwrap()["manager"], Value::Null);

    let (status, _) = call(&sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.person(id).is_none());
}

#[tokio::test]
async fn crm_entra_user_sequence() {
    let app = CrmApp::new();
    let boss =
        app.insert(json!({"email": "boss@example.com", "first_name": "B", "last_name": "Oss"}));
    let sc = start_crm(&app, "entra").await;
    let login = "Test_User_ab6490ee@testuser.com";
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(entra_create(login))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id: u64 = created["id"].as_str().unwrap().parse().unwrap();
    let path = format!("/scim/v2/Users/{id}");

    // Entra's manager as a bare id, and its mobile phone by filter.
    let ops = patch(json!([
        {"op": "Add", "path": format!("{ENT}:manager"), "value": boss.to_string()},
        {"op": "Replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+49 151 1"}
    ]));
    let (status, r) = call(&sc, "PATCH", &path, Some(ops)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let p = app.person(id).unwrap();
    assert_eq!(p["manager"], json!({"id": boss.to_string()}));
    assert_eq!(p["phone"], "+49 151 1");
    let ops = patch(
        json!([{"op": "Replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+49 151 2"}]),
    );
    let (status, r) = call(&sc, "PATCH", &path, Some(ops)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(app.person(id).unwrap()["phone"], "+49 151 2");

    // Removing the manager clears the parent object.
    app.rec.clear();
    let ops = patch(json!([{"op": "Remove", "path": format!("{ENT}:manager")}]));
    let (status, r) = call(&sc, "PATCH", &path, Some(ops)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(app.person(id).unwrap()["manager"], Value::Null);

    // String booleans through the actions, the lock included.
    let ops = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    let (status, _) = call(&sc, "PATCH", &path, Some(ops)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.person(id).unwrap()["status"], "deactivated");
    app.lock(id);
    let ops = patch(json!([{"op": "Replace", "path": "active", "value": "True"}]));
    let (status, _) = call(&sc, "PATCH", &path, Some(ops)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.person(id).unwrap()["status"], "active");

    let (status, _) = call(&sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------- configs

#[test]
fn check_accepts_the_configs_without_warnings_and_names_missing_secrets() {
    let configs: [(&str, &[&str]); 3] = [
        ("matrix.toml", &["MATRIX_ADMIN_TOKEN", "MATRIX_SERVER_NAME"]),
        ("fab.toml", &["FAB_ACCESS_TOKEN", "FAB_SERVICE_USER"]),
        ("crm.toml", &["CRM_API_KEY"]),
    ];
    for (file, vars) in configs {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config")
            .join(file)
            .display()
            .to_string();
        let run = |set: &[&str]| {
            let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_scim-sidecar"));
            cmd.args(["check", "--config", &path])
                .env_remove("SCIM_SIDECAR_CONFIG");
            for v in vars {
                cmd.env_remove(v);
            }
            for v in set {
                cmd.env(v, "example.org");
            }
            cmd.output().expect("run scim-sidecar")
        };
        let ok = run(vars);
        let stdout = String::from_utf8_lossy(&ok.stdout);
        assert_eq!(
            ok.status.code(),
            Some(0),
            "{file}:\n{stdout}{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(stdout.contains(&format!("{path}: ok")), "{file}:\n{stdout}");
        assert!(!stdout.contains("warning:"), "{file}:\n{stdout}");
        let missing = run(&vars[1..]);
        assert_eq!(missing.status.code(), Some(1), "{file} without {}", vars[0]);
        let stderr = String::from_utf8_lossy(&missing.stderr);
        assert!(
            stderr.contains(&format!("`{}` is not set", vars[0])),
            "{file}:\n{stderr}"
        );
    }
}

#[test]
fn the_guide_shows_the_configs_verbatim() {
    let guide = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mapping.md"),
    )
    .unwrap();
    for file in ["matrix.toml", "fab.toml", "crm.toml"] {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config")
                .join(file),
        )
        .unwrap();
        let block = format!("```toml\n{}\n```", text.trim_end());
        assert!(
            guide.contains(&block),
            "docs/mapping.md does not show config/{file} as it is"
        );
    }
}
