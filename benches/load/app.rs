//! The app the load harness puts behind the sidecar: a deliberately fast
//! in-memory user API, so that what the harness measures is the proxy and
//! not the app. One thread (a current-thread runtime: the harness pins it
//! to one core), users in a vector indexed by id with a hash index on the
//! lowercased login, JSON written by serde from plain structs.
//!
//! `cargo build --release --example load_app`, then
//! `load_app 127.0.0.1:18000 1000` (address, number of users). Endpoints:
//!
//! - `GET /api/users?login=…` (exact, case-insensitive) or
//!   `?offset=…&limit=…`: `{"items": […], "total": n}`;
//! - `GET /api/users/{id}`, `PATCH /api/users/{id}` (merge of the given
//!   fields), `POST /api/users` (201, the user; 422 when the login is
//!   taken), `POST /api/users/{id}/suspend` and `/unsuspend`;
//! - pass-through pages: `GET /small` (a short text), `GET /big`
//!   (100 KiB), `POST /upload` (reads the body, answers its length);
//! - harness controls, not counted as app calls: `GET /__calls` (how many
//!   `/api/` calls were served), `POST /__activate_all`.
//!
//! A third argument `okta` gives every user the fields of the Okta-shaped
//! mapping (`benches/load/sidecar-okta.toml`) as well: `display_name` and
//! `created_at` / `updated_at` in epoch seconds (set on create, moved on
//! every change).

#![forbid(unsafe_code)]

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio::net::TcpListener;

/// The body of `GET /small`.
const SMALL: &[u8] = b"<!doctype html><title>ok</title><p>A small page served by the app.</p>\n";
/// Size of `GET /big`.
const BIG_LEN: usize = 100 * 1024;
/// Largest request body read.
const MAX_BODY: usize = 1 << 20;

/// A user as the app stores and answers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct User {
    #[serde(default)]
    id: u64,
    login: String,
    #[serde(default)]
    external_id: Option<String>,
    #[serde(default)]
    first: Option<String>,
    #[serde(default)]
    last: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default = "active_state")]
    state: String,
    #[serde(default)]
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<u64>,
}

fn active_state() -> String {
    "ACTIVE".into()
}

/// The fields a `PATCH` may change.
#[derive(Debug, Default, Deserialize)]
struct UserPatch {
    login: Option<String>,
    external_id: Option<String>,
    first: Option<String>,
    last: Option<String>,
    email: Option<String>,
    title: Option<String>,
    state: Option<String>,
    display_name: Option<String>,
}

#[derive(Serialize)]
struct List<'a> {
    items: Vec<&'a User>,
    total: usize,
}

/// Epoch seconds of the seeded users' `created_at`; later times count up.
const EPOCH: u64 = 1_714_564_800;

#[derive(Default)]
struct Store {
    users: Vec<User>,
    by_login: HashMap<String, u64>,
    /// Whether users carry the Okta-shaped fields (timestamps, display name).
    okta: bool,
    /// The clock of `created_at` / `updated_at`: one second per change.
    clock: u64,
}

impl Store {
    fn seeded(n: u64, okta: bool) -> Self {
        let mut s = Self {
            okta,
            clock: EPOCH,
            ..Self::default()
        };
        for i in 1..=n {
            let login = format!("user{i}@example.com");
            let display_name = okta.then(|| format!("First{i} Last{i}"));
            let _ = s.insert(User {
                id: 0,
                login: login.clone(),
                external_id: Some(format!("ext-{i}")),
                first: Some(format!("First{i}")),
                last: Some(format!("Last{i}")),
                email: Some(login),
                title: Some("Engineer".into()),
                state: active_state(),
                version: 0,
                display_name,
                created_at: None,
                updated_at: None,
            });
        }
        s
    }

    fn insert(&mut self, mut u: User) -> Result<&User, StatusCode> {
        let key = u.login.to_lowercase();
        if self.by_login.contains_key(&key) {
            return Err(StatusCode::UNPROCESSABLE_ENTITY);
        }
        u.id = self.users.len() as u64 + 1;
        u.version = 1;
        if self.okta {
            self.clock += 1;
            u.created_at = Some(self.clock);
            u.updated_at = Some(self.clock);
        }
        self.by_login.insert(key, u.id);
        self.users.push(u);
        Ok(&self.users[self.users.len() - 1])
    }

    fn get(&self, id: u64) -> Option<&User> {
        self.users.get(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut User> {
        self.users
            .get_mut(usize::try_from(id).ok()?.checked_sub(1)?)
    }

    /// Marks a user changed: a new version and, in the Okta shape, a new
    /// `updated_at`.
    fn touch(&mut self, id: u64) {
        self.clock += 1;
        let (okta, clock) = (self.okta, self.clock);
        if let Some(u) = self.get_mut(id) {
            u.version += 1;
            if okta {
                u.updated_at = Some(clock);
            }
        }
    }
}

struct App {
    store: RwLock<Store>,
    calls: AtomicU64,
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: impl Into<Bytes>, json: bool) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let ct = if json {
        "application/json"
    } else {
        "text/html; charset=utf-8"
    };
    r.headers_mut()
        .insert(header::CONTENT_TYPE, http::HeaderValue::from_static(ct));
    r
}

fn json<T: Serialize>(status: StatusCode, v: &T) -> Reply {
    match serde_json::to_vec(v) {
        Ok(b) => reply(status, b, true),
        Err(_) => status_only(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn status_only(status: StatusCode) -> Reply {
    let body = format!("{{\"error\":{{\"code\":\"{}\"}}}}", status.as_u16());
    reply(status, body, true)
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

async fn body_of(req: Request<Incoming>) -> Option<Bytes> {
    Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .ok()
        .map(|c| c.to_bytes())
}

impl App {
    async fn handle(&self, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().to_owned();
        match (req.method(), path.as_str()) {
            (&Method::GET, "/small") => reply(StatusCode::OK, Bytes::from_static(SMALL), false),
            (&Method::GET, "/big") => reply(StatusCode::OK, vec![b'x'; BIG_LEN], false),
            (&Method::POST, "/upload") => match body_of(req).await {
                Some(b) => reply(StatusCode::OK, format!("{}\n", b.len()), false),
                None => status_only(StatusCode::BAD_REQUEST),
            },
            (&Method::GET, "/__calls") => {
                let n = self.calls.load(Ordering::Relaxed);
                reply(StatusCode::OK, n.to_string(), false)
            }
            (&Method::POST, "/__activate_all") => {
                if let Ok(mut s) = self.store.write() {
                    s.users.iter_mut().for_each(|u| u.state = active_state());
                }
                status_only(StatusCode::OK)
            }
            (_, p) if p.starts_with("/api/users") => {
                self.calls.fetch_add(1, Ordering::Relaxed);
                self.users(req).await
            }
            _ => status_only(StatusCode::NOT_FOUND),
        }
    }

    async fn users(&self, req: Request<Incoming>) -> Reply {
        let path = req.uri().path().trim_start_matches("/api/users").to_owned();
        let mut segs = path.split('/').filter(|s| !s.is_empty());
        let id = segs.next().map(|s| s.parse::<u64>());
        let action = segs.next().map(str::to_owned);
        match (req.method().clone(), id, action.as_deref()) {
            (Method::GET, None, None) => self.list(req.uri().query().unwrap_or("")),
            (Method::POST, None, None) => self.create(body_of(req).await),
            (_, Some(Err(_)), _) => status_only(StatusCode::NOT_FOUND),
            (Method::GET, Some(Ok(id)), None) => self.read(id),
            (Method::PATCH, Some(Ok(id)), None) => self.patch(id, body_of(req).await),
            (Method::POST, Some(Ok(id)), Some("suspend")) => self.set_state(id, "SUSPENDED"),
            (Method::POST, Some(Ok(id)), Some("unsuspend")) => self.set_state(id, "ACTIVE"),
            _ => status_only(StatusCode::NOT_FOUND),
        }
    }

    fn list(&self, query: &str) -> Reply {
        let Ok(s) = self.store.read() else {
            return status_only(StatusCode::INTERNAL_SERVER_ERROR);
        };
        if let Some(login) = query_param(query, "login") {
            let items: Vec<&User> = s
                .by_login
                .get(&login.to_lowercase())
                .and_then(|id| s.get(*id))
                .into_iter()
                .collect();
            let total = items.len();
            return json(StatusCode::OK, &List { items, total });
        }
        let num = |k| query_param(query, k).and_then(|v| v.parse::<usize>().ok());
        let offset = num("offset").unwrap_or(0);
        let limit = num("limit").unwrap_or(100).min(100);
        let items = s.users.iter().skip(offset).take(limit).collect();
        let total = s.users.len();
        json(StatusCode::OK, &List { items, total })
    }

    fn read(&self, id: u64) -> Reply {
        match self.store.read().ok().as_ref().and_then(|s| s.get(id)) {
            Some(u) => json(StatusCode::OK, u),
            None => status_only(StatusCode::NOT_FOUND),
        }
    }

    fn create(&self, body: Option<Bytes>) -> Reply {
        let Some(Ok(user)) = body.map(|b| serde_json::from_slice::<User>(&b)) else {
            return status_only(StatusCode::BAD_REQUEST);
        };
        let Ok(mut s) = self.store.write() else {
            return status_only(StatusCode::INTERNAL_SERVER_ERROR);
        };
        match s.insert(user) {
            Ok(u) => json(StatusCode::CREATED, u),
            Err(_) => reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                r#"{"error":{"code":"taken"}}"#,
                true,
            ),
        }
    }

    fn patch(&self, id: u64, body: Option<Bytes>) -> Reply {
        let Some(Ok(p)) = body.map(|b| serde_json::from_slice::<UserPatch>(&b)) else {
            return status_only(StatusCode::BAD_REQUEST);
        };
        let Ok(mut s) = self.store.write() else {
            return status_only(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let Some(u) = s.get_mut(id) else {
            return status_only(StatusCode::NOT_FOUND);
        };
        let set = |field: &mut Option<String>, v: Option<String>| {
            if v.is_some() {
                *field = v;
            }
        };
        set(&mut u.external_id, p.external_id);
        set(&mut u.first, p.first);
        set(&mut u.last, p.last);
        set(&mut u.email, p.email);
        set(&mut u.title, p.title);
        set(&mut u.display_name, p.display_name);
        if let Some(state) = p.state {
            u.state = state;
        }
        // The login index is not updated: the harness never renames.
        if let Some(login) = p.login {
            u.login = login;
        }
        s.touch(id);
        match s.get(id) {
            Some(u) => json(StatusCode::OK, u),
            None => status_only(StatusCode::NOT_FOUND),
        }
    }

    fn set_state(&self, id: u64, state: &str) -> Reply {
        let Ok(mut s) = self.store.write() else {
            return status_only(StatusCode::INTERNAL_SERVER_ERROR);
        };
        let Some(u) = s.get_mut(id) else {
            return status_only(StatusCode::NOT_FOUND);
        };
        if u.state != state {
            u.state = state.to_owned();
            s.touch(id);
        }
        match s.get(id) {
            Some(u) => json(StatusCode::OK, u),
            None => status_only(StatusCode::NOT_FOUND),
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18000".into());
    let users: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let okta = args.next().as_deref() == Some("okta");
    let app = Arc::new(App {
        store: RwLock::new(Store::seeded(users, okta)),
        calls: AtomicU64::new(0),
    });
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(addr, app))
}

async fn serve(addr: String, app: Arc<App>) -> std::io::Result<()> {
    let listener = TcpListener::bind(&addr).await?;
    eprintln!("load_app listening on {addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.handle(req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
