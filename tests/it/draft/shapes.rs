//! The drafter writes the API shapes the mapping expresses where the
//! document states them: a next page in a `Link` header (GitHub's), a
//! total only in `X-Total-Count` (Forgejo), an update that takes only RFC
//! 6902 JSON Patch; and names with their keys the shapes it does not write
//! (no single-user GET).

use scim_sidecar::draft::{Settings, draft_text};
use toml::{Table, Value};

fn settings() -> Settings {
    Settings {
        app_url: Some("https://app.example.com".into()),
        listen: "127.0.0.1:8080".into(),
        idp: "okta".into(),
    }
}

/// The draft of a corpus document, and its text.
fn corpus(app: &str, file: &str) -> (Table, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/openapi")
        .join(app)
        .join(file);
    let text = std::fs::read_to_string(path).unwrap();
    let drafted = draft_text(&text, &settings()).unwrap();
    (toml::from_str(&drafted).unwrap(), drafted)
}

fn list(t: &Table) -> &Table {
    t["users"]["list"].as_table().expect("[users.list]")
}

#[test]
fn a_link_header_is_drafted_as_the_next_page() {
    let (t, text) = corpus("github-ghes", "ghes-3.19.users-subset.json");
    let l = list(&t);
    assert_eq!(
        l.get("next").and_then(Value::as_str),
        Some("header:Link"),
        "{text}"
    );
    assert_eq!(l["query"]["per_page"].as_str(), Some("{limit}"));
    assert!(l.get("paging").is_none(), "{l:?}");
    assert!(!text.contains("cannot follow yet"), "{text}");
}

#[test]
fn a_total_only_in_a_header_is_drafted_from_it() {
    let (t, text) = corpus("forgejo", "swagger.v1.users-subset.json");
    assert_eq!(
        list(&t).get("total").and_then(Value::as_str),
        Some("header:X-Total-Count"),
        "{text}"
    );
}

/// A small document: a list, a create and a PATCH taking JSON Patch only,
/// with no GET of one user.
const JSON_PATCH_DOC: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "accounts", "version": "1"},
  "paths": {
    "/users": {
      "get": {"parameters": [{"name": "offset", "in": "query", "schema": {"type": "integer"}},
                             {"name": "limit", "in": "query", "schema": {"type": "integer"}}],
              "responses": {"200": {"description": "users", "content": {"application/json": {"schema":
                {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}}}}},
      "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}},
               "responses": {"201": {"description": "created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}}
    },
    "/users/{id}": {
      "patch": {"parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json-patch+json": {"schema": {"type": "array", "items": {"type": "object"}}}}},
                "responses": {"200": {"description": "updated", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}}
    }
  },
  "components": {"schemas": {"User": {"type": "object", "properties": {
    "id": {"type": "string"}, "username": {"type": "string"}, "email": {"type": "string"}}}}}
}"##;

#[test]
fn a_json_patch_update_is_drafted_and_a_missing_get_names_the_id_rule() {
    let drafted = draft_text(JSON_PATCH_DOC, &settings()).unwrap();
    let t: Table = toml::from_str(&drafted).unwrap();
    let update = t["users"]["update"].as_table().expect("[users.update]");
    assert_eq!(
        update.get("patch").and_then(Value::as_str),
        Some("/users/{id}"),
        "{drafted}"
    );
    assert_eq!(
        update.get("body_format").and_then(Value::as_str),
        Some("json-patch"),
        "{drafted}"
    );
    assert!(
        !drafted.contains("which the sidecar sends only"),
        "{drafted}"
    );
    assert!(drafted.contains("`'id eq'` search rule"), "{drafted}");
}
