//! SCIM resource endpoints (`/Users`, `/Groups`) over a compiled mapping,
//! RFC 7644 §3.3–§3.6. Each request reads as named phases: parse the SCIM
//! input, lock, read, plan, call the app, map back, respond. [`dispatch`]
//! takes an action to its handler with the request's context ([`ctx`]);
//! listing and searching live in [`list`], reads of one resource in
//! [`read`] and [`get`], creates in [`create`], replace, PATCH and delete
//! in [`update`], the uniqueness of claimed values in [`unique`], the
//! input checks in [`checks`] and [`filter_check`], group members in
//! [`members`], groups stored as roles in [`roles`], the single-resource
//! answer and entity tags in [`reply`], and `explain` in [`explain`].

mod checks;
mod create;
mod ctx;
mod dispatch;
mod explain;
mod filter_check;
mod get;
mod list;
mod members;
mod read;
mod reply;
mod roles;
mod unique;
mod update;

pub use dispatch::{Scope, explain_request, handle, read_request};
