//! The accept loop both listeners share: at most `max` connections at once
//! (at the limit it stops accepting and the kernel backlog holds
//! newcomers), a brief back-off when `accept` fails (out of file
//! descriptors and the like) instead of spinning, one task per connection,
//! and on shutdown a stop signal to every connection followed by a bounded
//! wait for them to finish.
//!
//! A connection's task runs on the accepting runtime, or, given a
//! [`Spread`] of worker runtimes, on the worker serving the fewest
//! connections: each worker is a single-threaded runtime, so a
//! connection's requests, and the app calls they make, stay on one thread
//! (as nginx's worker processes do) instead of being handed between the
//! threads of a work-stealing scheduler.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// The worker runtimes connections are spread over; empty: the accepting
/// runtime serves them. Cheap to clone.
#[derive(Clone, Default)]
pub struct Spread {
    workers: Arc<[Worker]>,
}

struct Worker {
    handle: Handle,
    open: Arc<AtomicUsize>,
}

impl Spread {
    /// Spreads over the runtimes of `handles`.
    pub fn new(handles: impl IntoIterator<Item = Handle>) -> Self {
        let workers = handles
            .into_iter()
            .map(|handle| Worker {
                handle,
                open: Arc::new(AtomicUsize::new(0)),
            })
            .collect();
        Self { workers }
    }

    /// How many worker runtimes there are.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Whether connections stay on the accepting runtime.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// The worker with the fewest open connections (the first on a tie).
    fn least_busy(&self) -> Option<&Worker> {
        self.workers
            .iter()
            .min_by_key(|w| w.open.load(Ordering::Relaxed))
    }

    /// Runs `task` on the least busy worker, or on the current runtime.
    pub(crate) fn spawn<F>(&self, conns: &mut JoinSet<()>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Some(worker) = self.least_busy() else {
            conns.spawn(task);
            return;
        };
        let open = Open::count(&worker.open);
        conns.spawn_on(
            async move {
                let _open = open;
                task.await;
            },
            &worker.handle,
        );
    }
}

/// An accepted connection. Handed to a worker it is detached from the
/// accepting runtime's I/O driver and registered with the worker's when
/// served ([`Accepted::into_stream`]), so its readiness events wake the
/// worker directly instead of passing through the accepting thread.
pub enum Accepted {
    /// Served by the runtime that accepted it.
    Here(TcpStream),
    /// Moved to a worker runtime.
    Moved(std::net::TcpStream),
}

impl Accepted {
    /// The stream, registered with the runtime this is called on.
    pub fn into_stream(self) -> std::io::Result<TcpStream> {
        match self {
            Self::Here(s) => Ok(s),
            Self::Moved(s) => TcpStream::from_std(s),
        }
    }
}

/// One open connection on a worker, for as long as its task lives.
struct Open(Arc<AtomicUsize>);

impl Open {
    fn count(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::Relaxed);
        Self(open.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Accepts on `listener` until `shutdown` resolves, running `serve` for
/// each connection (on a worker of `spread`, if any) with a receiver that
/// turns `true` when draining starts. Returns the tasks still running
/// then, with the stop already sent; see [`drain`].
pub async fn accept<F, Fut>(
    listener: TcpListener,
    max: usize,
    spread: Spread,
    shutdown: impl Future<Output = ()>,
    mut serve: F,
) -> JoinSet<()>
where
    F: FnMut(Accepted, SocketAddr, watch::Receiver<bool>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max));
    let (stop, stopped) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while conns.try_join_next().is_some() {}
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let stream = if spread.is_empty() {
            Accepted::Here(stream)
        } else {
            match stream.into_std() {
                Ok(s) => Accepted::Moved(s),
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "accepted connection lost");
                    continue;
                }
            }
        };
        let served = serve(stream, peer, stopped.clone());
        spread.spawn(&mut conns, async move {
            let _slot = slot;
            served.await;
        });
    }
    drop(listener);
    let _ = stop.send(true);
    conns
}

/// Waits up to `deadline` for `conns` to finish, then aborts the rest.
/// Returns how many were aborted.
pub async fn drain(mut conns: JoinSet<()>, deadline: Duration) -> usize {
    let all_closed = tokio::time::timeout(deadline, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if all_closed.is_ok() {
        return 0;
    }
    let left = conns.len();
    conns.abort_all();
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// At the limit no connection is served until one closes; on shutdown
    /// every connection sees the stop, and a connection that ignores it is
    /// aborted at the drain deadline.
    #[tokio::test]
    async fn holds_the_limit_and_drains() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (down, down_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(accept(
            listener,
            1,
            Spread::default(),
            async {
                let _ = down_rx.await;
            },
            |stream, _, mut stop| async move {
                let mut stream = stream.into_stream().expect("stream");
                let _ = stream.write_all(b"hi").await;
                let mut buf = [0u8; 1];
                tokio::select! {
                    _ = stream.read(&mut buf) => {}
                    _ = stop.changed() => {
                        // A connection that ignores the stop: held open.
                        if buf[0] == 0 {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            },
        ));
        let mut first = TcpStream::connect(addr).await.expect("connect");
        let mut hi = [0u8; 2];
        first.read_exact(&mut hi).await.expect("first served");
        let mut second = TcpStream::connect(addr).await.expect("connect");
        let waiting = tokio::time::timeout(Duration::from_millis(200), second.read(&mut hi)).await;
        assert!(
            waiting.is_err(),
            "a second connection is served over the limit"
        );
        first.write_all(b"x").await.expect("close the first");
        second
            .read_exact(&mut hi)
            .await
            .expect("second served once a slot frees");
        let _ = down.send(());
        let conns = server.await.expect("accept loop");
        assert_eq!(drain(conns, Duration::from_millis(100)).await, 1);
    }
}
