//! An in-memory Rails-style users API, the shape `config/rails.toml` maps:
//! `GET /users.json?page=&per_page=&email=` (`{"users": […], "meta":
//! {"total_count": N}}`, `per_page` capped at 100 like Kaminari's
//! `max_per_page`, `email` matched case-insensitively), `GET`/`PATCH`/`DELETE
//! /users/{id}.json` (`{"user": {…}}`, 404 for unknown or non-integer ids),
//! `POST /users.json` (201 with the full record), strong parameters (unknown
//! keys dropped), ActiveRecord-style validation errors (`422 {"errors":
//! {"email": ["has already been taken"]}}`, uniqueness case-insensitive) and
//! `Authorization: Token token="…"`. Every request is recorded
//! ([`Recorder`]).

use crate::support::app::{App, AppRequest, empty, json_as};
use crate::support::record::Recorder;
use http::{Method, Response};
use scim_sidecar::body::Body;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The app's own API secret (what `RAILS_API_TOKEN` holds in the tests).
pub const API_TOKEN: &str = "rails-api-secret-9f8e7d";

/// Largest `per_page` the app serves.
pub const MAX_PER_PAGE: usize = 100;

/// Fields a client may write (`params.require(:user).permit(...)`).
const PERMITTED: [&str; 6] = [
    "email",
    "first_name",
    "last_name",
    "job_title",
    "active",
    "emails",
];

#[derive(Default)]
struct Store {
    users: BTreeMap<u64, Value>,
    next_id: u64,
    clock: u64,
}

impl Store {
    fn now(&mut self) -> String {
        self.clock += 1;
        let t = self.clock;
        format!(
            "2024-05-01T{:02}:{:02}:{:02}Z",
            12 + t / 3600,
            t / 60 % 60,
            t % 60
        )
    }

    fn email_taken(&self, email: &str, except: Option<u64>) -> bool {
        self.users.iter().any(|(id, u)| {
            Some(*id) != except
                && u["email"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
        })
    }
}

/// The app: a shared store behind an HTTP handler.
#[derive(Clone, Default)]
pub struct RailsApp {
    store: Arc<Mutex<Store>>,
    /// Every request the app received.
    pub rec: Recorder,
}

impl RailsApp {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts a user directly into the store; returns its id.
    pub fn insert(&self, email: &str, first: &str, last: &str) -> u64 {
        let mut s = self.store.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        let now = s.now();
        s.users.insert(
            id,
            json!({
                "id": id, "email": email, "first_name": first, "last_name": last,
                "job_title": null, "active": true,
                "emails": [{"kind": "work", "address": email}],
                "created_at": now, "updated_at": now,
            }),
        );
        id
    }

    /// A stored user by id.
    pub fn user(&self, id: u64) -> Option<Value> {
        self.store.lock().unwrap().users.get(&id).cloned()
    }

    /// Stored users whose email matches `email` in any case.
    pub fn by_email(&self, email: &str) -> Vec<Value> {
        let s = self.store.lock().unwrap();
        s.users
            .values()
            .filter(|u| {
                u["email"]
                    .as_str()
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
            })
            .cloned()
            .collect()
    }

    /// Number of stored users.
    pub fn len(&self) -> usize {
        self.store.lock().unwrap().users.len()
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
        if authorization.as_deref() != Some(&format!("Token token=\"{API_TOKEN}\"")) {
            return reply(401, json!({"error": "HTTP Token: Access denied."}));
        }
        if path == "/users.json" {
            return match m {
                Method::GET => list(&s, &query),
                Method::POST => create(&mut s, body),
                _ => reply(404, json!({"error": "Not Found"})),
            };
        }
        let Some(id) = path
            .strip_prefix("/users/")
            .and_then(|p| p.strip_suffix(".json"))
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|id| s.users.contains_key(id))
        else {
            return reply(404, json!({"error": "Not Found"}));
        };
        match m {
            Method::GET => reply(200, json!({ "user": s.users[&id] })),
            Method::PATCH | Method::PUT => update(&mut s, id, body),
            Method::DELETE => {
                s.users.remove(&id);
                empty(204)
            }
            _ => reply(404, json!({"error": "Not Found"})),
        }
    }
}

fn reply(status: u16, v: Value) -> Response<Body> {
    json_as(status, "application/json; charset=utf-8", &v)
}

fn list(s: &Store, q: &HashMap<String, String>) -> Response<Body> {
    let page = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let per_page = q
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, MAX_PER_PAGE);
    let matching: Vec<&Value> = s
        .users
        .values()
        .filter(|u| match q.get("email") {
            Some(e) => u["email"]
                .as_str()
                .is_some_and(|x| x.eq_ignore_ascii_case(e)),
            None => true,
        })
        .collect();
    let users: Vec<&Value> = matching
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .copied()
        .collect();
    reply(
        200,
        json!({
            "users": users,
            "meta": {
                "total_count": matching.len(),
                "current_page": page,
                "total_pages": matching.len().div_ceil(per_page),
            }
        }),
    )
}

/// `params.require(:user).permit(...)`: the permitted fields, or a 400
/// like `ActionController::ParameterMissing`.
fn permitted(body: Option<Value>) -> Result<Map<String, Value>, (u16, Value)> {
    let Some(Value::Object(user)) = body.and_then(|mut b| b.get_mut("user").map(Value::take))
    else {
        return Err((
            400,
            json!({"error": "param is missing or the value is empty: user"}),
        ));
    };
    Ok(user
        .into_iter()
        .filter(|(k, _)| PERMITTED.contains(&k.as_str()))
        .collect())
}

/// ActiveRecord validations on the record as it would be saved.
fn validate(s: &Store, record: &Value, id: Option<u64>) -> Result<(), (u16, Value)> {
    let mut errors = Map::new();
    match record["email"].as_str() {
        None | Some("") => {
            errors.insert("email".into(), json!(["can't be blank"]));
        }
        Some(e) if !e.contains('@') => {
            errors.insert("email".into(), json!(["is invalid"]));
        }
        Some(e) if s.email_taken(e, id) => {
            errors.insert("email".into(), json!(["has already been taken"]));
        }
        Some(_) => {}
    }
    if !record["active"].is_boolean() {
        errors.insert("active".into(), json!(["is not included in the list"]));
    }
    let emails_ok = record["emails"].as_array().is_some_and(|a| {
        a.iter().all(|e| {
            e["address"].is_string()
                && e.as_object()
                    .is_some_and(|o| o.keys().all(|k| k == "kind" || k == "address"))
        })
    });
    if !emails_ok {
        errors.insert("emails".into(), json!(["is invalid"]));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err((422, json!({ "errors": errors })))
    }
}

fn create(s: &mut Store, body: Option<Value>) -> Response<Body> {
    let fields = match permitted(body) {
        Ok(f) => f,
        Err((status, v)) => return reply(status, v),
    };
    let mut record = json!({
        "id": null, "email": null, "first_name": null, "last_name": null,
        "job_title": null, "active": true, "emails": [],
    });
    for (k, v) in fields {
        record[k] = v;
    }
    if let Err((status, v)) = validate(s, &record, None) {
        return reply(status, v);
    }
    s.next_id += 1;
    let id = s.next_id;
    let now = s.now();
    record["id"] = json!(id);
    record["created_at"] = json!(now);
    record["updated_at"] = json!(now);
    s.users.insert(id, record.clone());
    reply(201, json!({ "user": record }))
}

fn update(s: &mut Store, id: u64, body: Option<Value>) -> Response<Body> {
    let fields = match permitted(body) {
        Ok(f) => f,
        Err((status, v)) => return reply(status, v),
    };
    let mut record = s.users[&id].clone();
    for (k, v) in fields {
        record[k] = v;
    }
    if let Err((status, v)) = validate(s, &record, Some(id)) {
        return reply(status, v);
    }
    record["updated_at"] = json!(s.now());
    s.users.insert(id, record.clone());
    reply(200, json!({ "user": record }))
}
