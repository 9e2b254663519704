//! The undo log seen from outside: a PATCH that fails midway leaves the
//! resource exactly as it was (RFC 7644 §3.5.2: the operations are atomic).

use serde_json::json;

use super::super::{Dialect, PATCH_OP_URN, PatchOptions, apply, parse};

fn fails_unchanged(resource: serde_json::Value, ops: serde_json::Value) {
    let opts = PatchOptions {
        dialect: Dialect::Entra,
        ..PatchOptions::default()
    };
    let body = json!({"schemas": [PATCH_OP_URN], "Operations": ops});
    let parsed = parse(&body, &opts).expect("parses");
    let mut r = resource.clone();
    assert!(apply(&mut r, &parsed, &opts).is_err());
    assert_eq!(r, resource);
}

#[test]
fn failed_patches_restore_touched_members() {
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1", "userName": "a", "NAME": {"givenName": "A"}, "name": {"familyName": "B"},
        "emails": [{"type": "work", "value": "a@x", "primary": true}]
    });
    fails_unchanged(
        user.clone(),
        json!([
            {"op": "replace", "path": "name.givenName", "value": "C"},
            {"op": "add", "path": format!("{ext}:department"), "value": "R"},
            {"op": "add", "path": "Emails", "value": [{"value": "b@x", "primary": true}]},
            {"op": "remove", "path": "nickName"},
            {"op": "replace", "path": "id", "value": "2"}
        ]),
    );
    fails_unchanged(
        user,
        json!([
            {"op": "add", "path": "title", "value": "T"},
            {"op": "replace", "value": {"displayName": "D", "userName": "z"}},
            {"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "c@x"}}
        ]),
    );
    fails_unchanged(
        json!([1, 2]),
        json!([{"op": "add", "path": "title", "value": "T"}]),
    );
}
