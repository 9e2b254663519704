//! Synapse (the Matrix homeserver) behind the shipped `config/matrix.toml`,
//! installed and started by `tests/real_apps/synapse.sh`: Okta's and
//! Entra's sequences, the homeserver's accounts read through its admin
//! API after each step (ids derived from the login, threepids, the IdP's
//! external id, deactivation, a DELETE that deactivates), and the
//! sidecar's own admin account out of the IdP's reach.

use super::{app_call, env, run};
use crate::apps::{okta_create_lowercase, start_shipped};
use crate::lifecycle::entra::EXTERNAL_ID;
use crate::lifecycle::{Idp, Lifecycle, Logins, Step};
use crate::support::faults::FaultProxy;
use crate::support::record::Recorder;
use crate::support::{Sidecar, call};
use http::{Method, StatusCode};
use serde_json::{Value, json};

const SCRIPT: &str = "synapse.sh";
const USERS: &str = "/_synapse/admin/v2/users";
const SEEDED: &str = "alan.turing@example.com";

/// The running homeserver and the recording proxy in front of it.
pub struct Synapse {
    base: String,
    token: String,
    server: String,
    proxy: FaultProxy,
    listed: u64,
}

impl Synapse {
    async fn app(&self, method: Method, path: &str, body: Option<&Value>) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.token);
        app_call(&url, ("authorization", &auth), method, body).await
    }

    /// The Matrix id of a login, as `config/matrix.toml` derives it.
    fn mxid(&self, login: &str) -> String {
        let local = login.to_lowercase().replace('@', "=40");
        format!("@{local}:{}", self.server)
    }

    async fn account(&self, mxid: &str) -> Option<Value> {
        let (status, u) = self
            .app(Method::GET, &format!("{USERS}/{mxid}"), None)
            .await;
        (status == StatusCode::OK).then_some(u)
    }

    fn emails(u: &Value) -> Vec<String> {
        u["threepids"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["medium"] == "email")
            .map(|t| t["address"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Lifecycle for Synapse {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let base = env("SYNAPSE_URL", SCRIPT);
        let addr = base
            .trim_start_matches("http://")
            .parse()
            .expect("SYNAPSE_URL is http://127.0.0.1:<port>");
        let mut app = Self {
            base,
            token: env("SYNAPSE_TOKEN", SCRIPT),
            server: env("SYNAPSE_SERVER_NAME", SCRIPT),
            proxy: FaultProxy::start(addr).await,
            listed: 0,
        };
        let seeded = app.mxid(SEEDED);
        if app.account(&seeded).await.is_none() {
            let body = json!({"displayname": "Alan Turing",
                "threepids": [{"medium": "email", "address": SEEDED}]});
            let (status, u) = app
                .app(Method::PUT, &format!("{USERS}/{seeded}"), Some(&body))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{u}");
        }
        let (_, all) = app
            .app(
                Method::GET,
                &format!("{USERS}?deactivated=true&limit=1"),
                None,
            )
            .await;
        // The sidecar's own account is never listed.
        app.listed = all["total"].as_u64().expect("total") - 1;
        let env = [
            ("MATRIX_ADMIN_TOKEN", app.token.as_str()),
            ("MATRIX_SERVER_NAME", app.server.as_str()),
        ];
        let sc = start_shipped("matrix.toml", app.proxy.addr, idp, &env, |t| t).await;
        (app, sc)
    }

    fn logins(&self, idp: Idp) -> Logins {
        Logins {
            seeded: (SEEDED, "Alan.Turing@EXAMPLE.com"),
            created: match idp {
                Idp::Okta => ("Test.User@okta.local", "test.user@OKTA.local"),
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
        ("authorization", format!("Bearer {}", self.token))
    }

    fn okta_create(&self, login: &str) -> Value {
        okta_create_lowercase(login)
    }

    fn user_name(&self, login: &str) -> String {
        login.to_lowercase()
    }

    fn edit_profile(&self, user: &mut Value) {
        user["displayName"] = json!("Grace Hopper");
    }

    fn delete_keeps_account(&self) -> bool {
        true
    }

    fn keeps_external_id(&self) -> bool {
        true
    }

    fn entra_patches(&self) -> Vec<Value> {
        vec![json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@testuser.com"},
            {"op": "Remove", "path": "externalId"}
        ])]
    }

    async fn check(&self, sc: &Sidecar, idp: Idp, step: Step<'_>) {
        match step {
            // A lookup is one get-by-key call of the derived id.
            Step::Found { found, .. } => {
                assert_eq!(found["Resources"][0]["userName"], SEEDED, "{found}");
                let seeded = self.mxid(SEEDED).replace('=', "%3D");
                assert_eq!(
                    self.proxy.recorder.calls()[0],
                    format!("GET {USERS}/{seeded}")
                );
            }
            Step::Created { id, .. } => {
                let login = self.logins(idp).created.0;
                assert_eq!(id, self.mxid(login));
                let u = self.account(id).await.expect("created in the homeserver");
                let (display, email, external) = match idp {
                    Idp::Okta => ("Test User", "test.user@okta.local", "00ujl29u0le5T6Aj10h7"),
                    Idp::Entra => (
                        "givenName familyName",
                        "test_user_fd0ea19b@testuser.com",
                        EXTERNAL_ID,
                    ),
                };
                assert_eq!(u["displayname"], display, "{u}");
                assert_eq!(Self::emails(&u), [email], "{u}");
                assert_eq!(
                    u["external_ids"],
                    json!([{"auth_provider": "scim", "external_id": external}]),
                    "{u}"
                );
                assert_eq!(u["deactivated"], false);
            }
            Step::Duplicate { .. } => {
                let writes: Vec<String> = self
                    .proxy
                    .recorder
                    .calls()
                    .into_iter()
                    .filter(|c| !c.starts_with("GET "))
                    .collect();
                assert!(writes.is_empty(), "a duplicate wrote: {writes:?}");
            }
            Step::Replaced { id, .. } => {
                let u = self.account(id).await.unwrap();
                assert_eq!(u["displayname"], "Grace Hopper", "{u}");
            }
            Step::Patched { id, .. } => {
                let u = self.account(id).await.unwrap();
                assert_eq!(Self::emails(&u), ["new@testuser.com"], "{u}");
                assert_eq!(u["external_ids"], json!([]), "{u}");
            }
            Step::Activated { id, active, .. } => {
                let u = self.account(id).await.unwrap();
                assert_eq!(u["deactivated"], !active, "{u}");
            }
            // The sidecar's own account stays out of reach.
            Step::Own { .. } => {
                let bot = format!("@scim-bot:{}", self.server);
                let path = format!("/scim/v2/Users/{}", bot.replace('@', "%40"));
                let (status, _) = call(sc, "GET", &path, None).await;
                assert_eq!(status, StatusCode::NOT_FOUND);
                let (status, _) = call(sc, "DELETE", &path, None).await;
                assert_eq!(status, StatusCode::NOT_FOUND);
                assert_eq!(self.account(&bot).await.unwrap()["deactivated"], false);
            }
            Step::Deleted { id } => {
                let u = self.account(id).await.expect("kept, deactivated");
                assert_eq!(u["deactivated"], true, "{u}");
            }
            _ => {}
        }
    }
}

#[tokio::test]
#[ignore = "needs Synapse: run tests/real_apps/synapse.sh"]
async fn synapse_okta() {
    run::<Synapse>(Idp::Okta).await;
}

#[tokio::test]
#[ignore = "needs Synapse: run tests/real_apps/synapse.sh"]
async fn synapse_entra() {
    run::<Synapse>(Idp::Entra).await;
}
