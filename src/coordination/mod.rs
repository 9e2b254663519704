//! What concurrent requests coordinate on: per-resource write locks
//! ([`locks`]) and the rate and concurrency limits ([`limits`]). Held in
//! this process by default, so they order and bound the requests of one
//! sidecar; with `[coordination] redis` the write locks, the uniqueness
//! claims, the per-connection rate limits and the failed-authentication
//! guard are kept in the store the replicas share ([`shared`]) behind
//! the same calls, so several replicas behave as one. Reads never wait
//! for the store.

pub mod limits;
pub mod locks;
pub mod shared;

pub use limits::{AppGate, AppSlot, FailedAuthGuard, GateError, Limits, retry_after_secs};
pub use locks::{KeyGuard, LockError, WriteLocks};
pub use shared::{Shared, SharedError};
