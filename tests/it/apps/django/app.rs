//! An in-memory Django REST Framework accounts API, the shape
//! `config/django.toml` maps: `GET /api/v1/accounts/?limit=&offset=&username=`
//! (LimitOffsetPagination: `{"count", "next", "previous", "results"}`,
//! `limit` silently capped at `max_limit` 50, `username` matched
//! case-SENSITIVELY like a plain `filterset_fields` lookup), `GET`/`PUT
//! /api/v1/accounts/{uuid}/` (PUT requires `username`; 404 `{"detail":
//! "Not found."}`), `POST /api/v1/accounts/` (201 with the full record), no
//! DELETE (405), a case-sensitive unique username (`400 {"username": ["A
//! user with that username already exists."]}`), `date_joined` in epoch
//! milliseconds, trailing slashes required, and `Authorization: Bearer …`.
//! Every request is recorded ([`Recorder`]).

use crate::support::app::{App, AppRequest, json_as};
use crate::support::record::Recorder;
use http::{Method, Response};
use scim_sidecar::body::Body;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The app's own API secret (what `DJANGO_API_TOKEN` holds in the tests).
pub const API_TOKEN: &str = "django-api-secret-1a2b3c";

/// `LimitOffsetPagination.max_limit`.
pub const MAX_LIMIT: usize = 50;

/// `date_joined` of the first account: 2024-05-01T12:00:00Z in milliseconds;
/// each later account joins 1.5 s after the previous one.
pub const EPOCH_START_MS: i64 = 1_714_564_800_000;

/// Fields the serializer writes, with whether they may be null.
const WRITABLE: [(&str, bool); 6] = [
    ("username", false),
    ("email", true),
    ("given_name", true),
    ("family_name", true),
    ("is_active", false),
    ("department", true),
];

#[derive(Default)]
struct Store {
    /// Accounts in `date_joined` order (the queryset's ordering).
    accounts: Vec<Value>,
    created: u64,
}

impl Store {
    fn find(&self, id: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a["id"] == id)
    }

    fn username_taken(&self, username: &str, except: Option<&str>) -> bool {
        self.accounts
            .iter()
            .any(|a| a["username"] == username && except.is_none_or(|e| a["id"] != e))
    }

    fn new_account(&mut self) -> Value {
        let n = self.created;
        self.created += 1;
        let mixed = (n + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            mixed >> 32,
            (mixed >> 16) & 0xffff,
            n & 0xfff,
            (mixed >> 4) & 0xfff,
            mixed & 0xffff_ffff_ffff
        );
        json!({
            "id": id, "username": null, "email": "", "given_name": null,
            "family_name": null, "is_active": true,
            "date_joined": EPOCH_START_MS + 1500 * n as i64, "department": null,
        })
    }
}

/// The app: a shared store behind an HTTP handler.
#[derive(Clone, Default)]
pub struct DjangoApp {
    store: Arc<Mutex<Store>>,
    /// Every request the app received.
    pub rec: Recorder,
}

impl DjangoApp {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts an account directly into the store; returns its id.
    pub fn insert(&self, username: &str, given: &str, family: &str) -> String {
        let mut s = self.store.lock().unwrap();
        let mut a = s.new_account();
        a["username"] = json!(username);
        a["email"] = json!(format!("{}@example.com", username.to_lowercase()));
        a["given_name"] = json!(given);
        a["family_name"] = json!(family);
        let id = a["id"].as_str().unwrap().to_string();
        s.accounts.push(a);
        id
    }

    /// A stored account by id.
    pub fn account(&self, id: &str) -> Option<Value> {
        let s = self.store.lock().unwrap();
        s.find(id).map(|i| s.accounts[i].clone())
    }

    /// Stored accounts whose username matches in any case.
    pub fn by_username_any_case(&self, username: &str) -> Vec<Value> {
        let s = self.store.lock().unwrap();
        s.accounts
            .iter()
            .filter(|a| {
                a["username"]
                    .as_str()
                    .is_some_and(|u| u.eq_ignore_ascii_case(username))
            })
            .cloned()
            .collect()
    }

    /// Number of stored accounts.
    pub fn len(&self) -> usize {
        self.store.lock().unwrap().accounts.len()
    }

    /// Serves the app on 127.0.0.1:0; returns its address.
    pub async fn serve(&self) -> SocketAddr {
        let app = self.clone();
        App::handler(move |r| app.handle(r))
            .recorded(&self.rec)
            .serve()
            .await
    }

    fn handle(&self, r: AppRequest) -> Response<Body> {
        let AppRequest {
            method: m,
            query,
            authorization,
            body,
            path,
            ..
        } = r;
        let mut s = self.store.lock().unwrap();
        if authorization.as_deref() != Some(&format!("Bearer {API_TOKEN}")) {
            return reply(
                401,
                json!({"detail": "Authentication credentials were not provided."}),
            );
        }
        if path == "/api/v1/accounts/" {
            return match m {
                Method::GET => list(&s, &query),
                Method::POST => create(&mut s, body),
                _ => not_allowed(&m),
            };
        }
        let Some(idx) = path
            .strip_prefix("/api/v1/accounts/")
            .and_then(|p| p.strip_suffix('/'))
            .filter(|p| !p.contains('/'))
            .and_then(|id| s.find(id))
        else {
            return reply(404, json!({"detail": "Not found."}));
        };
        match m {
            Method::GET => reply(200, s.accounts[idx].clone()),
            Method::PUT => replace(&mut s, idx, body),
            _ => not_allowed(&m),
        }
    }
}

fn reply(status: u16, v: Value) -> Response<Body> {
    json_as(status, "application/json", &v)
}

fn not_allowed(m: &Method) -> Response<Body> {
    reply(
        405,
        json!({ "detail": format!("Method \"{m}\" not allowed.") }),
    )
}

fn link(limit: usize, offset: usize) -> Value {
    json!(format!(
        "http://testserver/api/v1/accounts/?limit={limit}&offset={offset}"
    ))
}

fn list(s: &Store, q: &HashMap<String, String>) -> Response<Body> {
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, MAX_LIMIT);
    let offset = q
        .get("offset")
        .and_then(|o| o.parse::<usize>().ok())
        .unwrap_or(0);
    let matching: Vec<&Value> = s
        .accounts
        .iter()
        .filter(|a| {
            q.get("username")
                .is_none_or(|u| a["username"] == u.as_str())
        })
        .collect();
    let count = matching.len();
    let results: Vec<&Value> = matching.into_iter().skip(offset).take(limit).collect();
    let next = if offset + limit < count {
        link(limit, offset + limit)
    } else {
        Value::Null
    };
    let previous = if offset > 0 {
        link(limit, offset.saturating_sub(limit))
    } else {
        Value::Null
    };
    reply(
        200,
        json!({"count": count, "next": next, "previous": previous, "results": results}),
    )
}

/// Serializer validation: copies the writable fields of `body` onto
/// `account`; the resulting username must be present and unique (case-
/// sensitively, like Django's `unique=True`).
fn apply(s: &Store, account: &mut Value, body: Option<Value>) -> Result<(), (u16, Value)> {
    let Some(Value::Object(input)) = body else {
        return Err((
            400,
            json!({"non_field_errors": ["Invalid data. Expected a dictionary."]}),
        ));
    };
    let mut errors = Map::new();
    for (field, nullable) in WRITABLE {
        match input.get(field) {
            None => {}
            Some(Value::Null) if !nullable => {
                errors.insert(field.into(), json!(["This field may not be null."]));
            }
            Some(v) => account[field] = v.clone(),
        }
    }
    match account["username"].as_str() {
        None | Some("") => {
            errors.insert("username".into(), json!(["This field is required."]));
        }
        Some(u) if s.username_taken(u, account["id"].as_str()) => {
            errors.insert(
                "username".into(),
                json!(["A user with that username already exists."]),
            );
        }
        Some(_) => {}
    }
    if !account["is_active"].is_boolean() {
        errors.insert("is_active".into(), json!(["Must be a valid boolean."]));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err((400, Value::Object(errors)))
    }
}

fn create(s: &mut Store, body: Option<Value>) -> Response<Body> {
    let mut account = s.new_account();
    if let Err((status, v)) = apply(s, &mut account, body) {
        s.created -= 1;
        return reply(status, v);
    }
    s.accounts.push(account.clone());
    reply(201, account)
}

/// PUT: a full update. Like DRF, a field left out of the body keeps its
/// value unless it is required; the sidecar's `replace` sends them all.
fn replace(s: &mut Store, idx: usize, body: Option<Value>) -> Response<Body> {
    let mut account = s.accounts[idx].clone();
    if body.as_ref().is_some_and(|b| b.get("username").is_none()) {
        return reply(400, json!({"username": ["This field is required."]}));
    }
    if let Err((status, v)) = apply(s, &mut account, body) {
        return reply(status, v);
    }
    s.accounts[idx] = account.clone();
    reply(200, account)
}
