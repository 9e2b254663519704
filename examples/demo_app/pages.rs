//! The demo app's ordinary, unauthenticated pages — what the sidecar's
//! pass-through shows: the HTML homepage, `POST /echo`, `GET /headers`,
//! the app's own OpenAPI document at `GET /openapi.json` (written by hand
//! to describe exactly the `/api` routes), and the plain-text 404 for
//! everything else.

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use serde_json::{Map, Value};

use super::reply::{self, ApiError, Reply};

const HOMEPAGE: &str = "<!doctype html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>Acme Legacy App</title></head>
<body>
<h1>Acme Legacy App</h1>
<p>A small in-memory app with its own REST user API.</p>
<ul>
<li><a href=\"/api/status\">/api/status</a> &mdash; health and user count</li>
<li><a href=\"/headers\">/headers</a> &mdash; the request headers this app received</li>
<li><code>POST /echo</code> &mdash; echoes the request body</li>
<li><code>/api/users</code>, <code>/api/teams</code> &mdash; the REST API (needs <code>X-Api-Key</code>)</li>
<li><a href=\"/openapi.json\">/openapi.json</a> &mdash; the REST API's OpenAPI document</li>
</ul>
</body>
</html>
";

/// Serves a non-`/api` request.
pub(super) async fn route(request: Request<Incoming>) -> Reply {
    let method = request.method().clone();
    match (request.uri().path(), method) {
        ("/", Method::GET) => homepage(),
        ("/", _) => not_allowed("GET"),
        ("/echo", Method::POST) => echo(request).await,
        ("/echo", _) => not_allowed("POST"),
        ("/headers", Method::GET) => headers(request.headers()),
        ("/headers", _) => not_allowed("GET"),
        ("/openapi.json", Method::GET) => openapi(),
        ("/openapi.json", _) => not_allowed("GET"),
        _ => reply::text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn not_allowed(allow: &'static str) -> Reply {
    ApiError::method_not_allowed(allow).into_reply()
}

/// `GET /` → the HTML homepage.
fn homepage() -> Reply {
    let content_type = HeaderValue::from_static("text/html; charset=utf-8");
    let body = Bytes::from_static(HOMEPAGE.as_bytes());
    reply::bytes_reply(StatusCode::OK, content_type, body)
}

/// `GET /openapi.json` → [`super::OPENAPI`].
fn openapi() -> Reply {
    let content_type = HeaderValue::from_static("application/json");
    let body = Bytes::from_static(super::OPENAPI.as_bytes());
    reply::bytes_reply(StatusCode::OK, content_type, body)
}

/// `POST /echo` → the body back, with the same content type (if any).
async fn echo(request: Request<Incoming>) -> Reply {
    let (parts, body) = request.into_parts();
    let bytes = match reply::read_body(body).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_reply(),
    };
    let mut response = Response::new(Full::new(bytes));
    if let Some(content_type) = parts.headers.get(CONTENT_TYPE) {
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, content_type.clone());
    }
    response
}

/// `GET /headers` → `{"name": "v1, v2", …}` (names lowercase).
fn headers(headers: &HeaderMap) -> Reply {
    let mut object = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        object.insert(name.as_str().to_owned(), Value::from(values.join(", ")));
    }
    reply::json(StatusCode::OK, &Value::Object(object))
}
