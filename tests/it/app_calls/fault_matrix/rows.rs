//! The faults of the matrix: how the app misbehaves on the call an
//! operation depends on, and the time bounds an answer must keep.

use std::time::Duration;

use super::support::faults::{Fault, Reshape};

/// The app's host timeout in the matrix config; a slow answer takes
/// [`SLOW`], far beyond it. A second, not less: on a small loaded machine
/// a healthy answer can take a few hundred milliseconds, and a healthy
/// call cut by the deadline would be a fault the row did not inject.
pub const HOST_TIMEOUT: &str = "1s";
const SLOW: Duration = Duration::from_secs(6);
/// The largest app answer the matrix config reads.
pub const MAX_RESPONSE_BYTES: usize = 1 << 20;

/// How the app misbehaves.
#[derive(Debug, Clone)]
pub enum How {
    /// The app is down: connections are refused.
    Down,
    /// Once, on the operation's main call.
    Once(Fault),
    /// Every `n`th call of the operation, the first one included.
    Every(usize, Fault),
}

/// One row of the matrix.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: &'static str,
    pub how: How,
    /// A successful answer must take at least this long (a `Retry-After`
    /// that was honoured).
    pub min_success: Option<Duration>,
    /// Every answer must come within this (a deadline that was kept).
    pub max: Duration,
}

fn row(name: &'static str, how: How) -> Row {
    Row {
        name,
        how,
        min_success: None,
        max: Duration::from_secs(6),
    }
}

/// Every row, in table order.
pub fn all() -> Vec<Row> {
    use How::*;
    let once = |f: Fault| Once(f);
    vec![
        row("connection refused", Down),
        row("reset mid-response", once(Fault::reset())),
        Row {
            // Answered at the deadline (with its retry), long before
            // the app's slow answer.
            max: Duration::from_secs(5),
            ..row("slow (beyond timeout)", once(Fault::slow(SLOW)))
        },
        row("500", once(Fault::status(500))),
        row("502", once(Fault::status(502))),
        Row {
            min_success: Some(Duration::from_millis(950)),
            ..row("503 + Retry-After: 1", once(Fault::unavailable(1)))
        },
        Row {
            min_success: Some(Duration::from_millis(950)),
            ..row("429 + Retry-After: 1", once(Fault::busy(1)))
        },
        row("429, no Retry-After", once(Fault::status(429))),
        Row {
            min_success: Some(Duration::from_millis(950)),
            max: Duration::from_secs(12),
            ..row(
                "every 2nd call 429 + Retry-After: 1",
                Every(2, Fault::busy(1)),
            )
        },
        row("401", once(Fault::status(401))),
        row("403", once(Fault::status(403))),
        row("409 (no error rule)", once(Fault::status(409))),
        row("HTML instead of JSON", once(Fault::html())),
        row("truncated JSON", once(Fault::reshape(Reshape::Truncate))),
        row("invalid JSON", once(Fault::invalid_json())),
        row("JSON without id", once(Fault::reshape(Reshape::DropIds))),
        row(
            "JSON string for an object",
            once(Fault::reshape(Reshape::Stringify)),
        ),
        row(
            "JSON without its arrays (items)",
            once(Fault::reshape(Reshape::DropArrays)),
        ),
        row("201 without body", once(Fault::created_without_body())),
        row("302 redirect", once(Fault::redirect())),
        row("enormous body (64 MiB)", once(Fault::enormous(64 << 20))),
    ]
}
