//! The lock table of one process: an async mutex per key in use, in a
//! bounded map. A key's entry is made by its first taker and dropped when
//! nobody holds or waits for it, so the map holds only keys in use.

use super::LockError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

type Entries = HashMap<String, Arc<tokio::sync::Mutex<()>>>;

/// The keys in use and their mutexes.
#[derive(Debug)]
pub(super) struct Table {
    entries: Mutex<Entries>,
    max_keys: usize,
}

/// A held key of a [`Table`]; released on drop.
#[derive(Debug)]
pub(super) struct Guard<'a> {
    table: &'a Table,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Table {
    /// A table holding at most `max_keys` keys at once.
    pub(super) fn new(max_keys: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    fn entries(&self) -> MutexGuard<'_, Entries> {
        // A panic while the map was held cannot leave it inconsistent
        // (every operation is a single insert or remove).
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for `key` until `deadline`.
    pub(super) async fn lock(
        &self,
        key: String,
        deadline: Instant,
    ) -> Result<Guard<'_>, LockError> {
        let mutex = {
            let mut entries = self.entries();
            if !entries.contains_key(&key) && entries.len() >= self.max_keys {
                return Err(LockError::Full);
            }
            entries.entry(key.clone()).or_default().clone()
        };
        match tokio::time::timeout_at(deadline, mutex.lock_owned()).await {
            Ok(guard) => Ok(Guard {
                table: self,
                key,
                guard: Some(guard),
            }),
            Err(_) => {
                self.release(&key);
                Err(LockError::Timeout)
            }
        }
    }

    /// Drops the key's entry when nobody holds or waits for it. Clones of
    /// an entry are only taken under the map's lock, so the count is exact.
    fn release(&self, key: &str) {
        let mut entries = self.entries();
        if entries.get(key).is_some_and(|m| Arc::strong_count(m) == 1) {
            entries.remove(key);
        }
    }

    /// Keys currently in the map (held or awaited).
    pub(super) fn len(&self) -> usize {
        self.entries().len()
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.table.release(&self.key);
    }
}
