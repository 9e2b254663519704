//! Tests for the filter parser, printer and evaluator (RFC 7644 §3.4.2.2).

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn p(s: &str) -> Filter {
    match parse(s) {
        Ok(f) => f,
        Err(e) => panic!("{s}: {e}"),
    }
}

fn cmp(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
    Filter::Compare { path, op, value }
}

fn s(v: &str) -> CompValue {
    CompValue::Str(v.to_owned())
}

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// RFC 7644 §3.4.2.2: every example filter of the section parses and prints
/// back to a string that re-parses to the same AST.
#[test]
fn rfc_examples_parse_and_round_trip() {
    let examples = [
        r#"userName eq "bjensen""#,
        r#"name.familyName co "O'Malley""#,
        r#"userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        "title pr",
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"title pr and userType eq "Employee""#,
        r#"title pr or userType eq "Intern""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ];
    for ex in examples {
        let f = p(ex);
        assert_eq!(p(&f.to_string()), f, "{ex} printed as {f}");
    }
}

/// RFC 7644 §3.4.2.2: "and" binds tighter than "or"; both associate left.
#[test]
fn precedence_not_and_or() {
    let f = p("a pr or b pr and c pr");
    let a = Filter::Present(AttrPath::simple("a"));
    let b = Filter::Present(AttrPath::simple("b"));
    let c = Filter::Present(AttrPath::simple("c"));
    let and = Filter::And(Box::new(b.clone()), Box::new(c.clone()));
    assert_eq!(f, Filter::Or(Box::new(a.clone()), Box::new(and)));
    let f = p("(a pr or b pr) and c pr");
    let or = Filter::Or(Box::new(a.clone()), Box::new(b.clone()));
    assert_eq!(f, Filter::And(Box::new(or), Box::new(c.clone())));
    let f = p("not (a pr) and b pr");
    let not = Filter::Not(Box::new(a.clone()));
    assert_eq!(f, Filter::And(Box::new(not), Box::new(b.clone())));
    let f = p("a pr or b pr or c pr");
    let ab = Filter::Or(Box::new(a), Box::new(b));
    assert_eq!(f, Filter::Or(Box::new(ab), Box::new(c)));
    assert_eq!(f.to_string(), "a pr or b pr or c pr");
    assert_eq!(
        p("a pr or (b pr or c pr)").to_string(),
        "a pr or (b pr or c pr)"
    );
}

/// RFC 7644 §3.4.2.2 with erratum 7319: `not(` without a space is accepted;
/// `not` without parentheses is not.
#[test]
fn not_with_and_without_space() {
    assert_eq!(p("not(title pr)"), p("not (title pr)"));
    assert_eq!(
        p("NOT (title pr)"),
        Filter::Not(Box::new(Filter::Present(AttrPath::simple("title"))))
    );
    let e = parse("not title pr").unwrap_err();
    assert_eq!(e.to_string(), r#"at position 4: expected "(" after "not""#);
}

/// RFC 7644 §3.4.2.2: operators and attribute names are case-insensitive.
#[test]
fn operators_and_keywords_case_insensitive() {
    let f = p(r#"userName EQ "x" AND active Eq TRUE Or x Pr"#);
    assert_eq!(
        f.to_string(),
        r#"userName eq "x" and active eq true or x pr"#
    );
    for (word, op) in [
        ("eq", CompareOp::Eq),
        ("ne", CompareOp::Ne),
        ("co", CompareOp::Co),
        ("sw", CompareOp::Sw),
        ("ew", CompareOp::Ew),
        ("gt", CompareOp::Gt),
        ("ge", CompareOp::Ge),
        ("lt", CompareOp::Lt),
        ("le", CompareOp::Le),
    ] {
        assert_eq!(
            p(&format!("a {word} 1")),
            cmp(AttrPath::simple("a"), op, CompValue::Number(1.into()))
        );
    }
}

/// RFC 7644 §3.4.2.2 `compValue = false / null / true / number / string`.
#[test]
fn comp_values() {
    assert_eq!(
        p("a eq null"),
        cmp(AttrPath::simple("a"), CompareOp::Eq, CompValue::Null)
    );
    assert_eq!(
        p("a eq false"),
        cmp(AttrPath::simple("a"), CompareOp::Eq, CompValue::Bool(false))
    );
    assert_eq!(
        p("a gt -1.5e3"),
        cmp(
            AttrPath::simple("a"),
            CompareOp::Gt,
            CompValue::Number("-1.5e3".parse().unwrap())
        )
    );
    assert_eq!(
        p(r#"a eq "q\"\\\u00e9\n""#),
        cmp(AttrPath::simple("a"), CompareOp::Eq, s("q\"\\é\n"))
    );
    let e = parse("userName eq bjensen").unwrap_err();
    assert_eq!(e.position, 12);
    assert!(e.message.starts_with("expected a value"), "{e}");
}

/// RFC 7644 §3.10: URN-qualified attributes; the URN is everything up to the last `:`.
#[test]
fn urn_qualified_paths() {
    let f = p(&format!(r#"{ENT}:department eq "Sales""#));
    let path = AttrPath {
        urn: Some(ENT.into()),
        name: "department".into(),
        sub: None,
    };
    assert_eq!(
        path.key(),
        format!("{}:department", ENT.to_ascii_lowercase())
    );
    assert_eq!(f, cmp(path, CompareOp::Eq, s("Sales")));
    let f = p(&format!(r#"{ENT}:manager.value eq "26118915""#));
    let Filter::Compare { path, .. } = f else {
        panic!("not a compare")
    };
    assert_eq!(
        (path.name.as_str(), path.sub.as_deref()),
        ("manager", Some("value"))
    );
    let core = p(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "x""#);
    let Filter::Compare { path, .. } = core else {
        panic!("not a compare")
    };
    assert_eq!(path.key(), "name.givenname");
}

/// RFC 7644 §3.4.2.2 valuePath, and Entra's `emails[type eq "work"].value eq "…"`.
#[test]
fn value_paths() {
    let f = p(r#"emails[type eq "work" and value co "@x.com"]"#);
    let Filter::ValuePath { path, filter } = &f else {
        panic!("not a value path")
    };
    assert_eq!(path, &AttrPath::simple("emails"));
    assert!(matches!(**filter, Filter::And(..)));
    let entra = p(r#"emails[type eq "work"].value eq "a@x.com""#);
    assert_eq!(entra, p(r#"emails[type eq "work" and value eq "a@x.com"]"#));
    assert!(parse(r#"emails[type eq "work"].value"#).is_err());
    assert_eq!(
        parse(r#"a[b[c pr]]"#).unwrap_err().message,
        "value paths cannot be nested"
    );
    assert!(parse(r#"name.x[c pr]"#).is_err());
}

/// RFC 7644 §3.12: malformed filters give `invalidFilter` with a byte position.
#[test]
fn error_positions_and_messages() {
    let e = parse("userName").unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"at position 8: expected a comparison operator after "userName""#
    );
    assert_eq!(e.scim_type(), "invalidFilter");
    // Okta SPEC test step 15: a bare value is a malformed filter (idp-behavior §2.3).
    assert!(parse("RANDOMUSERNAMECAPS").is_err());
    assert_eq!(parse(r#"userName xx "a""#).unwrap_err().position, 9);
    assert_eq!(
        parse(r#"(a pr"#).unwrap_err().to_string(),
        r#"at position 5: expected ")""#
    );
    assert_eq!(parse(r#"a pr b pr"#).unwrap_err().position, 5);
    assert_eq!(parse(r#"a pr and"#).unwrap_err().position, 8);
    assert_eq!(parse("").unwrap_err().position, 0);
    assert_eq!(parse("1abc pr").unwrap_err().position, 0);
    assert!(parse("a:b eq 1").is_err());
    assert!(parse("a.b.c eq 1").is_err());
}

/// Limits (RFC 7644 §7 robustness): length, depth and term count.
#[test]
fn limits_reject_hostile_input() {
    let long = format!(r#"a eq "{}""#, "x".repeat(5000));
    assert!(
        parse(&long)
            .unwrap_err()
            .message
            .contains("longer than 4096")
    );
    let limits = FilterLimits {
        max_len: 10_000_000,
        max_depth: 32,
        max_terms: 100,
    };
    let deep = format!("{}a pr{}", "(".repeat(100_000), ")".repeat(100_000));
    let e = parse_with(&deep, &limits).unwrap_err();
    assert_eq!(e.message, "filter is nested deeper than 32 levels");
    let deep_not = "not(".repeat(50_000);
    assert!(parse_with(&deep_not, &limits).is_err());
    let ok_depth = format!("{}a pr{}", "(".repeat(32), ")".repeat(32));
    assert!(parse(&ok_depth).is_ok());
    let many = vec!["a pr"; 101].join(" and ");
    assert_eq!(
        parse(&many).unwrap_err().message,
        "filter has more than 100 terms"
    );
    assert!(parse(&vec!["a pr"; 100].join(" or ")).is_ok());
}

/// RFC 7644 §3.5.2 `PATH = attrPath / valuePath [subAttr]`.
#[test]
fn patch_paths() {
    let pp = parse_path(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#).unwrap();
    assert_eq!(pp.attr, AttrPath::simple("members"));
    assert!(pp.filter.is_some() && pp.sub.is_none());
    let pp = parse_path(r#"emails[type eq "work"].value"#).unwrap();
    assert_eq!(pp.sub.as_deref(), Some("value"));
    assert_eq!(pp.to_string(), r#"emails[type eq "work"].value"#);
    let pp = parse_path(&format!("{ENT}:manager")).unwrap();
    assert_eq!(pp.attr.extension(), Some(ENT));
    let pp = parse_path("name.familyName").unwrap();
    assert_eq!(pp.attr, AttrPath::with_sub("name", "familyName"));
    let pp = parse_path(r#"members[value eq "2819c223"].displayName"#).unwrap();
    assert_eq!(pp.sub.as_deref(), Some("displayName"));
    for bad in [
        "",
        "emails[type eq",
        r#"emails[type eq "w"]x"#,
        r#"emails[type eq "w"]."#,
        "a b",
        "name.givenName[x pr]",
    ] {
        assert!(parse_path(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_path("emails[type eq").unwrap_err().position, 14);
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "Ext-1",
        "userName": "BJensen@example.com",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "title": "",
        "userType": "Employee",
        "active": true,
        "loginCount": 42,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34.5+02:00"},
        ENT: {"department": "Tour Operations", "manager": {"value": "26118915"}}
    })
}

fn m(filter: &str) -> bool {
    matches(
        &p(filter),
        &user(),
        &crate::schema::ResourceSchema::rfc7643_user(),
    )
}

/// RFC 7644 §3.4.2.2 with RFC 7643 §2.2 caseExact: userName is case-insensitive,
/// id and externalId are case-exact; attribute names match keys case-insensitively.
#[test]
fn eval_strings_and_case_exact() {
    assert!(m(r#"userName eq "bjensen@EXAMPLE.com""#));
    assert!(m(r#"USERNAME sw "bjen""#));
    assert!(m(r#"userName ew "@example.COM""#));
    assert!(m(r#"name.familyName co "ens""#));
    assert!(m(r#"externalId eq "Ext-1""#));
    assert!(!m(r#"externalId eq "ext-1""#));
    assert!(!m(r#"id eq "2819C223-7F76-453A-919D-413861904646""#));
    assert!(m(r#"userName ne "someone""#));
    assert!(!m(r#"userName ne "bjensen@example.com""#));
    assert!(m(r#"userName gt "a" and userName lt "c""#));
}

/// RFC 7644 §3.4.2.2: multi-valued attributes match if any value matches;
/// a complex multi-valued attribute without sub-attribute compares `value`.
#[test]
fn eval_multi_valued() {
    assert!(m(r#"emails co "jensen.org""#));
    assert!(m(r#"emails.type eq "home""#));
    assert!(m(r#"emails[type eq "work" and value co "@example.com"]"#));
    assert!(!m(r#"emails[type eq "home" and value co "@example.com"]"#));
    assert!(m(
        r#"emails[type eq "work"].value eq "BJENSEN@example.com""#
    ));
    assert!(m(r#"emails[primary eq true]"#));
    assert!(m(r#"name[givenName eq "barbara"]"#));
    assert!(m(
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#
    ));
}

/// RFC 7644 §3.4.2.2 `pr`: present and non-empty; `eq null` means unassigned.
#[test]
fn eval_present_and_null() {
    assert!(m("userName pr"));
    assert!(!m("title pr"));
    assert!(!m("nickName pr"));
    assert!(m("emails pr"));
    assert!(m("nickName eq null"));
    assert!(m("title eq null"));
    assert!(m("userName ne null"));
    assert!(m("not (nickName pr)"));
}

/// RFC 7644 §3.4.2.2: booleans only eq/ne; numbers numerically; dateTimes as instants.
#[test]
fn eval_types() {
    assert!(m("active eq true"));
    assert!(!m("active ne true"));
    assert!(!m("active gt false"));
    assert!(!m("active lt null"));
    assert!(m("loginCount gt 41.5 and loginCount le 42"));
    assert!(!m(r#"loginCount eq "42""#));
    // 04:42:34.5+02:00 is 02:42:34.5Z: earlier than 03:00Z although it sorts later as text.
    assert!(m(r#"meta.lastModified lt "2011-05-13T03:00:00Z""#));
    assert!(m(r#"meta.lastModified gt "2011-05-13T02:42:34.4999Z""#));
    assert!(m(r#"meta.lastModified eq "2011-05-13T02:42:34.500Z""#));
    assert!(m(r#"meta.created ge "2010-01-23T04:56:22+00:00""#));
}

/// RFC 7644 §3.10 URN-qualified attributes are read from the extension object.
#[test]
fn eval_extension_attributes() {
    assert!(m(&format!(r#"{ENT}:department eq "tour operations""#)));
    assert!(m(&format!(r#"{ENT}:manager.value eq "26118915""#)));
    assert!(m(&format!(r#"{ENT}:manager eq "26118915""#)));
    assert!(!m(&format!(r#"{ENT}:department eq "Sales""#)));
    assert!(m(
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#
    ));
    // idp-behavior §3.1(j): `id eq … and manager eq …`
    assert!(m(&format!(
        r#"id eq "2819c223-7f76-453a-919d-413861904646" and {ENT}:manager eq "26118915""#
    )));
}

/// idp-behavior §2.2(c)/(k), §3.1(a)/(c)/(j): the IdP filter shapes.
#[test]
fn idp_filter_shapes() {
    assert!(m(r#"userName eq "bjensen@example.com""#));
    assert!(!m(r#"userName eq "3b2e5a4c-6f1d-4c1e-9d2b-1a2b3c4d5e6f""#));
    assert!(m(r#"externalId eq "Ext-1""#));
    let group =
        json!({"displayName": "Test SCIMv2", "members": [{"value": "u1"}, {"value": "u2"}]});
    assert!(matches(
        &p(r#"displayName eq "Test SCIMv2""#),
        &group,
        &crate::schema::ResourceSchema::rfc7643_user()
    ));
    assert!(matches(
        &p(r#"DisplayName eq "test scimv2""#),
        &group,
        &crate::schema::ResourceSchema::rfc7643_user()
    ));
    assert!(matches(
        &p(r#"members eq "u2""#),
        &group,
        &crate::schema::ResourceSchema::rfc7643_user()
    ));
    assert!(matches(
        &p(r#"members.value eq "u1" and displayName eq "Test SCIMv2""#),
        &group,
        &crate::schema::ResourceSchema::rfc7643_user()
    ));
    assert!(!matches(
        &p(r#"members.value eq "u3""#),
        &group,
        &crate::schema::ResourceSchema::rfc7643_user()
    ));
}

fn name_strategy() -> impl Strategy<Value = String> {
    "[a-zA-Z$][a-zA-Z0-9_-]{0,6}".prop_filter("keyword", |n| {
        !n.eq_ignore_ascii_case("not") && (n.len() > 1 || n != "$")
    })
}

fn path_strategy() -> impl Strategy<Value = AttrPath> {
    let urn = prop_oneof![
        Just(None),
        Just(Some(ENT.to_owned())),
        Just(Some("urn:x:y-1:2.0:Z".to_owned()))
    ];
    (urn, name_strategy(), proptest::option::of(name_strategy()))
        .prop_map(|(urn, name, sub)| AttrPath { urn, name, sub })
}

fn value_strategy() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|n| CompValue::Number(n.into())),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(CompValue::Number)),
        any::<String>().prop_map(CompValue::Str),
    ]
}

fn op_strategy() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Co),
        Just(CompareOp::Sw),
        Just(CompareOp::Ew),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le)
    ]
}

fn leaf_strategy() -> impl Strategy<Value = Filter> {
    prop_oneof![
        path_strategy().prop_map(Filter::Present),
        (path_strategy(), op_strategy(), value_strategy())
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
    ]
}

fn logic(leaf: BoxedStrategy<Filter>) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
    .boxed()
}

fn filter_strategy() -> impl Strategy<Value = Filter> {
    let value_path = (path_strategy(), logic(leaf_strategy().boxed())).prop_map(|(mut path, f)| {
        path.sub = None;
        Filter::ValuePath {
            path,
            filter: Box::new(f),
        }
    });
    logic(prop_oneof![3 => leaf_strategy(), 1 => value_path].boxed())
}

proptest! {
    /// Canonical Display re-parses to the same AST.
    #[test]
    fn printed_filters_reparse(f in filter_strategy()) {
        let printed = f.to_string();
        let limits = FilterLimits { max_len: 1 << 20, max_depth: 64, max_terms: 1000 };
        prop_assert_eq!(parse_with(&printed, &limits), Ok(f), "{}", printed);
    }

    /// No input panics the parser, filter or path.
    #[test]
    fn arbitrary_input_never_panics(input in any::<String>()) {
        let _ = parse(&input);
        let _ = parse_path(&input);
    }

    /// Filter-shaped noise never panics, and evaluation of what parses never panics.
    #[test]
    fn filterish_input_never_panics(input in r#"[a-z \[\]().:"\\0-9-]{0,80}|(not|and|or|eq|pr|\(|\)|\[|\]|"x"|1|a|\.| ){0,30}"#) {
        if let Ok(f) = parse(&input) {
            let _ = matches(&f, &user(), &crate::schema::ResourceSchema::rfc7643_user());
        }
        let _ = parse_path(&input);
    }
}

/// Found by fuzzing: a sub-attribute named `not` after a value filter
/// printed as `emails[type pr and not pr]`, which does not re-parse.
#[test]
fn value_path_sub_named_not_is_rejected() {
    for input in [
        r#"emails[type pr].not pr"#,
        r#"emails[type eq "work"].NOT eq "x""#,
    ] {
        assert!(parse(input).is_err(), "{input}");
    }
    let ok = parse(r#"emails[type pr].pr pr"#).expect("a sub-attribute named pr is fine");
    assert_eq!(parse(&ok.to_string()).unwrap(), ok);
}
