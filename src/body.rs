//! The one body type used end to end, constructors for locally generated
//! bodies, and the one body wrapper, [`Watched`]. Pass-through maps
//! incoming bodies into [`Body`] without buffering; responses the sidecar
//! writes itself are built from bytes. Whatever needs to see a body go by
//! — count its bytes, notice that it failed or ended, hold something
//! until it is done (a connection to put back, a request in flight, an
//! access-log line) — is a [`Watcher`] in a [`Watched`] body, not a body
//! type of its own.

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use hyper::body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Body of every request and response the sidecar handles.
pub type Body = BoxBody<Bytes, hyper::Error>;

/// A body holding `bytes` in full.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

/// What a [`Watched`] body reports as its frames go by. Every method does
/// nothing unless a watcher implements it; what is to happen when the body
/// is done with, read to its end or dropped early, goes in the watcher's
/// own `Drop` (the watcher lives exactly as long as the body).
pub trait Watcher {
    /// A data frame of `len` bytes went by.
    fn data(&mut self, _len: usize) {}
    /// The body failed; nothing follows.
    fn error(&mut self) {}
    /// The body ended: its last frame went by, or it had none. Called at
    /// most once.
    fn end(&mut self) {}
}

/// A body passed on unchanged, frame by frame, telling its [`Watcher`]
/// what went by.
pub struct Watched<B, W> {
    inner: B,
    watcher: W,
    ended: bool,
}

impl<B: hyper::body::Body, W: Watcher> Watched<B, W> {
    /// `inner`, watched by `watcher` (told at once if `inner` is empty).
    pub fn new(inner: B, watcher: W) -> Self {
        let mut watched = Self {
            inner,
            watcher,
            ended: false,
        };
        if watched.inner.is_end_stream() {
            watched.end();
        }
        watched
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            self.watcher.end();
        }
    }
}

impl<B, W> hyper::body::Body for Watched<B, W>
where
    B: hyper::body::Body + Unpin,
    W: Watcher + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.watcher.data(data.remaining());
                }
                if this.inner.is_end_stream() {
                    this.end();
                }
            }
            Poll::Ready(Some(Err(_))) => this.watcher.error(),
            Poll::Ready(None) => this.end(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Records what it is told, and when it is dropped.
    struct Log(Arc<Mutex<Vec<String>>>);

    impl Watcher for Log {
        fn data(&mut self, len: usize) {
            self.0.lock().unwrap().push(format!("data {len}"));
        }
        fn error(&mut self) {
            self.0.lock().unwrap().push("error".into());
        }
        fn end(&mut self) {
            self.0.lock().unwrap().push("end".into());
        }
    }

    impl Drop for Log {
        fn drop(&mut self) {
            self.0.lock().unwrap().push("drop".into());
        }
    }

    fn watched(body: Body) -> (Watched<Body, Log>, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        (Watched::new(body, Log(seen.clone())), seen)
    }

    #[tokio::test]
    async fn a_watcher_sees_the_data_the_end_once_and_then_the_drop() {
        let (body, seen) = watched(full("hello"));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes, "hello");
        assert_eq!(*seen.lock().unwrap(), ["data 5", "end", "drop"]);
    }

    #[tokio::test]
    async fn an_empty_body_has_ended_before_it_is_read() {
        let (body, seen) = watched(empty());
        assert_eq!(*seen.lock().unwrap(), ["end"]);
        drop(body);
        assert_eq!(*seen.lock().unwrap(), ["end", "drop"]);
    }

    #[tokio::test]
    async fn a_body_dropped_early_never_ends_and_a_failure_is_reported() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, &'static str>>(2);
        let stream = http_body_util::StreamBody::new(stream_of(rx));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut body = Watched::new(stream, Log(seen.clone()));
        tx.send(Ok(Frame::data(Bytes::from_static(b"ab"))))
            .await
            .unwrap();
        tx.send(Err("broken")).await.unwrap();
        assert!(body.frame().await.unwrap().is_ok());
        assert!(body.frame().await.unwrap().is_err());
        drop(body);
        assert_eq!(*seen.lock().unwrap(), ["data 2", "error", "drop"]);
    }

    /// The frames sent on `rx`, as a stream.
    fn stream_of<T>(
        rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> + Unpin {
        Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }
}
