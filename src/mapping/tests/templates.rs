//! Tests of request templates for apps of other shapes: placeholders
//! derived from SCIM values by transforms, structured query parameters,
//! 0-based pages, get-by-key search rules and `${ENV}` in mapping strings.

use serde_json::{Value, json};

use super::File;
use crate::diagnostic::Diagnostic;
use crate::mapping::compile_with;
use crate::mapping::error::MapError;
use crate::mapping::model::mapping::{ResourceKind, ResourceMapping};
use crate::mapping::model::ops::{OpKind, Paging};
use crate::mapping::render::encode::tests::rison_decode;
use crate::mapping::render::vars::Vars;

/// A chat server keyed by `@localpart:server`, its id chosen by the client.
const CHAT: &str = r#"
[users.placeholders]
localpart = { from = "userName", transform = ["lower", { replace = ["=40", "@"] }, { charset = "a-z0-9._=/-" }] }

[users.list]
get = "/_admin/v2/users"
query = { from = "{offset}", limit = "{limit}", token = "${CHAT_TOKEN}" }
items = "$.users[*]"

[users.get]
get = "/_admin/v2/users/{id}"

[users.create]
put = "/_admin/v2/users/@{localpart}:{conn.server}"
id = "$.name"

[users.update]
put = "/_admin/v2/users/{id}"

[users.search]
'userName eq' = { get = "/_admin/v2/users/@{localpart}:{conn.server}", case_insensitive = true }

[users.attributes]
id = { path = "$.name", mutability = "readOnly" }
userName = "$.login"
"#;

fn env(name: &str) -> Option<String> {
    (name == "CHAT_TOKEN").then(|| "t0k".to_owned())
}

fn compile_src(src: &str) -> Result<ResourceMapping, Vec<Diagnostic>> {
    super::compile_users(src, &["server"], &env)
}

fn chat() -> ResourceMapping {
    compile_src(CHAT).unwrap_or_else(|e| panic!("{e:?}"))
}

fn conn() -> std::collections::BTreeMap<String, String> {
    [("server".to_owned(), "example.org".to_owned())].into()
}

#[test]
fn derived_placeholders_build_the_key_from_the_username() {
    let m = chat();
    let c = conn();
    let scim = json!({"userName": "Alice.Smith@Corp.example"});
    let vars = Vars {
        resource: Some(&scim),
        conn: Some(&c),
        ..Vars::default()
    };
    let r = m.op(OpKind::Create).unwrap().render(&vars, None).unwrap();
    assert_eq!(
        r.path_and_query,
        "/_admin/v2/users/@alice.smith%3D40corp.example:example.org"
    );
    let bad = json!({"userName": "Alice Smith"});
    let vars = Vars {
        resource: Some(&bad),
        ..vars
    };
    match m.op(OpKind::Create).unwrap().render(&vars, None) {
        Err(MapError::InvalidValue { attr, message }) => {
            assert!(attr.contains("localpart"), "{attr}");
            assert!(message.contains("a-z0-9._=/-"), "{message}");
            assert!(!message.contains("Smith"), "no values in messages");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_get_by_key_search_takes_the_filter_value() {
    let m = chat();
    let rule = m.pushdown("userName", "eq").unwrap();
    let op = rule.lookup().expect("a lookup");
    let c = conn();
    let vars = Vars {
        value: Some("BOB@x.io"),
        value_of: Some(rule.attr()),
        conn: Some(&c),
        ..Vars::default()
    };
    assert_eq!(
        op.render(&vars, None).unwrap().path_and_query,
        "/_admin/v2/users/@bob%3D40x.io:example.org"
    );
}

#[test]
fn env_references_expand_in_templates_or_fail() {
    let m = chat();
    let vars = Vars {
        offset: Some(0),
        limit: Some(10),
        ..Vars::default()
    };
    let r = m.op(OpKind::List).unwrap().render(&vars, None).unwrap();
    assert_eq!(
        r.path_and_query,
        "/_admin/v2/users?from=0&limit=10&token=t0k"
    );
    let e = compile_src(&CHAT.replace("CHAT_TOKEN", "NOT_SET")).unwrap_err();
    assert!(
        e.iter()
            .any(|e| e.key == "users.list.query.token" && e.message.contains("NOT_SET")),
        "{e:?}"
    );
}

#[test]
fn placeholder_mistakes_are_compile_errors() {
    let src = CHAT.replace("from = \"userName\"", "from = \"emails\"");
    let e = compile_src(&src).unwrap_err();
    assert!(
        e.iter()
            .any(|e| e.key == "users.placeholders.localpart.from"),
        "{e:?}"
    );
    let src = CHAT.replace(
        "get = \"/_admin/v2/users/{id}\"",
        "get = \"/_admin/v2/users/{localpart}\"",
    );
    let e = compile_src(&src).unwrap_err();
    assert!(e.iter().any(|e| e.message.contains("derived")), "{e:?}");
    let src = CHAT.replace("'userName eq' = { get", "'externalId eq' = { get");
    let e = compile_src(&src).unwrap_err();
    assert!(e.iter().any(|e| e.message.contains("{localpart}")), "{e:?}");
}

/// A placeholder in a value the sidecar never renders (`where`, `map`,
/// `default`, `const`) would reach the app as its literal text: `check`
/// refuses it. `${ENV}` is expanded there as everywhere.
#[test]
fn placeholders_in_literal_values_are_compile_errors() {
    let attrs = "userName = \"$.login\"\n";
    let cases = [
        (
            "emails = { path = \"$.contacts\", where = { kind = \"{conn.server}\" }, fields = { value = \"$.address\" } }",
            "users.attributes.emails.where",
        ),
        (
            "title = { path = \"$.title\", default = \"{userName}\" }",
            "users.attributes.title.default",
        ),
        (
            "active = { path = \"$.state\", map = { true = \"{conn.server}\", false = \"off\" } }",
            "users.attributes.active.map",
        ),
        (
            "nickName = { const = \"{conn.server}\" }",
            "users.attributes.nickName.const",
        ),
        (
            "title = { path = \"$.title\", transform = [{ prefix = \"{conn.server}-\" }] }",
            "users.attributes.title.transform",
        ),
    ];
    for (rule, key) in cases {
        let src = CHAT.replace(attrs, &format!("{attrs}{rule}\n"));
        let e = compile_src(&src).unwrap_err();
        assert!(
            e.iter()
                .any(|e| e.key == key && e.message.contains("is not expanded")),
            "{rule}: {e:?}"
        );
    }
    let rule = "emails = { path = \"$.contacts\", where = { kind = \"${CHAT_TOKEN}\" }, fields = { value = \"$.address\" } }";
    let m = compile_src(&CHAT.replace(attrs, &format!("{attrs}{rule}\n"))).unwrap();
    let host = m
        .to_host(&json!({"userName": "a", "emails": [{"value": "a@b.c"}]}))
        .unwrap();
    assert_eq!(host["contacts"][0]["kind"], "t0k");
}

/// Literal text in a query template is encoded with the value, so the
/// rendered URL is valid and the app reads the text as written.
#[test]
fn literal_query_text_reaches_the_app_as_written() {
    let src = CHAT.replace(
        "'userName eq' = { get = \"/_admin/v2/users/@{localpart}:{conn.server}\", case_insensitive = true }",
        "'userName eq' = { query = { filter = \"name = '{value|sql}'\" } }",
    );
    let m = compile_src(&src).unwrap_or_else(|e| panic!("{e:?}"));
    let rule = m.pushdown("username", "eq").expect("the search rule");
    let vars = Vars {
        offset: Some(0),
        limit: Some(10),
        value: Some("O'Brien"),
        search: Some(rule.query()),
        ..Vars::default()
    };
    let r = m.op(OpKind::List).unwrap().render(&vars, None).unwrap();
    assert!(
        r.path_and_query.parse::<http::Uri>().is_ok(),
        "{}",
        r.path_and_query
    );
    assert!(
        r.path_and_query
            .contains("filter=name%20%3D%20%27O%27%27Brien%27"),
        "{}",
        r.path_and_query
    );
}

/// A Flask-AppBuilder-style API: one Rison `q`, pages from 0.
const RISON: &str = r#"
[users.list]
get = "/api/v1/user/"
query = { q = { rison = { page = "{page}", page_size = "{limit}", order_column = "id" } } }
page_base = 0
max_page_size = 100
items = "$.result[*]"
total = "$.count"

[users.get]
get = "/api/v1/user/{id}"
item = "$.result"

[users.create]
post = "/api/v1/user/"

[users.update]
put = "/api/v1/user/{id}"

[users.search]
'userName eq' = { query = { q = { rison = { filters = [{ col = "username", opr = "eq", value = "{value}" }] } } }, case_insensitive = true }

[users.attributes]
userName = "$.username"
"#;

#[test]
fn zero_based_pages_and_one_composed_query() {
    let m = compile_src(RISON).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(m.paging(), Paging::Page { base: 0 });
    let plan = m.plan_pages(101, 100);
    assert_eq!(plan[0].page, Some(1));
    assert_eq!(m.plan_pages(1, 10)[0].page, Some(0));
    let rule = m.pushdown("userName", "eq").unwrap();
    let vars = Vars {
        page: Some(0),
        limit: Some(100),
        value: Some("o'neil+x@y.z"),
        value_of: Some(rule.attr()),
        search: Some(rule.query()),
        ..Vars::default()
    };
    let r = m.op(OpKind::List).unwrap().render(&vars, None).unwrap();
    let (path, q) = r.path_and_query.split_once('?').unwrap();
    assert_eq!(path, "/api/v1/user/");
    assert!(!q.contains('&'), "one parameter: {q}");
    let raw = percent_encoding::percent_decode_str(q.strip_prefix("q=").unwrap())
        .decode_utf8()
        .unwrap();
    let back = rison_decode(&raw).expect(&raw);
    assert_eq!(
        back,
        json!({"filters": [{"col": "username", "opr": "eq", "value": "o'neil+x@y.z"}],
               "order_column": "id", "page": 0, "page_size": 100})
    );
    let _: Value = back;
}

#[test]
fn structured_parameters_need_one_encoder() {
    let src = RISON.replace("q = { rison = { page", "q = { xml = { page");
    assert!(compile_src(&src).is_err());
    let src = RISON.replace("page_base = 0", "page_base = 2");
    let e = compile_src(&src).unwrap_err();
    assert!(e.iter().any(|e| e.key == "users.list.page_base"), "{e:?}");
}

#[test]
fn lints_warn_about_rules_that_cannot_work() {
    let src = CHAT
        .replace(
            "token = \"${CHAT_TOKEN}\" }",
            "token = \"${CHAT_TOKEN}\", deactivated = \"false\" }",
        )
        .replace(
            "'userName eq' = { get = \"/_admin/v2/users/@{localpart}:{conn.server}\", case_insensitive = true }",
            "'userName eq' = { query = { name = \"{value}\" } }\n'externalId co' = { query = { ext = \"{value}\" } }",
        )
        .replace("userName = \"$.login\"", "userName = \"$.login\"\ndisplayName = \"$.login\"");
    let f: File = toml::from_str(&src).unwrap();
    let mut raw = f.users;
    raw.unique = vec![toml::Spanned::new(0..0, "userName".to_owned())];
    let m = compile_with(
        &raw,
        ResourceKind::User,
        "users",
        &["server".to_owned()],
        &env,
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let w: Vec<String> = m.warnings().iter().map(ToString::to_string).collect();
    let has = |s: &str| w.iter().any(|x| x.contains(s));
    assert!(
        has("`displayName` and `userName` write the same host field"),
        "{w:?}"
    );
    assert!(has("only `eq` rules"), "{w:?}");
    assert!(has("is case-insensitive and this rule is not"), "{w:?}");
    assert!(has("query `deactivated` may hide"), "{w:?}");
    assert!(chat().warnings().is_empty(), "{:?}", chat().warnings());
    let src = CHAT.replace(
        "userName = \"$.login\"",
        "userName = \"$.login\"\nemails = { path = \"$.login\", fields = { value = \"$.address\" } }",
    );
    let m = compile_src(&src).unwrap_or_else(|e| panic!("{e:?}"));
    let w: Vec<String> = m.warnings().iter().map(ToString::to_string).collect();
    assert!(
        w.iter()
            .any(|x| x
                .contains("`emails` writes a whole list where `userName` writes a single value")),
        "{w:?}"
    );
}

#[test]
fn framing_headers_cannot_be_configured() {
    let src = CHAT.replace(
        "get = \"/_admin/v2/users/{id}\"",
        "get = \"/_admin/v2/users/{id}\"\nheaders = { Host = \"evil\", \"Content-Length\" = \"0\" }",
    );
    let e = compile_src(&src).unwrap_err();
    assert!(e.iter().any(|e| e.key == "users.get.headers.Host"), "{e:?}");
    assert!(
        e.iter()
            .any(|e| e.key == "users.get.headers.Content-Length"),
        "{e:?}"
    );
}

#[test]
fn a_reverse_lookup_names_the_id_in_its_answer() {
    let src = CHAT.replace(
        "case_insensitive = true }",
        "id = \"$.user_id\", case_insensitive = true }",
    );
    let m = compile_src(&src).unwrap_or_else(|e| panic!("{e:?}"));
    let rule = m.pushdown("userName", "eq").unwrap();
    assert!(rule.follows());
    assert_eq!(
        rule.followed_id(&json!({"user_id": "@a:example.org"})),
        Some("@a:example.org".to_owned())
    );
    assert_eq!(
        rule.followed_id(&json!({"user_id": 7})),
        Some("7".to_owned())
    );
    assert_eq!(rule.followed_id(&json!({"user_id": ""})), None);
    assert!(!chat().pushdown("userName", "eq").unwrap().follows());
    for bad in [
        "id = \"$.user_id\", item = \"$.user\", case_insensitive = true }",
        "id = \"$[\", case_insensitive = true }",
    ] {
        let e = compile_src(&CHAT.replace("case_insensitive = true }", bad)).unwrap_err();
        assert!(e.iter().any(|d| d.key.ends_with(".id")), "{bad}: {e:?}");
    }
}
