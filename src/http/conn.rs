//! One client connection from accept to close, with every wait bounded:
//! - the first request head must arrive within the header deadline, which
//!   therefore covers the first byte and the HTTP version sniff of the auto
//!   builder (a silent socket or half an HTTP/2 preface is closed); later
//!   HTTP/1 heads are bounded by hyper's own `header_read_timeout`;
//! - a connection with no request in flight for the idle timeout is shut
//!   down gracefully, and HTTP/2 keep-alive pings close dead peers;
//! - on drain the connection is shut down gracefully (HTTP/2 sends GOAWAY,
//!   RFC 9113 §6.8) and closed as soon as nothing is in flight, so an idle
//!   client cannot hold a shutdown for the whole drain deadline.

use crate::body::{Body, Watched, Watcher};
use crate::config::ServerConfig;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

/// After a graceful shutdown with nothing in flight, how long the
/// connection may take to flush its GOAWAY or close before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_millis(250);

/// The deadlines and sizes of one listener's connections.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Deadline for a request head (the first one includes the sniff).
    pub header_read_timeout: Duration,
    /// Closes connections without a request in flight for this long.
    pub idle_timeout: Duration,
    /// HTTP/2 keep-alive ping interval.
    pub keep_alive_interval: Duration,
    /// HTTP/2 ping acknowledgement deadline.
    pub keep_alive_timeout: Duration,
    /// Largest request head, in bytes.
    pub max_header_bytes: usize,
    /// HTTP/2 streams at once.
    pub max_streams: u32,
}

impl ConnLimits {
    /// The public listener's limits.
    pub fn public(cfg: &ServerConfig) -> Self {
        Self {
            header_read_timeout: cfg.header_read_timeout,
            idle_timeout: cfg.idle_timeout,
            keep_alive_interval: cfg.http2_keep_alive_interval,
            keep_alive_timeout: cfg.http2_keep_alive_timeout,
            max_header_bytes: cfg.max_header_bytes,
            max_streams: cfg.http2_max_concurrent_streams,
        }
    }

    /// The admin listener's limits: probes and scrapes are small and quick,
    /// and send their request head as soon as they connect.
    pub fn admin(cfg: &ServerConfig) -> Self {
        Self {
            header_read_timeout: cfg.admin_header_read_timeout,
            idle_timeout: cfg.idle_timeout.min(Duration::from_secs(60)),
            max_header_bytes: 16 * 1024,
            max_streams: 16,
            ..Self::public(cfg)
        }
    }

    /// The auto (HTTP/1.1 + HTTP/2) builder with timers and limits.
    pub fn builder(&self) -> auto::Builder<TokioExecutor> {
        let mut b = auto::Builder::new(TokioExecutor::new());
        b.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.max_header_bytes.max(8192));
        b.http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(self.max_streams)
            .max_header_list_size(u32::try_from(self.max_header_bytes).unwrap_or(u32::MAX))
            .keep_alive_interval(self.keep_alive_interval)
            .keep_alive_timeout(self.keep_alive_timeout);
        b
    }
}

/// Requests in flight on one connection. Starting and ending a request
/// costs a few atomic operations; the connection's driver is woken only
/// for what it waits on (the first request head, and in flight reaching
/// zero while it drains), and checks the idle deadline from the time the
/// last request ended.
#[derive(Debug)]
pub struct Activity {
    in_flight: AtomicUsize,
    seen: AtomicBool,
    draining: AtomicBool,
    /// When the last request ended, in nanoseconds since `epoch`.
    last_end: AtomicU64,
    epoch: Instant,
    changed: Notify,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            seen: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            last_end: AtomicU64::new(0),
            epoch: Instant::now(),
            changed: Notify::new(),
        }
    }
}

impl Activity {
    /// Marks a request started; the guard ends it when dropped (with the
    /// response body, see [`track`]).
    pub fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if !self.seen.load(Ordering::Acquire) && !self.seen.swap(true, Ordering::AcqRel) {
            self.changed.notify_waiters();
        }
        InFlight(self.clone())
    }

    fn idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Whether a request head has arrived on the connection.
    pub fn seen(&self) -> bool {
        self.seen.load(Ordering::Acquire)
    }

    /// When the connection last had nothing to do: the end of its last
    /// request, or its start when none came; `None` while a request is in
    /// flight.
    pub fn idle_since(&self) -> Option<Instant> {
        self.idle_deadline(Duration::ZERO)
    }

    /// When the connection has been idle for `timeout`, or `None` while a
    /// request is in flight.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        if !self.idle() {
            return None;
        }
        let ended = Duration::from_nanos(self.last_end.load(Ordering::Acquire));
        Some(self.epoch + ended + timeout)
    }
}

/// A request in flight.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let a = &self.0;
        let since = Instant::now().saturating_duration_since(a.epoch);
        a.last_end.fetch_max(
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX),
            Ordering::AcqRel,
        );
        let left = a.in_flight.fetch_sub(1, Ordering::AcqRel) - 1;
        if left == 0 && a.draining.load(Ordering::Acquire) {
            a.changed.notify_waiters();
        }
    }
}

/// The guard watches the body only by living as long as it does.
impl Watcher for InFlight {}

/// Keeps `guard` alive until the response body is finished or dropped, so
/// a streaming download counts as in flight. Not boxed: hyper takes the
/// wrapper as the connection's body type, so a response costs no extra
/// allocation and no extra dynamic call per frame.
pub fn track(body: Body, guard: InFlight) -> Watched<Body, InFlight> {
    Watched::new(body, guard)
}

/// Serves one accepted connection under `limits`: each request is answered
/// by `handler`, its response body counted as activity until sent, and the
/// connection driven (see [`drive`]) until it ends, a deadline closes it or
/// `stop` turns `true`.
pub async fn serve<I, H, F>(
    io: hyper_util::rt::TokioIo<I>,
    limits: &ConnLimits,
    stop: watch::Receiver<bool>,
    handler: H,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Fn(http::Request<hyper::body::Incoming>) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = http::Response<Body>> + Send + 'static,
{
    serve_tracked(io, limits, stop, Arc::new(Activity::default()), handler).await;
}

/// [`serve`], recording the connection's requests in `activity`, which the
/// caller keeps (to see whether the connection is idle).
pub async fn serve_tracked<I, H, F>(
    io: hyper_util::rt::TokioIo<I>,
    limits: &ConnLimits,
    stop: watch::Receiver<bool>,
    activity: Arc<Activity>,
    handler: H,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    H: Fn(http::Request<hyper::body::Incoming>) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = http::Response<Body>> + Send + 'static,
{
    let act = activity.clone();
    let handler = Arc::new(handler);
    let svc = hyper::service::service_fn(move |req| {
        let guard = act.start();
        let handler = handler.clone();
        // The handler's future is made inside this one, not moved into
        // it: it is large, and a move copies all of it.
        async move {
            let resp = handler(req).await;
            Ok::<_, std::convert::Infallible>(resp.map(|b| track(b, guard)))
        }
    });
    let conn = limits
        .builder()
        .serve_connection_with_upgrades(io, svc)
        .into_owned();
    drive(conn, |c| c.graceful_shutdown(), activity, limits, stop).await;
}

/// Drives one connection until it ends or is closed by a deadline; see the
/// module doc. `graceful` starts a graceful shutdown of the connection
/// (GOAWAY on HTTP/2); `stop` turns `true` when the server drains.
pub async fn drive<C, E>(
    conn: C,
    graceful: impl FnOnce(Pin<&mut C>),
    activity: Arc<Activity>,
    limits: &ConnLimits,
    mut stop: watch::Receiver<bool>,
) where
    C: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(conn);
    let first_head = tokio::time::sleep(limits.header_read_timeout);
    tokio::pin!(first_head);
    // Phase 1: until the first request head.
    while !activity.seen() {
        let changed = activity.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if activity.seen() {
            break;
        }
        tokio::select! {
            r = conn.as_mut() => return ended(r),
            () = &mut changed => {}
            () = &mut first_head => {
                tracing::debug!("no request head within the header deadline; closing");
                return;
            }
            _ = stop.wait_for(|s| *s) => return,
        }
    }
    // Phase 2: serving, until it ends, idles out or the server drains. The
    // idle deadline is re-read when its timer fires: requests that came
    // and went meanwhile moved it.
    let idle = tokio::time::sleep(limits.idle_timeout);
    tokio::pin!(idle);
    loop {
        tokio::select! {
            r = conn.as_mut() => return ended(r),
            () = &mut idle => {
                match activity.idle_deadline(limits.idle_timeout) {
                    Some(at) if at <= Instant::now() => {
                        tracing::debug!("idle connection closed");
                        break;
                    }
                    Some(at) => idle.as_mut().reset(at),
                    None => idle.as_mut().reset(Instant::now() + limits.idle_timeout),
                }
            }
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    // Phase 3: graceful shutdown; closed once nothing is in flight.
    activity.draining.store(true, Ordering::Release);
    graceful(conn.as_mut());
    loop {
        let changed = activity.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let idle = activity.idle();
        tokio::select! {
            r = conn.as_mut() => return ended(r),
            () = &mut changed => {}
            () = tokio::time::sleep(CLOSE_GRACE), if idle => return,
        }
    }
}

fn ended<E: std::fmt::Display>(r: Result<(), E>) {
    if let Err(e) = r {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
