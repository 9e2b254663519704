//! Tests of the compiled mapping against the bundled example app's mapping
//! (`testdata/example.toml`) and of compile errors.

mod direct;
mod groups;
mod quoting;
mod shapes;
mod templates;
mod writes;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, line_col};
use crate::error::ScimType;
use crate::mapping::error::MapError;
use crate::mapping::eval::write::HostChanges;
use crate::mapping::model::error_rules::ErrorOutcome;
use crate::mapping::model::mapping::{ResourceKind, ResourceMapping, Unmapped};
use crate::mapping::model::ops::{OpKind, PageRequest, Paging};
use crate::mapping::raw::ResourceToml;
use crate::mapping::render::vars::Vars;
use crate::mapping::{EnvLookup, compile, compile_with};
use crate::protocol::filter;
use crate::schema::{AttrType, ENTERPRISE_USER_URN, Mutability, USER_URN, Uniqueness};

const EXAMPLE: &str = include_str!("testdata/example.toml");

/// The `[users]` table of a config text.
#[derive(Deserialize)]
pub(super) struct File {
    pub(super) users: ResourceToml,
}

/// Compiles the `[users]` table of a config text with the connection
/// variables `vars` and `${NAME}` expanded from `env`; shared by the
/// mapping's test files.
pub(super) fn compile_users(
    src: &str,
    vars: &[&str],
    env: EnvLookup<'_>,
) -> Result<ResourceMapping, Vec<Diagnostic>> {
    let f: File = toml::from_str(src).map_err(|e| vec![Diagnostic::key("", e.to_string())])?;
    let vars: Vec<String> = vars.iter().map(|v| (*v).to_owned()).collect();
    compile_with(&f.users, ResourceKind::User, "users", &vars, env)
}

fn compile_src(src: &str) -> Result<ResourceMapping, Vec<Diagnostic>> {
    compile_users(src, &["api_key"], &|_| None)
}

fn example() -> ResourceMapping {
    match compile_src(EXAMPLE) {
        Ok(m) => m,
        Err(e) => panic!("example mapping must compile: {e:?}"),
    }
}

fn host_user() -> Value {
    json!({
        "id": 1001, "login": "ada@example.com", "external_id": "00u1",
        "profile": {"first": "Ada", "last": "Lovelace", "display": "Ada L", "title": "Countess"},
        "contact": {"email": "ada@example.com", "phones": [{"kind": "mobile", "number": "+1 555"}, {"kind": "office", "number": "+1 556"}]},
        "state": "SUSPENDED", "dept": "R&D", "locale": "en_GB",
        "created_at": 1_700_000_000, "updated_at": 1_700_000_060, "version": 3
    })
}

#[test]
fn to_scim_builds_the_full_resource() {
    let m = example();
    let scim = m.to_scim(&host_user()).unwrap();
    let want = json!({
        "schemas": [USER_URN, ENTERPRISE_USER_URN],
        "id": "1001",
        "userName": "ada@example.com",
        "externalId": "00u1",
        "name": {"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
        "displayName": "Ada L",
        "title": "Countess",
        "locale": "en-GB",
        "emails": [{"type": "work", "value": "ada@example.com", "primary": true}],
        "phoneNumbers": [{"type": "mobile", "value": "+1 555"}, {"type": "work", "value": "+1 556"}],
        "active": false,
        ENTERPRISE_USER_URN: {"department": "R&D"},
        "meta": {"resourceType": "User", "created": "2023-11-14T22:13:20Z", "lastModified": "2023-11-14T22:14:20Z", "version": "W/\"3\""}
    });
    assert_eq!(scim, want);
}

#[test]
fn to_scim_requires_an_id_and_reports_bad_host_values() {
    let m = example();
    assert_eq!(m.to_scim(&json!({"login": "x"})), Err(MapError::MissingId));
    let mut bad = host_user();
    bad["created_at"] = json!({"not": "a number"});
    assert!(
        matches!(m.to_scim(&bad), Err(MapError::HostValue { attr, .. }) if attr == "meta.created")
    );
}

#[test]
fn to_host_writes_every_writable_attribute() {
    let m = example();
    let okta = json!({
        "schemas": [USER_URN], "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": " Test.User@Okta.local ", "type": "work"}],
        "displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [], "password": "1mz050nq", "active": true,
        "phoneNumbers": [{"type": "work", "value": "+1 556"}],
        ENTERPRISE_USER_URN: {"department": "Ops"}
    });
    let host = m.to_host(&okta).unwrap();
    assert_eq!(
        host,
        json!({
            "login": "test.user@okta.local", "external_id": "00ujl29u0le5T6Aj10h7",
            "profile": {"first": "Test", "last": "User", "display": "Test User"},
            "contact": {"email": "test.user@okta.local", "phones": [{"kind": "office", "number": "+1 556"}]},
            "locale": "en_US", "dept": "Ops"
        })
    );
    // `active` goes through suspend/unsuspend, so it is not a body field.
    assert!(m.active_via_actions());
}

#[test]
fn to_host_rejects_wrong_types_naming_the_attribute() {
    let m = example();
    let e = m.to_host(&json!({"userName": 42})).unwrap_err();
    assert_eq!(
        e.to_string(),
        "attribute `userName`: expected a string value"
    );
    let e = m
        .to_host(&json!({"phoneNumbers": [{"type": "pager", "value": "1"}]}))
        .unwrap_err();
    assert!(matches!(e, MapError::InvalidValue { attr, .. } if attr == "type"));
    assert!(m.to_host(&json!({"phoneNumbers": "555"})).is_err());
}

#[test]
fn to_host_replace_clears_absent_values() {
    let m = example();
    let host = m.to_host_replace(&json!({"userName": "a"})).unwrap();
    assert_eq!(host["login"], json!("a"));
    assert_eq!(host["profile"]["title"], Value::Null);
    assert_eq!(host["contact"]["email"], Value::Null);
    assert!(
        host.get("state").is_none(),
        "active is an action, never a field"
    );
}

#[test]
fn round_trip_on_the_mapped_subset() {
    let m = example();
    let scim = m.to_scim(&host_user()).unwrap();
    let mut host = m.to_host(&scim).unwrap();
    // Read-only fields come from the app; copy them to stand in for it.
    for k in ["id", "state", "created_at", "updated_at", "version"] {
        host[k] = host_user()[k].clone();
    }
    assert_eq!(m.to_scim(&host).unwrap(), scim);
    assert_eq!(host["contact"], host_user()["contact"]);
    assert_eq!(host["profile"], host_user()["profile"]);
}

#[test]
fn changes_to_host_sends_only_the_diff() {
    let m = example();
    let before = m.to_scim(&host_user()).unwrap();
    let mut after = before.clone();
    after["title"] = json!("Engineer");
    after["name"]["givenName"] = json!("Augusta");
    after["active"] = json!(true);
    after.as_object_mut().unwrap().remove("externalId");
    let ch = m.changes_to_host(&before, &after).unwrap();
    assert_eq!(
        ch.body,
        Some(json!({"profile": {"title": "Engineer", "first": "Augusta"}, "external_id": null}))
    );
    assert_eq!(ch.active_change, Some(true));
    let none = m.changes_to_host(&before, &before).unwrap();
    assert_eq!(none, HostChanges::default());
    // Entra sends "False" as a string.
    let mut entra = before.clone();
    entra["active"] = json!("False");
    let mut on = before.clone();
    on["active"] = json!(true);
    assert_eq!(
        m.changes_to_host(&on, &entra).unwrap().active_change,
        Some(false)
    );
}

#[test]
fn unmapped_attributes_are_listed() {
    let m = example();
    let body = json!({
        "schemas": [USER_URN], "id": "1", "meta": {}, "userName": "u", "groups": [],
        "password": "x", "nickName": "n", "name": {"givenName": "a", "middleName": "m"},
        "emails": [{"type": "work", "value": "a@b"}, {"type": "home", "value": "c@d"}],
        ENTERPRISE_USER_URN: {"department": "d", "costCenter": "c"},
        "urn:example:custom": {"x": 1}
    });
    let mut got = m.unmapped_attributes(&body);
    got.sort();
    let mut want = vec![
        "password".to_owned(),
        "nickName".to_owned(),
        "name.middleName".to_owned(),
        "emails[type eq \"home\"]".to_owned(),
        format!("{ENTERPRISE_USER_URN}:costCenter"),
        "urn:example:custom".to_owned(),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(m.unmapped_policy(), Unmapped::Ignore);
}

#[test]
fn requests_render_with_encoded_ids_and_headers() {
    let m = example();
    let conn = BTreeMap::from([("api_key".to_owned(), "k1".to_owned())]);
    let vars = Vars {
        id: Some("../admin"),
        conn: Some(&conn),
        ..Vars::default()
    };
    let r = m
        .op(OpKind::Deactivate)
        .unwrap()
        .render(&vars, None)
        .unwrap();
    assert_eq!(r.method, http::Method::POST);
    assert_eq!(r.path_and_query, "/api/users/..%2Fadmin/suspend");
    assert_eq!(r.headers[0].0.as_str(), "x-api-key");
    assert_eq!(r.headers[0].1, "k1");
    let bad = BTreeMap::from([("api_key".to_owned(), "k\r\nX: y".to_owned())]);
    let vars = Vars {
        id: Some("1"),
        conn: Some(&bad),
        ..Vars::default()
    };
    assert!(m.op(OpKind::Get).unwrap().render(&vars, None).is_err());
}

#[test]
fn list_renders_paging_and_pushdown() {
    let m = example();
    let conn = BTreeMap::from([("api_key".to_owned(), "k".to_owned())]);
    let rule = m.pushdown("USERNAME", "EQ").unwrap();
    assert!(rule.case_insensitive());
    let vars = Vars {
        offset: Some(0),
        limit: Some(100),
        conn: Some(&conn),
        value: Some("Ada+x@example.com"),
        value_of: Some(rule.attr()),
        search: Some(rule.query()),
        ..Vars::default()
    };
    let r = m.op(OpKind::List).unwrap().render(&vars, None).unwrap();
    assert_eq!(
        r.path_and_query,
        "/api/users?limit=100&offset=0&login=Ada%2Bx%40example.com"
    );
    assert!(m.pushdown("emails.VALUE", "eq").is_some());
    assert!(m.pushdown("displayName", "eq").is_none());
    assert_eq!(m.unique_before_create(), ["userName"]);
}

#[test]
fn pages_are_planned_under_the_cap() {
    let m = example();
    assert_eq!(m.paging(), Paging::Offset { base: 0 });
    let plan = m.plan_pages(101, 150);
    assert_eq!(plan.len(), 2);
    assert_eq!((plan[0].offset, plan[0].limit), (Some(100), Some(100)));
    assert_eq!(
        (plan[1].offset, plan[1].limit, plan[1].take),
        (Some(200), Some(50), 50)
    );
    let page = m
        .extract_page(json!({"items": [{"id": "1"}, {"id": "2"}], "total": 7}))
        .unwrap();
    assert_eq!((page.items.len(), page.total), (2, Some(7)));
}

#[test]
fn page_paging_skips_into_unaligned_pages() {
    let src = EXAMPLE.replace(
        "query = { offset = \"{offset}\", limit = \"{limit}\" }",
        "query = { page = \"{page}\", per_page = \"{per_page}\" }",
    );
    let m = compile_src(&src).unwrap();
    assert_eq!(m.paging(), Paging::Page { base: 1 });
    let plan = m.plan_pages(151, 100);
    let want = [
        PageRequest {
            offset: None,
            limit: Some(100),
            page: Some(2),
            skip: 50,
            take: 50,
        },
        PageRequest {
            offset: None,
            limit: Some(100),
            page: Some(3),
            skip: 0,
            take: 50,
        },
    ];
    assert_eq!(plan, want);
}

#[test]
fn created_id_from_body_or_location() {
    let m = example();
    assert_eq!(
        m.created_id(Some(&json!({"id": "1004"})), None).as_deref(),
        Some("1004")
    );
    assert_eq!(
        m.created_id(Some(&json!({"id": 7})), None).as_deref(),
        Some("7")
    );
    assert_eq!(
        m.created_id(None, Some("http://app/api/users/a%20b?x=1"))
            .as_deref(),
        Some("a b")
    );
    assert_eq!(m.created_id(Some(&json!({})), None), None);
    assert!(m.op(OpKind::Create).unwrap().then_get());
}

#[test]
fn errors_translate_with_ok_and_defaults() {
    let m = example();
    let taken = json!({"error": {"code": "taken", "field": "login"}});
    assert_eq!(
        m.translate_error(OpKind::Create, 422, Some(&taken)),
        ErrorOutcome::Scim {
            status: 409,
            scim_type: Some(ScimType::Uniqueness),
            detail: "userName is already taken".into()
        }
    );
    let other = json!({"error": {"code": "short"}});
    assert!(matches!(
        m.translate_error(OpKind::Create, 422, Some(&other)),
        ErrorOutcome::Scim { status: 400, .. }
    ));
    let done = json!({"error": {"code": "already_suspended"}});
    assert_eq!(
        m.translate_error(OpKind::Deactivate, 409, Some(&done)),
        ErrorOutcome::Success
    );
    assert_eq!(
        m.translate_error(OpKind::Activate, 409, Some(&done)),
        ErrorOutcome::Default
    );
    assert_eq!(
        m.translate_error(OpKind::Get, 404, None),
        ErrorOutcome::Default
    );
}

#[test]
fn discovery_lists_mapped_attributes() {
    let m = example();
    let s = m.schema();
    let name = s.attribute(None, "name").unwrap();
    let mut subs: Vec<&str> = name
        .sub_attributes
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    subs.sort();
    assert_eq!(subs, ["familyName", "formatted", "givenName"]);
    let formatted = name
        .sub_attributes
        .iter()
        .find(|s| s.name == "formatted")
        .unwrap();
    assert_eq!(formatted.mutability, Mutability::ReadOnly);
    let user_name = s.attribute(None, "userName").unwrap();
    assert!(user_name.required && !user_name.case_exact);
    assert!(
        s.attribute(Some(ENTERPRISE_USER_URN), "department")
            .is_some()
    );
    assert!(s.attribute(None, "password").is_none());
    assert_eq!(s.mutability(None, "id", None), Some(Mutability::ReadOnly));
}

#[test]
fn a_split_on_read_is_refused() {
    let src = EXAMPLE.replace(
        "title            = \"$.profile.title\"",
        "title = { path = \"$.profile.title\", transform = [{ split = \",\" }] }",
    );
    let errs = compile_src(&src).unwrap_err();
    assert!(
        errs.iter()
            .any(|e| e.key == "users.attributes.title" && e.message.contains("split")),
        "{errs:?}"
    );
    let ok = EXAMPLE.replace(
        "title            = \"$.profile.title\"",
        "title = { path = \"$.profile.titles\", transform = [{ join = \",\" }] }",
    );
    assert!(compile_src(&ok).is_ok());
}

#[test]
fn compile_errors_carry_keys_and_spans() {
    let src = r#"
[users]
unmapped = "sometimes"
list = { get = "/api/users", query = { q = "{bogus}" } }
get = { get = "/api/users/{id}" }
create = { post = "/api/users" }

[users.attributes]
userName = "$.login["
nickname_typo = "$.x"
"name.givenName" = "$.a[*]"
displayName = { template = "{$.a} {$.b}", mutability = "readWrite" }
active = { path = "$.s", map = { true = "A", false = "A" } }
title = { path = "$.t", transform = ["rot13"] }
"#;
    let errs = compile_src(src).unwrap_err();
    let find = |key: &str| {
        errs.iter()
            .find(|e| e.key == key)
            .unwrap_or_else(|| panic!("no error for {key}: {errs:#?}"))
    };
    let text = |e: &Diagnostic| &src[e.span.clone().unwrap()];
    assert_eq!(text(find("users.unmapped")), "\"sometimes\"");
    assert_eq!(text(find("users.list.query.q")), "\"{bogus}\"");
    assert!(
        find("users.list.query.q")
            .message
            .contains("unknown placeholder `{bogus}`")
    );
    let bad_path = find("users.attributes.userName");
    assert_eq!(
        bad_path.message,
        "invalid JSONPath: expected selector at 1:9"
    );
    assert_eq!(line_col(src, bad_path.span.clone().unwrap().start), (9, 12));
    assert_eq!(
        text(find("users.attributes.nickname_typo")),
        "nickname_typo"
    );
    assert!(
        find("users.attributes.\"name.givenName\"")
            .message
            .contains("not a writable path")
    );
    assert!(
        find("users.attributes.displayName.mutability")
            .message
            .contains("readOnly")
    );
    assert!(
        find("users.attributes.active.map")
            .message
            .contains("mapped twice")
    );
    assert_eq!(text(find("users.attributes.title.transform")), "\"rot13\"");
    assert!(
        errs.iter()
            .any(|e| e.key == "users" && e.message.contains("update"))
    );
}

#[test]
fn unknown_toml_keys_are_rejected() {
    let errs = compile_src("[users]\nlist = { get = \"/x\", itmes = \"$.a\" }\n").unwrap_err();
    assert!(
        errs[0].message.contains("unknown field `itmes`"),
        "{errs:?}"
    );
}

#[test]
fn custom_extensions_and_conn_vars() {
    let src = format!(
        "{EXAMPLE}\n[[users.extensions]]\nurn = \"urn:example:params:scim:schemas:extension:acme:2.0:User\"\nattributes = {{ badge = \"string\" }}\n"
    )
    .replace("title            = \"$.profile.title\"", "title = \"$.profile.title\"\n\"urn:example:params:scim:schemas:extension:acme:2.0:User:badge\" = \"$.badge\"");
    let m = compile_src(&src).unwrap();
    let mut host = host_user();
    host["badge"] = json!("B-7");
    let scim = m.to_scim(&host).unwrap();
    assert_eq!(
        scim["urn:example:params:scim:schemas:extension:acme:2.0:User"]["badge"],
        json!("B-7")
    );
    assert!(scim["schemas"].as_array().unwrap().contains(&json!(
        "urn:example:params:scim:schemas:extension:acme:2.0:User"
    )));
    let errs = compile(
        &toml::from_str::<File>(EXAMPLE).unwrap().users,
        ResourceKind::User,
        "users",
        &[],
    )
    .unwrap_err();
    assert!(
        errs.iter()
            .all(|e| e.message.contains("unknown connection variable `api_key`"))
    );
    assert_eq!(errs.len(), 7);
}

#[test]
fn custom_extension_types_drive_filters_and_schemas() {
    const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";
    let src = format!(
        "{EXAMPLE}\n[[users.extensions]]\nurn = \"{ACME}\"\nattributes = {{ hiredAt = \"dateTime\", remote = \"boolean\" }}\n"
    )
    .replace(
        "title            = \"$.profile.title\"",
        &format!("title = \"$.profile.title\"\n\"{ACME}:hiredAt\" = \"$.hired\"\n\"{ACME}:remote\" = \"$.remote\""),
    );
    let m = compile_src(&src).unwrap();
    let mut host = host_user();
    host["hired"] = json!("2024-01-01T09:30:00+01:00");
    host["remote"] = json!("true");
    let scim = m.to_scim(&host).unwrap();
    assert_eq!(scim[ACME]["remote"], json!(true), "a real JSON boolean");
    let hits = |f: &str| filter::matches(&filter::parse(f).unwrap(), &scim, m.schema());
    // 09:30+01:00 is 08:30Z: compared as instants, not as strings.
    assert!(hits(&format!(
        r#"{ACME}:hiredAt lt "2024-01-01T08:45:00Z""#
    )));
    assert!(!hits(&format!(
        r#"{ACME}:hiredAt gt "2024-01-01T08:45:00Z""#
    )));
    assert!(hits(&format!("{ACME}:remote eq true")));
    let ext = m.schema().schema(ACME).unwrap();
    assert_eq!(ext.attr("hiredAt").unwrap().ty, AttrType::DateTime);
    // A timestamp without a zone, or an epoch number, names its fix.
    for (value, fix) in [
        (json!("2024-05-01 12:00:03.25"), "naive_utc"),
        (json!("2024-05-01T12:00:03"), "naive_utc"),
        (json!(1714564803), "epoch_seconds"),
    ] {
        host["hired"] = value.clone();
        match m.to_scim(&host) {
            Err(MapError::HostValue { message, .. }) => {
                assert!(message.contains(fix), "{value}: {message}")
            }
            other => panic!("{value}: {other:?}"),
        }
    }
}

#[test]
fn the_schema_declares_what_responses_carry() {
    let m = example();
    let s = m.schema();
    let emails = s.attribute(None, "emails").unwrap();
    let subs: Vec<&str> = emails
        .sub_attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(subs, ["value", "type", "primary"]);
    assert_eq!(emails.sub("type").unwrap().canonical_values, ["work"]);
    let phone_types = &s
        .attribute(None, "phoneNumbers")
        .unwrap()
        .sub("type")
        .unwrap()
        .canonical_values;
    assert_eq!(
        phone_types,
        &["mobile", "work"],
        "what the value map can store"
    );
    assert_eq!(
        s.attribute(None, "userName").unwrap().uniqueness,
        Uniqueness::Server
    );
    let scim = m.to_scim(&host_user()).unwrap();
    assert_eq!(scim["emails"][0]["primary"], json!(true));
}

#[test]
fn compiled_mapping_is_send_and_sync() {
    fn shareable<T: Send + Sync + 'static>(_: &T) {}
    shareable(&example());
}

#[test]
fn error_rules_name_a_known_scim_type() {
    let src = r#"
[users]
list = { get = "/u", items = "$[*]" }
get = { get = "/u/{id}" }
create = { post = "/u" }
update = { patch = "/u/{id}" }

[users.attributes]
userName = "$.login"

[users.errors]
'422' = { status = 409, scimType = "uniquenes" }
'400' = { status = 400, scimType = "INVALIDVALUE" }
"#;
    let errs = compile_src(src).unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].key, "users.errors.422.scimType");
    assert!(errs[0].message.contains("unknown scimType `uniquenes`"));
    assert_eq!(&src[errs[0].span.clone().unwrap()], "\"uniquenes\"");
}

#[test]
fn no_value_null_and_empty_lists_are_one_state() {
    // RFC 7643 §2.5: unassigned, null and an empty array are equivalent,
    // and an element with no mapped value is no element: neither is a
    // change to send, so a replay of the same write sends nothing.
    let m = example();
    let before = m.to_scim(&json!({"id": "1", "login": "a"})).unwrap();
    for nothing in [
        json!([]),
        json!(null),
        json!([{}]),
        json!([{"display": "x"}]),
    ] {
        let mut after = before.clone();
        after["phoneNumbers"] = nothing.clone();
        let ch = m.changes_to_host(&before, &after).unwrap();
        assert!(ch.is_empty(), "{nothing}: {ch:?}");
    }
    let mut after = before.clone();
    after["phoneNumbers"] = json!([{"value": "+1 555"}, {"display": "x"}]);
    let ch = m.changes_to_host(&before, &after).unwrap();
    assert_eq!(
        ch.body,
        Some(json!({"contact": {"phones": [{"number": "+1 555"}]}}))
    );
}

/// `empty = "absent"` (for the mapping, or per attribute) reads an app's
/// `""` as no value: no `"externalId": ""`, no `"manager": {"value": ""}`.
/// Without it `""` is a value, as the app wrote it.
#[test]
fn empty_strings_read_as_absent_where_the_mapping_says() {
    const MANAGER: &str = "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value\" = \"$.manager_id\"\n";
    let attrs = "[users.attributes]\n";
    let with_manager = EXAMPLE.replace(attrs, &format!("{attrs}{MANAGER}"));
    let mut host = host_user();
    host["external_id"] = json!("");
    host["manager_id"] = json!("");
    host["profile"]["title"] = json!("");

    let m = compile_src(&with_manager).unwrap();
    let scim = m.to_scim(&host).unwrap();
    assert_eq!(scim["externalId"], "", "a value unless the mapping says");
    assert_eq!(scim[ENTERPRISE_USER_URN]["manager"], json!({"value": ""}));

    let all = with_manager.replace(
        "unmapped = \"ignore\"",
        "unmapped = \"ignore\"\nempty = \"absent\"",
    );
    let scim = compile_src(&all).unwrap().to_scim(&host).unwrap();
    assert!(scim.get("externalId").is_none(), "{scim}");
    assert!(scim.get("title").is_none(), "{scim}");
    assert!(scim[ENTERPRISE_USER_URN].get("manager").is_none(), "{scim}");
    assert_eq!(scim["userName"], "ada@example.com");

    let one = with_manager.replace(
        "externalId       = \"$.external_id\"",
        "externalId       = { path = \"$.external_id\", empty = \"absent\" }",
    );
    let scim = compile_src(&one).unwrap().to_scim(&host).unwrap();
    assert!(scim.get("externalId").is_none(), "{scim}");
    assert_eq!(scim["title"], "", "only where the rule says");

    let bad = with_manager.replace("unmapped = \"ignore\"", "empty = \"none\"");
    let e = compile_src(&bad).unwrap_err();
    assert!(e.iter().any(|e| e.key == "users.empty"), "{e:?}");
}
