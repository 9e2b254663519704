//! Hot reload of the config file, every file it refers to (connection
//! files, token files, the CA file) and the TLS certificate pair. Content
//! decides: a look reads those files again and hashes their bytes, and
//! only a hash not seen before loads the config ([`check`]). Looks are
//! prompted by filesystem events that can change one of those files or a
//! symlink on the way to it ([`watch`]: Kubernetes ConfigMap and Secret
//! volumes swap a `..data` symlink), each file debounced on its own so a
//! busy neighbour delays nothing; by a slow periodic check, in case an
//! event was missed or no watch could be set; and by the operator (the
//! binary forwards SIGHUP), which loads at once, changed or not. A new
//! config is loaded and compiled on a blocking thread, off the request
//! path, swapped in atomically when valid and only then logged; an invalid
//! one is logged once with every error and the old one stays.

mod check;
mod watch;

use crate::http::tls::CertStore;
use crate::runtime::state::State;
use check::{Checker, RELOAD_LOG};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use watch::{Routes, Watches};

pub use check::Trigger;

/// Quiet time after the last event on a file before looking at it: an
/// editor's save or a non-atomic copy is a burst of writes.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// Longest a file that keeps changing waits for its look.
const MAX_DELAY: Duration = Duration::from_millis(500);

/// The safety net: every file is looked at this often, events or not.
const POLL: Duration = Duration::from_secs(30);

/// Events queued between the watcher's thread and the reloader; when full,
/// every file is looked at instead.
const EVENT_QUEUE: usize = 256;

/// What the watcher's thread hands over.
enum Prompt {
    /// Paths named by an event that can change content.
    Paths(Vec<PathBuf>),
    /// Events were lost (queue overflow): look at everything.
    Everything,
}

/// A running reloader; dropping it stops watching.
pub struct Reloader {
    trigger: mpsc::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Reloader {
    /// Watches `path` (the config file), its sources and the certificate
    /// files; the watches are in place when this returns. The first look
    /// follows at once, so a change made since `state` was loaded is seen.
    pub fn spawn(path: PathBuf, state: Arc<State>, certs: Option<Arc<CertStore>>) -> Self {
        let (trigger, signals) = mpsc::channel(1);
        let (prompts_tx, prompts) = mpsc::channel(EVENT_QUEUE);
        let lost = Arc::new(AtomicBool::new(false));
        let checker = Checker::new(path, state, certs);
        let routes = Routes::new(&checker.watched());
        let mut watches = Watches::new(watcher(prompts_tx, lost.clone()));
        watches.set(routes.dirs());
        let lp = Loop {
            checker: Arc::new(Mutex::new(checker)),
            routes,
            watches,
            lost,
            pending: HashMap::new(),
        };
        let task = tokio::spawn(lp.run(signals, prompts));
        Self { trigger, task }
    }

    /// Asks for a reload now (what SIGHUP does).
    pub fn trigger(&self) {
        let _ = self.trigger.try_send(());
    }

    /// A handle that asks for reloads.
    pub fn trigger_handle(&self) -> mpsc::Sender<()> {
        self.trigger.clone()
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The file watcher, forwarding events that can change content; none (with
/// a warning) when the platform refuses one.
fn watcher(tx: mpsc::Sender<Prompt>, lost: Arc<AtomicBool>) -> Option<notify::RecommendedWatcher> {
    let forward = move |r: notify::Result<notify::Event>| {
        let prompt = match r {
            Ok(e) if e.need_rescan() => Prompt::Everything,
            Ok(e) if watch::may_change_content(&e.kind) => Prompt::Paths(e.paths),
            Ok(_) => return,
            Err(_) => Prompt::Everything,
        };
        if tx.try_send(prompt).is_err() {
            lost.store(true, Ordering::Relaxed);
        }
    };
    match notify::recommended_watcher(forward) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(target: RELOAD_LOG, error = %e, "cannot watch files; reload on SIGHUP and the periodic check only");
            None
        }
    }
}

/// A file with events not yet looked at.
#[derive(Debug, Clone, Copy)]
struct Pending {
    first: Instant,
    last: Instant,
}

impl Pending {
    /// When to look: after a quiet [`DEBOUNCE`], or [`MAX_DELAY`] after the
    /// first event if the file keeps changing.
    fn due(&self) -> Instant {
        (self.last + DEBOUNCE).min(self.first + MAX_DELAY)
    }
}

struct Loop {
    checker: Arc<Mutex<Checker>>,
    routes: Routes,
    watches: Watches,
    lost: Arc<AtomicBool>,
    /// Watched files (as configured) with events not yet looked at.
    pending: HashMap<PathBuf, Pending>,
}

impl Loop {
    async fn run(mut self, mut signals: mpsc::Receiver<()>, mut prompts: mpsc::Receiver<Prompt>) {
        // The first look, before anything else: a change made since the
        // config in force was loaded is not missed.
        self.look(Trigger::Poll).await;
        let mut poll = tokio::time::interval_at(Instant::now() + POLL, POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut watching = self.watches.active();
        loop {
            let due = self.pending.values().map(Pending::due).min();
            let far = Instant::now() + POLL;
            // Signals first, then files that are due: however many events
            // arrive, neither waits behind them.
            let trigger = tokio::select! {
                biased;
                s = signals.recv() => match s {
                    Some(()) => Trigger::Signal,
                    None => return,
                },
                () = tokio::time::sleep_until(due.unwrap_or(far)), if due.is_some() => {
                    let now = Instant::now();
                    self.pending.retain(|_, p| p.due() > now);
                    Trigger::File
                }
                p = prompts.recv(), if watching => {
                    match p {
                        Some(p) => self.note(p, Instant::now()),
                        None => watching = false,
                    }
                    continue;
                }
                _ = poll.tick() => Trigger::Poll,
            };
            self.look(trigger).await;
        }
    }

    /// Marks the files an event concerns as pending.
    fn note(&mut self, prompt: Prompt, now: Instant) {
        let lost = self.lost.swap(false, Ordering::Relaxed);
        let items: Vec<PathBuf> = match prompt {
            Prompt::Paths(paths) if !lost => paths
                .iter()
                .flat_map(|p| self.routes.concerned(p))
                .collect(),
            _ => self.routes.items().into_iter().collect(),
        };
        for item in items {
            self.pending
                .entry(item)
                .and_modify(|p| p.last = now)
                .or_insert(Pending {
                    first: now,
                    last: now,
                });
        }
    }

    /// One look on a blocking thread (its log lines go where this task's
    /// go), then the watches follow the files it found.
    async fn look(&mut self, trigger: Trigger) {
        let checker = self.checker.clone();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let looked = tokio::task::spawn_blocking(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                let mut c = checker.lock().unwrap_or_else(PoisonError::into_inner);
                c.look(trigger);
                Routes::new(&c.watched())
            })
        })
        .await;
        match looked {
            Ok(routes) => {
                self.watches.set(routes.dirs());
                self.routes = routes;
            }
            Err(e) => tracing::error!(target: RELOAD_LOG, error = %e, "config reload check failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_looked_at_after_a_quiet_spell_or_at_the_latest_after_max_delay() {
        let t = Instant::now();
        let quiet = Pending { first: t, last: t };
        assert_eq!(quiet.due(), t + DEBOUNCE);
        let busy = Pending {
            first: t,
            last: t + Duration::from_millis(450),
        };
        assert_eq!(busy.due(), t + MAX_DELAY);
    }
}
