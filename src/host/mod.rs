//! Calls on the app's own API for SCIM work: renders a mapping operation,
//! adds the host credentials, sends it through the pooled client within the
//! request's deadline, reads the answer with a size bound and classifies
//! the app's answer: success, a stale precondition ([`CallError::Conflict`]),
//! push-back ([`CallError::Busy`] for 429/503, retried here when the call is
//! safe to repeat, honouring `Retry-After`), or a SCIM error (the mapping's
//! rules first, then defaults: 404 → 404, 409 to a write of values → 409
//! uniqueness, 400/422 → 400 invalidValue, other errors, HTML pages and
//! garbage → 502, timeouts → 504). App
//! bodies are never copied into SCIM error details: they may hold personal
//! data. [`exec`] runs write plans on top of these calls, [`paging`] reads
//! lists and [`record`] one record by id; `errors` turns a failed call into
//! the SCIM error answered.

mod errors;
pub mod exec;
pub mod paging;
pub mod ready;
pub mod record;
mod retry;

pub use errors::{CallError, bad_answer, upstream_error};
use errors::{bad_link, default_error, is_html};

use crate::body::{empty, full};
use crate::client::HttpClient;
use crate::config::{Config, Connection};
use crate::coordination::AppGate;
use crate::error::ScimError;
use crate::mapping::{ErrorOutcome, HostRequest, OpKind, Operation, ResourceMapping, Vars};
use crate::plan::Repeat;
use crate::telemetry::metrics::{Limit, Metrics};
use crate::telemetry::record_app_call;
use crate::telemetry::request::{X_REQUEST_ID, current_header};
use crate::upstream::{UpstreamError, send};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// The app as the sidecar calls it: what every call goes through.
#[derive(Clone, Copy)]
pub struct App<'a> {
    /// The pooled client (it outlives reloads, and so does its pool).
    pub client: &'a HttpClient,
    /// The config in force: `[host]` and the SCIM request deadline.
    pub config: &'a Config,
    /// The gate in front of the app (`[host] max_in_flight`, `rate_limit`).
    pub gate: &'a AppGate,
    /// The metrics each call counts in.
    pub metrics: &'a Metrics,
}

/// Everything needed to call the app for one SCIM request.
pub struct HostCtx<'a> {
    /// The app.
    pub app: App<'a>,
    /// The resource mapping.
    pub mapping: &'a ResourceMapping,
    /// The authenticated connection (for `{conn.*}`).
    pub conn: &'a Connection,
    /// The SCIM request's overall deadline.
    pub deadline: Instant,
    /// Where each call made is noted, `METHOD URL → status` (`explain`).
    pub calls: Option<&'a CallLog>,
}

/// The calls one request made, for `explain` to show.
pub type CallLog = std::sync::Mutex<Vec<String>>;

/// A successful (or "already done") answer from the app.
#[derive(Debug)]
pub struct HostReply {
    /// The app's status.
    pub status: StatusCode,
    /// The parsed JSON body; `None` when empty or not JSON.
    pub body: Option<Value>,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The answer's headers (a list's `Link` or total, when the mapping
    /// reads them there).
    pub headers: http::HeaderMap,
}

/// A call as it would be sent (see [`HostCtx::preview`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// HTTP method.
    pub method: http::Method,
    /// Full URL on the app.
    pub url: String,
    /// The operation's own headers, `name: value`.
    pub headers: Vec<String>,
    /// The body, wrapped as the operation says.
    pub body: Option<Value>,
}

/// An app answer's JSON, or `None` when it is not JSON: validated as
/// UTF-8 once as a whole (runs of ASCII go fast), then parsed without
/// validating each string again. The same bodies parse as with
/// `serde_json::from_slice`: JSON outside its strings is ASCII (RFC 8259
/// §2), and text exchanged between systems is UTF-8 (§8.1).
fn json_body(bytes: &[u8]) -> Option<Value> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| serde_json::from_str(text).ok())
}

/// The names of a URL's query parameters, comma-separated, as sent.
fn query_names(uri: &Uri) -> String {
    uri.query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|p| p.split('=').next().filter(|n| !n.is_empty()))
        .collect::<Vec<_>>()
        .join(",")
}

impl<'a> HostCtx<'a> {
    /// The same request's calls through another resource type's mapping
    /// (a group's members are users).
    pub fn with_mapping(&self, mapping: &'a ResourceMapping) -> Self {
        HostCtx { mapping, ..*self }
    }

    /// Vars with the connection filled in.
    pub fn vars(&self) -> Vars<'_> {
        Vars {
            conn: Some(&self.conn.vars),
            ..Vars::default()
        }
    }

    /// A read (`list`, `get`): retried while the app pushes back and the
    /// deadline allows; every failure is a SCIM error.
    pub async fn read(&self, kind: OpKind, vars: &Vars<'_>) -> Result<HostReply, ScimError> {
        Ok(self.call(kind, vars, None, Repeat::Safe).await?)
    }

    /// Runs operation `kind`; retried on 429/503 when `repeat` is safe.
    pub async fn call(
        &self,
        kind: OpKind,
        vars: &Vars<'_>,
        body: Option<Value>,
        repeat: Repeat,
    ) -> Result<HostReply, CallError> {
        let op = self.mapping.op(kind).ok_or_else(|| {
            ScimError::internal(format!("the mapping has no `{}` operation", kind.key()))
        })?;
        self.call_with(kind, op, vars, body, repeat).await
    }

    /// Runs the `before` call of operation `kind` (unlock before activate).
    pub async fn call_before(
        &self,
        kind: OpKind,
        vars: &Vars<'_>,
        repeat: Repeat,
    ) -> Result<HostReply, CallError> {
        let op = self
            .mapping
            .op(kind)
            .and_then(|o| o.before())
            .ok_or_else(|| {
                ScimError::internal(format!("the mapping has no `{}.before` call", kind.key()))
            })?;
        self.call_with(kind, op, vars, None, repeat).await
    }

    async fn call_with(
        &self,
        kind: OpKind,
        op: &Operation,
        vars: &Vars<'_>,
        body: Option<Value>,
        repeat: Repeat,
    ) -> Result<HostReply, CallError> {
        let req = op.render(vars, body).map_err(ScimError::from)?;
        let uri = self.app_uri(&req.path_and_query)?;
        // Boxed: the exchange holds the app connection's futures, and every
        // caller up to the SCIM handler would otherwise carry (and move)
        // their full size in its own state.
        self.with_retries(repeat, || Box::pin(self.exchange(kind, op, &req, &uri)))
            .await
    }

    /// Runs a compiled operation that is not one of the mapping's own
    /// (a search rule's get-by-key lookup), as a read with `Get`'s error
    /// rules.
    pub async fn call_op(&self, op: &Operation, vars: &Vars<'_>) -> Result<HostReply, ScimError> {
        let req = op.render(vars, None)?;
        let uri = self.app_uri(&req.path_and_query)?;
        let reply = self
            .with_retries(Repeat::Safe, || {
                Box::pin(self.exchange(OpKind::Get, op, &req, &uri))
            })
            .await?;
        Ok(reply)
    }

    /// Follows a next-page link from a list answer (cursor paging whose
    /// `next` is a URL or an absolute path, as Django REST framework and
    /// many others return). The link must point at the app's own origin:
    /// the host credentials are never sent anywhere else.
    pub async fn follow(
        &self,
        kind: OpKind,
        link: &str,
        vars: &Vars<'_>,
    ) -> Result<HostReply, ScimError> {
        let host = &self.app.config.host;
        let target: Uri = link
            .parse()
            .map_err(|_| bad_link("the app's next-page link is not a valid URL"))?;
        if let Some(authority) = target.authority() {
            let same = target.scheme() == Some(&host.scheme) && authority == &host.authority;
            if !same {
                return Err(bad_link(
                    "the app's next-page link points at another origin; it is not followed",
                ));
            }
        }
        let path = target.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let uri: Uri = format!("{}://{}{path}", host.scheme, host.authority)
            .parse()
            .map_err(|_| bad_link("the app's next-page link is not a valid URL"))?;
        let op = self
            .mapping
            .op(kind)
            .ok_or_else(|| ScimError::internal("the mapping has no list operation"))?;
        let req = op.render(vars, None)?;
        let reply = self
            .with_retries(Repeat::Safe, || {
                Box::pin(self.exchange(kind, op, &req, &uri))
            })
            .await?;
        Ok(reply)
    }

    /// The request a call would send, without sending it: method, URL,
    /// the operation's own headers (the `[host]` credentials are not
    /// shown) and body.
    pub fn preview(
        &self,
        kind: OpKind,
        vars: &Vars<'_>,
        body: Option<Value>,
    ) -> Result<Preview, ScimError> {
        let op = self.mapping.op(kind).ok_or_else(|| {
            ScimError::internal(format!("the mapping has no `{}` operation", kind.key()))
        })?;
        let req = op.render(vars, body)?;
        let url = self.app_uri(&req.path_and_query)?.to_string();
        let headers = req
            .headers
            .iter()
            .map(|(k, v)| format!("{k}: {}", v.to_str().unwrap_or("(binary)")))
            .chain(req.content_type.map(|t| format!("content-type: {t}")))
            .collect();
        Ok(Preview {
            method: req.method,
            url,
            headers,
            body: req.body,
        })
    }

    /// The app URL of a rendered path, below the host base path.
    fn app_uri(&self, path_and_query: &str) -> Result<Uri, ScimError> {
        let host = &self.app.config.host;
        format!(
            "{}://{}{}{path_and_query}",
            host.scheme, host.authority, host.base_path
        )
        .parse()
        .map_err(|_| ScimError::internal("a rendered app URL is invalid"))
    }

    /// Sends a rendered request to `uri` once and classifies the answer.
    async fn exchange(
        &self,
        kind: OpKind,
        op: &Operation,
        req: &HostRequest,
        uri: &Uri,
    ) -> Result<HostReply, CallError> {
        let method = req.method.clone();
        let started = Instant::now();
        let sent = self.send(req, uri).await;
        let result = sent.as_ref().map(|(r, _)| r.status).map_err(|e| e.status);
        if let Some(log) = self.calls
            && let Ok(mut log) = log.lock()
        {
            let answer = match &sent {
                Ok((r, _)) => r.status.as_u16().to_string(),
                Err(e) => format!("failed ({})", e.status.as_u16()),
            };
            log.push(format!("{method} {uri} → {answer}"));
        }
        record_app_call(self.app.metrics, kind.key(), result, started.elapsed());
        let (reply, retry_after) = sent?;
        let status = reply.status;
        // Debug log of each app call: what was called and how it answered,
        // with the app's error code as the mapping's error rules read it.
        // The path is the configured template: rendered paths and queries
        // may hold logins or emails, and bodies are never logged. The names
        // of the query parameters sent show a push-down without its value.
        tracing::debug!(
            op = kind.key(),
            %method,
            path = %op.path_source(),
            query_params = %query_names(uri),
            status = status.as_u16(),
            app_error = self.mapping.error_code(op.error_rules(), status.as_u16(), reply.body.as_ref()).as_deref(),
            duration_ms = started.elapsed().as_millis() as u64,
            "app call"
        );
        if reply.status.is_success() {
            return Ok(reply);
        }
        match self
            .mapping
            .translate_with(op.error_rules(), status.as_u16(), reply.body.as_ref())
        {
            ErrorOutcome::Success => Ok(reply),
            ErrorOutcome::Conflict => Err(CallError::Conflict),
            ErrorOutcome::Scim {
                status,
                scim_type,
                detail,
            } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                Err(ScimError::client(status, scim_type, detail).into())
            }
            ErrorOutcome::Default => {
                let versioned = self.mapping.op(kind).is_some_and(|o| o.uses_version());
                match status {
                    StatusCode::PRECONDITION_FAILED if versioned => Err(CallError::Conflict),
                    StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                        Err(CallError::Busy {
                            status,
                            retry_after,
                        })
                    }
                    _ => Err(default_error(kind, status).into()),
                }
            }
        }
    }

    /// Sends once; borrows the rendered request, so a retry sends it again
    /// without copying it.
    async fn send(
        &self,
        req: &HostRequest,
        uri: &Uri,
    ) -> Result<(HostReply, Option<Duration>), ScimError> {
        let host = &self.app.config.host;
        let body = match &req.body {
            Some(v) => full(
                serde_json::to_vec(v).map_err(|_| ScimError::internal("cannot encode app body"))?,
            ),
            None => empty(),
        };
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(uri.clone());
        if let Some(h) = builder.headers_mut() {
            h.extend(host.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
            h.extend(current_header().map(|v| (X_REQUEST_ID, v)));
            for (k, v) in &req.headers {
                h.insert(k.clone(), v.clone());
            }
            h.insert(ACCEPT, HeaderValue::from_static("application/json"));
            if req.body.is_some() {
                let media = req.content_type.unwrap_or("application/json");
                h.insert(CONTENT_TYPE, HeaderValue::from_static(media));
            }
        }
        let request = builder
            .body(body)
            .map_err(|_| ScimError::internal("cannot build app request"))?;
        let _slot = self.app.gate.acquire(self.deadline).await.map_err(|e| {
            tracing::warn!(reason = %e, "app call not started");
            self.app
                .metrics
                .rate_limited(Limit::AppCalls, &self.conn.id);
            ScimError::client(
                StatusCode::TOO_MANY_REQUESTS,
                None,
                "the app is busy with other SCIM work; retry later",
            )
            .with_retry_after(1)
        })?;
        let budget = self.remaining()?.min(host.timeout);
        let max = host.max_response_bytes;
        let exchange = async {
            let resp = send(self.app.client, request, budget).await?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, max)
                .collect()
                .await
                .map_err(
                    |e| match e.downcast_ref::<http_body_util::LengthLimitError>() {
                        Some(_) => UpstreamError::TooLarge(max),
                        None => UpstreamError::Unreachable(format!(
                            "reading the app's answer failed: {e}"
                        )),
                    },
                )?
                .to_bytes();
            Ok::<_, UpstreamError>((parts, bytes))
        };
        let (parts, bytes) = match tokio::time::timeout(budget, exchange).await {
            Err(_) => return Err(upstream_error(&UpstreamError::Timeout(budget))),
            Ok(Err(e)) => return Err(upstream_error(&e)),
            Ok(Ok(x)) => x,
        };
        if parts.status.is_success() && is_html(&parts.headers) {
            // A login, maintenance or portal page in front of the API: the
            // API never saw the call, whatever the status says.
            tracing::warn!(
                status = parts.status.as_u16(),
                "the app answered with an HTML page"
            );
            return Err(ScimError::upstream(
                StatusCode::BAD_GATEWAY,
                "the app answered with an HTML page, not its API (a login or maintenance page?)",
            ));
        }
        let retry_after = retry::retry_after(&parts.headers, RETRY_AFTER);
        let reply = HostReply {
            status: parts.status,
            body: json_body(&bytes),
            location: parts
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            headers: parts.headers,
        };
        Ok((reply, retry_after))
    }

    fn remaining(&self) -> Result<Duration, ScimError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(upstream_error(&UpstreamError::Timeout(
                self.app.config.scim.request_timeout,
            )))
        } else {
            Ok(left)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies of every kind parse exactly as `serde_json::from_slice`
    /// parses them: the same value, or not JSON for both.
    #[test]
    fn app_answers_parse_as_from_slice_would() {
        let bodies: [&[u8]; 14] = [
            br#"{"items":[{"id":1,"login":"ada"}],"total":1}"#,
            "{\"name\":\"Zoë Ñúñez 😀\"}".as_bytes(),
            br#"{"name":"\u00e9\ud83d\ude00"}"#,
            br#"{"bad":"\ud800"}"#,
            b"{\"name\":\"\xff\xfe\"}",
            b"{\"name\":\"caf\xc3\"}",
            b"{\"a\":1}\xff",
            b"\xef\xbb\xbf{\"a\":1}",
            b"",
            b"   ",
            b"null",
            b"[1, 2.5, -3e2, true]",
            b"{\"a\":1} trailing",
            b"<html>login</html>",
        ];
        for body in bodies {
            let oracle: Option<Value> = serde_json::from_slice(body).ok();
            assert_eq!(json_body(body), oracle, "{}", String::from_utf8_lossy(body));
        }
        assert!(json_body(b"{\"name\":\"\xff\"}").is_none());
    }
}
