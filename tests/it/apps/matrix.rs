//! The Matrix homeserver's admin API behind the shipped
//! `config/matrix.toml` (the app: [`app`]): ids derived from the login, a
//! lookup that is one get-by-key call, upsert creates that never take over
//! an account, one `threepids` list for emails and phones, the IdP's id
//! as one `external_ids` element, one display name, a DELETE that
//! deactivates, and the sidecar's own admin account out of the IdP's
//! reach.

pub mod app;

use super::{okta_create_lowercase, start_shipped};
use crate::lifecycle::entra::EXTERNAL_ID;
use crate::lifecycle::{Idp, Lifecycle, Logins, Step, assert_scim_error, patch, user_path};
use crate::support::record::Recorder;
use crate::support::{self, Sidecar, call};
use app::MatrixApp;
use http::StatusCode;
use serde_json::{Value, json};

const TEST_ID: &str = "@test.user=40okta.local:example.org";
const ENTRA_ID: &str = "@test_user_ab6490ee-1e48-479e-a20b-2d77186b5dd1:example.org";

async fn start_matrix(app: &MatrixApp, idp: Idp) -> Sidecar {
    let env = [
        ("MATRIX_ADMIN_TOKEN", app::ADMIN_TOKEN),
        ("MATRIX_SERVER_NAME", app::SERVER),
    ];
    start_shipped("matrix.toml", app.serve().await, idp, &env, |t| t).await
}

fn matrix_seed(app: &MatrixApp) {
    // The sidecar's own admin account, and a person.
    app.insert(
        "@scim-bot:example.org",
        json!({"displayname": "SCIM", "admin": true, "password": "bot-secret"}),
    );
    app.insert(
        "@alan.turing=40example.com:example.org",
        json!({"displayname": "Alan Turing",
               "threepids": [{"medium": "email", "address": "alan@example.com"}]}),
    );
}

fn scim_error(status: StatusCode, body: &Value, want: u16, scim_type: Option<&str>) {
    let want = StatusCode::from_u16(want).unwrap();
    assert_scim_error(status, body, want, scim_type);
}

/// The app in the lifecycle table.
pub struct Matrix(MatrixApp);

impl Lifecycle for Matrix {
    async fn start(idp: Idp) -> (Self, Sidecar) {
        let app = MatrixApp::new();
        matrix_seed(&app);
        let sc = start_matrix(&app, idp).await;
        (Self(app), sc)
    }

    fn logins(&self, idp: Idp) -> Logins {
        Logins {
            seeded: ("alan.turing@example.com", "Alan.Turing@EXAMPLE.com"),
            created: match idp {
                Idp::Okta => ("Test.User@okta.local", "test.user@OKTA.local"),
                Idp::Entra => (
                    "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                    "TEST_USER_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                ),
            },
        }
    }

    /// The sidecar's own account is not listed.
    fn listed(&self) -> u64 {
        1
    }

    fn rec(&self) -> &Recorder {
        &self.0.rec
    }

    fn credentials(&self) -> (&'static str, String) {
        ("authorization", format!("Bearer {}", app::ADMIN_TOKEN))
    }

    fn okta_create(&self, login: &str) -> Value {
        okta_create_lowercase(login)
    }

    /// A Matrix id is made of the login in lower case.
    fn user_name(&self, login: &str) -> String {
        login.to_lowercase()
    }

    /// A phone added and no displayName: the display name is composed,
    /// the phone joins the email.
    fn edit_profile(&self, user: &mut Value) {
        user["name"] = json!({"givenName": "Testy", "familyName": "User"});
        user.as_object_mut().unwrap().remove("displayName");
        user["phoneNumbers"] = json!([{"value": "+15551234", "type": "mobile"}]);
    }

    /// A homeserver never deletes an account: DELETE deactivates it.
    fn delete_keeps_account(&self) -> bool {
        true
    }

    fn keeps_external_id(&self) -> bool {
        true
    }

    /// Capitalised ops on the work email and a new mobile phone, and the
    /// externalId removed: the identity element goes, the others stay.
    fn entra_patches(&self) -> Vec<Value> {
        vec![json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@testuser.com"},
            {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+4915112345"},
            {"op": "Remove", "path": "externalId"}
        ])]
    }

    async fn check(&self, sc: &Sidecar, idp: Idp, step: Step<'_>) {
        let app = &self.0;
        match step {
            Step::Listed(list) => {
                assert_eq!(list["Resources"][0]["userName"], "alan.turing@example.com");
            }
            // Okta's lookup is a get-by-key call of the derived id (then
            // the read of the user found), never a list.
            Step::Found { value, .. } => {
                let calls = app.rec.calls();
                assert_eq!(
                    calls[0],
                    "GET /_synapse/admin/v2/users/@alan.turing%3D40example.com:example.org",
                    "{value}"
                );
                assert!(
                    calls
                        .iter()
                        .all(|c| c.starts_with("GET /_synapse/admin/v2/users/")
                            && c.contains("alan.turing")),
                    "{value}: {calls:?}"
                );
            }
            Step::NotFound => {
                assert_eq!(
                    app.rec.calls(),
                    ["GET /_synapse/admin/v2/users/@test.user%3D40okta.local:example.org"]
                );
            }
            // Create: a PUT of the id derived from the login.
            Step::Created { id, user } if idp == Idp::Okta => {
                assert_eq!(id, TEST_ID);
                assert_eq!(user["displayName"], "Test User");
                assert_eq!(user["externalId"], "00ujl29u0le5T6Aj10h7");
                assert_eq!(
                    user["emails"],
                    json!([{"value": "test.user@okta.local", "type": "work", "primary": true}])
                );
                let u = app.user(TEST_ID).expect("created in the app");
                assert_eq!(u["displayname"], "Test User");
                assert_eq!(
                    u["threepids"],
                    json!([{"medium": "email", "address": "test.user@okta.local"}])
                );
                assert_eq!(
                    u["external_ids"],
                    json!([{"auth_provider": "scim", "external_id": "00ujl29u0le5T6Aj10h7"}])
                );
                assert_eq!(u["password"], "1mz050nq");
                assert_eq!(u["deactivated"], false);
            }
            Step::Created { id, user } => {
                assert_eq!(id, ENTRA_ID);
                assert_eq!(user["displayName"], "givenName familyName");
                assert_eq!(
                    app.user(id).unwrap()["external_ids"],
                    json!([{"auth_provider": "scim", "external_id": EXTERNAL_ID}])
                );
            }
            // A duplicate changes nothing.
            Step::Duplicate { .. } => assert_eq!(app.len(), 3),
            Step::Replaced { user, .. } => {
                assert_eq!(user["displayName"], "Testy User");
                let u = app.user(TEST_ID).unwrap();
                assert_eq!(u["displayname"], "Testy User");
                assert_eq!(
                    u["threepids"],
                    json!([{"medium": "email", "address": "test.user@okta.local"},
                           {"medium": "msisdn", "address": "+15551234"}])
                );
            }
            Step::Patched { id, user, .. } => {
                let u = app.user(id).unwrap();
                assert_eq!(
                    u["threepids"],
                    json!([{"medium": "email", "address": "new@testuser.com"},
                           {"medium": "msisdn", "address": "+4915112345"}])
                );
                assert_eq!(u["external_ids"], json!([]));
                assert!(user.get("externalId").is_none());
            }
            Step::Activated { id, active, .. } => {
                assert_eq!(app.user(id).unwrap()["deactivated"], !active);
            }
            Step::Own { id } if idp == Idp::Okta => own_steps(app, sc, id).await,
            Step::Deleted { id } => assert_eq!(app.user(id).unwrap()["deactivated"], true),
            _ => {}
        }
    }
}

/// A Matrix id never changes: a rename is refused. An import lists every
/// account but the protected one, which cannot be read, changed or taken
/// over.
async fn own_steps(app: &MatrixApp, sc: &Sidecar, id: &str) {
    let rename = patch(json!([{"op": "replace", "path": "userName", "value": "other@okta.local"}]));
    let (status, err) = call(sc, "PATCH", &user_path(id), Some(rename)).await;
    scim_error(status, &err, 400, Some("mutability"));

    let (_, all) = call(sc, "GET", "/scim/v2/Users?startIndex=1&count=100", None).await;
    assert_eq!(all["totalResults"], 2);
    let names: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"scim-bot"), "{names:?}");

    let bot = "/scim/v2/Users/%40scim-bot%3Aexample.org";
    let (status, _) = call(sc, "GET", bot, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
    let (status, _) = call(sc, "PATCH", bot, Some(off)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, err) = call(
        sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_lowercase("scim-bot")),
    )
    .await;
    scim_error(status, &err, 409, Some("uniqueness"));
    let bot_user = app.user("@scim-bot:example.org").unwrap();
    assert_eq!(bot_user["password"], "bot-secret");
    assert_eq!(bot_user["deactivated"], false);
}

/// A deactivated account is left out of the homeserver's default list:
/// the upsert create must not overwrite it (and its password) because the
/// uniqueness check asks for the id itself.
#[tokio::test]
async fn an_upsert_create_cannot_take_over_a_hidden_account() {
    let app = MatrixApp::new();
    matrix_seed(&app);
    app.insert(
        "@eve=40example.com:example.org",
        json!({"displayname": "Eve (left)", "deactivated": true, "password": "old-secret",
               "external_ids": [{"auth_provider": "scim", "external_id": "00uOLD"}]}),
    );
    let sc = start_matrix(&app, Idp::Okta).await;
    let mut body = okta_create_lowercase("Eve@example.com");
    body["password"] = json!("attacker-chosen");
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(body)).await;
    scim_error(status, &err, 409, Some("uniqueness"));
    let eve = app.user("@eve=40example.com:example.org").unwrap();
    assert_eq!(eve["password"], "old-secret");
    assert_eq!(eve["deactivated"], true);
    assert_eq!(eve["displayname"], "Eve (left)");
    assert!(
        !app.rec.calls().iter().any(|c| c.starts_with("PUT ")),
        "{:?}",
        app.rec.calls()
    );
}

#[tokio::test]
async fn a_login_outside_the_matrix_alphabet_is_refused_naming_the_rule() {
    let app = MatrixApp::new();
    let sc = start_matrix(&app, Idp::Okta).await;
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_lowercase("Ada Lovelace")),
    )
    .await;
    scim_error(status, &err, 400, Some("invalidValue"));
    let detail = err["detail"].as_str().unwrap();
    assert!(
        detail.contains("localpart") && detail.contains("a-z0-9._=/-"),
        "{detail}"
    );
    assert!(
        !detail.contains("Lovelace"),
        "no values in errors: {detail}"
    );
    assert_eq!(app.len(), 0);
}

#[tokio::test]
async fn readyz_reads_the_app_with_the_sidecars_credentials() {
    let app = MatrixApp::new();
    let sc = start_matrix(&app, Idp::Okta).await;
    let readyz = || async {
        let req = http::Request::get(format!("http://{}/readyz", sc.admin))
            .body(support::body(""))
            .unwrap();
        support::send(&support::client(), req).await.0.status
    };
    assert_eq!(readyz().await, StatusCode::OK);
    app.revoke_token();
    assert_eq!(readyz().await, StatusCode::SERVICE_UNAVAILABLE);
}
