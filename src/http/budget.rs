//! The admin port's connection budget, which keeps room for the kubelet's
//! probes and Prometheus's scrapes when the port is full of connections
//! that do nothing. Every admitted connection is recorded with its
//! [`Activity`]; when a newcomer takes the last slot, the connection idle
//! the longest is closed, so the next newcomer finds a free slot instead
//! of waiting in the kernel's backlog: first one that never sent a request
//! head (the oldest of them), otherwise the one whose last request ended
//! longest ago. A connection with a request in flight is never closed to
//! make room.

use super::conn::Activity;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::oneshot;
use tokio::time::Instant;

/// Connections open on one listener, at most `max`.
#[derive(Debug)]
pub struct Budget {
    max: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    conns: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    id: u64,
    activity: Arc<Activity>,
    /// Taken when the connection is asked to close.
    close: Option<oneshot::Sender<()>>,
}

/// One admitted connection; dropping it gives its place back.
#[derive(Debug)]
pub struct Admitted {
    budget: Arc<Budget>,
    id: u64,
    closed: oneshot::Receiver<()>,
}

impl Budget {
    /// A budget of `max` connections (at least 2: one to serve, one to
    /// admit).
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(2),
            open: Mutex::default(),
        })
    }

    /// Connections allowed at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Records a newly accepted connection. When it fills the budget, the
    /// connection idle the longest (not this one) is asked to close.
    pub fn admit(self: &Arc<Self>, activity: Arc<Activity>) -> Admitted {
        let (close, closed) = oneshot::channel();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let id = open.next_id;
        open.next_id += 1;
        open.conns.push(Entry {
            id,
            activity,
            close: Some(close),
        });
        if open.conns.len() >= self.max
            && let Some(victim) = longest_idle(&mut open.conns, id)
            && let Some(close) = victim.close.take()
        {
            let _ = close.send(());
        }
        drop(open);
        Admitted {
            budget: self.clone(),
            id,
            closed,
        }
    }
}

/// The connection to close for room: never asked before, not `newcomer`,
/// nothing in flight; those without a request head first, then the one
/// idle since the earliest instant.
fn longest_idle(conns: &mut [Entry], newcomer: u64) -> Option<&mut Entry> {
    conns
        .iter_mut()
        .filter(|e| e.id != newcomer && e.close.is_some())
        .filter_map(|e| {
            let since: Instant = e.activity.idle_since()?;
            Some((e.activity.seen(), since, e))
        })
        .min_by_key(|(seen, since, _)| (*seen, *since))
        .map(|(_, _, e)| e)
}

impl Admitted {
    /// Resolves when the budget asks this connection to close.
    pub async fn closed(&mut self) {
        let _ = (&mut self.closed).await;
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self
            .budget
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.conns.retain(|e| e.id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn asked_to_close(a: &mut Admitted) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        matches!(pin!(a.closed()).poll(&mut cx), Poll::Ready(()))
    }

    /// Filling the budget closes the oldest connection without a request
    /// head; one with a request in flight and the newcomer are spared.
    #[tokio::test]
    async fn the_oldest_silent_connection_makes_room() {
        let budget = Budget::new(4);
        let busy = Arc::new(Activity::default());
        let mut a_busy = budget.admit(busy.clone());
        let _request = busy.start();
        let mut silent: Vec<Admitted> = (0..2)
            .map(|_| budget.admit(Arc::new(Activity::default())))
            .collect();
        assert!(silent.iter_mut().all(|a| !asked_to_close(a)));
        let mut newcomer = budget.admit(Arc::new(Activity::default()));
        assert!(asked_to_close(&mut silent[0]), "the oldest silent one");
        assert!(!asked_to_close(&mut silent[1]));
        assert!(!asked_to_close(&mut a_busy), "a request in flight");
        assert!(!asked_to_close(&mut newcomer), "the newcomer");
        // Its task ends: the place is free again, nothing more is closed
        // until the budget fills up once more.
        drop(silent.remove(0));
        let _next = budget.admit(Arc::new(Activity::default()));
        assert!(asked_to_close(&mut silent[0]));
    }

    /// Among connections that sent requests, the one idle the longest goes
    /// first, whatever the order they came in.
    #[tokio::test]
    async fn then_the_longest_idle_one() {
        let budget = Budget::new(3);
        let (late, early) = (Arc::new(Activity::default()), Arc::new(Activity::default()));
        let mut a_late = budget.admit(late.clone());
        let mut a_early = budget.admit(early.clone());
        drop(early.start());
        let ended = Instant::now();
        while Instant::now() <= ended {
            std::hint::spin_loop();
        }
        drop(late.start());
        let _third = budget.admit(Arc::new(Activity::default()));
        assert!(asked_to_close(&mut a_early));
        assert!(!asked_to_close(&mut a_late));
    }
}
