//! The mapping engine: a resource type's TOML mapping (`raw`) is compiled
//! once at load ([`compile`]) into an immutable [`ResourceMapping`] that
//! translates host JSON ↔ SCIM JSON, renders request templates, extracts
//! responses, translates app errors and answers filter push-down lookups.
//! It does no I/O and knows nothing about HTTP servers, SCIM filters or
//! PATCH; the SCIM handler sequences the calls.

mod compile;
mod error;
mod eval;
mod model;
pub mod path;
pub mod raw;
mod render;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_templates;
#[cfg(test)]
mod tests_writes;

pub use compile::env::{EnvLookup, expand_env};
pub use compile::{compile, compile_with};
pub use error::MapError;
pub use eval::body::WriteEnv;
pub use eval::scim::active_of;
pub use model::diagnostic::CompileError;
pub use model::error_rules::ErrorOutcome;
pub use model::groups::RolesSpec;
pub use model::mapping::{
    OnCreateConflict, OnDelete, OnFailedCreate, ResourceKind, ResourceMapping, Unmapped,
};
pub use model::ops::{HostRequest, OpKind, Operation, Page, Paging};
pub use model::search::PushdownRule;
pub use render::vars::Vars;
