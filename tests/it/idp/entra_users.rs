//! Microsoft Entra ID's request shapes beyond the lifecycle table's
//! sequence ([`crate::lifecycle`], case `example_entra`), against the
//! bundled app through `config/example.toml` on a second connection whose
//! dialect is `entra`: computed attributes in a PATCH, path-less replace
//! with dotted and URN keys, the lower-case endpoint with Entra's email
//! filter; and the generic dialect, strict where Entra's is lenient.
//! Every state change is checked in the app itself.

use crate::support;

use http::StatusCode;
use serde_json::{Value, json};
use support::*;

const ENTRA_TOKEN: &str = "entra-tenant-token-0123456789abcdefghijklmnop";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn start_entra() -> (Sidecar, demo_app::DemoApp) {
    let (sc, app) = start_example_with(|t| {
        let conn = format!(
            "[[connections]]\nid = \"entra-tenant\"\nidp = \"entra\"\ntokens = [\"{}\"]\n\n# ---------------------------------------------------------------- users",
            scim_sidecar::auth::token_hash_string(ENTRA_TOKEN)
        );
        t.replace("# ---------------------------------------------------------------- users", &conn)
    })
    .await;
    (sc.with_token(ENTRA_TOKEN), app)
}

fn ops(ops: Value) -> Value {
    json!({"Operations": ops, "schemas": [PATCH_URN]})
}

#[tokio::test]
async fn computed_attributes_in_a_patch_do_not_fail_it() {
    // Entra's default mappings send name.formatted (Join of the names); the
    // example maps it as a read-only template.
    let (sc, app) = start_entra().await;
    let body = ops(json!([
        {"op": "Replace", "path": "name.givenName", "value": "Augusta Ada"},
        {"op": "Replace", "path": "name.formatted", "value": "Augusta Ada Lovelace"}
    ]));
    let (status, user) = call(&sc, "PATCH", "/scim/v2/Users/1001", Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["name"]["formatted"], "Augusta Ada Lovelace");
    assert_eq!(app.user("1001").unwrap()["profile"]["first"], "Augusta Ada");
    // The strict dialect refuses the same request without changing anything.
    let (sc, app) = start_example_with(|t| t.replace("idp = \"okta\"", "idp = \"generic\"")).await;
    let (status, err) = call(&sc, "PATCH", "/scim/v2/Users/1001", Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "mutability");
    assert_eq!(app.user("1001").unwrap()["profile"]["first"], "Ada");
}

#[tokio::test]
async fn pathless_replace_with_dotted_and_urn_keys() {
    let (sc, app) = start_entra().await;
    let body = ops(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "grace@navy.mil"},
        {"op": "replace", "value": {
            "displayName": "Amazing Grace",
            "name.givenName": "Grace B.",
            "name.familyName": "Hopper",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Navy"
        }}
    ]));
    let (status, user) = call(&sc, "PATCH", "/scim/v2/Users/1003", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let stored = app.user("1003").unwrap();
    assert_eq!(stored["profile"]["display"], "Amazing Grace");
    assert_eq!(stored["profile"]["first"], "Grace B.");
    assert_eq!(stored["dept"], "Navy");
    assert_eq!(stored["contact"]["email"], "grace@navy.mil");
}

#[tokio::test]
async fn lower_case_endpoint_and_entra_email_filter() {
    let (sc, _) = start_entra().await;
    let (status, list) = call(
        &sc,
        "GET",
        "/scim/v2/users?attributes=userName,emails",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalResults"], json!(3));
    let (status, found) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22ALAN%40example.com%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["totalResults"], json!(1));
    assert_eq!(found["Resources"][0]["id"], "1002");
}

#[tokio::test]
async fn generic_dialect_is_strict_about_string_booleans() {
    let (sc, app) = start_example_with(|t| t.replace("idp = \"okta\"", "idp = \"generic\"")).await;
    let (status, err) = call(
        &sc,
        "PATCH",
        "/scim/v2/Users/1001",
        Some(ops(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "invalidValue");
    assert_eq!(app.user("1001").unwrap()["state"], "ACTIVE");
}
