//! One recording harness for the in-test apps: each request an app (or
//! the fault proxy in front of it) receives is kept as a [`Seen`], so a
//! test can assert exactly which calls reached the app, with which
//! credentials and bodies, and what the app answered.

use http::{HeaderMap, Method};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A request as an in-test app received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub authorization: Option<String>,
    pub body: Option<Value>,
    /// The status answered, when the recorder saw the answer.
    pub status: Option<u16>,
    /// Whether the request reached the app (a fault proxy may answer for it).
    pub reached_app: bool,
}

impl Seen {
    /// A record of a request head and its (JSON) body bytes.
    pub fn new(parts: &http::request::Parts, body: &[u8]) -> Self {
        Self {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts
                .uri
                .query()
                .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
            headers: parts.headers.clone(),
            authorization: parts
                .headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: serde_json::from_slice(body).ok(),
            status: None,
            reached_app: true,
        }
    }
}

/// Shared, cloneable list of [`Seen`] requests.
#[derive(Clone, Default, Debug)]
pub struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl Recorder {
    /// Keeps one request.
    pub fn record(&self, seen: Seen) {
        self.0.lock().unwrap().push(seen);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }

    /// Forgets the requests so far.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }

    /// `METHOD path` of every request, for compact assertions.
    pub fn calls(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }
}
