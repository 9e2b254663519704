//! N replicas as a deployment runs them: N `scim-sidecar run` processes
//! (the real binary) in front of one in-test app (the bundled example app,
//! behind the fault proxy so a test can hold calls and count what reached
//! the app), and an IdP whose concurrent workers are spread over the
//! replicas round-robin, as a Service spreads them over pods.

use crate::binary::process::binary::{Binary, example_text};
use crate::support::demo_app::DemoApp;
use crate::support::faults::FaultProxy;
use crate::support::{self, APP_KEY, EXAMPLE_TOKEN};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The longest a test waits for a condition it polls.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// N sidecar processes sharing one app.
pub struct Replicas {
    pub bins: Vec<Binary>,
    pub app: DemoApp,
    pub proxy: FaultProxy,
    next: AtomicUsize,
    /// Released last, after the processes ended (fields drop in order).
    _apart: tokio::sync::MutexGuard<'static, ()>,
}

/// An answer, or the transport error that replaced it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Replicas {
    /// Starts the example app (seeded), the fault proxy in front of it and
    /// `n` replicas configured by `config/example.toml` with `extra`
    /// appended (a `[coordination]` table, limits).
    pub async fn start(n: usize, extra: &str) -> Self {
        Self::start_edited(n, |t| format!("{t}\n{extra}\n")).await
    }

    /// Like [`Self::start`], with the config text edited by `edit`.
    pub async fn start_edited(n: usize, edit: impl FnOnce(String) -> String) -> Self {
        // Never beside the tests that time answers (see `support::apart`).
        let apart = support::apart().await;
        let (app, addr) = support::app::App::example(APP_KEY).serve_example().await;
        let proxy = FaultProxy::start(addr).await;
        let text = example_text(proxy.addr, edit);
        let bins = futures_util::future::join_all(
            (0..n).map(|_| Binary::start(&text, APP_KEY, "warn,scim_sidecar=info")),
        )
        .await;
        Self {
            bins,
            app,
            proxy,
            next: AtomicUsize::new(0),
            _apart: apart,
        }
    }

    /// The replica the next IdP request lands on (round-robin).
    pub fn next(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed) % self.bins.len()
    }

    /// A SCIM request with the example token to replica `i`.
    pub async fn send(
        &self,
        i: usize,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, String> {
        let url = self.bins[i].url(path);
        send(&url, method, body, Some(EXAMPLE_TOKEN), headers).await
    }

    /// Like [`Self::send`], on the next replica round-robin.
    pub async fn idp(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let i = self.next();
        self.send(i, method, path, body, &[])
            .await
            .unwrap_or_else(|e| panic!("replica {i}: {method} {path}: {e}"))
    }

    /// The id of the seeded user `login`.
    pub fn user_id(&self, login: &str) -> String {
        self.logins(login)
            .first()
            .and_then(|u| u["id"].as_str())
            .unwrap_or_else(|| panic!("no user {login}"))
            .to_owned()
    }

    /// The app's users with this login (any case).
    pub fn logins(&self, login: &str) -> Vec<Value> {
        self.app
            .users()
            .into_iter()
            .filter(|u| {
                u["login"]
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case(login))
            })
            .collect()
    }

    /// The calls that reached the app as `method` with `path` in them.
    pub fn calls(&self, method: &str, path: &str) -> usize {
        self.proxy
            .seen()
            .iter()
            .filter(|s| s.method == method && s.path.contains(path))
            .count()
    }

    /// Polls `cond` until it holds, or fails the test after [`PATIENCE`].
    pub async fn until(&self, what: &str, mut cond: impl FnMut(&Self) -> bool) {
        let end = tokio::time::Instant::now() + PATIENCE;
        while !cond(self) {
            assert!(
                tokio::time::Instant::now() < end,
                "not within {PATIENCE:?}: {what}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The SCIM requests in flight on replica `i` (its admin `/metrics`).
    pub async fn in_flight(&self, i: usize) -> u64 {
        self.metric(i, "scim_sidecar_in_flight_requests{route=\"scim\"}")
            .await
    }

    /// The value of one series of replica `i`'s admin `/metrics`, 0 when
    /// absent.
    pub async fn metric(&self, i: usize, series: &str) -> u64 {
        let url = format!("http://{}/metrics", self.bins[i].admin);
        let Ok(a) = send(&url, "GET", None, None, &[]).await else {
            return 0;
        };
        let text = a.body.as_str().unwrap_or_default().to_owned();
        text.lines()
            .find(|l| {
                l.strip_prefix(series)
                    .is_some_and(|rest| rest.starts_with(' '))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0, |v| v as u64)
    }
}

/// One request; `Err` when the transport failed (nothing was answered).
/// A body that is not JSON comes back as a JSON string.
pub async fn send(
    url: &str,
    method: &str,
    body: Option<&Value>,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> Result<Answer, String> {
    let mut b = Request::builder().method(method).uri(url);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = match body {
        Some(v) => b
            .header("content-type", "application/scim+json")
            .body(support::body(v.to_string())),
        None => b.body(support::body(Bytes::new())),
    }
    .map_err(|e| e.to_string())?;
    let resp = support::client()
        .request(req)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok(Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}
