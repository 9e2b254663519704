//! What the in-test apps of [`super`] share: reading a
//! request (recorded with [`crate::support::record`]), percent-decoded path
//! segments, and JSON answers.

use crate::support::record::{Recorder, Seen};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use scim_sidecar::body::Body;
use serde_json::Value;

/// A request as an app reads it.
pub struct In {
    pub method: http::Method,
    /// Percent-decoded path segments (empty ones dropped).
    pub segments: Vec<String>,
    pub query: std::collections::HashMap<String, String>,
    /// The query string as sent.
    pub raw_query: Option<String>,
    pub authorization: Option<String>,
    pub body: Option<Value>,
}

/// Reads and records a request.
pub async fn read(req: Request<Incoming>, rec: &Recorder) -> In {
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let seen = Seen::new(&parts, &bytes);
    rec.record(seen.clone());
    In {
        method: parts.method.clone(),
        segments: parts
            .uri
            .path()
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect(),
        query: seen.query,
        raw_query: parts.uri.query().map(str::to_owned),
        authorization: seen.authorization,
        body: seen.body,
    }
}

/// A JSON answer.
pub fn json(status: u16, v: &Value) -> Response<Body> {
    let mut r = Response::new(crate::support::body(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap();
    r.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    r
}
