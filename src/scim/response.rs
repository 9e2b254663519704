//! SCIM responses shared by every endpoint: the media type, SCIM Error
//! bodies (RFC 7644 §3.12) and JSON responses.

use crate::body::{Body, full};
use crate::error::{ErrorSource, ScimError, ScimType};
use crate::protocol::ERROR_URN;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use serde_json::{Value, json};

/// `application/scim+json` (RFC 7644 §3.1).
pub const SCIM_MEDIA_TYPE: &str = "application/scim+json";
/// The JSON body of a SCIM error: `status` is a string (RFC 7644 §3.12).
pub fn error_body(err: &ScimError) -> Value {
    let mut body = json!({
        "schemas": [ERROR_URN],
        "status": err.status.as_u16().to_string(),
        "detail": err.detail,
    });
    if let (Some(t), Some(obj)) = (err.scim_type, body.as_object_mut()) {
        obj.insert("scimType".into(), Value::String(t.as_str().into()));
    }
    body
}

/// A SCIM error response. The error's source decides the log level:
/// client mistakes at debug (their details may echo input), app failures
/// at warn, faults of the sidecar at error.
pub fn error_response(err: &ScimError) -> Response<Body> {
    let (status, scim_type, source) = (
        err.status.as_u16(),
        err.scim_type.map(ScimType::as_str),
        err.source.label(),
    );
    match err.source {
        ErrorSource::Client => {
            tracing::debug!(status, scim_type, source, detail = %err.detail, "scim error")
        }
        ErrorSource::Upstream => tracing::warn!(status, source, detail = %err.detail, "scim error"),
        ErrorSource::Internal => {
            tracing::error!(status, source, detail = %err.detail, "scim error")
        }
    }
    let mut resp = json_response(err.status, &error_body(err));
    if let Some(secs) = err.retry_after {
        resp.headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// A `application/scim+json` response with a JSON body.
pub fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    // Room for a typical resource, so the text is rarely regrown.
    let mut bytes = Vec::with_capacity(512);
    if serde_json::to_writer(&mut bytes, body).is_err() {
        bytes = b"{}".to_vec();
    }
    json_bytes_response(status, bytes)
}

/// A `application/scim+json` response with a body already written as JSON.
pub fn json_bytes_response(status: StatusCode, bytes: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(full(bytes));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(SCIM_MEDIA_TYPE));
    resp
}

/// Whether a request `Content-Type` is acceptable for a SCIM body: SCIM's
/// own type or plain JSON, any parameters (Okta: `application/scim+json;
/// charset=utf-8`; older Okta samples and the SPEC test: `application/json`).
pub fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case(SCIM_MEDIA_TYPE)
        || essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_string_status_and_scim_type() {
        let err = ScimError::bad_request(ScimType::InvalidFilter, "at position 3: oops");
        let body = error_body(&err);
        assert_eq!(body["status"], "400");
        assert_eq!(body["scimType"], "invalidFilter");
        assert_eq!(body["schemas"][0], ERROR_URN);
        let plain = error_body(&ScimError::not_found("no such user"));
        assert!(plain.get("scimType").is_none());
    }

    #[test]
    fn media_types() {
        assert!(is_json_media_type("application/scim+json; charset=utf-8"));
        assert!(is_json_media_type("Application/JSON"));
        assert!(!is_json_media_type("text/xml"));
        assert!(!is_json_media_type("application/jsonx"));
    }
}
