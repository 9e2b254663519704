//! Tests of the write side for apps of other shapes: a mixed contact list
//! read and written through `where`, a conditional identity object, a
//! composed display name, one phone field taking the primary (or first)
//! phone, clearing styles, several host states read as one SCIM value,
//! generated create-only values and constants with connection variables.

use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::mapping::WriteEnv;
use crate::mapping::model::mapping::ResourceMapping;

const SHAPE: &str = r#"
[users.list]
get = "/users"

[users.get]
get = "/users/{id}"

[users.create]
post = "/users"

[users.update]
patch = "/users/{id}"

[users.constants]
"$.tenant" = "{conn.tenant}"
"$.secret" = "${SECRET}"
"$.identity" = { value = { provider = "scim", subject = "{externalId}" }, when = "externalId" }

[users.attributes]
userName = "$.login"
externalId = { path = "$.links", where = { rel = "idp" }, field = "$.href" }
displayName = { path = "$.display_name", compose = "{name.givenName} {name.familyName}" }
"name.givenName" = "$.first"
"name.familyName" = "$.last"
emails = { path = "$.contacts", where = { kind = "email" }, primary = "first", fields = { value = "$.address" } }
"phoneNumbers.value" = { path = "$.phone", select = "primary" }
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value" = { path = "$.manager.id", clear = "null_parent" }
title = { path = "$.title", clear = "empty" }
nickName = { path = "$.nick", clear = "omit" }
active = { path = "$.status", map = { true = "active", false = ["suspended", "locked"] } }
userType = { path = "$.kind", map = { Employee = "staff", Contractor = "staff", Intern = "guest" }, default = "Employee" }
password = { path = "$.password", generate = { random = 20 } }
"#;

fn env(name: &str) -> Option<String> {
    (name == "SECRET").then(|| "s3".to_owned())
}

fn compile_src(src: &str) -> Result<ResourceMapping, Vec<Diagnostic>> {
    super::compile_users(src, &["tenant"], &env)
}

fn shape() -> ResourceMapping {
    compile_src(SHAPE).unwrap_or_else(|e| panic!("{e:?}"))
}

fn host() -> Value {
    json!({"id": "7", "login": "ada", "first": "Ada", "last": "L",
           "links": [{"rel": "self", "href": "/users/7"}, {"rel": "idp", "href": "00u1"}],
           "contacts": [{"kind": "phone", "address": "+1 555"}, {"kind": "email", "address": "a@x.io"},
                        {"kind": "email", "address": "b@x.io"}],
           "phone": "+1 555", "manager": {"id": "9", "name": "M"}, "title": "T", "status": "locked",
           "kind": "staff"})
}

#[test]
fn reads_select_their_elements_and_states() {
    let m = shape();
    let s = m.to_scim(&host()).unwrap();
    assert_eq!(s["externalId"], "00u1");
    assert_eq!(
        s["emails"],
        json!([{"value": "a@x.io", "primary": true}, {"value": "b@x.io"}])
    );
    assert_eq!(
        s["phoneNumbers"],
        json!([{"value": "+1 555", "primary": true}])
    );
    assert_eq!(s["active"], false, "locked reads as inactive");
    assert_eq!(
        s["userType"], "Employee",
        "many-to-one reads as the default"
    );
    assert!(s.get("password").is_none());
}

#[test]
fn creates_compose_generate_and_render_constants() {
    let m = shape();
    let conn = [("tenant".to_owned(), "acme".to_owned())].into();
    let env = WriteEnv {
        conn: Some(&conn),
        current: None,
    };
    let scim = json!({"userName": "ada", "name": {"givenName": "Ada", "familyName": "L"},
        "emails": [{"value": "b@x.io"}, {"value": "a@x.io", "primary": true}],
        "phoneNumbers": [{"type": "work", "value": "+1 1"}, {"type": "mobile", "value": "+1 2", "primary": true}],
        "userType": "Volunteer", "active": true});
    let (body, rest) = m.to_host_create_in(&scim, &env).unwrap();
    assert!(rest.is_none());
    assert_eq!(body["display_name"], "Ada L");
    assert_eq!(body["tenant"], "acme");
    assert_eq!(body["secret"], "s3");
    assert!(body.get("identity").is_none(), "no externalId, no identity");
    assert_eq!(
        body["contacts"],
        json!([{"kind": "email", "address": "a@x.io"}, {"kind": "email", "address": "b@x.io"}])
    );
    assert_eq!(body["phone"], "+1 2");
    assert_eq!(
        body["kind"], "staff",
        "unknown types write the default's value"
    );
    assert_eq!(body["status"], "active");
    let pw = body["password"].as_str().unwrap();
    assert_eq!(pw.len(), 20);
    assert!(pw.chars().all(|c| c.is_ascii_alphanumeric()));
    let (again, _) = m.to_host_create_in(&scim, &env).unwrap();
    assert_ne!(again["password"], body["password"]);
    let with_id = json!({"userName": "ada", "externalId": "00u9", "password": "given"});
    let (body, _) = m.to_host_create_in(&with_id, &env).unwrap();
    assert_eq!(
        body["identity"],
        json!({"provider": "scim", "subject": "00u9"})
    );
    assert_eq!(body["links"], json!([{"rel": "idp", "href": "00u9"}]));
    assert_eq!(body["password"], "given");
}

#[test]
fn updates_keep_elements_they_do_not_own() {
    let m = shape();
    let h = host();
    let before = m.to_scim(&h).unwrap();
    let mut after = before.clone();
    after["emails"] = json!([{"value": "c@x.io"}]);
    after["externalId"] = json!("00u2");
    let env = WriteEnv {
        conn: None,
        current: Some(&h),
    };
    let ch = m.changes_to_host_in(&before, &after, &env).unwrap();
    let body = ch.body.unwrap();
    assert_eq!(
        body["contacts"],
        json!([{"kind": "phone", "address": "+1 555"}, {"kind": "email", "address": "c@x.io"}])
    );
    assert_eq!(
        body["links"],
        json!([{"rel": "self", "href": "/users/7"}, {"rel": "idp", "href": "00u2"}])
    );
    assert_eq!(
        body["identity"],
        json!({"provider": "scim", "subject": "00u2"})
    );
    let mut cleared = before.clone();
    let o = cleared.as_object_mut().unwrap();
    for k in ["emails", "externalId", "title", "nickName", "displayName"] {
        o.remove(k);
    }
    o.remove("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    cleared["name"] = json!({"givenName": "Ada"});
    let ch = m.changes_to_host_in(&before, &cleared, &env).unwrap();
    let body = ch.body.unwrap();
    assert_eq!(
        body["contacts"],
        json!([{"kind": "phone", "address": "+1 555"}])
    );
    assert_eq!(body["links"], json!([{"rel": "self", "href": "/users/7"}]));
    assert_eq!(body["manager"], Value::Null, "the parent is cleared");
    assert_eq!(body["title"], "");
    assert_eq!(
        body["display_name"], "Ada",
        "composed again from what is left"
    );
    assert!(body.get("nick").is_none());
}

#[test]
fn write_option_mistakes_are_compile_errors() {
    for (from, to, key) in [
        (
            "field = \"$.href\"",
            "",
            "users.attributes.externalId.where",
        ),
        (
            "clear = \"empty\"",
            "clear = \"blank\"",
            "users.attributes.title.clear",
        ),
        (
            "select = \"primary\"",
            "select = \"first\"",
            "users.attributes.\"phoneNumbers.value\".select",
        ),
        (
            "generate = { random = 20 }",
            "generate = { random = 2 }",
            "users.attributes.password.generate",
        ),
        (
            "compose = \"{name.givenName}",
            "compose = \"{emails}",
            "users.attributes.displayName.compose",
        ),
    ] {
        let src = SHAPE.replace(from, to);
        let e = compile_src(&src).unwrap_err();
        assert!(e.iter().any(|e| e.key == key), "{key}: {e:?}");
    }
}
