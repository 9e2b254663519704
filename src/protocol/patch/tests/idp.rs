//! Okta and Entra request shapes (idp-behavior.md), membership extraction and property tests.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::super::*;
use super::{ENT, body, fail, group, ok, opts, user};

/// idp-behavior §2.2(g): Okta deactivation/reactivation, path-less with an object value.
#[test]
fn okta_deactivate() {
    let u = ok(
        &user(),
        json!([{"op": "replace", "value": {"active": false}}]),
        Dialect::Okta,
    );
    assert_eq!(u["active"], false);
    let u = ok(
        &u,
        json!([{"op": "replace", "value": {"active": true}}]),
        Dialect::Okta,
    );
    assert_eq!(u["active"], true);
}

/// idp-behavior §2.2(k): Okta group rename (path-less, re-sends `id`), member add,
/// filtered remove, full push, empty push.
#[test]
fn okta_group_shapes() {
    let g = ok(
        &group(),
        json!([{"op": "replace", "value": {"id": "g1", "displayName": "Renamed"}}]),
        Dialect::Okta,
    );
    assert_eq!(g["displayName"], "Renamed");
    let g = ok(
        &group(),
        json!([{"op": "replace", "value": {"id": "g1", "displayName": "Renamed"}}]),
        Dialect::Generic,
    );
    assert_eq!(g["id"], "g1");
    let g = ok(
        &group(),
        json!([
        {"op": "add", "path": "members", "value": [{"value": "u3", "display": "user@x"}]},
        {"op": "remove", "path": "members[value eq \"u1\"]"}]),
        Dialect::Okta,
    );
    assert_eq!(
        g["members"],
        json!([{"value": "u2"}, {"value": "u3", "display": "user@x"}])
    );
    let g = ok(
        &group(),
        json!([{"op": "replace", "path": "members", "value": []}]),
        Dialect::Okta,
    );
    assert!(g.get("members").is_none());
}

/// idp-behavior §3.1(f) and §3.2: Entra updates, capitalised ops, creation of a missing work email.
#[test]
fn entra_updates() {
    let u = ok(
        &user(),
        json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Replace", "path": "userName", "value": "new@x"},
        {"op": "Add", "path": "nickName", "value": "Babs"},
        {"op": "Replace", "path": format!("{ENT}:employeeNumber"), "value": "701984"},
        {"op": "Add", "path": format!("{ENT}:department"), "value": "Sales"}]),
        Dialect::Entra,
    );
    assert_eq!(u["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(
        (&u["userName"], &u["nickName"]),
        (&json!("new@x"), &json!("Babs"))
    );
    assert_eq!(
        u[ENT],
        json!({"employeeNumber": "701984", "department": "Sales"})
    );
    let bare = json!({"userName": "x"});
    let u = ok(
        &bare,
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "w@x"}]),
        Dialect::Entra,
    );
    assert_eq!(u["emails"], json!([{"type": "work", "value": "w@x"}]));
}

/// idp-behavior §3.2 with aadOptscim062020: path-less replace with dotted and URN keys.
#[test]
fn entra_flag_pathless_dotted_keys() {
    let u = ok(
        &user(),
        json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "e@x"},
        {"op": "replace", "value": {"displayName": "D", "name.givenName": "G", "name.familyName": "F", format!("{ENT}:employeeNumber"): "42", "externalId": "ext"}}]),
        Dialect::Entra,
    );
    assert_eq!(u["name"], json!({"givenName": "G", "familyName": "F"}));
    assert_eq!(
        (&u["displayName"], &u["externalId"]),
        (&json!("D"), &json!("ext"))
    );
    assert_eq!(u[ENT]["employeeNumber"], "42");
}

/// idp-behavior §3.1(g): Entra string booleans; Generic is strict (invalidValue).
#[test]
fn entra_string_booleans() {
    for (s, b) in [
        ("False", false),
        ("True", true),
        ("false", false),
        ("true", true),
    ] {
        let u = ok(
            &user(),
            json!([{"op": "Replace", "path": "active", "value": s}]),
            Dialect::Entra,
        );
        assert_eq!(u["active"], b);
    }
    let u = ok(
        &user(),
        json!([{"op": "replace", "path": "active", "value": false}]),
        Dialect::Generic,
    );
    assert_eq!(u["active"], false);
    let e = fail(
        &user(),
        json!([{"op": "replace", "path": "active", "value": "False"}]),
        Dialect::Generic,
    );
    assert_eq!(e.scim_type.as_str(), "invalidValue");
    assert_eq!(
        fail(
            &user(),
            json!([{"op": "Replace", "path": "active", "value": "nope"}]),
            Dialect::Entra
        )
        .scim_type
        .as_str(),
        "invalidValue"
    );
    let u = ok(
        &user(),
        json!([{"op": "Add", "path": "emails", "value": [{"value": "p@x", "type": "other", "primary": "True"}]}]),
        Dialect::Entra,
    );
    assert_eq!(u["emails"][2]["primary"], true);
    assert_eq!(u["emails"][0]["primary"], false);
}

/// idp-behavior §3.1(f)/(d): Entra manager as a bare string id → stored as `{"value": id}`.
#[test]
fn entra_manager_string() {
    let u = ok(
        &user(),
        json!([{"op": "Add", "path": format!("{ENT}:manager"), "value": "m-42"}]),
        Dialect::Entra,
    );
    assert_eq!(u[ENT]["manager"], json!({"value": "m-42"}));
    let e = fail(
        &user(),
        json!([{"op": "add", "path": format!("{ENT}:manager"), "value": "m-42"}]),
        Dialect::Generic,
    );
    assert_eq!(e.scim_type.as_str(), "invalidValue");
}

/// idp-behavior §3.1(j) and §3.2: Entra members with `$ref: null`; remove with a value array.
#[test]
fn entra_member_shapes() {
    let g = ok(
        &group(),
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "u3"}, {"$ref": null, "value": "u4"}]}]),
        Dialect::Entra,
    );
    assert_eq!(g["members"][2], json!({"value": "u3"}));
    let g = ok(
        &g,
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}, {"value": "u4"}]}]),
        Dialect::Entra,
    );
    assert_eq!(g["members"], json!([{"value": "u2"}, {"value": "u3"}]));
    let e = fail(
        &group(),
        json!([{"op": "remove", "path": "members", "value": [{"value": "u1"}]}]),
        Dialect::Generic,
    );
    assert_eq!(e.scim_type.as_str(), "invalidValue");
    let g = ok(
        &group(),
        json!([{"op": "Replace", "path": "displayName", "value": "New"}]),
        Dialect::Entra,
    );
    assert_eq!(g["displayName"], "New");
}

/// RFC 7643 §2.5 / idp-behavior §3.1(d): explicit null means "no value".
#[test]
fn explicit_null_clears() {
    let u = ok(
        &user(),
        json!([{"op": "replace", "path": "name.givenName", "value": null}, {"op": "replace", "path": "active", "value": null}]),
        Dialect::Entra,
    );
    assert_eq!(u["name"], json!({"familyName": "Jensen"}));
    assert!(u.get("active").is_none());
    let u = ok(
        &user(),
        json!([{"op": "replace", "value": {"title": null, "userName": "b2", format!("{ENT}:manager"): null}}]),
        Dialect::Entra,
    );
    assert_eq!(u["userName"], "b2");
    assert!(u.get("title").is_none());
    let u = ok(
        &user(),
        json!([{"op": "add", "path": "nickName", "value": null}]),
        Dialect::Entra,
    );
    assert_eq!(u, user());
}

/// Attribute names are case-insensitive (RFC 7643 §2.1): existing keys keep their spelling.
#[test]
fn case_insensitive_targets() {
    let u = ok(
        &user(),
        json!([{"op": "replace", "path": "USERNAME", "value": "x"}, {"op": "replace", "path": "Name.GivenName", "value": "G"}]),
        Dialect::Generic,
    );
    assert_eq!(
        (&u["userName"], &u["name"]["givenName"]),
        (&json!("x"), &json!("G"))
    );
    assert!(u.get("USERNAME").is_none());
}

/// The membership extraction covers Okta and Entra shapes without listing the group.
#[test]
fn member_changes_shapes() {
    let o = opts(Dialect::Entra);
    let ops = parse(&body(json!([
        {"op": "replace", "value": {"id": "g1", "displayName": "New"}},
        {"op": "add", "path": "members", "value": [{"value": "u1", "display": "a"}, {"value": "u2"}]},
        {"op": "remove", "path": "members[value eq \"u3\"]"},
        {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u2"}]},
        {"op": "remove", "path": "members[value eq \"u4\" or value eq \"u5\"]"}])), &o).unwrap();
    let mc = member_changes(&ops).unwrap();
    assert_eq!(mc.add, vec!["u1"]);
    assert_eq!(mc.remove, vec!["u3", "u2", "u4", "u5"]);
    assert_eq!(mc.replace_all, None);
    assert_eq!(mc.other_ops.len(), 1);
    let ops = parse(
        &body(json!([
        {"op": "add", "path": "members", "value": [{"value": "u1"}]},
        {"op": "replace", "path": "members", "value": []},
        {"op": "add", "path": "members", "value": [{"value": "u9"}]},
        {"op": "remove", "path": "members[display eq \"x\"]"}])),
        &o,
    )
    .unwrap();
    let mc = member_changes(&ops).unwrap();
    assert_eq!((mc.add.len(), mc.remove.len()), (0, 0));
    assert_eq!(mc.replace_all, Some(vec!["u9".to_owned()]));
    assert_eq!(
        mc.other_ops.len(),
        1,
        "an unrecognised member filter stays an op"
    );
    let ops = parse(&body(json!([{"op": "remove", "path": "members"}])), &o).unwrap();
    assert_eq!(member_changes(&ops).unwrap().replace_all, Some(vec![]));
    let ops = parse(
        &body(json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}])),
        &o,
    )
    .unwrap();
    assert_eq!(
        member_changes(&ops).unwrap_err().scim_type.as_str(),
        "invalidValue"
    );
}

fn json_strategy() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        prop_oneof![
            Just("True".to_owned()),
            Just("u1".to_owned()),
            any::<String>()
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("value".to_owned()),
                    Just("type".to_owned()),
                    Just("primary".to_owned()),
                    Just("name.givenName".to_owned()),
                    Just(ENT.to_owned()),
                    "[a-z.:]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn path_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(json!("members")),
        Just(json!("emails[type eq \"work\"].value")),
        Just(json!("emails[type eq \"work\" or value pr]")),
        Just(json!("members[value eq \"u1\"]")),
        Just(json!("name.givenName")),
        Just(json!("active")),
        Just(json!(format!("{ENT}:manager"))),
        Just(json!("userName")),
        any::<String>().prop_map(Value::String),
    ]
}

fn op_strategy() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("add"), Just("Replace"), Just("remove"), Just("x")],
        path_strategy(),
        proptest::option::of(json_strategy()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = json!({"op": op, "path": path});
            if let (Some(v), Some(obj)) = (value, o.as_object_mut()) {
                obj.insert("value".to_owned(), v);
            }
            o
        })
}

proptest! {
    /// No PATCH body panics parse or apply, in any dialect; failures leave the resource unchanged.
    #[test]
    fn arbitrary_patches_never_panic(ops in prop::collection::vec(op_strategy(), 1..6), res in prop_oneof![Just(user()), Just(group()), json_strategy()]) {
        for dialect in [Dialect::Okta, Dialect::Entra, Dialect::Generic] {
            let o = opts(dialect);
            if let Ok(parsed) = parse(&body(Value::Array(ops.clone())), &o) {
                let mut r = res.clone();
                if apply(&mut r, &parsed, &o).is_err() {
                    prop_assert_eq!(&r, &res);
                }
                let _ = member_changes(&parsed);
            }
        }
    }

    /// A replace followed by a read shows exactly that change (RFC 7644 §3.5.2.3).
    #[test]
    fn replace_then_read_shows_the_change(name in "[a-z][a-zA-Z]{0,8}", value in any::<String>()) {
        prop_assume!(!["id", "meta", "groups", "schemas", "active", "emails", "name"].contains(&name.to_ascii_lowercase().as_str()));
        let after = ok(&user(), json!([{"op": "replace", "path": name.clone(), "value": value.clone()}]), Dialect::Generic);
        let mut expected = user();
        let key = expected.as_object().and_then(|m| m.keys().find(|k| k.eq_ignore_ascii_case(&name)).cloned()).unwrap_or(name);
        expected[key.as_str()] = json!(value);
        prop_assert_eq!(after, expected);
    }
}
