//! Seven API shapes found in published OpenAPI documents, each an in-test
//! app ([`app`]) behind the mapping docs/mapping.md shows for it, run
//! through Okta's and Entra's user sequences in the lifecycle table:
//! a cursor only in an RFC 8288 `Link` header, no single-record GET (a
//! read is the list filtered by id), a total only in `Content-Range`,
//! method-URL RPC calls (the id in the body, lookups as
//! `users.info?username=`), RFC 6902 JSON Patch updates guarded by the
//! app's version, an invite create with updates keyed by the username
//! under a realm from the connection's variables, and Mongo-style JSON
//! query documents.

pub mod app;
mod explain;

use crate::lifecycle::{Idp, Lifecycle, Logins, Step, Via, patch, user_path};
use crate::support::record::Recorder;
use crate::support::{Sidecar, call, config_text, load, start};
use app::{API_KEY, Shape, ShapeApp};
use http::StatusCode;
use serde_json::{Value, json};
use std::marker::PhantomData;

/// The attribute rules every shape shares.
const ATTRIBUTES: &str = r#"
[users.attributes]
userName = "$.username"
"name.givenName" = "$.given"
"name.familyName" = "$.family"
'emails[type eq "work"].value' = "$.email"
active = "$.active"
"#;

/// Cursor in a `Link` header only (GitHub-style `per_page` and `rel="next"`).
pub const LINK: &str = r#"
[users.list]
get = "/users"
query = { per_page = "{limit}" }
next = "header:Link"
max_page_size = 2

[users.search]
'userName eq' = { query = { username = "{value}" }, case_insensitive = true }

[users.get]
get = "/users/{id}"

[users.create]
post = "/users"

[users.update]
patch = "/users/{id}"

[users.delete]
delete = "/users/{id}"
"#;

/// No single-record GET: reads are the list filtered by id.
pub const LIST_ONLY: &str = r#"
[users.list]
get = "/accounts"
query = { offset = "{offset}", limit = "{limit}" }
items = "$.data[*]"
total = "$.total"

[users.search]
'id eq' = { query = { id = "{value}" } }
'userName eq' = { query = { username = "{value}" }, case_insensitive = true }

[users.create]
post = "/accounts"

[users.update]
patch = "/accounts/{id}"

[users.delete]
delete = "/accounts/{id}"
"#;

/// The total only in `Content-Range` (PostgREST-style).
pub const HEADER_TOTAL: &str = r#"
[users.list]
get = "/people"
query = { offset = "{offset}", limit = "{limit}" }
total = "header:Content-Range"

[users.search]
'userName eq' = { query = { username = "ilike.{value}" }, case_insensitive = true }

[users.get]
get = "/people/{id}"

[users.create]
post = "/people"

[users.update]
patch = "/people/{id}"

[users.delete]
delete = "/people/{id}"
"#;

/// Method URLs: every write a POST with the id in the body.
pub const RPC: &str = r#"
[users.list]
get = "/api/v1/users.list"
query = { offset = "{offset}", count = "{limit}" }
items = "$.users[*]"
total = "$.total"

[users.get]
get = "/api/v1/users.info"
query = { userId = "{id}" }
item = "$.user"

[users.search]
'userName eq' = { get = "/api/v1/users.info", query = { username = "{value}" }, item = "$.user", case_insensitive = true }

[users.create]
post = "/api/v1/users.create"
item = "$.user"

[users.update]
post = "/api/v1/users.update"
wrap = "$.data"
id_field = "$.userId"

[users.activate]
post = "/api/v1/users.setActiveStatus"
body = { userId = "{id}", activeStatus = true }

[users.deactivate]
post = "/api/v1/users.setActiveStatus"
body = { userId = "{id}", activeStatus = false }

[users.delete]
post = "/api/v1/users.delete"
body = { userId = "{id}" }

[users.errors]
'400 $.errorType == "error-invalid-user"' = { status = 404, detail = "no such user" }
"#;

/// Updates as RFC 6902 JSON Patch, the version tested first.
pub const JSON_PATCH: &str = r#"
[users.list]
get = "/users"
query = { offset = "{offset}", limit = "{limit}" }
items = "$.data[*]"
total = "$.total"

[users.search]
'userName eq' = { query = { username = "{value}" }, case_insensitive = true }

[users.get]
get = "/users/{id}"

[users.create]
post = "/users"

[users.update]
patch = "/users/{id}"
body_format = "json-patch"
version_field = "$.version"
errors = { '409 $.error == "test failed"' = "conflict" }

[users.delete]
delete = "/users/{id}"
"#;

/// An invite create, updates keyed by the username as last read, a realm
/// in every path.
pub const INVITE: &str = r#"
vars = { realm = "acme" }

[users.list]
get = "/admin/realms/{conn.realm}/users"
query = { first = "{offset}", max = "{limit}" }

[users.search]
'userName eq' = { query = { username = "{value}" }, case_insensitive = true }

[users.get]
get = "/admin/realms/{conn.realm}/users/{id}"

[users.create]
post = "/admin/realms/{conn.realm}/invite"
accepts = ["emails"]

[users.replace]
put = "/admin/realms/{conn.realm}/users/{current.userName}"

[users.delete]
delete = "/admin/realms/{conn.realm}/users/{id}"
"#;

/// Mongo-style JSON query documents.
pub const MONGO: &str = r#"
[users.list]
get = "/users"
query = { skip = "{offset}", limit = "{limit}" }
items = "$.docs[*]"
total = "$.count"

[users.search]
'userName eq' = { query = { query = { json = { username = "{value}" } } }, case_insensitive = true }

[users.get]
get = "/users/{id}"

[users.create]
post = "/users"

[users.update]
patch = "/users/{id}"

[users.delete]
delete = "/users/{id}"
"#;

/// A shape of the table: its app and its mapping.
pub trait Kind {
    const SHAPE: Shape;
    const MAPPING: &'static str;
    /// Attribute rules of this shape only.
    const ATTRIBUTES: &'static str = "";
}

macro_rules! kinds {
    ($($name:ident: $shape:ident, $mapping:ident;)*) => {$(
        pub struct $name;
        impl Kind for $name {
            const SHAPE: Shape = Shape::$shape;
            const MAPPING: &'static str = $mapping;
        }
    )*};
}

kinds! {
    Link: Link, LINK;
    ListOnly: ListOnly, LIST_ONLY;
    HeaderTotal: HeaderTotal, HEADER_TOTAL;
    Rpc: Rpc, RPC;
    Invite: Invite, INVITE;
    Mongo: MongoQuery, MONGO;
}

/// The JSON Patch shape reads the app's version of a record.
pub struct JsonPatch;
impl Kind for JsonPatch {
    const SHAPE: Shape = Shape::JsonPatch;
    const MAPPING: &'static str = JSON_PATCH;
    const ATTRIBUTES: &'static str = "\"meta.version\" = \"$.version\"\n";
}

/// The config of a shape in front of the app at `addr`.
pub fn config(mapping: &str, attributes: &str, addr: std::net::SocketAddr, idp: Idp) -> String {
    let host = format!("\n[host]\nheaders = {{ Authorization = \"Bearer {API_KEY}\" }}\n");
    let (conn, tables) = match mapping.trim_start().strip_prefix("vars = ") {
        Some(rest) => rest.split_once('\n').map_or(("", rest), |(v, t)| (v, t)),
        None => ("", mapping),
    };
    let vars = if conn.is_empty() {
        String::new()
    } else {
        format!("vars = {conn}\n")
    };
    config_text(
        addr,
        &format!("{vars}{host}{tables}{ATTRIBUTES}{attributes}"),
    )
    .replace("idp = \"okta\"", &format!("idp = \"{}\"", idp.dialect()))
}

/// An app of one shape in the lifecycle table.
pub struct Shaped<K: Kind> {
    pub app: ShapeApp,
    _kind: PhantomData<K>,
}

impl<K: Kind> Shaped<K> {
    fn user(&self, id: &str) -> Value {
        self.app.user(id).expect("in the app")
    }

    /// The calls the app received, `METHOD path?query body` (the query
    /// decoded, its parameters sorted).
    fn calls(&self) -> Vec<String> {
        self.app
            .rec
            .seen()
            .iter()
            .map(|s| {
                let mut q: Vec<String> = s.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
                q.sort();
                let q = if q.is_empty() {
                    String::new()
                } else {
                    format!("?{}", q.join("&"))
                };
                let body = s.body.as_ref().map(|b| format!(" {b}")).unwrap_or_default();
                format!("{} {}{q}{body}", s.method, s.path)
            })
            .collect()
    }
}

impl<K: Kind> Lifecycle for Shaped<K> {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let app = ShapeApp::new(K::SHAPE);
        for (name, given) in [
            ("ada@example.com", "Ada"),
            ("bob@example.com", "Bob"),
            ("cy@example.com", "Cy"),
        ] {
            app.seed(name, given);
        }
        let sc = start(load(&config(
            K::MAPPING,
            K::ATTRIBUTES,
            app.serve().await,
            idp,
        )))
        .await;
        let app = Self {
            app,
            _kind: PhantomData,
        };
        (app, sc)
    }

    fn logins(&self, idp: Idp) -> Logins {
        Logins {
            seeded: ("ada@example.com", "ADA@Example.com"),
            created: match idp {
                Idp::Okta => ("test.user@okta.local", "Test.USER@okta.local"),
                Idp::Entra => (
                    "Test_User_ab6490ee@testuser.com",
                    "test_user_AB6490EE@testuser.com",
                ),
            },
        }
    }

    fn listed(&self) -> u64 {
        3
    }

    fn rec(&self) -> &Recorder {
        &self.app.rec
    }

    fn credentials(&self) -> (&'static str, String) {
        ("authorization", format!("Bearer {API_KEY}"))
    }

    fn edit_profile(&self, user: &mut Value) {
        user["name"]["givenName"] = json!("Changed");
    }

    fn entra_patches(&self) -> Vec<Value> {
        vec![json!([{"op": "Replace", "path": "name.givenName", "value": "Grace"}])]
    }

    async fn check(&self, sc: &Sidecar, idp: Idp, step: Step<'_>) {
        if K::SHAPE == Shape::Invite {
            for s in self.app.rec.seen() {
                assert!(s.path.starts_with("/admin/realms/acme/"), "{}", s.path);
            }
        }
        match step {
            Step::Listed(_) => listed::<K>(self),
            Step::Found { .. } => found::<K>(self),
            Step::Created { id, user } => {
                let u = self.user(id);
                assert_eq!(u["username"], user["userName"]);
                assert_eq!(
                    u["family"],
                    if idp == Idp::Okta {
                        "User"
                    } else {
                        "familyName"
                    }
                );
                if K::SHAPE == Shape::Invite {
                    invited(self, id, idp, user);
                }
            }
            Step::Replaced { id, .. } => {
                assert_eq!(self.user(id)["given"], "Changed");
                replaced::<K>(self, id);
            }
            Step::Patched { id, .. } => {
                assert_eq!(self.user(id)["given"], "Grace");
                replaced::<K>(self, id);
            }
            Step::Activated {
                id, active, via, ..
            } => {
                assert_eq!(self.user(id)["active"], active);
                if K::SHAPE == Shape::Rpc && via == Via::Patch {
                    let writes: Vec<String> = self
                        .calls()
                        .into_iter()
                        .filter(|c| c.starts_with("POST"))
                        .collect();
                    assert_eq!(
                        writes,
                        [format!(
                            "POST /api/v1/users.setActiveStatus {{\"activeStatus\":{active},\"userId\":\"{id}\"}}"
                        )]
                    );
                }
            }
            Step::Own { id } => own::<K>(self, sc, id).await,
            Step::Deleted { id } => assert!(self.app.user(id).is_none()),
            _ => {}
        }
    }
}

/// The test connection's list: the `Link` shape followed the app's
/// `rel="next"` link; the others made one call.
fn listed<K: Kind>(a: &Shaped<K>) {
    let calls = a.calls();
    match K::SHAPE {
        Shape::Link => assert_eq!(
            calls,
            ["GET /users?per_page=2", "GET /users?per_page=2&since=2"]
        ),
        Shape::HeaderTotal => assert_eq!(calls, ["GET /people?limit=2&offset=0"]),
        _ => assert_eq!(calls.len(), 1, "{calls:?}"),
    }
}

/// A lookup by `userName` in each shape's query form.
fn found<K: Kind>(a: &Shaped<K>) {
    let calls = a.calls();
    let first = calls.first().expect("a lookup call");
    match K::SHAPE {
        Shape::Rpc => assert!(
            first.starts_with("GET /api/v1/users.info?username="),
            "{first}"
        ),
        Shape::HeaderTotal => assert!(first.contains("username=ilike."), "{first}"),
        Shape::MongoQuery => assert!(first.contains(r#"query={"username":""#), "{first}"),
        _ => {}
    }
}

/// The invite carried only the email; the rest followed in a PUT keyed
/// by the username the invite gave the account (its email), which Entra's
/// login then replaced.
fn invited<K: Kind>(a: &Shaped<K>, id: &str, idp: Idp, user: &Value) {
    let seen = a.app.rec.seen();
    let invite = seen
        .iter()
        .find(|s| s.path.ends_with("/invite"))
        .expect("an invite");
    let email = match idp {
        Idp::Okta => user["userName"].clone(),
        Idp::Entra => json!("Test_User_fd0ea19b@testuser.com"),
    };
    assert_eq!(invite.body, Some(json!({"email": email})));
    let put = seen
        .iter()
        .find(|s| s.method == http::Method::PUT)
        .expect("a PUT");
    let key = email.as_str().unwrap().replace('@', "%40");
    assert_eq!(put.path, format!("/admin/realms/acme/users/{key}"));
    assert_eq!(a.user(id)["email"], email);
}

/// How each shape sent a profile change.
fn replaced<K: Kind>(a: &Shaped<K>, id: &str) {
    let writes: Vec<String> = a
        .calls()
        .into_iter()
        .filter(|c| !c.starts_with("GET"))
        .collect();
    let given = a.user(id)["given"].clone();
    match K::SHAPE {
        Shape::Rpc => assert_eq!(
            writes,
            [format!(
                "POST /api/v1/users.update {{\"data\":{{\"given\":{given}}},\"userId\":\"{id}\"}}"
            )]
        ),
        Shape::JsonPatch => {
            let seen = a.app.rec.seen();
            let p = seen
                .iter()
                .find(|s| s.method == http::Method::PATCH)
                .unwrap();
            assert_eq!(p.headers["content-type"], "application/json-patch+json");
            let version = a.user(id)["version"].as_u64().unwrap() - 1;
            assert_eq!(
                p.body,
                Some(json!([{"op": "test", "path": "/version", "value": version},
                            {"op": "add", "path": "/given", "value": given}]))
            );
        }
        Shape::Invite => {
            let user = a.user(id);
            let key = user["username"].as_str().unwrap().replace('@', "%40");
            assert_eq!(writes.len(), 1, "{writes:?}");
            assert!(
                writes[0].starts_with(&format!("PUT /admin/realms/acme/users/{key} ")),
                "{writes:?}"
            );
        }
        Shape::ListOnly => {
            let reads: Vec<String> = a
                .calls()
                .into_iter()
                .filter(|c| c.starts_with("GET"))
                .collect();
            assert!(!reads.is_empty());
            for r in reads {
                assert!(r.starts_with(&format!("GET /accounts?id={id}&")), "{r}");
            }
        }
        _ => assert_eq!(writes.len(), 1, "{writes:?}"),
    }
}

/// The steps only one shape has.
async fn own<K: Kind>(a: &Shaped<K>, sc: &Sidecar, id: &str) {
    let path = user_path(id);
    match K::SHAPE {
        // Two records for one id: never a guess.
        Shape::ListOnly => {
            a.app.twin_ids(true);
            let (status, err) = call(sc, "GET", &path, None).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
            let on = patch(json!([{"op": "replace", "path": "title", "value": "x"}]));
            let (status, _) = call(sc, "PATCH", &path, Some(on)).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY);
            a.app.twin_ids(false);
            let (status, _) = call(sc, "GET", &path, None).await;
            assert_eq!(status, StatusCode::OK);
            let (status, err) = call(sc, "GET", &user_path("u999"), None).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{err}");
        }
        // Pages shorter than asked while the total says more: a 502.
        Shape::HeaderTotal => {
            a.app.cap_one(true);
            let (status, err) = call(sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
            a.app.cap_one(false);
        }
        // A concurrent change fails the patch's version test; the sidecar
        // reads again and re-applies.
        Shape::JsonPatch => {
            let before = a.user(id)["version"].as_u64().unwrap();
            a.app.bump_before_patch();
            let op = patch(json!([{"op": "replace", "path": "name.familyName", "value": "Again"}]));
            let (status, user) = call(sc, "PATCH", &path, Some(op)).await;
            assert_eq!(status, StatusCode::OK, "{user}");
            assert_eq!(a.user(id)["family"], "Again");
            let tests: Vec<Value> = a
                .app
                .rec
                .seen()
                .iter()
                .filter(|s| s.method == http::Method::PATCH)
                .map(|s| s.body.as_ref().unwrap()[0]["value"].clone())
                .collect();
            assert_eq!(tests, [json!(before), json!(before + 1)]);
        }
        // A login a JSON document must escape, found exactly.
        Shape::MongoQuery => {
            let odd = r#"o"neil\}@example.com"#;
            a.app.seed(odd, "O");
            a.fresh(sc);
            let filter = r#"userName eq "o\"neil\\}@example.com""#;
            let q =
                percent_encoding::utf8_percent_encode(filter, percent_encoding::NON_ALPHANUMERIC);
            let (status, found) =
                call(sc, "GET", &format!("/scim/v2/Users?filter={q}"), None).await;
            assert_eq!(status, StatusCode::OK, "{found}");
            assert_eq!(found["totalResults"], 1, "{found}");
            assert_eq!(found["Resources"][0]["userName"], odd);
            let seen = a.app.rec.seen();
            let doc: Value = serde_json::from_str(&seen[0].query["query"]).unwrap();
            assert_eq!(doc, json!({"username": odd}));
        }
        _ => {}
    }
}
