//! Connections (tenants): each with its own SCIM base path, tokens,
//! dialect and variables for app-call templates; a token works only on its
//! own connection; per-connection rate limits answer 429 with
//! `Retry-After`; failed authentications from one client address (behind
//! a trusted proxy, the forwarded client's) are cut off, valid tokens never.

use crate::support;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::json;
use std::sync::{Arc, Mutex};
use support::*;

const ACME: &str = "acme-token-0123456789abcdefghijklmnopqrstuv";
const GLOBEX_OLD: &str = "globex-old-0123456789abcdefghijklmnopqrstu";
const GLOBEX_NEW: &str = "globex-new-0123456789abcdefghijklmnopqrstu";

fn hash(t: &str) -> String {
    scim_sidecar::auth::token_hash_string(t)
}

/// Two tenants on their own base paths, mapped onto org-scoped app paths.
fn tenants_config(up: std::net::SocketAddr, scim_extra: &str, acme_extra: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"

[upstream]
url = "http://{up}"

[scim]
{scim_extra}

[[connections]]
id = "acme"
idp = "okta"
base_path = "/scim/v2/acme"
tokens = ["{acme}"]
vars = {{ org = "1" }}
{acme_extra}

[[connections]]
id = "globex"
idp = "entra"
base_path = "/scim/v2/globex"
tokens = ["{old}", "{new}"]
vars = {{ org = "2" }}

[users.list]
get = "/api/orgs/{{conn.org}}/users"
items = "$.items[*]"
total = "$.total"

[users.get]
get = "/api/orgs/{{conn.org}}/users/{{id}}"

[users.create]
post = "/api/orgs/{{conn.org}}/users"

[users.update]
patch = "/api/orgs/{{conn.org}}/users/{{id}}"

[users.attributes]
id = {{ path = "$.id", mutability = "readOnly" }}
userName = "$.login"
"#,
        acme = hash(ACME),
        old = hash(GLOBEX_OLD),
        new = hash(GLOBEX_NEW),
    )
}

/// An app with one user per org; records every path it is asked for.
async fn org_app(seen: Arc<Mutex<Vec<String>>>) -> std::net::SocketAddr {
    upstream(move |req: Request<Incoming>| {
        let seen = seen.clone();
        async move {
            let path = req.uri().path().to_string();
            seen.lock().unwrap().push(path.clone());
            let org = path.split('/').nth(3).unwrap_or("?").to_string();
            let user = json!({"id": format!("u-{org}"), "login": format!("someone@org{org}")});
            let v = if path.ends_with("/users") {
                json!({"items": [user], "total": 1})
            } else {
                user
            };
            Response::new(body(v.to_string()))
        }
    })
    .await
}

async fn get(sc: &Sidecar, path: &str, token: &str) -> (http::response::Parts, serde_json::Value) {
    let req = Request::get(sc.url(path))
        .header("authorization", format!("Bearer {token}"))
        .body(body(""))
        .unwrap();
    let (parts, bytes) = send(&client(), req).await;
    let v = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (parts, v)
}

#[tokio::test]
async fn each_connection_has_its_base_path_tokens_and_vars() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let up = org_app(seen.clone()).await;
    let sc = start(load(&tenants_config(up, "", ""))).await;

    let (parts, list) = get(&sc, "/scim/v2/acme/Users", ACME).await;
    assert_eq!(parts.status, StatusCode::OK, "{list}");
    assert_eq!(list["Resources"][0]["userName"], "someone@org1");
    let location = list["Resources"][0]["meta"]["location"].as_str().unwrap();
    // The connection's own base path; without `public_url` or a trusted
    // proxy the location is a path.
    assert!(location.starts_with("/scim/v2/acme/Users/u"), "{location}");

    // Both of globex's tokens (a rotation window) reach org 2.
    for token in [GLOBEX_OLD, GLOBEX_NEW] {
        let (parts, user) = get(&sc, "/scim/v2/globex/Users/u-2", token).await;
        assert_eq!(parts.status, StatusCode::OK, "{user}");
        assert_eq!(user["userName"], "someone@org2");
    }
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            "/api/orgs/1/users",
            "/api/orgs/2/users/u-2",
            "/api/orgs/2/users/u-2"
        ]
    );

    // A token never works on another connection's base path, nor on the
    // default one.
    for (path, token) in [
        ("/scim/v2/globex/Users", ACME),
        ("/scim/v2/acme/Users", GLOBEX_NEW),
        ("/scim/v2/Users", ACME),
        ("/scim/v2/ServiceProviderConfig", GLOBEX_OLD),
    ] {
        let (parts, err) = get(&sc, path, token).await;
        assert_eq!(parts.status, StatusCode::UNAUTHORIZED, "{path}: {err}");
        assert_eq!(err["status"], "401");
    }
    assert_eq!(seen.lock().unwrap().len(), 3, "no app call without auth");
}

#[tokio::test]
async fn a_connection_over_its_rate_gets_429_with_retry_after() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let up = org_app(seen.clone()).await;
    let limit = "rate_limit = { requests_per_second = 0.05, burst = 3 }";
    let sc = start(load(&tenants_config(up, "", limit))).await;
    for _ in 0..3 {
        let (parts, _) = get(&sc, "/scim/v2/acme/Users", ACME).await;
        assert_eq!(parts.status, StatusCode::OK);
    }
    let (parts, err) = get(&sc, "/scim/v2/acme/Users", ACME).await;
    assert_eq!(parts.status, StatusCode::TOO_MANY_REQUESTS, "{err}");
    assert_eq!(err["status"], "429");
    let retry: u64 = parts.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    // One request every 20 s: the next slot is up to 20 s away.
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "the limited request never reached the app"
    );
    // The other connection has its own budget.
    let (parts, _) = get(&sc, "/scim/v2/globex/Users", GLOBEX_NEW).await;
    assert_eq!(parts.status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_failed_authentication_blocks_the_address() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let up = org_app(seen.clone()).await;
    let guard = "failed_auth_limit = { requests_per_second = 0.01, burst = 2 }";
    let sc = start(load(&tenants_config(up, guard, ""))).await;
    for _ in 0..2 {
        let (parts, _) = get(&sc, "/scim/v2/acme/Users", "wrong-guess-0123456789").await;
        assert_eq!(parts.status, StatusCode::UNAUTHORIZED);
    }
    let (parts, err) = get(&sc, "/scim/v2/acme/Users", "wrong-guess-0123456789").await;
    assert_eq!(parts.status, StatusCode::TOO_MANY_REQUESTS, "{err}");
    assert!(parts.headers.contains_key("retry-after"));
    assert!(seen.lock().unwrap().is_empty());
    // A valid token is never refused by the guard: it slows guessing, and
    // must not lock out an IdP that shares the address.
    let (parts, _) = get(&sc, "/scim/v2/acme/Users", ACME).await;
    assert_eq!(parts.status, StatusCode::OK);
    let (parts, _) = get(&sc, "/scim/v2/acme/Users", "wrong-guess-0123456789").await;
    assert_eq!(parts.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A GET with a bearer token, sent as a proxy would with `X-Forwarded-For`.
async fn get_via(sc: &Sidecar, token: &str, forwarded_for: &str) -> StatusCode {
    let req = Request::get(sc.url("/scim/v2/acme/Users"))
        .header("authorization", format!("Bearer {token}"))
        .header("x-forwarded-for", forwarded_for)
        .body(body(""))
        .unwrap();
    send(&client(), req).await.0.status
}

const WRONG: &str = "wrong-guess-0123456789";

#[tokio::test]
async fn behind_a_trusted_proxy_failures_count_per_forwarded_client() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let up = org_app(seen.clone()).await;
    // The test plays the ingress: its requests come from 127.0.0.1.
    let text = tenants_config(
        up,
        "failed_auth_limit = { requests_per_second = 0.01, burst = 3 }",
        "",
    )
    .replace(
        "[upstream]\n",
        "[upstream]\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    );
    let sc = start(load(&text)).await;
    let attacker = "203.0.113.66";
    let idp = "198.51.100.7";
    for _ in 0..3 {
        assert_eq!(
            get_via(&sc, WRONG, attacker).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        get_via(&sc, WRONG, attacker).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The attacker keeps spraying; the IdP behind the same ingress is
    // served throughout.
    for _ in 0..5 {
        assert_eq!(get_via(&sc, ACME, idp).await, StatusCode::OK);
        assert_eq!(
            get_via(&sc, WRONG, attacker).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    // What the attacker writes on the left of the chain changes nothing:
    // the client is the rightmost address the trusted proxy did not write.
    assert_eq!(
        get_via(&sc, WRONG, &format!("192.0.2.1, {attacker}")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        get_via(&sc, WRONG, &format!("{attacker}, 127.0.0.1")).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The locked-out address itself still gets through with a valid token.
    assert_eq!(get_via(&sc, ACME, attacker).await, StatusCode::OK);
    assert_eq!(
        seen.lock().unwrap().len(),
        6,
        "only valid requests reached the app"
    );
    // The IdP's own failures are its own budget.
    assert_eq!(get_via(&sc, WRONG, idp).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_untrusted_peer_cannot_choose_the_address_it_is_counted_on() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let up = org_app(seen.clone()).await;
    // No trusted proxies: X-Forwarded-For is the client's own word.
    let guard = "failed_auth_limit = { requests_per_second = 0.01, burst = 3 }";
    let sc = start(load(&tenants_config(up, guard, ""))).await;
    for i in 0..3 {
        let spoofed = format!("203.0.113.{i}");
        assert_eq!(
            get_via(&sc, WRONG, &spoofed).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // A fresh forwarded address each time does not reset the budget.
    assert_eq!(
        get_via(&sc, WRONG, "203.0.113.99").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        get_via(&sc, ACME, "203.0.113.100").await,
        StatusCode::OK,
        "a valid token passes the guard"
    );
}

#[tokio::test]
async fn connection_base_paths_are_validated() {
    let up = closed_port().await;
    let text = tenants_config(up, "", "").replace(
        "base_path = \"/scim/v2/acme\"",
        "base_path = \"/scim/../v2\"",
    );
    let env = |_: &str| None;
    let errs = scim_sidecar::Config::from_toml(&text, &env).unwrap_err();
    let rendered = errs.render("t.toml", &text);
    assert!(
        rendered.contains("`connections[0].base_path`"),
        "{rendered}"
    );
}
