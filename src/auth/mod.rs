//! Bearer-token authentication of SCIM requests (RFC 6750 §2.1). Tokens are
//! known only as SHA-256 digests; the presented token is hashed and compared
//! in constant time against every configured digest, so neither the token
//! length nor which digest matched leaks through timing. Tokens are never
//! logged; a match is identified by its connection and token index, and by
//! how it was presented ([`Scheme`]: `Bearer <token>`, or the bare token
//! some Okta apps send). Generating tokens and their stored form
//! ([`TokenHash`]) live in [`token`]; the config holds token hashes, and
//! this module knows nothing of the config.

pub mod token;

pub use token::{NewToken, TokenHash, generate, parse_token_hash, token_digest, token_hash_string};

use http::HeaderMap;
use http::header::AUTHORIZATION;
use subtle::ConstantTimeEq;

/// The authenticated caller of a SCIM request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// Index of the connection in the config.
    pub connection: usize,
    /// Index of the matching token within the connection (for rotation logs).
    pub token: usize,
    /// How the token was presented.
    pub scheme: Scheme,
}

/// How a valid token was presented in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Bearer <token>` (RFC 6750 §2.1).
    Bearer,
    /// The token alone, without a scheme.
    Bare,
}

impl Scheme {
    /// The metric label: `bearer` or `bare`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::Bare => "bare",
        }
    }
}

/// Why a request was not authenticated. The variant decides the
/// `WWW-Authenticate` error code; the detail never echoes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("authentication required: send `Authorization: Bearer <token>`")]
    Missing,
    /// An `Authorization` header that is neither a bearer token nor a bare
    /// token.
    #[error("the Authorization header must use the Bearer scheme")]
    Malformed,
    /// A bearer token that matches no configured token.
    #[error("the bearer token is not valid")]
    Invalid,
}

impl AuthError {
    /// The metric label: `missing`, `malformed` or `invalid`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Invalid => "invalid",
        }
    }

    /// The `WWW-Authenticate` challenge for this failure (RFC 6750 §3).
    pub fn challenge(self) -> &'static str {
        match self {
            Self::Missing => "Bearer realm=\"scim\"",
            Self::Malformed => "Bearer realm=\"scim\", error=\"invalid_request\"",
            Self::Invalid => "Bearer realm=\"scim\", error=\"invalid_token\"",
        }
    }
}

/// The set of accepted token digests across all connections.
#[derive(Debug, Clone, Default)]
pub struct Authenticator {
    digests: Vec<(TokenHash, Principal)>,
}

impl Authenticator {
    /// Builds the digest table from each connection's token hashes, in
    /// config order: the position of a connection's list is the
    /// connection index of its principals.
    pub fn new<'a>(connections: impl IntoIterator<Item = &'a [TokenHash]>) -> Self {
        let digests = connections
            .into_iter()
            .enumerate()
            .flat_map(|(ci, hashes)| {
                hashes.iter().enumerate().map(move |(ti, h)| {
                    (
                        *h,
                        Principal {
                            connection: ci,
                            token: ti,
                            scheme: Scheme::Bearer,
                        },
                    )
                })
            })
            .collect();
        Self { digests }
    }

    /// Authenticates a request from its headers: `Bearer <token>`, or a
    /// value that is the token alone.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let value = values.next().ok_or(AuthError::Missing)?;
        if values.next().is_some() {
            return Err(AuthError::Malformed);
        }
        let value = value.as_bytes();
        if let Some(token) = bearer_token(value) {
            return self.check(token).ok_or(AuthError::Invalid);
        }
        // Okta: the standalone "SCIM 2.0 Test App (Header Auth)" sends its
        // API Token field verbatim as the header, so an admin who pastes
        // the bare token makes Okta send `Authorization: <token>` (no
        // scheme). The value is then checked as a token like any other: a
        // wrong one is an ordinary invalid token.
        let token = bare_token(value).ok_or(AuthError::Malformed)?;
        let principal = self.check(token).ok_or(AuthError::Invalid)?;
        Ok(Principal {
            scheme: Scheme::Bare,
            ..principal
        })
    }

    /// Finds the principal of a raw token, comparing against every digest.
    pub fn check(&self, token: &[u8]) -> Option<Principal> {
        let presented = token_digest(token);
        let mut found = None;
        for (digest, principal) in &self.digests {
            if bool::from(digest.ct_eq(&presented)) {
                found = Some(*principal);
            }
        }
        found
    }
}

/// Extracts the token of `Bearer <token>` (scheme case-insensitive, RFC 7235
/// §2.1); the token must be non-empty b64token characters (RFC 6750 §2.1).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = split_at_space(value)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = trim_spaces(rest);
    is_b64token(token).then_some(token)
}

/// A whole header value that can only be a token: b64token characters, no
/// scheme (the scheme name alone, `Bearer` with nothing after it, is not
/// a token but a malformed credential).
fn bare_token(value: &[u8]) -> Option<&[u8]> {
    let token = trim_spaces(value);
    (is_b64token(token) && !token.eq_ignore_ascii_case(b"bearer")).then_some(token)
}

/// Non-empty b64token characters (RFC 6750 §2.1).
fn is_b64token(token: &[u8]) -> bool {
    !token.is_empty()
        && token.iter().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
        })
}

fn split_at_space(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let pos = v.iter().position(|b| *b == b' ')?;
    Some((&v[..pos], &v[pos..]))
}

fn trim_spaces(mut v: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' '] = v {
        v = rest;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn auth() -> Authenticator {
        let hashes = |tokens: &[&str]| -> Vec<TokenHash> {
            tokens
                .iter()
                .map(|t| parse_token_hash(&token_hash_string(t)).unwrap())
                .collect()
        };
        let (a, b) = (hashes(&["tok-a1", "tok-a2"]), hashes(&["tok-b"]));
        Authenticator::new([a.as_slice(), b.as_slice()])
    }

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accepts_each_token_of_each_connection() {
        let a = auth();
        let bearer = |connection, token| {
            Ok(Principal {
                connection,
                token,
                scheme: Scheme::Bearer,
            })
        };
        assert_eq!(a.authenticate(&headers("Bearer tok-a2")), bearer(0, 1));
        assert_eq!(a.authenticate(&headers("bearer tok-b")), bearer(1, 0));
        assert_eq!(a.authenticate(&headers("BEARER   tok-a1 ")), bearer(0, 0));
    }

    #[test]
    fn accepts_a_bare_token_as_okta_header_auth_sends_it() {
        let a = auth();
        assert_eq!(
            a.authenticate(&headers("tok-a2")),
            Ok(Principal {
                connection: 0,
                token: 1,
                scheme: Scheme::Bare,
            })
        );
        // A bare value that is no token is an invalid token, not a match.
        assert_eq!(a.authenticate(&headers("tok-a3")), Err(AuthError::Invalid));
        assert_eq!(
            a.authenticate(&headers("Bearer")),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn rejects_missing_malformed_and_wrong() {
        let a = auth();
        assert_eq!(a.authenticate(&HeaderMap::new()), Err(AuthError::Missing));
        assert_eq!(
            a.authenticate(&headers("Basic dXNlcjpwYXNz")),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            a.authenticate(&headers("non-token")),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            a.authenticate(&headers("not a token")),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            a.authenticate(&headers("Bearer ")),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            a.authenticate(&headers("Bearer tok a1")),
            Err(AuthError::Malformed)
        );
        assert_eq!(
            a.authenticate(&headers("Bearer tok-a3")),
            Err(AuthError::Invalid)
        );
        let mut two = headers("Bearer tok-a1");
        two.append(AUTHORIZATION, HeaderValue::from_static("Bearer tok-b"));
        assert_eq!(a.authenticate(&two), Err(AuthError::Malformed));
    }
}
