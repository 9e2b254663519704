//! Log output captured in-process (a JSON subscriber writing into a
//! buffer, at trace level so every line the sidecar can write is seen):
//! one `scim request` line per request with the request id, method, path,
//! client address, connection, resource, operation, app-call count,
//! status and duration, and never a token, an Authorization value, the
//! app's API key or a SCIM body value.
//! Audit events of a scripted create / update / deactivate / reactivate /
//! delete of a user, and of a group's create / member add and remove /
//! rename / delete, arrive on their own target with attribute names and
//! member ids only.

use crate::support;

use http::{Request, StatusCode};
use serde_json::{Value, json};
use support::*;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

async fn call(
    sc: &Sidecar,
    method: &str,
    path: &str,
    rid: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let r = call_with(sc, method, path, body, &[("x-request-id", rid)]).await;
    (r.status, r.body)
}

fn canary_user() -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": "canary.person@example.com",
        "name": {"givenName": "Quillnib", "familyName": "Zephyrine"},
        "emails": [{"primary": true, "value": "canary.person@example.com", "type": "work"}],
        "title": "Keeper of Canaries",
        "password": "Pa55word-canary",
        "active": true
    })
}

#[tokio::test]
async fn request_lines_carry_their_fields_and_never_secrets_or_values() {
    let logs = LogBuf::default();
    let _guard = logs.capture("trace");
    let (sc, app) = start_example().await;

    let before = app.request_count();
    let (s, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        "log-create-1",
        Some(canary_user()),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    let create_calls = app.request_count() - before;
    let id = created["id"].as_str().unwrap();
    let (s, _) = call(
        &sc,
        "PATCH",
        &format!("/scim/v2/Users/{id}"),
        "log-patch-1",
        Some(json!({"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": "title", "value": "Canary Wrangler"}
        ]})),
    )
    .await;
    assert_eq!(s, 200);
    let wrong = Request::get(sc.url("/scim/v2/Users"))
        .header("authorization", "Bearer wrong-canary-token-0123456789")
        .header("x-request-id", "log-401-1")
        .body(body(Vec::new()))
        .unwrap();
    assert_eq!(call_raw(&sc, wrong).await.status, 401);

    let lines = logs.json_lines();
    let request_line = |rid: &str| {
        lines
            .iter()
            .find(|l| l["message"] == "scim request" && l["span"]["request_id"] == rid)
            .unwrap_or_else(|| panic!("no request line for {rid} in\n{}", logs.text()))
            .clone()
    };
    let line = request_line("log-create-1");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["status"], 201);
    assert_eq!(line["app_calls"].as_u64(), Some(create_calls));
    assert!(
        line["duration_ms"].as_f64().is_some_and(|d| d > 0.0),
        "{line}"
    );
    let span = &line["span"];
    assert_eq!(
        (
            &span["conn"],
            &span["resource"],
            &span["op"],
            &span["method"],
            &span["route"]
        ),
        (
            &json!("demo"),
            &json!("Users"),
            &json!("create"),
            &json!("POST"),
            &json!("scim")
        )
    );
    assert_eq!(span["token"], 0);
    assert_eq!(
        (&span["path"], &span["client"]),
        (&json!("/scim/v2/Users"), &json!("127.0.0.1"))
    );
    let patch = request_line("log-patch-1");
    assert_eq!(
        (patch["status"].as_u64(), &patch["span"]["op"]),
        (Some(200), &json!("patch"))
    );
    assert_eq!(patch["span"]["path"], format!("/scim/v2/Users/{id}"));
    let refused = request_line("log-401-1");
    assert_eq!(refused["status"], 401);
    assert!(refused["span"].get("conn").is_none(), "{refused}");

    let text = logs.text();
    for secret in [
        EXAMPLE_TOKEN,
        "wrong-canary-token",
        "Bearer",
        APP_KEY,
        "canary.person",
        "Quillnib",
        "Zephyrine",
        "Keeper of Canaries",
        "Canary Wrangler",
        "Pa55word",
    ] {
        assert!(
            !text.contains(secret),
            "{secret:?} appears in the logs:\n{text}"
        );
    }
}

#[tokio::test]
async fn audit_events_follow_a_user_lifecycle() {
    let logs = LogBuf::default();
    let _guard = logs.capture("scim_sidecar::audit=info");
    let (sc, _app) = start_example().await;

    let (s, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        "audit-1",
        Some(canary_user()),
    )
    .await;
    assert_eq!(s, 201);
    let id = created["id"].as_str().unwrap().to_string();
    let item = format!("/scim/v2/Users/{id}");
    let mut user = created.clone();
    user["title"] = json!("Canary Wrangler");
    let (s, _) = call(&sc, "PUT", &item, "audit-2", Some(user.clone())).await;
    assert_eq!(s, 200);
    user["active"] = json!(false);
    let (s, _) = call(&sc, "PUT", &item, "audit-3", Some(user)).await;
    assert_eq!(s, 200);
    let reactivate = json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": true}}]});
    let (s, _) = call(&sc, "PATCH", &item, "audit-4", Some(reactivate)).await;
    assert_eq!(s, 200);
    let (s, _) = call(&sc, "DELETE", &item, "audit-5", None).await;
    assert_eq!(s, 204);
    let (s, _) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        "audit-6",
        Some(json!({
            "schemas": [USER_URN], "userName": "ada.lovelace@example.com"
        })),
    )
    .await;
    assert_eq!(s, 409);

    let events = logs.json_lines();
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            assert_eq!(e["target"], "scim_sidecar::audit");
            (
                e["event"].as_str().unwrap().to_string(),
                e["result"].as_str().unwrap().to_string(),
                e["request_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("user.created", "success", "audit-1"),
        ("user.updated", "success", "audit-2"),
        ("user.deactivated", "success", "audit-3"),
        ("user.reactivated", "success", "audit-4"),
        ("user.deleted", "success", "audit-5"),
        ("user.created", "failure", "audit-6"),
    ];
    assert_eq!(
        summary,
        expected.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())),
        "{}",
        logs.text()
    );
    for e in &events[..5] {
        assert_eq!(
            (
                &e["connection"],
                &e["idp"],
                &e["resource_type"],
                &e["resource_id"]
            ),
            (&json!("demo"), &json!("okta"), &json!("User"), &json!(id)),
        );
        assert!(
            e["event_id"]
                .as_str()
                .is_some_and(|i| i.starts_with("evt_"))
        );
        assert!(e["timestamp"].is_string());
    }
    let attrs = |i: usize| events[i]["attributes"].as_str().unwrap().to_string();
    let created_attrs = attrs(0);
    for name in [
        "userName",
        "name.givenName",
        "name.familyName",
        "emails",
        "title",
        "active",
    ] {
        assert!(
            created_attrs.split(',').any(|a| a == name),
            "{name} not in {created_attrs}"
        );
    }
    assert!(!created_attrs.contains("password"), "{created_attrs}");
    assert_eq!(attrs(1), "title");
    assert_eq!(attrs(2), "active");
    assert_eq!(attrs(3), "active");
    assert_eq!(events[5]["status"], 409);

    let text = logs.text();
    for value in [
        "canary.person",
        "Quillnib",
        "Canary Wrangler",
        "Keeper of Canaries",
    ] {
        assert!(!text.contains(value), "{value:?} in audit log:\n{text}");
    }
}

#[tokio::test]
async fn audit_events_follow_a_group_lifecycle() {
    let logs = LogBuf::default();
    let _guard = logs.capture("scim_sidecar::audit=info");
    let (sc, _app) = start_example().await;
    let (_, found) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22ada.lovelace%40example.com%22",
        "g-0",
        None,
    )
    .await;
    let ada = found["Resources"][0]["id"].as_str().unwrap().to_string();

    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Canaries", "members": []});
    let (s, created) = call(&sc, "POST", "/scim/v2/Groups", "g-1", Some(group)).await;
    assert_eq!(s, 201, "{created}");
    let gid = created["id"].as_str().unwrap().to_string();
    let path = format!("/scim/v2/Groups/{gid}");
    let patch = |ops: Value| json!({"schemas": [PATCH_URN], "Operations": ops});
    let add = patch(json!([{"op": "add", "path": "members", "value": [{"value": ada}]}]));
    assert_eq!(call(&sc, "PATCH", &path, "g-2", Some(add)).await.0, 204);
    let remove = patch(json!([{"op": "remove", "path": format!("members[value eq \"{ada}\"]")}]));
    assert_eq!(call(&sc, "PATCH", &path, "g-3", Some(remove)).await.0, 204);
    let rename = patch(json!([{"op": "replace", "path": "displayName", "value": "Songbirds"}]));
    assert_eq!(call(&sc, "PATCH", &path, "g-4", Some(rename)).await.0, 204);
    assert_eq!(call(&sc, "DELETE", &path, "g-5", None).await.0, 204);

    let events = logs.json_lines();
    let summary: Vec<(&str, &str, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap(),
                e["request_id"].as_str().unwrap(),
                e["resource_id"].as_str().unwrap(),
                e["members"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("group.created", "g-1", gid.as_str(), ""),
            ("group.members_added", "g-2", gid.as_str(), ada.as_str()),
            ("group.members_removed", "g-3", gid.as_str(), ada.as_str()),
            ("group.renamed", "g-4", gid.as_str(), ""),
            ("group.deleted", "g-5", gid.as_str(), ""),
        ],
        "{}",
        logs.text()
    );
    assert!(events.iter().all(|e| e["resource_type"] == "Group"));
    assert_eq!(events[3]["attributes"], "displayName");
    assert!(events[0].get("members").is_none(), "{}", events[0]);
    assert!(!logs.text().contains("Songbirds") && !logs.text().contains("Canaries"));
}

/// The field names of a log line, those under `span` prefixed with it.
fn field_names(line: &Value) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for (k, v) in line.as_object().unwrap() {
        match (k.as_str(), v.as_object()) {
            ("span", Some(span)) => names.extend(span.keys().map(|s| format!("span.{s}"))),
            _ => {
                names.insert(k.clone());
            }
        }
    }
    names
}

/// The example line of each kind in docs/observability.md has the fields
/// the code writes, no more and no fewer.
#[tokio::test]
async fn the_documented_log_lines_are_the_ones_written() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/observability.md"
    ))
    .unwrap();
    let documented = |message: &str| -> Value {
        let needle = format!("\"message\":\"{message}\"");
        let line = doc
            .lines()
            .find(|l| l.starts_with('{') && l.contains(&needle))
            .unwrap_or_else(|| panic!("no `{message}` line in docs/observability.md"));
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    let logs = LogBuf::default();
    let _guard = logs.capture("info");
    let (sc, _app) = start_example().await;
    let (s, _) = call(&sc, "POST", "/scim/v2/Users", "doc-1", Some(canary_user())).await;
    assert_eq!(s, 201);
    let c = client();
    let (home, _) = send(&c, Request::get(sc.url("/")).body(body("")).unwrap()).await;
    assert_eq!(home.status, 200);
    let down = start(load(&config_text(closed_port().await, ""))).await;
    let (failed, _) = send(&c, Request::get(down.url("/x")).body(body("")).unwrap()).await;
    assert_eq!(failed.status, 502);
    let mut dropped = Vec::new();
    scim_sidecar::telemetry::logs::json::dropped_line(3, &mut dropped);
    let dropped: Value = serde_json::from_slice(&dropped).unwrap();

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    for message in [
        "scim request",
        "audit event",
        "pass-through request",
        "pass-through failed",
        "log lines dropped",
    ] {
        let written = loop {
            let found = logs
                .json_lines()
                .into_iter()
                .chain([dropped.clone()])
                .find(|l| l["message"] == message);
            match found {
                Some(l) => break l,
                // The access line is written once the response has ended.
                None if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                None => panic!("no `{message}` line in\n{}", logs.text()),
            }
        };
        assert_eq!(
            field_names(&documented(message)),
            field_names(&written),
            "`{message}`: documented vs written {written}"
        );
    }
}
