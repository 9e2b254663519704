//! A buffered log writer, so that a log line costs the request a copy into
//! memory rather than a `write(2)` on stderr. Lines collect in one shared
//! buffer; a background thread writes it out every few milliseconds, a
//! writer that finds the buffer over its bound writes it out itself (so
//! memory stays bounded and a stalled stderr slows logging down instead of
//! growing it), and dropping the [`Flusher`] guard writes what is left.
//! Each write is one whole line (the `tracing` formatter writes a line at
//! a time), so lines never interleave. Nothing here parses or filters
//! lines: what is logged is decided by the subscriber.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the background thread writes the buffer out.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A buffer this large is written out by the writer that filled it.
const MAX_BUFFERED: usize = 256 * 1024;

struct Shared<W> {
    buf: Mutex<Buffered>,
    wake: Condvar,
    out: Mutex<W>,
}

#[derive(Default)]
struct Buffered {
    bytes: Vec<u8>,
    closed: bool,
}

impl<W: Write> Shared<W> {
    fn lock(&self) -> MutexGuard<'_, Buffered> {
        self.buf.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes what is buffered and writes it out. The output lock is taken
    /// before the buffer is swapped, so chunks reach it in order.
    fn flush_out(&self, spare: &mut Vec<u8>) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::swap(&mut self.lock().bytes, spare);
        if !spare.is_empty() {
            // A log line that cannot be written has nowhere else to go.
            let _ = out.write_all(spare);
            let _ = out.flush();
            spare.clear();
        }
    }
}

/// The [`tracing_subscriber::fmt::MakeWriter`] side: cheap to clone, one
/// per subscriber.
pub struct BufferedWriter<W> {
    shared: Arc<Shared<W>>,
}

impl<W> Clone for BufferedWriter<W> {
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
        }
    }
}

/// Keeps the background thread; dropping it writes out what is buffered.
pub struct Flusher<W: Write + Send + 'static> {
    shared: Arc<Shared<W>>,
    thread: Option<JoinHandle<()>>,
}

/// A buffered writer on `out` and the guard of its background thread.
pub fn buffered<W: Write + Send + 'static>(out: W) -> (BufferedWriter<W>, Flusher<W>) {
    let shared = Arc::new(Shared {
        buf: Mutex::new(Buffered::default()),
        wake: Condvar::new(),
        out: Mutex::new(out),
    });
    let bg = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-flush".into())
        .spawn(move || flush_loop(&bg))
        .ok();
    let writer = BufferedWriter {
        shared: shared.clone(),
    };
    (writer, Flusher { shared, thread })
}

fn flush_loop<W: Write>(shared: &Shared<W>) {
    let mut spare = Vec::new();
    loop {
        let closed = {
            let guard = shared.lock();
            let (guard, _) = shared
                .wake
                .wait_timeout(guard, FLUSH_EVERY)
                .unwrap_or_else(|p| p.into_inner());
            guard.closed
        };
        shared.flush_out(&mut spare);
        if closed {
            return;
        }
    }
}

impl<W: Write + Send + 'static> Drop for Flusher<W> {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        match self.thread.take() {
            Some(t) => {
                let _ = t.join();
            }
            None => self.shared.flush_out(&mut Vec::new()),
        }
    }
}

impl<W: Write> Write for BufferedWriter<W> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut b = self.shared.lock();
            b.bytes.extend_from_slice(line);
            b.bytes.len() >= MAX_BUFFERED || b.closed
        };
        if full {
            self.shared.flush_out(&mut Vec::new());
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a, W: Write + 'static> tracing_subscriber::fmt::MakeWriter<'a> for BufferedWriter<W> {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_arrive_whole_and_in_order_when_the_guard_drops() {
        let sink = Sink::default();
        let (writer, flusher) = buffered(sink.clone());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        w.write_all(format!("{t} {i}\n").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(flusher);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        for t in 0..4 {
            let mine: Vec<usize> = lines
                .iter()
                .filter_map(|l| l.strip_prefix(&format!("{t} ")))
                .map(|n| n.parse().unwrap())
                .collect();
            assert_eq!(mine, (0..500).collect::<Vec<_>>(), "thread {t}");
        }
    }

    #[test]
    fn a_full_buffer_is_written_by_the_writer_itself() {
        let sink = Sink::default();
        let (mut writer, _flusher) = buffered(sink.clone());
        let line = vec![b'x'; MAX_BUFFERED];
        writer.write_all(&line).unwrap();
        // Written before the background thread's next turn.
        assert_eq!(sink.0.lock().unwrap().len(), MAX_BUFFERED);
    }

    #[test]
    fn nothing_is_written_after_close_without_reaching_the_output() {
        let sink = Sink::default();
        let (mut writer, flusher) = buffered(sink.clone());
        drop(flusher);
        writer.write_all(b"late line\n").unwrap();
        assert_eq!(sink.0.lock().unwrap().as_slice(), b"late line\n");
    }
}
