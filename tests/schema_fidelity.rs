//! Whatever the app stores, an answer says only what `/Schemas` declares
//! (every answer here passes the strict reader): attributes the mapping
//! makes writeOnly are declared `returned: never`, and an app value SCIM
//! cannot carry as its attribute's type (a dateTime that is not RFC 3339,
//! a fraction for an integer, an array for a single value) is a 502 that
//! names the attribute, never a 200 a strict client would refuse.

mod support;

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};
use support::record::{Recorder, Seen};
use support::*;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// Operations for an app at `/u` whose records are `record` (id 1).
const OPS: &str = r#"
[users.list]
get = "/u"
items = "$[*]"
paging = "none"

[users.get]
get = "/u/{id}"

[users.create]
post = "/u"

[users.update]
patch = "/u/{id}"

[[users.extensions]]
urn = "urn:example:params:scim:schemas:extension:acme:2.0:User"
name = "AcmeUser"
attributes = { clearance = "integer", badgeIssued = "dateTime" }
"#;

/// A sidecar mapped by `attributes` in front of an app that answers every
/// read and write with `record` and records each request.
async fn sidecar(attributes: &str, record: Value) -> (Sidecar, Recorder) {
    let rec = Recorder::default();
    let r = rec.clone();
    let app = upstream(move |req: Request<Incoming>| {
        let (r, record) = (r.clone(), record.clone());
        async move {
            let (parts, body) = req.into_parts();
            let bytes = body.collect().await.unwrap().to_bytes();
            r.record(Seen::new(&parts, &bytes));
            let (status, body) = match (&parts.method, parts.uri.path()) {
                (&Method::GET, "/u") => (200, json!([record])),
                (&Method::POST, "/u") => (201, record),
                (_, "/u/1") => (200, record),
                _ => (404, json!({"error": "not found"})),
            };
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(body_of(body))
                .unwrap()
        }
    })
    .await;
    let mapping = format!("{OPS}\n[users.attributes]\nuserName = \"$.login\"\n{attributes}");
    (start(load(&config_text(app, &mapping))).await, rec)
}

fn body_of(v: Value) -> scim_sidecar::body::Body {
    body(v.to_string())
}

/// The `/Schemas` definition of a core attribute.
async fn declared(sc: &Sidecar, name: &str) -> Value {
    let path = format!("/scim/v2/Schemas/{USER}");
    let (status, schema) = call(sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{schema}");
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not declared: {schema}"))
}

#[tokio::test]
async fn write_only_attributes_are_declared_never_returned() {
    let (sc, app) = sidecar(
        r#"title = { path = "$.title", mutability = "writeOnly" }"#,
        json!({"id": 1, "login": "ada", "title": "Countess"}),
    )
    .await;
    let title = declared(&sc, "title").await;
    assert_eq!(title["mutability"], "writeOnly");
    assert_eq!(title["returned"], "never", "{title}");

    let (status, user) = call(&sc, "GET", "/scim/v2/Users/1", None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert!(user.get("title").is_none(), "{user}");
    // Asked for by name, it is still not returned (RFC 7643 §2.2).
    let (status, user) = call(&sc, "GET", "/scim/v2/Users/1?attributes=title", None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert!(user.get("title").is_none(), "{user}");
    // It is written all the same.
    let new = json!({"schemas": [USER], "userName": "ada", "title": "Countess"});
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created.get("title").is_none(), "{created}");
    let posts: Vec<Option<Value>> = app
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::POST)
        .map(|s| s.body)
        .collect();
    assert_eq!(posts, [Some(json!({"login": "ada", "title": "Countess"}))]);
}
