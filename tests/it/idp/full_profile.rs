//! The bundled app through `config/example.toml` keeps every attribute
//! Okta and Entra send by default — the whole core User and the
//! enterprise extension — so no IdP resends an attribute it sees dropped:
//! Okta's full-profile create and Entra's attribute PATCHes land in the
//! app's store and read back unchanged.

use crate::support;

use http::StatusCode;
use serde_json::{Value, json};
use support::*;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn okta_full_profile() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "userName": "full.profile@okta.local",
        "name": {"givenName": "Full", "familyName": "Profile", "middleName": "Q",
                 "honorificPrefix": "Dr.", "honorificSuffix": "PhD"},
        "displayName": "Dr. Full Q. Profile",
        "nickName": "Fully",
        "profileUrl": "https://intranet.example/fully",
        "title": "Architect",
        "userType": "Employee",
        "preferredLanguage": "en-GB",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "emails": [{"primary": true, "value": "full.profile@okta.local", "type": "work"}],
        "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"},
                         {"value": "+44 7700 900000", "type": "mobile"}],
        "addresses": [{"type": "work", "streetAddress": "1 Main St", "locality": "London",
                       "region": "LDN", "postalCode": "EC1A 1AA", "country": "GB"}],
        "externalId": "00u1full",
        "active": true,
        "password": "s3cret-Pass",
        "groups": [],
        ENT: {"employeeNumber": "E-1001", "costCenter": "CC-7", "organization": "Example Ltd",
              "division": "Platform", "department": "R&D",
              "manager": {"value": "1001", "displayName": "Ada Lovelace"}}
    })
}

#[tokio::test]
async fn okta_full_profile_is_stored_and_read_back() {
    let (sc, app) = start_example().await;
    let sent = okta_full_profile();
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(sent.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let stored = app.user(&id).expect("stored");
    assert_eq!(stored["profile"]["middle"], "Q");
    assert_eq!(stored["profile"]["timezone"], "Europe/London");
    assert_eq!(stored["org"]["employee_number"], "E-1001");
    assert_eq!(stored["org"]["manager_id"], "1001");
    assert_eq!(stored["contact"]["addresses"][0]["postal_code"], "EC1A 1AA");
    let mut name = sent["name"].clone();
    name["formatted"] = json!("Full Profile");
    assert_eq!(created["name"], name, "formatted is computed");
    for key in [
        "nickName",
        "profileUrl",
        "userType",
        "preferredLanguage",
        "timezone",
        "addresses",
    ] {
        assert_eq!(created[key], sent[key], "{key}");
    }
    // RFC 7643 §4.3: `manager.displayName` is readOnly; the app keeps the id.
    let mut ent = sent[ENT].clone();
    ent["manager"] = json!({"value": "1001"});
    assert_eq!(created[ENT], ent);
    let phones: Vec<&str> = created["phoneNumbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(phones, ["work", "mobile"]);
}

#[tokio::test]
async fn entra_attribute_patches_reach_the_app() {
    let (sc, app) = start_example().await;
    let (_, created) = call(&sc, "POST", "/scim/v2/Users", Some(okta_full_profile())).await;
    let id = created["id"].as_str().unwrap().to_owned();
    let ops = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Leeds"},
        {"op": "replace", "path": format!("{ENT}:costCenter"), "value": "CC-9"},
        {"op": "replace", "path": format!("{ENT}:manager"), "value": {"value": "1002"}},
        {"op": "remove", "path": "nickName"},
        {"op": "replace", "path": "preferredLanguage", "value": "de-DE"}
    ]});
    let (status, r) = call(&sc, "PATCH", &format!("/scim/v2/Users/{id}"), Some(ops)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let stored = app.user(&id).unwrap();
    assert_eq!(stored["contact"]["addresses"][0]["locality"], "Leeds");
    assert_eq!(stored["contact"]["addresses"][0]["street"], "1 Main St");
    assert_eq!(stored["org"]["cost_center"], "CC-9");
    assert_eq!(stored["org"]["manager_id"], "1002");
    assert!(stored["profile"].get("nickname").is_none(), "{stored}");
    assert_eq!(stored["profile"]["preferred_language"], "de-DE");
    assert!(r.get("nickName").is_none());
}
