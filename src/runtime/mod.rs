//! The running sidecar, assembled: the composition root, above every
//! other module. [`State`] holds what lives as long as the process and
//! the runtime snapshot compiled from the config in force ([`state`]);
//! it is what the HTTP listeners serve ([`dispatch`]: each request routed
//! once, then the SCIM front door or pass-through); [`Server`] binds and
//! runs the listeners; [`reload`] watches the config and its files and
//! swaps in a new snapshot; [`workers`] runs the single-threaded worker
//! runtimes public connections are spread over. Nothing below this module
//! names it: each part is handed what it uses.

mod dispatch;
pub mod reload;
mod server;
pub mod state;
pub mod workers;

pub use reload::Reloader;
pub use server::Server;
pub use state::{ReloadStats, Snapshot, State};
pub use workers::Workers;
