//! The error of evaluating a compiled mapping on a request or response:
//! a SCIM value the mapping refuses (400), an app value or answer it
//! cannot read (502), or a request it cannot render.

/// An error while evaluating a compiled mapping on a request or response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A SCIM input value has the wrong type or is not allowed (→ 400 invalidValue).
    #[error("attribute `{attr}`: {message}")]
    InvalidValue {
        /// SCIM attribute path.
        attr: String,
        /// Lowercase reason.
        message: String,
    },
    /// The app returned a value the mapping cannot convert (→ 502).
    #[error("app value for `{attr}`: {message}")]
    HostValue {
        /// SCIM attribute path.
        attr: String,
        /// Lowercase reason.
        message: String,
    },
    /// The app's resource carries no id.
    #[error("the app's resource has no id")]
    MissingId,
    /// A request placeholder needed a value it did not get.
    #[error("placeholder `{0}` has no value")]
    MissingVar(String),
    /// A rendered header value is not a valid HTTP header value.
    #[error("header `{0}` has an invalid value")]
    BadHeader(String),
    /// The app's response does not have the configured shape (→ 502).
    #[error("unexpected app response: {0}")]
    BadResponse(String),
}
