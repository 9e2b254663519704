//! App answers of shapes new users met, against one in-test accounts app
//! whose quirks each test switches on: list summaries whose fields differ
//! from the full record (`fetch_each`), a protected account at the head of
//! the list, an `active` field ignored on create, a create answered with
//! a `Location` and no body, and 429 on calls the app did not process.

use crate::support::app::{App, AppRequest, empty, json};
use crate::support::{Sidecar, call, config_text, load, start};
use http::{Method, Response, StatusCode};
use scim_sidecar::body::Body;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

const MAPPING: &str = r#"
[users]
unmapped = "ignore"
unique = ["userName"]

[users.list]
get = "/accounts"
query = { offset = "{offset}", limit = "{limit}" }
items = "$.items[*]"
total = "$.total"

[users.get]
get = "/accounts/{id}"

[users.create]
post = "/accounts"

[users.update]
patch = "/accounts/{id}"

[users.search]
'userName eq' = { query = { login = "{value}" }, case_insensitive = true }

[users.attributes]
id = "$.id"
userName = "$.login"
active = "$.active"
"meta.created" = { path = "$.created", transform = ["epoch_seconds"] }
"#;

/// The app's accounts and the quirks switched on.
#[derive(Default)]
struct Accounts {
    users: Vec<Value>,
    /// List items are summaries with `created` in milliseconds.
    summaries_in_ms: bool,
    /// A create stores every account active, whatever it was sent.
    ignores_active_on_create: bool,
    /// PATCH calls still to answer 500.
    failing_patches: usize,
    /// A create answers 201 without a body, with this `Location`.
    create_location: Option<String>,
    /// Every n-th call is answered 429 (and not processed).
    busy_every: Option<usize>,
    /// Creates still to answer 429 (and not process).
    busy_creates: usize,
    calls: usize,
}

type Shared = Arc<Mutex<Accounts>>;

impl Accounts {
    fn answer(&mut self, r: AppRequest) -> Response<Body> {
        self.calls += 1;
        if self
            .busy_every
            .is_some_and(|n| self.calls.is_multiple_of(n))
        {
            return json(429, &json!({"error": "slow down"}));
        }
        let segments: Vec<&str> = r.segments.iter().map(String::as_str).collect();
        match (&r.method, segments.as_slice()) {
            (&Method::GET, ["accounts"]) => self.list(&r),
            (&Method::GET, ["accounts", id]) => match self.find(id) {
                Some(u) => json(200, &u.clone()),
                None => json(404, &json!({"error": "no such account"})),
            },
            (&Method::POST, ["accounts"]) if self.busy_creates > 0 => {
                self.busy_creates -= 1;
                json(429, &json!({"error": "slow down"}))
            }
            (&Method::POST, ["accounts"]) => self.create(r.body.unwrap_or_default()),
            (&Method::PATCH, ["accounts", id]) => self.patch(id, r.body.unwrap_or_default()),
            _ => json(405, &json!({})),
        }
    }

    fn find(&mut self, id: &str) -> Option<&mut Value> {
        self.users.iter_mut().find(|u| u["id"] == id)
    }

    fn list(&self, r: &AppRequest) -> Response<Body> {
        let login = r.query.get("login").map(|l| l.to_lowercase());
        let matching: Vec<&Value> = self
            .users
            .iter()
            .filter(|u| login.as_ref().is_none_or(|l| u["login"] == l.as_str()))
            .collect();
        let items: Vec<Value> = matching
            .iter()
            .skip(r.number("offset", 0))
            .take(r.number("limit", 100))
            .map(|u| match self.summaries_in_ms {
                true => json!({"id": u["id"], "created": u["created"].as_u64().unwrap() * 1000}),
                false => (*u).clone(),
            })
            .collect();
        json(200, &json!({"items": items, "total": matching.len()}))
    }

    fn create(&mut self, body: Value) -> Response<Body> {
        let login = body["login"].as_str().unwrap_or_default().to_lowercase();
        if self.users.iter().any(|u| u["login"] == login.as_str()) {
            return json(422, &json!({"error": "login taken"}));
        }
        let active = self.ignores_active_on_create || body["active"] != false;
        let id = format!("u{}", self.users.len() + 1);
        let user = json!({"id": id, "login": login, "active": active, "created": 1_700_000_000u64});
        self.users.push(user.clone());
        match &self.create_location {
            Some(location) => {
                let mut resp = empty(201);
                let value = location.replace("{id}", &id).parse().unwrap();
                resp.headers_mut().insert("location", value);
                resp
            }
            None => json(201, &user),
        }
    }

    fn patch(&mut self, id: &str, body: Value) -> Response<Body> {
        if self.failing_patches > 0 {
            self.failing_patches -= 1;
            return json(500, &json!({"error": "try again"}));
        }
        let Some(user) = self.find(id) else {
            return json(404, &json!({"error": "no such account"}));
        };
        for (k, v) in body.as_object().into_iter().flatten() {
            user[k] = v.clone();
        }
        json(200, &user.clone())
    }
}

/// The accounts app (`logins` stored, active) and a sidecar in front of
/// it, the mapping edited by `edit`.
async fn setup(
    logins: &[&str],
    quirks: impl FnOnce(&mut Accounts),
    edit: impl FnOnce(String) -> String,
) -> (Sidecar, Shared) {
    let mut accounts = Accounts::default();
    for (i, login) in logins.iter().enumerate() {
        let user = json!({"id": format!("u{}", i + 1), "login": login, "active": true, "created": 1_700_000_000u64});
        accounts.users.push(user);
    }
    quirks(&mut accounts);
    let shared = Arc::new(Mutex::new(accounts));
    let app = shared.clone();
    let addr = App::handler(move |r| app.lock().unwrap().answer(r))
        .serve()
        .await;
    let sc = start(load(&config_text(addr, &edit(MAPPING.to_owned())))).await;
    (sc, shared)
}

fn new_user(login: &str, active: bool) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": login, "active": active})
}

fn ids(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `fetch_each` reads each listed id in full: only the id is taken from a
/// summary, whose other fields may be in other units than the record's.
#[tokio::test]
async fn fetch_each_takes_only_the_id_from_a_summary() {
    let (sc, _) = setup(
        &["ada", "alan"],
        |a| a.summaries_in_ms = true,
        |m| {
            m.replace(
                "total = \"$.total\"",
                "total = \"$.total\"\nfetch_each = true",
            )
        },
    )
    .await;
    let (status, list) = call(&sc, "GET", "/scim/v2/Users?count=10", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(ids(&list), ["u1", "u2"]);
    assert_eq!(
        list["Resources"][0]["meta"]["created"],
        "2023-11-14T22:13:20Z"
    );
}

/// A protected account is left out before the page is cut: stepping
/// through the list one result at a time sees every other account once,
/// under one total.
#[tokio::test]
async fn protected_accounts_leave_no_holes_in_pages() {
    let (sc, _) = setup(
        &["svc", "ada", "alan", "grace"],
        |_| {},
        |m| {
            m.replace(
                "unique = [\"userName\"]",
                "unique = [\"userName\"]\nprotect = ['userName eq \"svc\"']",
            )
        },
    )
    .await;
    let mut seen = Vec::new();
    for start in 1..=4 {
        let path = format!("/scim/v2/Users?startIndex={start}&count=1");
        let (status, page) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["totalResults"], 3, "{path}: {page}");
        seen.extend(ids(&page));
    }
    assert_eq!(seen, ["u2", "u3", "u4"]);
}

/// An app that ignores `active` on create gets the update that makes the
/// account inactive; when that update fails, the IdP's replay completes
/// the same account (201, not 409).
#[tokio::test]
async fn an_inactive_create_is_finished_when_the_app_ignores_active() {
    let (sc, app) = setup(&[], |a| a.ignores_active_on_create = true, |m| m).await;
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user("off", false))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["active"], false);
    assert_eq!(app.lock().unwrap().users[0]["active"], false);

    app.lock().unwrap().failing_patches = 1;
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(new_user("later", false)),
    )
    .await;
    assert!(status.is_server_error(), "{status} {err}");
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(new_user("later", false)),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the replay converges: {created}"
    );
    assert_eq!(created["id"], "u2");
    let users = app.lock().unwrap().users.clone();
    assert_eq!(users.len(), 2, "one account per login: {users:?}");
    assert_eq!(users[1]["active"], false);
}

/// A create answered without a body and a `Location` outside the
/// collection: that id is not taken; the account is found by its login
/// and answered under its real id. A `Location` in the collection whose
/// id reads back as not found is a 502 naming what was applied.
#[tokio::test]
async fn a_create_location_outside_the_collection_names_no_id() {
    let (sc, app) = setup(
        &[],
        |a| a.create_location = Some("/admins/steal".into()),
        |m| m,
    )
    .await;
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user("ada", true))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "u1");
    assert_eq!(app.lock().unwrap().users.len(), 1);

    app.lock().unwrap().create_location = Some("/accounts/{id}".into());
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user("alan", true))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "u2");

    app.lock().unwrap().create_location = Some("/accounts/ghost".into());
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new_user("grace", true))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    let detail = err["detail"].as_str().unwrap();
    assert!(detail.contains("applied: create"), "{detail}");
}

/// A 429 says the app did not process the call: a create is looked up and
/// retried, so Okta's sequence (create, then the same create again) gets
/// 201 then 409, with the create's own call refused once, and while the
/// app refuses every fifth call.
#[tokio::test]
async fn a_busy_app_still_gets_one_account_and_a_409() {
    let (sc, app) = setup(&["ada"], |a| a.busy_creates = 1, |m| m).await;
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user("u-a", true))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        app.lock().unwrap().busy_creates,
        0,
        "the create was refused once"
    );
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new_user("u-a", true))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");

    app.lock().unwrap().busy_every = Some(5);
    for login in ["u-b", "u-c", "u-d"] {
        let (status, created) =
            call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, true))).await;
        assert_eq!(status, StatusCode::CREATED, "{login}: {created}");
        let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, true))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{login}: {err}");
    }
    assert_eq!(app.lock().unwrap().users.len(), 5);
}
