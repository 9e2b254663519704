//! The error taxonomy of the request path. Every error names its source
//! (the client, the app upstream, or the sidecar itself); the source decides
//! the log level and metric label, and the error decides the HTTP status and
//! the SCIM `scimType` of the response (RFC 7644 §3.12).

use http::StatusCode;
use std::fmt;

/// Where an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The caller sent something wrong (4xx).
    Client,
    /// The app behind the sidecar failed or answered garbage (502/504).
    Upstream,
    /// A bug or resource problem inside the sidecar (500).
    Internal,
}

impl ErrorSource {
    /// Stable lowercase label for logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Upstream => "upstream",
            Self::Internal => "internal",
        }
    }
}

/// The `scimType` values of RFC 7644 §3.12, Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The filter syntax was invalid or the filter is not supported.
    InvalidFilter,
    /// The filter yields too many results to process.
    TooMany,
    /// One or more attribute values are already in use.
    Uniqueness,
    /// The attempted modification is not compatible with the attribute's mutability.
    Mutability,
    /// The request body structure was invalid.
    InvalidSyntax,
    /// The path attribute was invalid or malformed.
    InvalidPath,
    /// The specified path did not yield a target that could be operated on.
    NoTarget,
    /// A required value was missing or a value was not compatible.
    InvalidValue,
    /// The specified SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed due to sensitive information in the URI.
    Sensitive,
}

impl ScimType {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
        }
    }

    /// Parses a wire spelling (case-insensitively), e.g. from a mapping's error table.
    pub fn parse(s: &str) -> Option<Self> {
        const ALL: [ScimType; 10] = [
            ScimType::InvalidFilter,
            ScimType::TooMany,
            ScimType::Uniqueness,
            ScimType::Mutability,
            ScimType::InvalidSyntax,
            ScimType::InvalidPath,
            ScimType::NoTarget,
            ScimType::InvalidValue,
            ScimType::InvalidVers,
            ScimType::Sensitive,
        ];
        ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answered to a SCIM client as a SCIM Error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    /// HTTP status of the response.
    pub status: StatusCode,
    /// SCIM detail error keyword, when one applies.
    pub scim_type: Option<ScimType>,
    /// Human-readable detail; never contains tokens or personal data from bodies.
    pub detail: String,
    /// Who caused it.
    pub source: ErrorSource,
    /// Seconds after which a retry may succeed, sent as `Retry-After`
    /// (RFC 9110 §10.2.3) on 429 and 503 answers.
    pub retry_after: Option<u64>,
}

impl ScimError {
    /// A client error with a status and optional `scimType`.
    pub fn client(
        status: StatusCode,
        scim_type: Option<ScimType>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            source: ErrorSource::Client,
            retry_after: None,
        }
    }

    /// 400 with the given `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// 404 for a resource or endpoint that does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_FOUND, None, detail)
    }

    /// 401 for a missing or wrong bearer token.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::UNAUTHORIZED, None, detail)
    }

    /// 501 for a part of the protocol this deployment does not implement.
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::client(StatusCode::NOT_IMPLEMENTED, None, detail)
    }

    /// An error caused by the app behind the sidecar (502 or 504).
    pub fn upstream(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type: None,
            detail: detail.into(),
            source: ErrorSource::Upstream,
            retry_after: None,
        }
    }

    /// 500 for a fault inside the sidecar.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            scim_type: None,
            detail: detail.into(),
            source: ErrorSource::Internal,
            retry_after: None,
        }
    }

    /// The same error with a `Retry-After` of `secs` seconds (at least 1).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }

    /// The same error with `note` appended to its detail.
    pub fn with_note(mut self, note: &str) -> Self {
        if !note.is_empty() {
            self.detail = format!("{}; {note}", self.detail);
        }
        self
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.detail)
    }
}

impl std::error::Error for ScimError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scim_type_round_trips_case_insensitively() {
        assert_eq!(ScimType::parse("UNIQUENESS"), Some(ScimType::Uniqueness));
        assert_eq!(
            ScimType::parse("invalidFilter").map(ScimType::as_str),
            Some("invalidFilter")
        );
        assert_eq!(ScimType::parse("bogus"), None);
    }
}
