//! Compile errors of a mapping: one value per problem, with the dotted
//! TOML key it concerns and, where known, its byte span in the source, so
//! the config loader can report every problem at once as `file:line:col`.
//! The mapping layer owns this type; the config layer converts it.

use std::fmt;
use std::ops::Range;

/// One problem found while compiling a mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// Dotted TOML key, e.g. `users.attributes.userName`.
    pub key: String,
    /// Byte range in the TOML source, when known.
    pub span: Option<Range<usize>>,
    /// Lowercase message without a trailing period.
    pub message: String,
}

impl CompileError {
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

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.message)
    }
}

impl std::error::Error for CompileError {}
