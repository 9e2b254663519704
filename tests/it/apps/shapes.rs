//! The two worked examples of docs/mapping.md, proven end to end: an
//! in-memory Rails-style API (`shapes/rails_app.rs`) behind the
//! shipped `config/rails.toml`, and an in-memory Django REST Framework API
//! (`shapes/django_app.rs`) behind `config/django.toml`, each
//! provisioned through the sidecar with Okta's sequences (test connection,
//! lookup in three encodings, create with `password` and `groups`,
//! duplicates, GET → PUT, path-less PATCH deactivation and reactivation,
//! DELETE, import paging). After every state change the app's own store is
//! checked, and every call the app received must carry the app's
//! credentials from `[host] headers`, never the IdP's bearer token. The
//! shipped configs are read from disk with only addresses and the token
//! hash replaced; `scim-sidecar check` must accept all three, and the guide
//! must show each of them as it is.

use crate::support;

mod django_app;
mod rails_app;

mod django;
mod rails;

use django_app::DjangoApp;
use http::StatusCode;
use rails_app::RailsApp;
use scim_sidecar::Config;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use support::record::Recorder;
use support::*;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

// ------------------------------------------------------------- harness

fn config_path(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(file)
        .display()
        .to_string()
}

/// The shipped config `file` with its listeners on ephemeral ports, its
/// upstream at `app` and its token hash replaced by the test token's. Each
/// replaced line must occur exactly once, so a reshaped config fails here
/// instead of silently testing something else.
fn retarget(file: &str, app: SocketAddr) -> String {
    let text = std::fs::read_to_string(config_path(file)).unwrap();
    let hash = scim_sidecar::auth::token_hash_string(TOKEN);
    let mut hits = [0; 4];
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let t = line.trim_start();
            let (i, new) = if t.starts_with("listen =") {
                (0, "listen = \"127.0.0.1:0\"".to_string())
            } else if t.starts_with("admin_listen =") {
                (1, "admin_listen = \"127.0.0.1:0\"".to_string())
            } else if t.starts_with("url =") {
                (2, format!("url = \"http://{app}\""))
            } else if t.starts_with("tokens =") {
                (3, format!("tokens = [\"{hash}\"]"))
            } else {
                return line.to_string();
            };
            hits[i] += 1;
            new
        })
        .collect();
    assert_eq!(hits, [1; 4], "{file}: listen, admin_listen, url, tokens");
    lines.join("\n")
}

/// Loads a config text with exactly one environment variable defined.
fn load_with(text: &str, var: &str, value: &str) -> Config {
    let env = |name: &str| (name == var).then(|| value.to_string());
    Config::from_toml(text, &env).unwrap_or_else(|e| panic!("{}", e.render(var, text)))
}

/// Replaces `from` (which must occur) in a config text.
fn edit(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in the config");
    text.replace(from, to)
}

/// The headers Okta's SCIM client sends besides its token.
const OKTA_HEADERS: &[(&str, &str)] = &[
    ("user-agent", "Okta SCIM Client 1.0.0"),
    ("accept-charset", "utf-8"),
];

/// A sidecar configured by the shipped `rails.toml` in front of `app`,
/// called as Okta calls it.
async fn start_rails(app: &RailsApp, change: impl FnOnce(String) -> String) -> Sidecar {
    let text = change(retarget("rails.toml", app.serve().await));
    let config = load_with(&text, "RAILS_API_TOKEN", rails_app::API_TOKEN);
    start(config).await.with_headers(OKTA_HEADERS)
}

/// A sidecar configured by the shipped `django.toml` in front of `app`,
/// called as Okta calls it.
async fn start_django(app: &DjangoApp, change: impl FnOnce(String) -> String) -> Sidecar {
    let text = change(retarget("django.toml", app.serve().await));
    let config = load_with(&text, "DJANGO_API_TOKEN", django_app::API_TOKEN);
    start(config).await.with_headers(OKTA_HEADERS)
}

/// Okta's create body (idp-behavior §2.2 d) plus a title and a department.
fn okta_create_body(user_name: &str) -> Value {
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "title": "Engineer",
        ENTERPRISE_URN: {"department": "Engineering"},
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

/// Okta's path-less deactivation/reactivation PATCH.
fn okta_patch_active(active: bool) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": [{"op": "replace", "value": {"active": active}}]})
}

/// Every call the app received carried the app's credentials and never
/// the IdP's bearer token.
fn assert_app_credentials(rec: &Recorder, expected: &str) {
    let seen = rec.seen();
    assert!(!seen.is_empty(), "the app received no calls");
    for a in seen.iter().map(|s| &s.authorization) {
        assert_eq!(a.as_deref(), Some(expected));
        assert!(
            !a.as_deref().unwrap_or("").contains(TOKEN),
            "IdP token leaked"
        );
    }
}

fn assert_scim_error(status: StatusCode, body: &Value, want: StatusCode, scim_type: Option<&str>) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["schemas"], json!([ERROR_URN]));
    assert_eq!(body["status"], want.as_u16().to_string());
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
}

/// The lookup filter in Okta's `%20` form, the older `+` form, and with
/// the value in another case.
fn lookup_paths(user_name: &str, other_case: &str) -> [String; 3] {
    let enc = |s: &str| s.replace('@', "%40");
    [
        format!(
            "/scim/v2/Users?filter=userName%20eq%20%22{}%22&startIndex=1&count=100",
            enc(user_name)
        ),
        format!("/scim/v2/Users?filter=userName+eq+%22{}%22", enc(user_name)),
        format!(
            "/scim/v2/Users?filter=userName%20eq%20%22{}%22&startIndex=1&count=100",
            enc(other_case)
        ),
    ]
}

// ------------------------------------------------------------- configs

#[test]
fn check_accepts_every_shipped_config_and_names_missing_secrets() {
    for (file, var) in [
        ("example.toml", "APP_API_KEY"),
        ("rails.toml", "RAILS_API_TOKEN"),
        ("django.toml", "DJANGO_API_TOKEN"),
    ] {
        let path = config_path(file);
        let run = |with_secret: bool| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"));
            cmd.args(["check", "--config", &path])
                .env_remove("SCIM_SIDECAR_CONFIG")
                .env_remove(var);
            if with_secret {
                cmd.env(var, "a-test-secret");
            }
            cmd.output().expect("run scim-sidecar")
        };
        let ok = run(true);
        let stderr = String::from_utf8_lossy(&ok.stderr);
        assert_eq!(ok.status.code(), Some(0), "{file}:\n{stderr}");
        let stdout = String::from_utf8_lossy(&ok.stdout);
        assert!(stdout.contains(&format!("{path}: ok")), "{file}:\n{stdout}");
        let missing = run(false);
        assert_eq!(missing.status.code(), Some(1), "{file} without {var}");
        let stderr = String::from_utf8_lossy(&missing.stderr);
        assert!(
            stderr.contains(&format!("`{var}` is not set")),
            "{file}:\n{stderr}"
        );
    }
}

#[test]
fn the_guide_shows_the_shipped_configs_verbatim() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mapping.md"))
            .unwrap();
    for file in ["example.toml", "rails.toml", "django.toml"] {
        let text = std::fs::read_to_string(config_path(file)).unwrap();
        let block = format!("```toml\n{}\n```", text.trim_end());
        assert!(
            guide.contains(&block),
            "docs/mapping.md does not show config/{file} as it is"
        );
    }
}
