//! Fuzzes PatchOp parsing and application (RFC 7644 §3.5.2).
//!
//! For every input that is JSON, `patch::parse` runs in each [`Dialect`];
//! when the ops parse they are applied to clones of a fixed, realistic User
//! (and of a Group, for the membership shapes Okta and Entra send).
//! Properties checked:
//! 1. Nothing panics (`parse`, `apply`, `member_changes`).
//! 2. Dialects are ordered: if the strict `Generic` dialect accepts a body,
//!    Okta and Entra accept it too and produce equal ops.
//! 3. Atomicity: when `apply` fails the resource equals the original.
//! 4. Determinism: applying the same ops to another clone gives the same
//!    outcome.
//! 5. On success the result is still a JSON object and the readOnly
//!    attributes `id`, `meta` and `groups` (RFC 7643 §2.2; compared
//!    case-insensitively by key) are unchanged in every dialect.
//! 6. On success no multi-valued attribute (top level or inside an extension
//!    object) has more than one `"primary": true` element (RFC 7643 §2.4).
//! 7. `member_changes` keeps `add` and `remove` disjoint and duplicate-free,
//!    and both empty when it reports `replace_all`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scim_sidecar::protocol::patch::{self, Dialect, Op, PatchOptions};
use serde_json::{Map, Value, json};

static USER: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_dfeef4c5@contoso.com",
        "name": {
            "formatted": "Ms. Barbara J Jensen III",
            "familyName": "Jensen",
            "givenName": "Barbara"
        },
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "title": "Tour Guide",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [
            {"value": "555-555-5555", "type": "work", "primary": true},
            {"value": "555-555-4444", "type": "mobile"}
        ],
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "costCenter": "4130",
            "department": "Tour Operations",
            "manager": {
                "value": "26118915-6090-4610-87e4-49d8ca9f808d",
                "displayName": "John Smith"
            }
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34Z",
            "version": "W/\"3694e05e9dff591\""
        }
    })
});

static GROUP: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Tour Guides",
        "members": [
            {"value": "2819c223-7f76-453a-919d-413861904646", "display": "Babs Jensen"},
            {"value": "902c246b-6245-4190-8e05-00816be7344a", "display": "Mandy Pepperidge"}
        ],
        "meta": {"resourceType": "Group", "version": "W/\"v1\""}
    })
});

const READ_ONLY: [&str; 3] = ["id", "meta", "groups"];

/// The `(key, value)` pairs whose key equals `name` ignoring ASCII case.
fn entries<'v>(v: &'v Value, name: &str) -> Vec<(&'v String, &'v Value)> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an element is `"primary": true`, looking the key up the way the
/// library does (exact key first, else the first case-insensitive match), so
/// that ambiguous duplicates such as `{"primary":false,"PRIMARY":true}` are
/// not reported.
fn primary_true(v: &Value) -> bool {
    let Some(o) = v.as_object() else {
        return false;
    };
    let p = o.get("primary").or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("primary"))
            .map(|(_, v)| v)
    });
    p == Some(&Value::Bool(true))
}

fn check_primaries(map: &Map<String, Value>, where_: &str, ctx: &str) {
    for (k, v) in map {
        match v {
            Value::Array(items) => {
                let n = items.iter().filter(|e| primary_true(e)).count();
                assert!(
                    n <= 1,
                    "{n} elements of {where_}{k} are primary after a successful PATCH\n{ctx}"
                );
            }
            Value::Object(ext) if k.to_ascii_lowercase().starts_with("urn:") => {
                check_primaries(ext, &format!("{k}:"), ctx);
            }
            _ => {}
        }
    }
}

fn check_apply(original: &Value, ops: &[Op], opts: &PatchOptions<'_>, body: &Value) {
    let ctx = || format!("dialect: {:?}\nbody: {body}", opts.dialect);
    let mut work = original.clone();
    let result = patch::apply(&mut work, ops, opts);

    let mut again = original.clone();
    let result2 = patch::apply(&mut again, ops, opts);
    assert_eq!(result, result2, "apply is not deterministic\n{}", ctx());
    assert_eq!(work, again, "apply is not deterministic\n{}", ctx());

    match result {
        Err(e) => assert_eq!(
            &work,
            original,
            "failed PATCH ({}: {}) modified the resource\n{}",
            e.scim_type,
            e.detail,
            ctx()
        ),
        Ok(()) => {
            let map = work
                .as_object()
                .unwrap_or_else(|| panic!("resource is no longer an object\n{}", ctx()));
            for name in READ_ONLY {
                assert_eq!(
                    entries(&work, name),
                    entries(original, name),
                    "readOnly attribute {name:?} changed by a successful PATCH\n{}",
                    ctx()
                );
            }
            check_primaries(map, "", &ctx());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let parsed: Vec<(Dialect, Result<Vec<Op>, patch::PatchError>)> =
        [Dialect::Generic, Dialect::Okta, Dialect::Entra]
            .into_iter()
            .map(|dialect| {
                let opts = PatchOptions {
                    dialect,
                    ..PatchOptions::default()
                };
                (dialect, patch::parse(&body, &opts))
            })
            .collect();

    if let Some((_, Ok(strict))) = parsed.first() {
        for (dialect, lenient) in &parsed[1..] {
            assert_eq!(
                lenient.as_ref(),
                Ok(strict),
                "{dialect:?} rejects or changes a body Generic accepts\nbody: {body}"
            );
        }
    }

    for (dialect, ops) in &parsed {
        let Ok(ops) = ops else { continue };
        let opts = PatchOptions {
            dialect: *dialect,
            ..PatchOptions::default()
        };
        check_apply(&USER, ops, &opts, &body);
        check_apply(&GROUP, ops, &opts, &body);

        if let Ok(mc) = patch::member_changes(ops) {
            for list in [&mc.add, &mc.remove] {
                for (i, id) in list.iter().enumerate() {
                    assert!(!list[..i].contains(id), "duplicate member id {id:?}\nbody: {body}");
                }
            }
            assert!(
                mc.add.iter().all(|a| !mc.remove.contains(a)),
                "member id both added and removed: {mc:?}\nbody: {body}"
            );
            if mc.replace_all.is_some() {
                assert!(
                    mc.add.is_empty() && mc.remove.is_empty(),
                    "replace_all with pending add/remove: {mc:?}\nbody: {body}"
                );
            }
        }
    }
});
