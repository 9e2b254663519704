//! Prometheus metrics in one explicit registry (prometheus-client; no
//! global recorder), served on the admin port's `/metrics` as Prometheus
//! text 0.0.4 or OpenMetrics, as the scraper asks ([`format`]). Every
//! sidecar name starts with `scim_sidecar_`; the SCIM-side ones continue
//! with `scim_`; the standard `process_*` series come from [`process`].
//! Every family is described from the start, its config-known series at 0
//! ([`known`]). Labels are bounded: connection ids come from the config,
//! operations and resources from fixed lists, statuses are HTTP codes. No
//! label ever holds a token, a user id or an attribute value.
//!
//! Features built elsewhere report through the methods here:
//! [`Metrics::rate_limited`] for rate-limit rejections and
//! [`Metrics::config_reload`] for config reloads.

mod format;
mod hot;
mod known;
mod labels;
mod process;

pub use format::{Format, PROMETHEUS_CONTENT_TYPE};
pub use labels::{DropReason, Limit, ScimLabels};

use labels::{
    AppCallLabels, AuditLabels, DirectionLabel, LimitLabels, OperationLabel, ReasonLabel,
    ResultLabel, RouteLabel, ScimOpLabels, ScimRequestLabels, StatusLabel, TokenLabels,
    WebhookDropLabels, WebhookLabels, WebhookResultLabels,
};

use crate::body::{Body, Watched, Watcher};
use bytes::Bytes;
use hot::Resolved;
use http::StatusCode;
use http_body_util::BodyExt;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// Why authentication failed, as `scim_auth_failures` labels it.
pub const AUTH_FAILURE_REASONS: [&str; 3] = ["missing", "malformed", "invalid"];

/// How a valid token was presented, as `scim_token_uses` labels it.
pub const TOKEN_SCHEMES: [&str; 2] = ["bearer", "bare"];

/// The media type of [`Metrics::encode`]'s output (OpenMetrics).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// An app call's operation and result, as [`Metrics::app_call`] gets them.
type AppCallKey = (&'static str, Result<StatusCode, StatusCode>);

fn latency_histogram() -> Histogram {
    // 1 ms … ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The registry and every metric family of the sidecar.
pub struct Metrics {
    registry: Registry,
    scim_requests: Family<ScimRequestLabels, Counter>,
    scim_duration: HistogramFamily<ScimOpLabels>,
    scim_auth_failures: Family<ReasonLabel, Counter>,
    scim_token_uses: Family<TokenLabels, Counter>,
    scim_rate_limited: Family<LimitLabels, Counter>,
    app_calls: Family<AppCallLabels, Counter>,
    app_duration: HistogramFamily<OperationLabel>,
    pass_requests: Family<StatusLabel, Counter>,
    pass_duration: Histogram,
    pass_bytes: Family<DirectionLabel, Counter>,
    in_flight: Family<RouteLabel, Gauge>,
    /// The members of `pass_bytes` and `in_flight` every request touches,
    /// resolved once instead of looked up (a hash and a lock) per request.
    hot: HotSeries,
    /// The `scim_requests` and `scim_request_duration` series of a
    /// request's labels.
    scim_hot: Resolved<ScimRequestLabels, (Counter, Histogram)>,
    /// The `scim_token_uses` series of a connection, token and scheme.
    token_hot: Resolved<TokenLabels, Counter>,
    /// The `scim_app_calls` and `scim_app_call_duration` series of an
    /// operation and its result.
    app_hot: Resolved<AppCallKey, (Counter, Histogram)>,
    config_reloads: Family<ResultLabel, Counter>,
    audit_events: Family<AuditLabels, Counter>,
    webhook_deliveries: Family<WebhookResultLabels, Counter>,
    webhook_dropped: Family<WebhookDropLabels, Counter>,
    webhook_queue: Family<WebhookLabels, Gauge>,
    coordination_degraded: Family<WhatLabel, Counter>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WhatLabel {
    what: &'static str,
}

/// Series every request updates, held directly (clones share the value
/// with the family's own member).
#[derive(Debug)]
struct HotSeries {
    bytes_request: Counter,
    bytes_response: Counter,
    in_flight_scim: Gauge,
    in_flight_pass: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family registered.
    pub fn new() -> Self {
        Self::with_log_drops(Counter::default())
    }

    /// Like [`Metrics::new`], exposing `log_drops` — the count of log
    /// lines the log writer dropped (see [`super::logs::buffer`]), which exists
    /// before the registry does — as `log_lines_dropped`.
    pub fn with_log_drops(log_drops: Counter) -> Self {
        let mut root = Registry::default();
        root.register_collector(Box::new(process::ProcessCollector::new()));
        let r = root.sub_registry_with_prefix("scim_sidecar");
        let pass_bytes: Family<DirectionLabel, Counter> = Family::default();
        let in_flight: Family<RouteLabel, Gauge> = Family::default();
        // One statement each: the family's guard lives to the end of its
        // statement, and a second `get_or_create` under it would deadlock.
        let bytes_request = pass_bytes
            .get_or_create(&DirectionLabel {
                direction: "request",
            })
            .clone();
        let bytes_response = pass_bytes
            .get_or_create(&DirectionLabel {
                direction: "response",
            })
            .clone();
        let in_flight_scim = in_flight
            .get_or_create(&RouteLabel { route: "scim" })
            .clone();
        let in_flight_pass = in_flight
            .get_or_create(&RouteLabel { route: "pass" })
            .clone();
        let hot = HotSeries {
            bytes_request,
            bytes_response,
            in_flight_scim,
            in_flight_pass,
        };
        let m = Self {
            registry: Registry::default(),
            scim_requests: Family::default(),
            scim_duration: Family::new_with_constructor(latency_histogram),
            scim_auth_failures: Family::default(),
            scim_token_uses: Family::default(),
            scim_rate_limited: Family::default(),
            app_calls: Family::default(),
            app_duration: Family::new_with_constructor(latency_histogram),
            pass_requests: Family::default(),
            pass_duration: latency_histogram(),
            pass_bytes,
            in_flight,
            hot,
            scim_hot: Resolved::default(),
            token_hot: Resolved::default(),
            app_hot: Resolved::default(),
            config_reloads: Family::default(),
            audit_events: Family::default(),
            webhook_deliveries: Family::default(),
            webhook_dropped: Family::default(),
            webhook_queue: Family::default(),
            coordination_degraded: Family::default(),
        };
        r.register(
            "build",
            "Version of the running sidecar",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        r.register(
            "scim_requests",
            "SCIM requests answered, by connection, resource, operation and status",
            known::Described(m.scim_requests.clone()),
        );
        r.register_with_unit(
            "scim_request_duration",
            "Time to answer a SCIM request",
            Unit::Seconds,
            known::Described(m.scim_duration.clone()),
        );
        r.register(
            "scim_auth_failures",
            "SCIM requests refused for a missing, malformed or unknown bearer token",
            known::Described(m.scim_auth_failures.clone()),
        );
        r.register(
            "scim_token_uses",
            "Authenticated SCIM requests by connection, token index (the position \
             of the token's hash in the connection's list, never the token) and scheme \
             (bearer, or bare: the token without a scheme): during a rotation, the old \
             index going quiet says the IdP moved to the new token",
            known::Described(m.scim_token_uses.clone()),
        );
        r.register(
            "scim_rate_limited",
            "Requests rejected by a rate limit, by limit and connection",
            known::Described(m.scim_rate_limited.clone()),
        );
        r.register(
            "scim_app_calls",
            "Calls made on the app for SCIM work, by mapping operation and app status \
             (timeout / unreachable when there was no answer)",
            known::Described(m.app_calls.clone()),
        );
        r.register_with_unit(
            "scim_app_call_duration",
            "Time of one call on the app for SCIM work",
            Unit::Seconds,
            known::Described(m.app_duration.clone()),
        );
        r.register(
            "passthrough_requests",
            "Requests passed through to the app, by response status",
            known::Described(m.pass_requests.clone()),
        );
        r.register_with_unit(
            "passthrough_response_duration",
            "Time until the app's response head on pass-through",
            Unit::Seconds,
            m.pass_duration.clone(),
        );
        r.register_with_unit(
            "passthrough",
            "Body bytes streamed through, by direction (request: client to app)",
            Unit::Bytes,
            known::Described(m.pass_bytes.clone()),
        );
        r.register(
            "in_flight_requests",
            "Requests being handled, by route (scim or pass)",
            known::Described(m.in_flight.clone()),
        );
        r.register(
            "config_reloads",
            "Config reloads, by result (ok or rejected)",
            known::Described(m.config_reloads.clone()),
        );
        r.register(
            "audit_events",
            "Provisioning events recorded, by type and result",
            known::Described(m.audit_events.clone()),
        );
        r.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by webhook and result (delivered or failed)",
            known::Described(m.webhook_deliveries.clone()),
        );
        r.register(
            "webhook_events_dropped",
            "Webhook events given up, by webhook and reason",
            known::Described(m.webhook_dropped.clone()),
        );
        r.register(
            "webhook_queue_length",
            "Webhook events waiting for delivery, by webhook",
            known::Described(m.webhook_queue.clone()),
        );
        r.register(
            "coordination_degraded",
            "Writes (what=lock) and limit checks (what=limit) done in this replica \
             alone because the shared coordination store was unavailable",
            known::Described(m.coordination_degraded.clone()),
        );
        r.register(
            "log_lines_dropped",
            "Log lines dropped because stderr could not take them (a log pipe \
             nobody reads, a full disk); requests never wait for logging",
            log_drops,
        );
        let m = Self {
            registry: root,
            ..m
        };
        m.describe_fixed();
        m
    }

    /// One answered SCIM request.
    pub fn scim_request(&self, labels: ScimLabels<'_>, elapsed: Duration) {
        self.scim_hot.with(
            |k| k.is(&labels),
            || {
                let key = ScimRequestLabels::of(labels);
                let duration = self
                    .scim_duration
                    .get_or_create(&ScimOpLabels {
                        connection: key.connection.clone(),
                        resource: key.resource,
                        operation: key.operation,
                    })
                    .clone();
                let requests = self.scim_requests.get_or_create(&key).clone();
                (key, (requests, duration))
            },
            |(requests, duration)| {
                duration.observe(elapsed.as_secs_f64());
                requests.inc();
            },
        );
    }

    /// A SCIM request refused by authentication, labelled with why:
    /// `missing`, `malformed` or `invalid` ([`AUTH_FAILURE_REASONS`]).
    pub fn auth_failure(&self, reason: &'static str) {
        self.scim_auth_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// An authenticated SCIM request: its connection, token index and how
    /// the token was presented (`bearer` or `bare`, [`TOKEN_SCHEMES`]).
    pub fn token_used(&self, connection: &str, token: usize, scheme: &'static str) {
        let token = u32::try_from(token).unwrap_or(u32::MAX);
        self.token_hot.with(
            |k| k.token == token && k.scheme == scheme && k.connection == connection,
            || {
                let key = TokenLabels {
                    connection: connection.to_owned(),
                    token,
                    scheme,
                };
                let uses = self.scim_token_uses.get_or_create(&key).clone();
                (key, uses)
            },
            |uses| {
                uses.inc();
            },
        );
    }

    /// A request rejected by a rate limit. `connection` is the connection
    /// id, or empty when the limit is not per connection.
    pub fn rate_limited(&self, limit: Limit, connection: &str) {
        self.scim_rate_limited
            .get_or_create(&LimitLabels {
                limit: limit.label(),
                connection: connection.to_string(),
            })
            .inc();
    }

    /// A config reload: `ok` when the new config was applied, `false` when
    /// it was rejected and the old one kept.
    pub fn config_reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "rejected" };
        self.config_reloads
            .get_or_create(&ResultLabel { result })
            .inc();
    }

    /// One call on the app; see [`super::record_app_call`]. Calls without
    /// an answer are labelled `timeout`, `unreachable` (no connection, or
    /// an answer that could not be read), `not_started` (refused by the
    /// sidecar's own app-call gate) or `error`.
    pub fn app_call(
        &self,
        operation: &'static str,
        result: Result<StatusCode, StatusCode>,
        elapsed: Duration,
    ) {
        self.app_hot.with(
            |&(op, r)| r == result && op == operation,
            || {
                let status = match result {
                    Ok(s) => s.as_str().to_string(),
                    Err(StatusCode::GATEWAY_TIMEOUT) => "timeout".to_string(),
                    Err(StatusCode::BAD_GATEWAY) => "unreachable".to_string(),
                    // The sidecar's own gate in front of the app refused to start it.
                    Err(StatusCode::TOO_MANY_REQUESTS) => "not_started".to_string(),
                    Err(_) => "error".to_string(),
                };
                let calls = self
                    .app_calls
                    .get_or_create(&AppCallLabels { operation, status })
                    .clone();
                let duration = self
                    .app_duration
                    .get_or_create(&OperationLabel { operation })
                    .clone();
                ((operation, result), (calls, duration))
            },
            |(calls, duration)| {
                calls.inc();
                duration.observe(elapsed.as_secs_f64());
            },
        );
    }

    /// One pass-through request whose response head arrived (or failed)
    /// after `elapsed`.
    pub fn passthrough(&self, status: StatusCode, elapsed: Duration) {
        self.pass_requests
            .get_or_create(&StatusLabel {
                status: status.as_u16(),
            })
            .inc();
        self.pass_duration.observe(elapsed.as_secs_f64());
    }

    /// Wraps a pass-through body so that its bytes are counted as they
    /// stream; `request` is the client-to-app direction.
    pub fn count_body<B>(&self, body: B, request: bool) -> Body
    where
        B: hyper::body::Body<Data = Bytes, Error = hyper::Error> + Send + Sync + Unpin + 'static,
    {
        let counter = if request {
            self.hot.bytes_request.clone()
        } else {
            self.hot.bytes_response.clone()
        };
        Watched::new(body, ByteCount(counter)).boxed()
    }

    /// The pass-through response byte counter, for a body that counts
    /// its own bytes (the access log's, which also notes how it ended).
    pub fn passthrough_response_bytes(&self) -> Counter {
        self.hot.bytes_response.clone()
    }

    /// Marks a request in flight on `route` until the guard is dropped
    /// (also when the request is cancelled).
    pub fn in_flight(&self, route: &'static str) -> InFlight {
        let gauge = match route {
            "scim" => self.hot.in_flight_scim.clone(),
            "pass" => self.hot.in_flight_pass.clone(),
            _ => self.in_flight.get_or_create(&RouteLabel { route }).clone(),
        };
        gauge.inc();
        InFlight(gauge)
    }

    /// A recorded provisioning event.
    pub fn audit_event(&self, event: &'static str, result: &'static str) {
        self.audit_events
            .get_or_create(&AuditLabels { event, result })
            .inc();
    }

    /// One webhook delivery attempt.
    pub fn webhook_attempt(&self, webhook: &str, delivered: bool) {
        let result = if delivered { "delivered" } else { "failed" };
        self.webhook_deliveries
            .get_or_create(&WebhookResultLabels {
                webhook: webhook.to_string(),
                result,
            })
            .inc();
    }

    /// One webhook event given up.
    pub fn webhook_dropped(&self, webhook: &str, reason: DropReason) {
        self.webhook_dropped
            .get_or_create(&WebhookDropLabels {
                webhook: webhook.to_string(),
                reason: reason.as_str(),
            })
            .inc();
    }

    /// The counter of writes (`"lock"`) or limit checks (`"limit"`) done
    /// in this replica alone while the shared store was unavailable.
    pub fn coordination_degraded(&self, what: &'static str) -> Counter {
        self.coordination_degraded
            .get_or_create(&WhatLabel { what })
            .clone()
    }

    /// The queue-length gauge of a webhook.
    pub fn webhook_queue(&self, webhook: &str) -> Gauge {
        self.webhook_queue
            .get_or_create(&WebhookLabels {
                webhook: webhook.to_string(),
            })
            .clone()
    }
}

/// Counts the data bytes of a body into a pass-through byte counter.
struct ByteCount(Counter);

impl Watcher for ByteCount {
    fn data(&mut self, len: usize) {
        self.0.inc_by(len as u64);
    }
}

/// Decrements the in-flight gauge when dropped.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_prefix_and_labels() {
        let log_drops = Counter::default();
        let m = Metrics::with_log_drops(log_drops.clone());
        m.scim_request(
            ScimLabels {
                connection: "acme",
                resource: "Users",
                operation: "create",
                status: 201,
            },
            Duration::from_millis(3),
        );
        // A second request with the same labels counts in the same series.
        m.scim_request(
            ScimLabels {
                connection: "acme",
                resource: "Users",
                operation: "create",
                status: 201,
            },
            Duration::from_millis(3),
        );
        m.token_used("acme", 1, "bearer");
        m.token_used("acme", 1, "bearer");
        m.app_call("create", Ok(StatusCode::CREATED), Duration::from_millis(1));
        m.app_call(
            "get",
            Err(StatusCode::GATEWAY_TIMEOUT),
            Duration::from_millis(1),
        );
        m.rate_limited(Limit::Connection, "acme");
        m.config_reload(false);
        log_drops.inc_by(3);
        {
            let _g = m.in_flight("scim");
            assert!(
                m.encode()
                    .contains("scim_sidecar_in_flight_requests{route=\"scim\"} 1")
            );
        }
        let text = m.encode();
        for line in [
            "scim_sidecar_scim_requests_total{connection=\"acme\",resource=\"Users\",operation=\"create\",status=\"201\"} 2",
            "scim_sidecar_scim_request_duration_seconds_count{connection=\"acme\",resource=\"Users\",operation=\"create\"} 2",
            "scim_sidecar_scim_token_uses_total{connection=\"acme\",token=\"1\",scheme=\"bearer\"} 2",
            "scim_sidecar_scim_app_calls_total{operation=\"create\",status=\"201\"} 1",
            "scim_sidecar_scim_app_calls_total{operation=\"get\",status=\"timeout\"} 1",
            "scim_sidecar_scim_rate_limited_total{limit=\"connection\",connection=\"acme\"} 1",
            "scim_sidecar_config_reloads_total{result=\"rejected\"} 1",
            "scim_sidecar_in_flight_requests{route=\"scim\"} 0",
            "scim_sidecar_log_lines_dropped_total 3",
            "scim_sidecar_build_info{version=",
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[tokio::test]
    async fn counted_bodies_count_streamed_bytes() {
        let m = Metrics::new();
        let body = http_body_util::Full::new(Bytes::from_static(b"hello world"))
            .map_err(|never| match never {});
        let counted = m.count_body(body, true);
        let bytes = counted.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], b"hello world");
        assert!(
            m.encode()
                .contains("scim_sidecar_passthrough_bytes_total{direction=\"request\"} 11")
        );
    }
}
