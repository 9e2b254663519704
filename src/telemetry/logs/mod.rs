//! Log output, installed once by `main`: one JSON object per line for log
//! pipelines, or text for people, filtered by `RUST_LOG` (default `info`).
//! Text is coloured only when stderr is a terminal, so files and pipes get
//! plain lines. [`dispatch`] builds the same subscriber around any writer,
//! which is how tests capture log output in-process. JSON lines are
//! written by [`json`] in one pass; on stderr they go through
//! [`buffer`], so logging never puts a `write(2)` on a request's
//! path and never waits for a sink that takes nothing: lines it cannot
//! keep are dropped, counted in the [`LogOutput::dropped`] counter (which
//! `scim-sidecar run` hands to the metrics registry) and reported by one
//! line where they went missing. Keep the [`LogOutput`] [`init`] returns
//! until exit.

pub mod buffer;
pub mod json;

use buffer::{BufferedWriter, Flusher, Limits};
use json::{JsonFields, JsonLine};
use prometheus_client::metrics::counter::Counter;
use std::io::IsTerminal;
use tracing::Dispatch;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line; span fields (request id, connection,
    /// operation) under `span`.
    Json,
    /// Human-readable lines.
    Text,
}

/// A subscriber writing `format` to `writer`. `ansi` colours text output;
/// JSON is never coloured.
pub fn dispatch<W>(format: LogFormat, filter: EnvFilter, writer: W, ansi: bool) -> Dispatch
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Json => Dispatch::new(
            builder
                .fmt_fields(JsonFields)
                .event_format(JsonLine)
                .finish(),
        ),
        LogFormat::Text => Dispatch::new(builder.with_ansi(ansi).with_target(false).finish()),
    }
}

/// The process's log output on stderr.
pub struct LogOutput {
    writer: BufferedWriter,
    dropped: Counter,
    _flusher: Flusher,
}

impl LogOutput {
    /// Lines dropped because stderr could not take them.
    pub fn dropped(&self) -> Counter {
        self.dropped.clone()
    }

    /// A writer for text that is not a log event (a config error shown
    /// to people) but must not block on stderr either.
    pub fn writer(&self) -> BufferedWriter {
        self.writer.clone()
    }
}

/// Installs the process-wide subscriber on stderr, through a bounded
/// buffer; dropping the returned [`LogOutput`] writes out what is
/// buffered (waiting at most two seconds for a blocked stderr). Calling
/// it twice is harmless (the second subscriber is ignored). Fails only
/// when the writer's thread cannot be started.
pub fn init(format: LogFormat) -> std::io::Result<LogOutput> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::stderr().is_terminal();
    let summary = match format {
        LogFormat::Json => json::dropped_line,
        LogFormat::Text => dropped_text,
    };
    let dropped = Counter::default();
    let (writer, flusher) = buffer::buffered(
        std::io::stderr(),
        summary,
        dropped.clone(),
        Limits::default(),
    )?;
    let _ = tracing::dispatcher::set_global_default(dispatch(format, filter, writer.clone(), ansi));
    Ok(LogOutput {
        writer,
        dropped,
        _flusher: flusher,
    })
}

/// The dropped-lines line in the text format:
/// `2026-11-30T10:24:40.160420Z  WARN log lines dropped dropped=12`.
fn dropped_text(n: u64, out: &mut Vec<u8>) {
    let mut s = String::with_capacity(80);
    let _ = json::timestamp(
        &mut tracing_subscriber::fmt::format::Writer::new(&mut s),
        std::time::SystemTime::now(),
    );
    s.push_str("  WARN log lines dropped dropped=");
    s.push_str(itoa::Buffer::new().format(n));
    s.push('\n');
    out.extend_from_slice(s.as_bytes());
}

/// An in-memory log writer for unit tests of the log formats.
#[cfg(test)]
pub(crate) mod capture {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    /// Everything written to any clone, in order.
    #[derive(Clone, Default)]
    pub(crate) struct Buf(pub(crate) Arc<Mutex<Vec<u8>>>);

    impl Buf {
        /// What was written, as text.
        pub(crate) fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::capture::Buf;
    use super::*;

    fn capture(format: LogFormat, ansi: bool) -> String {
        let buf = Buf::default();
        let b = buf.clone();
        let d = dispatch(format, EnvFilter::new("info"), move || b.clone(), ansi);
        tracing::dispatcher::with_default(&d, || {
            let span = tracing::info_span!("request", request_id = "abc123");
            let _g = span.enter();
            tracing::info!(status = 200u16, "scim request");
        });
        buf.text()
    }

    #[test]
    fn text_without_a_terminal_has_no_escape_codes() {
        let plain = capture(LogFormat::Text, false);
        assert!(
            plain.contains("scim request") && plain.contains("abc123"),
            "{plain}"
        );
        assert!(!plain.contains('\u{1b}'), "{plain:?}");
        let coloured = capture(LogFormat::Text, true);
        assert!(coloured.contains('\u{1b}'), "{coloured:?}");
    }

    #[test]
    fn the_text_dropped_line_reads_like_the_other_text_lines() {
        let mut out = Vec::new();
        dropped_text(7, &mut out);
        let text = String::from_utf8(out).unwrap();
        let (ts, rest) = text.split_once(' ').unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 27, "{text:?}");
        assert_eq!(rest, " WARN log lines dropped dropped=7\n");
    }

    #[test]
    fn json_lines_carry_span_fields() {
        let line = capture(LogFormat::Json, true);
        let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(v["message"], "scim request");
        assert_eq!(v["status"], 200);
        assert_eq!(v["span"]["request_id"], "abc123");
        assert!(!line.contains('\u{1b}'));
    }
}
