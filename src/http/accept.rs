//! The accept loop both listeners share: at most `max` connections at once
//! (at the limit it stops accepting and the kernel backlog holds
//! newcomers), a brief back-off when `accept` fails (out of file
//! descriptors and the like) instead of spinning, one task per connection,
//! and on shutdown a stop signal to every connection followed by a bounded
//! wait for them to finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Accepts on `listener` until `shutdown` resolves, running `serve` for
/// each connection with a receiver that turns `true` when draining starts.
/// Returns the tasks still running then, with the stop already sent; see
/// [`drain`].
pub async fn accept<F, Fut>(
    listener: TcpListener,
    max: usize,
    shutdown: impl Future<Output = ()>,
    mut serve: F,
) -> JoinSet<()>
where
    F: FnMut(TcpStream, SocketAddr, watch::Receiver<bool>) -> Fut,
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
        let served = serve(stream, peer, stopped.clone());
        conns.spawn(async move {
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
            async {
                let _ = down_rx.await;
            },
            |mut stream, _, mut stop| async move {
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
