//! The Flask-AppBuilder security API behind the shipped `config/fab.toml`
//! (the app: [`app`]): one Rison `q` holding filters and 0-based paging,
//! a password and roles the create requires that the IdP does not send,
//! naive timestamps, and a protected service account.

pub mod app;

use super::{okta_create_lowercase, start_shipped};
use crate::lifecycle::{Idp, Lifecycle, Logins, Step, assert_scim_error, patch, user_path};
use crate::support::record::Recorder;
use crate::support::{Sidecar, call};
use app::FabApp;
use http::StatusCode;
use serde_json::{Value, json};
use std::sync::Mutex;

async fn start_fab(app: &FabApp, idp: Idp, edit: impl FnOnce(String) -> String) -> Sidecar {
    let env = [
        ("FAB_ACCESS_TOKEN", app::ACCESS_TOKEN),
        ("FAB_SERVICE_USER", app::SERVICE_USER),
    ];
    start_shipped("fab.toml", app.serve().await, idp, &env, edit).await
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
                .map(|q| vec![app::parse_q(q).expect(q)])
                .unwrap_or_default()
        })
        .collect()
}

fn scim_error(status: StatusCode, body: &Value, want: u16, scim_type: Option<&str>) {
    let want = StatusCode::from_u16(want).unwrap();
    assert_scim_error(status, body, want, scim_type);
}

/// The app in the lifecycle table, with the password it generated for
/// the created user.
pub struct Fab {
    app: FabApp,
    password: Mutex<String>,
}

impl Fab {
    fn pk(id: &str) -> u64 {
        id.parse().expect("a numeric pk")
    }
}

impl Lifecycle for Fab {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let app = FabApp::new();
        fab_seed(&app);
        let sc = start_fab(&app, idp, |t| t).await;
        let password = Mutex::default();
        (Self { app, password }, sc)
    }

    fn logins(&self, idp: Idp) -> Logins {
        Logins {
            seeded: ("alan", "ALAN"),
            created: match idp {
                Idp::Okta => ("grace", "GRACE"),
                Idp::Entra => (
                    "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                    "test_user_AB6490EE-1e48-479e-a20b-2d77186b5dd1",
                ),
            },
        }
    }

    /// The service account is left out.
    fn listed(&self) -> u64 {
        2
    }

    fn rec(&self) -> &Recorder {
        &self.app.rec
    }

    fn credentials(&self) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", app::ACCESS_TOKEN))
    }

    /// Without a password: the app requires one, the sidecar makes it.
    fn okta_create(&self, login: &str) -> Value {
        let mut body = okta_create_lowercase(login);
        body.as_object_mut().unwrap().remove("password");
        body
    }

    fn edit_profile(&self, user: &mut Value) {
        user["name"]["givenName"] = json!("Grace");
    }

    fn entra_patches(&self) -> Vec<Value> {
        vec![json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@testuser.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Hopper"},
            {"op": "Replace", "path": "active", "value": "False"}
        ])]
    }

    async fn check(&self, sc: &Sidecar, idp: Idp, step: Step<'_>) {
        let app = &self.app;
        match step {
            // Pages from 0, the service account left out.
            Step::Listed(list) => {
                assert_eq!(list["Resources"][0]["userName"], "ada");
                assert_eq!(
                    list["Resources"][0]["meta"]["created"],
                    "2024-05-01T12:00:02.250000Z"
                );
                assert_eq!(
                    fab_queries(app),
                    [[
                        json!({"order_column": "id", "order_direction": "asc", "page": 0, "page_size": 100})
                    ]]
                );
            }
            // One call, one `q` holding the filter and the paging.
            Step::Found { value, found } => {
                assert_eq!(found["Resources"][0]["userName"], "alan", "{found}");
                let seen = app.rec.seen();
                assert_eq!(seen.len(), 1);
                assert_eq!(seen[0].path, "/api/v1/security/users/");
                assert_eq!(
                    fab_queries(app),
                    [[
                        json!({"filters": [{"col": "username", "opr": "sw", "value": value}],
                             "order_column": "id", "order_direction": "asc", "page": 0, "page_size": 100})
                    ]]
                );
            }
            // The password the app requires is generated, the roles are
            // the configured constant.
            Step::Created { id, .. } if idp == Idp::Okta => {
                let u = app.user(Self::pk(id)).unwrap();
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
                *self.password.lock().unwrap() = pw.to_owned();
            }
            Step::Created { id, .. } => {
                let u = app.user(Self::pk(id)).unwrap();
                assert_eq!(u["email"], "Test_User_fd0ea19b@testuser.com");
                assert_eq!(u["first_name"], "givenName");
                assert_eq!(u["password"].as_str().map(str::len), Some(32));
            }
            // Refused before the app sees it.
            Step::Duplicate { .. } => {
                assert_eq!(app.len(), 4);
                assert!(app.rec.calls().iter().all(|c| c.starts_with("GET ")));
            }
            // Only the change is sent; roles and password stay.
            Step::Replaced { id, .. } => {
                let put = app
                    .rec
                    .seen()
                    .into_iter()
                    .find(|s| s.method == http::Method::PUT)
                    .unwrap();
                assert_eq!(put.body, Some(json!({"first_name": "Grace"})));
                let pw = self.password.lock().unwrap().clone();
                assert_eq!(app.user(Self::pk(id)).unwrap()["password"], pw.as_str());
            }
            Step::Patched { id, .. } => {
                let u = app.user(Self::pk(id)).unwrap();
                assert_eq!(u["email"], "new@testuser.com");
                assert_eq!(u["last_name"], "Hopper");
                assert_eq!(u["active"], false);
            }
            Step::Activated { id, active, .. } => {
                assert_eq!(app.user(Self::pk(id)).unwrap()["active"], active);
            }
            Step::Own { id } if idp == Idp::Okta => own_steps(app, sc, id).await,
            Step::Deleted { id } => assert!(app.user(Self::pk(id)).is_none()),
            _ => {}
        }
    }
}

/// Renames that collide are refused (with another user in another case,
/// and with the protected service account); an import in pages of one
/// sees every other account once; the service account can be neither
/// read nor deleted.
async fn own_steps(app: &FabApp, sc: &Sidecar, id: &str) {
    let path = user_path(id);
    let pk = Fab::pk(id);
    for taken in ["ADA", app::SERVICE_USER] {
        let body = patch(json!([{"op": "replace", "path": "userName", "value": taken}]));
        let (status, err) = call(sc, "PATCH", &path, Some(body)).await;
        scim_error(status, &err, 409, Some("uniqueness"));
        assert_eq!(app.user(pk).unwrap()["username"], "grace");
    }
    let body = patch(json!([{"op": "replace", "path": "userName", "value": "Grace.Hopper"}]));
    let (status, r) = call(sc, "PATCH", &path, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(app.user(pk).unwrap()["username"], "Grace.Hopper");

    // The service account (the app's first user) is left out before the
    // page is cut: one account per page, one total.
    let mut logins = Vec::new();
    for start in 1..=3 {
        let path = format!("/scim/v2/Users?startIndex={start}&count=1");
        let (_, page) = call(sc, "GET", &path, None).await;
        assert_eq!(page["totalResults"], 3, "{page}");
        logins.push(page["Resources"][0]["userName"].clone());
    }
    assert_eq!(logins, [json!("ada"), json!("alan"), json!("Grace.Hopper")]);

    let (status, _) = call(sc, "GET", "/scim/v2/Users/1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(sc, "DELETE", "/scim/v2/Users/1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(app.user(1).is_some());
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
        let sc = start_fab(&app, Idp::Okta, |t| {
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
        let doc = app::parse_q(q).expect(q);
        assert_eq!(doc["filters"][0]["value"], HOSTILE, "{encoder}: {q}");
        assert_eq!(
            doc["page"], 0,
            "{encoder}: the value did not break out: {q}"
        );
    }
}

/// As FAB on PostgreSQL answers: the IdPs' probe for an id that is not a
/// number (FAB's database error, 500 "Fatal error") is 404; a create of a
/// case variant of an existing username is found (`sw` is `ILIKE`) and
/// refused with 409, where FAB's case-sensitive `eq` would have let a
/// duplicate be made.
#[tokio::test]
async fn fab_probes_and_case_variants_answer_as_the_idps_expect() {
    let app = FabApp::new();
    fab_seed(&app);
    let sc = start_fab(&app, Idp::Okta, |t| t).await;
    let probe = "/scim/v2/Users/5b1e3f1c-4c9d-4f7e-9a43-0c2a7b6d1e90";
    let (status, err) = call(&sc, "GET", probe, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ADA", "name": {"givenName": "Ada", "familyName": "L"},
        "emails": [{"type": "work", "value": "ada2@example.com", "primary": true}]});
    let before = app.len();
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(user)).await;
    scim_error(status, &err, 409, Some("uniqueness"));
    assert_eq!(app.len(), before, "no duplicate");
}
