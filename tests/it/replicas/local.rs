//! Three replicas without shared coordination: what holds across them by
//! the app's own version check and uniqueness, and what does not. The
//! figures asserted here are the ones docs/reliability.md states.

use super::cases::{self, Race};
use super::harness::Replicas;
use http::StatusCode;

const REPLICAS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patch_adds_are_all_kept_through_the_apps_version() {
    let r = Replicas::start(REPLICAS, "").await;
    let adds = cases::patch_adds(&r, 18).await;
    assert!(
        adds.statuses.iter().all(|s| *s == 200),
        "{:?}",
        adds.statuses
    );
    assert_eq!(adds.kept, 18, "an add was lost");
    // Across processes only the app's version orders the writers: stale
    // writes were refused and re-applied.
    assert!(
        adds.stale > 0,
        "the replicas never raced; the test proves nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_n_if_match_writers_exactly_one_wins() {
    let r = Replicas::start(REPLICAS, "").await;
    let (statuses, won, held) = cases::if_match_writers(&r, 9).await;
    assert_eq!(won.len(), 1, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        8,
        "{statuses:?}"
    );
    assert_eq!(held, won[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_make_one_account_when_the_app_enforces_uniqueness() {
    let r = Replicas::start(REPLICAS, "").await;
    let (statuses, accounts) = cases::create_race(&r, Race::Unordered).await;
    assert_eq!(accounts, 1, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        2,
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_apps_uniqueness_each_replica_creates_its_own_account() {
    // What does not hold without shared locks: each replica's uniqueness
    // check passes before any create lands, and the app takes them all.
    let r = Replicas::start(REPLICAS, "").await;
    r.app.allow_duplicate_logins();
    let (statuses, accounts) = cases::create_race(&r, Race::Unordered).await;
    assert_eq!(statuses, [201; REPLICAS]);
    assert_eq!(accounts, REPLICAS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_race_is_decided_by_the_apps_uniqueness_or_not_at_all() {
    let r = Replicas::start(REPLICAS, "").await;
    let (statuses, holders) = cases::rename_race(&r, Race::Unordered).await;
    assert_eq!(holders, 1, "{statuses:?}");
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409]);
    drop(r);

    let r = Replicas::start(REPLICAS, "").await;
    r.app.allow_duplicate_logins();
    let (statuses, holders) = cases::rename_race(&r, Race::Unordered).await;
    assert_eq!(statuses, [200, 200]);
    assert_eq!(holders, 2, "two accounts share the new userName");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_storm_over_replicas_loses_nothing() {
    let r = Replicas::start(REPLICAS, "").await;
    let (statuses, exact) = cases::membership_storm(&r, 12, 6).await;
    assert!(
        statuses.iter().all(|s| *s == 204 || *s == 200),
        "{statuses:?}"
    );
    assert!(exact, "the group does not hold exactly the added members");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_write_is_replayed_on_another() {
    let mut r = Replicas::start(REPLICAS, "").await;
    let (lost, replay, title) = cases::killed_mid_write(&mut r).await;
    assert!(!lost.is_empty());
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(title, "Survivor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_replica_counts_the_connection_rate_limit_on_its_own() {
    // A burst of 4 per connection on 3 replicas lets 12 requests through.
    let r = Replicas::start_edited(REPLICAS, cases::with_rate_limit(4)).await;
    let got = cases::reads(&r, 15).await;
    assert_eq!(got.iter().filter(|s| **s == 200).count(), 12, "{got:?}");
    assert_eq!(got.iter().filter(|s| **s == 429).count(), 3, "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_replica_counts_failed_authentications_on_its_own() {
    // A budget of 2 failures per address on 3 replicas: 6 are answered
    // 401 before every replica blocks the address.
    let r = Replicas::start(REPLICAS, &cases::failed_auth_budget(2)).await;
    let got = cases::bad_tokens(&r, 9).await;
    assert_eq!(got.iter().filter(|s| **s == 401).count(), 6, "{got:?}");
    assert_eq!(got.iter().filter(|s| **s == 429).count(), 3, "{got:?}");
}
