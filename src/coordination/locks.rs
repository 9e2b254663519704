//! Per-resource write serialisation: a keyed async lock, so two IdP
//! workers writing the same user one after the other each read the state
//! the other left (a PATCH that adds a phone number is applied to the
//! list that already has the previous one).
//! Keys are resource ids (`u:17`) or, for creates, the unique value being
//! claimed (`c:username:ada@example.com`). The table holds only keys in
//! use, is bounded, and a wait is bounded by the request's deadline.
//!
//! [`WriteLocks`] is the whole contract a write relies on: a key is held
//! by one write at a time, a wait ends at the request's deadline, several
//! keys are taken in one order, and a holder confirms its keys before it
//! writes. The table of this process ([`local`]) is always taken first;
//! with `[coordination] redis` the key is then taken in the store every
//! replica shares ([`remote`]), so the lock reaches across replicas.
//! Without it, across replicas only the app's own version check (a mapped
//! `meta.version` sent back as a precondition) and its own uniqueness keep
//! concurrent writers apart.
//!
//! While the store is unavailable a write either fails (`LockError::
//! Unavailable`, answered 503 with `Retry-After`) or, with
//! `on_unavailable = "local"`, goes on under this process's lock alone:
//! a warning is logged and the counter handed in is incremented.

mod local;
mod remote;

use super::shared::Shared;
use crate::config::OnUnavailable;
use prometheus_client::metrics::counter::Counter;
use std::sync::Arc;
use tokio::time::Instant;

/// Why a lock was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// The deadline passed while another write held the key.
    #[error("another write to the same resource did not finish in time")]
    Timeout,
    /// Too many resources are being written at once.
    #[error("too many resources are being written at once")]
    Full,
    /// The shared store did not answer in time.
    #[error("the replicas' shared write locks are unavailable")]
    Unavailable,
    /// The shared lock expired before the write (its holder was cut off
    /// from the store for longer than its TTL): another replica may hold
    /// it now, so this write stops before it sends anything more.
    #[error("the write lock expired before the write could be made")]
    Lost,
}

/// The write locks of a running sidecar.
#[derive(Debug)]
pub struct WriteLocks {
    table: local::Table,
    shared: Option<(Arc<Shared>, Counter)>,
}

/// A held key; released on drop.
#[derive(Debug)]
pub struct KeyGuard<'a> {
    _held: local::Guard<'a>,
    remote: Option<remote::Hold>,
}

impl Default for WriteLocks {
    fn default() -> Self {
        Self::new(65_536)
    }
}

impl WriteLocks {
    /// Locks in this process, at most `max_keys` keys held or awaited at
    /// once.
    pub fn new(max_keys: usize) -> Self {
        Self {
            table: local::Table::new(max_keys),
            shared: None,
        }
    }

    /// Locks shared with every replica through `shared`; `degraded`
    /// counts the writes that went on under this process's lock alone.
    pub fn shared(max_keys: usize, shared: Arc<Shared>, degraded: Counter) -> Self {
        Self {
            table: local::Table::new(max_keys),
            shared: Some((shared, degraded)),
        }
    }

    /// Waits for `key` until `deadline`.
    pub async fn lock(&self, key: String, deadline: Instant) -> Result<KeyGuard<'_>, LockError> {
        let held = self.table.lock(key.clone(), deadline).await?;
        let Some((shared, degraded)) = &self.shared else {
            return Ok(KeyGuard {
                _held: held,
                remote: None,
            });
        };
        match remote::Hold::take(shared, &key, deadline).await {
            Ok(hold) => Ok(KeyGuard {
                _held: held,
                remote: Some(hold),
            }),
            Err(LockError::Unavailable) if shared.on_unavailable() == OnUnavailable::Local => {
                tracing::warn!(
                    "shared write locks unavailable; this write is ordered in this replica only"
                );
                degraded.inc();
                Ok(KeyGuard {
                    _held: held,
                    remote: None,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Confirms, just before a write, that every shared key in `held` is
    /// still this write's (see [`LockError::Lost`]); with
    /// `on_unavailable = "local"` a store that does not answer lets the
    /// write go on, as [`Self::lock`] does.
    pub async fn confirm(&self, held: &[KeyGuard<'_>]) -> Result<(), LockError> {
        for hold in held.iter().filter_map(|g| g.remote.as_ref()) {
            match hold.confirm().await {
                Ok(()) => {}
                Err(LockError::Unavailable)
                    if self
                        .shared
                        .as_ref()
                        .is_some_and(|(s, _)| s.on_unavailable() == OnUnavailable::Local) =>
                {
                    if let Some((_, degraded)) = &self.shared {
                        degraded.inc();
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Takes several keys in a fixed (sorted) order, so two writers that
    /// need overlapping keys never wait on each other in a circle.
    pub async fn lock_all(
        &self,
        mut keys: Vec<String>,
        deadline: Instant,
    ) -> Result<Vec<KeyGuard<'_>>, LockError> {
        keys.sort();
        keys.dedup();
        let mut guards = Vec::with_capacity(keys.len());
        for k in keys {
            guards.push(self.lock(k, deadline).await?);
        }
        Ok(guards)
    }

    /// Keys currently in the table (held or awaited).
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no key is held or awaited.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn one_holder_per_key_and_entries_are_released() {
        let locks = WriteLocks::new(8);
        let a = locks.lock("u:1".into(), soon()).await.unwrap();
        let other = locks.lock("u:2".into(), soon()).await.unwrap();
        let short = Instant::now() + Duration::from_millis(20);
        assert_eq!(
            locks.lock("u:1".into(), short).await.unwrap_err(),
            LockError::Timeout
        );
        assert_eq!(locks.len(), 2);
        drop(a);
        drop(other);
        assert!(locks.is_empty());
    }

    #[tokio::test]
    async fn waiters_get_the_key_in_turn() {
        let locks = Arc::new(WriteLocks::new(8));
        let counter = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..10 {
            let (locks, counter) = (locks.clone(), counter.clone());
            tasks.push(tokio::spawn(async move {
                let _g = locks.lock("u:1".into(), soon()).await.unwrap();
                let before = counter.lock().unwrap().len();
                tokio::task::yield_now().await;
                counter.lock().unwrap().push(i);
                assert_eq!(counter.lock().unwrap().len(), before + 1);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(counter.lock().unwrap().len(), 10);
        assert!(locks.is_empty());
    }

    #[tokio::test]
    async fn the_table_is_bounded() {
        let locks = WriteLocks::new(1);
        let _a = locks.lock("u:1".into(), soon()).await.unwrap();
        assert_eq!(
            locks.lock("u:2".into(), soon()).await.unwrap_err(),
            LockError::Full
        );
    }
}
