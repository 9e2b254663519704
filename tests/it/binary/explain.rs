//! `scim-sidecar explain`: the plan of a SCIM request against the bundled
//! app, printed call by call, with the app's reads made and no write; the
//! same SCIM error the server would give for a bad request; `--offline`
//! through the real binary, with no app running at all.

use crate::support;

use scim_sidecar::cli::explain::{ExplainError, Request, explain};
use serde_json::json;
use std::process::Command;
use support::*;

async fn example_config(app: &str) -> scim_sidecar::Config {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml"))
        .unwrap()
        .replace("127.0.0.1:3000", app);
    let env = |n: &str| (n == "APP_API_KEY").then(|| APP_KEY.to_string());
    scim_sidecar::Config::from_toml(&text, &env).unwrap()
}

async fn demo() -> (demo_app::DemoApp, String) {
    let (app, addr) = app::App::example(APP_KEY).serve_example().await;
    (app, addr.to_string())
}

fn req(method: &str, path: &str, body: Option<serde_json::Value>) -> Request<'static> {
    Request {
        connection: None,
        method: method.parse().unwrap(),
        path: Box::leak(path.to_owned().into_boxed_str()),
        body,
        offline: false,
    }
}

#[tokio::test]
async fn a_patch_shows_its_calls_and_writes_nothing() {
    let (app, addr) = demo().await;
    let ada = app.users()[0].clone();
    let id = ada["id"].as_str().unwrap().to_owned();
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "title", "value": "Analyst"},
        {"op": "replace", "value": {"active": false}}]});
    let before = app.users();
    let out = explain(
        example_config(&addr).await,
        req("PATCH", &format!("/scim/v2/Users/{id}"), Some(body)),
    )
    .await
    .unwrap();
    assert!(
        out.contains(&format!("Read:\n  GET http://{addr}/api/users/{id}")),
        "{out}"
    );
    assert!(out.contains("1. update (title)"), "{out}");
    assert!(
        out.contains(&format!("PATCH http://{addr}/api/users/{id}")),
        "{out}"
    );
    // The update carries the version the read found, as the example
    // mapping's `headers = { "If-Match" = "{version}" }` says: the app's
    // own optimistic lock (a bare number), right under its call.
    let version = &ada["version"];
    assert!(
        out.contains(&format!(
            "PATCH http://{addr}/api/users/{id}\n     if-match: {version}\n"
        )),
        "{out}"
    );
    assert!(out.contains(r#"{"profile":{"title":"Analyst"}}"#), "{out}");
    assert!(out.contains("2. deactivate (active)"), "{out}");
    assert!(
        out.contains(&format!("POST http://{addr}/api/users/{id}/suspend")),
        "{out}"
    );
    assert!(out.ends_with("No write call was made.\n"), "{out}");
    assert_eq!(app.users(), before, "explain changed the app");
    assert!(!out.contains(APP_KEY), "the host credentials were printed");
}

#[tokio::test]
async fn a_create_and_a_group_membership_change() {
    let (app, addr) = demo().await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new@example.com", "active": false});
    let out = explain(
        example_config(&addr).await,
        req("POST", "/scim/v2/Users", Some(user)),
    )
    .await
    .unwrap();
    assert!(out.contains("No account holds its unique values"), "{out}");
    assert!(
        out.contains(&format!(
            "1. create (userName)\n     POST http://{addr}/api/users"
        )),
        "{out}"
    );
    assert!(out.contains("sent once: not retried on 429/503"), "{out}");
    assert!(
        out.contains("2. deactivate (active)") && out.contains("NEW-ID"),
        "{out}"
    );

    let team = app.seed_team("Ops", 0);
    let member = app.users()[0]["id"].as_str().unwrap().to_owned();
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]});
    let out = explain(
        example_config(&addr).await,
        req("PATCH", &format!("/scim/v2/Groups/{team}"), Some(patch)),
    )
    .await
    .unwrap();
    assert!(
        out.contains(&format!(
            "PUT http://{addr}/api/teams/{team}/members/{member}"
        )),
        "{out}"
    );
    assert!(app.team_members(&team).unwrap().is_empty());
}

#[tokio::test]
async fn reads_answer_and_bad_requests_get_the_servers_error() {
    let (_app, addr) = demo().await;
    let out = explain(
        example_config(&addr).await,
        req(
            "GET",
            "/scim/v2/Users?filter=userName%20eq%20%22ada.lovelace%40example.com%22",
            None,
        ),
    )
    .await
    .unwrap();
    assert!(
        out.contains("\"userName\": \"ada.lovelace@example.com\""),
        "{out}"
    );
    let bad = json!({"Operations": "nope"});
    let err = explain(
        example_config(&addr).await,
        req("PATCH", "/scim/v2/Users/1001", Some(bad)),
    )
    .await
    .unwrap_err();
    match err {
        ExplainError::Scim(e) => assert_eq!(e.status, 400),
        other => panic!("{other}"),
    }
    let err = explain(
        example_config(&addr).await,
        req("GET", "/elsewhere/Users", None),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ExplainError::Usage(_)), "{err}");
}

/// A list, offline, is the call the server would make: a filter's search
/// rule pushed down with the value (candidates read in the app's page
/// size), an unfiltered page cut as the client asked within the app's
/// page cap, a scan named as one; a bad filter is the server's 400. Online, the app calls
/// made are listed with the answer.
#[tokio::test]
async fn filtered_reads_show_the_push_down_and_the_calls_made() {
    let (_app, addr) = demo().await;
    let filtered = "/scim/v2/Users?filter=userName%20eq%20%22ada.lovelace%40example.com%22&count=5";
    let offline = |path: &str| Request {
        offline: true,
        ..req("GET", path, None)
    };
    let out = explain(example_config(&addr).await, offline(filtered))
        .await
        .unwrap();
    assert!(
        out.contains(&format!(
            "GET http://{addr}/api/users?limit=100&offset=0&login=ada.lovelace%40example.com"
        )),
        "{out}"
    );
    assert!(out.contains("pushed down"), "{out}");
    let out = explain(
        example_config(&addr).await,
        offline("/scim/v2/Users?startIndex=201&count=500"),
    )
    .await
    .unwrap();
    assert!(
        out.contains(&format!("GET http://{addr}/api/users?limit=100&offset=200")),
        "the app's page cap: {out}"
    );
    let out = explain(
        example_config(&addr).await,
        offline("/scim/v2/Users?filter=title%20eq%20%22x%22"),
    )
    .await
    .unwrap();
    assert!(out.contains("scan"), "{out}");
    let err = explain(
        example_config(&addr).await,
        offline("/scim/v2/Users?filter=bogus(("),
    )
    .await
    .unwrap_err();
    match err {
        ExplainError::Scim(e) => assert_eq!(
            (e.status.as_u16(), e.scim_type.map(|t| t.as_str())),
            (400, Some("invalidFilter"))
        ),
        other => panic!("{other}"),
    }
    let out = explain(example_config(&addr).await, req("GET", filtered, None))
        .await
        .unwrap();
    assert!(out.contains("App calls made:"), "{out}");
    assert!(
        out.contains(&format!(
            "GET http://{addr}/api/users?limit=100&offset=0&login=ada.lovelace%40example.com → 200"
        )),
        "{out}"
    );
}

/// The debug line of each app call names the query parameters sent, so a
/// push-down shows in the log, but never their values (a login here).
#[tokio::test]
async fn app_call_logs_name_the_query_parameters_not_their_values() {
    let logs = LogBuf::default();
    let _guard = logs.capture("scim_sidecar=debug");
    let (sc, _app) = start_example().await;
    let path = "/scim/v2/Users?filter=userName%20eq%20%22ada.lovelace%40example.com%22";
    let (status, _) = call(&sc, "GET", path, None).await;
    assert_eq!(status, 200);
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("app call") && l.contains("login"))
        .unwrap_or_else(|| panic!("no app call line naming `login`: {text}"));
    assert!(line.contains("limit,offset,login"), "{line}");
    assert!(!text.contains("ada.lovelace"), "a value was logged: {text}");
}

#[test]
fn offline_through_the_binary_needs_no_app() {
    let dir = std::env::temp_dir().join(format!("explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = Cleanup(dir.clone());
    let body = dir.join("user.json");
    std::fs::write(&body, r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x@example.com"}"#).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
        .args(["explain", "--offline", "--config"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml"))
        .args(["--body"])
        .arg(&body)
        .args(["POST", "/scim/v2/Users"])
        .env("APP_API_KEY", "k")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Reads (not made, --offline)"), "{stdout}");
    assert!(
        stdout.contains("POST http://127.0.0.1:3000/api/users"),
        "{stdout}"
    );
}

#[tokio::test]
async fn probe_shows_one_real_user_and_group_and_what_came_out_empty() {
    let (_app, addr) = demo().await;
    let out = scim_sidecar::cli::check::probe(example_config(&addr).await)
        .await
        .unwrap();
    assert!(out.contains("Users: 1001, as the IdP sees it"), "{out}");
    assert!(
        out.contains("\"userName\": \"ada.lovelace@example.com\""),
        "{out}"
    );
    assert!(out.contains("Groups: t1, as the IdP sees it"), "{out}");
    assert!(out.contains("\"displayName\": \"Engineering\""), "{out}");
    // Ada has no phone numbers in the seed: named, not hidden.
    assert!(
        out.contains("came out empty: ") && out.contains("phoneNumbers"),
        "{out}"
    );
}

#[tokio::test]
async fn probe_of_an_unreachable_app_is_an_error() {
    let dead = closed_port().await.to_string();
    let err = scim_sidecar::cli::check::probe(example_config(&dead).await)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("502"), "{err}");
}

/// Removes a test's directory when dropped, also when the test fails.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
