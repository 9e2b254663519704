//! The undo log seen from outside: a PATCH that fails midway leaves the
//! resource exactly as it was (RFC 7644 §3.5.2: the operations are atomic).

use serde_json::json;

use super::super::{Dialect, PATCH_OP_URN, PatchOptions, apply, apply_to_copy, parse};

fn fails_unchanged(resource: serde_json::Value, ops: serde_json::Value) {
    let opts = PatchOptions {
        dialect: Dialect::Entra,
        ..PatchOptions::default()
    };
    let body = json!({"schemas": [PATCH_OP_URN], "Operations": ops});
    let parsed = parse(&body, &opts).expect("parses");
    let mut r = resource.clone();
    let err = apply(&mut r, &parsed, &opts).expect_err("fails");
    assert_eq!(r, resource);
    // Without the undo log: the same error.
    let mut copy = resource.clone();
    let err_copy = apply_to_copy(&mut copy, &parsed, &opts).expect_err("fails");
    assert_eq!(format!("{err_copy:?}"), format!("{err:?}"));
}

/// A PATCH applied to a working copy without the undo log gives the
/// resource `apply` gives: path-less, with a path, a whole extension.
#[test]
fn apply_to_copy_is_apply() {
    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1", "userName": "a", "active": true, "name": {"familyName": "B"},
        "emails": [{"type": "work", "value": "a@x", "primary": true}]
    });
    let cases = [
        json!([{"op": "replace", "value": {"active": false, "name.givenName": "A"}}]),
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "b@x"},
               {"op": "remove", "path": "name.familyName"}]),
        json!([{"op": "add", "path": ext, "value": {"department": "R&D"}}]),
    ];
    let opts = PatchOptions {
        dialect: Dialect::Entra,
        ..PatchOptions::default()
    };
    for ops in cases {
        let body = json!({"schemas": [PATCH_OP_URN], "Operations": ops});
        let parsed = parse(&body, &opts).expect("parses");
        let (mut a, mut b) = (user.clone(), user.clone());
        apply(&mut a, &parsed, &opts).expect("applies");
        apply_to_copy(&mut b, &parsed, &opts).expect("applies");
        assert_ne!(a, user, "{ops}");
        assert_eq!(b, a, "{ops}");
    }
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
