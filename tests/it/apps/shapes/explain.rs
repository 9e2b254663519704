//! `explain` on the shapes: the calls each makes for a PATCH, read from
//! the app and written nowhere — a read by id through the filtered list
//! with its cost stated, the id in the body of a method-URL update, JSON
//! Patch operations with their media type, a key as last read.

use super::app::{Shape, ShapeApp};
use super::{INVITE, JSON_PATCH, JsonPatch, Kind, LIST_ONLY, RPC, config};
use crate::lifecycle::{Idp, patch};
use scim_sidecar::cli::explain::{Request, explain};
use serde_json::json;

/// The explanation of a PATCH of `givenName` on the seeded user `u1`.
async fn explained(shape: Shape, mapping: &str, attributes: &str) -> (String, ShapeApp, String) {
    let app = ShapeApp::new(shape);
    app.seed("ada@example.com", "Ada");
    let addr = app.serve().await;
    let text = config(mapping, attributes, addr, Idp::Okta);
    let cfg = scim_sidecar::Config::from_toml(&text, &|_| None).unwrap();
    let body = patch(json!([{"op": "replace", "path": "name.givenName", "value": "Grace"}]));
    let req = Request {
        connection: None,
        method: http::Method::PATCH,
        path: "/scim/v2/Users/u1",
        body: Some(body),
        offline: false,
    };
    let out = explain(cfg, req).await.unwrap();
    assert_eq!(app.user("u1").unwrap()["given"], "Ada", "explain wrote");
    assert!(out.ends_with("No write call was made.\n"), "{out}");
    (out, app, addr.to_string())
}

#[tokio::test]
async fn a_list_only_app_reads_by_id_through_its_list_and_says_what_it_costs() {
    let (out, _, addr) = explained(Shape::ListOnly, LIST_ONLY, "").await;
    assert!(
        out.contains(&format!(
            "Read:\n  GET http://{addr}/accounts?limit=20&offset=0&id=u1\n  (the app has no single-record GET"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("PATCH http://{addr}/accounts/u1")),
        "{out}"
    );
}

#[tokio::test]
async fn an_rpc_update_carries_the_id_in_its_body() {
    let (out, _, addr) = explained(Shape::Rpc, RPC, "").await;
    assert!(
        out.contains(&format!(
            "Read:\n  GET http://{addr}/api/v1/users.info?userId=u1\n"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "POST http://{addr}/api/v1/users.update\n     {{\"data\":{{\"given\":\"Grace\"}},\"userId\":\"u1\"}}"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_json_patch_update_shows_its_operations_and_media_type() {
    let (out, _, addr) = explained(Shape::JsonPatch, JSON_PATCH, JsonPatch::ATTRIBUTES).await;
    assert!(
        out.contains(&format!(
            "PATCH http://{addr}/users/u1\n     content-type: application/json-patch+json\n     [{{\"op\":\"test\",\"path\":\"/version\",\"value\":1}},{{\"op\":\"add\",\"path\":\"/given\",\"value\":\"Grace\"}}]"
        )),
        "{out}"
    );
    assert!(out.contains("carries the app's version"), "{out}");
}

#[tokio::test]
async fn an_update_keyed_by_username_uses_the_username_as_read() {
    let (out, _, addr) = explained(Shape::Invite, INVITE, "").await;
    assert!(
        out.contains(&format!(
            "PUT http://{addr}/admin/realms/acme/users/ada%40example.com\n"
        )),
        "{out}"
    );
}
