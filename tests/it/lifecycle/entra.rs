//! Microsoft Entra ID's user sequence, in Entra's request shapes (what
//! Entra sends: test connection with a random GUID, create bodies with
//! explicit nulls and the enterprise extension, lookups by `userName` and
//! `externalId`, capitalised PATCH ops, string booleans, delete), with what
//! any SCIM server must answer; the app checks its store after each step.

use super::okta::{delete, inactive_is_readable_and_findable};
use super::{ENTERPRISE_URN, Idp, Lifecycle, Step, USER_URN, Via, lookup, patch, user_path};
use crate::support::{Sidecar, call};
use http::StatusCode;
use serde_json::{Value, json};

const ENTRA: Idp = Idp::Entra;

/// The `externalId` of Entra's create body.
pub const EXTERNAL_ID: &str = "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef";

/// Entra's create body (what Entra sends by default: explicit nulls, the
/// enterprise extension, `meta`).
pub fn create_body(login: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "externalId": EXTERNAL_ID,
        "userName": login,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "title": null,
        "phoneNumbers": null,
        ENTERPRISE_URN: {"department": "Finance", "manager": null}
    })
}

/// The whole sequence.
pub async fn users<A: Lifecycle>(app: &A, sc: &Sidecar) {
    let login = app.logins(ENTRA).created.0;
    test_connection(sc).await;
    let id = create(app, sc, login).await;
    let path = user_path(&id);
    for (n, ops) in app.entra_patches().into_iter().enumerate() {
        app.fresh(sc);
        let (status, user) = call(sc, "PATCH", &path, Some(patch(ops))).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        app.check(
            sc,
            ENTRA,
            Step::Patched {
                id: &id,
                n,
                user: &user,
            },
        )
        .await;
    }
    string_booleans(app, sc, &id, login).await;
    app.fresh(sc);
    app.check(sc, ENTRA, Step::Own { id: &id }).await;
    delete(app, sc, ENTRA, &id, login).await;
}

/// Entra's test connection looks up a random GUID: an empty list.
async fn test_connection(sc: &Sidecar) {
    let path = "/scim/v2/Users?filter=userName+eq+%2285e5c1a7-5f55-4a5b-bb5d-8ad9c0ea2f8c%22";
    let (status, body) = call(sc, "GET", path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totalResults"], json!(0));
    assert_eq!(body["Resources"], json!([]));
}

/// The create with nulls answers 201; the user is found by `userName`,
/// and by `externalId` where the app keeps it (exactly: `externalId` is
/// case-exact, so another case is another value).
async fn create<A: Lifecycle>(app: &A, sc: &Sidecar, login: &str) -> String {
    app.fresh(sc);
    let (status, created) = call(sc, "POST", "/scim/v2/Users", Some(create_body(login))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("a string id").to_owned();
    assert!(created.get("password").is_none());
    app.check(
        sc,
        ENTRA,
        Step::Created {
            id: &id,
            user: &created,
        },
    )
    .await;

    let found = lookup(sc, login).await;
    assert_eq!(found.len(), 1, "{login}: {found:?}");
    assert_eq!(found[0]["id"], id.as_str());
    if app.keeps_external_id() {
        let by_external = |value: &str| {
            let q = format!("/scim/v2/Users?filter=externalId+eq+%22{value}%22");
            async move { call(sc, "GET", &q, None).await }
        };
        let (status, found) = by_external(EXTERNAL_ID).await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(found["totalResults"], json!(1), "{found}");
        assert_eq!(found["Resources"][0]["id"], id.as_str());
        let (_, none) = by_external(&EXTERNAL_ID.to_uppercase()).await;
        assert_eq!(none["totalResults"], json!(0), "{none}");
    }
    id
}

/// Entra's string booleans disable and enable (returned as JSON
/// booleans), then an RFC boolean with a lower-case op; a disabled user
/// is still readable and findable.
async fn string_booleans<A: Lifecycle>(app: &A, sc: &Sidecar, id: &str, login: &str) {
    let path = user_path(id);
    let steps = [
        ("Replace", json!("False"), false),
        ("Replace", json!("True"), true),
        ("replace", json!(false), false),
        ("Replace", json!("true"), true),
    ];
    for (n, (op, value, active)) in steps.into_iter().enumerate() {
        let body = patch(json!([{"op": op, "path": "active", "value": value}]));
        app.fresh(sc);
        let (status, user) = call(sc, "PATCH", &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{value}: {user}");
        assert_eq!(user["active"], active, "a JSON boolean: {user}");
        let via = Via::Patch;
        app.check(sc, ENTRA, Step::Activated { id, n, via, active })
            .await;
        if !active {
            inactive_is_readable_and_findable(sc, id, login).await;
        }
    }
}
