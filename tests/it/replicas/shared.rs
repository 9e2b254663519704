//! Three replicas sharing a real `redis-server` (`[coordination] redis`):
//! every harness case holds (one account per userName, all updates kept
//! without a stale write, one rename winner, limits counted once), and
//! the store's faults are explicit: down or slow, a write that needs a
//! lock fails closed (503 with `Retry-After`) or, when configured, goes on
//! under the replica's own lock (counted); reads never need it; a lock
//! lost mid-write stops the write before it reaches the app.

use super::cases::{self, Race};
use super::harness::Replicas;
use crate::support::faults::Fault;
use crate::support::redis::RedisServer;
use http::StatusCode;
use serde_json::json;
use tokio::sync::watch;

const REPLICAS: usize = 3;

fn coordination(redis: &RedisServer, more: &str) -> String {
    format!(
        "[coordination]\nredis = \"{}\"\nlock_ttl = \"3s\"\n{more}\n",
        redis.url()
    )
}

async fn start(redis: &RedisServer, more: &str) -> Replicas {
    Replicas::start(REPLICAS, &coordination(redis, more)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patch_adds_are_kept_without_a_stale_write() {
    let redis = RedisServer::start();
    let r = start(&redis, "").await;
    let adds = cases::patch_adds(&r, 18).await;
    assert!(
        adds.statuses.iter().all(|s| *s == 200),
        "{:?}",
        adds.statuses
    );
    assert_eq!(adds.kept, 18);
    // The shared lock orders the writers: none computed from a stale read.
    assert_eq!(adds.stale, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_n_if_match_writers_exactly_one_wins() {
    let redis = RedisServer::start();
    let r = start(&redis, "").await;
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
async fn concurrent_creates_make_one_account_even_without_the_apps_uniqueness() {
    let redis = RedisServer::start();
    let r = start(&redis, "").await;
    r.app.allow_duplicate_logins();
    let (statuses, accounts) = cases::create_race(&r, Race::Ordered).await;
    assert_eq!(accounts, 1, "{statuses:?}");
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [201, 409, 409]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_race_has_one_winner_even_without_the_apps_uniqueness() {
    let redis = RedisServer::start();
    let r = start(&redis, "").await;
    r.app.allow_duplicate_logins();
    let (statuses, holders) = cases::rename_race(&r, Race::Ordered).await;
    assert_eq!(holders, 1, "{statuses:?}");
    let mut sorted = statuses.clone();
    sorted.sort();
    assert_eq!(sorted, [200, 409]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_storm_loses_nothing() {
    let redis = RedisServer::start();
    let r = start(&redis, "").await;
    let (statuses, exact) = cases::membership_storm(&r, 12, 6).await;
    assert!(
        statuses.iter().all(|s| *s == 204 || *s == 200),
        "{statuses:?}"
    );
    assert!(exact);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_holding_a_lock_is_replayed_once_the_lock_expires() {
    let redis = RedisServer::start();
    let mut r = start(&redis, "").await;
    let (lost, replay, title) = cases::killed_mid_write(&mut r).await;
    assert!(!lost.is_empty());
    // The dead replica's lock outlives it by its TTL at most; the replay
    // waited for it within its own deadline.
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert_eq!(title, "Survivor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_rate_limit_is_counted_once_across_replicas() {
    let redis = RedisServer::start();
    let text = coordination(&redis, "");
    let r = Replicas::start_edited(REPLICAS, move |t| {
        format!("{}\n{text}", cases::with_rate_limit(4)(t))
    })
    .await;
    let got = cases::reads(&r, 15).await;
    assert_eq!(got.iter().filter(|s| **s == 200).count(), 4, "{got:?}");
    assert_eq!(got.iter().filter(|s| **s == 429).count(), 11, "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_authentications_are_counted_once_across_replicas() {
    let redis = RedisServer::start();
    let r = start(&redis, &cases::failed_auth_budget(2)).await;
    let got = cases::bad_tokens(&r, 9).await;
    assert_eq!(got.iter().filter(|s| **s == 401).count(), 2, "{got:?}");
    assert_eq!(got.iter().filter(|s| **s == 429).count(), 7, "{got:?}");
}

fn title_patch(title: &str) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "path": "title", "value": title}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_writes_fail_closed_and_reads_go_on() {
    let mut redis = RedisServer::start();
    let r = Replicas::start(2, &coordination(&redis, "")).await;
    let id = r.user_id("ada.lovelace@example.com");
    let path = format!("/scim/v2/Users/{id}");
    redis.stop();
    let write = r.idp("PATCH", &path, Some(&title_patch("Down"))).await;
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        write.body
    );
    assert_eq!(write.headers["retry-after"], "1");
    assert_ne!(r.app.user(&id).unwrap()["profile"]["title"], "Down");
    assert_eq!(r.idp("GET", &path, None).await.status, StatusCode::OK);
    assert_eq!(
        r.idp("GET", "/scim/v2/Users?count=1", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_writes_can_degrade_to_the_replicas_own_locks() {
    let mut redis = RedisServer::start();
    let r = Replicas::start(2, &coordination(&redis, "on_unavailable = \"local\"")).await;
    let id = r.user_id("ada.lovelace@example.com");
    let path = format!("/scim/v2/Users/{id}");
    redis.stop();
    let write = r
        .send(0, "PATCH", &path, Some(&title_patch("Degraded")), &[])
        .await
        .unwrap();
    assert_eq!(write.status, StatusCode::OK, "{}", write.body);
    assert_eq!(r.app.user(&id).unwrap()["profile"]["title"], "Degraded");
    let series = "scim_sidecar_coordination_degraded_total{what=\"lock\"}";
    assert!(
        r.metric(0, series).await >= 1,
        "the degraded write was not counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_slow_writes_fail_within_the_timeout_and_reads_go_on() {
    let redis = RedisServer::start();
    let r = Replicas::start(2, &coordination(&redis, "timeout = \"200ms\"")).await;
    let id = r.user_id("ada.lovelace@example.com");
    let path = format!("/scim/v2/Users/{id}");
    // Every client's commands wait 5 s: slower than the timeout.
    assert_eq!(redis.cmd(&["CLIENT", "PAUSE", "5000", "ALL"]), "OK");
    let write = r.idp("PATCH", &path, Some(&title_patch("Slow"))).await;
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        write.body
    );
    assert_eq!(write.headers["retry-after"], "1");
    assert_eq!(r.idp("GET", &path, None).await.status, StatusCode::OK);
    assert_ne!(r.app.user(&id).unwrap()["profile"]["title"], "Slow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_lost_mid_write_stops_the_write_before_the_app() {
    let redis = RedisServer::start();
    let r = start(&redis, "").await;
    let id = r.user_id("ada.lovelace@example.com");
    let path = format!("/scim/v2/Users/{id}");
    // The write's read of the user is held while its lock is taken over
    // (as when it expired and another replica took it).
    let (open, gate) = watch::channel(false);
    r.proxy
        .fail("GET", &format!("/api/users/{id}$"), 1, Fault::gated(gate));
    let body = title_patch("Lost");
    let write = r.send(0, "PATCH", &path, Some(&body), &[]);
    let take_over = async {
        r.until("the write reads the user", |r| {
            *r.proxy.arrivals().borrow() > r.proxy.seen().len()
        })
        .await;
        let key = format!("scim-sidecar:lock:User:{id}");
        assert_ne!(
            redis.cmd(&["GET", &key]),
            "nil",
            "the write holds no shared lock"
        );
        assert_eq!(
            redis.cmd(&["SET", &key, "another-replica", "PX", "60000"]),
            "OK"
        );
        open.send_replace(true);
    };
    let (write, ()) = tokio::join!(write, take_over);
    let write = write.unwrap();
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        write.body
    );
    assert_eq!(write.headers["retry-after"], "1");
    assert_eq!(r.calls("PATCH", "/api/users/"), 0, "the stale holder wrote");
    assert_ne!(r.app.user(&id).unwrap()["profile"]["title"], "Lost");
}
