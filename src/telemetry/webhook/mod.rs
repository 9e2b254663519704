//! Webhooks: provisioning events POSTed as signed JSON to the receivers in
//! `[[webhooks]]`. Each receiver has its own bounded queue and one
//! delivery task, so a slow or unreachable receiver delays only its own
//! events and never a SCIM request: [`Webhooks::enqueue`] never waits, and
//! an event that does not fit is dropped, counted and logged. Delivery
//! retries with exponential backoff. A config reload swaps the receivers
//! ([`Webhooks::reconfigure`]) without losing what is queued. See [`sign`]
//! for the signature and docs/observability.md for the receiver's side.

mod deliver;
pub mod sign;

use super::event::ProvisioningEvent;
use super::metrics::{DropReason, Metrics};
use crate::client::HttpClient;
use crate::config::WebhookConfig;
use arc_swap::ArcSwap;
use bytes::Bytes;
use deliver::Worker;
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
#[derive(Clone)]
struct Queue {
    config: Arc<WebhookConfig>,
    tx: mpsc::Sender<Arc<Envelope>>,
    depth: Gauge,
}

/// The webhook queues and their delivery tasks.
pub struct Webhooks {
    /// The receivers in force; swapped whole by [`Webhooks::reconfigure`].
    queues: ArcSwap<Vec<Queue>>,
    metrics: Arc<Metrics>,
    crypto: Arc<rustls::crypto::CryptoProvider>,
    /// The HTTPS client, made with the first receiver.
    client: Mutex<Option<HttpClient>>,
    closing: watch::Sender<Option<Instant>>,
    /// Workers made before [`Webhooks::start`].
    idle: Mutex<Vec<Worker>>,
    running: Mutex<Vec<JoinHandle<()>>>,
    started: Mutex<bool>,
}

impl Webhooks {
    /// Queues for `configs`; nothing is sent before [`Webhooks::start`].
    pub fn new(
        configs: &[WebhookConfig],
        metrics: Arc<Metrics>,
        crypto: Arc<rustls::crypto::CryptoProvider>,
    ) -> Self {
        let (closing, _) = watch::channel(None);
        let webhooks = Self {
            queues: ArcSwap::from_pointee(Vec::new()),
            metrics,
            crypto,
            client: Mutex::new(None),
            closing,
            idle: Mutex::new(Vec::new()),
            running: Mutex::new(Vec::new()),
            started: Mutex::new(false),
        };
        webhooks.reconfigure(configs);
        webhooks
    }

    /// Puts `configs` in force (a config reload). A receiver whose settings
    /// are unchanged keeps its queue and its task, so its events stay in
    /// order; a new or changed one gets a queue and a task of its own; a
    /// removed or changed one stops taking events, and its task delivers
    /// what it had queued under the settings it was queued for, then ends.
    pub fn reconfigure(&self, configs: &[WebhookConfig]) {
        let started = lock(&self.started);
        let old = self.queues.load_full();
        let mut queues = Vec::with_capacity(configs.len());
        for c in configs {
            if let Some(q) = old.iter().find(|q| *q.config == *c) {
                queues.push(q.clone());
                continue;
            }
            let config = Arc::new(c.clone());
            let (tx, rx) = mpsc::channel(c.queue);
            let depth = self.metrics.webhook_queue(&c.name);
            let worker = Worker {
                config: config.clone(),
                rx,
                depth: depth.clone(),
                metrics: self.metrics.clone(),
                client: self.client(),
                closing: self.closing.subscribe(),
            };
            if *started {
                let mut running = lock(&self.running);
                running.retain(|h| !h.is_finished());
                running.push(tokio::spawn(worker.run()));
            } else {
                lock(&self.idle).push(worker);
            }
            queues.push(Queue { config, tx, depth });
        }
        // The old set's senders go with the last reference to it; a worker
        // whose sender is gone drains its queue and ends.
        self.queues.store(Arc::new(queues));
    }

    fn client(&self) -> HttpClient {
        lock(&self.client)
            .get_or_insert_with(|| deliver::client(self.crypto.clone()))
            .clone()
    }

    /// Whether any receiver is configured.
    pub fn is_empty(&self) -> bool {
        self.queues.load().is_empty()
    }

    /// Queues `event` for every receiver subscribed to its type. Never
    /// waits: a full queue drops the event for that receiver (counted in
    /// `scim_sidecar_webhook_events_dropped_total` and logged).
    pub fn enqueue(&self, event: &ProvisioningEvent) {
        let kind = event.kind.as_str();
        let mut envelope: Option<Arc<Envelope>> = None;
        let queues = self.queues.load();
        for q in queues.iter().filter(|q| q.config.wants(kind)) {
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
        let mut started = lock(&self.started);
        *started = true;
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
