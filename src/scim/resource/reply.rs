//! The answer of a single-resource request — the attributes asked for
//! (projection), `ETag` from `meta.version` and `Location` on 201 — and
//! the entity tags of RFC 7644 §3.14: `If-Match` on writes (412 when the
//! resource changed) and the weak comparison `If-None-Match` uses.

use super::ctx::Ctx;
use crate::body::Body;
use crate::error::ScimError;
use crate::protocol::projection::project;
use crate::protocol::query::Projection;
use crate::scim::response::json_response;
use http::header::{ETAG, HeaderValue, IF_MATCH, LOCATION};
use http::{HeaderMap, Response, StatusCode};
use serde_json::Value;

/// A single-resource response: projection, `ETag`, and `Location` on 201.
pub(super) fn resource_response(
    ctx: &Ctx<'_>,
    status: StatusCode,
    mut resource: Value,
    projection: &Projection,
    with_location: bool,
) -> Response<Body> {
    let tag = etag(&resource);
    let location = with_location
        .then(|| meta(&resource, "location"))
        .flatten()
        .and_then(|l| HeaderValue::from_str(l).ok());
    project(&mut resource, projection, ctx.mapping().schema());
    let mut resp = json_response(status, &resource);
    set_etag(&mut resp, tag);
    if let (true, Some(l)) = (with_location, location) {
        resp.headers_mut().insert(LOCATION, l);
    }
    resp
}

/// `meta.version` as an entity tag (RFC 7644 §3.14).
pub(super) fn etag(resource: &Value) -> Option<String> {
    meta(resource, "version").map(str::to_string)
}

/// A string of the resource's `meta` (plain lookups: `Value::pointer`
/// allocates for every segment of its path).
fn meta<'a>(resource: &'a Value, key: &str) -> Option<&'a str> {
    resource.get("meta")?.get(key)?.as_str()
}

pub(super) fn set_etag(resp: &mut Response<Body>, tag: Option<String>) {
    if let Some(v) = tag.and_then(|t| HeaderValue::from_str(&t).ok()) {
        resp.headers_mut().insert(ETAG, v);
    }
}

/// Weak comparison of an `If-Match`/`If-None-Match` list against a tag
/// (RFC 9110 §8.8.3.2); `*` matches any.
pub(super) fn etag_matches(header: &str, tag: &str) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header
        .split(',')
        .any(|t| t.trim() == "*" || strip(t) == strip(tag))
}

/// `If-Match` on writes (RFC 7644 §3.14): 412 when the resource changed.
pub(super) fn check_if_match(headers: &HeaderMap, current: &Value) -> Result<(), ScimError> {
    let Some(h) = headers.get(IF_MATCH) else {
        return Ok(());
    };
    let Some(tag) = etag(current) else {
        return Ok(());
    };
    if h.to_str().is_ok_and(|v| etag_matches(v, &tag)) {
        Ok(())
    } else {
        Err(ScimError::client(
            StatusCode::PRECONDITION_FAILED,
            None,
            "the resource has changed since the version in If-Match",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_weakly() {
        assert!(etag_matches("W/\"3\"", "W/\"3\""));
        assert!(etag_matches("\"3\"", "W/\"3\""));
        assert!(etag_matches("\"1\", W/\"3\"", "W/\"3\""));
        assert!(etag_matches("*", "W/\"9\""));
        assert!(!etag_matches("W/\"2\"", "W/\"3\""));
    }
}
