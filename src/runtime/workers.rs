//! The worker runtimes: with more than one CPU (or `--worker-threads`
//! above one), public connections are served by one single-threaded tokio
//! runtime per thread, each connection on the worker serving the fewest
//! (see [`crate::http::accept::Spread`]), while the runtime that starts
//! them keeps the listeners, the admin port, reloads and webhook delivery.
//! A connection's requests and their app calls then stay on one thread, as
//! in nginx's worker processes; tokio's work-stealing scheduler instead
//! moves tasks and wake-ups between threads on every exchange, which
//! measured about 50% more CPU per pass-through request on two cores
//! (docs/benchmarks.md).

use crate::http::accept::Spread;
use std::thread::JoinHandle;
use tokio::runtime::Builder;
use tokio::sync::oneshot;

/// Running worker threads; [`Workers::stop`] ends them.
pub struct Workers {
    spread: Spread,
    threads: Vec<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Workers {
    /// Starts `count` worker threads, each running a single-threaded
    /// runtime until stopped. With `count` 0 there are none and
    /// connections stay on the serving runtime.
    pub fn start(count: usize) -> std::io::Result<Self> {
        let mut handles = Vec::with_capacity(count);
        let mut threads = Vec::with_capacity(count);
        for i in 0..count {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            handles.push(runtime.handle().clone());
            let (stop, stopped) = oneshot::channel::<()>();
            let thread = std::thread::Builder::new()
                .name(format!("scim-sidecar-worker-{i}"))
                .spawn(move || {
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                })?;
            threads.push((stop, thread));
        }
        Ok(Self {
            spread: Spread::new(handles),
            threads,
        })
    }

    /// Where the listener puts its connections.
    pub fn spread(&self) -> Spread {
        self.spread.clone()
    }

    /// Stops every worker (what still runs on one is dropped) and waits
    /// for its thread.
    pub fn stop(self) {
        for (stop, thread) in self.threads {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::Mutex;

    /// Work handed to the spread runs on the worker threads, not on the
    /// caller's, and stopping joins them.
    #[test]
    fn connections_run_on_the_worker_threads() {
        let workers = Workers::start(2).expect("workers");
        assert_eq!(workers.spread().len(), 2);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let caller = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        caller.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..4 {
                let seen = seen.clone();
                workers.spread().spawn(&mut set, async move {
                    let name = std::thread::current().name().map(str::to_owned);
                    seen.lock().expect("lock").push(name);
                });
            }
            while set.join_next().await.is_some() {}
        });
        let seen = seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 4);
        assert!(
            seen.iter().all(|n| n
                .as_deref()
                .is_some_and(|n| n.starts_with("scim-sidecar-worker-"))),
            "{seen:?}"
        );
        workers.stop();
    }
}
