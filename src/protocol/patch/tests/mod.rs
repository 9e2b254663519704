//! Tests for PATCH parsing, application and membership extraction (RFC 7644 §3.5.2):
//! the RFC rules and examples here, the Okta/Entra shapes and properties in `idp`.

mod idp;
mod undo;

use serde_json::{Value, json};

use super::*;

pub(super) const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

pub(super) fn body(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP_URN], "Operations": ops})
}

pub(super) fn opts(dialect: Dialect) -> PatchOptions<'static> {
    PatchOptions {
        dialect,
        ..PatchOptions::default()
    }
}

/// Parses and applies `ops` to `res`, returning the new resource.
pub(super) fn run(res: &Value, ops: Value, dialect: Dialect) -> Result<Value, PatchError> {
    let o = opts(dialect);
    let parsed = parse(&body(ops), &o)?;
    let mut out = res.clone();
    apply(&mut out, &parsed, &o)?;
    Ok(out)
}

pub(super) fn ok(res: &Value, ops: Value, dialect: Dialect) -> Value {
    match run(res, ops, dialect) {
        Ok(v) => v,
        Err(e) => panic!("{}: {}", e.scim_type.as_str(), e.detail),
    }
}

pub(super) fn fail(res: &Value, ops: Value, dialect: Dialect) -> PatchError {
    match run(res, ops, dialect) {
        Ok(v) => panic!("expected an error, got {v}"),
        Err(e) => e,
    }
}

pub(super) fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223", "userName": "bjensen", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"resourceType": "User"}
    })
}

pub(super) fn group() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": "g1",
           "displayName": "Tour Guides", "members": [{"value": "u1", "display": "A"}, {"value": "u2"}]})
}

/// RFC 7644 §3.5.2: schemas must name PatchOp; Operations must be a non-empty array.
#[test]
fn parse_rejects_bad_envelopes() {
    let o = PatchOptions::default();
    let e = parse(
        &json!({"Operations": [{"op": "add", "path": "x", "value": 1}]}),
        &o,
    )
    .unwrap_err();
    assert_eq!(e.scim_type.as_str(), "invalidSyntax");
    assert_eq!(
        parse(&body(json!([])), &o).unwrap_err().scim_type.as_str(),
        "invalidSyntax"
    );
    assert_eq!(
        parse(&body(json!({})), &o).unwrap_err().scim_type.as_str(),
        "invalidSyntax"
    );
    let e = parse(&body(json!([{"op": "move", "path": "x"}])), &o).unwrap_err();
    assert_eq!(
        e.detail,
        r#"Operations[0]: "op" must be "add", "replace" or "remove""#
    );
    let e = parse(&body(json!([{"op": "add", "path": "x", "value": 1}, {"op": "add", "path": "x", "value": 1}, {"op": "replace", "path": "emails[type eq", "value": 1}])), &o).unwrap_err();
    assert_eq!(e.scim_type.as_str(), "invalidPath");
    assert_eq!(
        e.detail,
        r#"Operations[2]: path "emails[type eq" is invalid: at position 14: expected a value (string, number, true, false or null) after "eq""#
    );
    assert_eq!(
        parse(&body(json!([{"op": "add", "path": "x"}])), &o)
            .unwrap_err()
            .scim_type
            .as_str(),
        "invalidValue"
    );
    assert_eq!(
        parse(&body(json!([{"op": "replace", "value": "x"}])), &o)
            .unwrap_err()
            .scim_type
            .as_str(),
        "invalidValue"
    );
}

/// RFC 7644 §3.5.2.2: "If "path" is unspecified, the operation fails with … noTarget".
#[test]
fn remove_without_path_is_no_target() {
    let e = fail(&user(), json!([{"op": "remove"}]), Dialect::Okta);
    assert_eq!(
        (e.scim_type.as_str(), e.detail.as_str()),
        ("noTarget", r#"Operations[0]: remove requires a "path""#)
    );
}

/// Bounded work (DESIGN principle 8): more operations than allowed → tooMany.
#[test]
fn too_many_operations() {
    let o = PatchOptions {
        max_operations: 2,
        ..PatchOptions::default()
    };
    let ops = json!([{"op": "remove", "path": "a"}, {"op": "remove", "path": "b"}, {"op": "remove", "path": "c"}]);
    assert_eq!(
        parse(&body(ops), &o).unwrap_err().scim_type.as_str(),
        "tooMany"
    );
    let parsed = parse(
        &body(json!([{"op": "remove", "path": "a"}])),
        &PatchOptions::default(),
    )
    .unwrap();
    let three = [parsed.clone(), parsed.clone(), parsed].concat();
    assert_eq!(
        apply(&mut user(), &three, &o)
            .unwrap_err()
            .scim_type
            .as_str(),
        "tooMany"
    );
}

/// RFC 7644 §3.5.2.1 example: add a member to a group.
#[test]
fn rfc_add_member() {
    let g = ok(
        &group(),
        json!([{"op": "add", "path": "members", "value": [{"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223", "value": "2819c223"}]}]),
        Dialect::Generic,
    );
    assert_eq!(g["members"].as_array().unwrap().len(), 3);
    assert_eq!(g["members"][2]["value"], "2819c223");
}

/// RFC 7644 §3.5.2.1: adding an existing value is a no-op (Okta agent-bom #3533).
#[test]
fn add_member_deduplicates() {
    let g = ok(
        &group(),
        json!([{"op": "add", "path": "members", "value": [{"value": "u1", "display": "user@x"}, {"value": "u3"}, {"value": "u3"}]}]),
        Dialect::Okta,
    );
    let ids: Vec<&str> = g["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["u1", "u2", "u3"]);
}

/// RFC 7644 §3.5.2.1 example: path-less add of several attributes; multi-valued ones append.
#[test]
fn rfc_pathless_add() {
    let u = ok(
        &user(),
        json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}, {"value": "b@x.org", "type": "other"}], "nickname": "Babs"}}]),
        Dialect::Generic,
    );
    assert_eq!(u["nickname"], "Babs");
    assert_eq!(u["emails"].as_array().unwrap().len(), 3);
}

/// RFC 7644 §3.5.2.2 examples: remove one member, all members, filtered emails.
#[test]
fn rfc_remove_examples() {
    let g = ok(
        &group(),
        json!([{"op": "remove", "path": "members[value eq \"u1\"]"}]),
        Dialect::Generic,
    );
    assert_eq!(g["members"], json!([{"value": "u2"}]));
    let g = ok(
        &group(),
        json!([{"op": "remove", "path": "members"}]),
        Dialect::Generic,
    );
    assert!(g.get("members").is_none());
    let u = ok(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
        Dialect::Generic,
    );
    assert_eq!(
        u["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    let u = ok(
        &user(),
        json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]),
        Dialect::Generic,
    );
    assert_eq!(u, user(), "a filter matching nothing removes nothing");
    let u = ok(
        &user(),
        json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]),
        Dialect::Generic,
    );
    assert!(
        u.get("name").is_none(),
        "an emptied complex attribute becomes unassigned"
    );
}

/// RFC 7644 §3.5.2.2 example: remove one member and add another in one request.
#[test]
fn rfc_remove_and_add_members() {
    let g = ok(
        &group(),
        json!([{"op": "remove", "path": "members[value eq \"u2\"]"}, {"op": "add", "path": "members", "value": [{"value": "u9"}]}]),
        Dialect::Generic,
    );
    assert_eq!(
        g["members"],
        json!([{"value": "u1", "display": "A"}, {"value": "u9"}])
    );
}

/// RFC 7644 §3.5.2.3 examples: replace all members; replace a filtered
/// complex element; replace a sub-attribute of a filtered element.
#[test]
fn rfc_replace_examples() {
    let g = ok(
        &group(),
        json!([{"op": "replace", "path": "members", "value": [{"value": "u7"}]}]),
        Dialect::Generic,
    );
    assert_eq!(g["members"], json!([{"value": "u7"}]));
    let u = json!({"addresses": [{"type": "work", "streetAddress": "old"}, {"type": "home", "streetAddress": "h"}]});
    let new = json!({"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood", "primary": true});
    let r = ok(
        &u,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"]", "value": new.clone()}]),
        Dialect::Generic,
    );
    assert_eq!(r["addresses"][0], new);
    assert_eq!(r["addresses"][1]["streetAddress"], "h");
    let r = ok(
        &u,
        json!([{"op": "replace", "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
        Dialect::Generic,
    );
    assert_eq!(r["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(r["addresses"][1]["streetAddress"], "h");
}

/// RFC 7644 §3.5.2.3 example: path-less replace; multi-valued values replace the set,
/// complex values merge sub-attributes.
#[test]
fn rfc_pathless_replace() {
    let emails = json!([{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}]);
    let u = ok(
        &user(),
        json!([{"op": "replace", "value": {"emails": emails.clone(), "nickname": "Babs", "name": {"givenName": "Babs"}}}]),
        Dialect::Generic,
    );
    assert_eq!(u["emails"], emails);
    assert_eq!(
        u["name"],
        json!({"givenName": "Babs", "familyName": "Jensen"})
    );
}

/// RFC 7644 §3.5.2.3: "a value selection filter … and no record match was made" → noTarget.
#[test]
fn replace_filter_without_match_is_no_target() {
    let e = fail(
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"other\"]", "value": {"value": "x"}}]),
        Dialect::Generic,
    );
    assert_eq!(e.scim_type.as_str(), "noTarget");
    assert!(
        e.detail
            .starts_with("Operations[0]: no element of emails matches"),
        "{}",
        e.detail
    );
}

/// RFC 7644 §3.5.2: on error the resource is unchanged (atomic).
#[test]
fn failed_patch_changes_nothing() {
    let mut u = user();
    let o = PatchOptions::default();
    let ops = parse(&body(json!([{"op": "replace", "path": "userName", "value": "new"}, {"op": "replace", "path": "emails[type eq \"x\"]", "value": {"value": "y"}}])), &o).unwrap();
    let e = apply(&mut u, &ops, &o).unwrap_err();
    assert!(e.detail.starts_with("Operations[1]:"), "{}", e.detail);
    assert_eq!(u, user());
}

/// RFC 7643 §2.2 readOnly → 400 mutability (RFC 7644 §3.5.2), plus the caller's hook.
#[test]
fn read_only_attributes() {
    // An undeclared sub-attribute of a readOnly attribute is readOnly too.
    for path in ["id", "meta.created", "groups", "meta", "meta.vNersion"] {
        let e = fail(
            &user(),
            json!([{"op": "replace", "path": path, "value": "x"}]),
            Dialect::Entra,
        );
        assert_eq!(e.scim_type.as_str(), "mutability", "{path}");
    }
    // A mapping that computes userName and employeeNumber makes them readOnly.
    let mut schema = crate::schema::ResourceSchema::rfc7643_user();
    for (urn, name) in [(None, "userName"), (Some(ENT), "employeeNumber")] {
        schema.attribute_mut(urn, name).unwrap().mutability = crate::schema::Mutability::ReadOnly;
    }
    let o = PatchOptions {
        schema: &schema,
        ..PatchOptions::default()
    };
    for path in ["userName".to_owned(), format!("{ENT}:employeeNumber")] {
        let ops = parse(
            &body(json!([{"op": "replace", "path": path, "value": "x"}])),
            &o,
        )
        .unwrap();
        assert_eq!(
            apply(&mut user(), &ops, &o).unwrap_err().scim_type.as_str(),
            "mutability"
        );
    }
    let e = fail(
        &user(),
        json!([{"op": "replace", "value": {"id": "other"}}]),
        Dialect::Generic,
    );
    assert_eq!(e.scim_type.as_str(), "mutability");
}

/// RFC 7643 §2.4: at most one `primary: true`; the newly set element wins.
#[test]
fn single_primary() {
    let u = ok(
        &user(),
        json!([{"op": "add", "path": "emails", "value": [{"value": "n@x.org", "type": "other", "primary": true}]}]),
        Dialect::Generic,
    );
    let flags: Vec<Value> = u["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.get("primary").cloned().unwrap_or(Value::Null))
        .collect();
    assert_eq!(flags, vec![json!(false), Value::Null, json!(true)]);
    let u = ok(
        &user(),
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
        Dialect::Generic,
    );
    assert_eq!(
        (&u["emails"][0]["primary"], &u["emails"][1]["primary"]),
        (&json!(false), &json!(true))
    );
}

/// RFC 7644 §3.5.2.1/§3.5.2.3 on extension attributes: written into the URN-keyed object.
#[test]
fn extension_attributes() {
    let u = ok(
        &user(),
        json!([{"op": "add", "path": format!("{ENT}:department"), "value": "Sales"}]),
        Dialect::Generic,
    );
    assert_eq!(u[ENT], json!({"department": "Sales"}));
    assert!(u["schemas"].as_array().unwrap().contains(&json!(ENT)));
    let u = ok(
        &u,
        json!([{"op": "replace", "value": {ENT: {"costCenter": "4130"}}}]),
        Dialect::Generic,
    );
    assert_eq!(u[ENT], json!({"department": "Sales", "costCenter": "4130"}));
    let u = ok(
        &u,
        json!([{"op": "remove", "path": format!("{ENT}:department")}]),
        Dialect::Generic,
    );
    assert_eq!(u[ENT], json!({"costCenter": "4130"}));
    let u = ok(
        &u,
        json!([{"op": "replace", "path": format!("{ENT}:manager"), "value": {"value": "m1"}}]),
        Dialect::Generic,
    );
    assert_eq!(u[ENT]["manager"], json!({"value": "m1"}));
}

/// RFC 7644 §3.5.2: a `path` may name an extension schema itself; its value
/// is an object of that schema's attributes. Add and replace write them,
/// remove clears the extension, and a failure leaves the resource unchanged.
#[test]
fn extension_urn_as_path() {
    let u = ok(
        &user(),
        json!([{"op": "add", "path": ENT, "value": {"department": "d1", "employeeNumber": "e1"}}]),
        Dialect::Generic,
    );
    assert_eq!(u[ENT], json!({"department": "d1", "employeeNumber": "e1"}));
    assert!(u["schemas"].as_array().unwrap().contains(&json!(ENT)));
    let lower = ENT.to_ascii_lowercase();
    let u = ok(
        &u,
        json!([{"op": "replace", "path": lower, "value": {"department": "d2"}}]),
        Dialect::Generic,
    );
    assert_eq!(u[ENT], json!({"department": "d2", "employeeNumber": "e1"}));
    let removed = ok(&u, json!([{"op": "remove", "path": ENT}]), Dialect::Generic);
    assert!(removed.get(ENT).is_none(), "{removed}");
    let e = fail(
        &u,
        json!([{"op": "replace", "path": ENT, "value": "d3"}]),
        Dialect::Generic,
    );
    assert_eq!(e.scim_type, crate::error::ScimType::InvalidValue);
    let o = opts(Dialect::Generic);
    let ops = json!([
        {"op": "add", "path": ENT, "value": {"division": "x"}},
        {"op": "replace", "path": "emails[type eq \"other\"]", "value": {"value": "a"}}
    ]);
    let mut after = u.clone();
    let e = apply(&mut after, &parse(&body(ops), &o).unwrap(), &o).unwrap_err();
    assert_eq!(e.scim_type, crate::error::ScimType::NoTarget);
    assert_eq!(after, u, "a failed PATCH changes nothing");
    let core = "urn:ietf:params:scim:schemas:core:2.0:User";
    let u = ok(
        &u,
        json!([{"op": "replace", "path": core, "value": {"title": "Guide", "name": {"givenName": "Babs"}}}]),
        Dialect::Generic,
    );
    assert_eq!(u["title"], "Guide");
    assert_eq!(
        u["name"],
        json!({"givenName": "Babs", "familyName": "Jensen"})
    );
    assert!(u.get("User").is_none(), "{u}");
    let e = fail(
        &u,
        json!([{"op": "remove", "path": core}]),
        Dialect::Generic,
    );
    assert_eq!(e.scim_type, crate::error::ScimType::InvalidPath);
}
