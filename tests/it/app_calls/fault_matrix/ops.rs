//! The SCIM operations of the fault matrix, each against the bundled
//! example app through `config/example.toml`: how it is prepared, the
//! request the IdP sends, the app call a fault is aimed at, and how its
//! effect shows in the app's own store.

use serde_json::{Value, json};

use super::support::*;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Grace Hopper, a seeded user no other seeded record depends on.
const GRACE: &str = "1003";
const NEW_LOGIN: &str = "new.hire@example.com";
const NEW_TEAM: &str = "Sales";

/// One SCIM operation an IdP sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    List,
    Lookup,
    Get,
    Create,
    Replace,
    Patch,
    Deactivate,
    Activate,
    Delete,
    GroupCreate,
    MemberPatch,
    GroupGet,
}

/// What a write left in the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// A read: nothing to look at.
    Read,
    /// Nothing changed.
    Unchanged,
    /// Done, exactly once.
    Applied,
    /// Started but not finished (a half-made resource).
    Partial,
    /// Done twice (a duplicate record).
    Duplicated,
}

impl Effect {
    /// The mark in a matrix cell.
    pub fn mark(self) -> &'static str {
        match self {
            Self::Read => "",
            Self::Unchanged => " ·",
            Self::Applied => " +",
            Self::Partial => " ½",
            Self::Duplicated => " 2×",
        }
    }
}

/// A request an IdP sends.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    pub body: Option<Value>,
}

impl Op {
    pub const ALL: [Op; 12] = [
        Op::List,
        Op::Lookup,
        Op::Get,
        Op::Create,
        Op::Replace,
        Op::Patch,
        Op::Deactivate,
        Op::Activate,
        Op::Delete,
        Op::GroupCreate,
        Op::MemberPatch,
        Op::GroupGet,
    ];

    /// The column name.
    pub fn name(self) -> &'static str {
        match self {
            Op::List => "list",
            Op::Lookup => "lookup",
            Op::Get => "get",
            Op::Create => "create",
            Op::Replace => "replace",
            Op::Patch => "PATCH",
            Op::Deactivate => "deactivate",
            Op::Activate => "activate",
            Op::Delete => "delete",
            Op::GroupCreate => "group create",
            Op::MemberPatch => "member PATCH",
            Op::GroupGet => "group GET",
        }
    }

    /// Whether the operation writes.
    pub fn writes(self) -> bool {
        !matches!(self, Op::List | Op::Lookup | Op::Get | Op::GroupGet)
    }

    /// The app call a fault is aimed at: the operation's main call.
    pub fn target(self) -> (&'static str, &'static str) {
        match self {
            Op::List => ("GET", "/api/users$?limit=2"),
            Op::Lookup => ("GET", "/api/users$?login="),
            Op::Get => ("GET", "/api/users/1003$"),
            Op::Create => ("POST", "/api/users$"),
            Op::Replace | Op::Patch => ("PATCH", "/api/users/1003$"),
            Op::Deactivate => ("POST", "/api/users/1003/suspend$"),
            Op::Activate => ("POST", "/api/users/1003/unsuspend$"),
            Op::Delete => ("DELETE", "/api/users/1003$"),
            Op::GroupCreate => ("POST", "/api/teams$"),
            Op::MemberPatch => ("PUT", "/api/teams/t1/members/1003$"),
            Op::GroupGet => ("GET", "/api/teams/t1$"),
        }
    }

    /// Brings the app into the state the operation starts from and builds
    /// the request (a PUT carries what a GET just returned, as Okta does).
    pub async fn prepare(self, sc: &Sidecar) -> Request {
        let user = format!("/scim/v2/Users/{GRACE}");
        let (method, path, body) = match self {
            Op::List => ("GET", "/scim/v2/Users?startIndex=1&count=2".into(), None),
            Op::Lookup => (
                "GET",
                "/scim/v2/Users?filter=userName%20eq%20%22grace.hopper%40example.com%22".into(),
                None,
            ),
            Op::Get => ("GET", user, None),
            Op::Create => ("POST", "/scim/v2/Users".into(), Some(new_user())),
            Op::Replace => {
                let (status, mut got) = setup(sc, "GET", &user, None).await;
                assert_eq!(status, 200, "{got}");
                got["title"] = json!("Programmer");
                ("PUT", user, Some(got))
            }
            Op::Patch => ("PATCH", user, Some(patch(json!({"title": "Commodore"})))),
            Op::Deactivate => ("PATCH", user, Some(patch(json!({"active": false})))),
            Op::Activate => {
                let (status, body) =
                    setup(sc, "PATCH", &user, Some(patch(json!({"active": false})))).await;
                assert_eq!(status, 200, "{body}");
                ("PATCH", user, Some(patch(json!({"active": true}))))
            }
            Op::Delete => ("DELETE", user, None),
            Op::GroupCreate => ("POST", "/scim/v2/Groups".into(), Some(new_group())),
            Op::MemberPatch => (
                "PATCH",
                "/scim/v2/Groups/t1".into(),
                Some(json!({"schemas": [PATCH], "Operations": [
                    {"op": "add", "path": "members", "value": [{"value": GRACE}]}
                ]})),
            ),
            Op::GroupGet => ("GET", "/scim/v2/Groups/t1".into(), None),
        };
        Request { method, path, body }
    }

    /// What the operation has done in the app so far.
    pub fn effect(self, app: &demo_app::DemoApp) -> Effect {
        let grace = || app.user(GRACE);
        let done = |yes: bool| {
            if yes {
                Effect::Applied
            } else {
                Effect::Unchanged
            }
        };
        match self {
            Op::List | Op::Lookup | Op::Get | Op::GroupGet => Effect::Read,
            Op::Create => {
                let made: Vec<Value> = app
                    .users()
                    .into_iter()
                    .filter(|u| u["login"] == NEW_LOGIN)
                    .collect();
                match made.as_slice() {
                    [] => Effect::Unchanged,
                    [u] if u["state"] == "SUSPENDED" && u["profile"]["title"] == "Intern" => {
                        Effect::Applied
                    }
                    [_] => Effect::Partial,
                    _ => Effect::Duplicated,
                }
            }
            Op::Replace => done(grace().unwrap()["profile"]["title"] == "Programmer"),
            Op::Patch => done(grace().unwrap()["profile"]["title"] == "Commodore"),
            Op::Deactivate => done(grace().unwrap()["state"] == "SUSPENDED"),
            Op::Activate => done(grace().unwrap()["state"] == "ACTIVE"),
            Op::Delete => done(grace().is_none()),
            Op::GroupCreate => {
                let teams: Vec<String> = (1..10)
                    .map(|i| format!("t{i}"))
                    .filter(|t| app.team(t).is_some_and(|t| t["name"] == NEW_TEAM))
                    .collect();
                match teams.as_slice() {
                    [] => Effect::Unchanged,
                    [t] if app.team_members(t).unwrap() == [GRACE] => Effect::Applied,
                    [_] => Effect::Partial,
                    _ => Effect::Duplicated,
                }
            }
            Op::MemberPatch => done(app.team_members("t1").unwrap().contains(&GRACE.into())),
        }
    }
}

/// A new hire, created inactive (Okta's create when the assignment is not
/// active yet): two app calls, the create and the suspension.
fn new_user() -> Value {
    json!({
        "schemas": [USER],
        "userName": NEW_LOGIN,
        "externalId": "00u-new-hire",
        "name": {"givenName": "New", "familyName": "Hire"},
        "emails": [{"primary": true, "value": NEW_LOGIN, "type": "work"}],
        "title": "Intern",
        "password": "not-kept-9x!",
        "active": false
    })
}

/// A group pushed with one member: the create and one member call.
fn new_group() -> Value {
    json!({"schemas": [GROUP], "displayName": NEW_TEAM, "members": [{"value": GRACE}]})
}

fn patch(value: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": value}]})
}

/// A call that brings the app into an operation's starting state, before
/// any fault is set: not what a cell measures, so one the app answered
/// too late for the matrix's host deadline (a loaded machine) is
/// sent again, a few times at most. Each such call is safe to repeat.
async fn setup(sc: &Sidecar, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut tries = 0;
    loop {
        let (status, got) = call(sc, method, path, body.clone()).await;
        tries += 1;
        if status != 504 || tries == 5 {
            return (status.as_u16(), got);
        }
    }
}
