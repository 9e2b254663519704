//! SCIM Groups stored as roles on users: an in-test app that has no groups,
//! only a `roles` array on each user (optimistically locked by `version`).
//! Okta group push and Entra membership PATCHes become role grants on the
//! members; group ids are the role values; a user's `groups` lists them.

use crate::support;

use futures_util::future::join_all;
use http::{Method, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use support::app::{App, AppRequest, json};
use support::record::Recorder;
use support::*;

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const MAPPING: &str = r#"
[users]
unique = ["userName"]

[users.list]
get = "/users"
query = { offset = "{offset}", limit = "{limit}" }
items = "$.users[*]"
total = "$.total"

[users.get]
get = "/users/{id}"

[users.create]
post = "/users"

[users.update]
patch = "/users/{id}"
headers = { "If-Match" = "{version}" }

[users.search]
'userName eq' = { query = { login = "{value}" }, case_insensitive = true }

[users.attributes]
id = "$.id"
userName = "$.login"
"meta.version" = "$.version"

[groups.roles]
field = "$.roles"
names = { "Admins" = "admin", "Billing Team" = "billing" }
search = { role = "{value}" }
"#;

/// Users with a `roles` array; `?role=` finds holders; PATCH honours If-Match.
#[derive(Clone, Default)]
struct RolesApp {
    users: Arc<Mutex<BTreeMap<u64, Value>>>,
    rec: Recorder,
}

impl RolesApp {
    fn add(&self, login: &str, roles: &[&str]) -> String {
        let mut u = self.users.lock().unwrap();
        let id = u.len() as u64 + 1;
        u.insert(
            id,
            json!({"id": format!("u{id}"), "login": login, "roles": roles, "version": 1}),
        );
        format!("u{id}")
    }

    fn roles(&self, id: &str) -> Vec<String> {
        let n: u64 = id[1..].parse().unwrap();
        let u = self.users.lock().unwrap();
        u[&n]["roles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect()
    }

    fn handle(&self, r: AppRequest) -> Response<scim_sidecar::body::Body> {
        let reply = |s: u16, v: Value| json(s, &v);
        let mut users = self.users.lock().unwrap();
        match (&r.method, r.path.strip_prefix("/users")) {
            (&Method::GET, Some("")) => {
                let (off, lim) = (r.number("offset", 0), r.number("limit", 100));
                let all: Vec<&Value> = users
                    .values()
                    .filter(|u| {
                        r.query
                            .get("login")
                            .is_none_or(|l| u["login"].as_str().unwrap().eq_ignore_ascii_case(l))
                            && r.query.get("role").is_none_or(|r| {
                                u["roles"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .any(|x| x == r.as_str())
                            })
                    })
                    .collect();
                let page: Vec<&Value> = all.iter().skip(off).take(lim).copied().collect();
                reply(200, json!({"users": page, "total": all.len()}))
            }
            (&Method::POST, Some("")) => {
                let n = users.len() as u64 + 1;
                let mut u = r.body.clone().unwrap_or(json!({}));
                u["id"] = json!(format!("u{n}"));
                u["version"] = json!(1);
                if u.get("roles").is_none() {
                    u["roles"] = json!([]);
                }
                users.insert(n, u.clone());
                reply(201, u)
            }
            (m, Some(rest)) => {
                let n: Option<u64> = rest.strip_prefix("/u").and_then(|x| x.parse().ok());
                match (m, n.and_then(|n| users.get_mut(&n))) {
                    (&Method::GET, Some(u)) => reply(200, u.clone()),
                    (&Method::PATCH, Some(u)) => {
                        let tag = r.header("if-match");
                        let current = u["version"].as_u64().unwrap_or(0);
                        if tag.is_some_and(|t| t.trim_matches('"').parse() != Ok(current)) {
                            reply(412, json!({"error": "stale"}))
                        } else {
                            if let Some(Value::Object(b)) = &r.body {
                                for (k, v) in b {
                                    u[k] = v.clone();
                                }
                            }
                            u["version"] = json!(u["version"].as_u64().unwrap() + 1);
                            reply(200, u.clone())
                        }
                    }
                    _ => reply(404, json!({"error": "not found"})),
                }
            }
            _ => reply(404, json!({})),
        }
    }
}

async fn setup(edit: impl FnOnce(&str) -> String) -> (Sidecar, RolesApp) {
    let app = RolesApp::default();
    let a = app.clone();
    let addr = App::handler(move |r| a.handle(r))
        .recorded(&app.rec)
        .serve()
        .await;
    let sc = start(load(&config_text(addr, &edit(MAPPING)))).await;
    (sc, app)
}

fn ops(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

#[tokio::test]
async fn okta_group_push_grants_and_takes_roles() {
    let (sc, app) = setup(|m| m.to_owned()).await;
    let ada = app.add("ada", &[]);
    let alan = app.add("alan", &["billing"]);
    let grace = app.add("grace", &[]);

    let (_, all) = call(&sc, "GET", "/scim/v2/Groups", None).await;
    let names: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Admins", "Billing Team"]);

    let (_, found) = call(
        &sc,
        "GET",
        "/scim/v2/Groups?filter=displayName%20eq%20%22Admins%22",
        None,
    )
    .await;
    assert_eq!(found["Resources"][0]["id"], "admin");
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Admins", "members": []})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "admin");

    let put = json!({"schemas": [GROUP], "id": "admin", "displayName": "Admins",
                     "members": [{"value": ada}, {"value": alan}]});
    let (status, body) = call(&sc, "PUT", "/scim/v2/Groups/admin", Some(put)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.roles(&ada), ["admin"]);
    assert_eq!(app.roles(&alan), ["billing", "admin"]);

    let (_, got) = call(&sc, "GET", "/scim/v2/Groups/admin", None).await;
    let shown: Vec<&str> = got["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["display"].as_str().unwrap())
        .collect();
    assert_eq!(shown, ["ada", "alan"]);

    let patch = ops(json!([
        {"op": "remove", "path": format!("members[value eq \"{ada}\"]")},
        {"op": "add", "path": "members", "value": [{"value": grace}]}
    ]));
    let (status, _) = call(&sc, "PATCH", "/scim/v2/Groups/admin", Some(patch)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.roles(&ada).is_empty());
    assert_eq!(app.roles(&grace), ["admin"]);

    // The user links back to its groups.
    let (_, user) = call(&sc, "GET", &format!("/scim/v2/Users/{alan}"), None).await;
    let groups: Vec<&str> = user["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["Billing Team", "Admins"]);

    let (status, _) = call(&sc, "DELETE", "/scim/v2/Groups/admin", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.roles(&alan), ["billing"]);
    assert!(app.roles(&grace).is_empty());
}

#[tokio::test]
async fn names_are_fixed_and_unknown_ones_refused() {
    let (sc, app) = setup(|m| m.to_owned()).await;
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Marketing"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("Admins, Billing Team"),
        "{err}"
    );
    let rename = ops(json!([{"op": "replace", "path": "displayName", "value": "Admins 2"}]));
    let (status, err) = call(&sc, "PATCH", "/scim/v2/Groups/admin", Some(rename)).await;
    assert_eq!(
        (status, err["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("mutability")),
        "{err}"
    );
    let okta = ops(json!([{"op": "replace", "value": {"id": "admin", "displayName": "Admins"}}]));
    let (status, _) = call(&sc, "PATCH", "/scim/v2/Groups/admin", Some(okta)).await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "re-sending the same name is fine"
    );
    let (status, _) = call(&sc, "GET", "/scim/v2/Groups/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let ghost = ops(json!([{"op": "add", "path": "members", "value": [{"value": "u404"}]}]));
    let (status, err) = call(&sc, "PATCH", "/scim/v2/Groups/admin", Some(ghost)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("u404"));
    assert!(app.rec.seen().iter().all(|s| s.method == Method::GET));
}

#[tokio::test]
async fn unknown_names_may_pass_as_roles() {
    let (sc, app) =
        setup(|m| m.replace("search = { role", "unknown = \"pass\"\nsearch = { role")).await;
    let u = app.add("ada", &[]);
    let body = json!({"schemas": [GROUP], "displayName": "Marketing", "members": [{"value": u}]});
    let (status, created) = call(&sc, "POST", "/scim/v2/Groups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "Marketing");
    assert_eq!(app.roles(&u), ["Marketing"]);
    let (_, found) = call(
        &sc,
        "GET",
        "/scim/v2/Groups?filter=displayName%20eq%20%22Marketing%22",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], 1);
}

#[tokio::test]
async fn role_writes_cost_two_calls_per_member_and_race_safely() {
    let (sc, app) = setup(|m| m.to_owned()).await;
    for i in 0..50 {
        app.add(&format!("holder{i}"), &["admin"]);
    }
    let a = app.add("new1", &[]);
    let b = app.add("new2", &[]);
    app.rec.clear();
    let add = ops(json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}]}]));
    let (status, _) = call(&sc, "PATCH", "/scim/v2/Groups/admin", Some(add)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let calls = app.rec.calls();
    assert_eq!(
        calls.len(),
        4,
        "read and write each new member, nothing else: {calls:?}"
    );

    // Two groups granted to one user at once: both kept (the user's lock).
    let u = app.add("both", &[]);
    let grant = |g: &str| {
        let body = ops(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
        let path = format!("/scim/v2/Groups/{g}");
        let sc = &sc;
        async move { call(sc, "PATCH", &path, Some(body)).await }
    };
    let answers = join_all([grant("admin"), grant("billing")]).await;
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::NO_CONTENT));
    let mut roles = app.roles(&u);
    roles.sort();
    assert_eq!(roles, ["admin", "billing"]);
}

#[tokio::test]
async fn concurrent_renames_to_one_login_leave_one_holder() {
    // This app does not enforce unique logins itself: only the sidecar's
    // `unique` check (with its claim on the new value) stands between two
    // IdP workers renaming two users to the same login.
    let (sc, app) = setup(|m| m.to_owned()).await;
    let ids: Vec<String> = (0..6).map(|i| app.add(&format!("user{i}"), &[])).collect();
    let renames = join_all(ids.iter().map(|id| {
        let body = ops(json!([{"op": "replace", "path": "userName", "value": "Taken"}]));
        let path = format!("/scim/v2/Users/{id}");
        let sc = &sc;
        async move { call(sc, "PATCH", &path, Some(body)).await }
    }))
    .await;
    let ok = renames.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{renames:?}");
    for (s, body) in renames.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(
            (*s, body["scimType"].as_str()),
            (StatusCode::CONFLICT, Some("uniqueness"))
        );
    }
    let holders = app
        .users
        .lock()
        .unwrap()
        .values()
        .filter(|u| u["login"] == "Taken")
        .count();
    assert_eq!(holders, 1);
}
