//! One in-memory user store served in seven API shapes found in
//! published OpenAPI documents ([`Shape`]): a `Link`-header cursor, no
//! single-record GET, a total only in `Content-Range`, method-URL RPC
//! calls, JSON Patch updates, an invite create keyed by username under a
//! realm, and Mongo-style JSON query documents. Records are
//! `{"id", "username", "email", "given", "family", "active", "version"}`;
//! usernames are unique and matched case-insensitively. Every request
//! is recorded ([`Recorder`]) and must carry `Authorization: Bearer
//! shapes-key`.

use crate::support::app::{App, AppRequest, empty, json};
use crate::support::record::Recorder;
use http::{Method, Response};
use scim_sidecar::body::Body;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The app's own API secret.
pub const API_KEY: &str = "shapes-key";

/// The API shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `GET /users?per_page=` with the next page in `Link: <…>; rel="next"`.
    Link,
    /// `GET /accounts?id=` and no `GET /accounts/{id}`.
    ListOnly,
    /// `GET /people?offset=&limit=` answering `Content-Range: 0-1/3`.
    HeaderTotal,
    /// `GET /api/v1/users.info?userId=`, every write a POST to a method URL.
    Rpc,
    /// `PATCH /users/{id}` with `application/json-patch+json`.
    JsonPatch,
    /// `POST /admin/realms/acme/invite`, `PUT …/users/{username}`.
    Invite,
    /// `GET /users?query={"username":"x"}`.
    MongoQuery,
}

#[derive(Default)]
struct Store {
    users: Vec<Value>,
    next: u64,
    /// The list filtered by id answers the record twice.
    twin_ids: bool,
    /// Pages are capped at one record whatever the limit.
    cap_one: bool,
    /// The next JSON Patch finds the record changed by someone else.
    bump_before_patch: bool,
}

impl Store {
    fn find(&self, id: &str) -> Option<usize> {
        self.users.iter().position(|u| u["id"] == id)
    }

    fn by_name(&self, name: &str) -> Option<usize> {
        self.users.iter().position(|u| same(&u["username"], name))
    }

    fn insert(&mut self, fields: &Map<String, Value>) -> Result<Value, Refusal> {
        let name = fields.get("username").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() {
            return Err((400, "username is required"));
        }
        if self.by_name(name).is_some() {
            return Err((409, "username taken"));
        }
        self.next += 1;
        let mut u = json!({"id": format!("u{}", self.next), "username": null, "email": null,
                           "given": null, "family": null, "active": true, "version": 1});
        for (k, v) in fields {
            u[k] = v.clone();
        }
        self.users.push(u.clone());
        Ok(u)
    }

    /// Merges `fields` into the record at `i` (a username must stay
    /// unique); the record after.
    fn merge(&mut self, i: usize, fields: &Map<String, Value>) -> Result<Value, Refusal> {
        if let Some(name) = fields.get("username").and_then(Value::as_str)
            && self.by_name(name).is_some_and(|j| j != i)
        {
            return Err((409, "username taken"));
        }
        let u = &mut self.users[i];
        for (k, v) in fields {
            if k != "id" && k != "version" {
                u[k] = v.clone();
            }
        }
        bump(u);
        Ok(u.clone())
    }
}

/// Why the store refused a write: the status and the app's message.
type Refusal = (u16, &'static str);

fn refuse((status, error): Refusal) -> Response<Body> {
    json(status, &json!({"error": error}))
}

fn bump(u: &mut Value) {
    u["version"] = json!(u["version"].as_u64().unwrap_or(0) + 1);
}

fn same(v: &Value, s: &str) -> bool {
    v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(s))
}

/// The app of one shape.
#[derive(Clone)]
pub struct ShapeApp {
    pub shape: Shape,
    store: Arc<Mutex<Store>>,
    pub rec: Recorder,
}

impl ShapeApp {
    pub fn new(shape: Shape) -> Self {
        Self {
            shape,
            store: Arc::default(),
            rec: Recorder::default(),
        }
    }

    /// Seeds a user; its id.
    pub fn seed(&self, username: &str, given: &str) -> String {
        let fields =
            json!({"username": username, "email": username, "given": given, "family": "Seed"});
        let u = self
            .store
            .lock()
            .unwrap()
            .insert(fields.as_object().unwrap());
        u.expect("seeded")["id"].as_str().unwrap().to_owned()
    }

    /// The record with this id.
    pub fn user(&self, id: &str) -> Option<Value> {
        let s = self.store.lock().unwrap();
        s.find(id).map(|i| s.users[i].clone())
    }

    pub fn twin_ids(&self, on: bool) {
        self.store.lock().unwrap().twin_ids = on;
    }

    pub fn cap_one(&self, on: bool) {
        self.store.lock().unwrap().cap_one = on;
    }

    pub fn bump_before_patch(&self) {
        self.store.lock().unwrap().bump_before_patch = true;
    }

    pub async fn serve(&self) -> SocketAddr {
        let app = self.clone();
        App::handler(move |r| app.answer(&r))
            .recorded(&self.rec)
            .serve()
            .await
    }

    fn answer(&self, r: &AppRequest) -> Response<Body> {
        if r.header("authorization") != Some(&format!("Bearer {API_KEY}")) {
            return json(401, &json!({"error": "unauthorized"}));
        }
        let mut s = self.store.lock().unwrap();
        let segs = r.segments();
        match self.shape {
            Shape::Rpc => rpc(&mut s, r, &segs),
            Shape::Invite => match segs.as_slice() {
                ["admin", "realms", "acme", rest @ ..] => invite(&mut s, r, rest),
                _ => json(404, &json!({"error": "no such realm"})),
            },
            _ => rest(self.shape, &mut s, r, &segs),
        }
    }
}

/// The REST shapes: a collection and its records.
fn rest(shape: Shape, s: &mut Store, r: &AppRequest, segs: &[&str]) -> Response<Body> {
    let coll = match shape {
        Shape::ListOnly => "accounts",
        Shape::HeaderTotal => "people",
        _ => "users",
    };
    match (&r.method, segs) {
        (&Method::GET, [c]) if *c == coll => list(shape, s, r),
        (&Method::POST, [c]) if *c == coll => match s.insert(fields(r)) {
            Ok(u) => json(201, &u),
            Err(e) => refuse(e),
        },
        (m, [c, id]) if *c == coll => {
            let Some(i) = s.find(id) else {
                return json(404, &json!({"error": "not found"}));
            };
            match *m {
                Method::GET if shape != Shape::ListOnly => json(200, &s.users[i]),
                Method::PATCH if shape == Shape::JsonPatch => json_patch(s, r, i),
                Method::PATCH if shape != Shape::JsonPatch => match s.merge(i, fields(r)) {
                    Ok(u) => json(200, &u),
                    Err(e) => refuse(e),
                },
                Method::DELETE => {
                    s.users.remove(i);
                    empty(204)
                }
                _ => json(405, &json!({"error": "method not allowed"})),
            }
        }
        _ => json(404, &json!({"error": "no route"})),
    }
}

fn fields(r: &AppRequest) -> &Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    r.body
        .as_ref()
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// A list page in the shape's paging and filtering.
fn list(shape: Shape, s: &Store, r: &AppRequest) -> Response<Body> {
    let q = |k: &str| r.query.get(k).map(String::as_str);
    let mut matched: Vec<&Value> = s.users.iter().collect();
    let username = match shape {
        // PostgREST's case-insensitive equality: `username=ilike.x`.
        Shape::HeaderTotal => q("username").map(|v| v.strip_prefix("ilike.").expect("ilike.")),
        Shape::MongoQuery => None,
        _ => q("username"),
    };
    if let Some(name) = username {
        matched.retain(|u| same(&u["username"], name));
    }
    if shape == Shape::MongoQuery
        && let Some(doc) = q("query")
    {
        let doc: Value = serde_json::from_str(doc).expect("the query document is JSON");
        let name = doc["username"].as_str().expect("a username string");
        matched.retain(|u| same(&u["username"], name));
    }
    if let Some(id) = q("id") {
        matched.retain(|u| u["id"] == id);
        if s.twin_ids {
            matched.extend(matched.clone());
        }
    }
    let total = matched.len();
    let (start, size) = match shape {
        Shape::Link => (
            q("since").map_or(0, |v| v.parse().unwrap()),
            r.number("per_page", 30),
        ),
        Shape::MongoQuery => (r.number("skip", 0), r.number("limit", 20)),
        _ => (r.number("offset", 0), r.number("limit", 20)),
    };
    let size = if s.cap_one { 1 } else { size };
    let page: Vec<Value> = matched
        .iter()
        .skip(start)
        .take(size)
        .map(|u| (*u).clone())
        .collect();
    let end = start + page.len();
    match shape {
        Shape::Link => {
            let mut resp = json(200, &Value::Array(page));
            if end < total {
                let host = r.header("host").unwrap_or_default();
                let mut next = format!("http://{host}/users?per_page={size}&since={end}");
                if let Some(name) = username {
                    next.push_str(&format!("&username={name}"));
                }
                let link = format!(
                    r#"<http://{host}/users?per_page={size}>; rel="first", <{next}>; rel="next""#
                );
                resp.headers_mut().insert("link", link.parse().unwrap());
            }
            resp
        }
        Shape::HeaderTotal => {
            let mut resp = json(200, &Value::Array(page));
            let range = match end {
                0 => format!("*/{total}"),
                _ => format!("{start}-{}/{total}", end - 1),
            };
            resp.headers_mut()
                .insert("content-range", range.parse().unwrap());
            resp
        }
        Shape::MongoQuery => json(200, &json!({"docs": page, "count": total})),
        _ => json(200, &json!({"data": page, "total": total})),
    }
}

/// RFC 6902 operations on the record; a failed `test` is 409 and nothing
/// is applied (§5).
fn json_patch(s: &mut Store, r: &AppRequest, i: usize) -> Response<Body> {
    if r.header("content-type") != Some("application/json-patch+json") {
        return json(415, &json!({"error": "json-patch+json only"}));
    }
    if std::mem::take(&mut s.bump_before_patch) {
        bump(&mut s.users[i]);
    }
    let mut u = s.users[i].clone();
    let Some(ops) = r.body.as_ref().and_then(Value::as_array) else {
        return json(400, &json!({"error": "a patch document is an array"}));
    };
    for op in ops {
        let path = op["path"].as_str().unwrap_or("");
        let Some(key) = path.strip_prefix('/').filter(|k| !k.contains('/')) else {
            return json(422, &json!({"error": "unknown path"}));
        };
        match op["op"].as_str() {
            Some("test") if u[key] == op["value"] => {}
            Some("test") => return json(409, &json!({"error": "test failed"})),
            Some("add") | Some("replace") => u[key] = op["value"].clone(),
            Some("remove") => u[key] = Value::Null,
            _ => return json(422, &json!({"error": "unsupported op"})),
        }
    }
    bump(&mut u);
    s.users[i] = u.clone();
    json(200, &u)
}

/// Method URLs: `users.list`, `users.info`, `users.create`,
/// `users.update`, `users.setActiveStatus`, `users.delete`.
fn rpc(s: &mut Store, r: &AppRequest, segs: &[&str]) -> Response<Body> {
    let invalid = || {
        json(
            400,
            &json!({"success": false, "errorType": "error-invalid-user"}),
        )
    };
    let body = fields(r);
    let by_id = |s: &Store, key: Option<&str>| key.and_then(|id| s.find(id));
    let user_id = body.get("userId").and_then(Value::as_str);
    match (&r.method, segs) {
        (&Method::GET, ["api", "v1", "users.list"]) => {
            let (start, size) = (r.number("offset", 0), r.number("count", 50));
            let page: Vec<&Value> = s.users.iter().skip(start).take(size).collect();
            json(
                200,
                &json!({"users": page, "total": s.users.len(), "success": true}),
            )
        }
        (&Method::GET, ["api", "v1", "users.info"]) => {
            let i = match (r.query.get("userId"), r.query.get("username")) {
                (Some(id), _) => s.find(id),
                (None, Some(name)) => s.by_name(name),
                _ => None,
            };
            match i {
                Some(i) => json(200, &json!({"user": s.users[i], "success": true})),
                None => invalid(),
            }
        }
        (&Method::POST, ["api", "v1", "users.create"]) => match s.insert(body) {
            Ok(u) => json(200, &json!({"user": u, "success": true})),
            Err(e) => refuse(e),
        },
        (&Method::POST, ["api", "v1", "users.update"]) => {
            let Some(i) = by_id(s, user_id) else {
                return invalid();
            };
            let data = body
                .get("data")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            match s.merge(i, &data) {
                Ok(u) => json(200, &json!({"user": u, "success": true})),
                Err(e) => refuse(e),
            }
        }
        (&Method::POST, ["api", "v1", "users.setActiveStatus"]) => {
            let Some(i) = by_id(s, user_id) else {
                return invalid();
            };
            let Some(active) = body.get("activeStatus").and_then(Value::as_bool) else {
                return json(400, &json!({"success": false, "error": "activeStatus"}));
            };
            s.users[i]["active"] = json!(active);
            json(200, &json!({"success": true}))
        }
        (&Method::POST, ["api", "v1", "users.delete"]) => {
            let Some(i) = by_id(s, user_id) else {
                return invalid();
            };
            s.users.remove(i);
            json(200, &json!({"success": true}))
        }
        _ => json(404, &json!({"success": false, "error": "no such method"})),
    }
}

/// Under the realm: `GET users?first=&max=&username=`, `GET users/{id}`,
/// `POST invite {"email"}` (the account's username is its email until
/// changed), `PUT users/{username}` (fields merged), `DELETE users/{id}`.
fn invite(s: &mut Store, r: &AppRequest, segs: &[&str]) -> Response<Body> {
    match (&r.method, segs) {
        (&Method::GET, ["users"]) => {
            let mut found: Vec<&Value> = s.users.iter().collect();
            if let Some(name) = r.query.get("username") {
                found.retain(|u| same(&u["username"], name));
            }
            let (first, max) = (r.number("first", 0), r.number("max", 100));
            let page: Vec<&Value> = found.into_iter().skip(first).take(max).collect();
            json(200, &json!(page))
        }
        (&Method::GET, ["users", id]) => match s.find(id) {
            Some(i) => json(200, &s.users[i]),
            None => json(404, &json!({"error": "User not found"})),
        },
        (&Method::POST, ["invite"]) => {
            let body = fields(r);
            let Some(email) = body.get("email").and_then(Value::as_str) else {
                return json(400, &json!({"error": "email is required"}));
            };
            if body.len() != 1 {
                return json(400, &json!({"error": "an invite takes only an email"}));
            }
            let fields = json!({"username": email, "email": email});
            match s.insert(fields.as_object().unwrap()) {
                Ok(u) => json(201, &u),
                Err(e) => refuse(e),
            }
        }
        (&Method::PUT, ["users", name]) => match s.by_name(name) {
            Some(i) => match s.merge(i, fields(r)) {
                Ok(_) => empty(204),
                Err(e) => refuse(e),
            },
            None => json(404, &json!({"error": "User not found"})),
        },
        (&Method::DELETE, ["users", id]) => match s.find(id) {
            Some(i) => {
                s.users.remove(i);
                empty(204)
            }
            None => json(404, &json!({"error": "User not found"})),
        },
        _ => json(404, &json!({"error": "no route"})),
    }
}
