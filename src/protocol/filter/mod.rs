//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2).
//!
//! This module owns the filter language: a hand-written lexer
//! ([`lexer`]), a recursive-descent parser with length, depth and term limits
//! ([`parser`]), the AST with a canonical printer ([`ast`]), attribute
//! characteristics used for matching ([`attrs`]) and an evaluator over SCIM
//! JSON ([`eval`]). It knows nothing about HTTP or about the host mapping: the
//! mapping layer decides which parts of a filter push down to the app and
//! calls [`matches`] for the rest.

pub mod ast;
pub mod attrs;
pub mod eval;
pub mod lexer;
pub mod parser;

#[cfg(test)]
mod tests;

pub use ast::{AttrPath, CompValue, CompareOp, Filter};
pub use eval::{matches, matches_element};

/// Bounds applied while parsing, so hostile input is rejected in bounded time
/// and memory (RFC 7644 §7 asks servers to protect against abusive filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// Maximum input length in bytes.
    pub max_len: usize,
    /// Maximum nesting of `(…)`, `not (…)` and `[…]`.
    pub max_depth: usize,
    /// Maximum number of attribute expressions (`pr` and comparisons).
    pub max_terms: usize,
}

impl Default for FilterLimits {
    fn default() -> Self {
        Self {
            max_len: 4096,
            max_depth: 32,
            max_terms: 100,
        }
    }
}

/// A filter or path that could not be parsed; maps to SCIM `400 invalidFilter`
/// (RFC 7644 §3.12, Table 9) or, for PATCH paths, `invalidPath`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at position {position}: {message}")]
pub struct FilterError {
    /// Byte offset in the input where the problem was found.
    pub position: usize,
    /// What was wrong, lowercase, no trailing period.
    pub message: String,
}

impl FilterError {
    /// Creates an error at byte offset `position`.
    pub fn new(position: usize, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
        }
    }

    /// The SCIM `scimType` for a bad filter (RFC 7644 §3.12).
    pub fn scim_type(&self) -> &'static str {
        "invalidFilter"
    }
}

/// A parsed PATCH `path` (RFC 7644 §3.5.2):
/// `attrPath / valuePath [subAttr]`, e.g. `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute targeted, possibly with a sub-attribute (`name.familyName`).
    pub attr: AttrPath,
    /// The value filter selecting elements of a multi-valued attribute.
    pub filter: Option<Filter>,
    /// The sub-attribute after a value filter (`.value` in `emails[…].value`).
    pub sub: Option<String>,
}

impl std::fmt::Display for PatchPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Parses a filter with the default [`FilterLimits`].
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    parser::parse_filter(input, &FilterLimits::default())
}

/// Parses a filter within explicit limits.
pub fn parse_with(input: &str, limits: &FilterLimits) -> Result<Filter, FilterError> {
    parser::parse_filter(input, limits)
}

/// Parses a PATCH `path` with the default [`FilterLimits`] (RFC 7644 §3.5.2).
pub fn parse_path(input: &str) -> Result<PatchPath, FilterError> {
    parser::parse_patch_path(input, &FilterLimits::default())
}
