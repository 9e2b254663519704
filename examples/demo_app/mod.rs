//! The bundled example "legacy" app: a small in-memory web app with its own
//! REST user API (`/api/users`, `/api/teams`, guarded by `X-Api-Key`) plus a
//! few ordinary pages. The sidecar proxies and maps it in the README
//! quickstart and in integration tests. This file owns the [`DemoApp`]
//! handle, the accept loop, top-level routing, API-key checking and the
//! inspection helpers tests use to read the store directly.
//!
//! The directory uses only relative paths, so it can be included anywhere
//! with `#[path = ".../demo_app/mod.rs"] mod demo_app;`.

// Some inspection helpers are only used by tests.
#![allow(dead_code)]

mod model;
mod pages;
mod reply;
mod store;
mod teams;
mod users;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use http::{HeaderMap, Method, Request, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use self::model::{UserFields, parse_team_id, parse_user_id, seed_users};
use self::reply::{ApiError, Reply};
use self::store::Store;

/// The app's OpenAPI 3.0 document, served at `GET /openapi.json`: written
/// by hand to describe exactly the `/api` routes (the sidecar's tests
/// check it against them).
pub const OPENAPI: &str = include_str!("openapi.json");

/// Name of the header carrying the app's API key.
const API_KEY_HEADER: &str = "x-api-key";

/// The demo app: cheap to clone (all clones share one store).
#[derive(Clone)]
pub struct DemoApp {
    inner: Arc<Inner>,
}

struct Inner {
    api_key: String,
    store: Mutex<Store>,
    requests: AtomicU64,
    last_headers: Mutex<Option<HeaderMap>>,
}

impl DemoApp {
    /// An empty app whose `/api/*` endpoints require `X-Api-Key: <api_key>`.
    pub fn new(api_key: impl Into<String>) -> Self {
        let inner = Inner {
            api_key: api_key.into(),
            store: Mutex::new(Store::new()),
            requests: AtomicU64::new(0),
            last_headers: Mutex::new(None),
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Adds three demo users (Ada Lovelace, Alan Turing, Grace Hopper) and
    /// the team "Engineering" with Ada and Alan as members. Records that
    /// already exist (same login / team name) are left alone.
    pub fn seed(&self) {
        let mut store = self.store();
        let mut ids = Vec::new();
        for body in seed_users() {
            let Value::Object(body) = body else { continue };
            let Ok(fields) = UserFields::from_object(body) else {
                continue;
            };
            let existing = store
                .all_users()
                .find(|u| u.fields.login_matches(&fields.login));
            match existing.map(|u| u.id) {
                Some(id) => ids.push(id),
                None => ids.extend(store.create_user(fields).ok()),
            }
        }
        let Ok(team) = store.create_team("Engineering".to_owned()) else {
            return;
        };
        if let Some(team_id) = team["id"].as_str().and_then(parse_team_id) {
            for &user_id in ids.iter().take(2) {
                let _ = store.add_member(team_id, Some(user_id));
            }
        }
    }

    /// Serves HTTP/1.1 and h2c on `listener` until `shutdown` resolves, then
    /// stops accepting (connections already open finish on their own).
    /// Accept errors are retried, so this currently always returns `Ok`.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => self.spawn_connection(stream),
                Err(error) if is_per_connection(&error) => {}
                // e.g. out of file descriptors: back off briefly, then retry.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn spawn_connection(&self, stream: tokio::net::TcpStream) {
        let app = self.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(request).await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // With a timer, hyper enforces its default header-read timeout.
            builder.http1().timer(TokioTimer::new());
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            // A client hanging up mid-request is not an error worth reporting.
            let _ = connection.await;
        });
    }

    /// The user as `GET /api/users/{id}` would return it.
    pub fn user(&self, id: &str) -> Option<Value> {
        let store = self.store();
        parse_user_id(id).and_then(|id| store.user(id).map(|u| u.to_json()))
    }

    /// Every user, in id order, as the API would return them.
    pub fn users(&self) -> Vec<Value> {
        self.store().all_users().map(|u| u.to_json()).collect()
    }

    /// The team as `GET /api/teams/{id}` would return it.
    pub fn team(&self, id: &str) -> Option<Value> {
        let store = self.store();
        parse_team_id(id).and_then(|id| store.team(id).map(|t| t.to_json()))
    }

    /// Adds a team named `name` whose members are `count` new users
    /// (`member-<name>-<i>@example.com`); returns the team id. For tests of
    /// large groups.
    pub fn seed_team(&self, name: &str, count: usize) -> String {
        let mut store = self.store();
        let team = store.create_team(name.to_owned()).unwrap_or_default();
        let team_id = team["id"].as_str().and_then(parse_team_id).unwrap_or(0);
        for i in 0..count {
            let login = format!("member-{}-{i}@example.com", name.to_lowercase());
            let body = json!({"login": login});
            let Value::Object(body) = body else { continue };
            if let Ok(fields) = UserFields::from_object(body)
                && let Ok(user) = store.create_user(fields)
            {
                let _ = store.add_member(team_id, Some(user));
            }
        }
        team["id"].as_str().unwrap_or_default().to_owned()
    }

    /// The user ids of a team's members, in numeric order.
    pub fn team_members(&self, id: &str) -> Option<Vec<String>> {
        let store = self.store();
        let team = parse_team_id(id).and_then(|id| store.team(id))?;
        Some(team.members.iter().map(u64::to_string).collect())
    }

    /// Number of `/api/*` requests served so far (any method, any outcome).
    pub fn request_count(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Headers of the most recent request of any kind.
    pub fn last_request_headers(&self) -> Option<HeaderMap> {
        lock(&self.inner.last_headers).clone()
    }

    /// The API key the app expects in `X-Api-Key`.
    pub fn api_key(&self) -> &str {
        &self.inner.api_key
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.inner.store)
    }

    async fn handle(&self, request: Request<Incoming>) -> Reply {
        self.record(&request);
        let path = request.uri().path().to_owned();
        let segments: Vec<&str> = path.split('/').skip(1).collect();
        match segments.as_slice() {
            ["api", rest @ ..] => {
                let result = self.api(request, rest).await;
                result.unwrap_or_else(ApiError::into_reply)
            }
            _ => pages::route(request).await,
        }
    }

    fn record(&self, request: &Request<Incoming>) {
        let path = request.uri().path();
        if path == "/api" || path.starts_with("/api/") {
            self.inner.requests.fetch_add(1, Ordering::Relaxed);
        }
        *lock(&self.inner.last_headers) = Some(request.headers().clone());
    }

    async fn api(&self, request: Request<Incoming>, rest: &[&str]) -> Result<Reply, ApiError> {
        if rest == ["status"] {
            return self.status(request.method());
        }
        if !self.authorized(request.headers()) {
            return Err(ApiError::unauthorized());
        }
        let (parts, body) = request.into_parts();
        let query = parts.uri.query();
        let if_match = parts
            .headers
            .get(http::header::IF_MATCH)
            .and_then(|v| v.to_str().ok());
        match rest {
            ["users", tail @ ..] => {
                users::route(self, &parts.method, tail, query, if_match, body).await
            }
            ["teams", tail @ ..] => teams::route(self, &parts.method, tail, query, body).await,
            _ => Err(ApiError::not_found("no such endpoint")),
        }
    }

    /// `GET /api/status` (no key needed).
    fn status(&self, method: &Method) -> Result<Reply, ApiError> {
        if method != Method::GET {
            return Err(ApiError::method_not_allowed("GET"));
        }
        let users = self.store().user_count();
        let body = json!({"status": "ok", "users": users});
        Ok(reply::json(StatusCode::OK, &body))
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let expected = self.inner.api_key.as_bytes();
        let given = headers.get(API_KEY_HEADER);
        given.is_some_and(|value| constant_time_eq(value.as_bytes(), expected))
    }
}

/// Locks a mutex, recovering the data if another thread panicked holding it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Byte comparison whose time does not depend on where the inputs differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && diff == 0
}

/// Accept errors that concern one connection only and can be skipped.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}
