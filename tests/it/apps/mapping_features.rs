//! Mapping features the bundled app does not exercise, against an in-test
//! app: cursor paging, summary lists fetched item by item (`fetch_each`),
//! request bodies wrapped under a key, an app error that means "already
//! done" (`"ok"`), DELETE refused with 405 when the app cannot delete, and
//! `active: false` refused when no rule can deactivate.

use crate::support;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::app::{App, json};
use support::record::Recorder;
use support::*;

const MAPPING: &str = r#"
[users.list]
get = "/people"
query = { cursor = "{cursor}" }
items = "$.data[*]"
next = "$.next_cursor"
fetch_each = true

[users.get]
get = "/people/{id}"
item = "$.person"

[users.create]
post = "/people"
wrap = "$.person"
item = "$.person"

[users.update]
patch = "/people/{id}"
wrap = "$.person"
errors = { '409 $.code == "unchanged"' = "ok" }

[users.attributes]
userName = "$.handle"
"name.givenName" = "$.given"
"#;

type Store = Arc<Mutex<Vec<Value>>>;

/// People pages of 2 behind an opaque cursor; list items are summaries.
/// Every request is recorded.
async fn people_app(store: Store, rec: Recorder) -> std::net::SocketAddr {
    App::handler(move |r| {
        let own = r.header("host").unwrap_or("").to_string();
        let query = r.raw_query.clone().unwrap_or_default();
        let body = r.body.clone().unwrap_or(Value::Null);
        let reply = |status: u16, v: Value| json(status, &v);
        let mut people = store.lock().unwrap();
        match (r.method.clone(), r.path.as_str()) {
            (Method::GET, "/people") => {
                let start: usize = query
                    .strip_prefix("cursor=c")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let page: Vec<Value> = people
                    .iter()
                    .skip(start)
                    .take(2)
                    .map(|p| json!({"id": p["id"]}))
                    .collect();
                let next = (start + 2 < people.len()).then(|| format!("c{}", start + 2));
                let link = next.as_ref().map(|c| format!("/people?cursor={c}"));
                let absolute = next.as_ref().map(|c| format!("http://{own}/people?cursor={c}"));
                let elsewhere = next.as_ref().map(|c| format!("http://evil.example/people?cursor={c}"));
                reply(
                    200,
                    json!({"data": page, "next_cursor": next, "next_link": link, "next_url": absolute, "elsewhere": elsewhere}),
                )
            }
            (Method::POST, "/people") => {
                let mut p = body["person"].clone();
                p["id"] = json!(format!("p{}", people.len() + 1));
                people.push(p.clone());
                reply(201, json!({"person": p}))
            }
            (Method::GET, p) => match people
                .iter()
                .find(|x| format!("/people/{}", x["id"].as_str().unwrap()) == p)
            {
                Some(x) => reply(200, json!({"person": x})),
                None => reply(404, json!({"code": "missing"})),
            },
            (Method::PATCH, p) => reply(409, json!({"code": "unchanged", "path": p})),
            _ => reply(405, json!({})),
        }
    })
    .recorded(&rec)
    .serve()
    .await
}

async fn setup(n: usize) -> (Sidecar, Store, Recorder) {
    setup_with(n, MAPPING.to_string()).await
}

async fn setup_with(n: usize, mapping: String) -> (Sidecar, Store, Recorder) {
    let store: Store = Arc::new(Mutex::new(
        (1..=n).map(|i| json!({"id": format!("p{i}"), "handle": format!("h{i}"), "given": format!("G{i}")})).collect(),
    ));
    let rec = Recorder::default();
    let app = people_app(store.clone(), rec.clone()).await;
    (start(load(&config_text(app, &mapping))).await, store, rec)
}

/// The bodies of the `method` calls the app received, in order.
fn bodies(rec: &Recorder, method: Method) -> Vec<Option<Value>> {
    rec.seen()
        .into_iter()
        .filter(|s| s.method == method)
        .map(|s| s.body)
        .collect()
}

#[tokio::test]
async fn cursor_paging_with_summaries_fetched_in_full() {
    let (sc, _, _) = setup(5).await;
    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=2&count=3", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["p2", "p3", "p4"]);
    assert_eq!(
        list["Resources"][0]["name"]["givenName"], "G2",
        "summaries were fetched in full"
    );
    assert_eq!(list["Resources"][2]["userName"], "h4");
    let (_, all) = call(&sc, "GET", "/scim/v2/Users?count=10", None).await;
    assert_eq!(all["totalResults"], json!(5));
    assert_eq!(all["itemsPerPage"], json!(5));
}

#[tokio::test]
async fn wrapped_create_and_already_done_update() {
    let (sc, store, rec) = setup(1).await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new", "name": {"givenName": "Nia"}});
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(user)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["id"], "p2");
    assert_eq!(
        bodies(&rec, Method::POST),
        [Some(json!({"person": {"handle": "new", "given": "Nia"}}))]
    );
    assert_eq!(store.lock().unwrap()[1]["handle"], "new");

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "name.givenName", "value": "Nina"}]});
    let (status, body) = call(&sc, "PATCH", "/scim/v2/Users/p2", Some(patch)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the app's 409 `unchanged` counts as done: {body}"
    );
    assert_eq!(
        bodies(&rec, Method::PATCH),
        [Some(json!({"person": {"given": "Nina"}}))],
        "only the change was sent, once"
    );
}

#[tokio::test]
async fn delete_without_an_app_delete_is_405() {
    let (sc, store, rec) = setup(1).await;
    let (status, err) = call(&sc, "DELETE", "/scim/v2/Users/p1", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(err["status"], "405");
    assert_eq!(store.lock().unwrap().len(), 1);
    assert!(
        rec.seen().iter().all(|s| s.method == Method::GET),
        "only reads reached the app: {:?}",
        rec.calls()
    );
}

/// A list whose `next` is a link (relative or absolute on the app's origin)
/// is followed; a link to another origin is refused, so the app's
/// credentials never leave it.
#[tokio::test]
async fn next_links_are_followed_on_the_apps_origin_only() {
    for next in ["$.next_link", "$.next_url"] {
        let mapping = MAPPING
            .replace("query = { cursor = \"{cursor}\" }\n", "")
            .replace("$.next_cursor", next);
        let (sc, _, _) = setup_with(5, mapping).await;
        let (status, all) = call(&sc, "GET", "/scim/v2/Users?count=10", None).await;
        assert_eq!(status, StatusCode::OK, "{next}: {all}");
        assert_eq!(all["totalResults"], json!(5), "{next}");
        assert_eq!(all["Resources"][4]["id"], "p5");
    }
    let mapping = MAPPING
        .replace("query = { cursor = \"{cursor}\" }\n", "")
        .replace("$.next_cursor", "$.elsewhere");
    let (sc, _, _) = setup_with(5, mapping).await;
    let (status, err) = call(&sc, "GET", "/scim/v2/Users?count=10", None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("another origin"));
}

#[tokio::test]
async fn cursor_paging_refuses_start_indexes_beyond_the_scan_limit() {
    let (sc, _, _) = setup(3).await;
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users?startIndex=9000000000000000000&count=1",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "tooMany");
    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=3&count=5", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["itemsPerPage"], json!(1));
}

/// With `unmapped = "ignore"` and no `active` rule, `active: false` is
/// refused (400) on create, PUT and PATCH: the app was never told, and a
/// 200 would leave an account active that the IdP believes is not.
/// `active: true` is what the app's accounts are, and passes.
#[tokio::test]
async fn deactivation_without_an_active_rule_is_refused() {
    let mapping = format!("[users]\nunmapped = \"ignore\"\n{MAPPING}");
    let (sc, store, rec) = setup_with(1, mapping).await;
    let urn = "urn:ietf:params:scim:schemas:core:2.0:User";
    let user = json!({"schemas": [urn], "userName": "off", "active": false});
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(user)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("cannot deactivate"),
        "{err}"
    );
    assert_eq!(store.lock().unwrap().len(), 1, "nothing was created");

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let (status, err) = call(&sc, "PATCH", "/scim/v2/Users/p1", Some(patch)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    let okta = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]});
    let (status, _) = call(&sc, "PATCH", "/scim/v2/Users/p1", Some(okta)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let put = json!({"schemas": [urn], "userName": "h1", "active": false});
    let (status, _) = call(&sc, "PUT", "/scim/v2/Users/p1", Some(put)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        bodies(&rec, Method::PATCH).is_empty(),
        "nothing was written"
    );

    let user = json!({"schemas": [urn], "userName": "on", "active": true});
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(user)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}
