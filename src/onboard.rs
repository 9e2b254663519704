//! `scim-sidecar connection new`: what onboarding one customer organisation
//! takes — the SCIM base URL and a fresh bearer token for the customer's
//! admin to paste into their IdP, and the `[[connections]]` lines for the
//! operator to add (with the token's hash only; the token itself is shown
//! once and never stored).

use crate::auth::{generate, token_hash_string};
use crate::config::Idp;

/// A new connection, ready to print.
#[derive(Debug, Clone)]
pub struct Onboarding {
    /// The SCIM base URL for the IdP.
    pub scim_url: String,
    /// The bearer token for the IdP (shown once).
    pub token: String,
    /// The TOML lines for the config.
    pub toml: String,
    /// Where the two values go in the IdP's admin console.
    pub idp_steps: &'static str,
}

/// Why a connection could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum OnboardError {
    /// The id is not usable.
    #[error("the id must be 1-64 characters of letters, digits, `-` or `_`")]
    BadId,
    /// The OS random number generator failed.
    #[error("the OS random number generator failed: {0}")]
    Random(getrandom::Error),
}

/// Prepares connection `id`: base path `{default_base}/{id}` unless given,
/// URL on `origin` (`https://<your-host>` when unknown).
pub fn new_connection(
    id: &str,
    idp: Idp,
    base_path: Option<&str>,
    default_base: &str,
    origin: Option<&str>,
) -> Result<Onboarding, OnboardError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(OnboardError::BadId);
    }
    let base = base_path.map_or_else(
        || format!("{}/{id}", default_base.trim_end_matches('/')),
        |b| b.trim_end_matches('/').to_string(),
    );
    let token = generate().map_err(OnboardError::Random)?.token;
    let toml = format!(
        "[[connections]]\nid = \"{id}\"\nidp = \"{idp}\"\nbase_path = \"{base}\"\ntokens = [\"{hash}\"]\n",
        idp = idp.as_str(),
        hash = token_hash_string(&token),
    );
    Ok(Onboarding {
        scim_url: format!("{}{base}", origin.unwrap_or("https://<your-host>")),
        token,
        toml,
        idp_steps: match idp {
            Idp::Okta => {
                "Okta: Applications → the app → Provisioning → Integration: \"SCIM connector base URL\" = the URL, \"Unique identifier field for users\" = userName, \"Authentication Mode\" = HTTP Header, \"Authorization\" = the token."
            }
            Idp::Entra => {
                "Entra ID: Enterprise applications → the app → Provisioning → Admin Credentials: \"Tenant URL\" = the URL, \"Secret Token\" = the token; then Test Connection."
            }
            Idp::OneLogin => {
                "OneLogin: Applications → the SCIM Provisioner app → Configuration: \"SCIM Base URL\" = the URL, \"SCIM Bearer Token\" = the token; then Enable."
            }
            Idp::JumpCloud => {
                "JumpCloud: SSO Applications → the app → Identity Management → Custom SCIM: \"Base URL\" = the URL, \"Token Key\" = the token; then Test Connection."
            }
            Idp::PingOne => {
                "PingOne: Integrations → Provisioning → a SCIM outbound connection: \"SCIM BASE URL\" = the URL, authentication = OAuth 2 Bearer Token with the token."
            }
            Idp::Generic => {
                "The IdP's SCIM settings: base URL = the URL, authentication = HTTP header `Authorization: Bearer <token>`."
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::parse_token_hash;

    #[test]
    fn prints_url_token_and_hash_only_lines() {
        let o = new_connection(
            "acme",
            Idp::Okta,
            None,
            "/scim/v2",
            Some("https://sso.example.com"),
        )
        .unwrap();
        assert_eq!(o.scim_url, "https://sso.example.com/scim/v2/acme");
        assert!(
            !o.toml.contains(&o.token),
            "the token never goes in the config"
        );
        let hash = o
            .toml
            .lines()
            .find_map(|l| l.strip_prefix("tokens = [\""))
            .and_then(|l| l.strip_suffix("\"]"))
            .unwrap();
        assert_eq!(hash, token_hash_string(&o.token));
        assert!(parse_token_hash(hash).is_ok());
        assert!(o.toml.contains("base_path = \"/scim/v2/acme\""));
        assert!(new_connection("a b", Idp::Okta, None, "/scim/v2", None).is_err());
    }
}
