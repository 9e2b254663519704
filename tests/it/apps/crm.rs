//! The CRM people API behind the shipped `config/crm.toml` (the app:
//! [`app`]): action endpoints with bodies, a third account state (locked)
//! that takes two calls to leave, a manager cleared as `"manager": null`
//! and given by Entra as a bare id, and one phone field.

pub mod app;

use super::{okta_create_lowercase, start_shipped};
use crate::lifecycle::{ENTERPRISE_URN, Idp, Lifecycle, Logins, Step, Via, patch, user_path};
use crate::support::record::Recorder;
use crate::support::{Sidecar, call};
use app::CrmApp;
use http::StatusCode;
use serde_json::{Value, json};

/// The non-GET calls the app received, as `METHOD path body`.
fn crm_writes(app: &CrmApp) -> Vec<String> {
    app.rec
        .seen()
        .iter()
        .filter(|s| s.method != http::Method::GET)
        .map(|s| {
            let body = s.body.as_ref().map(Value::to_string).unwrap_or_default();
            format!("{} {} {body}", s.method, s.path)
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// The app in the lifecycle table, with the seeded manager's id.
pub struct Crm {
    app: CrmApp,
    boss: u64,
}

impl Crm {
    fn person(&self, id: &str) -> Option<Value> {
        self.app.person(id.parse().expect("a numeric id"))
    }

    fn status(&self, id: &str) -> Value {
        self.person(id).expect("in the app")["status"].clone()
    }
}

impl Lifecycle for Crm {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let app = CrmApp::new();
        let boss =
            app.insert(json!({"email": "boss@example.com", "first_name": "B", "last_name": "Oss"}));
        let env = [("CRM_API_KEY", app::API_KEY)];
        let sc = start_shipped("crm.toml", app.serve().await, idp, &env, |t| t).await;
        (Self { app, boss }, sc)
    }

    fn logins(&self, idp: Idp) -> Logins {
        Logins {
            seeded: ("boss@example.com", "BOSS@Example.com"),
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
        1
    }

    fn rec(&self) -> &Recorder {
        &self.app.rec
    }

    fn credentials(&self) -> (&'static str, String) {
        ("x-api-key", app::API_KEY.to_owned())
    }

    /// With two phones (the primary one is kept, of any type) and the
    /// seeded manager.
    fn okta_create(&self, login: &str) -> Value {
        let mut body = okta_create_lowercase(login);
        body["phoneNumbers"] = json!([{"type": "work", "value": "+1 555 0100", "primary": true},
                                      {"type": "home", "value": "+1 555 0199"}]);
        body[ENTERPRISE_URN] =
            json!({"department": "R&D", "manager": {"value": self.boss.to_string()}});
        body
    }

    /// Without the manager, which is then cleared as `"manager": null`.
    fn edit_profile(&self, user: &mut Value) {
        user[ENTERPRISE_URN]
            .as_object_mut()
            .unwrap()
            .remove("manager");
        user["title"] = json!("Lead");
    }

    /// Entra's manager as a bare id and its mobile phone by filter, the
    /// phone changed again, and the manager removed (clearing the parent
    /// object).
    fn entra_patches(&self) -> Vec<Value> {
        let mobile = "phoneNumbers[type eq \"mobile\"].value";
        vec![
            json!([
                {"op": "Add", "path": format!("{ENTERPRISE_URN}:manager"), "value": self.boss.to_string()},
                {"op": "Replace", "path": mobile, "value": "+49 151 1"}
            ]),
            json!([{"op": "Replace", "path": mobile, "value": "+49 151 2"}]),
            json!([{"op": "Remove", "path": format!("{ENTERPRISE_URN}:manager")}]),
        ]
    }

    async fn check(&self, sc: &Sidecar, idp: Idp, step: Step<'_>) {
        let app = &self.app;
        match step {
            Step::Created { id, user } if idp == Idp::Okta => {
                let p = self.person(id).unwrap();
                assert_eq!(p["phone"], "+1 555 0100", "the primary phone of any type");
                assert_eq!(p["manager"], json!({"id": self.boss.to_string()}));
                assert_eq!(
                    user["phoneNumbers"],
                    json!([{"type": "mobile", "value": "+1 555 0100", "primary": true}])
                );
            }
            Step::Replaced { id, .. } => {
                let sent = app
                    .rec
                    .seen()
                    .into_iter()
                    .find(|s| s.method == http::Method::PATCH)
                    .unwrap();
                assert_eq!(sent.body, Some(json!({"manager": null, "title": "Lead"})));
                assert_eq!(self.person(id).unwrap()["manager"], Value::Null);
            }
            Step::Patched { id, n, .. } => {
                let p = self.person(id).unwrap();
                match n {
                    0 => {
                        assert_eq!(p["manager"], json!({"id": self.boss.to_string()}));
                        assert_eq!(p["phone"], "+49 151 1");
                    }
                    1 => assert_eq!(p["phone"], "+49 151 2"),
                    _ => assert_eq!(p["manager"], Value::Null),
                }
            }
            // Deactivating is the action with its body.
            Step::Activated {
                id,
                active: false,
                via,
                n,
                ..
            } => {
                assert_eq!(self.status(id), "deactivated");
                if via == Via::Patch && idp == Idp::Okta {
                    assert_eq!(
                        crm_writes(app),
                        [format!(
                            "POST /api/people/{id}/deactivate {{\"reason\":\"deprovisioned\",\"source\":\"scim\"}}"
                        )]
                    );
                }
                // Entra's first disable is followed by a lock (too many
                // failed sign-ins): the next enable takes two calls.
                if idp == Idp::Entra && n == 0 {
                    app.lock(id.parse().unwrap());
                }
            }
            Step::Activated { id, n, .. } => {
                assert_eq!(self.status(id), "active");
                if idp == Idp::Entra && n == 1 {
                    let unlocked = [
                        format!("POST /api/people/{id}/unlock"),
                        format!("POST /api/people/{id}/reactivate"),
                    ];
                    assert_eq!(crm_writes(app), unlocked);
                }
            }
            Step::Own { id } if idp == Idp::Okta => self.locked(sc, id).await,
            Step::Deleted { id } => assert!(self.person(id).is_none()),
            _ => {}
        }
    }
}

impl Crm {
    /// Locked after failed sign-ins: the account reads as inactive, and
    /// reactivating it takes the unlock and the reactivation, in that
    /// order.
    async fn locked(&self, sc: &Sidecar, id: &str) {
        let path = user_path(id);
        self.app.lock(id.parse().unwrap());
        let (_, user) = call(sc, "GET", &path, None).await;
        assert_eq!(user["active"], false);
        self.fresh(sc);
        let on = patch(json!([{"op": "replace", "value": {"active": true}}]));
        let (status, r) = call(sc, "PATCH", &path, Some(on)).await;
        assert_eq!(
            (status, r["active"].clone()),
            (StatusCode::OK, json!(true)),
            "{r}"
        );
        assert_eq!(
            crm_writes(&self.app),
            [
                format!("POST /api/people/{id}/unlock"),
                format!("POST /api/people/{id}/reactivate")
            ]
        );
        assert_eq!(self.status(id), "active");
    }
}
