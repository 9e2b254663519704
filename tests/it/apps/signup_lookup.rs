//! Two mapping features of sign-up style APIs against an in-test app: a
//! create that wants the password twice (`password` and
//! `passwordConfirm`, equal) gets one generated value in both fields, and
//! an email lookup through the app's reverse index (`GET /by-email/{email}`
//! answers `{"user_id": …}`) is followed by one get, never a scan.

use crate::support;

use http::Method;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::app::{App, json};
use support::record::Recorder;
use support::*;

const MAPPING: &str = r#"
[users]
unmapped = "ignore"

[users.list]
get = "/accounts"
items = "$.items[*]"

[users.get]
get = "/accounts/{id}"

[users.create]
post = "/accounts"

[users.update]
patch = "/accounts/{id}"

[users.search]
'emails.value eq' = { get = "/by-email/{value}", id = "$.user_id", case_insensitive = true }

[users.attributes]
userName = "$.username"
'emails[type eq "work"].value' = "$.email"
password = { path = "$.password", generate = { random = 24 } }

[users.constants]
"$.passwordConfirm" = { value = "{password}", when = "password" }
"#;

type Store = Arc<Mutex<Vec<Value>>>;

/// Accounts whose create and password change refuse a confirmation that
/// differs; passwords are kept (for the test) but never answered.
async fn accounts_app(store: Store, rec: Recorder) -> std::net::SocketAddr {
    App::handler(move |r| {
        let mut accounts = store.lock().unwrap();
        let public = |a: &Value| {
            let mut a = a.clone();
            a.as_object_mut().unwrap().remove("password");
            a
        };
        let body = r.body.clone().unwrap_or(Value::Null);
        let confirmed = |b: &Value| b.get("password") == b.get("passwordConfirm");
        match (r.method.clone(), r.segments().as_slice()) {
            (Method::GET, ["accounts"]) => {
                json(200, &json!({"items": accounts.iter().map(public).collect::<Vec<_>>()}))
            }
            (Method::POST, ["accounts"]) => {
                if body["password"].as_str().is_none_or(str::is_empty) || !confirmed(&body) {
                    return json(400, &json!({"passwordConfirm": "must match password"}));
                }
                let mut a = json!({"id": format!("a{}", accounts.len() + 1),
                    "username": body["username"], "email": body["email"], "password": body["password"]});
                accounts.push(a.clone());
                a.as_object_mut().unwrap().remove("password");
                json(201, &a)
            }
            (Method::GET, ["by-email", email]) => {
                match accounts.iter().find(|a| a["email"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email))) {
                    Some(a) => json(200, &json!({"user_id": a["id"]})),
                    None => json(404, &json!({"message": "no such email"})),
                }
            }
            (m, ["accounts", id]) => {
                let Some(a) = accounts.iter_mut().find(|a| a["id"] == json!(id)) else {
                    return json(404, &json!({}));
                };
                if m == Method::PATCH {
                    if body.get("password").is_some() && !confirmed(&body) {
                        return json(400, &json!({"passwordConfirm": "must match password"}));
                    }
                    for (k, v) in body.as_object().unwrap() {
                        if k != "passwordConfirm" {
                            a[k] = v.clone();
                        }
                    }
                }
                json(200, &public(a))
            }
            _ => json(405, &json!({})),
        }
    })
    .recorded(&rec)
    .serve()
    .await
}

async fn setup() -> (Sidecar, Store, Recorder) {
    let store: Store = Arc::default();
    let rec = Recorder::default();
    let app = accounts_app(store.clone(), rec.clone()).await;
    (start(load(&config_text(app, MAPPING))).await, store, rec)
}

#[tokio::test]
async fn one_generated_password_is_written_to_both_fields() {
    let (sc, store, rec) = setup().await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada",
        "emails": [{"type": "work", "value": "ada@example.com", "primary": true}]});
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(user)).await;
    assert_eq!(status, 201, "{created}");
    let posts: Vec<Value> = rec
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::POST)
        .filter_map(|s| s.body)
        .collect();
    assert_eq!(posts.len(), 1);
    let pw = posts[0]["password"].as_str().expect("a generated password");
    assert_eq!(pw.len(), 24);
    assert_eq!(posts[0]["passwordConfirm"], pw);
    assert_eq!(store.lock().unwrap()[0]["password"], pw);

    // The IdP's own password (a password sync) goes to both fields too.
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"password": "N3w-Secret"}}]});
    let (status, body) = call(&sc, "PATCH", "/scim/v2/Users/a1", Some(patch)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(store.lock().unwrap()[0]["password"], "N3w-Secret");
}

#[tokio::test]
async fn an_email_lookup_follows_the_reverse_index_with_one_get() {
    let (sc, store, rec) = setup().await;
    for (i, login) in ["ada", "bob", "cy"].iter().enumerate() {
        store
            .lock()
            .unwrap()
            .push(json!({"id": format!("a{}", i + 1), "username": login,
            "email": format!("{login}@example.com"), "password": "x"}));
    }
    let find = |email: &str| {
        let f = format!("emails[type eq \"work\"].value eq \"{email}\"");
        format!(
            "/scim/v2/Users?filter={}",
            utf8_percent_encode(&f, NON_ALPHANUMERIC)
        )
    };
    let (status, list) = call(&sc, "GET", &find("BOB@example.com"), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["totalResults"], 1, "{list}");
    assert_eq!(list["Resources"][0]["userName"], "bob");
    let calls: Vec<String> = rec.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        calls,
        ["/by-email/BOB%40example.com", "/accounts/a2"],
        "no scan"
    );

    let (status, none) = call(&sc, "GET", &find("nobody@example.com"), None).await;
    assert_eq!(status, 200, "{none}");
    assert_eq!(none["totalResults"], 0);
    assert_eq!(
        rec.seen().len(),
        3,
        "a 404 from the index is no match, in one call"
    );
}
