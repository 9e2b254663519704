//! Opt-in (`cargo test --test it draft::real_apps -- --ignored --nocapture`):
//! drafts a config from a live app's OpenAPI document with `scim-sidecar
//! draft`, serves it unedited, and runs Okta's user sequence through it —
//! test connection, lookup before create, create, get, lookup by userName
//! in another case, profile update, deactivate, reactivate, delete — each
//! step's outcome printed as a table row, checked in the app by reading it
//! back through the sidecar. Nothing is asserted beyond the sidecar
//! starting: the table is the result (docs/mapping.md records it per app).
//!
//! The scripts in tests/real_apps/ install and start an app from its
//! package registry and run this with:
//! - `REAL_APP_OPENAPI`: the document (file or URL);
//! - `REAL_APP_URL`: the app's base URL;
//! - `REAL_APP_HEADER`: optional `Name: value` credential for fetching the
//!   document;
//! - the `${APP_…}` variables the draft's `[host] headers` name;
//! - `REAL_APP_DRAFT`: optional file to keep the draft in;
//! - `REAL_APP_PROBE=1`: draft with `--probe` (read-only calls) first;
//! - `REAL_APP_APPEND`: TOML appended to the draft — a human's edit, for
//!   recording how far the sequence gets once it is made.

use crate::support::*;
use serde_json::{Value, json};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A SCIM call without the strict client's assertions: the real app's
/// answers are reported, not asserted.
async fn scim(sc: &Sidecar, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut b = http::Request::builder()
        .method(method)
        .uri(sc.url(path))
        .header("authorization", format!("Bearer {}", sc.token))
        .header("accept", "application/scim+json");
    let bytes = match body {
        Some(v) => {
            b = b.header("content-type", "application/scim+json");
            serde_json::to_vec(&v).unwrap()
        }
        None => Vec::new(),
    };
    let (parts, bytes) = send(&client(), b.body(crate::support::body(bytes)).unwrap()).await;
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status.as_u16(), value)
}

struct Steps(Vec<(String, bool, String)>);

impl Steps {
    fn add(&mut self, step: &str, ok: bool, detail: String) {
        self.0.push((step.to_owned(), ok, detail));
    }
}

fn short(v: &Value) -> String {
    let d = v.get("detail").and_then(Value::as_str).map(str::to_owned);
    let t = d.unwrap_or_else(|| v.to_string());
    t.chars().take(140).collect()
}

#[tokio::test]
#[ignore = "needs a live app: run a script in tests/real_apps/"]
async fn okta_user_sequence_through_the_unedited_draft_of_a_live_app() {
    let (Some(openapi), Some(app)) = (env("REAL_APP_OPENAPI"), env("REAL_APP_URL")) else {
        panic!("set REAL_APP_OPENAPI and REAL_APP_URL (see tests/real_apps/)");
    };
    let opts = scim_sidecar::draft::Options {
        openapi,
        app_url: Some(app),
        headers: env("REAL_APP_HEADER").into_iter().collect(),
        idp: "okta".into(),
        listen: Some("127.0.0.1:0".into()),
        probe: env("REAL_APP_PROBE").is_some(),
    };
    let outcome = scim_sidecar::draft::run(&opts)
        .await
        .expect("the document drafts");
    if let Some(path) = env("REAL_APP_DRAFT") {
        std::fs::write(&path, &outcome.toml).unwrap();
        eprintln!("draft written to {path}");
    }
    for line in &outcome.report {
        eprintln!("{line}");
    }
    if let Some(why) = &outcome.invalid {
        eprintln!(
            "| step | result | detail |\n|---|---|---|\n| load the draft | FAIL | {} |",
            why.lines().next().unwrap_or_default()
        );
        panic!("the unedited draft does not load:\n{why}");
    }
    let mut text = outcome.toml.replace("127.0.0.1:9090", "127.0.0.1:0");
    if let Some(edit) = env("REAL_APP_APPEND") {
        eprintln!("with this edit appended:\n{edit}");
        text.push_str(&format!("\n{edit}\n"));
    }
    let hash = scim_sidecar::auth::token_hash_string(TOKEN);
    let lookup = |name: &str| {
        if name == SCIM_TOKEN_SHA256 {
            Some(hash.clone())
        } else {
            std::env::var(name).ok()
        }
    };
    let config = scim_sidecar::Config::from_toml(&text, &lookup)
        .unwrap_or_else(|e| panic!("{}", e.render("draft.toml", &text)));
    let sc = start(config).await;

    let mut steps = Steps(Vec::new());
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 100_000;
    let login = format!("scim.draft.{stamp}@example.com");
    let (status, body) = scim(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    let seen = |status: u16, body: &Value| match status {
        200 => format!("200, totalResults {}", body["totalResults"]),
        s => format!("{s} {}", short(body)),
    };
    steps.add("test connection (list)", status == 200, seen(status, &body));
    let filter = |name: &str| {
        format!(
            "/scim/v2/Users?filter=userName%20eq%20%22{}%22",
            name.replace('@', "%40")
        )
    };
    let (status, body) = scim(&sc, "GET", &filter(&login), None).await;
    steps.add(
        "lookup before create",
        status == 200 && body["totalResults"] == 0,
        seen(status, &body),
    );
    let create = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": login,
        "name": {"givenName": "Draft", "familyName": "Test"},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "displayName": "Draft Test",
        "locale": "en-US",
        "externalId": format!("00u{stamp}"),
        "groups": [],
        "password": "Draft-1mz050nq-Pass",
        "active": true
    });
    let (status, created) = scim(&sc, "POST", "/scim/v2/Users", Some(create)).await;
    let id = created["id"].as_str().map(str::to_owned);
    steps.add(
        "create",
        status == 201 && id.is_some(),
        format!(
            "{status} {}",
            if status == 201 {
                created["id"].to_string()
            } else {
                short(&created)
            }
        ),
    );
    if let Some(id) = id {
        let user = format!("/scim/v2/Users/{}", id.replace('@', "%40"));
        let (status, got) = scim(&sc, "GET", &user, None).await;
        steps.add(
            "get",
            status == 200
                && got["userName"]
                    .as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(&login)),
            format!("{status} userName {}", got["userName"]),
        );
        let (status, found) = scim(&sc, "GET", &filter(&login.to_uppercase()), None).await;
        steps.add(
            "lookup by userName in another case",
            status == 200 && found["totalResults"] == 1,
            seen(status, &found),
        );
        let patch = |ops: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops});
        let (status, updated) = scim(
            &sc,
            "PATCH",
            &user,
            Some(patch(
                json!([{"op": "replace", "path": "name.familyName", "value": "Tested"}]),
            )),
        )
        .await;
        steps.add(
            "update (PATCH name.familyName)",
            status == 200 && updated["name"]["familyName"] == "Tested",
            format!(
                "{status} {}",
                if status == 200 {
                    updated["name"].to_string()
                } else {
                    short(&updated)
                }
            ),
        );
        let (status, off) = scim(
            &sc,
            "PATCH",
            &user,
            Some(patch(
                json!([{"op": "replace", "value": {"active": false}}]),
            )),
        )
        .await;
        steps.add(
            "deactivate",
            status == 200 && off["active"] == false,
            format!(
                "{status} active {}",
                if status == 200 {
                    off["active"].to_string()
                } else {
                    short(&off)
                }
            ),
        );
        let (status, on) = scim(
            &sc,
            "PATCH",
            &user,
            Some(patch(json!([{"op": "replace", "value": {"active": true}}]))),
        )
        .await;
        steps.add(
            "reactivate",
            status == 200 && on["active"] == true,
            format!(
                "{status} active {}",
                if status == 200 {
                    on["active"].to_string()
                } else {
                    short(&on)
                }
            ),
        );
        let (status, gone) = scim(&sc, "DELETE", &user, None).await;
        let (after, _) = scim(&sc, "GET", &user, None).await;
        steps.add(
            "delete",
            status == 204 && after == 404,
            format!(
                "{status}, then GET {after} {}",
                if status == 204 {
                    String::new()
                } else {
                    short(&gone)
                }
            ),
        );
    }
    eprintln!("| step | result | detail |\n|---|---|---|");
    for (step, ok, detail) in &steps.0 {
        eprintln!(
            "| {step} | {} | {} |",
            if *ok { "pass" } else { "FAIL" },
            detail.replace('|', "\\|")
        );
    }
    assert!(steps.0[0].1, "the sidecar could not list the app's users");
}
