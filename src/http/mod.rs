//! The HTTP edge: the public and admin listeners, their accept loops,
//! connection limits and graceful shutdown. What they serve is a
//! [`Sidecar`]: the running sidecar as the edge sees it — the settings in
//! force, an answer for each public request, the metrics registry and the
//! app's readiness.

pub mod accept;
pub mod access;
pub mod admin;
pub mod budget;
pub mod conn;
pub mod observe;
pub mod server;
pub mod tls;

use crate::body::Body;
use crate::config::ServerConfig;
use crate::proxy::headers::ClientInfo;
use crate::telemetry::Metrics;
use http::{Request, Response};
use hyper::body::Incoming;
use std::future::Future;
use std::sync::Arc;

/// What the listeners serve.
pub trait Sidecar: Send + Sync + 'static {
    /// The `[server]` settings in force. Deadlines and the drain timeout
    /// are read per connection and at shutdown, so a reload changes them.
    fn server(&self) -> ServerConfig;

    /// Answers one request of the public listener from `client`; never
    /// fails (a failure is a response).
    fn handle(
        self: Arc<Self>,
        client: ClientInfo,
        req: Request<Incoming>,
    ) -> impl Future<Output = Response<Body>> + Send + 'static;

    /// The registry `/metrics` serves.
    fn metrics(&self) -> &Metrics;

    /// Whether the app is ready for SCIM work (`/readyz`), and why not.
    fn ready(&self) -> impl Future<Output = Result<(), String>> + Send;
}
