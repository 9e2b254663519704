//! `scim-sidecar connection new`: what onboarding one customer organisation
//! takes — the SCIM base URL and a fresh bearer token for the customer's
//! admin to paste into their IdP, and the `[[connections]]` lines for the
//! operator to add (with the token's hash only; the token itself is shown
//! once and never stored). [`new_connection`] prepares them, [`main`]
//! prints them.

use super::IdpArg;
use crate::auth::{generate, token_hash_string};
use crate::config::{Idp, OnboardingSettings};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The subcommands of `connection`.
#[derive(Subcommand)]
pub enum Command {
    /// Print the SCIM base URL and a fresh token for a customer's IdP, and
    /// the config lines to add (token hash only).
    New {
        /// Connection id, e.g. the customer's short name.
        #[arg(long)]
        id: String,
        /// The customer's identity provider.
        #[arg(long, value_enum, default_value = "generic")]
        idp: IdpArg,
        /// SCIM base path; default `<[scim] base_path>/<id>`.
        #[arg(long)]
        base_path: Option<String>,
        /// Config file, for `[server] public_url` and `[scim] base_path`.
        #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// Runs `connection <command>`.
pub fn main(command: Command) -> ExitCode {
    let Command::New {
        id,
        idp,
        base_path,
        config,
    } = command;
    run_new(&id, idp.into(), base_path.as_deref(), config.as_deref())
}

/// `connection new`: prints the URL, the token, where they go in the IdP
/// and the config lines.
fn run_new(id: &str, idp: Idp, base_path: Option<&str>, config: Option<&Path>) -> ExitCode {
    let loaded = match config.map(onboarding_settings).transpose() {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Some(path) = config
        && loaded
            .as_ref()
            .is_some_and(|s| s.connection_ids.iter().any(|c| c == id))
    {
        eprintln!(
            "error: {} already has a connection `{id}`; choose another id, or add a token to it with `scim-sidecar token`",
            path.display()
        );
        return ExitCode::from(2);
    }
    let default_base = loaded.as_ref().map_or("/scim/v2", |c| c.base_path.as_str());
    let origin = loaded.as_ref().and_then(|c| c.public_origin.as_deref());
    match new_connection(id, idp, base_path, default_base, origin) {
        Ok(o) => {
            println!("SCIM base URL: {}", o.scim_url);
            println!("Bearer token:  {}", o.token);
            println!("  (shown once: the sidecar stores only its hash)");
            println!();
            println!("{}", o.idp_steps);
            println!();
            println!("Add to the config (or a file of [scim] connections_from):");
            println!();
            print!("{}", o.toml);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The keys of a config that `connection new` uses; the rest (the app's
/// secrets included) need not be loadable where the command runs.
fn onboarding_settings(path: &Path) -> Result<OnboardingSettings, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read config file {}: {e}", path.display());
        ExitCode::from(1)
    })?;
    OnboardingSettings::from_toml(&text).map_err(|errors| {
        eprint!("{}", errors.render(&path.display().to_string(), &text));
        eprintln!("{} error(s) in {}", errors.0.len(), path.display());
        ExitCode::from(1)
    })
}

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
