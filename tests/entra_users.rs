//! Microsoft Entra ID's request shapes (test connection with a random GUID,
//! `externalId` lookups, create bodies with explicit nulls and the
//! enterprise extension, capitalised PATCH ops, string booleans, path-less
//! replace with dotted and URN keys, bare-string `manager`, DELETE) against
//! the bundled app through `config/example.toml`, on a connection whose
//! dialect is `entra`. Every state change is checked in the app itself.

mod support;

use http::StatusCode;
use serde_json::{Value, json};
use support::*;

const ENTRA_TOKEN: &str = "entra-tenant-token-0123456789abcdefghijklmnop";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
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

fn entra_create() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@testuser.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "title": null,
        "phoneNumbers": null,
        ENT: {"department": "Finance", "manager": null}
    })
}

fn ops(ops: Value) -> Value {
    json!({"Operations": ops, "schemas": [PATCH_URN]})
}

#[tokio::test]
async fn test_connection_queries_a_random_guid() {
    let (sc, _) = start_entra().await;
    let (status, body) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName+eq+%2285e5c1a7-5f55-4a5b-bb5d-8ad9c0ea2f8c%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["totalResults"], json!(0));
    assert_eq!(body["Resources"], json!([]));
}

#[tokio::test]
async fn create_with_nulls_then_find_by_external_id() {
    let (sc, app) = start_entra().await;
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(entra_create())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["externalId"],
        "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    );
    assert_eq!(created[ENT]["department"], "Finance");
    let stored = app.user(&id).unwrap();
    assert_eq!(stored["dept"], "Finance");
    // config/example.toml writes e-mails lower-cased; the draft of
    // tests/draft_sequences.rs stores them as sent.
    let email = match drafted_example() {
        false => "test_user_fd0ea19b@testuser.com",
        true => "Test_User_fd0ea19b@testuser.com",
    };
    assert_eq!(stored["contact"]["email"], email);
    assert!(stored["profile"]["title"].is_null());

    let (status, found) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=externalId+eq+%220a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["totalResults"], json!(1));
    assert_eq!(found["Resources"][0]["id"], id.as_str());
    // externalId is caseExact: another case is a different value.
    let (_, none) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=externalId+eq+%220A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF%22",
        None,
    )
    .await;
    assert_eq!(none["totalResults"], json!(0));
}

#[tokio::test]
async fn capitalised_replace_ops_update_the_app() {
    let (sc, app) = start_entra().await;
    let body = ops(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
        {"op": "Add", "path": "displayName", "value": "Babs"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}
    ]));
    let (status, user) = call(&sc, "PATCH", "/scim/v2/Users/1001", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let stored = app.user("1001").unwrap();
    let email = match drafted_example() {
        false => "updatedemail@microsoft.com",
        true => "updatedEmail@microsoft.com",
    };
    assert_eq!(stored["contact"]["email"], email);
    assert_eq!(stored["profile"]["last"], "updatedFamilyName");
    assert_eq!(stored["profile"]["display"], "Babs");
    assert_eq!(stored["dept"], "Sales");
    assert_eq!(stored["profile"]["first"], "Ada", "untouched fields stay");
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
async fn string_boolean_disable_and_enable() {
    let (sc, app) = start_entra().await;
    let (status, user) = call(
        &sc,
        "PATCH",
        "/scim/v2/Users/1002",
        Some(ops(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        user["active"], false,
        "booleans are returned as JSON booleans"
    );
    assert_eq!(app.user("1002").unwrap()["state"], "SUSPENDED");
    // A disabled user is still returned by GET and by filter.
    let (status, got) = call(&sc, "GET", "/scim/v2/Users/1002", None).await;
    assert_eq!(
        (status, got["active"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (_, found) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName+eq+%22alan.turing%40example.com%22",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], json!(1));
    let (status, _) = call(
        &sc,
        "PATCH",
        "/scim/v2/Users/1002",
        Some(ops(
            json!([{"op": "Replace", "path": "active", "value": "true"}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.user("1002").unwrap()["state"], "ACTIVE");
    // With the RFC flag: a real boolean, lower-case op.
    let (status, _) = call(
        &sc,
        "PATCH",
        "/scim/v2/Users/1002",
        Some(ops(
            json!([{"op": "replace", "path": "active", "value": false}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.user("1002").unwrap()["state"], "SUSPENDED");
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
async fn delete_then_get_is_404_and_filter_finds_nothing() {
    let (sc, app) = start_entra().await;
    let (status, _) = call(&sc, "DELETE", "/scim/v2/Users/1003", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.user("1003").is_none());
    let (status, err) = call(&sc, "GET", "/scim/v2/Users/1003", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["status"], "404");
    let (_, found) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName+eq+%22grace.hopper%40example.com%22",
        None,
    )
    .await;
    assert_eq!(found["totalResults"], json!(0));
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
