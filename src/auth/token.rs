//! Bearer tokens at rest: generation for `scim-sidecar token` and
//! `connection new` (32 random bytes from the OS RNG, URL-safe base64
//! without padding), and [`TokenHash`], the SHA-256 digest the config
//! stores instead of the token (written `sha256:<hex>`). Checking a
//! presented token is [`super::Authenticator`]'s.

use crate::hex;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::{Choice, ConstantTimeEq};

/// The SHA-256 digest of a bearer token: the only form in which the
/// sidecar knows a token. Compared in constant time; shown as
/// `sha256:<hex>`, the form the config stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl ConstantTimeEq for TokenHash {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(&self.0))
    }
}

/// A new token and its config form.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The secret to give to the IdP.
    pub token: String,
    /// `sha256:<hex>`, for `[[connections]] tokens`.
    pub hash: String,
}

/// Generates a token from the OS RNG.
pub fn generate() -> Result<NewToken, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash_string(&token);
    Ok(NewToken { token, hash })
}

/// Parses `sha256:<64 hex digits>`. A plain token is refused with advice:
/// the config holds only hashes.
pub fn parse_token_hash(text: &str) -> Result<TokenHash, String> {
    let Some(hex) = text.strip_prefix("sha256:") else {
        return Err(
            "tokens are stored as `sha256:<hex>` hashes; `scim-sidecar token` prints one".into(),
        );
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return Err("a sha256 hash has 64 hex digits".into());
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks(2).enumerate() {
        match (hex_val(pair[0]), hex_val(pair[1])) {
            (Some(h), Some(l)) => out[i] = h << 4 | l,
            _ => return Err("a sha256 hash has only hex digits".into()),
        }
    }
    Ok(TokenHash(out))
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The SHA-256 digest of a token, as [`super::Authenticator`] compares it.
pub fn token_digest(token: &[u8]) -> TokenHash {
    TokenHash(Sha256::digest(token).into())
}

/// The `sha256:<hex>` form of a token, as the config stores it.
pub fn token_hash_string(token: &str) -> String {
    token_digest(token.as_bytes()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_and_hash_to_config_form() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a.token, b.token);
        assert_eq!(a.token.len(), 43);
        assert!(
            a.token
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(a.hash, token_hash_string(&a.token));
        assert!(parse_token_hash(&a.hash).is_ok());
    }
}
