//! The state of a running sidecar, in two lifetimes. [`State`] lives as
//! long as the process: the pooled client to the app, the crypto provider,
//! the per-resource write locks, request ids, reload counters, and the
//! telemetry (metrics registry, audit sink, webhook queues), so counters
//! and queued events survive reloads. [`Snapshot`] is everything built
//! from one config — the config itself, the token table, the base paths,
//! the discovery documents and the limiters — compiled off the request
//! path and swapped atomically (arc-swap) on reload. A request loads one
//! snapshot and uses it to the end, so a reload never changes the rules
//! under a request in flight. [`State::services`] is the SCIM front
//! door's view of both.

use crate::auth::Authenticator;
use crate::client::HttpClient;
use crate::config::Config;
use crate::coordination::{Limits, Shared, WriteLocks};
use crate::hex;
use crate::route::BasePaths;
use crate::scim::Services;
use crate::scim::discovery::Discovery;
use crate::telemetry::{Audit, Metrics, Telemetry};
use crate::upstream::build_client;
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// The log target of what applying a config reports (settings that take
/// effect on restart, webhook receivers reconfigured): stable for
/// `RUST_LOG` filters.
const STATE_LOG: &str = "scim_sidecar::state";

/// Everything built from one config.
pub struct Snapshot {
    /// The validated config.
    pub config: Config,
    /// Accepted bearer tokens.
    pub auth: Authenticator,
    /// The SCIM base paths and the connections served on each.
    pub base_paths: BasePaths,
    /// Discovery documents.
    pub discovery: Discovery,
    /// Rate and concurrency limits.
    pub limits: Limits,
}

/// The store the replicas share and the counter of limits counted in this
/// process while it is down.
type SharedLimits = Option<(Arc<Shared>, prometheus_client::metrics::counter::Counter)>;

impl Snapshot {
    /// Compiles a runtime from a validated config, its limits counted in
    /// this process.
    pub fn new(config: Config) -> Self {
        Self::with_shared(config, None)
    }

    /// Compiles a runtime whose limits are counted in `shared` when given.
    fn with_shared(config: Config, shared: SharedLimits) -> Self {
        Self {
            auth: Authenticator::new(config.connections.iter().map(|c| c.token_hashes.as_slice())),
            base_paths: BasePaths::new(
                std::iter::once(config.scim.base_path.as_str())
                    .chain(config.connections.iter().map(|c| c.base_path.as_str())),
            ),
            discovery: Discovery::from_config(&config),
            limits: Limits::with_shared(&config, shared),
            config,
        }
    }
}

/// Counts of configuration reloads, observable by tests and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReloadStats {
    /// Reloads applied.
    pub applied: u64,
    /// Reloads refused because the new config was invalid.
    pub rejected: u64,
    /// New TLS certificates put in service.
    pub certs_applied: u64,
    /// New TLS certificates refused (the old one kept).
    pub certs_rejected: u64,
}

/// The process-lifetime state; handlers receive it as `Arc<State>`.
pub struct State {
    /// Pooled client to the app (survives reloads, and so does its pool).
    pub client: HttpClient,
    /// The rustls crypto provider for every TLS config the sidecar builds.
    pub crypto: Arc<CryptoProvider>,
    /// Per-resource write serialisation; lives as long as the process.
    pub write_locks: WriteLocks,
    /// The store the replicas share (`[coordination] redis`), for the
    /// process's lifetime: a change takes effect on restart.
    shared: SharedLimits,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Provisioning audit events and their webhooks.
    pub audit: Arc<Audit>,
    runtime: ArcSwap<Snapshot>,
    reloads: watch::Sender<ReloadStats>,
    next_request_id: AtomicU64,
}

impl State {
    /// Builds the state from a validated config with the ring provider.
    pub fn new(config: Config) -> Self {
        Self::with_provider(config, Arc::new(rustls::crypto::ring::default_provider()))
    }

    /// Builds the state with a given crypto provider.
    pub fn with_provider(config: Config, crypto: Arc<CryptoProvider>) -> Self {
        Self::with_metrics(config, crypto, Metrics::new())
    }

    /// Builds the state around a metrics registry made by the caller (the
    /// binary's exposes the log writer's dropped-line count).
    pub fn with_metrics(config: Config, crypto: Arc<CryptoProvider>, metrics: Metrics) -> Self {
        let client = build_client(&config.upstream, crypto.clone());
        let telemetry = Telemetry::with_metrics(&config, metrics, crypto.clone());
        let seed = {
            let mut b = [0u8; 8];
            // A random start keeps request ids distinct across restarts; a
            // failing RNG only makes them predictable, which is harmless.
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b) >> 16
        };
        let store = config.coordination.redis.as_ref().and_then(|r| {
            Shared::new(r)
                .map_err(|e| tracing::error!(target: STATE_LOG, error = %e, "coordination store not usable; coordinating in this process only"))
                .ok()
                .map(Arc::new)
        });
        let metrics = telemetry.metrics;
        let write_locks = match &store {
            Some(s) => WriteLocks::shared(65_536, s.clone(), metrics.coordination_degraded("lock")),
            None => WriteLocks::default(),
        };
        let shared = store.map(|s| (s, metrics.coordination_degraded("limit")));
        Self {
            client,
            crypto,
            write_locks,
            runtime: ArcSwap::from_pointee(Snapshot::with_shared(config, shared.clone())),
            shared,
            metrics,
            audit: telemetry.audit,
            reloads: watch::Sender::new(ReloadStats::default()),
            next_request_id: AtomicU64::new(seed),
        }
    }

    /// The current runtime: load it once per request.
    pub fn runtime(&self) -> Arc<Snapshot> {
        self.runtime.load_full()
    }

    /// What the SCIM front door works with, from `rt` (the runtime this
    /// request loaded) and the process's shared services.
    pub fn services<'a>(&'a self, rt: &'a Snapshot) -> Services<'a> {
        Services {
            config: &rt.config,
            auth: &rt.auth,
            limits: &rt.limits,
            discovery: &rt.discovery,
            locks: &self.write_locks,
            client: &self.client,
            metrics: &self.metrics,
            audit: &self.audit,
        }
    }

    /// Swaps in a runtime compiled from `config` and puts its webhook
    /// receivers in force. Settings read only at start-up (listeners, TLS
    /// files, the app client's TLS and pool) are reported when they
    /// differ: they take effect on restart.
    pub fn apply(&self, config: Config) {
        let old = self.runtime();
        for what in restart_only_changes(&old.config, &config) {
            tracing::warn!(target: STATE_LOG, setting = what, "changed setting takes effect on restart");
        }
        if old.config.webhooks != config.webhooks {
            self.audit.webhooks().reconfigure(&config.webhooks);
            tracing::info!(target: STATE_LOG, receivers = config.webhooks.len(), "webhooks reconfigured");
        }
        self.metrics.describe_config(&config);
        let runtime = Snapshot::with_shared(config, self.shared.clone());
        self.runtime.store(Arc::new(runtime));
        self.reloads.send_modify(|s| s.applied += 1);
        self.metrics.config_reload(true);
    }

    /// Records a refused reload.
    pub fn reject_reload(&self) {
        self.reloads.send_modify(|s| s.rejected += 1);
        self.metrics.config_reload(false);
    }

    /// Records the outcome of a certificate reload.
    pub fn record_cert_reload(&self, applied: bool) {
        self.reloads.send_modify(|s| {
            if applied {
                s.certs_applied += 1;
            } else {
                s.certs_rejected += 1;
            }
        });
    }

    /// Watches the reload counters.
    pub fn reloads(&self) -> watch::Receiver<ReloadStats> {
        self.reloads.subscribe()
    }

    /// A fresh request id for logs and the `X-Request-Id` header.
    pub fn request_id(&self) -> String {
        let n = self.next_request_id.fetch_add(1, Ordering::Relaxed);
        hex_id(n)
    }
}

/// `n` as at least 12 lowercase hex digits (`format!("{n:012x}")`, without
/// the formatting machinery on every request).
fn hex_id(n: u64) -> String {
    let mut id = hex::encode(&n.to_be_bytes());
    let keep = id.trim_start_matches('0').len().max(12);
    id.drain(..id.len() - keep);
    id
}

/// Settings a reload cannot change in a running process.
fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    let (o, n) = (&old.server, &new.server);
    let (ou, nu) = (&old.upstream, &new.upstream);
    [
        ("server.listen", o.listen != n.listen),
        ("server.admin_listen", o.admin_listen != n.admin_listen),
        ("server.tls", o.tls != n.tls),
        (
            "server.max_connections",
            o.max_connections != n.max_connections,
        ),
        (
            "server.admin_max_connections",
            o.admin_max_connections != n.admin_max_connections,
        ),
        ("upstream.ca_file", ou.ca_pem != nu.ca_pem),
        ("coordination", old.coordination != new.coordination),
        (
            "upstream.connect_timeout",
            ou.connect_timeout != nu.connect_timeout,
        ),
        (
            "upstream.pool_idle_timeout",
            ou.pool_idle_timeout != nu.pool_idle_timeout,
        ),
        (
            "upstream.pool_max_idle",
            ou.pool_max_idle != nu.pool_max_idle,
        ),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::hex_id;

    #[test]
    fn request_ids_are_twelve_hex_digits_or_more() {
        for n in [0, 1, 0xabc, 0xffff_ffff_ffff, 0x1_0000_0000_0000, u64::MAX] {
            assert_eq!(hex_id(n), format!("{n:012x}"));
        }
    }
}
