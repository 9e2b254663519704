//! Webhooks: provisioning events POSTed as signed JSON to the receivers in
//! `[[webhooks]]`. Each receiver has its own bounded queue and one
//! delivery task, so a slow or unreachable receiver delays only its own
//! events and never a SCIM request: [`Webhooks::enqueue`] never waits, and
//! an event that does not fit is dropped, counted and logged. Delivery
//! retries with exponential backoff; see [`sign`] for the signature and
//! docs/observability.md for the receiver's side.

mod deliver;
pub mod sign;

use super::audit::ProvisioningEvent;
use super::metrics::{DropReason, Metrics};
use crate::config::WebhookConfig;
use bytes::Bytes;
use deliver::{Client, Worker};
use prometheus_client::metrics::gauge::Gauge;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// One event ready to send: serialised once, shared by every receiver.
#[derive(Debug)]
struct Envelope {
    id: String,
    kind: &'static str,
    body: Bytes,
}

/// The sending side of one receiver's queue.
struct Queue {
    config: Arc<WebhookConfig>,
    tx: mpsc::Sender<Arc<Envelope>>,
    depth: Gauge,
}

/// The webhook queues and their delivery tasks.
pub struct Webhooks {
    queues: Vec<Queue>,
    metrics: Arc<Metrics>,
    closing: watch::Sender<Option<Instant>>,
    idle: Mutex<Vec<Worker>>,
    running: Mutex<Vec<JoinHandle<()>>>,
}

impl Webhooks {
    /// Queues for `configs`; nothing is sent before [`Webhooks::start`].
    pub fn new(
        configs: &[WebhookConfig],
        metrics: Arc<Metrics>,
        crypto: Arc<rustls::crypto::CryptoProvider>,
    ) -> Self {
        let (closing, _) = watch::channel(None);
        let client = (!configs.is_empty()).then(|| deliver::client(crypto));
        let mut queues = Vec::new();
        let mut idle = Vec::new();
        for c in configs {
            let config = Arc::new(c.clone());
            let (tx, rx) = mpsc::channel(c.queue);
            let depth = metrics.webhook_queue(&c.name);
            queues.push(Queue {
                config: config.clone(),
                tx,
                depth: depth.clone(),
            });
            if let Some(client) = &client {
                idle.push(Worker {
                    config,
                    rx,
                    depth,
                    metrics: metrics.clone(),
                    client: Client::clone(client),
                    closing: closing.subscribe(),
                });
            }
        }
        Self {
            queues,
            metrics,
            closing,
            idle: Mutex::new(idle),
            running: Mutex::new(Vec::new()),
        }
    }

    /// Whether any receiver is configured.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Queues `event` for every receiver subscribed to its type. Never
    /// waits: a full queue drops the event for that receiver (counted in
    /// `scim_sidecar_webhook_events_dropped_total` and logged).
    pub fn enqueue(&self, event: &ProvisioningEvent) {
        let kind = event.kind.as_str();
        let mut envelope: Option<Arc<Envelope>> = None;
        for q in self.queues.iter().filter(|q| q.config.wants(kind)) {
            let env = envelope
                .get_or_insert_with(|| {
                    Arc::new(Envelope {
                        id: event.id.clone(),
                        kind,
                        body: Bytes::from(event.to_json().to_string()),
                    })
                })
                .clone();
            q.depth.inc();
            let reason = match q.tx.try_send(env) {
                Ok(()) => continue,
                Err(mpsc::error::TrySendError::Full(_)) => DropReason::QueueFull,
                Err(mpsc::error::TrySendError::Closed(_)) => DropReason::Shutdown,
            };
            q.depth.dec();
            dropped(&self.metrics, &q.config.name, &event.id, kind, reason);
        }
    }

    /// Starts one delivery task per receiver (once; later calls do
    /// nothing). Must run inside the tokio runtime.
    pub fn start(&self) {
        let workers = std::mem::take(&mut *lock(&self.idle));
        let mut running = lock(&self.running);
        for w in workers {
            running.push(tokio::spawn(w.run()));
        }
    }

    /// Stops accepting new deliveries and gives queued events up to
    /// `flush` to go out (one attempt each); what remains is dropped,
    /// counted and logged.
    pub async fn shutdown(&self, flush: Duration) {
        let handles = std::mem::take(&mut *lock(&self.running));
        if handles.is_empty() {
            return;
        }
        let _ = self.closing.send(Some(Instant::now() + flush));
        let all = futures_util::future::join_all(handles);
        // The tasks stop by themselves at the deadline; this is only a
        // safety net against a receiver that never answers.
        let _ = tokio::time::timeout(flush + Duration::from_secs(1), all).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Counts and logs one dropped event. Never silent.
fn dropped(metrics: &Metrics, webhook: &str, event_id: &str, kind: &str, reason: DropReason) {
    metrics.webhook_dropped(webhook, reason);
    tracing::warn!(
        webhook,
        event_id,
        event = kind,
        reason = reason.as_str(),
        "webhook event dropped"
    );
}
