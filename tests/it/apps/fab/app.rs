//! An in-memory Flask-AppBuilder security API, the shape `config/fab.toml`
//! maps: `GET /api/v1/security/users/?q=<rison>` (`(filters:!((col:username,
//! opr:sw,value:'…')),page:0,page_size:100,order_column:id)`; 0-based pages,
//! `page_size` capped at 100; as FAB on PostgreSQL, `eq` is SQL `=`
//! (case-sensitive) and `sw` is `ILIKE 'value%'`; a second `q` ignored as
//! Flask does; a JSON `q` is read too) answering `{"count", "ids",
//! "result"}`; `GET …/users/<pk>` (`{"id", "result"}`; a pk that is not a
//! number is the database's error, 500 `{"message": "Fatal error"}`);
//! `POST …/users/` requiring `first_name`, `last_name`, `username`,
//! `email`, `password` and `roles` (400 `{"message": {field: ["Missing
//! data for required field."]}}`; a taken username, compared
//! case-sensitively as the unique index does, is 422 with the database's
//! message as a string); `PUT` of some fields (a taken username 422 too);
//! `DELETE`; naive UTC timestamps; `Authorization: Bearer` (401 else). The
//! Rison reader is this file's own.

use crate::support::app::{App, AppRequest, json};
use crate::support::record::Recorder;
use http::{Method, Response};
use scim_sidecar::body::Body;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const ACCESS_TOKEN: &str = "fab-jwt-for-scim-service";
pub const SERVICE_USER: &str = "scim-service";
const REQUIRED: [&str; 6] = [
    "first_name",
    "last_name",
    "username",
    "email",
    "password",
    "roles",
];
const WRITABLE: [&str; 7] = [
    "first_name",
    "last_name",
    "username",
    "email",
    "password",
    "roles",
    "active",
];

/// What FAB answers for an `IntegrityError` (`str(e.orig)`).
const TAKEN: &str = "duplicate key value violates unique constraint \"ab_user_username_key\"";

#[derive(Default)]
struct Store {
    users: BTreeMap<u64, Value>,
    next: u64,
    clock: u64,
}

#[derive(Clone, Default)]
pub struct FabApp {
    store: Arc<Mutex<Store>>,
    pub rec: Recorder,
}

impl FabApp {
    pub fn new() -> Self {
        let app = Self::default();
        app.insert(
            json!({"username": SERVICE_USER, "first_name": "SCIM", "last_name": "Service",
            "email": "scim@example.com", "password": "service-secret", "roles": [1]}),
        );
        app
    }

    /// Stores a user as created through the app; its pk.
    pub fn insert(&self, mut fields: Value) -> u64 {
        let mut s = self.store.lock().unwrap();
        s.next += 1;
        s.clock += 1;
        let (pk, at) = (s.next, stamp(s.clock));
        let o = fields.as_object_mut().unwrap();
        o.insert("id".into(), pk.into());
        o.entry("active").or_insert(Value::Bool(true));
        o.insert("created_on".into(), at.clone().into());
        o.insert("changed_on".into(), at.into());
        s.users.insert(pk, fields);
        pk
    }

    pub fn user(&self, pk: u64) -> Option<Value> {
        self.store.lock().unwrap().users.get(&pk).cloned()
    }

    pub fn by_username(&self, name: &str) -> Option<Value> {
        let s = self.store.lock().unwrap();
        s.users.values().find(|u| u["username"] == name).cloned()
    }

    pub fn len(&self) -> usize {
        self.store.lock().unwrap().users.len()
    }

    pub async fn serve(&self) -> SocketAddr {
        let app = self.clone();
        App::handler(move |r| app.handle(&r))
            .recorded(&self.rec)
            .serve()
            .await
    }

    fn handle(&self, r: &AppRequest) -> Response<Body> {
        if r.authorization.as_deref() != Some(&format!("Bearer {ACCESS_TOKEN}")) {
            return json(401, &json!({"msg": "Token has expired"}));
        }
        let segs = r.segments();
        let pk = |s: &str| s.parse::<u64>().ok();
        match (&r.method, segs.as_slice()) {
            (&Method::GET, ["api", "v1", "security", "users"]) => self.list(r),
            (&Method::POST, ["api", "v1", "security", "users"]) => self.create(r),
            (m, ["api", "v1", "security", "users", id]) => match (m, pk(id)) {
                (&Method::GET, Some(pk)) => match self.user(pk) {
                    Some(u) => json(200, &json!({"id": pk, "result": public(u)})),
                    None => json(404, &json!({"message": "Not found"})),
                },
                (&Method::PUT, Some(pk)) => self.update(pk, r),
                (&Method::DELETE, Some(pk)) => match self.store.lock().unwrap().users.remove(&pk) {
                    Some(_) => json(200, &json!({"message": "OK"})),
                    None => json(404, &json!({"message": "Not found"})),
                },
                // PostgreSQL refuses to compare an integer key with text;
                // FAB's `@safe` answers the exception as a 500.
                (&Method::GET | &Method::PUT | &Method::DELETE, None) => {
                    json(500, &json!({"message": "Fatal error"}))
                }
                _ => json(404, &json!({"message": "Not found"})),
            },
            _ => json(404, &json!({"message": "Not found"})),
        }
    }

    fn list(&self, r: &AppRequest) -> Response<Body> {
        // Flask reads the first `q` of a repeated parameter; the recorder
        // keeps the last, so read the raw query.
        let q = r.raw_query.as_deref().and_then(first_q);
        let q = match q.as_deref().map(parse_q) {
            None => Value::Object(Map::new()),
            Some(Some(v)) => v,
            Some(None) => return json(400, &json!({"message": "Not a valid rison/json argument"})),
        };
        let page = q["page"].as_u64().unwrap_or(0) as usize;
        let size = q["page_size"].as_u64().unwrap_or(20).min(100) as usize;
        let filters = q["filters"].as_array().cloned().unwrap_or_default();
        let s = self.store.lock().unwrap();
        let hits: Vec<Value> = s
            .users
            .values()
            .filter(|u| {
                filters.iter().all(|f| {
                    let col = f["col"].as_str().unwrap_or("");
                    let want = f["value"].as_str().unwrap_or("");
                    let have = u[col].as_str();
                    match f["opr"].as_str() {
                        Some("eq") => have == Some(want),
                        Some("sw") => {
                            have.is_some_and(|v| v.to_lowercase().starts_with(&want.to_lowercase()))
                        }
                        _ => false,
                    }
                })
            })
            .cloned()
            .collect();
        let result: Vec<Value> = hits
            .iter()
            .skip(page * size)
            .take(size)
            .cloned()
            .map(public)
            .collect();
        let ids: Vec<Value> = result.iter().map(|u| u["id"].clone()).collect();
        json(
            200,
            &json!({"count": hits.len(), "ids": ids, "result": result}),
        )
    }

    fn create(&self, r: &AppRequest) -> Response<Body> {
        let Some(Value::Object(b)) = &r.body else {
            return json(400, &json!({"message": "Request is not JSON"}));
        };
        let mut missing = Map::new();
        for f in REQUIRED {
            if b.get(f).is_none_or(Value::is_null) {
                missing.insert(f.into(), json!(["Missing data for required field."]));
            }
        }
        if !missing.is_empty() {
            return json(400, &json!({"message": missing}));
        }
        if self
            .by_username(b["username"].as_str().unwrap_or(""))
            .is_some()
        {
            return json(422, &json!({"message": TAKEN}));
        }
        let fields: Map<String, Value> = b
            .iter()
            .filter(|(k, _)| WRITABLE.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let pk = self.insert(Value::Object(fields.clone()));
        let mut shown = fields;
        shown.remove("password");
        json(201, &json!({"id": pk, "result": shown}))
    }

    fn update(&self, pk: u64, r: &AppRequest) -> Response<Body> {
        let Some(Value::Object(b)) = &r.body else {
            return json(400, &json!({"message": "Request is not JSON"}));
        };
        let username = b.get("username").and_then(Value::as_str);
        if let Some(other) = username.and_then(|n| self.by_username(n))
            && other["id"] != pk
        {
            return json(422, &json!({"message": TAKEN}));
        }
        let mut s = self.store.lock().unwrap();
        s.clock += 1;
        let at = stamp(s.clock);
        let Some(u) = s.users.get_mut(&pk) else {
            return json(404, &json!({"message": "Not found"}));
        };
        for (k, v) in b {
            if WRITABLE.contains(&k.as_str()) {
                u[k] = v.clone();
            }
        }
        u["changed_on"] = at.into();
        json(200, &json!({"id": pk, "result": public(u.clone())}))
    }
}

/// A naive UTC timestamp, as FAB's `isoformat()` writes it.
fn stamp(n: u64) -> String {
    format!("2024-05-01T12:{:02}:{:02}.250000", n / 60, n % 60)
}

fn public(mut u: Value) -> Value {
    if let Value::Object(o) = &mut u {
        o.remove("password");
    }
    u
}

/// The first `q` of a raw query string, percent-decoded.
fn first_q(raw: &str) -> Option<String> {
    form_urlencoded::parse(raw.as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
}

/// A Rison (or, starting with `{`, JSON) document.
pub fn parse_q(text: &str) -> Option<Value> {
    if text.starts_with('{') {
        return serde_json::from_str(text).ok();
    }
    let mut p = Rison {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    (p.i == p.s.len()).then_some(v)
}

struct Rison<'a> {
    s: &'a [u8],
    i: usize,
}

impl Rison<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'(' => {
                self.i += 1;
                let mut m = Map::new();
                while self.peek()? != b')' {
                    if !m.is_empty() {
                        self.eat(b',')?;
                    }
                    let k = match self.peek()? {
                        b'\'' => self.quoted()?,
                        _ => self.id(),
                    };
                    self.eat(b':')?;
                    m.insert(k, self.value()?);
                }
                self.i += 1;
                Some(Value::Object(m))
            }
            b'\'' => self.quoted().map(Value::String),
            b'!' => {
                self.i += 1;
                let c = self.peek()?;
                self.i += 1;
                match c {
                    b't' => Some(Value::Bool(true)),
                    b'f' => Some(Value::Bool(false)),
                    b'n' => Some(Value::Null),
                    b'(' => {
                        let mut a = Vec::new();
                        while self.peek()? != b')' {
                            if !a.is_empty() {
                                self.eat(b',')?;
                            }
                            a.push(self.value()?);
                        }
                        self.i += 1;
                        Some(Value::Array(a))
                    }
                    _ => None,
                }
            }
            _ => {
                let t = self.id();
                if t.is_empty() {
                    return None;
                }
                Some(match t.parse::<i64>() {
                    Ok(n) => Value::from(n),
                    Err(_) => Value::String(t),
                })
            }
        }
    }

    fn id(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|c| !b" '!:(),*@$".contains(&c)) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn quoted(&mut self) -> Option<String> {
        self.eat(b'\'')?;
        let mut out = Vec::new();
        loop {
            match self.peek()? {
                b'\'' => {
                    self.i += 1;
                    return String::from_utf8(out).ok();
                }
                b'!' => {
                    let c = *self.s.get(self.i + 1)?;
                    if c != b'!' && c != b'\'' {
                        return None;
                    }
                    out.push(c);
                    self.i += 2;
                }
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}
