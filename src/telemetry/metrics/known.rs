//! Families present from the first scrape: every registered family shows
//! its `HELP` and `TYPE` before its first event ([`Described`]), and the
//! series whose label values are known from the config start at 0
//! ([`Metrics::describe_config`]), so `rate()`, `increase()` and alerts on
//! them work from the start instead of after the first event.

use super::{
    AUTH_FAILURE_REASONS, DropReason, LimitLabels, Metrics, ReasonLabel, ResultLabel,
    TOKEN_SCHEMES, TokenLabels, WebhookDropLabels, WebhookResultLabels,
};
use crate::config::Config;
use prometheus_client::encoding::{EncodeMetric, MetricEncoder};
use prometheus_client::metrics::MetricType;

/// A family that is described even while it has no series
/// (prometheus-client leaves an empty family out altogether).
#[derive(Debug)]
pub(super) struct Described<M>(pub(super) M);

impl<M: EncodeMetric> EncodeMetric for Described<M> {
    fn encode(&self, encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }
}

impl Metrics {
    /// Creates at 0 the series whose labels are known without the config
    /// (auth failure reasons, reload results, limits that are not per
    /// connection).
    pub(super) fn describe_fixed(&self) {
        for reason in AUTH_FAILURE_REASONS {
            drop(
                self.scim_auth_failures
                    .get_or_create(&ReasonLabel { reason }),
            );
        }
        for result in ["ok", "rejected"] {
            drop(self.config_reloads.get_or_create(&ResultLabel { result }));
        }
        for limit in ["failed_auth", "app_calls"] {
            drop(self.scim_rate_limited.get_or_create(&LimitLabels {
                limit,
                connection: String::new(),
            }));
        }
    }

    /// Creates at 0 the series a config names: each connection's token
    /// indexes (by scheme) and its rate limit, each webhook's results and
    /// drop reasons. Called at start and on each reload; series of what a
    /// reload removed stay at their last value.
    pub fn describe_config(&self, config: &Config) {
        for c in &config.connections {
            for token in 0..c.token_hashes.len() {
                for scheme in TOKEN_SCHEMES {
                    drop(self.scim_token_uses.get_or_create(&TokenLabels {
                        connection: c.id.clone(),
                        token: u32::try_from(token).unwrap_or(u32::MAX),
                        scheme,
                    }));
                }
            }
            if c.rate_limit.is_some() {
                drop(self.scim_rate_limited.get_or_create(&LimitLabels {
                    limit: "connection",
                    connection: c.id.clone(),
                }));
            }
        }
        for w in &config.webhooks {
            for result in ["delivered", "failed"] {
                drop(self.webhook_deliveries.get_or_create(&WebhookResultLabels {
                    webhook: w.name.clone(),
                    result,
                }));
            }
            for reason in [
                DropReason::QueueFull,
                DropReason::RetriesExhausted,
                DropReason::Rejected,
                DropReason::Shutdown,
            ] {
                drop(self.webhook_dropped.get_or_create(&WebhookDropLabels {
                    webhook: w.name.clone(),
                    reason: reason.as_str(),
                }));
            }
        }
    }
}
