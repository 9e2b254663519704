//! A lock held in the shared store, for the replicas of one deployment:
//! taken with a time-to-live (`[coordination] lock_ttl`) and a fencing
//! token — the next number of one counter, so a later grant of any key
//! always carries a larger token than an earlier one — renewed every
//! third of its TTL while held, and released on drop. A holder that
//! cannot renew (the store is unreachable past the TTL, or the key
//! expired and was taken by another holder) marks the hold lost, and
//! [`Hold::confirm`] refuses to let it write.

use super::LockError;
use crate::coordination::shared::Shared;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// First and longest pause between two tries of a taken key.
const RETRY_FIRST: Duration = Duration::from_millis(5);
const RETRY_MAX: Duration = Duration::from_millis(50);

/// A key held in the shared store; released on drop.
#[derive(Debug)]
pub(super) struct Hold {
    shared: Arc<Shared>,
    key: String,
    owner: String,
    /// The fencing token of this grant.
    pub(super) fence: u64,
    lost: Arc<AtomicBool>,
    renewer: JoinHandle<()>,
}

impl Hold {
    /// Takes `key`, trying until `deadline` while another holder has it.
    pub(super) async fn take(
        shared: &Arc<Shared>,
        key: &str,
        deadline: Instant,
    ) -> Result<Self, LockError> {
        let owner = shared.owner();
        let mut pause = RETRY_FIRST;
        loop {
            match shared.acquire(key, &owner).await {
                Ok(Some(fence)) => return Ok(Self::held(shared, key, owner, fence)),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "shared write lock not taken");
                    return Err(LockError::Unavailable);
                }
            }
            if Instant::now() + pause >= deadline {
                return Err(LockError::Timeout);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(RETRY_MAX);
        }
    }

    fn held(shared: &Arc<Shared>, key: &str, owner: String, fence: u64) -> Self {
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew(
            shared.clone(),
            key.to_owned(),
            owner.clone(),
            lost.clone(),
        ));
        Self {
            shared: shared.clone(),
            key: key.to_owned(),
            owner,
            fence,
            lost,
            renewer,
        }
    }

    /// Whether this grant still holds its key, asked of the store (which
    /// extends it): `Lost` when another holder may have taken it since.
    pub(super) async fn confirm(&self) -> Result<(), LockError> {
        if self.lost.load(Ordering::Acquire) {
            tracing::warn!(
                fence = self.fence,
                "shared write lock expired before the write"
            );
            return Err(LockError::Lost);
        }
        match self.shared.renew(&self.key, &self.owner).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                self.lost.store(true, Ordering::Release);
                tracing::warn!(
                    fence = self.fence,
                    "shared write lock expired before the write"
                );
                Err(LockError::Lost)
            }
            Err(e) => {
                tracing::warn!(error = %e, "shared write lock not confirmed");
                Err(LockError::Unavailable)
            }
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.renewer.abort();
        if self.lost.load(Ordering::Acquire) {
            return;
        }
        let (shared, key, owner) = (
            self.shared.clone(),
            std::mem::take(&mut self.key),
            std::mem::take(&mut self.owner),
        );
        // Released in the background: the request has its answer, and a
        // release that does not arrive only leaves the key to its TTL.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = shared.release(&key, &owner).await {
                    tracing::debug!(error = %e, "shared write lock left to expire");
                }
            });
        }
    }
}

/// Renews the hold every third of its TTL; marks it lost when the key is
/// someone else's or no renewal succeeded for a whole TTL.
async fn renew(shared: Arc<Shared>, key: String, owner: String, lost: Arc<AtomicBool>) {
    let ttl = shared.lock_ttl();
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(ttl / 3).await;
        match shared.renew(&key, &owner).await {
            Ok(true) => renewed = Instant::now(),
            Ok(false) => break,
            Err(_) if renewed.elapsed() >= ttl => break,
            Err(_) => {}
        }
    }
    lost.store(true, Ordering::Release);
}
