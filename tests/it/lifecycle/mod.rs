//! Okta's and Entra's user lifecycles as one table of (app, IdP) cases.
//! Each IdP's sequence is written once ([`okta::users`], [`entra::users`]:
//! what the IdP sends, in its order and encodings, and what any SCIM
//! server must answer); each app, started behind its shipped config with a
//! connection in that IdP's dialect, checks its own store after every step
//! ([`Lifecycle::check`]) and adds the steps only it has (a locked state,
//! renames, a protected service account). Every call the app receives
//! must carry the app's own credentials and never the IdP's token.
//!
//! | app | config | Okta | Entra |
//! |---|---|---|---|
//! | the bundled example app | `config/example.toml` | ✓ | ✓ |
//! | the bundled example app | its draft from `/openapi.json`, unedited | ✓ | ✓ |
//! | Rails-style API | `config/rails.toml` | ✓ | |
//! | Django REST Framework | `config/django.toml` | ✓ | |
//! | Matrix homeserver | `config/matrix.toml` | ✓ | ✓ |
//! | Flask-AppBuilder | `config/fab.toml` | ✓ | ✓ |
//! | CRM with state actions | `config/crm.toml` | ✓ | ✓ |
//! | the seven API shapes of `apps::shapes` (`Link` cursor, list-only, header total, RPC, JSON Patch, invite, JSON query) | in the test | ✓ | ✓ |

pub mod entra;
pub mod okta;

use crate::apps::example::{DraftedExample, Example};
use crate::apps::rails::Rails;
use crate::apps::shapes::{HeaderTotal, Invite, JsonPatch, Link, ListOnly, Mongo, Rpc, Shaped};
use crate::apps::{crm::Crm, django::Django, fab::Fab, matrix::Matrix};
use crate::support::record::Recorder;
use crate::support::{Sidecar, call};
use http::StatusCode;
use serde_json::{Value, json};

pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The identity provider whose sequence a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idp {
    Okta,
    Entra,
}

impl Idp {
    /// The connection's `idp` setting.
    pub fn dialect(self) -> &'static str {
        match self {
            Idp::Okta => "okta",
            Idp::Entra => "entra",
        }
    }
}

/// How an IdP changes `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A PUT of the whole user as read, with `active` changed.
    Put,
    /// A PATCH of `active` only.
    Patch,
}

/// The logins a case uses: each with the same login in another case.
pub struct Logins {
    /// A seeded user, as the app stores its login.
    pub seeded: (&'static str, &'static str),
    /// The user the sequence creates.
    pub created: (&'static str, &'static str),
}

/// A step of a sequence, after which the app checks its store.
pub enum Step<'a> {
    /// The test connection's list (`startIndex=1&count=2`).
    Listed(&'a Value),
    /// One lookup of the seeded user, by `value` in one encoding.
    Found { value: &'a str, found: &'a Value },
    /// The lookup of the login to create found nothing.
    NotFound,
    /// The create answered `user`.
    Created { id: &'a str, user: &'a Value },
    /// A create of `login`, which is taken, was refused with `err`.
    Duplicate { login: &'a str, err: &'a Value },
    /// Okta's PUT of the profile as [`Lifecycle::edit_profile`] changed it.
    Replaced { id: &'a str, user: &'a Value },
    /// A PUT without [`Lifecycle::cleared_by_put`] answered `user`.
    Cleared { id: &'a str },
    /// Entra's `n`th attribute PATCH ([`Lifecycle::entra_patches`]).
    Patched {
        id: &'a str,
        n: usize,
        user: &'a Value,
    },
    /// The `n`th change of `active` in the sequence.
    Activated {
        id: &'a str,
        n: usize,
        via: Via,
        active: bool,
    },
    /// Before the delete: the steps only this app has, on the account.
    Own { id: &'a str },
    /// The DELETE answered 204.
    Deleted { id: &'a str },
}

/// An app of the table.
pub trait Lifecycle: Sized {
    /// Starts the app (seeded) and a sidecar in front of it through the
    /// app's config, with a connection speaking `idp`.
    async fn start(idp: Idp) -> (Self, Sidecar);

    /// The logins the sequence of `idp` uses.
    fn logins(&self, idp: Idp) -> Logins;

    /// How many users the test connection lists (the seeded ones an IdP
    /// may see).
    fn listed(&self) -> u64;

    /// Every request the app received.
    fn rec(&self) -> &Recorder;

    /// The header carrying the app's own credentials, and its value.
    fn credentials(&self) -> (&'static str, String);

    /// Okta's create body for `login`.
    fn okta_create(&self, login: &str) -> Value {
        okta::create_body(login)
    }

    /// The `userName` the app answers for a created `login`.
    fn user_name(&self, login: &str) -> String {
        login.to_owned()
    }

    /// Okta's profile change: the user as read, edited before the PUT.
    fn edit_profile(&self, user: &mut Value);

    /// An attribute a PUT leaves out to clear it, if the app stores one.
    fn cleared_by_put(&self) -> Option<&'static str> {
        None
    }

    /// Whether a DELETE deactivates the account rather than removing it.
    fn delete_keeps_account(&self) -> bool {
        false
    }

    /// Whether the app keeps Entra's `externalId` (so Entra finds users by
    /// it).
    fn keeps_external_id(&self) -> bool {
        false
    }

    /// Entra's attribute PATCHes after the create: the operations of each.
    fn entra_patches(&self) -> Vec<Value> {
        Vec::new()
    }

    /// Checks the app's store after `step` of `idp`'s sequence (and runs
    /// the app's own steps at [`Step::Own`]).
    async fn check(&self, sc: &Sidecar, idp: Idp, step: Step<'_>);

    /// Checks the credentials of every call the app received so far, then
    /// forgets them, so that a step's check sees only its own calls.
    fn fresh(&self, sc: &Sidecar) {
        assert_credentials(self, sc);
        self.rec().clear();
    }
}

/// Every call the app received carried its own credentials; the IdP's
/// token reached it nowhere, and when the credentials travel in another
/// header, no `Authorization` reached it at all.
pub fn assert_credentials<A: Lifecycle>(app: &A, sc: &Sidecar) {
    let (header, value) = app.credentials();
    for s in app.rec().seen() {
        let what = format!("{} {}", s.method, s.path);
        let sent = s.headers.get(header).and_then(|v| v.to_str().ok());
        assert_eq!(sent, Some(value.as_str()), "{what}: {header}");
        if header != "authorization" {
            assert!(s.authorization.is_none(), "{what}: the IdP's Authorization");
        }
        for (name, v) in &s.headers {
            let v = String::from_utf8_lossy(v.as_bytes());
            assert!(!v.contains(&sc.token), "{what}: the IdP's token in {name}");
        }
    }
}

/// A SCIM error with its status as a string, `scimType` and a detail.
pub fn assert_scim_error(
    status: StatusCode,
    body: &Value,
    want: StatusCode,
    scim_type: Option<&str>,
) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["schemas"], json!([ERROR_URN]));
    assert_eq!(body["status"], want.as_u16().to_string());
    assert_eq!(body["scimType"].as_str(), scim_type, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

/// A PatchOp body.
pub fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

/// A user's path (an `@` in the id encoded, as the IdPs do).
pub fn user_path(id: &str) -> String {
    format!("/scim/v2/Users/{}", id.replace('@', "%40"))
}

/// The lookup Okta sends: `attr eq "value"` with `%20` and its paging.
pub fn filter_path(attr: &str, value: &str) -> String {
    let v = value.replace('@', "%40");
    format!("/scim/v2/Users?filter={attr}%20eq%20%22{v}%22&startIndex=1&count=100")
}

/// Looks `login` up by `userName`; the answer's resources.
pub async fn lookup(sc: &Sidecar, login: &str) -> Vec<Value> {
    let path = filter_path("userName", login);
    let (status, found) = call(sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {found}");
    assert_eq!(
        found["totalResults"].as_u64(),
        found["Resources"].as_array().map(|r| r.len() as u64),
        "{found}"
    );
    found["Resources"].as_array().cloned().unwrap_or_default()
}

/// Runs `idp`'s sequence against `A`, then checks the app's credentials.
async fn run<A: Lifecycle>(idp: Idp) {
    let (app, sc) = A::start(idp).await;
    match idp {
        Idp::Okta => okta::users(&app, &sc).await,
        Idp::Entra => entra::users(&app, &sc).await,
    }
    assert!(!app.rec().seen().is_empty(), "the app received no calls");
    assert_credentials(&app, &sc);
}

/// The table: one test per (app, IdP) case.
macro_rules! cases {
    ($($name:ident: $app:ty, $idp:ident;)*) => {$(
        #[tokio::test]
        async fn $name() {
            run::<$app>(Idp::$idp).await;
        }
    )*};
}

cases! {
    example_okta: Example, Okta;
    example_entra: Example, Entra;
    drafted_example_okta: DraftedExample, Okta;
    drafted_example_entra: DraftedExample, Entra;
    rails_okta: Rails, Okta;
    django_okta: Django, Okta;
    matrix_okta: Matrix, Okta;
    matrix_entra: Matrix, Entra;
    fab_okta: Fab, Okta;
    fab_entra: Fab, Entra;
    crm_okta: Crm, Okta;
    crm_entra: Crm, Entra;
    link_header_okta: Shaped<Link>, Okta;
    link_header_entra: Shaped<Link>, Entra;
    list_only_okta: Shaped<ListOnly>, Okta;
    list_only_entra: Shaped<ListOnly>, Entra;
    header_total_okta: Shaped<HeaderTotal>, Okta;
    header_total_entra: Shaped<HeaderTotal>, Entra;
    rpc_okta: Shaped<Rpc>, Okta;
    rpc_entra: Shaped<Rpc>, Entra;
    json_patch_okta: Shaped<JsonPatch>, Okta;
    json_patch_entra: Shaped<JsonPatch>, Entra;
    invite_okta: Shaped<Invite>, Okta;
    invite_entra: Shaped<Invite>, Entra;
    mongo_query_okta: Shaped<Mongo>, Okta;
    mongo_query_entra: Shaped<Mongo>, Entra;
}
