//! The strict reader that checks every SCIM answer in this suite, tested
//! on its own: it accepts a correct user, list, error and discovery
//! document, and rejects each kind of answer a strict SCIM client would
//! refuse, for the reason it names. A reader that cannot fail proves
//! nothing.

use crate::support;

use http::HeaderMap;
use serde_json::{Value, json};
use support::strict::{self, Discovery};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn attr(name: &str, ty: &str) -> Value {
    json!({"name": name, "type": ty, "multiValued": false, "required": false,
           "caseExact": false, "mutability": "readWrite", "returned": "default",
           "uniqueness": "none"})
}

fn with(mut a: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

/// A small deployment: a User with a few attributes and the Enterprise
/// extension's `department` and `employeeNumber`.
fn discovery() -> Discovery {
    let user = json!({
        "schemas": [SCHEMA], "id": USER, "name": "User",
        "meta": {"resourceType": "Schema", "location": format!("/scim/v2/Schemas/{USER}")},
        "attributes": [
            with(attr("userName", "string"), json!({"required": true, "uniqueness": "server"})),
            with(attr("name", "complex"), json!({"subAttributes": [
                attr("givenName", "string"), attr("familyName", "string")]})),
            with(attr("emails", "complex"), json!({"multiValued": true, "subAttributes": [
                attr("value", "string"),
                with(attr("type", "string"), json!({"canonicalValues": ["work", "home"]})),
                attr("primary", "boolean")]})),
            attr("active", "boolean"),
            with(attr("password", "string"), json!({"mutability": "writeOnly", "returned": "never"})),
            with(attr("profileUrl", "reference"), json!({"referenceTypes": ["external"]})),
        ]
    });
    let ent = json!({
        "schemas": [SCHEMA], "id": ENT, "name": "EnterpriseUser",
        "attributes": [attr("department", "string"), attr("employeeNumber", "string")]
    });
    let rt = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User", "name": "User", "endpoint": "/Users", "schema": USER,
        "schemaExtensions": [{"schema": ENT, "required": false}],
        "meta": {"resourceType": "ResourceType"}
    });
    Discovery {
        schemas: vec![user, ent],
        resource_types: vec![rt],
    }
}

fn ada() -> Value {
    json!({
        "schemas": [USER, ENT],
        "id": "1001",
        "userName": "ada@example.com",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true},
                   {"value": "ada@home.example", "type": "home"}],
        "active": true,
        "profileUrl": "https://example.com/ada",
        ENT: {"department": "R&D"},
        "meta": {"resourceType": "User", "created": "2024-05-01T12:00:00Z",
                 "lastModified": "2024-05-02T08:30:00.5+02:00",
                 "location": "http://sc/scim/v2/Users/1001", "version": "W/\"3\""}
    })
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("content-type", "application/scim+json".parse().unwrap());
    for (k, v) in pairs {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

/// The headers of a correct answer carrying `ada()`.
fn ada_headers() -> HeaderMap {
    headers(&[("etag", "W/\"3\"")])
}

fn list_of(resources: Vec<Value>) -> Value {
    json!({"schemas": [LIST], "totalResults": resources.len(), "startIndex": 1,
           "itemsPerPage": resources.len(), "Resources": resources})
}

/// Panics (failing the test) unless the reader accepts the answer.
fn accepts(status: u16, h: &HeaderMap, body: &Value) {
    strict::check(&discovery(), status, h, body, "test");
}

/// Fails the test unless the reader rejects the answer, naming `reason`.
#[track_caller]
fn rejects(status: u16, h: &HeaderMap, body: &Value, reason: &str) {
    let d = discovery();
    let run = std::panic::AssertUnwindSafe(|| strict::check(&d, status, h, body, "test"));
    let msg = match std::panic::catch_unwind(run) {
        Ok(()) => panic!("accepted, though it should fail for {reason:?}:\n{body}"),
        Err(e) => e
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "a panic without a message".into()),
    };
    assert!(
        msg.contains(reason),
        "rejected, but not for {reason:?}:\n{msg}"
    );
}

/// `ada()` with one change applied.
fn ada_with(change: impl FnOnce(&mut Value)) -> Value {
    let mut u = ada();
    change(&mut u);
    u
}

#[test]
fn a_correct_user_list_error_and_discovery_pass() {
    accepts(200, &ada_headers(), &ada());
    let created = headers(&[
        ("etag", "W/\"3\""),
        ("location", "http://sc/scim/v2/Users/1001"),
    ]);
    accepts(201, &created, &ada());
    // A projection may leave out meta; `schemas` then names the type.
    let projected = json!({"schemas": [USER], "id": "1002", "userName": "alan@example.com"});
    accepts(200, &headers(&[]), &list_of(vec![ada(), projected]));
    accepts(200, &headers(&[]), &list_of(vec![]));
    let err = json!({"schemas": [ERROR], "status": "409", "scimType": "uniqueness",
                     "detail": "userName is already taken"});
    accepts(409, &headers(&[]), &err);
    accepts(204, &HeaderMap::new(), &Value::Null);
    let d = discovery();
    accepts(200, &headers(&[]), &list_of(d.schemas.clone()));
    accepts(200, &headers(&[]), &list_of(d.resource_types.clone()));
}

#[test]
fn undeclared_attributes_and_sub_attributes_are_rejected() {
    let u = ada_with(|u| u["nickName"] = json!("Countess"));
    rejects(200, &ada_headers(), &u, "nickName: not declared in");
    let u = ada_with(|u| u["name"]["middleName"] = json!("King"));
    rejects(
        200,
        &ada_headers(),
        &u,
        "name.middleName: sub-attribute not declared",
    );
    let u = ada_with(|u| u["emails"][1]["display"] = json!("home"));
    rejects(
        200,
        &ada_headers(),
        &u,
        "emails[1].display: sub-attribute not declared",
    );
    let u = ada_with(|u| u[ENT]["costCenter"] = json!("4130"));
    rejects(200, &ada_headers(), &u, "costCenter: not declared");
}

#[test]
fn values_of_the_wrong_type_or_plurality_are_rejected() {
    let u = ada_with(|u| u["active"] = json!("true"));
    rejects(200, &ada_headers(), &u, "active: \"true\" is not a boolean");
    let u = ada_with(|u| u["userName"] = json!(["a", "b"]));
    rejects(200, &ada_headers(), &u, "is not a string");
    let u = ada_with(|u| u["emails"] = json!({"value": "ada@example.com"}));
    rejects(
        200,
        &ada_headers(),
        &u,
        "emails: multiValued but not an array",
    );
    let u = ada_with(|u| u["emails"][0]["primary"] = json!("yes"));
    rejects(
        200,
        &ada_headers(),
        &u,
        "emails[0].primary: \"yes\" is not a boolean",
    );
    let u = ada_with(|u| u["meta"]["created"] = json!("2024-05-01 12:00:00"));
    rejects(200, &ada_headers(), &u, "meta.created");
    let u = ada_with(|u| u["id"] = json!(1001));
    rejects(200, &ada_headers(), &u, "id is not a non-empty string");
}

#[test]
fn values_outside_canonical_values_are_rejected() {
    let u = ada_with(|u| u["emails"][1]["type"] = json!("other"));
    rejects(
        200,
        &ada_headers(),
        &u,
        "\"other\" is not one of its canonicalValues",
    );
}

#[test]
fn attributes_that_are_never_returned_are_rejected() {
    let u = ada_with(|u| u["password"] = json!("t0p-secret!"));
    rejects(
        200,
        &ada_headers(),
        &u,
        "password: returned although `returned: never`",
    );
    rejects(200, &ada_headers(), &u, "`writeOnly`");
}

#[test]
fn extension_objects_must_be_listed_in_schemas() {
    let u = ada_with(|u| u["schemas"] = json!([USER]));
    rejects(
        200,
        &ada_headers(),
        &u,
        "an extension object not listed in schemas",
    );
    let u = ada_with(|u| u["schemas"] = json!([USER, ENT, "urn:example:other"]));
    rejects(200, &ada_headers(), &u, "not an extension of User");
    let u = ada_with(|u| u["schemas"] = json!([ENT]));
    rejects(200, &ada_headers(), &u, "does not list the core schema");
}

#[test]
fn error_bodies_follow_rfc7644_section_3_12() {
    // RFC 7644 §3.12: `status` is the HTTP status as a JSON *string*.
    let err = |status: Value| json!({"schemas": [ERROR], "status": status, "detail": "gone"});
    rejects(
        404,
        &headers(&[]),
        &err(json!(404)),
        "error `status` is not the string \"404\"",
    );
    rejects(
        404,
        &headers(&[]),
        &err(json!("400")),
        "error `status` is not the string \"404\"",
    );
    let mut bad_type = err(json!("400"));
    bad_type["scimType"] = json!("badRequest");
    rejects(
        400,
        &headers(&[]),
        &bad_type,
        "is not one of RFC 7644 Table 9",
    );
    let no_schema = json!({"status": "400", "detail": "no"});
    rejects(
        400,
        &headers(&[]),
        &no_schema,
        "an error without the Error schema",
    );
    rejects(
        502,
        &headers(&[]),
        &Value::Null,
        "a 502 answer without a body",
    );
}

#[test]
fn list_counters_must_be_integers_that_add_up() {
    let mut l = list_of(vec![ada()]);
    l["totalResults"] = json!("1");
    rejects(
        200,
        &headers(&[]),
        &l,
        "`totalResults` is not a non-negative integer",
    );
    let mut l = list_of(vec![ada()]);
    l["itemsPerPage"] = json!(1.0);
    rejects(
        200,
        &headers(&[]),
        &l,
        "`itemsPerPage` is not a non-negative integer",
    );
    let mut l = list_of(vec![ada()]);
    l["itemsPerPage"] = json!(2);
    rejects(
        200,
        &headers(&[]),
        &l,
        "`itemsPerPage` is not the number of Resources",
    );
    let mut l = list_of(vec![ada()]);
    l["startIndex"] = json!(0);
    rejects(200, &headers(&[]), &l, "`startIndex` is 0, not 1-based");
    let mut l = list_of(vec![]);
    l["totalResults"] = json!(5);
    l.as_object_mut().unwrap().remove("Resources");
    rejects(200, &headers(&[]), &l, "`Resources` missing");
    // Resources inside a list are checked like single answers.
    let l = list_of(vec![ada_with(|u| u["nickName"] = json!("x"))]);
    rejects(
        200,
        &headers(&[]),
        &l,
        "Resources[0].nickName: not declared",
    );
}

#[test]
fn message_rules_media_type_location_etag_and_primary() {
    rejects(
        200,
        &headers(&[("content-type", "application/json")]),
        &ada(),
        "content type",
    );
    rejects(
        200,
        &headers(&[]),
        &ada(),
        "ETag header None is not meta.version",
    );
    let moved = headers(&[("etag", "W/\"3\""), ("location", "http://sc/elsewhere")]);
    rejects(201, &moved, &ada(), "Location header");
    let u = ada_with(|u| u["emails"][1]["primary"] = json!(true));
    rejects(200, &ada_headers(), &u, "2 values are primary");
    let u = ada_with(|u| u["schemas"] = json!([USER, ENT, USER]));
    rejects(200, &ada_headers(), &u, "schemas lists a URI twice");
    let u = ada_with(|u| u["meta"]["resourceType"] = json!("Widget"));
    rejects(
        200,
        &ada_headers(),
        &u,
        "no resource type in /ResourceTypes",
    );
}

#[test]
fn discovery_documents_follow_rfc7643() {
    let d = discovery();
    let schema_with = |a: Value| {
        let mut s = d.schemas[0].clone();
        s["attributes"].as_array_mut().unwrap().push(a);
        list_of(vec![s])
    };
    let h = headers(&[]);
    rejects(
        200,
        &h,
        &schema_with(attr("nick", "text")),
        "is not an RFC 7643 type",
    );
    rejects(
        200,
        &h,
        &schema_with(attr("USERNAME", "string")),
        "declared twice",
    );
    let bad = with(attr("nick", "string"), json!({"mutability": "sometimes"}));
    rejects(200, &h, &schema_with(bad), "mutability \"sometimes\"");
    let promised = with(attr("pin", "string"), json!({"mutability": "writeOnly"}));
    rejects(
        200,
        &h,
        &schema_with(promised),
        "writeOnly but returned \"default\"",
    );
    rejects(
        200,
        &h,
        &schema_with(attr("url", "reference")),
        "a reference without referenceTypes",
    );
    let nested = with(
        attr("outer", "complex"),
        json!({"subAttributes": [
        with(attr("inner", "complex"), json!({"subAttributes": [attr("x", "string")]}))]}),
    );
    rejects(200, &h, &schema_with(nested), "forbids nesting");
    let subs = with(
        attr("flat", "string"),
        json!({"subAttributes": [attr("x", "string")]}),
    );
    rejects(200, &h, &schema_with(subs), "subAttributes on a string");
    let mut rt = d.resource_types[0].clone();
    rt["schemaExtensions"] = json!([{"schema": "urn:example:missing", "required": false}]);
    rejects(200, &h, &list_of(vec![rt]), "is not in /Schemas");
}
