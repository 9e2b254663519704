//! Writes as plans on someone else's app: concurrent writers lose nothing,
//! `If-Match` lets exactly one of many writers win, a create whose later
//! step fails converges when the IdP replays it (or is undone), the app's
//! push-back is retried or handed on with `Retry-After`, answers that do
//! not fit are errors, and mutability is enforced. Against the bundled
//! example app, through a fault-injecting proxy where a test needs one.

use crate::support;

use futures_util::future::join_all;
use http::StatusCode;
use serde_json::{Value, json};
use support::faults::Fault;
use support::*;

const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn patch_body(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

fn new_user(login: &str, active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": login,
        "externalId": format!("ext-{login}"),
        "name": {"givenName": "Ada", "familyName": "Byron"},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "password": "t0p-secret!",
        "active": active
    })
}

fn logins(app: &demo_app::DemoApp, login: &str) -> Vec<Value> {
    app.users()
        .into_iter()
        .filter(|u| u["login"].as_str() == Some(login))
        .collect()
}

async fn ada_id(sc: &Sidecar) -> String {
    let (status, body) = call(
        sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22ada.lovelace%40example.com%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["Resources"][0]["id"].as_str().unwrap().to_owned()
}

fn add_phone(i: usize) -> Value {
    patch_body(json!([{
        "op": "add", "path": "phoneNumbers",
        "value": [{"value": format!("+1-555-01{i:02}"), "type": "mobile"}]
    }]))
}

fn phones(app: &demo_app::DemoApp, id: &str) -> Vec<String> {
    app.user(id).unwrap()["contact"]["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn twenty_concurrent_patch_adds_are_all_kept() {
    let (sc, app) = start_example().await;
    let id = ada_id(&sc).await;
    let before = phones(&app, &id).len();
    let path = format!("/scim/v2/Users/{id}");
    let answers = join_all((0..20).map(|i| call(&sc, "PATCH", &path, Some(add_phone(i))))).await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    let now = phones(&app, &id);
    assert_eq!(now.len(), before + 20, "lost updates: {now:?}");
    for i in 0..20 {
        assert!(now.contains(&format!("+1-555-01{i:02}")), "{i} lost");
    }
}

#[tokio::test]
async fn two_replicas_lose_nothing_through_the_apps_version_check() {
    // Two sidecars (two pod replicas) share nothing but the app: the app's
    // version, sent as If-Match, makes a stale write fail, and the sidecar
    // re-applies the PATCH on fresh state.
    let (a, app, proxy) = start_example_faulty(|t| t).await;
    let b = start_example_config(&proxy.addr.to_string(), |t| t).await;
    let id = ada_id(&a).await;
    let before = phones(&app, &id).len();
    let path = format!("/scim/v2/Users/{id}");
    let answers = join_all((0..16).map(|i| {
        let sc = if i % 2 == 0 { &a } else { &b };
        call(sc, "PATCH", &path, Some(add_phone(i)))
    }))
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
    }
    assert_eq!(phones(&app, &id).len(), before + 16);
    let stale = proxy
        .seen()
        .iter()
        .filter(|s| s.status == Some(412))
        .count();
    assert!(
        stale > 0,
        "the replicas never raced; the test proves nothing"
    );
}

#[tokio::test]
async fn of_many_if_match_writers_exactly_one_wins() {
    let (a, app, proxy) = start_example_faulty(|t| t).await;
    let b = start_example_config(&proxy.addr.to_string(), |t| t).await;
    let id = ada_id(&a).await;
    let path = format!("/scim/v2/Users/{id}");
    let got = call_with(&a, "GET", &path, None, &[]).await;
    let etag = got.headers["etag"].to_str().unwrap().to_owned();
    let writes = join_all((0..12).map(|i| {
        let sc = if i % 2 == 0 { &a } else { &b };
        let body =
            patch_body(json!([{"op": "replace", "path": "title", "value": format!("T{i}")}]));
        let etag = etag.clone();
        let path = path.clone();
        async move { call_with(sc, "PATCH", &path, Some(body), &[("if-match", &etag)]).await }
    }))
    .await;
    let won: Vec<&Reply> = writes
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        writes.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in writes.iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!(r.status, StatusCode::PRECONDITION_FAILED, "{}", r.body);
    }
    let title = app.user(&id).unwrap()["profile"]["title"].clone();
    assert_eq!(title, won[0].body["title"]);
}

#[tokio::test]
async fn an_inactive_create_converges_after_the_action_failed_once() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    proxy.fail("POST", "/suspend", 1, Fault::status(500));
    let login = "inactive.once@example.com";
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, false))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    let detail = err["detail"].as_str().unwrap();
    assert!(detail.contains("the app applied: create"), "{detail}");
    assert!(detail.contains("not applied: deactivate"), "{detail}");
    assert_eq!(logins(&app, login)[0]["state"], "ACTIVE", "half-made");

    // The IdP replays the same request: completed, not 409.
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, false))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["active"], false);
    let stored = logins(&app, login);
    assert_eq!(stored.len(), 1, "a duplicate was made");
    assert_eq!(stored[0]["state"], "SUSPENDED");
    // A third replay of a create that is complete is a duplicate: 409.
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, false))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(logins(&app, login).len(), 1);
}

#[tokio::test]
async fn a_create_whose_second_call_fails_is_completed_on_replay() {
    // This app's create call takes only the login and names; the email and
    // phones follow in an update, which fails once.
    let (sc, app, proxy) = start_example_faulty(|t| {
        t.replace(
            "id = \"$.id\"",
            "id = \"$.id\"\naccepts = [\"userName\", \"name\", \"externalId\"]",
        )
    })
    .await;
    proxy.fail("PATCH", "/api/users/", 1, Fault::status(422));
    let login = "second.call@example.com";
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, true))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("not applied: complete create")
    );
    assert!(logins(&app, login)[0]["contact"]["email"].is_null());

    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, true))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["emails"][0]["value"], login);
    let stored = logins(&app, login);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["contact"]["email"], login);
    let posts = proxy
        .seen()
        .iter()
        .filter(|s| s.method == "POST" && s.path == "/api/users")
        .count();
    assert_eq!(posts, 1, "the replay did not create a second account");
}

#[tokio::test]
async fn a_failed_create_is_undone_when_the_mapping_says_so() {
    let (sc, app, proxy) = start_example_faulty(|t| {
        t.replace(
            "unique = [\"userName\"]",
            "unique = [\"userName\"]\non_failed_create = \"delete\"",
        )
    })
    .await;
    proxy.fail("POST", "/suspend", 1, Fault::status(500));
    let login = "undone@example.com";
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, false))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("deleted again"));
    assert!(
        logins(&app, login).is_empty(),
        "the half-made account stayed"
    );
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, false))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(logins(&app, login)[0]["state"], "SUSPENDED");
}

#[tokio::test]
async fn an_existing_account_is_adopted_when_the_mapping_says_so() {
    let (sc, app) = start_example_with(|t| {
        t.replace(
            "unique = [\"userName\"]",
            "unique = [\"userName\"]\non_create_conflict = \"adopt\"",
        )
    })
    .await;
    // Grace exists already (made by hand before SCIM was switched on).
    let mut body = new_user("grace.hopper@example.com", true);
    body["name"]["givenName"] = json!("Grace");
    body["name"]["familyName"] = json!("Hopper-Okta");
    let (status, adopted) = call(&sc, "POST", "/scim/v2/Users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{adopted}");
    let stored = logins(&app, "grace.hopper@example.com");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["profile"]["last"], "Hopper-Okta");
    assert_eq!(stored[0]["external_id"], "ext-grace.hopper@example.com");
}

#[tokio::test]
async fn a_list_answer_without_items_is_502_never_an_empty_list() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    proxy.fail(
        "GET",
        "/api/users",
        2,
        Fault::ok_json(r#"{"error": "maintenance mode"}"#),
    );
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22someone%40example.com%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert!(
        err["detail"].as_str().unwrap().contains("$.items[*]"),
        "{err}"
    );
    let count = app.users().len();
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(new_user("dup@example.com", true)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert_eq!(
        app.users().len(),
        count,
        "created without a real uniqueness check"
    );
}

#[tokio::test]
async fn an_empty_page_while_the_total_says_more_is_502() {
    let (sc, _app, proxy) = start_example_faulty(|t| t).await;
    proxy.fail(
        "GET",
        "/api/users",
        1,
        Fault::ok_json(r#"{"items": [], "total": 3, "offset": 0, "limit": 100}"#),
    );
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=title%20eq%20%22Countess%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
}

#[tokio::test]
async fn app_push_back_on_a_read_is_retried_after_retry_after() {
    let (sc, _app, proxy) = start_example_faulty(|t| t).await;
    let id = ada_id(&sc).await;
    proxy.fail("GET", &format!("/api/users/{id}"), 1, Fault::busy(1));
    let started = std::time::Instant::now();
    let (status, body) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "Retry-After not honoured"
    );
    let gets: Vec<Option<u16>> = proxy
        .seen()
        .iter()
        .filter(|s| s.path == format!("/api/users/{id}"))
        .map(|s| s.status)
        .collect();
    assert_eq!(gets, [Some(429), Some(200)]);
}

/// A 429 says the app did not process the create: it is looked up again
/// and retried after the app's `Retry-After`; a `Retry-After` beyond the
/// request's deadline is handed on to the IdP, nothing retried.
#[tokio::test]
async fn app_push_back_on_a_create_is_looked_up_and_retried() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    proxy.fail("POST", "/api/users", 1, Fault::busy(1));
    let count = app.users().len();
    let user = Some(new_user("busy@example.com", true));
    let r = call_with(&sc, "POST", "/scim/v2/Users", user.clone(), &[]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(app.users().len(), count + 1);
    let seen = proxy.seen();
    let posts = seen.iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 2, "the create was sent again once");
    let lookups = seen
        .iter()
        .filter(|s| s.method == "GET" && s.path == "/api/users")
        .count();
    assert!(lookups >= 2, "looked up before each create: {lookups}");

    let (sc, app, proxy) =
        start_example_faulty(|t| t + "\n[scim]\nrequest_timeout = \"5s\"\n").await;
    proxy.fail("POST", "/api/users", 1, Fault::busy(7));
    let count = app.users().len();
    let user = Some(new_user("busy@example.com", true));
    let r = call_with(&sc, "POST", "/scim/v2/Users", user, &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.headers["retry-after"], "7");
    assert_eq!(app.users().len(), count);
    let posts = proxy.seen().iter().filter(|s| s.method == "POST").count();
    assert_eq!(posts, 1, "a Retry-After beyond the deadline is not waited");
}

#[tokio::test]
async fn immutable_and_read_only_attributes_are_enforced() {
    let (sc, app) = start_example_with(|t| {
        t.replace(
            "externalId        = \"$.external_id\"",
            "externalId        = { path = \"$.external_id\", mutability = \"immutable\" }",
        )
    })
    .await;
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(new_user("imm@example.com", true)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Users/{id}");

    let mut put = created.clone();
    put["externalId"] = json!("other");
    let (status, err) = call(&sc, "PUT", &path, Some(put)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "mutability");
    let replace = patch_body(json!([{"op": "replace", "path": "externalId", "value": "other"}]));
    let (status, err) = call(&sc, "PATCH", &path, Some(replace)).await;
    assert_eq!(
        (status, err["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("mutability"))
    );
    assert_eq!(app.user(&id).unwrap()["external_id"], "ext-imm@example.com");

    // A PUT that leaves it out keeps it; echoed readOnly values are ignored.
    let mut put = created.clone();
    put.as_object_mut().unwrap().remove("externalId");
    put["id"] = json!("999");
    put["meta"]["version"] = json!("W/\"77\"");
    put["title"] = json!("Analyst");
    let (status, body) = call(&sc, "PUT", &path, Some(put)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["externalId"], "ext-imm@example.com");
    assert_eq!(app.user(&id).unwrap()["profile"]["title"], "Analyst");

    let (status, err) = call(
        &sc,
        "PATCH",
        &path,
        Some(patch_body(
            json!([{"op": "replace", "path": "id", "value": "1"}]),
        )),
    )
    .await;
    assert_eq!(
        (status, err["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("mutability"))
    );
}

#[tokio::test]
async fn a_failed_read_back_after_a_create_answers_what_the_app_accepted() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    // The create answers only {"id"}; the read-back that follows fails.
    proxy.fail_after("GET", "/api/users/", 0, 1, Fault::status(500));
    let login = "readback@example.com";
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, true))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.user(id).unwrap()["login"], login);
    assert_eq!(created["userName"], login);
    assert!(created.get("password").is_none());
}

#[tokio::test]
async fn a_write_whose_answer_is_the_record_is_not_read_back() {
    // The example maps update and (de)activate with `returns = "resource"`:
    // a deactivation is one read and one action, nothing after.
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let id = ada_id(&sc).await;
    proxy.recorder.clear();
    let body = patch_body(json!([{"op": "replace", "value": {"active": false}}]));
    let (status, user) = call(&sc, "PATCH", &format!("/scim/v2/Users/{id}"), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["active"], false);
    assert_eq!(app.user(&id).unwrap()["state"], "SUSPENDED");
    assert_eq!(
        proxy.recorder.calls(),
        [
            format!("GET /api/users/{id}"),
            format!("POST /api/users/{id}/suspend")
        ]
    );

    // Without the declaration, the answer is not trusted: read back.
    let (sc, _app, proxy) = start_example_faulty(|t| t.replace("returns = \"resource\"", "")).await;
    let id = ada_id(&sc).await;
    proxy.recorder.clear();
    let body = patch_body(json!([{"op": "replace", "value": {"active": false}}]));
    let (status, _) = call(&sc, "PATCH", &format!("/scim/v2/Users/{id}"), Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        proxy.recorder.calls().len(),
        3,
        "{:?}",
        proxy.recorder.calls()
    );
}

#[tokio::test]
async fn a_create_whose_answer_names_no_id_is_found_again_and_finished() {
    // The app makes the account, but its answer (an empty 201, no
    // Location) does not say which one: the suspension that follows
    // cannot address it until the account is found by its userName.
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    proxy.fail("POST", "/api/users$", 1, Fault::created_without_body());
    let login = "nameless@example.com";
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new_user(login, false))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(proxy.pending(), 0, "the fault fired");
    let stored = logins(&app, login);
    assert_eq!(stored.len(), 1, "a duplicate was made");
    assert_eq!(created["id"], stored[0]["id"]);
    assert_eq!(created["active"], false);
    assert_eq!(stored[0]["state"], "SUSPENDED", "left active");
}

#[tokio::test]
async fn a_deactivation_the_app_acknowledges_but_does_not_apply_is_an_error() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let id = ada_id(&sc).await;
    let path = format!("/scim/v2/Users/{id}");
    let off = patch_body(json!([{"op": "replace", "value": {"active": false}}]));
    // A 200 from something in front of the app that never reached it.
    proxy.fail("POST", "/suspend", 1, Fault::ok_json(r#"{"ok": true}"#));
    let (status, err) = call(&sc, "PATCH", &path, Some(off.clone())).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("still active"));
    assert_eq!(app.user(&id).unwrap()["state"], "ACTIVE");
    let (status, body) = call(&sc, "PATCH", &path, Some(off)).await;
    assert_eq!((status, &body["active"]), (StatusCode::OK, &json!(false)));
    assert_eq!(app.user(&id).unwrap()["state"], "SUSPENDED");
}

#[tokio::test]
async fn an_html_page_in_front_of_the_api_is_never_a_success() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let id = ada_id(&sc).await;
    proxy.fail("DELETE", "/api/users/", 1, Fault::html());
    let (status, err) = call(&sc, "DELETE", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert!(err["detail"].as_str().unwrap().contains("HTML"), "{err}");
    assert!(app.user(&id).is_some());
}
