//! The pass-through access line: one `info` line on the log target
//! [`TARGET`] per request passed to the app, written when its response has
//! been sent to the end or abandoned — method, path (never the query: a
//! query can carry personal data), status, response body bytes, duration,
//! request id and client address, and `error` when the response broke off
//! or the client left before its end. `[log] access` chooses every request
//! (`all`), only failures (`errors`: status 500 and above, or a response
//! that did not reach its end) or none (`off`). Fields are strings and
//! numbers recorded as they are, so the JSON line is written without the
//! formatting machinery; nothing from headers or bodies is logged.

use crate::body::{Body, Watched, Watcher};
use crate::config::AccessLog;
use crate::proxy::headers::IpText;
use crate::telemetry::request::RequestCtx;
use http::uri::PathAndQuery;
use http::{Method, Request};
use http_body_util::BodyExt;
use prometheus_client::metrics::counter::Counter;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// The log target of access lines: filter or route it on its own
/// (`RUST_LOG=info,scim_sidecar::access=off`).
pub const TARGET: &str = "scim_sidecar::access";

/// What the access line of one pass-through request says, gathered at its
/// start.
pub struct Access {
    errors_only: bool,
    method: Method,
    path: Option<PathAndQuery>,
    client: IpAddr,
    ctx: Arc<RequestCtx>,
    started: Instant,
}

impl Access {
    /// The access record of `req` under `mode` (none when `off`).
    pub fn start<B>(
        mode: AccessLog,
        req: &Request<B>,
        client: IpAddr,
        ctx: Arc<RequestCtx>,
        started: Instant,
    ) -> Option<Self> {
        let errors_only = match mode {
            AccessLog::Off => return None,
            AccessLog::All => false,
            AccessLog::Errors => true,
        };
        Some(Self {
            errors_only,
            method: req.method().clone(),
            // A refcount, not a copy of the path.
            path: req.uri().path_and_query().cloned(),
            client,
            ctx,
            started,
        })
    }

    /// Wraps a response body of status `status`: its data bytes are
    /// counted in `bytes` (the pass-through byte counter) and the access
    /// line is written when it is dropped.
    pub fn body(self, status: u16, inner: Body, bytes: Counter) -> Body {
        let sending = Sending {
            counter: bytes,
            sent: 0,
            status,
            ended: false,
            failed: false,
            access: self,
        };
        Watched::new(inner, sending).boxed()
    }

    fn log(&self, status: u16, bytes: u64, error: Option<&'static str>) {
        if self.errors_only && status < 500 && error.is_none() {
            return;
        }
        let duration_ms = (self.started.elapsed().as_secs_f64() * 1e6).round() / 1e3;
        let client = IpText::new(self.client);
        // The message as a field of its own is recorded as a string, not
        // through `fmt::Arguments`.
        tracing::info!(
            target: TARGET,
            message = "pass-through request",
            method = self.method.as_str(),
            path = self.path.as_ref().map_or("/", PathAndQuery::path),
            status,
            bytes,
            duration_ms,
            request_id = self.ctx.id(),
            client = client.as_str(),
            error,
        );
    }
}

/// A pass-through response body on its way to the client: its bytes are
/// counted as they go, and the access line is written when the body is
/// dropped, sent to its end or not.
struct Sending {
    counter: Counter,
    sent: u64,
    status: u16,
    ended: bool,
    failed: bool,
    access: Access,
}

impl Watcher for Sending {
    fn data(&mut self, len: usize) {
        let n = len as u64;
        self.sent += n;
        self.counter.inc_by(n);
    }

    fn error(&mut self) {
        self.failed = true;
    }

    fn end(&mut self) {
        self.ended = true;
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        let error = if self.failed {
            Some("the app's response body broke off")
        } else if self.ended {
            None
        } else {
            Some("the client left before the response ended")
        };
        self.access.log(self.status, self.sent, error);
    }
}
