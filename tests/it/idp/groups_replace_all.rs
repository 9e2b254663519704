//! Groups of an app that only replaces whole member lists: the squad's
//! record holds `members: [{"id": 3, "login": …}]` and the only write is a
//! partial `PUT /squads/{id}` of `{"members": [3, 4]}` (integer ids) under
//! the squad's version (`If-Match`, 412 when stale). A membership PATCH is
//! one read of the squad, one read per user added, and one write; PATCHes
//! sent at once through two sidecars (no shared lock) lose no member.

use crate::support;

use futures_util::future::join_all;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::app::{App, json};
use support::record::Recorder;
use support::*;

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const MAPPING: &str = r#"
[users.list]
get = "/people"
items = "$.items[*]"

[users.get]
get = "/people/{id}"

[users.create]
post = "/people"

[users.update]
patch = "/people/{id}"

[users.attributes]
userName = "$.login"

[groups.list]
get = "/squads"
items = "$.items[*]"

[groups.get]
get = "/squads/{id}"

[groups.create]
post = "/squads"

[groups.update]
put = "/squads/{id}"
headers = { "If-Match" = "{version}" }

[groups.attributes]
displayName = "$.name"
"meta.version" = "$.version"

[groups.members]
field = "$.members"
value = "$.id"
display = "$.login"
ids = "integer"
"#;

#[derive(Default)]
struct Store {
    people: Vec<Value>,
    squads: Vec<Value>,
}

type Shared = Arc<Mutex<Store>>;

/// People with integer ids; squads whose member list is written whole
/// under their version.
async fn squads_app(store: Shared, rec: Recorder) -> std::net::SocketAddr {
    App::handler(move |r| {
        let mut s = store.lock().unwrap();
        let body = r.body.clone().unwrap_or(Value::Null);
        match (r.method.clone(), r.segments().as_slice()) {
            (Method::GET, ["people"]) => json(200, &json!({"items": s.people})),
            (Method::GET, ["people", id]) => {
                match s
                    .people
                    .iter()
                    .find(|p| id.parse::<u64>().ok() == p["id"].as_u64())
                {
                    Some(p) => json(200, p),
                    None => json(404, &json!({})),
                }
            }
            (Method::GET, ["squads"]) => json(200, &json!({"items": s.squads})),
            (Method::POST, ["squads"]) => {
                let id = format!("s{}", s.squads.len() + 1);
                let g = json!({"id": id, "name": body["name"], "version": "1", "members": []});
                s.squads.push(g.clone());
                json(201, &g)
            }
            (m, ["squads", id]) => {
                let people = s.people.clone();
                let Some(g) = s.squads.iter_mut().find(|g| g["id"] == json!(id)) else {
                    return json(404, &json!({}));
                };
                if m == Method::PUT {
                    if r.header("if-match") != g["version"].as_str() {
                        return json(412, &json!({"error": "stale version"}));
                    }
                    if let Some(name) = body.get("name") {
                        g["name"] = name.clone();
                    }
                    if let Some(ids) = body.get("members") {
                        let mut members = Vec::new();
                        for i in ids.as_array().unwrap() {
                            let Some(p) = people.iter().find(|p| p["id"] == *i) else {
                                return json(
                                    400,
                                    &json!({"error": "members must be integer user ids"}),
                                );
                            };
                            members.push(json!({"id": p["id"], "login": p["login"]}));
                        }
                        g["members"] = Value::Array(members);
                    }
                    let v: u64 = g["version"].as_str().unwrap().parse().unwrap();
                    g["version"] = json!((v + 1).to_string());
                }
                json(200, g)
            }
            _ => json(405, &json!({})),
        }
    })
    .recorded(&rec)
    .serve()
    .await
}

async fn setup(people: u64) -> (std::net::SocketAddr, Shared, Recorder) {
    let store: Shared = Arc::default();
    {
        let mut s = store.lock().unwrap();
        for i in 1..=people {
            s.people.push(json!({"id": i, "login": format!("u{i}")}));
        }
        s.squads
            .push(json!({"id": "s1", "name": "core", "version": "1",
            "members": [{"id": 1, "login": "u1"}]}));
    }
    let rec = Recorder::default();
    let app = squads_app(store.clone(), rec.clone()).await;
    (app, store, rec)
}

fn member_ids(store: &Shared) -> Vec<u64> {
    let s = store.lock().unwrap();
    let mut ids: Vec<u64> = s.squads[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    ids
}

fn add(user: u64) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": user.to_string()}]}]})
}

#[tokio::test]
async fn a_membership_patch_is_one_read_and_one_write_of_the_whole_list() {
    let (app, store, rec) = setup(5).await;
    let sc = start(load(&config_text(app, MAPPING))).await;
    let (status, g) = call(&sc, "GET", "/scim/v2/Groups/s1", None).await;
    assert_eq!(status, StatusCode::OK, "{g}");
    assert_eq!(g["members"][0]["value"], "1");
    assert_eq!(g["members"][0]["display"], "u1");
    rec.clear();

    let (status, body) = call(&sc, "PATCH", "/scim/v2/Groups/s1", Some(add(3))).await;
    assert!(status.is_success(), "{body}");
    assert_eq!(
        rec.calls(),
        ["GET /squads/s1", "GET /people/3", "PUT /squads/s1"],
        "O(1) reads and one write"
    );
    let put = rec.seen().pop().unwrap();
    assert_eq!(put.body, Some(json!({"members": [1, 3]})), "integer ids");
    assert_eq!(put.headers["if-match"], "1", "the version as read");
    assert_eq!(member_ids(&store), [1, 3]);

    // Okta's remove by value filter, then a full replacement with a rename
    // (one write under one version).
    let remove = json!({"schemas": [PATCH_URN], "Operations": [
        {"op": "remove", "path": "members[value eq \"1\"]"}]});
    let (status, body) = call(&sc, "PATCH", "/scim/v2/Groups/s1", Some(remove)).await;
    assert!(status.is_success(), "{body}");
    assert_eq!(member_ids(&store), [3]);
    rec.clear();
    let put = json!({"schemas": [GROUP], "displayName": "core team",
        "members": [{"value": "2"}, {"value": "4"}]});
    let (status, body) = call(&sc, "PUT", "/scim/v2/Groups/s1", Some(put)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let writes: Vec<Value> = rec
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::PUT)
        .filter_map(|s| s.body)
        .collect();
    assert_eq!(writes, [json!({"name": "core team", "members": [2, 4]})]);
    assert_eq!(member_ids(&store), [2, 4]);

    // An unknown user is refused before any write.
    let (status, err) = call(&sc, "PATCH", "/scim/v2/Groups/s1", Some(add(99))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(member_ids(&store), [2, 4]);
}

#[tokio::test]
async fn concurrent_patches_through_two_sidecars_lose_no_member() {
    let (app, store, _) = setup(21).await;
    let a = start(load(&config_text(app, MAPPING))).await;
    let b = start(load(&config_text(app, MAPPING))).await;
    let calls = (2..=21u64).map(|u| {
        let sc = if u % 2 == 0 { &a } else { &b };
        async move {
            (
                u,
                call(sc, "PATCH", "/scim/v2/Groups/s1", Some(add(u))).await,
            )
        }
    });
    for (u, (status, body)) in join_all(calls).await {
        assert!(status.is_success(), "add {u}: {status} {body}");
    }
    assert_eq!(member_ids(&store), (1..=21).collect::<Vec<u64>>());
}
