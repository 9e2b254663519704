//! The one skeleton of every in-test app: a server on 127.0.0.1 port 0,
//! optionally behind the fault proxy ([`super::faults`]), serving either a
//! handler — each request read whole, handed over as an [`AppRequest`] and
//! kept with its answer's status in a [`Recorder`] — or the bundled example
//! app; and the JSON answers the handlers give. An app configures it:
//!
//! ```ignore
//! let addr = App::handler(move |r| store.answer(r)).recorded(&rec).serve().await;
//! let (demo, proxy) = App::example(APP_KEY).serve_behind_faults().await;
//! ```

use super::demo_app::DemoApp;
use super::faults::FaultProxy;
use super::record::{Recorder, Seen};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use scim_sidecar::body::Body;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A request as an in-test app reads it.
#[derive(Debug, Clone)]
pub struct AppRequest {
    pub method: Method,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// Percent-decoded path segments (empty ones dropped).
    pub segments: Vec<String>,
    /// The query's parameters (the last of a repeated one).
    pub query: HashMap<String, String>,
    /// The query string as sent.
    pub raw_query: Option<String>,
    pub headers: HeaderMap,
    pub authorization: Option<String>,
    /// The body, when it is JSON.
    pub body: Option<Value>,
}

impl AppRequest {
    fn new(parts: &http::request::Parts, seen: &Seen) -> Self {
        Self {
            method: parts.method.clone(),
            path: seen.path.clone(),
            segments: seen
                .path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .collect(),
            query: seen.query.clone(),
            raw_query: parts.uri.query().map(str::to_owned),
            headers: parts.headers.clone(),
            authorization: seen.authorization.clone(),
            body: seen.body.clone(),
        }
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The path segments, borrowed, for matching on a slice.
    pub fn segments(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }

    /// A query parameter parsed as a number, or `default`.
    pub fn number(&self, name: &str, default: usize) -> usize {
        self.query
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

type Handler = Arc<dyn Fn(AppRequest) -> Response<Body> + Send + Sync>;

enum Kind {
    Handler(Handler),
    Example(DemoApp),
}

/// An in-test app, configured, not yet serving.
pub struct App {
    kind: Kind,
    recorder: Recorder,
}

impl App {
    /// An app whose every answer `handler` gives.
    pub fn handler(handler: impl Fn(AppRequest) -> Response<Body> + Send + Sync + 'static) -> Self {
        Self {
            kind: Kind::Handler(Arc::new(handler)),
            recorder: Recorder::default(),
        }
    }

    /// The bundled example app, seeded, taking `api_key`.
    pub fn example(api_key: &str) -> Self {
        let app = DemoApp::new(api_key);
        app.seed();
        Self {
            kind: Kind::Example(app),
            recorder: Recorder::default(),
        }
    }

    /// Keeps every request a handler app receives in `recorder`.
    pub fn recorded(mut self, recorder: &Recorder) -> Self {
        self.recorder = recorder.clone();
        self
    }

    /// Serves the app on 127.0.0.1 port 0 until the test's runtime ends;
    /// its address.
    pub async fn serve(self) -> SocketAddr {
        match self.kind {
            Kind::Handler(handler) => serve_handler(handler, self.recorder).await,
            Kind::Example(app) => serve_example(app).await,
        }
    }

    /// Serves the bundled example app; the app and its address.
    pub async fn serve_example(self) -> (DemoApp, SocketAddr) {
        let app = match &self.kind {
            Kind::Example(app) => app.clone(),
            Kind::Handler(_) => panic!("not the example app"),
        };
        (app, self.serve().await)
    }

    /// Serves the example app behind the fault proxy, which the sidecar
    /// is to call (`proxy.addr`) and which records what reaches it.
    pub async fn serve_behind_faults(self) -> (DemoApp, FaultProxy) {
        let (app, addr) = self.serve_example().await;
        (app, FaultProxy::start(addr).await)
    }
}

async fn serve_handler(handler: Handler, recorder: Recorder) -> SocketAddr {
    super::upstream(move |req: Request<Incoming>| {
        let (handler, recorder) = (handler.clone(), recorder.clone());
        async move {
            let (parts, body) = req.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            let mut seen = Seen::new(&parts, &bytes);
            let resp = handler(AppRequest::new(&parts, &seen));
            seen.status = Some(resp.status().as_u16());
            recorder.record(seen);
            resp
        }
    })
    .await
}

async fn serve_example(app: DemoApp) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind app");
    let addr = listener.local_addr().expect("app addr");
    tokio::spawn(app.serve(listener, std::future::pending()));
    addr
}

/// A JSON answer (`application/json`).
pub fn json(status: u16, v: &Value) -> Response<Body> {
    json_as(status, "application/json", v)
}

/// A JSON answer with the media type an app framework writes.
pub fn json_as(status: u16, content_type: &str, v: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .header("content-type", content_type)
        .body(super::body(v.to_string()))
        .expect("response")
}

/// An answer without a body (`204 No Content`, say).
pub fn empty(status: u16) -> Response<Body> {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("status"))
        .body(super::body(Bytes::new()))
        .expect("response")
}
