//! The compiled mapping: what `compile` makes once at load and every
//! request reads. [`mapping`] holds the [`ResourceMapping`] of a resource
//! type with its policies; it is made of attribute rules ([`rule`]),
//! operations on the app ([`ops`]), filter push-down rules ([`search`]),
//! error translation rules ([`error_rules`]) and a group's membership shape
//! ([`groups`]), and keeps the warnings of its compile.
//! Running it on documents is `eval`'s.
//!
//! [`ResourceMapping`]: mapping::ResourceMapping

pub(crate) mod direct;
pub(crate) mod error_rules;
pub(crate) mod groups;
pub(crate) mod mapping;
pub(crate) mod ops;
pub(crate) mod rule;
pub(crate) mod search;
