//! The harness's cases, each run on N replicas and returning what it
//! measured (the tests assert on the figures, with and without shared
//! coordination): concurrent PATCH adds to one user, N `If-Match`
//! writers, concurrent creates of one userName, a group membership storm,
//! a rename race, and a replica killed mid-write.

use super::harness::{Answer, Replicas};
use crate::support::faults::Fault;
use futures_util::future::join_all;
use http::StatusCode;
use serde_json::{Value, json};
use tokio::sync::watch;

const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

fn statuses(answers: &[Answer]) -> Vec<u16> {
    answers.iter().map(|a| a.status.as_u16()).collect()
}

/// What the concurrent PATCH adds left.
pub struct Adds {
    pub statuses: Vec<u16>,
    /// Phone numbers added and kept by the app.
    pub kept: usize,
    /// Writes the app refused as stale (412) and the sidecars re-applied.
    pub stale: usize,
}

/// `n` PATCH adds of distinct phone numbers to one user, all at once,
/// round-robin over the replicas.
pub async fn patch_adds(r: &Replicas, n: usize) -> Adds {
    let id = r.user_id("ada.lovelace@example.com");
    let phones = |r: &Replicas| {
        r.app.user(&id).unwrap()["contact"]["phones"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let before = phones(r);
    let path = format!("/scim/v2/Users/{id}");
    let bodies: Vec<Value> = (0..n)
        .map(|i| {
            patch(json!([{"op": "add", "path": "phoneNumbers",
                          "value": [{"value": format!("+1-555-02{i:02}"), "type": "mobile"}]}]))
        })
        .collect();
    let answers = join_all(bodies.iter().map(|b| r.idp("PATCH", &path, Some(b)))).await;
    Adds {
        statuses: statuses(&answers),
        kept: phones(r) - before,
        stale: r
            .proxy
            .seen()
            .iter()
            .filter(|s| s.method == "PATCH" && s.status == Some(412))
            .count(),
    }
}

/// `n` PATCHes of one title, each with the same `If-Match` (the version
/// all of them read), round-robin: the statuses answered and the title the
/// app holds.
pub async fn if_match_writers(r: &Replicas, n: usize) -> (Vec<u16>, Vec<Value>, Value) {
    let id = r.user_id("ada.lovelace@example.com");
    let path = format!("/scim/v2/Users/{id}");
    let got = r.idp("GET", &path, None).await;
    let etag = got.headers["etag"].to_str().unwrap().to_owned();
    let writes = join_all((0..n).map(|i| {
        let body = patch(json!([{"op": "replace", "path": "title", "value": format!("T{i}")}]));
        let (path, etag) = (path.clone(), etag.clone());
        async move {
            let k = r.next();
            r.send(k, "PATCH", &path, Some(&body), &[("if-match", &etag)])
                .await
                .unwrap()
        }
    }))
    .await;
    let titles = writes
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .map(|a| a.body["title"].clone())
        .collect();
    let held = r.app.user(&id).unwrap()["profile"]["title"].clone();
    (statuses(&writes), titles, held)
}

/// How writers that race on one unique value are let through.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Race {
    /// Nothing orders them: each replica checks the value, then all their
    /// writes reach the app together (the check passed everywhere).
    Unordered,
    /// A shared lock orders them: the first writer's write is held at the
    /// app until every replica has its request in flight (the others wait
    /// on the lock), then let through.
    Ordered,
}

/// Opens `open` (the gate the racing writes wait at in the app) on the
/// race's condition, the writers being on replicas `0..lookups`: when
/// nothing orders them, once each has checked the value (its lookup was
/// answered); when a lock orders them, once the first write waits at the
/// app while every writer's request is in flight and no second lookup
/// was made.
async fn open_when_raced(
    r: &Replicas,
    race: Race,
    lookups: usize,
    lookup_query: &str,
    open: &watch::Sender<bool>,
) {
    let looked = |r: &Replicas| {
        r.proxy
            .seen()
            .iter()
            .filter(|s| {
                s.method == "GET" && s.query.get("login").is_some_and(|l| l == lookup_query)
            })
            .count()
    };
    match race {
        Race::Unordered => {
            r.until("every replica checked the value", |r| looked(r) >= lookups)
                .await
        }
        Race::Ordered => {
            r.until("the first write waits at the app", |r| {
                looked(r) == 1 && *r.proxy.arrivals().borrow() > r.proxy.seen().len()
            })
            .await;
            let end = tokio::time::Instant::now() + super::harness::PATIENCE;
            for i in 0..lookups {
                while r.in_flight(i).await == 0 {
                    assert!(
                        tokio::time::Instant::now() < end,
                        "replica {i} never got its request"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
            assert_eq!(looked(r), 1, "the lock let a second writer check the value");
        }
    }
    open.send_replace(true);
}

/// One create of the same new userName sent to every replica at once;
/// the statuses and the accounts the app holds with that login.
pub async fn create_race(r: &Replicas, race: Race) -> (Vec<u16>, usize) {
    let login = "race.create@example.com";
    let n = r.bins.len();
    let (open, gate) = watch::channel(false);
    r.proxy.fail("POST", "/api/users$", n, Fault::gated(gate));
    let body = json!({"schemas": [USER_URN], "userName": login,
                      "name": {"givenName": "Race", "familyName": "Create"}, "active": true});
    let creates = join_all((0..n).map(|i| r.send(i, "POST", "/scim/v2/Users", Some(&body), &[])));
    let (answers, ()) = tokio::join!(creates, open_when_raced(r, race, n, login, &open));
    let answers: Vec<Answer> = answers.into_iter().map(Result::unwrap).collect();
    (statuses(&answers), r.logins(login).len())
}

/// Two users renamed to one new userName at once, on two replicas; the
/// statuses and the accounts holding the new name.
pub async fn rename_race(r: &Replicas, race: Race) -> (Vec<u16>, usize) {
    let login = "race.rename@example.com";
    let ids = [
        r.user_id("alan.turing@example.com"),
        r.user_id("grace.hopper@example.com"),
    ];
    let (open, gate) = watch::channel(false);
    for id in &ids {
        r.proxy.fail(
            "PATCH",
            &format!("/api/users/{id}$"),
            1,
            Fault::gated(gate.clone()),
        );
    }
    let body = patch(json!([{"op": "replace", "path": "userName", "value": login}]));
    let renames = join_all(ids.iter().enumerate().map(|(i, id)| {
        let path = format!("/scim/v2/Users/{id}");
        let body = body.clone();
        async move { r.send(i, "PATCH", &path, Some(&body), &[]).await }
    }));
    let (answers, ()) = tokio::join!(renames, open_when_raced(r, race, 2, login, &open));
    let answers: Vec<Answer> = answers.into_iter().map(Result::unwrap).collect();
    (statuses(&answers), r.logins(login).len())
}

/// Concurrent member PATCHes on one group from every replica: each adds
/// one of `adds` new members or removes one of the group's `removes`
/// members. Whether the group ends with exactly the added members.
pub async fn membership_storm(r: &Replicas, adds: usize, removes: usize) -> (Vec<u16>, bool) {
    let pool = r.app.seed_team("Pool", adds);
    let storm = r.app.seed_team("Storm", removes);
    let newcomers = r.app.team_members(&pool).unwrap();
    let leavers = r.app.team_members(&storm).unwrap();
    let path = format!("/scim/v2/Groups/{storm}");
    let bodies: Vec<Value> = newcomers
        .iter()
        .map(|u| patch(json!([{"op": "add", "path": "members", "value": [{"value": u}]}])))
        .chain(leavers.iter().map(|u| {
            patch(json!([{"op": "remove", "path": format!("members[value eq \"{u}\"]")}]))
        }))
        .collect();
    let answers = join_all(bodies.iter().map(|b| r.idp("PATCH", &path, Some(b)))).await;
    let mut held = r.app.team_members(&storm).unwrap();
    let mut wanted = newcomers;
    held.sort();
    wanted.sort();
    (statuses(&answers), held == wanted)
}

/// A PATCH sent to replica 0, whose app call is held until replica 0 is
/// killed (SIGKILL); the IdP's replay of the same request on replica 1.
/// The transport error the IdP saw, the replay's answer and the title the
/// app holds.
pub async fn killed_mid_write(r: &mut Replicas) -> (String, Answer, Value) {
    let id = r.user_id("ada.lovelace@example.com");
    let path = format!("/scim/v2/Users/{id}");
    let (open, gate) = watch::channel(false);
    r.proxy
        .fail("PATCH", &format!("/api/users/{id}$"), 1, Fault::gated(gate));
    let body = patch(json!([{"op": "replace", "path": "title", "value": "Survivor"}]));
    let url = r.bins[0].url(&path);
    let first = {
        let body = body.clone();
        tokio::spawn(async move {
            super::harness::send(
                &url,
                "PATCH",
                Some(&body),
                Some(crate::support::EXAMPLE_TOKEN),
                &[],
            )
            .await
        })
    };
    // Its read was answered and one more call (the write) has arrived.
    let read = format!("/api/users/{id}");
    r.until("the write waits at the app", |r| {
        let seen = r.proxy.seen();
        seen.iter().any(|s| s.method == "GET" && s.path == read)
            && *r.proxy.arrivals().borrow() > seen.len()
    })
    .await;
    r.bins[0].kill();
    let lost = match first.await.unwrap() {
        Err(e) => e,
        Ok(a) => panic!("a killed replica answered: {}", a.status),
    };
    let replay = r.send(1, "PATCH", &path, Some(&body), &[]).await.unwrap();
    open.send_replace(true);
    let title = r.app.user(&id).unwrap()["profile"]["title"].clone();
    (lost, replay, title)
}

/// `n` SCIM reads round-robin with the connection's token: the statuses.
pub async fn reads(r: &Replicas, n: usize) -> Vec<u16> {
    let mut got = Vec::new();
    for _ in 0..n {
        got.push(
            r.idp("GET", "/scim/v2/Users?count=1", None)
                .await
                .status
                .as_u16(),
        );
    }
    got
}

/// `n` SCIM requests round-robin with a wrong token: the statuses.
pub async fn bad_tokens(r: &Replicas, n: usize) -> Vec<u16> {
    let mut got = Vec::new();
    for _ in 0..n {
        let i = r.next();
        let url = r.bins[i].url("/scim/v2/Users");
        let a = super::harness::send(&url, "GET", None, Some("wrong-token-0123456789"), &[])
            .await
            .unwrap();
        got.push(a.status.as_u16());
    }
    got
}

/// A connection rate limit of `burst` with almost no refill, for counting.
pub fn with_rate_limit(burst: u32) -> impl FnOnce(String) -> String {
    move |t| {
        t.replacen(
            "idp = \"okta\"",
            &format!(
                "idp = \"okta\"\nrate_limit = {{ requests_per_second = 0.001, burst = {burst} }}"
            ),
            1,
        )
    }
}

/// A failed-authentication budget of `burst` with almost no refill.
pub fn failed_auth_budget(burst: u32) -> String {
    format!("[scim]\nfailed_auth_limit = {{ requests_per_second = 0.001, burst = {burst} }}\n")
}
