//! The bundled example app (`examples/demo_app`) in the lifecycle table,
//! twice: through `config/example.toml` ([`Example`]) and through the
//! config `scim-sidecar draft` writes from the app's own OpenAPI document,
//! unedited ([`DraftedExample`]). Served behind the fault proxy, which
//! records every call the app gets (with the app's API key, never an
//! `Authorization`), and checked in its own store — nested profile and
//! contact objects, `state` ACTIVE or SUSPENDED, the enterprise department
//! as `dept`; `config/example.toml` stores emails in lower case, the draft
//! as the IdP sent them (the document says nothing of case).

use super::OKTA_HEADERS;
use crate::lifecycle::entra::EXTERNAL_ID;
use crate::lifecycle::{ENTERPRISE_URN, Idp, Lifecycle, Logins, Step};
use crate::support::demo_app::DemoApp;
use crate::support::faults::FaultProxy;
use crate::support::record::Recorder;
use crate::support::{APP_KEY, Sidecar, drafted_example, example_text, start_faulty_with};
use serde_json::{Value, json};

/// The bundled app behind `config/example.toml` (`DRAFTED` false) or
/// behind its unedited draft (`DRAFTED` true).
pub struct ExampleApp<const DRAFTED: bool> {
    app: DemoApp,
    proxy: FaultProxy,
}

/// The bundled app behind `config/example.toml`.
pub type Example = ExampleApp<false>;

/// The bundled app behind the config drafted from its OpenAPI document.
pub type DraftedExample = ExampleApp<true>;

impl<const DRAFTED: bool> ExampleApp<DRAFTED> {
    /// An email as the app stores it: lower-cased by `config/example.toml`,
    /// as sent through the draft.
    fn email(sent: &str) -> String {
        if DRAFTED {
            sent.to_owned()
        } else {
            sent.to_lowercase()
        }
    }

    fn stored(&self, id: &str) -> Value {
        self.app.user(id).expect("the app's user")
    }

    fn with_login(&self, login: &str) -> usize {
        let login = login.to_lowercase();
        let users = self.app.users();
        users
            .iter()
            .filter(|u| u["login"] == login.as_str())
            .count()
    }
}

impl<const DRAFTED: bool> Lifecycle for ExampleApp<DRAFTED> {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let dialect = format!("idp = \"{}\"", idp.dialect());
        let text = if DRAFTED {
            drafted_example()
        } else {
            example_text()
        };
        let (sc, app, proxy) =
            start_faulty_with(text, |t| t.replace("idp = \"okta\"", &dialect)).await;
        let sc = match idp {
            Idp::Okta => sc.with_headers(OKTA_HEADERS),
            Idp::Entra => sc,
        };
        (Self { app, proxy }, sc)
    }

    fn logins(&self, idp: Idp) -> Logins {
        Logins {
            seeded: ("ada.lovelace@example.com", "ADA.Lovelace@Example.com"),
            created: match idp {
                Idp::Okta => ("test.user@okta.local", "Test.USER@okta.local"),
                Idp::Entra => (
                    "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                    "test_user_AB6490EE-1e48-479e-a20b-2d77186b5dd1",
                ),
            },
        }
    }

    fn listed(&self) -> u64 {
        3
    }

    fn rec(&self) -> &Recorder {
        &self.proxy.recorder
    }

    fn credentials(&self) -> (&'static str, String) {
        ("x-api-key", APP_KEY.to_owned())
    }

    /// Okta PUTs back what it read with its changes patched in, the
    /// groups it read too (read-only: ignored).
    fn edit_profile(&self, user: &mut Value) {
        user["name"]["givenName"] = json!("Alan M.");
        user["title"] = json!("Mathematician");
        user["groups"] = json!([{"value": "t1", "display": "Engineering"}]);
    }

    fn cleared_by_put(&self) -> Option<&'static str> {
        Some("title")
    }

    fn keeps_external_id(&self) -> bool {
        true
    }

    fn entra_patches(&self) -> Vec<Value> {
        vec![json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"},
            {"op": "Add", "path": "displayName", "value": "Babs"},
            {"op": "Replace", "path": format!("{ENTERPRISE_URN}:department"), "value": "Sales"}
        ])]
    }

    async fn check(&self, _: &Sidecar, idp: Idp, step: Step<'_>) {
        match step {
            // What Okta's SPEC test reads from the first resource, as the
            // app holds it, in the app's order.
            Step::Listed(list) => {
                let first = &list["Resources"][0];
                let stored = self.stored(first["id"].as_str().expect("a string id"));
                assert_eq!(first["userName"], stored["login"]);
                assert_eq!(first["name"]["givenName"], stored["profile"]["first"]);
                assert_eq!(first["name"]["familyName"], stored["profile"]["last"]);
                assert_eq!(first["emails"][0]["value"], stored["contact"]["email"]);
                assert_eq!(first["active"], json!(stored["state"] == "ACTIVE"));
                assert_eq!(list["Resources"][1]["id"], "1002", "in the app's order");
            }
            Step::Created { id, user } if idp == Idp::Okta => {
                assert_eq!(user["name"]["givenName"], "Test");
                let stored = self.stored(id);
                assert_eq!(stored["login"], "test.user@okta.local");
                assert_eq!(stored["profile"]["first"], "Test");
                assert_eq!(stored["profile"]["last"], "User");
                assert_eq!(stored["contact"]["email"], "test.user@okta.local");
                assert_eq!(stored["external_id"], "00ujl29u0le5T6Aj10h7");
                assert_eq!(stored["state"], "ACTIVE");
            }
            Step::Created { id, user } => {
                assert_eq!(user["externalId"], EXTERNAL_ID);
                assert_eq!(user[ENTERPRISE_URN]["department"], "Finance");
                let stored = self.stored(id);
                assert_eq!(stored["dept"], "Finance");
                assert_eq!(
                    stored["contact"]["email"],
                    Self::email("Test_User_fd0ea19b@testuser.com").as_str()
                );
                assert!(stored["profile"]["title"].is_null());
            }
            Step::Duplicate { login, .. } => {
                assert_eq!(self.with_login(login), 1, "a duplicate was created");
                assert_eq!(self.app.users().len(), 4);
            }
            Step::Replaced { id, user } => {
                assert_eq!(user["name"]["givenName"], "Alan M.");
                assert_eq!(user["title"], "Mathematician");
                let stored = self.stored(id);
                assert_eq!(stored["profile"]["first"], "Alan M.");
                assert_eq!(stored["profile"]["title"], "Mathematician");
                assert_eq!(stored["login"], "test.user@okta.local");
            }
            Step::Cleared { id, .. } => {
                assert!(self.stored(id)["profile"]["title"].is_null());
            }
            Step::Patched { id, .. } => {
                let stored = self.stored(id);
                assert_eq!(
                    stored["contact"]["email"],
                    Self::email("updatedEmail@microsoft.com").as_str()
                );
                assert_eq!(stored["profile"]["last"], "updatedFamilyName");
                assert_eq!(stored["profile"]["display"], "Babs");
                assert_eq!(stored["dept"], "Sales");
                assert_eq!(
                    stored["profile"]["first"], "givenName",
                    "untouched fields stay"
                );
            }
            Step::Activated { id, active, .. } => {
                let state = if active { "ACTIVE" } else { "SUSPENDED" };
                assert_eq!(self.stored(id)["state"], state);
            }
            Step::Deleted { id } => assert!(self.app.user(id).is_none(), "still in the app"),
            _ => {}
        }
    }
}
