//! The mapping engine: a resource type's TOML mapping is compiled once at
//! load ([`compile`]) into an immutable [`ResourceMapping`] that translates
//! host JSON ↔ SCIM JSON, renders request templates, extracts responses,
//! translates app errors and answers filter push-down lookups. It does no
//! I/O and knows nothing about HTTP servers, SCIM filters or PATCH; the
//! SCIM handler sequences the calls.
//!
//! Its parts, each of which imports only the parts listed after it:
//!
//! - `compile`: [`raw`] → [`ResourceMapping`], every problem a
//!   `Diagnostic` (the crate's `diagnostic` module);
//! - `eval`: runs a compiled mapping on documents: host ↔ SCIM resources,
//!   host bodies, list answers and paging;
//! - `model`: the compiled mapping and its parts: attribute rules,
//!   operations, push-down and error rules, group membership shapes;
//! - `render`: templates, placeholders and their values, encoders, query
//!   parameters and value transforms;
//! - [`raw`]: the serde mirror of the TOML, checked by nothing but serde;
//! - `path` and `error`: JSON and SCIM paths, and [`MapError`].
//!
//! This file only declares the parts and re-exports what the rest of the
//! crate uses.

mod compile;
mod error;
mod eval;
mod model;
mod path;
pub mod raw;
mod render;

#[cfg(test)]
mod tests;

pub use compile::env::{EnvLookup, expand_env};
pub use compile::{compile, compile_with};
pub use error::MapError;
pub use eval::body::WriteEnv;
pub use eval::direct::Direct;
pub use eval::scim::active_of;
pub use model::error_rules::ErrorOutcome;
pub use model::groups::RolesSpec;
pub use model::mapping::{
    OnCreateConflict, OnDelete, OnFailedCreate, ResourceKind, ResourceMapping, Unmapped,
};
pub use model::ops::{HostRequest, OpKind, Operation, Page, Paging};
pub use model::search::PushdownRule;
pub use render::vars::Vars;
