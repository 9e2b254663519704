//! An in-memory Matrix homeserver admin API, the shape `config/matrix.toml`
//! maps (Synapse's `/_synapse/admin/v2/users`): `GET …/users?from=&limit=
//! &deactivated=` (summaries `{"name", "displayname", "deactivated"}`,
//! `{"users", "total"}`; deactivated users only with `deactivated=true`),
//! `GET …/users/{user_id}` (the full record or `404 {"errcode":
//! "M_NOT_FOUND"}`), `PUT …/users/{user_id}` creating (201) or modifying
//! (200) the account with the fields given (`password`, `displayname`,
//! `threepids`, `external_ids`, `deactivated`, `admin`), user ids checked
//! against the Matrix localpart alphabet (`400 M_INVALID_USERNAME`), and
//! `Authorization: Bearer <admin token>` (401 `M_UNKNOWN_TOKEN` else).

use crate::support::app::{App, AppRequest, json};
use crate::support::record::Recorder;
use http::{Method, Response};
use scim_sidecar::body::Body;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const ADMIN_TOKEN: &str = "syt_c2NpbS1ib3Q_admin_token";
pub const SERVER: &str = "example.org";

const WRITABLE: [&str; 6] = [
    "password",
    "displayname",
    "threepids",
    "external_ids",
    "deactivated",
    "admin",
];

#[derive(Clone, Default)]
pub struct MatrixApp {
    users: Arc<Mutex<BTreeMap<String, Value>>>,
    token: Arc<Mutex<String>>,
    pub rec: Recorder,
}

impl MatrixApp {
    pub fn new() -> Self {
        let app = Self::default();
        *app.token.lock().unwrap() = ADMIN_TOKEN.to_owned();
        app
    }

    /// Stores an account as the homeserver would have it.
    pub fn insert(&self, user_id: &str, fields: Value) {
        let mut u = json!({"name": user_id, "displayname": null, "threepids": [],
            "external_ids": [], "deactivated": false, "admin": false});
        merge(&mut u, &fields);
        self.users.lock().unwrap().insert(user_id.to_owned(), u);
    }

    pub fn user(&self, user_id: &str) -> Option<Value> {
        self.users.lock().unwrap().get(user_id).cloned()
    }

    pub fn len(&self) -> usize {
        self.users.lock().unwrap().len()
    }

    /// The admin token is revoked: every call answers 401.
    pub fn revoke_token(&self) {
        *self.token.lock().unwrap() = "revoked".into();
    }

    pub async fn serve(&self) -> SocketAddr {
        let app = self.clone();
        App::handler(move |r| app.handle(&r))
            .recorded(&self.rec)
            .serve()
            .await
    }

    fn handle(&self, r: &AppRequest) -> Response<Body> {
        let want = format!("Bearer {}", self.token.lock().unwrap());
        if r.authorization.as_deref() != Some(want.as_str()) {
            return json(
                401,
                &json!({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token"}),
            );
        }
        let segs = r.segments();
        match (&r.method, segs.as_slice()) {
            (&Method::GET, ["_synapse", "admin", "v2", "users"]) => self.list(r),
            (&Method::GET, ["_synapse", "admin", "v2", "users", id]) => match self.user(id) {
                Some(u) => json(200, &public(u)),
                None => not_found(),
            },
            (&Method::PUT, ["_synapse", "admin", "v2", "users", id]) => self.put(id, r),
            _ => json(404, &json!({"errcode": "M_UNRECOGNIZED"})),
        }
    }

    fn list(&self, r: &AppRequest) -> Response<Body> {
        let from: usize = r
            .query
            .get("from")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let limit: usize = r
            .query
            .get("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        let all = r.query.get("deactivated").is_some_and(|v| v == "true");
        let users = self.users.lock().unwrap();
        let visible: Vec<Value> = users
            .values()
            .filter(|u| all || u["deactivated"] == false)
            .map(|u| {
                json!({"name": u["name"], "displayname": u["displayname"],
                            "deactivated": u["deactivated"], "admin": u["admin"]})
            })
            .collect();
        let page: Vec<Value> = visible
            .iter()
            .skip(from)
            .take(limit.min(100))
            .cloned()
            .collect();
        json(200, &json!({"users": page, "total": visible.len()}))
    }

    fn put(&self, id: &str, r: &AppRequest) -> Response<Body> {
        let valid = id
            .strip_prefix('@')
            .and_then(|s| s.strip_suffix(&format!(":{SERVER}")))
            .is_some_and(|l| {
                !l.is_empty()
                    && l.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || "._=/-".contains(c)
                    })
            });
        if !valid {
            return json(
                400,
                &json!({"errcode": "M_INVALID_USERNAME", "error": "bad user id"}),
            );
        }
        let Some(Value::Object(body)) = &r.body else {
            return json(400, &json!({"errcode": "M_NOT_JSON"}));
        };
        let mut users = self.users.lock().unwrap();
        let created = !users.contains_key(id);
        let u = users.entry(id.to_owned()).or_insert_with(|| {
            json!({"name": id, "displayname": null, "threepids": [], "external_ids": [],
                   "deactivated": false, "admin": false})
        });
        for (k, v) in body {
            if WRITABLE.contains(&k.as_str()) {
                u[k] = v.clone();
            }
        }
        let out = public(u.clone());
        json(if created { 201 } else { 200 }, &out)
    }
}

/// A record as the API shows it: never the password.
fn public(mut u: Value) -> Value {
    if let Value::Object(o) = &mut u {
        o.remove("password");
    }
    u
}

fn not_found() -> Response<Body> {
    json(
        404,
        &json!({"errcode": "M_NOT_FOUND", "error": "User not found"}),
    )
}

fn merge(base: &mut Value, top: &Value) {
    if let (Value::Object(b), Value::Object(t)) = (base, top) {
        let t: &Map<String, Value> = t;
        for (k, v) in t {
            b.insert(k.clone(), v.clone());
        }
    }
}
