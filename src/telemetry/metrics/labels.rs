//! The label sets of the sidecar's metric families: what each family's
//! series are keyed by (connection ids from the config, operations and
//! resources from fixed lists, HTTP statuses), and the public kinds other
//! modules report with ([`ScimLabels`], [`Limit`], [`DropReason`]). No
//! label holds a token, a user id or an attribute value.

use prometheus_client::encoding::EncodeLabelSet;

/// Labels of an answered SCIM request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScimLabels<'a> {
    /// The authenticated connection id, `none` before authentication.
    pub connection: &'a str,
    /// `Users`, `Groups`, `ServiceProviderConfig`, … or `unknown`.
    pub resource: &'static str,
    /// `list`, `search`, `get`, `create`, `replace`, `patch`, `delete`,
    /// `discovery` or `other`.
    pub operation: &'static str,
    /// The response status.
    pub status: u16,
}

/// [`ScimLabels`] as the `scim_requests` family keys its series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ScimRequestLabels {
    pub(super) connection: String,
    pub(super) resource: &'static str,
    pub(super) operation: &'static str,
    pub(super) status: u16,
}

impl ScimRequestLabels {
    pub(super) fn of(l: ScimLabels<'_>) -> Self {
        Self {
            connection: l.connection.to_owned(),
            resource: l.resource,
            operation: l.operation,
            status: l.status,
        }
    }

    pub(super) fn is(&self, l: &ScimLabels<'_>) -> bool {
        self.status == l.status
            && self.operation == l.operation
            && self.resource == l.resource
            && self.connection == l.connection
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ScimOpLabels {
    pub(super) connection: String,
    pub(super) resource: &'static str,
    pub(super) operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct AppCallLabels {
    pub(super) operation: &'static str,
    pub(super) status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct OperationLabel {
    pub(super) operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct StatusLabel {
    pub(super) status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct DirectionLabel {
    pub(super) direction: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ReasonLabel {
    pub(super) reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct TokenLabels {
    pub(super) connection: String,
    pub(super) token: u32,
    /// How the token was presented: `bearer` or `bare`.
    pub(super) scheme: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct RouteLabel {
    pub(super) route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct LimitLabels {
    pub(super) limit: &'static str,
    pub(super) connection: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ResultLabel {
    pub(super) result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct AuditLabels {
    pub(super) event: &'static str,
    pub(super) result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct WebhookLabels {
    pub(super) webhook: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct WebhookResultLabels {
    pub(super) webhook: String,
    pub(super) result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct WebhookDropLabels {
    pub(super) webhook: String,
    pub(super) reason: &'static str,
}

/// Which limit rejected a request (reported by the rate limiter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A connection's SCIM request rate.
    Connection,
    /// Failed authentications from one client address.
    FailedAuth,
    /// The sidecar's own calls on the app (rate or concurrency).
    AppCalls,
}

impl Limit {
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::Connection => "connection",
            Self::FailedAuth => "failed_auth",
            Self::AppCalls => "app_calls",
        }
    }
}

/// Why a webhook event was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The receiver's queue was full.
    QueueFull,
    /// Every attempt failed.
    RetriesExhausted,
    /// The receiver refused it for good (a 4xx other than 408/429).
    Rejected,
    /// The sidecar stopped before it could be delivered.
    Shutdown,
}

impl DropReason {
    /// The label and log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::RetriesExhausted => "retries_exhausted",
            Self::Rejected => "rejected",
            Self::Shutdown => "shutdown",
        }
    }
}
