//! Rendering: how compiled templates become what the app receives.
//! Templates are split once at load ([`template`]) and hold placeholders
//! ([`placeholder`]); at request time [`vars`] gives them values and
//! [`request`] renders paths, query parameters ([`query`]) and headers,
//! every value encoded for where it lands ([`encode`]); a changes body
//! may go as RFC 6902 operations ([`json_patch`]). Value transforms
//! ([`transform`]) convert single values between the app's form and
//! SCIM's. Nothing here knows about rules, operations or resources.

pub(crate) mod encode;
pub(crate) mod json_patch;
pub(crate) mod placeholder;
pub(crate) mod query;
pub(crate) mod request;
pub(crate) mod template;
pub(crate) mod transform;
pub(crate) mod vars;
