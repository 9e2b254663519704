//! Telemetry: everything an operator observes of a running sidecar.
//! [`logs`] installs the log output (JSON or text, colour only on a
//! terminal); [`request`] is the per-request context (request id, app-call
//! count, connection) that logs and app calls read; [`metrics`] is the
//! Prometheus registry served on the admin port; [`event`] is the typed
//! provisioning event, which [`audit`] records on its own log target and
//! hands to [`webhook`] for signed delivery. Nothing logged, counted or
//! delivered contains tokens, Authorization headers, SCIM bodies or
//! attribute values.
//!
//! [`Telemetry`] holds the long-lived parts (registry, audit sink, webhook
//! queues). It is built once per process and outlives config reloads.

pub mod audit;
pub mod event;
pub mod logs;
pub mod metrics;
pub mod request;
pub mod webhook;

pub use audit::Audit;
pub use event::{EventKind, ProvisioningEvent};
pub use logs::{LogFormat, init};
pub use metrics::Metrics;

use crate::config::Config;
use http::StatusCode;
use rustls::crypto::CryptoProvider;
use std::sync::Arc;
use std::time::Duration;

/// The long-lived telemetry parts of a running sidecar.
#[derive(Clone)]
pub struct Telemetry {
    /// The metrics registry and its families.
    pub metrics: Arc<Metrics>,
    /// The audit sink (log target + webhooks).
    pub audit: Arc<Audit>,
}

impl Telemetry {
    /// Builds the registry, the audit sink and the webhook queues for
    /// `config`'s `[[webhooks]]` (TLS to receivers through `crypto`).
    /// Delivery starts with [`webhook::Webhooks::start`].
    pub fn new(config: &Config, crypto: Arc<CryptoProvider>) -> Self {
        Self::with_metrics(config, Metrics::new(), crypto)
    }

    /// Like [`Telemetry::new`], around a registry built by the caller.
    pub fn with_metrics(config: &Config, metrics: Metrics, crypto: Arc<CryptoProvider>) -> Self {
        let metrics = Arc::new(metrics);
        metrics.describe_config(config);
        let webhooks = webhook::Webhooks::new(&config.webhooks, metrics.clone(), crypto);
        let audit = Arc::new(Audit::new(metrics.clone(), webhooks));
        Self { metrics, audit }
    }
}

/// Records one call on the app made for SCIM work: the metrics and the
/// current request's app-call count. `result` is the app's status, or the
/// status the sidecar answers for an exchange that failed (504 for a
/// timeout, 502 when the app could not be reached or read, 429 when the
/// app-call gate did not let it start).
pub fn record_app_call(
    metrics: &Metrics,
    operation: &'static str,
    result: Result<StatusCode, StatusCode>,
    elapsed: Duration,
) {
    request::count_app_call();
    metrics.app_call(operation, result, elapsed);
}
