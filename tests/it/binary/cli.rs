//! The command line: `check` reports every config error with file:line:col
//! and exits 1, or prints the effective settings and exits 0; `token`
//! prints a usable token and its hash; `--version` names the version and
//! the commit it was built from.

use std::path::Path;
use std::process::{Command, Output};

fn sidecar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
        .args(args)
        .env_remove("SCIM_SIDECAR_CONFIG")
        .output()
        .expect("run scim-sidecar")
}

fn fixture(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn check_reports_every_error_with_its_line() {
    let path = fixture("invalid/typos.toml");
    let out = sidecar(&["check", "--config", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        format!("{path}:3:10: error: `server.listen`: invalid socket address"),
        format!("{path}:4:23: error: `server.header_read_timeout`: invalid duration"),
        format!("{path}:7:7: error: `upstream.url`: the app's URL must be `http://` or `https://`"),
        format!("{path}:10:6: error: `connections[0].id`"),
        format!(
            "{path}:12:11: error: `connections[0].tokens[0]`: tokens are stored as `sha256:<hex>` hashes"
        ),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
    assert!(err.contains("5 error(s)"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn check_reports_unknown_keys_and_unset_variables() {
    let path = fixture("invalid/unknown_key.toml");
    let out = sidecar(&["check", "--config", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{path}:3:1")), "{err}");
    assert!(err.contains("unknown field `http_2`"), "{err}");

    let path = fixture("invalid/missing_env.toml");
    let out = sidecar(&["check", "--config", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SCIM_SIDECAR_TEST_UNSET_VARIABLE` is not set"),
        "{err}"
    );
    assert!(err.contains(&format!("{path}:5:")), "{err}");
}

#[test]
fn check_missing_file_exits_1() {
    let out = sidecar(&["check", "--config", "/nonexistent/scim.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read config file"));
}

#[test]
fn check_prints_effective_settings_for_the_example_config() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
        .args(["check", "--config", &path.display().to_string()])
        .env("APP_API_KEY", "demo-app-key")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("base_path /scim/v2"), "{stdout}");
    assert!(stdout.contains("header_read_timeout 30s"), "{stdout}");
    assert!(!stdout.contains("demo-app-key"), "a secret was printed");
}

#[test]
fn token_prints_a_token_and_its_hash() {
    let out = sidecar(&["token"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("token:  "))
        .unwrap();
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("config: "))
        .unwrap();
    assert!(token.len() >= 43);
    assert_eq!(hash, scim_sidecar::auth::token_hash_string(token));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(sidecar(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(sidecar(&["check"]).status.code(), Some(2));
}

#[test]
fn check_reports_mapping_errors_with_positions() {
    let path = fixture("invalid/mapping.toml");
    let out = sidecar(&["check", "--config", &path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        format!("{path}:11:17: error: `users.list.query.org`: unknown connection variable `org`"),
        format!("{path}:12:9: error: `users.list.items`: invalid JSONPath"),
        format!("{path}:22:1: error: `users.attributes.nickname_typo`: unknown SCIM attribute"),
        format!(
            "{path}:23:53: error: `users.attributes.\"name.givenName\".mutability`: unknown mutability"
        ),
        "missing operation: declare `update` (changed fields) or `replace` (full body)".to_string(),
    ] {
        assert!(err.contains(&expected), "missing {expected:?} in:\n{err}");
    }
    assert!(err.contains("5 error(s)"), "{err}");
}

#[test]
fn map_dry_runs_the_users_mapping_both_ways() {
    let dir = std::env::temp_dir().join(format!("scim-sidecar-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _cleanup = Cleanup(dir.clone());
    let scim = dir.join("user.json");
    std::fs::write(
        &scim,
        r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a@x.com","name":{"givenName":"A"},"password":"p","ims":[{"value":"n"}]}"#,
    )
    .unwrap();
    let host = dir.join("host.json");
    std::fs::write(
        &host,
        r#"{"id": 9, "login": "b@x.com", "state": "SUSPENDED"}"#,
    )
    .unwrap();
    let config = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/example.toml")
        .display()
        .to_string();
    let run = |flag: &str, file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
            .args([
                "map",
                "--config",
                &config,
                flag,
                &file.display().to_string(),
            ])
            .env("APP_API_KEY", "k")
            .output()
            .unwrap()
    };
    let out = run("--to-host", &scim);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"login": "a@x.com", "profile": {"first": "A"}})
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ims") && stderr.contains("password"),
        "{stderr}"
    );
    let out = run("--to-scim", &host);
    assert_eq!(out.status.code(), Some(0));
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (user["id"].as_str(), user["active"].as_bool()),
        (Some("9"), Some(false))
    );
    std::fs::write(&host, "not json").unwrap();
    assert_eq!(run("--to-scim", &host).status.code(), Some(1));
}

/// Starts `run` with stderr on a pipe (as when logs go to a file or a log
/// collector), returns its first log line and stops it.
fn first_log_line(format_flag: Option<&str>, format_env: Option<&str>) -> String {
    use std::io::BufRead;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "run-logs-{}-{}",
        std::process::id(),
        format_flag.or(format_env).unwrap_or("default")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n\
             [upstream]\nurl = \"http://127.0.0.1:9\"\n\
             [[connections]]\nid = \"c\"\ntokens = [\"{}\"]\n",
            scim_sidecar::auth::token_hash_string("t")
        ),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"));
    cmd.arg("run")
        .env_remove("SCIM_SIDECAR_LOG_FORMAT")
        .env_remove("RUST_LOG")
        .env("SCIM_SIDECAR_CONFIG", &config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(f) = format_flag {
        cmd.args(["--log-format", f]);
    }
    if let Some(f) = format_env {
        cmd.env("SCIM_SIDECAR_LOG_FORMAT", f);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    let stderr = child.stderr.take().unwrap();
    std::io::BufReader::new(stderr)
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    line
}

#[test]
fn logs_to_a_pipe_are_plain_text_or_json_as_chosen() {
    let text = first_log_line(Some("text"), None);
    assert!(text.contains("scim-sidecar listening"), "{text:?}");
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in a piped log: {text:?}"
    );
    assert!(!text.trim_start().starts_with('{'), "{text:?}");

    for line in [
        first_log_line(None, Some("json")),
        first_log_line(None, None),
    ] {
        let v: serde_json::Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        assert_eq!(v["message"], "scim-sidecar listening");
        assert_eq!(v["level"], "INFO");
    }
    let text = first_log_line(None, Some("text"));
    assert!(
        text.contains("listening") && !text.contains('{'),
        "{text:?}"
    );
}

#[test]
fn connection_new_prints_the_idp_settings_and_hash_only_config() {
    let out = sidecar(&["connection", "new", "--id", "acme", "--idp", "okta"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("SCIM base URL: https://<your-host>/scim/v2/acme"),
        "{text}"
    );
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("Bearer token:  "))
        .expect("token line")
        .trim();
    let hash = scim_sidecar::auth::token_hash_string(token);
    assert!(text.contains(&format!("tokens = [\"{hash}\"]")), "{text}");
    assert_eq!(text.matches(token).count(), 1, "the token is printed once");
    assert!(text.contains("base_path = \"/scim/v2/acme\"") && text.contains("idp = \"okta\""));
    let bad = sidecar(&["connection", "new", "--id", "a b"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// `connection new --config` reads only the base path, the public URL and
/// the existing ids: it works on an operator's machine where the app's
/// secrets (`${APP_API_KEY}`) are not set, and refuses an id in use.
#[test]
fn connection_new_reads_the_config_without_its_secrets() {
    let dir = std::env::temp_dir().join(format!("scim-cli-onboard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let _cleanup = Cleanup(dir.clone());
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml"))
            .expect("example config");
    assert!(
        example.contains("${APP_API_KEY}"),
        "the example needs a secret"
    );
    let config = example.replace(
        "# public_url = \"https://sso.example.com\"",
        "public_url = \"https://sso.example.com\"",
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).expect("write config");
    let path = path.display().to_string();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
            .args(args)
            .env_remove("APP_API_KEY")
            .output()
            .expect("run scim-sidecar")
    };
    let out = run(&["connection", "new", "--id", "acme-okta", "--config", &path]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("SCIM base URL: https://sso.example.com/scim/v2/acme-okta"),
        "{text}"
    );
    let taken = run(&["connection", "new", "--id", "demo", "--config", &path]);
    assert_eq!(taken.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&taken.stderr).contains("already has a connection `demo`"),
        "{taken:?}"
    );
    std::fs::write(
        dir.join("bad.toml"),
        "[server]\npublic_url = \"sso.example.com/x\"\n[upstream]\nurl = \"http://a\"\n",
    )
    .expect("write");
    let bad = run(&[
        "connection",
        "new",
        "--id",
        "x",
        "--config",
        &dir.join("bad.toml").display().to_string(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("bad.toml:2:14: error: `server.public_url`"),
        "{bad:?}"
    );
}

/// Removes a test's directory when dropped, also when the test fails.
struct Cleanup(std::path::PathBuf);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn version_names_the_release_and_the_commit() {
    let out = sidecar(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let version = env!("CARGO_PKG_VERSION");
    let commit = text
        .strip_prefix(&format!("scim-sidecar {version} (commit "))
        .and_then(|rest| rest.strip_suffix(")\n"))
        .unwrap_or_else(|| panic!("{text:?}"));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{commit:?}"
    );
    // Built from a git checkout without an override: the checkout's HEAD.
    let head = Command::new("git")
        .args([
            "-C",
            env!("CARGO_MANIFEST_DIR"),
            "rev-parse",
            "--short",
            "HEAD",
        ])
        .output();
    if let Ok(head) = head
        && head.status.success()
        && std::env::var_os("SCIM_SIDECAR_GIT_COMMIT").is_none()
    {
        assert_eq!(commit, String::from_utf8_lossy(&head.stdout).trim());
    }
}
