//! An in-memory CRM people API, the shape `config/crm.toml` maps: `GET
//! /api/people?offset=&limit=&email=` (`{"data", "meta": {"total"}}`, email
//! matched case-insensitively), `GET`/`PATCH`/`DELETE /api/people/{id}`
//! (`{"data": …}`; a `manager` must be `null` or `{"id": "<string>"}`, else
//! 422 `invalid_manager`), `POST /api/people` (422 `email_taken`), and the
//! state actions `POST …/deactivate` (a JSON body with `reason` required,
//! 409 `already_deactivated`), `…/reactivate` (409 `locked` for a locked
//! account, `already_active`) and `…/unlock` (409 `not_locked`); states
//! `active`, `deactivated`, `locked`; `X-Api-Key` (401 else).

use crate::support::app::{App, AppRequest, empty, json};
use crate::support::record::Recorder;
use http::{Method, Response};
use scim_sidecar::body::Body;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const API_KEY: &str = "crm-key-42";
const WRITABLE: [&str; 7] = [
    "email",
    "first_name",
    "last_name",
    "title",
    "phone",
    "department",
    "manager",
];

#[derive(Default)]
struct Store {
    people: BTreeMap<u64, Value>,
    next: u64,
}

#[derive(Clone, Default)]
pub struct CrmApp {
    store: Arc<Mutex<Store>>,
    pub rec: Recorder,
}

fn err(status: u16, code: &str) -> Response<Body> {
    json(status, &json!({"error": {"code": code}}))
}

impl CrmApp {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&self, fields: Value) -> u64 {
        let mut s = self.store.lock().unwrap();
        s.next += 1;
        let id = s.next;
        let mut p = json!({"id": id.to_string(), "status": "active", "manager": null,
                           "created_at": "2024-05-01T12:00:00Z"});
        for (k, v) in fields.as_object().unwrap() {
            p[k] = v.clone();
        }
        s.people.insert(id, p);
        id
    }

    pub fn person(&self, id: u64) -> Option<Value> {
        self.store.lock().unwrap().people.get(&id).cloned()
    }

    /// Too many failed sign-ins: the app locks the account.
    pub fn lock(&self, id: u64) {
        self.store.lock().unwrap().people.get_mut(&id).unwrap()["status"] = "locked".into();
    }

    pub async fn serve(&self) -> SocketAddr {
        let app = self.clone();
        App::handler(move |r| app.handle(&r))
            .recorded(&self.rec)
            .serve()
            .await
    }

    fn handle(&self, r: &AppRequest) -> Response<Body> {
        if r.header("x-api-key") != Some(API_KEY) {
            return err(401, "unauthorized");
        }
        let segs = r.segments();
        let id = |s: &str| s.parse::<u64>().ok();
        match (&r.method, segs.as_slice()) {
            (&Method::GET, ["api", "people"]) => self.list(r),
            (&Method::POST, ["api", "people"]) => self.create(r),
            (&Method::GET, ["api", "people", i]) => match id(i).and_then(|i| self.person(i)) {
                Some(p) => json(200, &json!({"data": p})),
                None => err(404, "not_found"),
            },
            (&Method::PATCH, ["api", "people", i]) => self.update(id(i), r),
            (&Method::DELETE, ["api", "people", i]) => {
                match id(i).and_then(|i| self.store.lock().unwrap().people.remove(&i)) {
                    Some(_) => empty(204),
                    None => err(404, "not_found"),
                }
            }
            (&Method::POST, ["api", "people", i, action]) => self.action(id(i), action, r),
            _ => err(404, "not_found"),
        }
    }

    fn list(&self, r: &AppRequest) -> Response<Body> {
        let offset: usize = r
            .query
            .get("offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let limit: usize = r
            .query
            .get("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(50);
        let email = r.query.get("email").map(|e| e.to_lowercase());
        let s = self.store.lock().unwrap();
        let hits: Vec<&Value> = s
            .people
            .values()
            .filter(|p| {
                email
                    .as_ref()
                    .is_none_or(|e| p["email"].as_str().is_some_and(|v| v.to_lowercase() == *e))
            })
            .collect();
        let data: Vec<&Value> = hits
            .iter()
            .skip(offset)
            .take(limit.min(50))
            .copied()
            .collect();
        json(200, &json!({"data": data, "meta": {"total": hits.len()}}))
    }

    /// The writable fields of a body, or the error status and code.
    fn fields(r: &AppRequest) -> Result<Map<String, Value>, (u16, &'static str)> {
        let Some(Value::Object(b)) = &r.body else {
            return Err((400, "not_json"));
        };
        if let Some(m) = b.get("manager")
            && !(m.is_null() || m.get("id").is_some_and(Value::is_string))
        {
            return Err((422, "invalid_manager"));
        }
        Ok(b.iter()
            .filter(|(k, _)| WRITABLE.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn taken(&self, email: Option<&Value>, except: Option<u64>) -> bool {
        let Some(e) = email.and_then(Value::as_str).map(str::to_lowercase) else {
            return false;
        };
        let s = self.store.lock().unwrap();
        s.people.iter().any(|(id, p)| {
            Some(*id) != except && p["email"].as_str().is_some_and(|v| v.to_lowercase() == e)
        })
    }

    fn create(&self, r: &AppRequest) -> Response<Body> {
        let f = match Self::fields(r) {
            Ok(f) => f,
            Err((status, code)) => return err(status, code),
        };
        if self.taken(f.get("email"), None) {
            return err(422, "email_taken");
        }
        let id = self.insert(Value::Object(f));
        json(201, &json!({"data": self.person(id)}))
    }

    fn update(&self, id: Option<u64>, r: &AppRequest) -> Response<Body> {
        let f = match Self::fields(r) {
            Ok(f) => f,
            Err((status, code)) => return err(status, code),
        };
        let Some(id) = id.filter(|i| self.person(*i).is_some()) else {
            return err(404, "not_found");
        };
        if self.taken(f.get("email"), Some(id)) {
            return err(422, "email_taken");
        }
        let mut s = self.store.lock().unwrap();
        let p = s.people.get_mut(&id).unwrap();
        for (k, v) in f {
            p[&k] = v;
        }
        json(200, &json!({"data": p.clone()}))
    }

    fn action(&self, id: Option<u64>, action: &str, r: &AppRequest) -> Response<Body> {
        let mut s = self.store.lock().unwrap();
        let Some(p) = id.and_then(|i| s.people.get_mut(&i)) else {
            return err(404, "not_found");
        };
        let state = p["status"].as_str().unwrap_or("").to_owned();
        let next = match (action, state.as_str()) {
            ("deactivate", _) if r.body.as_ref().and_then(|b| b.get("reason")).is_none() => {
                return err(400, "reason_required");
            }
            ("deactivate", "deactivated") => return err(409, "already_deactivated"),
            ("deactivate", _) => "deactivated",
            ("reactivate", "locked") => return err(409, "locked"),
            ("reactivate", "active") => return err(409, "already_active"),
            ("reactivate", _) => "active",
            ("unlock", "locked") => "deactivated",
            ("unlock", _) => return err(409, "not_locked"),
            _ => return err(404, "not_found"),
        };
        p["status"] = next.into();
        json(200, &json!({"data": p.clone()}))
    }
}
