//! `scim-sidecar draft` through the real binary: documents that are not
//! OpenAPI, that have no user collection, or whose `$ref` breaks get a
//! clear error and exit 1; the same document always gives the same bytes;
//! a document fetched from the app's URL with `--header` credentials
//! drafts a config that `check` accepts; `$ref`s into other files resolve.
//! And the bundled app's own document (`/openapi.json`) describes exactly
//! the routes the app serves.

use crate::support::*;
use serde_json::{Value, json};
use std::process::{Command, Output};

fn sidecar(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"));
    c.args(args).env_remove("SCIM_SIDECAR_CONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run scim-sidecar")
}

/// Runs the binary off the runtime's threads (the app it talks to is
/// served by this process).
async fn sidecar_async(args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        sidecar(&args, &env)
    })
    .await
    .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn users_doc(schema: Value) -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/api/users": {
                "get": {"responses": {"200": {"description": "", "content": {"application/json": {"schema": {"type": "array", "items": schema}}}}}},
                "post": {"requestBody": {"content": {"application/json": {"schema": schema}}}, "responses": {"201": {"description": ""}}}
            },
            "/api/users/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": {"responses": {"200": {"description": "", "content": {"application/json": {"schema": schema}}}}},
                "patch": {"requestBody": {"content": {"application/json": {"schema": schema}}}, "responses": {"200": {"description": ""}}}
            }
        }
    })
}

#[test]
fn bad_documents_get_a_clear_error_and_exit_1() {
    let dir = temp_dir("draft-bad");
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let pets = json!({"openapi": "3.0.0", "info": {"title": "pets", "version": "1"}, "paths": {
        "/pets": {"get": {"responses": {"200": {"description": ""}}}}, "/pets/{id}": {"get": {"responses": {}}}
    }});
    let broken = users_doc(json!({"$ref": "#/components/schemas/Nope"}));
    let cases = [
        (
            write(
                "package.json",
                r#"{"name": "app", "version": "1.0.0"}"#.into(),
            ),
            "is not an OpenAPI document",
        ),
        (
            write("old.json", r#"{"swagger": "1.2", "paths": {}}"#.into()),
            "only Swagger 2.0 is read",
        ),
        (
            write("notes.txt", "key: [unclosed\n".into()),
            "is not JSON or YAML",
        ),
        (
            write("pets.json", pets.to_string()),
            "no user collection found",
        ),
        (
            write("broken.json", broken.to_string()),
            "broken $ref `#/components/schemas/Nope`",
        ),
        (
            dir.join("missing.yaml").display().to_string(),
            "cannot read",
        ),
    ];
    for (path, expected) in cases {
        let out = sidecar(&["draft", "--openapi", &path], &[]);
        assert_eq!(out.status.code(), Some(1), "{path}: {}", stderr(&out));
        assert!(stderr(&out).contains(expected), "{path}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{path}: no draft is written");
    }
}

#[test]
fn the_same_document_drafts_the_same_bytes() {
    let docs = [
        format!(
            "{}/examples/demo_app/openapi.json",
            env!("CARGO_MANIFEST_DIR")
        ),
        format!(
            "{}/tests/openapi/okta/spec.users-subset.yaml",
            env!("CARGO_MANIFEST_DIR")
        ),
        format!(
            "{}/tests/openapi/github-ghes/ghes-3.19.users-subset.json",
            env!("CARGO_MANIFEST_DIR")
        ),
    ];
    for doc in docs {
        let a = sidecar(&["draft", "--openapi", &doc], &[]);
        let b = sidecar(&["draft", "--openapi", &doc], &[]);
        assert_eq!(a.status.code(), Some(0), "{doc}: {}", stderr(&a));
        assert!(!a.stdout.is_empty());
        assert_eq!(a.stdout, b.stdout, "{doc}: two drafts differ");
    }
}

#[test]
fn refs_into_other_files_resolve_relative_to_their_referrer() {
    let dir = temp_dir("draft-refs");
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    let doc = users_doc(json!({"$ref": "schemas/user.yaml#/User"}));
    std::fs::write(dir.join("openapi.json"), doc.to_string()).unwrap();
    std::fs::write(
        dir.join("schemas/user.yaml"),
        "User:\n  type: object\n  properties:\n    id: {type: string, readOnly: true}\n    login: {type: string}\n    given_name: {type: string}\n    manager: {$ref: '#/User'}\n",
    )
    .unwrap();
    let path = dir.join("openapi.json").display().to_string();
    let out = sidecar(
        &[
            "draft",
            "--openapi",
            &path,
            "--app-url",
            "http://127.0.0.1:3000",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(r#"userName = "$.login""#), "{text}");
    assert!(
        text.contains(r#""name.givenName" = "$.given_name""#),
        "{text}"
    );
}

#[tokio::test]
async fn a_document_at_the_apps_url_drafts_a_config_that_check_accepts() {
    // The app serves its document only with the API key, like the rest of
    // its API.
    let app = upstream(|req: http::Request<hyper::body::Incoming>| async move {
        let authorized = req.headers().get("x-api-key").is_some_and(|k| k == "k-123");
        let status = if authorized { 200 } else { 401 };
        let text = if authorized { demo_app::OPENAPI } else { "{}" };
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body(text))
            .unwrap()
    })
    .await;
    let url = format!("http://{app}/openapi.json");
    let dir = temp_dir("draft-url");
    let out_file = dir.join("draft.toml").display().to_string();

    let denied = sidecar_async(
        vec!["draft".into(), "--openapi".into(), url.clone()],
        vec![],
    )
    .await;
    assert_eq!(denied.status.code(), Some(1));
    assert!(
        stderr(&denied).contains("answered 401"),
        "{}",
        stderr(&denied)
    );

    let args = [
        "draft",
        "--openapi",
        &url,
        "--header",
        "X-Api-Key: k-123",
        "--idp",
        "entra",
        "--out",
        &out_file,
    ];
    let out = sidecar_async(args.iter().map(|s| s.to_string()).collect(), vec![]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "with --out nothing goes to stdout");
    let text = std::fs::read_to_string(&out_file).unwrap();
    assert!(
        text.contains(&format!("url = \"http://{app}\"")),
        "the document's own origin: {text}"
    );
    assert!(text.contains("idp = \"entra\""), "{text}");
    assert!(
        !text.contains("k-123"),
        "the credential is never written into the draft"
    );

    let hash = scim_sidecar::auth::token_hash_string(TOKEN);
    let env = vec![
        ("APP_API_KEY".to_owned(), "k".to_owned()),
        (SCIM_TOKEN_SHA256.to_owned(), hash),
    ];
    let check = sidecar_async(
        vec!["check".into(), "--config".into(), out_file.clone()],
        env,
    )
    .await;
    assert_eq!(check.status.code(), Some(0), "{}", stderr(&check));
}

/// The bundled app's document lists exactly the methods the app serves on
/// each of its paths (the app's 405 names them), and the records it
/// answers have no field the document does not describe.
#[tokio::test]
async fn the_bundled_apps_document_matches_its_routes() {
    let (_app, addr) = start_example_app().await;
    let doc: Value = serde_json::from_str(demo_app::OPENAPI).unwrap();
    let client = client();
    let call = |method: &str, path: String| {
        let req = http::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header("x-api-key", APP_KEY)
            .body(body(""))
            .unwrap();
        send(&client, req)
    };
    let (parts, served) = call("GET", "/openapi.json".into()).await;
    assert_eq!(parts.status, 200);
    assert_eq!(
        served,
        demo_app::OPENAPI.as_bytes(),
        "the app serves the document as written"
    );

    for (path, item) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{user_id}", "1001")
            .replace("{id}", if path.contains("teams") { "t1" } else { "1001" });
        let mut documented: Vec<String> = item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| matches!(k.as_str(), "get" | "post" | "put" | "patch" | "delete"))
            .map(|k| k.to_uppercase())
            .collect();
        documented.sort();
        let (parts, _) = call("TRACE", concrete.clone()).await;
        assert_eq!(parts.status, 405, "{path}: the app serves the path");
        let mut allowed: Vec<String> = parts
            .headers
            .get("allow")
            .map(|a| {
                a.to_str()
                    .unwrap()
                    .split(',')
                    .map(|m| m.trim().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        allowed.sort();
        assert_eq!(allowed, documented, "{path}: the methods the app serves");
    }

    // Every field of a real user, team and member page is described.
    let schemas = &doc["components"]["schemas"];
    let props = |name: &str| -> Vec<String> {
        let s = &schemas[name];
        let mut out: Vec<String> = s["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for part in s["allOf"].as_array().into_iter().flatten() {
            let part = match part["$ref"].as_str() {
                Some(r) => &schemas[r.rsplit('/').next().unwrap()],
                None => part,
            };
            out.extend(
                part["properties"]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.keys().cloned()),
            );
        }
        out
    };
    let described = |value: &Value, schema: &str| {
        let known = props(schema);
        for key in value.as_object().unwrap().keys() {
            assert!(
                known.contains(key),
                "`{key}` of a real {schema} is not in the document"
            );
        }
    };
    let (_, user) = call("GET", "/api/users/1001".into()).await;
    let user = json(&user);
    described(&user, "User");
    described(&user["profile"], "Profile");
    described(&user["contact"], "Contact");
    described(&user["contact"]["phones"][0], "Phone");
    let (_, page) = call("GET", "/api/users?limit=1".into()).await;
    described(&json(&page), "UserPage");
    let (_, team) = call("GET", "/api/teams/t1".into()).await;
    described(&json(&team), "Team");
    let (_, members) = call("GET", "/api/teams/t1/members".into()).await;
    let members = json(&members);
    described(&members, "MemberPage");
    described(&members["members"][0], "Member");
}
