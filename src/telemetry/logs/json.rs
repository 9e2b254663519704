//! The JSON log line, written in one pass. It has the shape of
//! `tracing_subscriber`'s JSON format with flattened events and the current
//! span (`{"timestamp", "level", <fields>, "target", "span": {<fields>,
//! "name"}}`), but a span's fields are kept as ready-made JSON text: its
//! fields are written once when it opens, a field recorded later is
//! appended, and each line copies that text in. (The stock formatter
//! stores them as text too, and parses that text back into a JSON value
//! for every line and every recorded field.) A span's opening fields are
//! written into a per-thread scratch string and copied into the span's
//! text in one piece, so that text is allocated once at its final size
//! rather than grown field by field. Values are escaped per RFC 8259 §7.

use std::cell::RefCell;
use std::fmt::{self, Write};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Span and event fields as `"name":value` pairs joined by commas.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonFields;

/// The whole line: see the module doc.
#[derive(Debug, Default, Clone, Copy)]
pub struct JsonLine;

/// Scratch strings kept larger than this are given back after use.
const SCRATCH_KEEP: usize = 4096;

thread_local! {
    /// Where a span's opening fields are written before being copied.
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

impl<'w> FormatFields<'w> for JsonFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut s) => {
                s.clear();
                let mut v = Pairs::new(&mut *s, true);
                fields.record(&mut v);
                let written = v.result.and_then(|()| writer.write_str(&s));
                if s.capacity() > SCRATCH_KEEP {
                    *s = String::new();
                }
                written
            }
            // A field whose formatting logs: write directly.
            Err(_) => {
                let mut v = Pairs::new(&mut writer, true);
                fields.record(&mut v);
                v.result
            }
        })
    }

    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let first = current.fields.is_empty();
        let mut v = Pairs::new(&mut current.fields, first);
        fields.record(&mut v);
        v.result
    }
}

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        w.write_str("{\"timestamp\":\"")?;
        timestamp(&mut w, std::time::SystemTime::now())?;
        w.write_str("\",\"level\":\"")?;
        w.write_str(meta.level().as_str())?;
        w.write_char('"')?;
        let mut v = Pairs::new(&mut w, false);
        event.record(&mut v);
        v.result?;
        w.write_str(",\"target\":")?;
        string(&mut w, meta.target())?;
        if let Some(span) = ctx.lookup_current() {
            w.write_str(",\"span\":{")?;
            let ext = span.extensions();
            if let Some(f) = ext.get::<FormattedFields<N>>().filter(|f| !f.is_empty()) {
                w.write_str(f)?;
                w.write_char(',')?;
            }
            w.write_str("\"name\":")?;
            string(&mut w, span.name())?;
            w.write_char('}')?;
        }
        w.write_str("}\n")
    }
}

/// Writes visited fields as `"name":value` pairs.
struct Pairs<'a, W: Write> {
    w: &'a mut W,
    first: bool,
    result: fmt::Result,
}

impl<'a, W: Write> Pairs<'a, W> {
    fn new(w: &'a mut W, first: bool) -> Self {
        Self {
            w,
            first,
            result: Ok(()),
        }
    }

    fn pair(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let sep = if self.first { "\"" } else { ",\"" };
        self.first = false;
        self.result = self
            .w
            .write_str(sep)
            .and_then(|()| self.w.write_str(field.name()))
            .and_then(|()| self.w.write_str("\":"))
            .and_then(|()| value(self.w));
    }
}

impl<W: Write> Visit for Pairs<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, |w| string(w, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pair(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinities.
        match value.is_finite() {
            true => self.pair(field, |w| {
                w.write_str(ryu::Buffer::new().format_finite(value))
            }),
            false => self.pair(field, |w| string(w, &value.to_string())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value:?}")?;
            w.write_char('"')
        });
    }
}

/// The line [`super::buffer`] puts where it dropped `n` lines, in the
/// shape of the others:
/// `{"timestamp":…,"level":"WARN","message":"log lines dropped","dropped":n,"target":"scim_sidecar::logbuf"}`.
pub fn dropped_line(n: u64, out: &mut Vec<u8>) {
    let mut s = String::with_capacity(160);
    let mut w = Writer::new(&mut s);
    // Writing into a String cannot fail.
    let _ = w
        .write_str("{\"timestamp\":\"")
        .and_then(|()| timestamp(&mut w, std::time::SystemTime::now()))
        .and_then(|()| {
            w.write_str("\",\"level\":\"WARN\",\"message\":\"log lines dropped\",\"dropped\":")
        })
        .and_then(|()| w.write_str(itoa::Buffer::new().format(n)))
        .and_then(|()| w.write_str(",\"target\":\"scim_sidecar::logbuf\"}\n"));
    out.extend_from_slice(s.as_bytes());
}

/// `t` as RFC 3339 UTC with microseconds (`2026-11-30T13:19:02.861962Z`),
/// the shape of `tracing_subscriber`'s timer, written digit by digit.
pub(crate) fn timestamp(w: &mut Writer<'_>, t: std::time::SystemTime) -> fmt::Result {
    let since = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days);
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut n: u64| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, rem / 3600);
    put(14, 2, rem / 60 % 60);
    put(17, 2, rem % 60);
    put(20, 6, u64::from(since.subsec_micros()));
    w.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?)
}

/// Year, month and day of `days` since 1970-01-01 in the proleptic
/// Gregorian calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// A JSON string literal.
fn string<W: Write>(w: &mut W, s: &str) -> fmt::Result {
    w.write_char('"')?;
    Escaped(w).write_str(s)?;
    w.write_char('"')
}

/// Escapes what is written through it for the inside of a JSON string.
struct Escaped<'a, W: Write>(&'a mut W);

/// What each byte becomes inside a JSON string (RFC 8259 §7): `0` itself,
/// `u` a `\u00XX` escape, anything else that letter after a backslash.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

impl<W: Write> Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // One table lookup per byte: nearly every value has nothing to
        // escape and is written in one piece.
        let mut start = 0;
        for (i, &b) in s.as_bytes().iter().enumerate() {
            let e = ESCAPE[usize::from(b)];
            if e == 0 {
                continue;
            }
            self.0.write_str(&s[start..i])?;
            match e {
                b'u' => write!(self.0, "\\u{b:04x}")?,
                e => {
                    self.0.write_char('\\')?;
                    self.0.write_char(char::from(e))?;
                }
            }
            start = i + 1;
        }
        self.0.write_str(&s[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::logs::capture::Buf;

    fn lines(f: impl FnOnce()) -> Vec<serde_json::Value> {
        let buf = Buf::default();
        let sub = tracing_subscriber::fmt()
            .with_writer(buf.clone())
            .fmt_fields(JsonFields)
            .event_format(JsonLine)
            .finish();
        tracing::subscriber::with_default(sub, f);
        buf.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    #[test]
    fn lines_carry_event_and_span_fields() {
        let out = lines(|| {
            let span = tracing::info_span!(
                "request",
                id = "00ab",
                method = %http::Method::GET,
                conn = tracing::field::Empty,
            );
            let _g = span.enter();
            span.record("conn", "acme");
            tracing::info!(status = 200u16, micros = 17u64, ok = true, "scim request");
        });
        let v = &out[0];
        assert_eq!(v["message"], "scim request");
        assert_eq!(v["level"], "INFO");
        assert_eq!(
            (v["status"].as_u64(), v["micros"].as_u64()),
            (Some(200), Some(17))
        );
        assert_eq!(v["ok"], true);
        assert_eq!(v["target"], module_path!());
        assert_eq!(v["span"]["id"], "00ab");
        assert_eq!(v["span"]["method"], "GET");
        assert_eq!(v["span"]["conn"], "acme");
        assert_eq!(v["span"]["name"], "request");
        assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }

    /// A span field whose formatting opens another span (and so formats
    /// span fields again on the same thread) still yields both spans'
    /// fields, written once each.
    #[test]
    fn span_fields_formatted_while_formatting_span_fields() {
        struct Nested;
        impl std::fmt::Debug for Nested {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let _inner = tracing::info_span!("inner", depth = 2u64);
                f.write_str("outer-value")
            }
        }
        let out = lines(|| {
            let span = tracing::info_span!("request", a = "x", nested = ?Nested, b = "y");
            let _g = span.enter();
            tracing::info!("inside");
        });
        let v = &out[0];
        assert_eq!(v["span"]["a"], "x");
        assert_eq!(v["span"]["nested"], "outer-value");
        assert_eq!(v["span"]["b"], "y");
        assert_eq!(v["span"]["name"], "request");
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        // The epoch, its last second, 2000-02-29, 2024-02-29, 2025-11-30
        // and 2100-01-01 (not a leap year).
        for secs in [
            0,
            86_399,
            951_782_400,
            1_709_164_800,
            1_764_502_742,
            4_102_444_800,
        ] {
            let at = std::time::UNIX_EPOCH + std::time::Duration::new(secs, 861_962_123);
            let mut text = String::new();
            timestamp(&mut Writer::new(&mut text), at).unwrap();
            let expected = time::OffsetDateTime::from(at)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            // `time` writes nanoseconds; the log line keeps microseconds.
            assert_eq!(text, format!("{}Z", &expected[..26]), "{secs}");
        }
    }

    #[test]
    fn the_dropped_line_is_a_log_line_like_the_others() {
        let mut out = b"before\n".to_vec();
        dropped_line(42, &mut out);
        let text = String::from_utf8(out).unwrap();
        let line = text.strip_prefix("before\n").unwrap();
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "{line:?}"
        );
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["level"], "WARN");
        assert_eq!(v["message"], "log lines dropped");
        assert_eq!(v["dropped"], 42);
        assert_eq!(v["target"], "scim_sidecar::logbuf");
        assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }

    #[test]
    fn numbers_are_json_numbers() {
        let out = lines(|| {
            tracing::info!(
                ms = 0.511f64,
                big = u64::MAX,
                neg = i64::MIN,
                tiny = 1e-7f64,
                "x"
            );
        });
        assert_eq!(out[0]["ms"], 0.511);
        assert_eq!(out[0]["big"], u64::MAX);
        assert_eq!(out[0]["neg"], i64::MIN);
        assert_eq!(out[0]["tiny"], 1e-7);
    }

    #[test]
    fn values_are_escaped() {
        let out = lines(|| {
            let odd = "quote \" backslash \\ newline \n bell \u{7} é";
            tracing::warn!(detail = odd, error = %odd, "x");
            tracing::info!(nan = f64::NAN, n = -3i64, "{}", odd);
        });
        let odd = "quote \" backslash \\ newline \n bell \u{7} é";
        assert_eq!(out[0]["detail"], odd);
        assert_eq!(out[0]["error"], odd);
        assert!(out[0].get("span").is_none());
        assert_eq!(out[1]["message"], odd);
        assert_eq!(out[1]["nan"], "NaN");
        assert_eq!(out[1]["n"], -3);
        let every: String = (0u32..0x300).filter_map(char::from_u32).collect();
        let out = lines(|| tracing::info!(every = every.as_str(), "x"));
        assert_eq!(out[0]["every"], every.as_str());
    }
}
