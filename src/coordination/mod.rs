//! What concurrent requests coordinate on: per-resource write locks
//! ([`locks`]) and the rate and concurrency limits ([`limits`]). Both are
//! held in this process, so they order and bound the requests of one
//! sidecar; the types here are what the rest of the sidecar calls, so a
//! store shared by replicas could stand behind them without changing a
//! caller.

pub mod limits;
pub mod locks;

pub use limits::{AppGate, AppSlot, FailedAuthGuard, GateError, Limits, retry_after_secs};
pub use locks::{KeyGuard, LockError, WriteLocks};
