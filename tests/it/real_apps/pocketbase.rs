//! PocketBase behind `config/pocketbase.toml`, installed and started by
//! `tests/real_apps/pocketbase.sh`: Okta's and Entra's sequences, the app's
//! records read after each step, one password written to `password` and
//! `passwordConfirm`, and hostile logins looked up as one literal of
//! PocketBase's filter language.

use super::{app_call, env, run};
use crate::apps::{okta_create_lowercase, start_shipped};
use crate::lifecycle::{Idp, Lifecycle, Logins, Step, filter_path, user_path};
use crate::support::faults::FaultProxy;
use crate::support::record::Recorder;
use crate::support::{Sidecar, call};
use http::{Method, StatusCode};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

const SCRIPT: &str = "pocketbase.sh";
const RECORDS: &str = "/api/collections/users/records";
const SEEDED: &str = "alan.turing@example.com";

/// The running app, the recording proxy the sidecar calls it through, and
/// how many records the case starts with.
pub struct PocketBase {
    base: String,
    token: String,
    proxy: FaultProxy,
    listed: u64,
}

impl PocketBase {
    async fn app(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        app_call(&url, ("authorization", &self.token), method, body).await
    }

    /// The records whose username is `login` (exactly).
    async fn by_username(&self, login: &str) -> Vec<Value> {
        let f = format!(
            "username='{}'",
            login.replace('\\', "\\\\").replace('\'', "\\'")
        );
        let q = utf8_percent_encode(&f, NON_ALPHANUMERIC);
        let (status, list) = self
            .app(Method::GET, &format!("{RECORDS}?filter={q}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    async fn record(&self, id: &str) -> Option<Value> {
        let (status, r) = self
            .app(Method::GET, &format!("{RECORDS}/{id}"), None)
            .await;
        (status == StatusCode::OK).then_some(r)
    }

    /// The filters of the list calls the sidecar made since the last check.
    fn filters(&self) -> Vec<String> {
        self.proxy
            .seen()
            .iter()
            .filter(|s| s.method == Method::GET && s.path == RECORDS)
            .filter_map(|s| s.query.get("filter").cloned())
            .collect()
    }

    /// The bodies of the create calls since the last check.
    fn posts(&self) -> Vec<Value> {
        self.proxy
            .seen()
            .into_iter()
            .filter(|s| s.method == Method::POST)
            .filter_map(|s| s.body)
            .collect()
    }

    /// A user that any case finds, and none of a case's logins left over.
    async fn seed(&self, leftovers: &[&str]) {
        for login in leftovers {
            for r in self.by_username(login).await {
                let id = r["id"].as_str().unwrap();
                self.app(Method::DELETE, &format!("{RECORDS}/{id}"), None)
                    .await;
            }
        }
        if self.by_username(SEEDED).await.is_empty() {
            let seeded = json!({"username": SEEDED, "email": SEEDED, "name": "Alan Turing",
                "active": true, "password": "seeded-pass-1", "passwordConfirm": "seeded-pass-1"});
            let (status, r) = self.app(Method::POST, RECORDS, Some(&seeded)).await;
            assert_eq!(status, StatusCode::OK, "{r}");
        }
    }

    /// Hostile logins are created, found as one literal each and deleted.
    async fn hostile_logins(&self, sc: &Sidecar) {
        for (i, login) in ["O'Brien", "x' || username != '", "back\\slash\"q"]
            .into_iter()
            .enumerate()
        {
            let mut user = okta_create_lowercase(login);
            user["emails"] = json!([{"type": "work", "primary": true, "value": format!("hostile{i}@example.com")}]);
            let (status, created) = call(sc, "POST", "/scim/v2/Users", Some(user)).await;
            assert_eq!(status, StatusCode::CREATED, "{login}: {created}");
            let id = created["id"].as_str().unwrap().to_owned();
            self.proxy.recorder.clear();
            let f = format!(
                "userName eq \"{}\"",
                login.replace('\\', "\\\\").replace('"', "\\\"")
            );
            let q = utf8_percent_encode(&f, NON_ALPHANUMERIC);
            let (status, found) =
                call(sc, "GET", &format!("/scim/v2/Users?filter={q}"), None).await;
            assert_eq!(status, StatusCode::OK, "{login}: {found}");
            assert_eq!(found["totalResults"], 1, "{login}: {found}");
            assert_eq!(found["Resources"][0]["id"], id.as_str());
            let escaped = login
                .replace('\\', "\\\\")
                .replace('\'', "\\'")
                .replace('"', "\\\"");
            assert_eq!(self.filters(), [format!("username~'{escaped}'")]);
            let (status, _) = call(sc, "DELETE", &user_path(&id), None).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
            assert!(self.record(&id).await.is_none(), "{login}");
        }
    }
}

impl Lifecycle for PocketBase {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let base = env("POCKETBASE_URL", SCRIPT);
        let token = env("POCKETBASE_TOKEN", SCRIPT);
        let addr = base
            .trim_start_matches("http://")
            .parse()
            .expect("POCKETBASE_URL is http://127.0.0.1:<port>");
        let proxy = FaultProxy::start(addr).await;
        let mut app = Self {
            base,
            token,
            proxy,
            listed: 0,
        };
        let created = app.logins(idp).created;
        app.seed(&[created.0, created.1]).await;
        let (_, all) = app
            .app(Method::GET, &format!("{RECORDS}?perPage=1"), None)
            .await;
        app.listed = all["totalItems"].as_u64().expect("totalItems");
        let env = [("POCKETBASE_TOKEN", app.token.as_str())];
        let sc = start_shipped("pocketbase.toml", app.proxy.addr, idp, &env, |t| t).await;
        (app, sc)
    }

    fn logins(&self, idp: Idp) -> Logins {
        Logins {
            seeded: (SEEDED, "Alan.Turing@EXAMPLE.com"),
            created: match idp {
                Idp::Okta => ("test.user@okta.local", "Test.User@OKTA.local"),
                Idp::Entra => (
                    "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                    "TEST_USER_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                ),
            },
        }
    }

    fn listed(&self) -> u64 {
        self.listed
    }

    fn rec(&self) -> &Recorder {
        &self.proxy.recorder
    }

    fn credentials(&self) -> (&'static str, String) {
        ("authorization", self.token.clone())
    }

    fn okta_create(&self, login: &str) -> Value {
        okta_create_lowercase(login)
    }

    fn edit_profile(&self, user: &mut Value) {
        user["displayName"] = json!("Grace Hopper");
    }

    /// The work email and the display name (composed from the name at
    /// the create: Entra sent none).
    fn entra_patches(&self) -> Vec<Value> {
        vec![json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@testuser.com"},
            {"op": "Replace", "path": "displayName", "value": "Grace Hopper"}
        ])]
    }

    async fn check(&self, sc: &Sidecar, idp: Idp, step: Step<'_>) {
        match step {
            // One list call, PocketBase's filter holding the login as one literal.
            Step::Found { value, found } => {
                assert_eq!(found["Resources"][0]["userName"], SEEDED, "{found}");
                assert_eq!(self.filters(), [format!("username~'{value}'")]);
            }
            Step::Created { id, .. } => {
                let r = self.record(id).await.expect("the created record");
                let (login, email, name) = match idp {
                    Idp::Okta => ("test.user@okta.local", "test.user@okta.local", "Test User"),
                    Idp::Entra => (
                        "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                        "Test_User_fd0ea19b@testuser.com",
                        "givenName familyName",
                    ),
                };
                assert_eq!(
                    (&r["username"], &r["email"], &r["name"], &r["active"]),
                    (&json!(login), &json!(email), &json!(name), &json!(true)),
                    "{r}"
                );
                let posts = self.posts();
                assert_eq!(posts.len(), 1);
                let pw = posts[0]["password"].as_str().expect("a password");
                assert_eq!(posts[0]["passwordConfirm"], pw, "one value in both fields");
                let auth = json!({"identity": email, "password": pw});
                let (status, signed_in) = self
                    .app(
                        Method::POST,
                        "/api/collections/users/auth-with-password",
                        Some(&auth),
                    )
                    .await;
                assert_eq!(
                    status,
                    StatusCode::OK,
                    "the password was stored: {signed_in}"
                );
                if idp == Idp::Okta {
                    assert_eq!(pw, "1mz050nq", "the IdP's password");
                } else {
                    assert_eq!(pw.len(), 24, "a generated password");
                }
            }
            Step::Duplicate { .. } => {
                assert!(
                    self.posts().is_empty(),
                    "refused before the app: {:?}",
                    self.proxy.recorder.calls()
                );
            }
            Step::Replaced { id, .. } => {
                let r = self.record(id).await.unwrap();
                assert_eq!(r["name"], "Grace Hopper", "{r}");
            }
            Step::Patched { id, .. } => {
                let r = self.record(id).await.unwrap();
                assert_eq!(r["email"], "new@testuser.com", "{r}");
                assert_eq!(r["name"], "Grace Hopper", "{r}");
            }
            Step::Activated { id, active, .. } => {
                let r = self.record(id).await.unwrap();
                assert_eq!(r["active"], active, "{r}");
            }
            Step::Own { .. } if idp == Idp::Okta => self.hostile_logins(sc).await,
            Step::Deleted { id } => {
                assert!(self.record(id).await.is_none(), "{id} is still there");
                let login = self.logins(idp).created.0;
                let (status, _) = call(sc, "GET", &filter_path("userName", login), None).await;
                assert_eq!(status, StatusCode::OK);
            }
            _ => {}
        }
    }
}

#[tokio::test]
#[ignore = "needs PocketBase: run tests/real_apps/pocketbase.sh"]
async fn pocketbase_okta() {
    run::<PocketBase>(Idp::Okta).await;
}

#[tokio::test]
#[ignore = "needs PocketBase: run tests/real_apps/pocketbase.sh"]
async fn pocketbase_entra() {
    run::<PocketBase>(Idp::Entra).await;
}
