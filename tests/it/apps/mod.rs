//! The apps of the lifecycle table ([`crate::lifecycle`]), each behind its
//! shipped config: the bundled example app (`config/example.toml`, and
//! the config `draft` writes from its OpenAPI document) and
//! in-test apps of other shapes, the worked examples of docs/mapping.md —
//! a Rails-style API, a Django REST Framework API, a Matrix homeserver's
//! admin API, a CRM with state actions and a Flask-AppBuilder API. Each
//! module holds its app's lifecycle checks and the tests only that app
//! has; [`mapping_features`] covers mapping features no shipped config
//! uses.
//!
//! The shipped configs are read from disk with only addresses, the token
//! hash and the connection's dialect replaced; `scim-sidecar check` must
//! accept each of them, and the guide must show each as it is.

pub mod crm;
mod direct_answers;
pub mod django;
pub mod example;
mod example_patch;
pub mod fab;
mod mapping_features;
pub mod matrix;
mod query_literals;
pub mod rails;
pub mod shapes;
mod signup_lookup;

use crate::lifecycle::{ENTERPRISE_URN, Idp, USER_URN, okta};
use crate::support::{Sidecar, TOKEN, start};
use scim_sidecar::Config;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

/// The shipped configs and the variables each needs.
const SHIPPED: [(&str, &[&str]); 7] = [
    ("example.toml", &["APP_API_KEY"]),
    ("rails.toml", &["RAILS_API_TOKEN"]),
    ("django.toml", &["DJANGO_API_TOKEN"]),
    ("matrix.toml", &["MATRIX_ADMIN_TOKEN", "MATRIX_SERVER_NAME"]),
    ("fab.toml", &["FAB_ACCESS_TOKEN", "FAB_SERVICE_USER"]),
    ("crm.toml", &["CRM_API_KEY"]),
    ("pocketbase.toml", &["POCKETBASE_TOKEN"]),
];

/// The headers Okta's SCIM client sends besides its token.
const OKTA_HEADERS: &[(&str, &str)] = &[
    ("user-agent", "Okta SCIM Client 1.0.0"),
    ("accept-charset", "utf-8"),
];

fn config_path(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(file)
        .display()
        .to_string()
}

/// The shipped config `file` with its listeners on ephemeral ports, its
/// upstream at `app`, its connection's dialect `idp` and its token hash
/// the test token's. Each replaced line must occur exactly once, so a
/// reshaped config fails here instead of silently testing something else.
fn retarget(file: &str, app: SocketAddr, idp: Idp) -> String {
    let text = std::fs::read_to_string(config_path(file)).unwrap();
    let hash = scim_sidecar::auth::token_hash_string(TOKEN);
    let mut hits = [0; 5];
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
            } else if t.starts_with("idp =") {
                (4, format!("idp = \"{}\"", idp.dialect()))
            } else {
                return line.to_string();
            };
            hits[i] += 1;
            new
        })
        .collect();
    assert_eq!(
        hits, [1; 5],
        "{file}: listen, admin_listen, url, tokens, idp"
    );
    lines.join("\n")
}

/// Loads a config text with exactly the environment variables `env`.
fn load(text: &str, env: &[(&str, &str)]) -> Config {
    let lookup = |name: &str| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    };
    Config::from_toml(text, &lookup).unwrap_or_else(|e| panic!("{}", e.render("config", text)))
}

/// A sidecar configured by the shipped `file` in front of the app at
/// `app`, its connection speaking `idp`, the config text edited by `edit`
/// and loaded with `env`; called as `idp` calls it.
pub(crate) async fn start_shipped(
    file: &str,
    app: SocketAddr,
    idp: Idp,
    env: &[(&str, &str)],
    edit: impl FnOnce(String) -> String,
) -> Sidecar {
    let text = edit(retarget(file, app, idp));
    let sc = start(load(&text, env)).await;
    match idp {
        Idp::Okta => sc.with_headers(OKTA_HEADERS),
        Idp::Entra => sc,
    }
}

/// Okta's create body as the Matrix, CRM and Flask-AppBuilder cases send
/// it: the enterprise schema named, the email in lower case.
pub(crate) fn okta_create_lowercase(login: &str) -> Value {
    let mut body = okta::create_body(login);
    body["schemas"] = json!([USER_URN, ENTERPRISE_URN]);
    body["emails"][0]["value"] = json!(login.to_lowercase());
    body
}

/// Replaces `from` (which must occur) in a config text.
fn edit(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` not in the config");
    text.replace(from, to)
}

/// `check` accepts every shipped config with no warning but the one
/// `config/django.toml` means (its case-sensitive search rule is kept to
/// show why it is never used), and names a missing secret.
#[test]
fn check_accepts_every_shipped_config_and_names_missing_secrets() {
    for (file, vars) in SHIPPED {
        let path = config_path(file);
        let run = |set: &[&str]| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"));
            cmd.args(["check", "--config", &path])
                .env_remove("SCIM_SIDECAR_CONFIG");
            for v in vars {
                cmd.env_remove(v);
            }
            for v in set {
                cmd.env(v, "example.org");
            }
            cmd.output().expect("run scim-sidecar")
        };
        let ok = run(vars);
        let stdout = String::from_utf8_lossy(&ok.stdout);
        assert_eq!(
            ok.status.code(),
            Some(0),
            "{file}:\n{stdout}{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        assert!(stdout.contains(&format!("{path}: ok")), "{file}:\n{stdout}");
        let warnings: Vec<&str> = stdout.lines().filter(|l| l.contains("warning:")).collect();
        let expected: &[&str] = match file {
            "django.toml" => &["`users.search.'userName eq'`: `userName` is case-insensitive"],
            _ => &[],
        };
        assert_eq!(warnings.len(), expected.len(), "{file}:\n{stdout}");
        for (w, e) in warnings.iter().zip(expected) {
            assert!(w.contains(e), "{file}: {w}");
        }
        let missing = run(&vars[1..]);
        assert_eq!(missing.status.code(), Some(1), "{file} without {}", vars[0]);
        let stderr = String::from_utf8_lossy(&missing.stderr);
        assert!(
            stderr.contains(&format!("`{}` is not set", vars[0])),
            "{file}:\n{stderr}"
        );
    }
}

#[test]
fn the_guide_shows_the_shipped_configs_verbatim() {
    let guide =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mapping.md"))
            .unwrap();
    for (file, _) in SHIPPED {
        let text = std::fs::read_to_string(config_path(file)).unwrap();
        let block = format!("```toml\n{}\n```", text.trim_end());
        assert!(
            guide.contains(&block),
            "docs/mapping.md does not show config/{file} as it is"
        );
    }
}
