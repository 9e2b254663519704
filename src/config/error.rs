//! Configuration errors: one value per problem, each carrying the dotted key
//! it concerns and, where known, the byte span in the TOML text, so that the
//! loader can report every problem at once as `file:line:col`.

use std::fmt;
use std::ops::Range;

/// One problem found while loading, validating or compiling a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted TOML key the problem concerns, e.g. `users.attributes.userName`.
    pub key: String,
    /// Byte range in the TOML source, when the value's position is known.
    pub span: Option<Range<usize>>,
    /// Lowercase message without a trailing period.
    pub message: String,
}

impl ConfigError {
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

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "`{}`: {}", self.key, self.message)
        }
    }
}

impl From<crate::mapping::CompileError> for ConfigError {
    fn from(e: crate::mapping::CompileError) -> Self {
        Self {
            key: e.key,
            span: e.span,
            message: e.message,
        }
    }
}
