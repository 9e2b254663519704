//! Tests of placeholders written into string literals of an app's own
//! query language: each encoder keeps a hostile value one literal, on a
//! single-valued attribute's rule and a multi-valued one's, and a
//! placeholder left between quotes without one is a compile error.

use percent_encoding::percent_decode_str;

use crate::mapping::model::mapping::ResourceMapping;
use crate::mapping::model::ops::OpKind;
use crate::mapping::render::vars::Vars;

const QUOTED: &str = r#"
[users.list]
get = "/records"
query = { page = "{page}", perPage = "{limit}" }

[users.get]
get = "/records/{id}"

[users.create]
post = "/records"

[users.update]
patch = "/records/{id}"

[users.search]
'userName eq' = { query = { filter = "username='{value|sql}'" } }
'emails.value eq' = { query = { filter = "(mail={value|ldap})" } }
'externalId eq' = { query = { q = "external_id:{value|lucene}", where = { json = { name = "x \"{value|backslash}\"" } } } }

[users.attributes]
userName = "$.username"
emails = { path = "$.mails", fields = { value = "$.address" } }
externalId = "$.external_id"
"#;

fn compile_src(src: &str) -> Result<ResourceMapping, Vec<crate::diagnostic::Diagnostic>> {
    super::compile_users(src, &[], &|_| None)
}

/// The decoded value of query parameter `name` in a rendered lookup.
fn lookup_param(m: &ResourceMapping, attr: &str, value: &str, name: &str) -> String {
    let rule = m.pushdown(attr, "eq").expect("a rule");
    let vars = Vars {
        page: Some(1),
        limit: Some(10),
        value: Some(value),
        value_of: Some(rule.attr()),
        search: Some(rule.query()),
        ..Vars::default()
    };
    let r = m.op(OpKind::List).unwrap().render(&vars, None).unwrap();
    let (_, query) = r.path_and_query.split_once('?').unwrap();
    let raw = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {query}"));
    percent_decode_str(raw).decode_utf8().unwrap().into_owned()
}

#[test]
fn each_encoder_keeps_a_hostile_value_one_literal() {
    let m = compile_src(QUOTED).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        lookup_param(&m, "userName", "x' || username != '", "filter"),
        "username='x'' || username != '''"
    );
    assert_eq!(
        lookup_param(&m, "userName", "O'Brien", "filter"),
        "username='O''Brien'"
    );
    assert_eq!(
        lookup_param(&m, "emails.value", "*)(uid=*", "filter"),
        r"(mail=\2a\29\28uid=\2a)",
        "a multi-valued attribute's rule takes an encoder too"
    );
    assert_eq!(
        lookup_param(&m, "externalId", "a OR b:*", "q"),
        r"external_id:a\ OR\ b\:\*"
    );
    assert_eq!(
        lookup_param(&m, "externalId", r#"a"b\"#, "where"),
        r#"{"name":"x \"a\\\"b\\\\\""}"#,
        "escaped for the literal, then for the JSON document"
    );
}

#[test]
fn a_placeholder_between_quotes_needs_an_encoder() {
    for (template, name) in [
        ("username='{value}'", "{value}"),
        ("name = \\\"{value}\\\"", "{value}"),
        ("a='it''s' and b='{value}'", "{value}"),
    ] {
        let src = QUOTED.replace("username='{value|sql}'", template);
        let errs = compile_src(&src).expect_err(template);
        let text = format!("{errs:?}");
        assert!(text.contains("inside quotes"), "{template}: {text}");
        assert!(text.contains(name), "{template}: {text}");
        assert!(text.contains("users.search"), "{template}: {text}");
    }
    for fine in [
        "username={value}",
        "username='x' && name={value}",
        "a='\\\\'{value}'",
    ] {
        let src = QUOTED.replace("username='{value|sql}'", fine);
        let res = compile_src(&src);
        assert_eq!(
            res.is_ok(),
            !fine.starts_with("a="),
            "{fine}: {:?}",
            res.err()
        );
    }
    let src = QUOTED.replace("{value|sql}", "{value|shell}");
    let text = format!("{:?}", compile_src(&src).expect_err("unknown encoder"));
    assert!(text.contains("unknown encoder `shell`"), "{text}");
}
