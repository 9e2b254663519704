//! SCIM schemas (RFC 7643): the static definitions of the core User,
//! Group and Enterprise User attributes with their characteristics, and
//! the lookups every other layer uses. It is the bottom layer: it knows
//! nothing about mappings, HTTP or the protocol messages.

mod rfc7643;

pub use rfc7643::*;
