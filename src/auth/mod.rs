//! Bearer-token authentication of SCIM requests (RFC 6750 §2.1). Tokens are
//! known only as SHA-256 digests; the presented token is hashed and compared
//! in constant time against every configured digest, so neither the token
//! length nor which digest matched leaks through timing. Tokens are never
//! logged; a match is identified by its connection and token index.
//! Generating tokens and their stored form live in [`token`].

pub mod token;

pub use token::{NewToken, generate, parse_token_hash, token_digest, token_hash_string};

use crate::config::Connection;
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
}

/// Why a request was not authenticated. The variant decides the
/// `WWW-Authenticate` error code; the detail never echoes the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("authentication required: send `Authorization: Bearer <token>`")]
    Missing,
    /// An `Authorization` header that is not a bearer token.
    #[error("the Authorization header must use the Bearer scheme")]
    Malformed,
    /// A bearer token that matches no configured token.
    #[error("the bearer token is not valid")]
    Invalid,
}

impl AuthError {
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
    digests: Vec<([u8; 32], Principal)>,
}

impl Authenticator {
    /// Builds the digest table from the connections.
    pub fn new(connections: &[Connection]) -> Self {
        let digests = connections
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| {
                c.token_hashes.iter().enumerate().map(move |(ti, h)| {
                    (
                        *h,
                        Principal {
                            connection: ci,
                            token: ti,
                        },
                    )
                })
            })
            .collect();
        Self { digests }
    }

    /// Authenticates a request from its headers.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let value = values.next().ok_or(AuthError::Missing)?;
        if values.next().is_some() {
            return Err(AuthError::Malformed);
        }
        let token = bearer_token(value.as_bytes()).ok_or(AuthError::Malformed)?;
        self.check(token).ok_or(AuthError::Invalid)
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
    let valid = !token.is_empty()
        && token.iter().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
        });
    valid.then_some(token)
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
    use crate::config::Idp;
    use http::HeaderValue;

    fn auth() -> Authenticator {
        let conn = |id: &str, tokens: &[&str]| Connection {
            id: id.into(),
            idp: Idp::Okta,
            token_hashes: tokens
                .iter()
                .map(|t| parse_token_hash(&token_hash_string(t)).unwrap())
                .collect(),
            vars: Default::default(),
            base_path: "/scim/v2".into(),
            rate_limit: None,
        };
        Authenticator::new(&[conn("a", &["tok-a1", "tok-a2"]), conn("b", &["tok-b"])])
    }

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn accepts_each_token_of_each_connection() {
        let a = auth();
        assert_eq!(
            a.authenticate(&headers("Bearer tok-a2")),
            Ok(Principal {
                connection: 0,
                token: 1
            })
        );
        assert_eq!(
            a.authenticate(&headers("bearer tok-b")),
            Ok(Principal {
                connection: 1,
                token: 0
            })
        );
        assert_eq!(
            a.authenticate(&headers("BEARER   tok-a1 ")),
            Ok(Principal {
                connection: 0,
                token: 0
            })
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
