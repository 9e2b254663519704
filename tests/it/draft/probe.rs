//! `draft --probe` against an in-test app whose real records differ from
//! its own document: the records sit under another key, the total
//! elsewhere, the id and the name fields are spelled differently and the
//! get answer wraps the record. The probe reads one page and one user
//! (GET only, with the given headers), corrects the draft from them and
//! reports which attributes have values.

use crate::support::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// What the app's document says.
fn document() -> Value {
    let person = json!({"type": "object", "properties": {
        "id": {"type": "string", "readOnly": true},
        "login": {"type": "string"},
        "first_name": {"type": "string"},
        "last_name": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "title": {"type": "string"}
    }});
    json!({
        "openapi": "3.0.3",
        "info": {"title": "People", "version": "1"},
        "components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}},
        "security": [{"key": []}],
        "paths": {
            "/api/people": {
                "get": {"parameters": [
                    {"name": "offset", "in": "query", "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer"}}
                ], "responses": {"200": {"description": "", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"people": {"type": "array", "items": person}, "total": {"type": "integer"}}
                }}}}}},
                "post": {"requestBody": {"content": {"application/json": {"schema": person}}}, "responses": {"201": {"description": "", "content": {"application/json": {"schema": person}}}}}
            },
            "/api/people/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": {"responses": {"200": {"description": "", "content": {"application/json": {"schema": person}}}}},
                "patch": {"requestBody": {"content": {"application/json": {"schema": person}}}, "responses": {"200": {"description": ""}}},
                "delete": {"responses": {"204": {"description": ""}}}
            }
        }
    })
}

/// What the app really answers.
fn people() -> Value {
    json!([
        {"uid": "p-1", "login": "ada", "firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "title": null},
        {"uid": "p-2", "login": "alan", "firstName": "Alan", "lastName": "Turing", "email": null, "title": null}
    ])
}

#[tokio::test]
async fn the_probe_corrects_the_draft_from_real_records_and_only_reads() {
    let seen: Arc<Mutex<Vec<(String, String, bool)>>> = Arc::default();
    let log = seen.clone();
    let app = upstream(move |req: http::Request<hyper::body::Incoming>| {
        let log = log.clone();
        async move {
            let keyed = req.headers().get("x-key").is_some_and(|k| k == "secret");
            let path = req.uri().path().to_owned();
            log.lock()
                .unwrap()
                .push((req.method().to_string(), req.uri().to_string(), keyed));
            let (status, value) = match (keyed, path.as_str()) {
                (_, "/openapi.json") => (200, document()),
                (false, _) => (401, json!({"error": "no key"})),
                (true, "/api/people") => (200, json!({"data": people(), "meta": {"count": 2}})),
                (true, "/api/people/p-1") => (200, json!({"person": people()[0]})),
                _ => (404, json!({"error": "not found"})),
            };
            http::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(body(value.to_string()))
                .unwrap()
        }
    })
    .await;
    let opts = scim_sidecar::draft::Options {
        openapi: format!("http://{app}/openapi.json"),
        app_url: Some(format!("http://{app}")),
        headers: vec!["X-Key: secret".into()],
        idp: "okta".into(),
        listen: None,
        probe: true,
    };
    let out = scim_sidecar::draft::run(&opts).await.expect("draft");
    let report = out.report.join("\n");
    let toml = &out.toml;
    assert!(out.invalid.is_none(), "{:?}", out.invalid);
    assert!(toml.contains(r#"items = "$.data[*]""#), "{toml}");
    assert!(toml.contains(r#"total = "$.meta.count""#), "{toml}");
    assert!(
        toml.contains(r#"id = { path = "$.uid", mutability = "readOnly" }"#),
        "{toml}"
    );
    assert!(
        toml.contains(r#""name.givenName" = "$.firstName""#),
        "{toml}"
    );
    assert!(
        toml.contains(r#""name.familyName" = "$.lastName""#),
        "{toml}"
    );
    assert!(toml.contains(r#"item = "$.person""#), "{toml}");
    assert!(
        toml.contains("corrected by --probe"),
        "the draft says what the probe changed: {toml}"
    );
    assert!(report.contains("userName 2/2"), "{report}");
    assert!(
        report.contains("emails[type eq \"work\"].value 1/2"),
        "{report}"
    );
    assert!(
        report.contains("without a value in any record read: title"),
        "{report}"
    );
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter().all(|(m, _, _)| m == "GET"),
        "the probe only reads: {seen:?}"
    );
    assert!(
        seen.iter().any(|(_, u, _)| u.starts_with("/api/people?")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|(_, u, _)| u == "/api/people/p-1"),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|(_, _, keyed)| *keyed),
        "every call carried the --header"
    );
    // The corrected draft loads.
    scim_sidecar::draft::validate(toml).unwrap();
}
