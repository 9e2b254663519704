//! Tests of the mapping keys for API shapes published OpenAPI documents
//! use: `next` and `total` in response headers, a get made of the list
//! filtered by id, lookups with a path and a query, the id in the body of
//! method-URL updates, JSON Patch updates and keys as last read — and the
//! diagnostics that name what is missing or misplaced.

use http::HeaderMap;
use serde_json::json;

use super::compile_users;
use crate::diagnostic::Diagnostic;
use crate::mapping::model::mapping::ResourceMapping;
use crate::mapping::model::ops::{OpKind, Paging};
use crate::mapping::render::vars::Vars;

const ATTRS: &str = r#"
[users.attributes]
userName = "$.username"
"name.givenName" = "$.given"
"meta.version" = "$.version"
"#;

fn compile(src: &str) -> Result<ResourceMapping, Vec<Diagnostic>> {
    compile_users(&format!("{src}{ATTRS}"), &["realm"], &|_| None)
}

/// The first diagnostic whose key is `key`, with a position in the file.
fn error_at(src: &str, key: &str) -> Diagnostic {
    let errs = compile(src).expect_err("a compile error");
    errs.into_iter()
        .find(|d| d.key == key)
        .unwrap_or_else(|| panic!("no error at {key}"))
}

const REST: &str = r#"
[users.list]
get = "/users"
query = { per_page = "{limit}" }
next = "header:Link"
total = "header:X-Total-Count"

[users.get]
get = "/users/{id}"

[users.create]
post = "/users"

[users.update]
patch = "/users/{id}"
body_format = "json-patch"
version_field = "$.version"
"#;

#[test]
fn next_and_total_are_read_from_headers_when_the_mapping_says_so() {
    let m = compile(REST).unwrap();
    assert_eq!(m.paging(), Paging::Cursor);
    let mut h = HeaderMap::new();
    h.insert(
        "link",
        r#"<https://app/users?page=2>; rel="next""#.parse().unwrap(),
    );
    h.insert("x-total-count", "7".parse().unwrap());
    let page = m
        .extract_page_with(OpKind::List, json!([{"id": 1}]), &h)
        .unwrap();
    assert_eq!(
        page.next_cursor.as_deref(),
        Some("https://app/users?page=2")
    );
    assert_eq!(page.total, Some(7));
    let page = m.extract_page(json!([])).unwrap();
    assert_eq!((page.next_cursor, page.total), (None, None));
}

#[test]
fn a_header_that_is_not_one_is_an_error_at_its_key() {
    let src = REST.replace("header:Link", "header:Li nk");
    let d = error_at(&src, "users.list.next");
    assert!(d.message.contains("valid header"), "{d:?}");
    assert!(d.span.is_some());
    let src = REST.replace("next = \"header:Link\"\n", "paging = \"cursor\"\n");
    let d = error_at(&src, "users.list");
    assert!(d.message.contains("`header:Link`"), "{d:?}");
}

#[test]
fn json_patch_updates_render_operations_with_the_version_tested_first() {
    let m = compile(REST).unwrap();
    let op = m.op(OpKind::Update).unwrap();
    let version = json!(3);
    let vars = Vars {
        id: Some("7"),
        version: Some(&version),
        ..Vars::default()
    };
    let req = op
        .render(&vars, Some(json!({"given": "Ada", "username": null})))
        .unwrap();
    assert_eq!(req.content_type, Some("application/json-patch+json"));
    assert_eq!(
        req.body,
        Some(json!([
            {"op": "test", "path": "/version", "value": 3},
            {"op": "add", "path": "/given", "value": "Ada"},
            {"op": "remove", "path": "/username"}
        ]))
    );
    assert!(op.uses_version());
}

#[test]
fn json_patch_is_refused_where_it_cannot_be_sent() {
    let put = REST.replace("patch = \"/users/{id}\"", "put = \"/users/{id}\"");
    let d = error_at(&put, "users.update.body_format");
    assert!(d.message.contains("patch ="), "{d:?}");
    let other = REST.replace("\"json-patch\"", "\"merge-patch\"");
    let d = error_at(&other, "users.update.body_format");
    assert!(d.message.contains("json-patch"), "{d:?}");
    let create = REST.replace(
        "[users.create]\npost = \"/users\"",
        "[users.create]\npost = \"/users\"\nbody_format = \"json-patch\"",
    );
    let d = error_at(&create, "users.create.body_format");
    assert!(d.message.contains("update"), "{d:?}");
}

const LIST_ONLY: &str = r#"
[users.list]
get = "/accounts"
query = { offset = "{offset}", limit = "{limit}" }

[users.search]
'id eq' = { query = { "filter[id]" = "{value}" } }

[users.create]
post = "/accounts"

[users.update]
patch = "/accounts/{id}"
"#;

#[test]
fn without_get_an_id_rule_reads_records_through_the_list() {
    let m = compile(LIST_ONLY).unwrap();
    assert!(m.op(OpKind::Get).is_none());
    let rule = m.get_via_list().expect("the id rule stands for get");
    let vars = Vars {
        offset: Some(0),
        limit: Some(20),
        value: Some("a/1"),
        value_of: Some(rule.attr()),
        search: Some(rule.query()),
        ..Vars::default()
    };
    let req = m.op(OpKind::List).unwrap().render(&vars, None).unwrap();
    assert_eq!(
        req.path_and_query,
        "/accounts?limit=20&offset=0&filter%5Bid%5D=a%2F1"
    );
}

#[test]
fn a_missing_get_names_the_id_rule_that_would_replace_it() {
    let src = LIST_ONLY.replace("'id eq'", "'userName eq'");
    let d = error_at(&src, "users.get");
    assert!(d.message.contains("'id eq'"), "{d:?}");
    let src = LIST_ONLY.replace(
        "get = \"/accounts\"",
        "get = \"/accounts\"\nfetch_each = true",
    );
    let d = error_at(&src, "users.list.fetch_each");
    assert!(d.message.contains("has none"), "{d:?}");
}

const RPC: &str = r#"
[users.list]
get = "/api/users.list"

[users.get]
get = "/api/users.info"
query = { userId = "{id}" }

[users.search]
'userName eq' = { get = "/api/users.info", query = { username = "{value}" }, item = "$.user" }

[users.create]
post = "/api/users.create"

[users.update]
post = "/api/users.update"
wrap = "$.data"
id_field = "$.userId"
"#;

#[test]
fn rpc_lookups_and_updates_carry_their_keys_in_the_query_and_body() {
    let m = compile(RPC).unwrap();
    let rule = m.pushdown("userName", "eq").unwrap();
    assert!(rule.query().is_empty(), "the query is the lookup's own");
    let vars = Vars {
        value: Some("a&b"),
        value_of: Some("userName"),
        ..Vars::default()
    };
    let req = rule.lookup().unwrap().render(&vars, None).unwrap();
    assert_eq!(req.path_and_query, "/api/users.info?username=a%26b");
    let vars = Vars {
        id: Some("Xy1"),
        ..Vars::default()
    };
    let req = m
        .op(OpKind::Update)
        .unwrap()
        .render(&vars, Some(json!({"given": "Ada"})))
        .unwrap();
    assert_eq!(
        req.body,
        Some(json!({"userId": "Xy1", "data": {"given": "Ada"}}))
    );
    assert_eq!(req.content_type, None);
}

#[test]
fn rpc_keys_are_refused_where_they_mean_nothing() {
    let src = RPC.replace(
        "post = \"/api/users.create\"",
        "post = \"/api/users.create\"\nid_field = \"$.id\"",
    );
    let d = error_at(&src, "users.create.id_field");
    assert!(d.message.contains("update and replace"), "{d:?}");
    let src = RPC.replace(
        "{ get = \"/api/users.info\", query = { username = \"{value}\" }, item = \"$.user\" }",
        "{ case_insensitive = true }",
    );
    let d = error_at(&src, "users.search.\"userName eq\"");
    assert!(d.message.contains("needs `query`"), "{d:?}");
}

#[test]
fn keys_as_last_read_render_from_the_current_record_on_changes_only() {
    let src = RPC.replace(
        "post = \"/api/users.update\"",
        "put = \"/{conn.realm}/users/{current.userName}\"",
    );
    let m = compile(&src).unwrap();
    let (now, before) = (json!({"userName": "new"}), json!({"userName": "old@x"}));
    let conn = [("realm".to_owned(), "acme".to_owned())]
        .into_iter()
        .collect();
    let vars = Vars {
        id: Some("1"),
        resource: Some(&now),
        current: Some(&before),
        conn: Some(&conn),
        ..Vars::default()
    };
    let req = m.op(OpKind::Update).unwrap().render(&vars, None).unwrap();
    assert_eq!(req.path_and_query, "/acme/users/old%40x");
    let src = RPC.replace(
        "post = \"/api/users.create\"",
        "post = \"/api/{current.userName}\"",
    );
    let d = error_at(&src, "users.create.post");
    assert!(d.message.contains("as last read"), "{d:?}");
}
