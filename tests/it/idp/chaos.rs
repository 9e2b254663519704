//! Chaos sequences: Okta's and Entra's full user sequences and Okta's
//! group push, run by an IdP that replays failed tasks (as Okta and Entra
//! do), against the bundled example app behind a fault proxy that
//! answers every Nth call with 429 or 503 and `Retry-After`, or fails
//! each write call of the sequence once — before the app does it (500)
//! or after (the connection breaks mid-answer). Every run must complete
//! and leave the app exactly as the same sequence leaves it without
//! faults: no duplicate, no half-made account, no account active that the
//! IdP asked to be inactive.

use crate::support;

mod idp;

use futures_util::future::join_all;
use idp::Idp;
use serde_json::{Value, json};
use support::faults::{Fault, FaultProxy};
use support::*;

/// The sequences, by name.
#[derive(Debug, Clone, Copy)]
enum Sequence {
    Okta,
    Entra,
    Groups,
}

impl Sequence {
    const ALL: [Sequence; 3] = [Sequence::Okta, Sequence::Entra, Sequence::Groups];

    async fn start(self) -> (Sidecar, demo_app::DemoApp, FaultProxy) {
        start_example_faulty(|t| match self {
            Sequence::Entra => t.replace("idp = \"okta\"", "idp = \"entra\""),
            _ => t,
        })
        .await
    }

    async fn run(self, idp: &mut Idp<'_>) {
        match self {
            Sequence::Okta => idp::okta_users(idp).await,
            Sequence::Entra => idp::entra_users(idp).await,
            Sequence::Groups => idp::group_push(idp).await,
        }
    }
}

/// The app's users and teams, without what differs from run to run
/// (timestamps, versions).
fn state(app: &demo_app::DemoApp) -> Value {
    let strip = |mut v: Value| {
        if let Value::Object(o) = &mut v {
            for k in ["created_at", "updated_at", "version", "member_count"] {
                o.remove(k);
            }
        }
        v
    };
    let users: Vec<Value> = app.users().into_iter().map(strip).collect();
    let teams: Vec<Value> = (1..20)
        .filter_map(|i| {
            let id = format!("t{i}");
            let team = strip(app.team(&id)?);
            Some(json!({"team": team, "members": app.team_members(&id)}))
        })
        .collect();
    json!({"users": users, "teams": teams})
}

/// The final state of a fault-free run, and how many write calls it made.
async fn reference(seq: Sequence) -> (Value, usize) {
    let (sc, app, proxy) = seq.start().await;
    let mut idp = Idp::new(&sc);
    seq.run(&mut idp).await;
    assert_eq!(idp.failures, 0, "{seq:?} fails without faults");
    let writes = proxy.seen().iter().filter(|s| s.method != "GET").count();
    (state(&app), writes)
}

/// The facts the sequences exist for, on a final state.
fn check_facts(seq: Sequence, state: &Value) {
    let users = state["users"].as_array().unwrap();
    let user =
        |login: &str| -> Vec<&Value> { users.iter().filter(|u| u["login"] == login).collect() };
    match seq {
        Sequence::Okta => {
            let one = user("chaos.one@example.com");
            let two = user("chaos.two@example.com");
            let three = user("chaos.three@example.com");
            assert_eq!((one.len(), two.len(), three.len()), (1, 1, 1), "{state}");
            assert_eq!(one[0]["state"], "SUSPENDED", "deactivated last");
            assert_eq!(one[0]["profile"]["title"], "Staff Engineer");
            assert_eq!(two[0]["state"], "SUSPENDED", "created inactive");
            assert_eq!(two[0]["profile"]["title"], "Analyst");
            assert_eq!(three[0]["state"], "SUSPENDED", "deactivated by a PUT");
            assert_eq!(three[0]["profile"]["title"], "Former Clerk");
        }
        Sequence::Entra => {
            let one = user("entra.one@example.com");
            assert_eq!(one.len(), 1, "{state}");
            assert_eq!(one[0]["state"], "ACTIVE");
            assert_eq!(one[0]["profile"]["title"], "Director");
            assert_eq!(one[0]["contact"]["email"], "entra.one@corp.example.com");
            assert!(user("entra.two@example.com").is_empty(), "deleted");
        }
        Sequence::Groups => {
            let teams = state["teams"].as_array().unwrap();
            let named = |n: &str| -> Vec<&Value> {
                teams.iter().filter(|t| t["team"]["name"] == n).collect()
            };
            let sales = named("Sales EMEA");
            assert_eq!(sales.len(), 1, "{state}");
            assert_eq!(sales[0]["members"], json!(["1001", "1002"]));
            assert!(
                named("Sales").is_empty() && named("Temp").is_empty(),
                "{state}"
            );
        }
    }
}

/// Runs `seq` with the proxy scripted by `arm`; returns the IdP's counts.
async fn chaotic(seq: Sequence, arm: impl FnOnce(&FaultProxy), want: &Value) -> (usize, usize) {
    let (sc, app, proxy) = seq.start().await;
    arm(&proxy);
    let mut idp = Idp::new(&sc);
    seq.run(&mut idp).await;
    let got = state(&app);
    check_facts(seq, &got);
    assert_eq!(&got, want, "{seq:?} left another state than without faults");
    (idp.requests, idp.failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequences_complete_against_an_app_that_pushes_back_every_nth_call() {
    // Every phase of the rhythm, so that each call of a sequence is the
    // one pushed back in some run.
    let modes = [(5, Fault::busy(1)), (7, Fault::unavailable(1))];
    let runs = Sequence::ALL.into_iter().flat_map(|seq| {
        modes.clone().into_iter().flat_map(move |(n, fault)| {
            (0..n).map(move |skip| {
                let fault = fault.clone();
                async move {
                    let (want, _) = reference(seq).await;
                    check_facts(seq, &want);
                    let arm = |p: &FaultProxy| p.every_from(n, skip, None, fault);
                    let (requests, failures) = chaotic(seq, arm, &want).await;
                    (seq, n, requests, failures)
                }
            })
        })
    });
    let mut handed_on = std::collections::BTreeMap::new();
    for (seq, n, requests, failures) in join_all(runs).await {
        let e = handed_on
            .entry((format!("{seq:?}"), n))
            .or_insert((0, 0, 0));
        *e = (e.0 + 1, e.1 + requests, e.2 + failures);
    }
    for ((seq, n), (runs, requests, failures)) in &handed_on {
        // The sidecar absorbs push-back on calls safe to repeat, and a
        // create's 429 (the app did not process it) by looking up and
        // sending it again; what it hands on (a create refused with 503,
        // which may have been processed) the IdP replays.
        println!("{seq} every {n}th call, {runs} phases: {requests} requests, {failures} replayed");
        match n {
            5 => assert_eq!(*failures, 0, "{seq}: a 429 reached the IdP"),
            _ => assert!(*failures > 0, "{seq}: no run made the IdP replay"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_call_failing_once_converges_on_the_idps_replay() {
    for seq in Sequence::ALL {
        let (want, writes) = reference(seq).await;
        assert!(writes > 5, "{seq:?} makes {writes} write calls");
        let runs = (1..=writes).flat_map(|k| {
            let want = &want;
            [Fault::status(500), Fault::reset()]
                .into_iter()
                .map(move |fault| async move {
                    let armed = fault.clone();
                    let (_, failures) = chaotic(seq, |p| p.fail_nth_write(k, armed), want).await;
                    assert!(failures > 0, "{seq:?} write {k}: the fault never showed");
                })
        });
        join_all(runs).await;
        println!("{seq:?}: each of {writes} write calls failed once, before and after the app");
    }
}
