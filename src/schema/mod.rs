//! SCIM schemas (RFC 7643): the static definitions of the core User,
//! Group and Enterprise User attributes ([`rfc7643`]), the compiled
//! per-resource schema every other layer reads ([`ResourceSchema`]), and
//! case-insensitive access to SCIM JSON. It is the bottom layer: it knows
//! nothing about mappings, HTTP or protocol messages.

mod compiled;
pub mod datetime;
mod rfc7643;

pub use compiled::{Attribute, Resolved, ResourceSchema, Schema};
pub use rfc7643::*;

use serde_json::Value;

/// A member of a JSON object by exact, else case-insensitive, name
/// (RFC 7643 §2.1: attribute names are case-insensitive).
pub fn get_ci<'v>(obj: &'v Value, key: &str) -> Option<&'v Value> {
    let map = obj.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}
