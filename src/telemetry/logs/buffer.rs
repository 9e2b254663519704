//! A bounded log writer that never blocks its caller, so that a log line
//! costs a request a copy into memory and never a `write(2)` on stderr.
//! Lines collect in one shared buffer, and a background thread writes it
//! out every few milliseconds (at once when a quarter of the bound is
//! waiting). When the sink cannot take more — a log pipe nobody reads, a
//! full disk — the thread stays blocked in its write, the buffer reaches
//! its bound, and further lines are dropped and counted in a Prometheus
//! counter; where the gap is, one line (written by a [`Summary`] function
//! in the output's format) says how many were lost once the sink takes
//! lines again. Lines that are not dropped keep their order. Dropping the
//! [`Flusher`] guard writes out what is left, waiting at most a bounded
//! time for a blocked sink. Each write is one whole line (the `tracing`
//! formatter writes a line at a time), so lines never interleave. Nothing
//! here parses or filters lines: what is logged is decided by the
//! subscriber.

use prometheus_client::metrics::counter::Counter;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the background thread writes the buffer out.
const FLUSH_EVERY: Duration = Duration::from_millis(20);

/// Writes the line that stands for `n` dropped lines, newline included.
pub type Summary = fn(n: u64, out: &mut Vec<u8>);

/// The bounds of a [`buffered`] writer.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes waiting at most; a line that does not fit is dropped.
    pub max_buffered: usize,
    /// Longest wait, when the guard drops, for the rest to be written.
    pub exit_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_buffered: 256 * 1024,
            exit_wait: Duration::from_secs(2),
        }
    }
}

/// Room kept for the summary line in front of the first line after a gap.
const SUMMARY_ROOM: usize = 256;

struct Shared {
    buf: Mutex<Buffered>,
    /// Wakes the background thread early.
    wake: Condvar,
    /// Signalled when the background thread has written its last chunk.
    done: Condvar,
    dropped: Counter,
    summary: Summary,
    limits: Limits,
}

#[derive(Default)]
struct Buffered {
    bytes: Vec<u8>,
    /// Lines dropped since the last summary line.
    lost: u64,
    /// The background thread was woken and has not taken the buffer yet.
    woken: bool,
    closed: bool,
    finished: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Buffered> {
        self.buf.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake_at(&self) -> usize {
        self.limits.max_buffered / 4
    }
}

/// The [`tracing_subscriber::fmt::MakeWriter`] side: cheap to clone, one
/// per subscriber. Also usable as a plain [`Write`] for text that must not
/// block either.
#[derive(Clone)]
pub struct BufferedWriter {
    shared: Arc<Shared>,
}

/// Keeps the background thread; dropping it writes out what is buffered,
/// waiting at most [`Limits::exit_wait`].
pub struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A buffered writer on `out`, counting dropped lines in `dropped`, and
/// the guard of its background thread (an error when the thread cannot
/// be started).
pub fn buffered<W: Write + Send + 'static>(
    out: W,
    summary: Summary,
    dropped: Counter,
    limits: Limits,
) -> std::io::Result<(BufferedWriter, Flusher)> {
    let shared = Arc::new(Shared {
        buf: Mutex::new(Buffered::default()),
        wake: Condvar::new(),
        done: Condvar::new(),
        dropped,
        summary,
        limits,
    });
    let bg = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-flush".into())
        .spawn(move || flush_loop(&bg, out))?;
    let writer = BufferedWriter {
        shared: shared.clone(),
    };
    Ok((
        writer,
        Flusher {
            shared,
            thread: Some(thread),
        },
    ))
}

fn flush_loop<W: Write>(shared: &Shared, mut out: W) {
    let mut chunk = Vec::new();
    loop {
        {
            let mut b = shared.lock();
            if !b.closed && b.bytes.len() < shared.wake_at() {
                b = shared
                    .wake
                    .wait_timeout(b, FLUSH_EVERY)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            std::mem::swap(&mut b.bytes, &mut chunk);
            // Every line taken came before the gap (a line written after
            // it would have carried the summary itself).
            if b.lost > 0 {
                (shared.summary)(b.lost, &mut chunk);
                b.lost = 0;
            }
            b.woken = false;
            if b.closed && chunk.is_empty() {
                b.finished = true;
                shared.done.notify_all();
                return;
            }
        }
        if !chunk.is_empty() && out.write_all(&chunk).and_then(|()| out.flush()).is_err() {
            // A sink that failed (a closed pipe) took some unknown part
            // of the chunk: count it all as lost, it cannot be told.
            shared.dropped.inc_by(lines_in(&chunk));
        }
        chunk.clear();
    }
}

fn lines_in(chunk: &[u8]) -> u64 {
    chunk.iter().filter(|&&b| b == b'\n').count() as u64
}

impl Drop for Flusher {
    fn drop(&mut self) {
        let mut b = self.shared.lock();
        b.closed = true;
        self.shared.wake.notify_one();
        let deadline = Instant::now() + self.shared.limits.exit_wait;
        while !b.finished {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // The sink is blocked: leave the thread to the process's
                // exit rather than waiting on it.
                return;
            }
            b = self
                .shared
                .done
                .wait_timeout(b, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(b);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Write for BufferedWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let shared = &*self.shared;
        let mut b = shared.lock();
        let room = if b.lost > 0 { SUMMARY_ROOM } else { 0 };
        if b.finished || b.bytes.len() + line.len() + room > shared.limits.max_buffered {
            b.lost += 1;
            drop(b);
            shared.dropped.inc();
            return Ok(line.len());
        }
        if b.lost > 0 {
            (shared.summary)(b.lost, &mut b.bytes);
            b.lost = 0;
        }
        b.bytes.extend_from_slice(line);
        let wake = !b.woken && b.bytes.len() >= shared.wake_at();
        b.woken |= wake;
        drop(b);
        if wake {
            shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BufferedWriter {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests;
