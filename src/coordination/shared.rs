//! The store the replicas share (`[coordination] redis`): one Redis or
//! Valkey server, reached over one multiplexed connection that is made
//! again after it breaks. Every command runs as a Lua script (atomic on
//! the server) within `[coordination] timeout`; a command that does not
//! answer in time, or a server that cannot be reached, is
//! [`SharedError::Unavailable`] and the caller applies the configured
//! policy. Keys are `<key_prefix>:lock:<key>`, `<key_prefix>:fence`,
//! `<key_prefix>:rate:<connection>`, `<key_prefix>:auth:<address>` and
//! `<key_prefix>:block:<address>`; a standalone server (or a primary) is
//! assumed, not Redis Cluster.

use crate::config::{OnUnavailable, RedisConfig};
use redis::aio::MultiplexedConnection;
use redis::{FromRedisValue, Script};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Why the shared store did not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SharedError {
    /// Unreachable, refused, or slower than the configured timeout.
    #[error("the coordination store is unavailable: {0}")]
    Unavailable(String),
}

/// Takes a lock: `SET NX PX`, then the next fencing token.
const ACQUIRE: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0";

/// Extends a lock still held by `ARGV[1]`; 0 when it is someone else's.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0";

/// Releases a lock still held by `ARGV[1]`.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// GCRA (the generic cell rate algorithm): one request against a rate of
/// one per `ARGV[1]` ms with a burst of `ARGV[2]`, on the server's clock.
/// 0 when admitted, else the milliseconds until the next one would be.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allow_at = tat + interval - tolerance
if allow_at > now then
  return math.max(1, math.ceil(allow_at - now))
end
redis.call('SET', KEYS[1], string.format('%.3f', tat + interval), 'PX', math.max(1, math.ceil(tat + interval - now)))
return 0";

/// Blocks `KEYS[1]` for `ARGV[1]` ms (when non-zero), then answers how
/// many ms it stays blocked.
const BLOCK: &str = r"
if tonumber(ARGV[1]) > 0 then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return math.max(0, redis.call('PTTL', KEYS[1]))";

/// The shared store of one process.
pub struct Shared {
    client: redis::Client,
    conn: Mutex<Option<MultiplexedConnection>>,
    config: RedisConfig,
    /// Distinguishes this process's lock values from other replicas'.
    process: String,
    next: AtomicU64,
    scripts: Scripts,
    /// Until when commands fail at once, after one failed: a store that is
    /// down costs one timeout per pause, not one per request.
    resting: std::sync::Mutex<Option<Instant>>,
}

/// How long commands fail at once after one failed.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(1);

struct Scripts {
    acquire: Script,
    renew: Script,
    release: Script,
    gcra: Script,
    block: Script,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("Shared")
            .field("key_prefix", &self.config.key_prefix)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// The store of `config`; nothing is connected until the first use.
    pub fn new(config: &RedisConfig) -> Result<Self, SharedError> {
        let client = redis::Client::open(config.url.as_str())
            .map_err(|e| SharedError::Unavailable(e.to_string()))?;
        let mut b = [0u8; 8];
        // A failing RNG only makes lock values predictable, not shared:
        // the counter below keeps them distinct within this process.
        let _ = getrandom::fill(&mut b);
        Ok(Self {
            client,
            conn: Mutex::new(None),
            config: config.clone(),
            process: crate::hex::encode(&b),
            next: AtomicU64::new(0),
            scripts: Scripts {
                acquire: Script::new(ACQUIRE),
                renew: Script::new(RENEW),
                release: Script::new(RELEASE),
                gcra: Script::new(GCRA),
                block: Script::new(BLOCK),
            },
            resting: std::sync::Mutex::new(None),
        })
    }

    /// The policy for writes while the store is unavailable.
    pub fn on_unavailable(&self) -> OnUnavailable {
        self.config.on_unavailable
    }

    /// How long a lock outlives a holder that stopped renewing it.
    pub fn lock_ttl(&self) -> Duration {
        self.config.lock_ttl
    }

    fn key(&self, kind: &str, name: &str) -> String {
        format!("{}:{kind}:{name}", self.config.key_prefix)
    }

    /// A value no other holder uses, for one lock.
    pub(super) fn owner(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.process)
    }

    /// Tries once to take `key` for `owner`: `Some(fencing token)` when
    /// taken, `None` while another holder has it.
    pub(super) async fn acquire(&self, key: &str, owner: &str) -> Result<Option<u64>, SharedError> {
        let keys = [
            self.key("lock", key),
            format!("{}:fence", self.config.key_prefix),
        ];
        let fence: u64 = self
            .run(&self.scripts.acquire, &keys, &[owner, &self.ttl_ms()])
            .await?;
        Ok((fence > 0).then_some(fence))
    }

    /// Extends `key` while `owner` holds it; `false` when it was lost (it
    /// expired and may have been taken by another holder).
    pub(super) async fn renew(&self, key: &str, owner: &str) -> Result<bool, SharedError> {
        let keys = [self.key("lock", key)];
        let n: u64 = self
            .run(&self.scripts.renew, &keys, &[owner, &self.ttl_ms()])
            .await?;
        Ok(n == 1)
    }

    /// Releases `key` if `owner` still holds it.
    pub(super) async fn release(&self, key: &str, owner: &str) -> Result<(), SharedError> {
        let keys = [self.key("lock", key)];
        let _: u64 = self.run(&self.scripts.release, &keys, &[owner]).await?;
        Ok(())
    }

    /// One request against the rate `per_second` with `burst` on `key`:
    /// `Ok(None)` admitted, `Ok(Some(wait))` refused for `wait`.
    pub(super) async fn admit(
        &self,
        kind: &str,
        name: &str,
        per_second: f64,
        burst: u32,
    ) -> Result<Option<Duration>, SharedError> {
        let interval = format!("{:.3}", 1000.0 / per_second);
        let keys = [self.key(kind, name)];
        let wait: u64 = self
            .run(&self.scripts.gcra, &keys, &[&interval, &burst.to_string()])
            .await?;
        Ok((wait > 0).then(|| Duration::from_millis(wait)))
    }

    /// Blocks `name` for `block` (when non-zero); how long it stays
    /// blocked.
    pub(super) async fn block(&self, name: &str, block: Duration) -> Result<Duration, SharedError> {
        let keys = [self.key("block", name)];
        let ms = block.as_millis().to_string();
        let left: u64 = self.run(&self.scripts.block, &keys, &[&ms]).await?;
        Ok(Duration::from_millis(left))
    }

    fn ttl_ms(&self) -> String {
        self.config.lock_ttl.as_millis().to_string()
    }

    /// Runs `script` within the timeout, connecting first when needed; a
    /// connection that failed is dropped so the next command makes a new
    /// one.
    async fn run<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[String],
        args: &[&str],
    ) -> Result<T, SharedError> {
        if self.is_resting() {
            return Err(SharedError::Unavailable(
                "a command failed less than a second ago".to_owned(),
            ));
        }
        let attempt = async {
            let mut conn = self.connection().await?;
            let mut call = script.prepare_invoke();
            for k in keys {
                call.key(k);
            }
            for a in args {
                call.arg(*a);
            }
            match call.invoke_async(&mut conn).await {
                Ok(v) => Ok(v),
                Err(e) => {
                    if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() {
                        *self.conn.lock().await = None;
                    }
                    Err(SharedError::Unavailable(e.to_string()))
                }
            }
        };
        let result = match tokio::time::timeout(self.config.timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(SharedError::Unavailable(format!(
                "no answer within {:?}",
                self.config.timeout
            ))),
        };
        if let Err(e) = &result {
            tracing::warn!(error = %e, "coordination store unavailable; shared locks and limits pause for 1s");
            *self.resting() = Some(Instant::now() + REST_AFTER_FAILURE);
        }
        result
    }

    fn resting(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.resting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_resting(&self) -> bool {
        let mut r = self.resting();
        match *r {
            Some(until) if until > Instant::now() => true,
            Some(_) => {
                *r = None;
                false
            }
            None => false,
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, SharedError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| SharedError::Unavailable(e.to_string()))?;
        *slot = Some(c.clone());
        Ok(c)
    }
}
