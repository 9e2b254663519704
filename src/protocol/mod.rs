//! The SCIM protocol of RFC 7644, independent of HTTP plumbing and of any
//! mapping: the filter language (§3.4.2.2), PATCH (§3.5.2), list
//! parameters (§3.4.2, §3.4.3), attribute projection (§3.4.2.5), laying a
//! resource over another and the message schema URNs. It depends on the schema layer only.

pub mod filter;
pub mod overlay;
pub mod patch;
pub mod projection;
pub mod query;

/// Error message schema (RFC 7644 §3.12).
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// ListResponse message schema (RFC 7644 §3.4.2).
pub const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// PatchOp message schema (RFC 7644 §3.5.2).
pub const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// SearchRequest message schema (RFC 7644 §3.4.3).
pub const SEARCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
