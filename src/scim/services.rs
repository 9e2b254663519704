//! What the SCIM front door works with ([`Services`]): the parts compiled
//! from the config in force — one snapshot for the whole request — and
//! the services every request shares. Whoever assembles the running
//! sidecar hands it over; the front door names nothing above itself.

use super::discovery::Discovery;
use crate::auth::Authenticator;
use crate::client::HttpClient;
use crate::config::Config;
use crate::coordination::{Limits, WriteLocks};
use crate::host::App;
use crate::telemetry::{Audit, Metrics};

/// The front door's view of the running sidecar for one request.
#[derive(Clone, Copy)]
pub struct Services<'a> {
    /// The validated config.
    pub config: &'a Config,
    /// Accepted bearer tokens.
    pub auth: &'a Authenticator,
    /// Rate and concurrency limits.
    pub limits: &'a Limits,
    /// Discovery documents.
    pub discovery: &'a Discovery,
    /// Per-resource write locks.
    pub locks: &'a WriteLocks,
    /// The pooled client to the app.
    pub client: &'a HttpClient,
    /// Prometheus metrics.
    pub metrics: &'a Metrics,
    /// Provisioning audit events and their webhooks.
    pub audit: &'a Audit,
}

impl<'a> Services<'a> {
    /// The app, as calls on it for SCIM work reach it.
    pub fn app(&self) -> App<'a> {
        App {
            client: self.client,
            config: self.config,
            gate: &self.limits.app,
            metrics: self.metrics,
        }
    }
}
