//! What the fault proxy answers instead of the app: the [`Fault`]s a test
//! scripts (a status, HTML, a redirect, a body without end, an answer
//! reshaped, cut or held back after the app did the work) and how each
//! becomes a response.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::Frame;
use serde_json::Value;
use std::time::Duration;
use tokio::sync::watch;

pub(super) type BoxError = std::io::Error;
pub(super) type ProxyBody = BoxBody<Bytes, BoxError>;

/// What becomes of the app's answer.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This status, headers and body instead.
    Replace {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// The app's answer with its JSON body changed by a [`Reshape`].
    Reshape(Reshape),
    /// The app's head and half its body, then the connection is cut.
    Reset,
    /// The app's answer, after this delay.
    Slow(Duration),
    /// A 200 JSON answer whose body streams `bytes` bytes.
    Enormous(usize),
    /// The app's answer, once `gate` holds `true`.
    Held(watch::Receiver<bool>),
    /// The request waits until `gate` holds `true`, then goes to the app
    /// and its answer comes back as it is.
    Gated(watch::Receiver<bool>),
}

/// Ways an app's JSON answer can have the wrong shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reshape {
    /// The first half of the body only (the JSON does not end).
    Truncate,
    /// Every `id` member removed, at any depth.
    DropIds,
    /// The whole body sent again as one JSON string (double-encoded).
    Stringify,
    /// Every array member of the top-level object removed (a list answer
    /// without its items).
    DropArrays,
}

/// A scripted misbehaviour of the app.
#[derive(Debug, Clone)]
pub struct Fault {
    pub answer: Answer,
    /// Whether the request reaches the app first (the app did the work and
    /// only its answer went wrong); otherwise the app never sees it.
    pub reaches_app: bool,
}

impl Fault {
    /// A status with a small JSON error body, instead of the app.
    pub fn status(status: u16) -> Self {
        Self::replace(
            status,
            vec![("content-type", "application/json".into())],
            format!(r#"{{"error": {{"code": "injected_{status}"}}}}"#),
        )
    }

    /// 429 with `Retry-After: secs`.
    pub fn busy(secs: u64) -> Self {
        Self::status(429).with_header("retry-after", &secs.to_string())
    }

    /// 503 with `Retry-After: secs`.
    pub fn unavailable(secs: u64) -> Self {
        Self::status(503).with_header("retry-after", &secs.to_string())
    }

    /// A 200 with this JSON body, instead of the app.
    pub fn ok_json(body: &str) -> Self {
        Self::replace(
            200,
            vec![("content-type", "application/json".into())],
            body.into(),
        )
    }

    /// A 200 HTML page (a login or maintenance page), instead of the app.
    pub fn html() -> Self {
        Self::replace(
            200,
            vec![("content-type", "text/html; charset=utf-8".into())],
            "<!doctype html><html><body><h1>Please sign in</h1></body></html>".into(),
        )
    }

    /// A redirect elsewhere, instead of the app.
    pub fn redirect() -> Self {
        Self::replace(
            302,
            vec![("location", "/login?next=/api".into())],
            String::new(),
        )
    }

    /// A 200 JSON answer that does not parse, instead of the app.
    pub fn invalid_json() -> Self {
        Self::ok_json(r#"{"id": 17, "login": "x@example.com",, "state": }"#)
    }

    /// The app does the work; its answer is replaced by a 201 without body.
    pub fn created_without_body() -> Self {
        Self::replace(201, Vec::new(), String::new()).after_app()
    }

    /// The app does the work; its JSON answer is reshaped.
    pub fn reshape(how: Reshape) -> Self {
        Self {
            answer: Answer::Reshape(how),
            reaches_app: true,
        }
    }

    /// The app does the work; the connection breaks mid-answer.
    pub fn reset() -> Self {
        Self {
            answer: Answer::Reset,
            reaches_app: true,
        }
    }

    /// The app does the work; its answer comes `delay` later.
    pub fn slow(delay: Duration) -> Self {
        Self {
            answer: Answer::Slow(delay),
            reaches_app: true,
        }
    }

    /// The request waits until `gate` holds `true` before the app sees it
    /// (several writers kept between their checks and their writes).
    pub fn gated(gate: watch::Receiver<bool>) -> Self {
        Self {
            answer: Answer::Gated(gate),
            reaches_app: true,
        }
    }

    /// The app does the work; its answer waits until `gate` holds `true`
    /// (a request kept in flight for as long as a test needs).
    pub fn held(gate: watch::Receiver<bool>) -> Self {
        Self {
            answer: Answer::Held(gate),
            reaches_app: true,
        }
    }

    /// A 200 whose body streams `bytes` bytes, instead of the app.
    pub fn enormous(bytes: usize) -> Self {
        Self {
            answer: Answer::Enormous(bytes),
            reaches_app: false,
        }
    }

    /// The same answer, after the app did the work.
    pub fn after_app(mut self) -> Self {
        self.reaches_app = true;
        self
    }

    /// The same fault with one more header on a replaced answer.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Answer::Replace { headers, .. } = &mut self.answer {
            headers.push((name, value.to_owned()));
        }
        self
    }

    fn replace(status: u16, headers: Vec<(&'static str, String)>, body: String) -> Self {
        Self {
            answer: Answer::Replace {
                status,
                headers,
                body,
            },
            reaches_app: false,
        }
    }
}

/// The app's answer: status, the headers a client reads, body.
pub(super) struct AppAnswer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Bytes,
}

/// The faulty answer; `None` cuts the connection before any answer.
pub(super) async fn faulty(answer: Answer, app: Option<AppAnswer>) -> Option<Response<ProxyBody>> {
    let app = app.unwrap_or(AppAnswer {
        status: 200,
        headers: vec![("content-type", "application/json".into())],
        body: Bytes::new(),
    });
    match answer {
        Answer::Replace {
            status,
            headers,
            body,
        } => Some(respond(status, &headers, full(Bytes::from(body)))),
        Answer::Reshape(how) => {
            let body = reshape(how, &app.body);
            Some(respond(app.status, &app.headers, full(body)))
        }
        // An answer without a body is cut before its head.
        Answer::Reset if app.body.is_empty() => None,
        Answer::Reset => {
            let half = app.body.slice(..app.body.len() / 2);
            let frames: Vec<Result<Frame<Bytes>, BoxError>> = vec![
                Ok(Frame::data(half)),
                Err(BoxError::other("connection cut")),
            ];
            let body = StreamBody::new(futures_util::stream::iter(frames)).boxed();
            let mut resp = respond(app.status, &app.headers, body);
            resp.headers_mut()
                .insert("content-length", app.body.len().into());
            Some(resp)
        }
        Answer::Held(mut gate) => {
            let _ = gate.wait_for(|open| *open).await;
            Some(respond(app.status, &app.headers, full(app.body)))
        }
        // Waited for before the app was asked (see `forward`).
        Answer::Gated(_) => Some(respond(app.status, &app.headers, full(app.body))),
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Some(respond(app.status, &app.headers, full(app.body)))
        }
        Answer::Enormous(bytes) => {
            let chunk = Bytes::from(vec![b' '; 64 * 1024]);
            let n = bytes / chunk.len();
            let head = std::iter::once(Ok(Frame::data(Bytes::from_static(b"{\"items\": \""))));
            let rest = (0..n).map(move |_| Ok::<_, BoxError>(Frame::data(chunk.clone())));
            let body = StreamBody::new(futures_util::stream::iter(head.chain(rest))).boxed();
            Some(respond(
                200,
                &[("content-type", "application/json".into())],
                body,
            ))
        }
    }
}

fn reshape(how: Reshape, body: &Bytes) -> Bytes {
    if how == Reshape::Truncate {
        return body.slice(..body.len() / 2);
    }
    let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
        return body.clone();
    };
    match how {
        Reshape::DropIds => drop_ids(&mut v),
        Reshape::Stringify => v = Value::String(v.to_string()),
        Reshape::DropArrays => {
            if let Value::Object(o) = &mut v {
                o.retain(|_, x| !x.is_array());
            }
        }
        Reshape::Truncate => {}
    }
    Bytes::from(v.to_string())
}

fn drop_ids(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.remove("id");
            o.values_mut().for_each(drop_ids);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_ids),
        _ => {}
    }
}

pub(super) fn full(b: Bytes) -> ProxyBody {
    Full::new(b).map_err(|n| match n {}).boxed()
}

pub(super) fn respond(
    status: u16,
    headers: &[(&'static str, String)],
    body: ProxyBody,
) -> Response<ProxyBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    for (k, v) in headers {
        resp.headers_mut().insert(*k, v.parse().unwrap());
    }
    resp
}
