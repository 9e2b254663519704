//! Discovery generated from the mapping (RFC 7644 §4): `/Schemas` for
//! `config/example.toml` lists exactly its mapped attributes with their
//! characteristics, `/ResourceTypes` names the extensions in use, and
//! `/ServiceProviderConfig` states what this deployment really supports.

use crate::support;

use http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use support::*;

fn attr<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in schema"))
}

#[tokio::test]
async fn schemas_list_exactly_the_mapped_attributes() {
    let (sc, _) = start_example().await;
    let (status, list) = call(&sc, "GET", "/scim/v2/Schemas", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"
    );
    assert_eq!(
        list["totalResults"],
        json!(3),
        "User, EnterpriseUser, Group"
    );
    let user = &list["Resources"][0];
    assert_eq!(user["id"], "urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(user["description"], "User Account");
    let names: BTreeSet<&str> = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = [
        "userName",
        "externalId",
        "name",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "emails",
        "phoneNumbers",
        "addresses",
        "active",
    ]
    .into_iter()
    .collect();
    assert_eq!(names, expected, "only mapped attributes are advertised");

    let user_name = attr(user, "userName");
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    let name = attr(user, "name");
    let subs: BTreeSet<&str> = name["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        subs,
        [
            "familyName",
            "formatted",
            "givenName",
            "honorificPrefix",
            "honorificSuffix",
            "middleName"
        ]
        .into_iter()
        .collect()
    );
    let formatted = name["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "formatted")
        .unwrap();
    assert_eq!(
        formatted["mutability"], "readOnly",
        "a template is read-only"
    );
    assert_eq!(attr(user, "emails")["multiValued"], true);
    assert_eq!(attr(user, "active")["type"], "boolean");

    let ent = &list["Resources"][1];
    assert_eq!(
        ent["id"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );
    let ent_names: BTreeSet<&str> = ent["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    let every: BTreeSet<&str> = [
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
        "manager",
    ]
    .into_iter()
    .collect();
    assert_eq!(ent_names, every, "the whole enterprise extension");
    assert_eq!(attr(ent, "department")["type"], "string");
    let manager: BTreeSet<&str> = attr(ent, "manager")["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(manager, ["displayName", "value"].into_iter().collect());

    let (status, one) = call(
        &sc,
        "GET",
        "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&one, user);
    let (status, _) = call(&sc, "GET", "/scim/v2/Schemas/urn:nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn resource_types_and_service_provider_config_tell_the_truth() {
    let (sc, _) = start_example().await;
    let (status, rts) = call(&sc, "GET", "/scim/v2/ResourceTypes", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rts["totalResults"], json!(2), "Users and Groups are mapped");
    let user = &rts["Resources"][0];
    let group = &rts["Resources"][1];
    assert_eq!(group["endpoint"], "/Groups");
    assert_eq!(group["schemaExtensions"], json!([]));
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], "urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(
        user["schemaExtensions"][0]["schema"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
    );
    let (_, one) = call(&sc, "GET", "/scim/v2/ResourceTypes/User", None).await;
    assert_eq!(&one, user);

    let (_, spc) = call(&sc, "GET", "/scim/v2/ServiceProviderConfig", None).await;
    assert_eq!(spc["patch"]["supported"], true);
    assert_eq!(spc["filter"]["supported"], true);
    assert_eq!(spc["filter"]["maxResults"], json!(200));
    assert_eq!(spc["etag"]["supported"], true, "meta.version is mapped");
    assert_eq!(spc["bulk"]["supported"], false);
    assert_eq!(spc["changePassword"]["supported"], false);
    assert!(spc["bulk"]["maxOperations"].is_number() && spc["bulk"]["maxPayloadSize"].is_number());
}

#[tokio::test]
async fn projection_and_etags_on_reads() {
    let (sc, _) = start_example().await;
    let (_, list) = call(
        &sc,
        "GET",
        "/scim/v2/Users?attributes=userName,name.givenName&count=1",
        None,
    )
    .await;
    let first = &list["Resources"][0];
    let keys: BTreeSet<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["id", "name", "schemas", "userName"].into_iter().collect()
    );
    assert_eq!(first["name"], json!({"givenName": "Ada"}));

    let (_, one) = call(
        &sc,
        "GET",
        "/scim/v2/Users/1001?excludedAttributes=emails,phoneNumbers,id",
        None,
    )
    .await;
    assert!(one.get("emails").is_none() && one.get("phoneNumbers").is_none());
    assert_eq!(one["id"], "1001", "id is returned always");

    let got = call_with(&sc, "GET", "/scim/v2/Users/1001", None, &[]).await;
    let tag = got.headers["etag"].to_str().unwrap().to_string();
    assert_eq!(tag, "W/\"1\"");
    let r = call_with(
        &sc,
        "GET",
        "/scim/v2/Users/1001",
        None,
        &[("if-none-match", &tag)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_null(), "a 304 has no body: {}", r.body);

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "Countess"}]});
    let r = call_with(
        &sc,
        "PATCH",
        "/scim/v2/Users/1001",
        Some(patch.clone()),
        &[("if-match", "W/\"7\"")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = call_with(
        &sc,
        "PATCH",
        "/scim/v2/Users/1001",
        Some(patch),
        &[("if-match", &tag)],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["title"], "Countess");
    assert_eq!(r.headers["etag"], "W/\"2\"");
}

#[tokio::test]
async fn search_endpoint_and_sorting() {
    let (sc, _) = start_example().await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": "name.familyName sw \"T\" or title eq \"Engineer\"", "sortBy": "userName", "sortOrder": "descending",
        "attributes": ["userName"]});
    let (status, list) = call(&sc, "POST", "/scim/v2/Users/.search", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], json!(2));
    assert_eq!(list["Resources"][0]["userName"], "alan.turing@example.com");
    assert_eq!(list["Resources"][1]["userName"], "ada.lovelace@example.com");
    let (_, sorted) = call(
        &sc,
        "GET",
        "/scim/v2/Users?sortBy=name.givenName&attributes=userName",
        None,
    )
    .await;
    let order: Vec<&str> = sorted["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        vec![
            "ada.lovelace@example.com",
            "alan.turing@example.com",
            "grace.hopper@example.com"
        ]
    );
}
