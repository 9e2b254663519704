//! Every PATCH path form of RFC 7644 §3.5.2 against the bundled example
//! app through `config/example.toml`: an attribute, a sub-attribute, a
//! value filter (with and without a sub-attribute), an extension schema's
//! URN with an object of its attributes, an extension attribute, and no
//! path; each with add, replace and remove, each checked in the app's own
//! store. Every form that parses is applied or refused with 400, never
//! answered 200 unapplied. Groups keep the `externalId` Entra sends.

use crate::lifecycle::ENTERPRISE_URN as ENT;
use crate::support::{call, start_example};
use serde_json::{Value, json};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn patch_body(op: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [op]})
}

/// The stored value at a JSON pointer, `null` when absent.
fn at(stored: &Value, pointer: &str) -> Value {
    stored.pointer(pointer).cloned().unwrap_or(Value::Null)
}

/// One PATCH operation and what the app must hold afterwards.
struct Case {
    form: &'static str,
    op: Value,
    stored: Vec<(&'static str, Value)>,
}

fn case(form: &'static str, op: Value, stored: &[(&'static str, Value)]) -> Case {
    Case {
        form,
        op,
        stored: stored.to_vec(),
    }
}

fn cases() -> Vec<Case> {
    let work = "emails[type eq \"work\"]";
    vec![
        case(
            "attribute",
            json!({"op": "add", "path": "title", "value": "T1"}),
            &[("/profile/title", json!("T1"))],
        ),
        case(
            "attribute",
            json!({"op": "replace", "path": "title", "value": "T2"}),
            &[("/profile/title", json!("T2"))],
        ),
        case(
            "attribute",
            json!({"op": "remove", "path": "title"}),
            &[("/profile/title", Value::Null)],
        ),
        case(
            "sub-attribute",
            json!({"op": "add", "path": "name.middleName", "value": "M1"}),
            &[("/profile/middle", json!("M1"))],
        ),
        case(
            "sub-attribute",
            json!({"op": "replace", "path": "name.middleName", "value": "M2"}),
            &[
                ("/profile/middle", json!("M2")),
                ("/profile/first", json!("Ada")),
            ],
        ),
        case(
            "sub-attribute",
            json!({"op": "remove", "path": "name.middleName"}),
            &[
                ("/profile/middle", Value::Null),
                ("/profile/first", json!("Ada")),
            ],
        ),
        case(
            "value filter",
            json!({"op": "add", "path": format!("{work}.value"), "value": "f1@example.com"}),
            &[("/contact/email", json!("f1@example.com"))],
        ),
        case(
            "value filter",
            json!({"op": "replace", "path": work, "value": {"type": "work", "value": "f2@example.com"}}),
            &[("/contact/email", json!("f2@example.com"))],
        ),
        case(
            "value filter",
            json!({"op": "remove", "path": work}),
            &[("/contact/email", Value::Null)],
        ),
        case(
            "extension URN",
            json!({"op": "add", "path": ENT, "value": {"department": "d1", "employeeNumber": "e1"}}),
            &[
                ("/dept", json!("d1")),
                ("/org/employee_number", json!("e1")),
            ],
        ),
        case(
            "extension URN",
            json!({"op": "replace", "path": ENT, "value": {"department": "d2"}}),
            &[
                ("/dept", json!("d2")),
                ("/org/employee_number", json!("e1")),
            ],
        ),
        case(
            "extension URN",
            json!({"op": "remove", "path": ENT}),
            &[
                ("/dept", Value::Null),
                ("/org/employee_number", Value::Null),
            ],
        ),
        case(
            "extension attribute",
            json!({"op": "add", "path": format!("{ENT}:costCenter"), "value": "c1"}),
            &[("/org/cost_center", json!("c1"))],
        ),
        case(
            "extension attribute",
            json!({"op": "replace", "path": format!("{ENT}:costCenter"), "value": "c2"}),
            &[("/org/cost_center", json!("c2"))],
        ),
        case(
            "extension attribute",
            json!({"op": "remove", "path": format!("{ENT}:costCenter")}),
            &[("/org/cost_center", Value::Null)],
        ),
        case(
            "no path",
            json!({"op": "add", "value": {"nickName": "n1", ENT: {"division": "v1"}}}),
            &[
                ("/profile/nickname", json!("n1")),
                ("/org/division", json!("v1")),
            ],
        ),
        case(
            "no path",
            json!({"op": "replace", "value": {"nickName": "n2", format!("{ENT}:division"): "v2"}}),
            &[
                ("/profile/nickname", json!("n2")),
                ("/org/division", json!("v2")),
            ],
        ),
    ]
}

#[tokio::test]
async fn every_rfc_patch_path_form_is_stored_in_the_app() {
    let (sc, app) = start_example().await;
    let id = "1001";
    assert_eq!(
        app.user(id).expect("seeded")["login"],
        "ada.lovelace@example.com"
    );
    for c in cases() {
        let (status, answer) = call(
            &sc,
            "PATCH",
            &format!("/scim/v2/Users/{id}"),
            Some(patch_body(c.op.clone())),
        )
        .await;
        assert_eq!(status, 200, "{} {}: {answer}", c.form, c.op);
        let stored = app.user(id).expect("the user");
        for (pointer, want) in &c.stored {
            assert_eq!(
                &at(&stored, pointer),
                want,
                "{} {}: app {pointer} in {stored}",
                c.form,
                c.op
            );
        }
        let (_, read) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
        assert_eq!(
            read, answer,
            "{} {}: the answer is what a read shows",
            c.form, c.op
        );
    }
    // RFC 7644 §3.5.2.2: remove needs a path; a schema path needs an object.
    let refused = [
        json!({"op": "remove", "value": {"nickName": "n2"}}),
        json!({"op": "replace", "path": ENT, "value": "d3"}),
        json!({"op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:User"}),
    ];
    for op in refused {
        let before = app.user(id);
        let (status, answer) = call(
            &sc,
            "PATCH",
            &format!("/scim/v2/Users/{id}"),
            Some(patch_body(op.clone())),
        )
        .await;
        assert_eq!(status, 400, "{op}: {answer}");
        assert_eq!(app.user(id), before, "{op}: nothing stored");
    }
}

/// Entra's default group mapping sends `externalId` (its `objectId`); the
/// example app keeps it on the team.
#[tokio::test]
async fn example_groups_keep_external_id() {
    let (sc, app) = start_example().await;
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Ops", "externalId": "9a1f-objectid", "members": []
    });
    let (status, created) = call(&sc, "POST", "/scim/v2/Groups", Some(group)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["externalId"], "9a1f-objectid");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        app.team(&id).expect("the team")["external_id"],
        "9a1f-objectid"
    );
    let op = json!({"op": "replace", "path": "externalId", "value": "7c2e-objectid"});
    let (status, _) = call(
        &sc,
        "PATCH",
        &format!("/scim/v2/Groups/{id}"),
        Some(patch_body(op)),
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(
        app.team(&id).expect("the team")["external_id"],
        "7c2e-objectid"
    );
    let (_, read) = call(&sc, "GET", &format!("/scim/v2/Groups/{id}"), None).await;
    assert_eq!(read["externalId"], "7c2e-objectid");
}
