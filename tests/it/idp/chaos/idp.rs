//! An IdP as the chaos tests drive it: Okta's and Entra's user sequences
//! and Okta's group push, each written as the IdP's tasks. A task that
//! fails (429, 5xx) is replayed, as Okta and Entra replay failed
//! provisioning tasks: a push starts again with its lookup, an update
//! with its GET, so a create whose answer was lost is found and linked
//! rather than made twice.

use http::StatusCode;
use serde_json::{Value, json};

use super::support::*;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Replays of one task before the test gives up on it.
const MAX_REPLAYS: usize = 12;

/// The replaying client.
pub struct Idp<'s> {
    pub sc: &'s Sidecar,
    /// Requests answered with a failure the IdP retried.
    pub failures: usize,
    /// Requests sent.
    pub requests: usize,
}

fn retried(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

impl<'s> Idp<'s> {
    pub fn new(sc: &'s Sidecar) -> Self {
        Self {
            sc,
            failures: 0,
            requests: 0,
        }
    }

    /// One request, once.
    async fn once(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.requests += 1;
        let r = call_with(self.sc, method, path, body, &[]).await;
        if retried(r.status) {
            self.failures += 1;
        }
        r
    }

    /// A request sent again until it is not a failure the IdP retries; a
    /// DELETE whose first answer was lost may find the resource gone.
    pub async fn send(&mut self, method: &str, path: &str, body: Option<Value>) -> Reply {
        for attempt in 0..MAX_REPLAYS {
            let r = self.once(method, path, body.clone()).await;
            let gone = method == "DELETE" && attempt > 0 && r.status == StatusCode::NOT_FOUND;
            if gone {
                return Reply {
                    status: StatusCode::NO_CONTENT,
                    ..r
                };
            }
            if !retried(r.status) {
                return r;
            }
        }
        panic!("{method} {path} never got through");
    }

    /// A read that must succeed.
    pub async fn get(&mut self, path: &str) -> Value {
        let r = self.send("GET", path, None).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
        r.body
    }

    /// The id of the resource of `endpoint` whose `attr` equals `value`.
    async fn lookup(&mut self, endpoint: &str, attr: &str, value: &str) -> Option<String> {
        let filter = format!("{attr} eq \"{value}\"");
        let q: String = form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        let list = self.get(&format!("/scim/v2/{endpoint}?filter={q}")).await;
        let found = list["Resources"].as_array().expect("Resources");
        assert!(found.len() <= 1, "{attr} {value} is held twice: {list}");
        found.first().map(|r| r["id"].as_str().unwrap().to_owned())
    }

    /// Okta's and Entra's push: look the resource up by `attr`; when it is
    /// there, link and bring it to `body` (GET, then PUT with the changes
    /// laid over what the GET returned), else create it. Replayed whole.
    pub async fn push(&mut self, endpoint: &str, attr: &str, body: &Value) -> String {
        let value = body[attr].as_str().unwrap();
        for _ in 0..MAX_REPLAYS {
            if let Some(id) = self.lookup(endpoint, attr, value).await {
                self.put(endpoint, &id, body).await;
                return id;
            }
            let r = self
                .once("POST", &format!("/scim/v2/{endpoint}"), Some(body.clone()))
                .await;
            match r.status {
                StatusCode::CREATED => return r.body["id"].as_str().unwrap().to_owned(),
                s if retried(s) => continue,
                s => panic!("POST /{endpoint} answered {s}: {}", r.body),
            }
        }
        panic!("pushing {value} never got through");
    }

    /// Okta AIW's update: GET, lay `changes` over it, PUT; replayed whole.
    pub async fn put(&mut self, endpoint: &str, id: &str, changes: &Value) {
        let path = format!("/scim/v2/{endpoint}/{id}");
        for _ in 0..MAX_REPLAYS {
            let mut current = self.get(&path).await;
            for (k, v) in changes.as_object().unwrap() {
                current[k] = v.clone();
            }
            let r = self.once("PUT", &path, Some(current)).await;
            match r.status {
                StatusCode::OK => return,
                s if retried(s) => continue,
                s => panic!("PUT {path} answered {s}: {}", r.body),
            }
        }
        panic!("PUT {path} never got through");
    }

    /// A PATCH with these operations, replayed until it gets through.
    pub async fn patch(&mut self, endpoint: &str, id: &str, ops: Value) {
        let path = format!("/scim/v2/{endpoint}/{id}");
        let body = json!({"schemas": [PATCH], "Operations": ops});
        let r = self.send("PATCH", &path, Some(body)).await;
        assert!(
            r.status.is_success(),
            "PATCH {path}: {} {}",
            r.status,
            r.body
        );
    }
}

fn okta_user(login: &str, title: &str, active: bool) -> Value {
    json!({
        "schemas": [USER],
        "userName": login,
        "name": {"givenName": "Chaos", "familyName": title},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "displayName": format!("Chaos {title}"),
        "locale": "en-US",
        "externalId": format!("00u-{login}"),
        "title": title,
        "groups": [],
        "password": "Pa55-chaos!",
        "active": active
    })
}

/// Okta (App Integration Wizard: PUT for every update) provisioning three
/// users — one created inactive and kept so, one deactivated by the same
/// PUT that changes its title — with profile updates, deactivation and
/// reactivation by PUT, an OIN path-less PATCH deactivation, and an import.
pub async fn okta_users(idp: &mut Idp<'_>) {
    idp.get("/scim/v2/Users?startIndex=1&count=2").await;
    let u1 = idp
        .push(
            "Users",
            "userName",
            &okta_user("chaos.one@example.com", "Engineer", true),
        )
        .await;
    let u2 = idp
        .push(
            "Users",
            "userName",
            &okta_user("chaos.two@example.com", "Intern", false),
        )
        .await;
    let u3 = idp
        .push(
            "Users",
            "userName",
            &okta_user("chaos.three@example.com", "Clerk", true),
        )
        .await;
    idp.put("Users", &u1, &json!({"title": "Staff Engineer"}))
        .await;
    idp.put("Users", &u1, &json!({"active": false})).await;
    idp.put("Users", &u1, &json!({"active": true})).await;
    idp.put("Users", &u2, &json!({"title": "Analyst"})).await;
    idp.put(
        "Users",
        &u3,
        &json!({"title": "Former Clerk", "active": false}),
    )
    .await;
    idp.patch(
        "Users",
        &u1,
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await;
    let all = idp.get("/scim/v2/Users?startIndex=1&count=100").await;
    for id in [&u1, &u2, &u3] {
        let n = all["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["id"] == id.as_str())
            .count();
        assert_eq!(n, 1, "user {id} in the import: {all}");
    }
}

fn entra_user(login: &str) -> Value {
    json!({
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": format!("aad-{login}"),
        "userName": login,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": login}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "Chaos Entra", "familyName": "Entra", "givenName": "Chaos"},
        "title": null,
        "roles": []
    })
}

/// Entra: test connection, two users provisioned (lookup, create), an
/// attribute update, disable and enable with string booleans, and a
/// disable followed by the hard delete.
pub async fn entra_users(idp: &mut Idp<'_>) {
    idp.get("/scim/v2/Users?filter=userName+eq+%22f3a9c2e0-7d41-4b6e-9d0c-7f1e2a3b4c5d%22")
        .await;
    let e1 = idp
        .push("Users", "userName", &entra_user("entra.one@example.com"))
        .await;
    let e2 = idp
        .push("Users", "userName", &entra_user("entra.two@example.com"))
        .await;
    idp.patch(
        "Users",
        &e1,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "entra.one@corp.example.com"},
            {"op": "Replace", "path": "name.familyName", "value": "Updated"},
            {"op": "Add", "path": "title", "value": "Director"}
        ]),
    )
    .await;
    for v in ["False", "True"] {
        idp.patch(
            "Users",
            &e1,
            json!([{"op": "Replace", "path": "active", "value": v}]),
        )
        .await;
    }
    idp.patch(
        "Users",
        &e2,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    let r = idp
        .send("DELETE", &format!("/scim/v2/Users/{e2}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = idp.once("GET", &format!("/scim/v2/Users/{e2}"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

fn group(name: &str, members: &[&str]) -> Value {
    let m: Vec<Value> = members
        .iter()
        .map(|u| json!({"value": u, "display": format!("user {u}")}))
        .collect();
    json!({"schemas": [GROUP], "displayName": name, "members": m})
}

/// Okta's group push: a group pushed empty and then with whole member
/// lists (AIW PUTs, a rename among them), OIN PATCHes adding and removing
/// in one request, and a group pushed with a member and then deleted.
pub async fn group_push(idp: &mut Idp<'_>) {
    let (ada, alan, grace) = ("1001", "1002", "1003");
    let g = idp
        .push("Groups", "displayName", &group("Sales", &[]))
        .await;
    idp.get(&format!("/scim/v2/Groups/{g}")).await;
    idp.put("Groups", &g, &group("Sales", &[ada, grace])).await;
    idp.put("Groups", &g, &group("Sales EMEA", &[grace, alan]))
        .await;
    idp.patch(
        "Groups",
        &g,
        json!([
            {"op": "add", "path": "members", "value": [{"value": ada, "display": "ada"}]},
            {"op": "remove", "path": format!("members[value eq \"{grace}\"]")}
        ]),
    )
    .await;
    let t = idp
        .push("Groups", "displayName", &group("Temp", &[alan]))
        .await;
    let r = idp
        .send("DELETE", &format!("/scim/v2/Groups/{t}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
}
