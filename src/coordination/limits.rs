//! Rate and concurrency limits (governor quotas, tokio semaphores), built
//! from the config with each runtime:
//! - per connection, the SCIM requests an IdP may send (429 with
//!   `Retry-After`, RFC 6585 §4);
//! - per client address (the TCP peer, or the client a trusted proxy
//!   names), failed authentications: past the budget the address gets 429
//!   for every request without a valid token; a valid token still passes,
//!   so an attacker behind the same address cannot lock the IdP out;
//! - towards the app, the sidecar's own API calls: at most `max_in_flight`
//!   at once and `rate_limit` per second; callers beyond wait in a bounded
//!   queue within their request deadline, so an IdP's import burst queues
//!   instead of flattening the app.
//!
//! With `[coordination] redis` the first two are counted in the store the
//! replicas share (GCRA, one atomic script per request), so N replicas
//! let through the configured rate once, not N times. While the store is
//! unavailable they are counted in this process again (a counter handed
//! in says how often): a limit never makes a request wait for the store,
//! and reads never need it. The app gate stays per process: it protects
//! the app replica beside it.

use super::shared::{Shared, SharedError};
use crate::config::{Config, RateLimit};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use prometheus_client::metrics::counter::Counter;
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// The shared store and the counter of requests counted here instead.
type SharedCount = Option<(Arc<Shared>, Counter)>;

/// One connection's rate: its id (the shared key), the rate and this
/// process's limiter.
struct ConnectionRate {
    id: String,
    rate: RateLimit,
    here: DefaultDirectRateLimiter,
}

/// Every limit of one runtime.
pub struct Limits {
    connections: Vec<Option<ConnectionRate>>,
    shared: SharedCount,
    /// The failed-authentication guard.
    pub failed_auth: FailedAuthGuard,
    /// The gate in front of the app.
    pub app: AppGate,
}

impl Limits {
    /// Builds the limiters of a config, counted in this process.
    pub fn new(config: &Config) -> Self {
        Self::with_shared(config, None)
    }

    /// Builds the limiters of a config, counted in `shared` when given;
    /// its counter counts the requests counted here while it is down.
    pub fn with_shared(config: &Config, shared: SharedCount) -> Self {
        Self {
            connections: config
                .connections
                .iter()
                .map(|c| {
                    c.rate_limit.map(|rate| ConnectionRate {
                        id: c.id.clone(),
                        rate,
                        here: RateLimiter::direct(quota(rate)),
                    })
                })
                .collect(),
            shared: shared.clone(),
            failed_auth: FailedAuthGuard::new(config.scim.failed_auth_limit, shared),
            app: AppGate::new(
                config.host.max_in_flight,
                config.host.max_queued,
                config.host.rate_limit,
            ),
        }
    }

    /// Takes one request from connection `index`'s budget; `Err` carries
    /// how long until the next request would be allowed.
    pub async fn admit(&self, index: usize) -> Result<(), Duration> {
        let Some(c) = self.connections.get(index).and_then(Option::as_ref) else {
            return Ok(());
        };
        if let Some((shared, here)) = &self.shared {
            let r = shared.admit("rate", &c.id, c.rate.per_second, c.rate.burst);
            match r.await {
                Ok(None) => return Ok(()),
                Ok(Some(wait)) => return Err(wait),
                Err(e) => counted_here(here, &e),
            }
        }
        c.here
            .check()
            .map_err(|n| n.wait_time_from(DefaultClock::default().now()))
    }
}

/// A limit counted in this process because the shared store is down.
fn counted_here(counter: &Counter, e: &SharedError) {
    tracing::debug!(error = %e, "limit counted in this replica only");
    counter.inc();
}

/// A governor quota: `burst` at once, then one every `1/per_second`.
fn quota(r: RateLimit) -> Quota {
    let period = Duration::from_secs_f64(1.0 / r.per_second).max(Duration::from_nanos(1));
    let burst = NonZeroU32::new(r.burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

/// `Retry-After` delta-seconds (RFC 9110 §10.2.3) for a wait: rounded up,
/// at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// Counts failed authentications per client address and blocks an
/// address that spent its budget until the budget refills.
pub struct FailedAuthGuard {
    limit: RateLimit,
    shared: SharedCount,
    failures: DefaultKeyedRateLimiter<IpAddr>,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    recorded: AtomicUsize,
}

/// Blocked addresses kept before expired entries are swept.
const SWEEP_AT: usize = 10_000;

/// Failures between two sweeps of the per-address counters, so that many
/// addresses failing once each (an IPv6 range) cannot grow them unbounded.
const RETAIN_EVERY: usize = 4_096;

impl FailedAuthGuard {
    fn new(limit: RateLimit, shared: SharedCount) -> Self {
        Self {
            limit,
            shared,
            failures: RateLimiter::keyed(quota(limit)),
            blocked: Mutex::new(HashMap::new()),
            recorded: AtomicUsize::new(0),
        }
    }

    /// How long `ip` stays blocked, if it is (in any replica, when the
    /// guard is shared).
    pub async fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        if let Some((shared, here)) = &self.shared {
            match shared.block(&ip.to_string(), Duration::ZERO).await {
                Ok(left) => return (!left.is_zero()).then_some(left),
                Err(e) => counted_here(here, &e),
            }
        }
        self.blocked_here(ip)
    }

    /// Records a failure from `ip`; `Some(wait)` when it exhausted the
    /// budget (of every replica, when the guard is shared) and is now
    /// blocked for `wait`.
    pub async fn failed(&self, ip: IpAddr) -> Option<Duration> {
        if let Some((shared, here)) = &self.shared {
            let name = ip.to_string();
            let counted = match shared
                .admit("auth", &name, self.limit.per_second, self.limit.burst)
                .await
            {
                Ok(None) => return None,
                Ok(Some(wait)) => shared.block(&name, wait).await,
                Err(e) => Err(e),
            };
            match counted {
                Ok(left) => return Some(left.max(Duration::from_millis(1))),
                Err(e) => counted_here(here, &e),
            }
        }
        self.failed_here(ip)
    }

    fn blocked_here(&self, ip: IpAddr) -> Option<Duration> {
        let map = self.blocked.lock().ok()?;
        let until = *map.get(&ip)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    fn failed_here(&self, ip: IpAddr) -> Option<Duration> {
        if self.recorded.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            // Drops counters that have refilled completely.
            self.failures.retain_recent();
            self.failures.shrink_to_fit();
        }
        let wait = self
            .failures
            .check_key(&ip)
            .err()?
            .wait_time_from(DefaultClock::default().now());
        if let Ok(mut map) = self.blocked.lock() {
            if map.len() >= SWEEP_AT {
                let now = Instant::now();
                map.retain(|_, until| *until > now);
            }
            map.insert(ip, Instant::now() + wait);
        }
        Some(wait)
    }
}

/// Why the gate refused an app call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// The waiting line is full.
    #[error("too many app calls are waiting")]
    Full,
    /// The request deadline passed while waiting.
    #[error("the request deadline passed while waiting for an app call slot")]
    Deadline,
}

/// Concurrency and rate of the sidecar's own calls to the app.
pub struct AppGate {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
    rate: Option<DefaultDirectRateLimiter>,
}

/// A held slot; the call may proceed while it lives.
pub struct AppSlot {
    _permit: OwnedSemaphorePermit,
}

impl AppGate {
    /// A gate with `in_flight` slots, `queued` waiting places and an
    /// optional rate.
    pub fn new(in_flight: usize, queued: usize, rate: Option<RateLimit>) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(in_flight.max(1))),
            waiting: AtomicUsize::new(0),
            max_waiting: queued,
            rate: rate.map(|r| RateLimiter::direct(quota(r))),
        }
    }

    /// Calls waiting for a slot right now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Waits (until `deadline` at most) for a slot and the rate.
    pub async fn acquire(&self, deadline: Instant) -> Result<AppSlot, GateError> {
        let permit = match self.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => self.wait_for_slot(deadline).await?,
        };
        if let Some(rate) = &self.rate {
            while let Err(n) = rate.check() {
                let wait = n.wait_time_from(DefaultClock::default().now());
                if Instant::now() + wait > deadline {
                    return Err(GateError::Deadline);
                }
                tokio::time::sleep(wait).await;
            }
        }
        Ok(AppSlot { _permit: permit })
    }

    async fn wait_for_slot(&self, deadline: Instant) -> Result<OwnedSemaphorePermit, GateError> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(GateError::Full);
        }
        let got = tokio::time::timeout_at(deadline, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match got {
            Ok(Ok(p)) => Ok(p),
            _ => Err(GateError::Deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }

    #[tokio::test]
    async fn failed_auth_blocks_after_the_burst_per_address() {
        let limit = RateLimit {
            per_second: 0.01,
            burst: 3,
        };
        let g = FailedAuthGuard::new(limit, None);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(g.failed(a).await, None);
            assert_eq!(g.blocked(a).await, None);
        }
        let wait = g.failed(a).await.expect("fourth failure blocks");
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(g.blocked(a).await.is_some());
        assert_eq!(g.blocked(b).await, None, "other addresses are not affected");
        assert_eq!(g.failed(b).await, None);
    }

    #[tokio::test]
    async fn app_gate_bounds_in_flight_and_queue() {
        let gate = Arc::new(AppGate::new(1, 1, None));
        let far = Instant::now() + Duration::from_secs(30);
        let first = gate.acquire(far).await.unwrap();
        // The second waits in the queue …
        let g2 = gate.clone();
        let second = tokio::spawn(async move { g2.acquire(far).await.map(|_| ()) });
        while gate.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        // … the third finds the queue full.
        assert_eq!(gate.acquire(far).await.err(), Some(GateError::Full));
        // An already-passed deadline while waiting is refused.
        let g3 = AppGate::new(1, 5, None);
        let _held = g3.acquire(far).await.unwrap();
        assert_eq!(
            g3.acquire(Instant::now()).await.err(),
            Some(GateError::Deadline)
        );
        drop(first);
        assert_eq!(second.await.unwrap(), Ok(()));
    }

    #[test]
    fn connection_quota_admits_the_burst_then_refuses() {
        let l = RateLimiter::direct(quota(RateLimit {
            per_second: 1.0,
            burst: 2,
        }));
        assert!(l.check().is_ok() && l.check().is_ok());
        assert!(l.check().is_err());
    }
}
