//! Bearer token generation for `scim-sidecar token`: 32 random bytes from
//! the OS RNG, URL-safe base64 without padding, and the `sha256:` form that
//! goes into the config.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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
    let hash = crate::config::token_hash_string(&token);
    Ok(NewToken { token, hash })
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
        assert_eq!(a.hash, crate::config::token_hash_string(&a.token));
        assert!(crate::config::parse_token_hash(&a.hash).is_ok());
    }
}
