//! The Rails-style app behind the shipped `config/rails.toml` (the app:
//! [`app`]): lookups pushed down to its `?email=` search, Okta's lifecycle
//! with `{"user": …}` envelopes and PATCHes of only the changed fields,
//! 422 validation errors, and import paging across the app's pages.

pub mod app;

use super::start_shipped;
use crate::lifecycle::{
    ENTERPRISE_URN, Idp, Lifecycle, Logins, PATCH_URN, Step, USER_URN, Via, assert_scim_error, okta,
};
use crate::support::record::Recorder;
use crate::support::{Sidecar, call};
use app::RailsApp;
use http::{Method, StatusCode};
use serde_json::{Value, json};

fn rails_seed(app: &RailsApp) {
    app.insert("ada.lovelace@example.com", "Ada", "Lovelace");
    app.insert("alan.turing@example.com", "Alan", "Turing");
    app.insert("grace.hopper@example.com", "Grace", "Hopper");
}

fn rails_expected_auth() -> String {
    format!("Token token=\"{}\"", app::API_TOKEN)
}

/// A sidecar configured by the shipped `rails.toml` in front of `app`,
/// called as Okta calls it.
async fn start_rails(app: &RailsApp) -> Sidecar {
    let env = [("RAILS_API_TOKEN", app::API_TOKEN)];
    start_shipped("rails.toml", app.serve().await, Idp::Okta, &env, |t| t).await
}

/// Every call the app received carried the app's credentials and never
/// the IdP's bearer token.
fn assert_app_credentials(rec: &Recorder) {
    let seen = rec.seen();
    assert!(!seen.is_empty(), "the app received no calls");
    for a in seen.iter().map(|s| &s.authorization) {
        assert_eq!(a.as_deref(), Some(rails_expected_auth().as_str()));
        assert!(
            !a.as_deref().unwrap_or("").contains(crate::support::TOKEN),
            "IdP token leaked"
        );
    }
}

/// The app in the lifecycle table.
pub struct Rails(RailsApp);

/// The app's non-GET calls.
fn writes(rec: &Recorder) -> Vec<crate::support::record::Seen> {
    rec.seen()
        .into_iter()
        .filter(|s| s.method != Method::GET)
        .collect()
}

impl Lifecycle for Rails {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let app = RailsApp::new();
        rails_seed(&app);
        let env = [("RAILS_API_TOKEN", app::API_TOKEN)];
        let sc = start_shipped("rails.toml", app.serve().await, idp, &env, |t| t).await;
        (Self(app), sc)
    }

    fn logins(&self, _: Idp) -> Logins {
        Logins {
            seeded: ("alan.turing@example.com", "Alan.TURING@Example.COM"),
            created: ("test.user@okta.local", "TEST.User@okta.local"),
        }
    }

    fn listed(&self) -> u64 {
        3
    }

    fn rec(&self) -> &Recorder {
        &self.0.rec
    }

    fn credentials(&self) -> (&'static str, String) {
        ("authorization", rails_expected_auth())
    }

    /// Okta's create body plus a title and a department.
    fn okta_create(&self, login: &str) -> Value {
        let mut body = okta::create_body(login);
        body["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
        body["title"] = json!("Engineer");
        body[ENTERPRISE_URN] = json!({"department": "Engineering"});
        body
    }

    fn edit_profile(&self, user: &mut Value) {
        user["name"]["givenName"] = json!("Testy");
        user["active"] = json!(false);
        user["groups"] = json!([]);
    }

    async fn check(&self, _: &Sidecar, _: Idp, step: Step<'_>) {
        let app = &self.0;
        let login = "test.user@okta.local";
        match step {
            Step::Listed(list) => {
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
            }
            // Pushed down: one search call carrying the value as Okta sent it.
            Step::Found { value, found } => {
                assert_eq!(found["Resources"][0]["id"], "2");
                let seen = app.rec.seen();
                assert_eq!(seen.len(), 1, "{value}");
                assert_eq!(seen[0].path, "/users.json");
                assert_eq!(seen[0].query["email"], value, "as sent");
            }
            // Only mapped fields reach the app, wrapped in {"user": …}.
            Step::Created { id, user } => {
                assert_eq!(id, "4");
                assert_eq!(user["name"]["givenName"], "Test");
                assert_eq!(user["title"], "Engineer");
                let posts: Vec<_> = writes(&app.rec);
                assert_eq!(posts.len(), 1);
                assert_eq!(posts[0].method, Method::POST);
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
            }
            // The app's 422 in any case becomes 409 uniqueness.
            Step::Duplicate { err, .. } => {
                assert_eq!(err["detail"], "a user with this email already exists");
                assert_eq!(app.by_email(login).len(), 1, "a duplicate was created");
                assert_eq!(app.len(), 4);
            }
            // The app gets a PATCH of only the changed fields.
            Step::Replaced { user, .. } => {
                assert_eq!(user["name"]["givenName"], "Testy");
                assert_eq!(user["displayName"], "Testy User");
                assert_eq!(user["active"], false);
                let writes = writes(&app.rec);
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
            }
            Step::Activated { via, active, .. } => {
                assert_eq!(app.user(4).unwrap()["active"], active);
                if via == Via::Patch {
                    let patch = writes(&app.rec)
                        .into_iter()
                        .find(|s| s.method == Method::PATCH);
                    assert_eq!(
                        patch.expect("a PATCH").body,
                        Some(json!({"user": {"active": active}}))
                    );
                }
            }
            Step::Deleted { .. } => {
                assert!(app.user(4).is_none(), "still in the app");
                assert_eq!(app.len(), 3);
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn rails_unknown_ids_and_invalid_values() {
    let app = RailsApp::new();
    rails_seed(&app);
    let sc = start_rails(&app).await;
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
    assert_app_credentials(&app.rec);
}

#[tokio::test]
async fn rails_import_pages_through_every_user_once() {
    let app = RailsApp::new();
    for i in 0..230 {
        app.insert(&format!("user{i:03}@example.com"), "U", &format!("{i}"));
    }
    let sc = start_rails(&app).await;
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
    assert_app_credentials(&app.rec);
}
