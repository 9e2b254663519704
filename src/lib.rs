//! scim-sidecar: a reverse proxy that gives an existing web app a SCIM 2.0
//! server. Requests below the SCIM base path are authenticated and answered
//! through declarative mappings onto the app's own REST API; everything else
//! passes through to the app unchanged.
//!
//! [`run`] is the whole program behind the CLI; tests, benches and fuzz
//! targets call it (or [`Server`]) directly.

#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod auth;
pub mod body;
pub mod cli;
pub mod client;
pub mod config;
pub mod coordination;
pub mod diagnostic;
pub mod draft;
pub mod error;
pub mod hex;
pub mod host;
pub mod http;
pub mod mapping;
pub mod plan;
pub mod protocol;
pub mod proxy;
pub mod route;
pub mod runtime;
pub mod schema;
pub mod scim;
pub mod telemetry;
pub mod upstream;

pub use config::Config;
pub use http::accept::Spread;
pub use http::server::ServeError;
pub use runtime::{Server, State};

use prometheus_client::metrics::counter::Counter;
use runtime::Reloader;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use telemetry::Metrics;
use tokio::sync::mpsc;

/// Runs the sidecar with a validated config until `shutdown` resolves, then
/// drains in-flight requests and returns.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    Server::bind(State::new(config))
        .await?
        .serve(shutdown)
        .await
}

/// Like [`run`], for a config loaded from `path`: the config, the files it
/// refers to and the TLS certificate are reloaded when they change and
/// whenever `reload` receives a message (the binary sends one on SIGHUP).
/// `log_drops` counts the log lines the log writer dropped, exposed on
/// `/metrics` (see [`telemetry::logs::LogOutput::dropped`]); public
/// connections run on the worker runtimes of `spread`, if any.
pub async fn run_with_reload(
    path: PathBuf,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
    reload: mpsc::Receiver<()>,
    log_drops: Counter,
    spread: Spread,
) -> Result<(), ServeError> {
    let metrics = Metrics::with_log_drops(log_drops);
    let crypto = Arc::new(rustls::crypto::ring::default_provider());
    let server = Server::bind(State::with_metrics(config, crypto, metrics))
        .await?
        .spread_over(spread);
    serve_with_reload(server, path, shutdown, reload).await
}

/// [`run_with_reload`] on an already bound server (whose addresses and
/// state the caller can read first).
pub async fn serve_with_reload(
    server: Server,
    path: PathBuf,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut reload: mpsc::Receiver<()>,
) -> Result<(), ServeError> {
    let reloader = Reloader::spawn(path, server.state(), server.certs());
    let trigger = reloader.trigger_handle();
    let forward = tokio::spawn(async move {
        while reload.recv().await.is_some() {
            let _ = trigger.try_send(());
        }
    });
    let result = server.serve(shutdown).await;
    forward.abort();
    drop(reloader);
    result
}
