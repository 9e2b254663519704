//! Answers written straight from the app's records, for a mapping of
//! plain, sub-attribute and selected-element rules: an import page
//! (`GET /Users?startIndex=…&count=…`, no filter, sort or projection) and
//! a get (`GET /Users/{id}`, no projection). Each is byte for byte, and a
//! get's entity tag and `304` too, what the same request answers through
//! SCIM values, which a projection that changes nothing
//! (`excludedAttributes` naming an attribute the mapping lacks) still
//! takes; and each passes the strict reader.

use crate::support;

use http::{Request, StatusCode};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use support::app::{App, json};
use support::*;

const MAPPING: &str = r#"
[users.list]
get = "/users"
query = { offset = "{offset}", limit = "{limit}" }
items = "$.items[*]"
total = "$.total"

[users.get]
get = "/users/{id}"

[users.create]
post = "/users"

[users.update]
patch = "/users/{id}"

[users.attributes]
id = { path = "$.id", mutability = "readOnly" }
userName = "$.login"
"name.givenName" = "$.first"
"name.familyName" = "$.last"
'emails[type eq "work"].value' = "$.email"
'emails[type eq "home"].value' = "$.home_email"
active = { path = "$.state", map = { true = "ACTIVE", false = "SUSPENDED" } }
"meta.created" = { path = "$.created_at", transform = ["epoch_seconds"] }
"meta.version" = "$.version"
"#;

/// Users of every shape the rules meet: missing fields, one email or two,
/// ids that need encoding in `meta.location`, characters JSON escapes.
fn users() -> Vec<Value> {
    (1..=7)
        .map(|i| {
            let mut u = json!({"id": format!("u {i}/ü"), "login": format!("user{i}\"@example.com"),
                               "state": if i % 3 == 0 { "SUSPENDED" } else { "ACTIVE" },
                               "version": i, "created_at": 1_714_564_800u64 + i});
            if i % 2 == 0 {
                u["first"] = json!(format!("Zoë{i}"));
            }
            if i != 5 {
                u["last"] = json!(format!("Last\\{i}"));
            }
            if i % 3 != 1 {
                u["email"] = json!(format!("w{i}@example.com"));
            }
            if i % 4 == 0 || i == 6 {
                u["home_email"] = json!(format!("h{i}@example.com"));
            }
            u
        })
        .collect()
}

async fn app() -> std::net::SocketAddr {
    let all = users();
    App::handler(move |r| {
        let q = r.raw_query.clone().unwrap_or_default();
        let num = |k: &str| {
            q.split('&')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse::<usize>().ok())
        };
        if let Some(id) = r.path.strip_prefix("/users/") {
            let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
            return match all.iter().find(|u| u["id"] == *id) {
                Some(u) => json(200, u),
                None => json(404, &json!({"error": "not found"})),
            };
        }
        let (offset, limit) = (num("offset").unwrap_or(0), num("limit").unwrap_or(100));
        let items: Vec<Value> = all.iter().skip(offset).take(limit).cloned().collect();
        json(200, &json!({"items": items, "total": all.len()}))
    })
    .serve()
    .await
}

async fn page_bytes(sc: &Sidecar, query: &str) -> (StatusCode, bytes::Bytes) {
    let (status, _, bytes) = get_bytes(sc, &format!("/scim/v2/Users?{query}"), None).await;
    (status, bytes)
}

/// A GET's status, entity tag and body, with `If-None-Match` when given.
async fn get_bytes(
    sc: &Sidecar,
    path: &str,
    if_none_match: Option<&str>,
) -> (StatusCode, Option<String>, bytes::Bytes) {
    let mut req =
        Request::get(sc.url(path)).header("authorization", format!("Bearer {}", sc.token));
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let (parts, bytes) = send(&client(), req.body(body("")).unwrap()).await;
    let tag = parts
        .headers
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    (parts.status, tag, bytes)
}

#[tokio::test]
async fn an_import_page_is_the_same_bytes_as_through_scim_values() {
    let sc = start(load(&config_text(app().await, MAPPING))).await;
    for query in [
        "startIndex=1&count=100",
        "startIndex=3&count=4",
        "count=0",
        "startIndex=7&count=5",
    ] {
        let (status, direct) = page_bytes(&sc, query).await;
        let (_, built) = page_bytes(&sc, &format!("{query}&excludedAttributes=nickName")).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&direct)
        );
        assert_eq!(
            String::from_utf8_lossy(&direct),
            String::from_utf8_lossy(&built),
            "{query}"
        );
    }
    // What the page holds, read as a strict SCIM client reads it.
    let (status, page) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=100", None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let r = &page["Resources"];
    assert_eq!(page["totalResults"], 7);
    assert_eq!(r[0]["id"], "u 1/ü");
    assert_eq!(
        r[0]["meta"]["location"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next(),
        Some("u%201%2F%C3%BC")
    );
    assert_eq!(r[0]["meta"]["version"], "W/\"1\"");
    assert_eq!(
        r[1]["emails"],
        json!([{"primary": true, "type": "work", "value": "w2@example.com"}])
    );
    assert_eq!(
        r[3]["emails"],
        json!([{"primary": true, "type": "home", "value": "h4@example.com"}])
    );
    assert_eq!(
        r[5]["emails"],
        json!([{"type": "home", "value": "h6@example.com"}, {"type": "work", "value": "w6@example.com"}])
    );
    assert!(r[0].get("emails").is_none() && r[0]["name"].get("givenName").is_none());
    assert_eq!(r[2]["active"], false);
    assert!(r[4].get("name").is_none(), "{}", r[4]);
}

#[tokio::test]
async fn a_get_is_the_same_bytes_and_entity_tag_as_through_scim_values() {
    let sc = start(load(&config_text(app().await, MAPPING))).await;
    for u in users() {
        let id = u["id"].as_str().unwrap();
        let path = format!(
            "/scim/v2/Users/{}",
            utf8_percent_encode(id, NON_ALPHANUMERIC)
        );
        let direct = get_bytes(&sc, &path, None).await;
        let built = get_bytes(&sc, &format!("{path}?excludedAttributes=nickName"), None).await;
        assert_eq!(
            direct.0,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&direct.2)
        );
        assert_eq!(
            (direct.1.clone(), String::from_utf8_lossy(&direct.2)),
            (built.1, String::from_utf8_lossy(&built.2)),
            "{id}"
        );
        let tag = direct.1.expect("an entity tag");
        assert_eq!(tag, format!("W/\"{}\"", u["version"]));
        let (status, again, text) = get_bytes(&sc, &path, Some(&tag)).await;
        assert_eq!(
            (status, again.as_deref(), text.len()),
            (StatusCode::NOT_MODIFIED, Some(tag.as_str()), 0)
        );
        let (_, r) = call(&sc, "GET", &path, None).await;
        assert_eq!(r["id"], id);
    }
    let (status, err) = call(&sc, "GET", "/scim/v2/Users/nobody", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
}
