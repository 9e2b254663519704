//! The shared state of a running sidecar: the validated config and
//! everything built from it once at start-up (the pooled client, the token
//! table, the discovery documents). Handlers receive it as `Arc<State>`.

use crate::auth::Authenticator;
use crate::config::Config;
use crate::scim::discovery::Discovery;
use crate::scim::locks::WriteLocks;
use crate::upstream::{HttpClient, build_client};
use std::sync::atomic::{AtomicU64, Ordering};

/// Everything a request handler needs.
pub struct State {
    /// The validated config.
    pub config: Config,
    /// Pooled client to the app.
    pub client: HttpClient,
    /// Accepted bearer tokens.
    pub auth: Authenticator,
    /// Discovery documents.
    pub discovery: Discovery,
    /// Per-resource write serialisation; lives as long as the process.
    pub write_locks: WriteLocks,
    next_request_id: AtomicU64,
}

impl State {
    /// Builds the state from a validated config.
    pub fn new(config: Config) -> Self {
        let client = build_client(&config.upstream);
        let auth = Authenticator::new(&config.connections);
        let discovery = Discovery::from_config(&config);
        let seed = {
            let mut b = [0u8; 8];
            // A random start keeps request ids distinct across restarts; a
            // failing RNG only makes them predictable, which is harmless.
            let _ = getrandom::fill(&mut b);
            u64::from_le_bytes(b) >> 16
        };
        Self {
            config,
            client,
            auth,
            discovery,
            write_locks: WriteLocks::default(),
            next_request_id: AtomicU64::new(seed),
        }
    }

    /// A fresh request id for logs and the `X-Request-Id` header.
    pub fn request_id(&self) -> String {
        format!(
            "{:012x}",
            self.next_request_id.fetch_add(1, Ordering::Relaxed)
        )
    }
}
