//! One receiver's delivery task: takes events from its queue in order,
//! POSTs each with a fresh signature, and retries failures (network
//! errors, timeouts, 408, 429, 5xx) with exponential backoff and jitter,
//! honouring `Retry-After` up to `max_backoff`. Other 4xx answers are
//! final. On shutdown, what is queued gets one attempt each until the
//! flush deadline. Logs name the webhook, never its URL (which may carry
//! a secret).

use super::sign::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature};
use super::{Envelope, dropped};
use crate::body::full;
use crate::client::{self, HttpClient, PoolError, Settings};
use crate::config::WebhookConfig;
use crate::schema::datetime::parse_http_date;
use crate::telemetry::metrics::{DropReason, Metrics};
use http::header::{CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use prometheus_client::metrics::gauge::Gauge;
use rustls::crypto::CryptoProvider;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Largest receiver answer read (and discarded) so the connection can be
/// reused.
const MAX_ANSWER: usize = 64 * 1024;

/// The client shared by every receiver: the crate's client stack for
/// `https://` (TLS 1.2 and 1.3, the system's CA roots) and `http://`
/// URLs, with a 10 s connect deadline and two idle connections per
/// receiver kept for a minute.
pub(super) fn client(provider: Arc<CryptoProvider>) -> HttpClient {
    let roots = client::system_roots();
    if roots.is_empty() {
        tracing::warn!("no system CA certificates found; https webhooks will fail");
    }
    HttpClient::new(Settings {
        tls: Arc::new(client::tls_config(roots, provider)),
        connect_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_idle: 2,
    })
}

/// A receiver's delivery task, before it is spawned.
pub(super) struct Worker {
    pub(super) config: Arc<WebhookConfig>,
    pub(super) rx: mpsc::Receiver<Arc<Envelope>>,
    pub(super) depth: Gauge,
    pub(super) metrics: Arc<Metrics>,
    pub(super) client: HttpClient,
    pub(super) closing: watch::Receiver<Option<Instant>>,
}

/// Why an attempt failed.
struct Failed {
    retry: bool,
    retry_after: Option<Duration>,
    why: String,
}

impl Worker {
    /// Delivers queued events until shutdown.
    pub(super) async fn run(mut self) {
        loop {
            let closing = *self.closing.borrow();
            let next = match closing {
                Some(_) => self.rx.try_recv().ok(),
                None => tokio::select! {
                    e = self.rx.recv() => e,
                    changed = self.closing.changed() => {
                        if changed.is_err() {
                            return;
                        }
                        continue;
                    }
                },
            };
            let Some(envelope) = next else { return };
            self.depth.dec();
            self.deliver(&envelope).await;
        }
    }

    async fn deliver(&mut self, env: &Envelope) {
        let name = self.config.name.as_str();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let closing = *self.closing.borrow();
            let now = Instant::now();
            let budget = match closing {
                Some(deadline) if deadline <= now => {
                    return dropped(&self.metrics, name, &env.id, env.kind, DropReason::Shutdown);
                }
                Some(deadline) => self.config.timeout.min(deadline - now),
                None => self.config.timeout,
            };
            // An attempt under way when shutdown begins ends at the flush
            // deadline too, so that what is dropped is still logged.
            let mut deadline_watch = self.closing.clone();
            let result = tokio::select! {
                r = self.attempt(env, budget) => r,
                () = flush_deadline(&mut deadline_watch) => {
                    self.metrics.webhook_attempt(name, false);
                    return dropped(&self.metrics, name, &env.id, env.kind, DropReason::Shutdown);
                }
            };
            let failed = match result {
                Ok(()) => {
                    self.metrics.webhook_attempt(name, true);
                    tracing::debug!(webhook = name, event_id = %env.id, attempt, "webhook delivered");
                    return;
                }
                Err(f) => f,
            };
            self.metrics.webhook_attempt(name, false);
            let reason = if !failed.retry {
                Some(DropReason::Rejected)
            } else if attempt >= self.config.max_attempts {
                Some(DropReason::RetriesExhausted)
            } else if closing.is_some() {
                Some(DropReason::Shutdown)
            } else {
                None
            };
            if let Some(reason) = reason {
                tracing::warn!(webhook = name, event_id = %env.id, attempt, error = %failed.why, "webhook delivery failed");
                return dropped(&self.metrics, name, &env.id, env.kind, reason);
            }
            let wait = backoff(&self.config, attempt)
                .max(failed.retry_after.unwrap_or_default())
                .min(self.config.max_backoff);
            tracing::warn!(
                webhook = name,
                event_id = %env.id,
                attempt,
                error = %failed.why,
                retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "webhook delivery failed; retrying"
            );
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = self.closing.changed() => {}
            }
        }
    }

    async fn attempt(&self, env: &Envelope, budget: Duration) -> Result<(), Failed> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let req = Request::post(self.config.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("scim-sidecar/", env!("CARGO_PKG_VERSION")),
            )
            .header(EVENT_HEADER, env.kind)
            .header(DELIVERY_HEADER, env.id.as_str())
            .header(
                SIGNATURE_HEADER,
                signature(self.config.secret.expose(), now, &env.body),
            )
            .body(full(env.body.clone()))
            .map_err(|e| Failed {
                retry: false,
                retry_after: None,
                why: format!("cannot build the request: {e}"),
            })?;
        let exchange = async {
            let resp = self.client.request(req).await.map_err(|e| describe(&e))?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(retry_after);
            let _ = Limited::new(resp.into_body(), MAX_ANSWER).collect().await;
            Ok::<_, String>((status, retry_after))
        };
        match tokio::time::timeout(budget, exchange).await {
            Err(_) => Err(Failed {
                retry: true,
                retry_after: None,
                why: format!("no answer within {budget:?}"),
            }),
            Ok(Err(why)) => Err(Failed {
                retry: true,
                retry_after: None,
                why,
            }),
            Ok(Ok((status, _))) if status.is_success() => Ok(()),
            Ok(Ok((status, retry_after))) => Err(Failed {
                retry: retryable(status),
                retry_after,
                why: format!("the receiver answered {status}"),
            }),
        }
    }
}

/// `Retry-After` as seconds or an HTTP date (RFC 9110 §10.2.3).
fn retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(value)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(
        u64::try_from(at).ok()?.saturating_sub(now),
    ))
}

/// Resolves when shutdown has begun and its flush deadline has passed;
/// never, if the sender is gone without a shutdown.
async fn flush_deadline(closing: &mut watch::Receiver<Option<Instant>>) {
    loop {
        let deadline = *closing.borrow_and_update();
        match deadline {
            Some(d) => return tokio::time::sleep_until(d).await,
            None => {
                if closing.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }
}

/// Statuses worth another attempt: timeouts, rate limits and server errors.
fn retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error()
}

/// The wait after failed attempt `attempt` (1-based): `backoff · 2^(n-1)`
/// capped at `max_backoff`, then "equal jitter" (half fixed, half random)
/// so that replicas do not retry in lockstep.
fn backoff(cfg: &WebhookConfig, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    let base = cfg.backoff.saturating_mul(factor).min(cfg.max_backoff);
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    let jitter = f64::from(u32::from_le_bytes(r)) / f64::from(u32::MAX);
    base / 2 + base.mul_f64(jitter / 2.0)
}

/// A short cause chain without the receiver's address (its URL may carry
/// credentials).
fn describe(e: &PoolError) -> String {
    match e {
        PoolError::Connect(_, why) => format!("connecting failed: {why}"),
        e => e.describe(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::webhooks::Secret;

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let cfg = WebhookConfig {
            name: "t".into(),
            url: "http://127.0.0.1:9/".parse().unwrap(),
            secret: Secret::new("0123456789abcdef"),
            events: vec!["*".into()],
            timeout: Duration::from_secs(1),
            max_attempts: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
            queue: 1,
        };
        let within = |attempt, lo: u64, hi: u64| {
            let d = backoff(&cfg, attempt);
            assert!(
                d >= Duration::from_millis(lo) && d <= Duration::from_millis(hi),
                "attempt {attempt}: {d:?}"
            );
        };
        within(1, 50, 100);
        within(2, 100, 200);
        within(3, 200, 400);
        within(10, 500, 1000);
        assert!(retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(!retryable(StatusCode::UNAUTHORIZED));
        assert_eq!(retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("later"), None);
    }
}
