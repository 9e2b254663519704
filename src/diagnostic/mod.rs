//! Diagnostics of a TOML source: one [`Diagnostic`] per problem, with the
//! dotted key it concerns and, where known, its byte span in the text, so
//! that every problem of a config — its own keys and its mappings' — can
//! be reported at once as `file:line:col` ([`render`]). Compiling a
//! mapping and validating a config both make them; nothing here knows
//! either.

pub mod render;

pub use render::{line_col, render_all};

use std::fmt;
use std::ops::Range;

/// One problem found while loading, validating or compiling a config or
/// a mapping (or a warning about one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Dotted TOML key the problem concerns, e.g. `users.attributes.userName`;
    /// empty for a problem of the text as a whole (a TOML syntax error).
    pub key: String,
    /// Byte range in the TOML source, when the value's position is known.
    pub span: Option<Range<usize>>,
    /// Lowercase message without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// A problem at a known position.
    pub fn at(key: impl Into<String>, span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            span: Some(span),
            message: message.into(),
        }
    }

    /// A problem whose position is unknown (e.g. a missing key).
    pub fn key(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            span: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "`{}`: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for Diagnostic {}
