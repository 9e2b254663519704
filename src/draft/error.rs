//! Why a draft could not be made, classified by whose problem it is: the
//! document or the command line (the user's to fix), the app or the network
//! it was fetched over, or the drafter itself.

use std::fmt;

/// Whose fault a [`DraftError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The document or the options given: fix the input.
    Client,
    /// The server the document or the probe was read from.
    Upstream,
    /// The drafter itself.
    Internal,
}

/// A draft that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    /// An option on the command line is unusable (a header without a
    /// colon, a URL that does not parse).
    #[error("{0}")]
    Usage(String),
    /// The document could not be read from its file.
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    /// The document is larger than the drafter reads.
    #[error("{what} is larger than {limit} bytes; the drafter reads documents up to that size")]
    TooLarge { what: String, limit: usize },
    /// The document is neither JSON nor YAML.
    #[error("{what} is not JSON or YAML: {reason}")]
    Syntax { what: String, reason: String },
    /// The document parses but is not an OpenAPI 3.x or Swagger 2.0
    /// document.
    #[error("{what} is not an OpenAPI document: {reason}")]
    NotOpenApi { what: String, reason: String },
    /// A `$ref` the draft needed does not resolve.
    #[error("broken $ref `{reference}` (at {at}): {reason}")]
    BrokenRef {
        reference: String,
        at: String,
        reason: String,
    },
    /// `$ref`s nest deeper or expand further than the drafter follows.
    #[error("{0}")]
    RefLimit(String),
    /// No path of the document looks like a collection of users.
    #[error(
        "no user collection found: no path ends in users, accounts, people or members with a list (GET) or create (POST) operation{hint}"
    )]
    NoUsers { hint: Hint },
    /// The document or the probe could not be fetched.
    #[error("{what}: {reason}")]
    Fetch { what: String, reason: String },
    /// The draft does not load as a config: a bug in the drafter.
    #[error("the draft does not load as a config (a drafter bug, please report it):\n{0}")]
    Invalid(String),
}

/// A sentence appended to [`DraftError::NoUsers`] naming what was found.
#[derive(Debug, Default)]
pub struct Hint(pub Option<String>);

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(h) => write!(f, "; {h}"),
            None => Ok(()),
        }
    }
}

impl DraftError {
    /// Whose problem this is.
    pub fn source_kind(&self) -> Source {
        match self {
            Self::Fetch { .. } => Source::Upstream,
            Self::Invalid(_) => Source::Internal,
            _ => Source::Client,
        }
    }
}
