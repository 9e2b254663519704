//! Request and response plumbing shared by every handler of the demo app:
//! the JSON error type, response constructors, size-limited body reading,
//! query-string parsing and offset/limit paging. Nothing here knows about
//! users or teams.

use std::error::Error as StdError;

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Body;
use serde_json::{Map, Value, json};

/// Every response the demo app sends.
pub(super) type Reply = Response<Full<Bytes>>;

/// Largest request body any endpoint accepts (1 MiB); larger bodies get 413.
pub(super) const BODY_LIMIT: usize = 1024 * 1024;
/// Page size used when the client does not send `limit`.
const DEFAULT_LIMIT: usize = 50;
/// Largest page size; a larger `limit` is silently capped to this.
const MAX_LIMIT: usize = 100;

/// An API error, rendered as `{"error": {"code", "message"[, "field"]}}`.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<&'static str>,
    allow: Option<&'static str>,
}

impl ApiError {
    /// An error with the given status, machine-readable code and message.
    pub(super) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            allow: None,
        }
    }

    /// 400 `bad_request`.
    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 400 `read_only`: the body tried to set a field the app owns.
    pub(super) fn read_only(key: &str) -> Self {
        let message = format!("field `{key}` is read-only");
        Self::new(StatusCode::BAD_REQUEST, "read_only", message)
    }

    /// 400 `bad_request` naming a top-level key the endpoint does not know.
    pub(super) fn unknown_key(key: &str) -> Self {
        Self::bad_request(format!("unknown field `{key}`"))
    }

    /// 401 `unauthorized`.
    pub(super) fn unauthorized() -> Self {
        let message = "missing or invalid X-Api-Key header";
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 404 `not_found`.
    pub(super) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 405 `method_not_allowed` with an `Allow` header.
    pub(super) fn method_not_allowed(allow: &'static str) -> Self {
        let mut error = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("method not allowed; allowed: {allow}"),
        );
        error.allow = Some(allow);
        error
    }

    /// 409 with the given code (e.g. `already_suspended`).
    pub(super) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 412 `stale`: the `If-Match` version is not the current one.
    pub(super) fn stale() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "stale",
            "the user changed since the version in If-Match",
        )
    }

    /// 422 `taken`: a unique field already has this value.
    pub(super) fn taken(field: &'static str, message: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "taken", message);
        error.field = Some(field);
        error
    }

    /// The HTTP response for this error.
    pub(super) fn into_reply(self) -> Reply {
        let mut body = Map::new();
        body.insert("code".into(), Value::from(self.code));
        body.insert("message".into(), Value::from(self.message));
        if let Some(field) = self.field {
            body.insert("field".into(), Value::from(field));
        }
        let mut reply = json(self.status, &json!({ "error": body }));
        if let Some(allow) = self.allow {
            reply
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
        }
        reply
    }
}

/// A response with the given status, content type and body.
pub(super) fn bytes_reply(status: StatusCode, content_type: HeaderValue, body: Bytes) -> Reply {
    let mut reply = Response::new(Full::new(body));
    *reply.status_mut() = status;
    reply.headers_mut().insert(CONTENT_TYPE, content_type);
    reply
}

/// A plain-text response.
pub(super) fn text(status: StatusCode, body: &'static str) -> Reply {
    let content_type = HeaderValue::from_static("text/plain; charset=utf-8");
    bytes_reply(status, content_type, Bytes::from_static(body.as_bytes()))
}

/// A JSON response.
pub(super) fn json(status: StatusCode, value: &Value) -> Reply {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let content_type = HeaderValue::from_static("application/json");
    bytes_reply(status, content_type, Bytes::from(body))
}

/// An empty 204 response.
pub(super) fn no_content() -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    *reply.status_mut() = StatusCode::NO_CONTENT;
    reply
}

/// Reads a whole request body, refusing more than [`BODY_LIMIT`] bytes (413).
pub(super) async fn read_body<B>(body: B) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    match Limited::new(body, BODY_LIMIT).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body is larger than {BODY_LIMIT} bytes"),
        )),
        Err(_) => Err(ApiError::bad_request("could not read the request body")),
    }
}

/// Parses a body as a JSON object (400 for malformed JSON or a non-object).
pub(super) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("request body must be a JSON object")),
        Err(error) => Err(ApiError::bad_request(format!("malformed JSON: {error}"))),
    }
}

/// A decoded query string; when a name repeats, the last value wins.
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes `a=1&b=x%20y` (absent query → empty).
    pub(super) fn parse(query: Option<&str>) -> Self {
        let raw = query.unwrap_or("").as_bytes();
        Self(form_urlencoded::parse(raw).into_owned().collect())
    }

    /// The last value of `name`, if present.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        let found = self.0.iter().rev().find(|(key, _)| key == name);
        found.map(|(_, value)| value.as_str())
    }
}

/// An offset/limit window over an ordered list.
#[derive(Clone, Copy, Debug)]
pub(super) struct Page {
    /// Items to skip.
    pub(super) offset: usize,
    /// Largest number of items to return (already capped).
    pub(super) limit: usize,
}

impl Page {
    /// Reads `offset` (default 0) and `limit` (default 50, capped at 100).
    pub(super) fn from_query(query: &Query) -> Result<Self, ApiError> {
        let offset = query.get("offset").map(|v| non_negative("offset", v));
        let limit = query.get("limit").map(|v| non_negative("limit", v));
        Ok(Self {
            offset: offset.transpose()?.unwrap_or(0),
            limit: limit.transpose()?.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT),
        })
    }

    /// The items inside this window.
    pub(super) fn apply<T>(&self, items: impl Iterator<Item = T>) -> Vec<T> {
        items.skip(self.offset).take(self.limit).collect()
    }
}

/// Parses a plain run of ASCII digits; huge values saturate.
fn non_negative(name: &str, value: &str) -> Result<usize, ApiError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        let message = format!("`{name}` must be a non-negative integer");
        return Err(ApiError::bad_request(message));
    }
    Ok(value.parse::<usize>().unwrap_or(usize::MAX))
}
