//! Write claims: the IdP's `If-Match` on PUT and DELETE, a create with
//! `active: false`, `unmapped = "reject"`, and a failure between the two
//! calls of one update.

use http::StatusCode;
use serde_json::{Value, json};

use super::support::faults::Fault;
use super::support::*;

const GRACE: &str = "/scim/v2/Users/1003";

fn user(login: &str, active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": login,
        "name": {"givenName": "Claim", "familyName": "Test"},
        "active": active
    })
}

#[tokio::test]
async fn if_match_guards_put_and_delete() {
    let (sc, app) = start_example().await;
    let got = call_with(&sc, "GET", GRACE, None, &[]).await;
    let tag = got.headers["etag"].to_str().unwrap().to_owned();
    let stale = "W/\"0\"";
    assert_ne!(tag, stale);
    let mut put = got.body.clone();
    put["title"] = json!("Commodore");
    let r = call_with(&sc, "PUT", GRACE, Some(put.clone()), &[("if-match", stale)]).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
    assert_eq!(
        app.user("1003").unwrap()["profile"]["title"],
        "Rear Admiral"
    );
    let r = call_with(&sc, "DELETE", GRACE, None, &[("if-match", stale)]).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
    assert!(
        app.user("1003").is_some(),
        "deleted despite a stale If-Match"
    );

    let r = call_with(&sc, "PUT", GRACE, Some(put), &[("if-match", &tag)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(app.user("1003").unwrap()["profile"]["title"], "Commodore");
    // The PUT changed the version: the tag read before it is stale now.
    let r = call_with(&sc, "DELETE", GRACE, None, &[("if-match", &tag)]).await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let now = r#"*"#;
    let r = call_with(&sc, "DELETE", GRACE, None, &[("if-match", now)]).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert!(app.user("1003").is_none());
}

#[tokio::test]
async fn a_create_with_active_false_makes_a_suspended_account() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(user("born.inactive@example.com", false)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["active"], false);
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.user(id).unwrap()["state"], "SUSPENDED");
    let writes: Vec<String> = proxy
        .seen()
        .iter()
        .filter(|s| s.method != "GET")
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(
        writes,
        [
            "POST /api/users".to_owned(),
            format!("POST /api/users/{id}/suspend")
        ]
    );
    // Active: one call, no suspension.
    proxy.recorder.clear();
    let (status, _) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(user("born.active@example.com", true)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let posts = proxy.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn unmapped_reject_refuses_attributes_no_rule_covers() {
    let (sc, app) =
        start_example_with(|t| t.replace("unmapped = \"ignore\"", "unmapped = \"reject\"")).await;
    let before = app.users();
    let mut body = user("chatty@example.com", true);
    body["ims"] = json!([{"value": "chatty@chat.example", "type": "xmpp"}]);
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "invalidValue");
    assert!(err["detail"].as_str().unwrap().contains("ims"), "{err}");
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "ims", "value": [{"value": "g@chat.example"}]}]});
    let (status, err) = call(&sc, "PATCH", GRACE, Some(patch)).await;
    assert_eq!(
        (status, &err["scimType"]),
        (StatusCode::BAD_REQUEST, &json!("invalidValue"))
    );
    assert_eq!(app.users(), before, "the app was changed");
    // Mapped attributes alone still go through.
    let (status, _) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(user("mapped@example.com", true)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_failure_between_the_two_calls_of_an_update_says_what_was_applied() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let (_, mut put) = call(&sc, "GET", GRACE, None).await;
    put["title"] = json!("Retired");
    put["active"] = json!(false);
    proxy.fail("POST", "/suspend", 1, Fault::status(500));
    let (status, err) = call(&sc, "PUT", GRACE, Some(put.clone())).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    let detail = err["detail"].as_str().unwrap();
    assert!(detail.contains("the app applied: update"), "{detail}");
    assert!(detail.contains("not applied: deactivate"), "{detail}");
    let grace = app.user("1003").unwrap();
    assert_eq!(
        (&grace["profile"]["title"], &grace["state"]),
        (&json!("Retired"), &json!("ACTIVE"))
    );
    // The replay sends only what is still missing.
    proxy.recorder.clear();
    let (status, body) = call(&sc, "PUT", GRACE, Some(put)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);
    assert_eq!(app.user("1003").unwrap()["state"], "SUSPENDED");
    let writes: Vec<String> = proxy
        .seen()
        .iter()
        .filter(|s| s.method != "GET")
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    assert_eq!(writes, ["POST /api/users/1003/suspend"]);
}
