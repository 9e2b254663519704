//! The Django REST Framework app behind the shipped `config/django.toml`
//! (the app: [`app`]): lookups scanned because the app's search is
//! case-sensitive (and refused beyond the scan limit), Okta's lifecycle as
//! full PUTs, DELETE as deactivation, the app's own uniqueness error, and
//! import paging within its `max_limit`.

pub mod app;

use super::{edit, start_shipped};
use crate::lifecycle::{
    ENTERPRISE_URN, Idp, Lifecycle, Logins, Step, USER_URN, Via, assert_scim_error, okta,
};
use crate::support::record::Recorder;
use crate::support::{Sidecar, call};
use app::DjangoApp;
use http::{Method, StatusCode};
use serde_json::{Value, json};

fn django_seed(app: &DjangoApp) -> Vec<String> {
    vec![
        app.insert("ada.lovelace", "Ada", "Lovelace"),
        app.insert("Alan.Turing", "Alan", "Turing"),
        app.insert("grace.hopper", "Grace", "Hopper"),
    ]
}

fn django_expected_auth() -> String {
    format!("Bearer {}", app::API_TOKEN)
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<usize> = s.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

/// A sidecar configured by the shipped `django.toml` (edited by `change`)
/// in front of `app`, called as Okta calls it.
async fn start_django(app: &DjangoApp, change: impl FnOnce(String) -> String) -> Sidecar {
    let env = [("DJANGO_API_TOKEN", app::API_TOKEN)];
    start_shipped("django.toml", app.serve().await, Idp::Okta, &env, change).await
}

/// Every call the app received carried the app's credentials and never
/// the IdP's bearer token.
fn assert_app_credentials(rec: &Recorder) {
    let seen = rec.seen();
    assert!(!seen.is_empty(), "the app received no calls");
    for a in seen.iter().map(|s| &s.authorization) {
        assert_eq!(a.as_deref(), Some(django_expected_auth().as_str()));
        assert!(
            !a.as_deref().unwrap_or("").contains(crate::support::TOKEN),
            "IdP token leaked"
        );
    }
}

/// Okta's create body plus a title and a department.
fn okta_create_body(login: &str) -> Value {
    let mut body = okta::create_body(login);
    body["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
    body["title"] = json!("Engineer");
    body[ENTERPRISE_URN] = json!({"department": "Engineering"});
    body
}

/// The app in the lifecycle table, with the ids of its seeded accounts.
pub struct Django {
    app: DjangoApp,
    seeded: Vec<String>,
}

/// Every mapped field, as the full PUT sends them.
fn full(active: bool, given: &str) -> Value {
    let login = "test.user@okta.local";
    json!({
        "username": login, "email": login, "given_name": given,
        "family_name": "User", "is_active": active, "department": "Engineering",
    })
}

impl Lifecycle for Django {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let app = DjangoApp::new();
        let seeded = django_seed(&app);
        let env = [("DJANGO_API_TOKEN", app::API_TOKEN)];
        let sc = start_shipped("django.toml", app.serve().await, idp, &env, |t| t).await;
        (Self { app, seeded }, sc)
    }

    /// The stored login is "Alan.Turing": every form of the lookup finds it.
    fn logins(&self, _: Idp) -> Logins {
        Logins {
            seeded: ("Alan.Turing", "alan.turing"),
            created: ("test.user@okta.local", "Test.USER@okta.local"),
        }
    }

    fn listed(&self) -> u64 {
        3
    }

    fn rec(&self) -> &Recorder {
        &self.app.rec
    }

    fn credentials(&self) -> (&'static str, String) {
        ("authorization", django_expected_auth())
    }

    fn okta_create(&self, login: &str) -> Value {
        okta_create_body(login)
    }

    fn edit_profile(&self, user: &mut Value) {
        user["name"]["givenName"] = json!("Testy");
        user["active"] = json!(false);
        user["groups"] = json!([]);
    }

    fn cleared_by_put(&self) -> Option<&'static str> {
        Some(ENTERPRISE_URN)
    }

    /// The app has no DELETE: the account is deactivated and stays.
    fn delete_keeps_account(&self) -> bool {
        true
    }

    async fn check(&self, sc: &Sidecar, _: Idp, step: Step<'_>) {
        let (app, ids) = (&self.app, &self.seeded);
        let login = "test.user@okta.local";
        match step {
            Step::Listed(list) => {
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
            }
            // The sidecar reads the app's pages and compares
            // case-insensitively, without ever using the app's
            // case-sensitive `?username=` filter.
            Step::Found { value, found } => {
                assert_eq!(found["Resources"][0]["id"], ids[1].as_str());
                let seen = app.rec.seen();
                assert_eq!(seen.len(), 1, "three users fit one app page");
                assert_eq!(seen[0].path, "/api/v1/accounts/");
                assert!(
                    !seen[0].query.contains_key("username"),
                    "{value}: pushed down"
                );
                assert_eq!(seen[0].query["offset"], "0");
                assert_eq!(seen[0].query["limit"], "50");
            }
            Step::Created { id, user } => {
                assert!(is_uuid(id), "{id}");
                assert_eq!(user[ENTERPRISE_URN]["department"], "Engineering");
                assert_eq!(user["meta"]["created"], "2024-05-01T12:00:04.5Z");
                let posts: Vec<_> = app
                    .rec
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
                let stored = app.account(id).expect("created in the app");
                assert_eq!(stored["username"], login);
                assert_eq!(stored["email"], login);
                assert_eq!(stored["given_name"], "Test");
                assert_eq!(stored["family_name"], "User");
                assert_eq!(stored["is_active"], true);
                assert_eq!(stored["department"], "Engineering");
                assert_eq!(stored["date_joined"], json!(app::EPOCH_START_MS + 4500));
            }
            // Duplicates in any case are caught by the pre-create lookup;
            // the differently cased one would have been accepted by the
            // app itself.
            Step::Duplicate { .. } => {
                assert!(
                    app.rec.seen().iter().all(|s| s.method == Method::GET),
                    "create reached the app"
                );
                assert_eq!(app.by_username_any_case(login).len(), 1);
                assert_eq!(app.len(), 4);
            }
            // The app gets a full PUT with every mapped field.
            Step::Replaced { id, user } => {
                assert_eq!(user["name"]["givenName"], "Testy");
                assert_eq!(user["active"], false);
                let puts: Vec<_> = app
                    .rec
                    .seen()
                    .into_iter()
                    .filter(|s| s.method == Method::PUT)
                    .collect();
                assert_eq!(puts.len(), 1);
                assert_eq!(puts[0].path, format!("/api/v1/accounts/{id}/"));
                assert_eq!(puts[0].body, Some(full(false, "Testy")));
                let stored = app.account(id).unwrap();
                assert_eq!(stored["given_name"], "Testy");
                assert_eq!(stored["is_active"], false);
            }
            // Clearing an attribute with PUT sends it as null.
            Step::Cleared { id, .. } => {
                assert!(app.account(id).unwrap()["department"].is_null());
            }
            // Deactivation and reactivation are full PUTs.
            Step::Activated {
                id, via, active, ..
            } => {
                assert_eq!(app.account(id).unwrap()["is_active"], active);
                if via == Via::Patch {
                    let put = app
                        .rec
                        .seen()
                        .into_iter()
                        .find(|s| s.method == Method::PUT)
                        .expect("a PUT");
                    assert_eq!(put.body.unwrap()["is_active"], active);
                }
            }
            Step::Own { .. } => {
                let path = "/scim/v2/Users/00000000-0000-4000-8000-000000000000";
                let (status, err) = call(sc, "GET", path, None).await;
                assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);
            }
            // DELETE: the account is deactivated with one full PUT.
            Step::Deleted { id } => {
                let stored = app.account(id).expect("still in the app");
                assert_eq!(stored["is_active"], false);
                assert_eq!(stored["username"], login);
                let methods: Vec<Method> = app.rec.seen().into_iter().map(|s| s.method).collect();
                assert_eq!(
                    methods,
                    [Method::GET, Method::PUT],
                    "read, then one full PUT"
                );
                assert_eq!(app.len(), 4);
            }
            _ => {}
        }
    }
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
    assert!(app.rec.seen().iter().all(|s| s.method == Method::GET));
}

#[tokio::test]
async fn django_app_side_uniqueness_error_is_translated_to_409() {
    // Without `unique`, creates go straight to the app: its 400 for an
    // existing username becomes 409 uniqueness — but its check is
    // case-sensitive, which is why the shipped config keeps `unique`.
    let app = DjangoApp::new();
    django_seed(&app);
    let sc = start_django(&app, |t| edit(t, "unique = [\"userName\"]", "")).await;
    app.rec.clear();
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("grace.hopper")),
    )
    .await;
    assert_scim_error(status, &err, StatusCode::CONFLICT, Some("uniqueness"));
    assert_eq!(err["detail"], "a user with this username already exists");
    let seen = app.rec.seen();
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
    assert_app_credentials(&app.rec);
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
        app.rec.clear();
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
            .rec
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
    assert_app_credentials(&app.rec);
}
