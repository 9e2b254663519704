//! `scim-sidecar map`: dry runs of a mapping without an app or an IdP,
//! for mapping authors: a SCIM resource → the host body the create would
//! send, with the SCIM attributes the mapping does not cover; or a host
//! `get` answer → the SCIM resource the IdP would see (the record taken
//! from the answer at the `get` operation's `item` path, as the server
//! does). [`run`] does the mapping, [`main`] the printing.

use super::{load, read_json};
use crate::config::Config;
use crate::mapping::{OpKind, ResourceMapping};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

/// The arguments of `map`.
#[derive(clap::Args)]
pub struct Args {
    /// Config file.
    #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
    pub config: PathBuf,
    /// A SCIM User: print the host body a create would send, and the
    /// SCIM attributes the mapping does not cover.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "to_scim",
        required_unless_present = "to_scim"
    )]
    pub to_host: Option<PathBuf>,
    /// A host record: print the SCIM User the IdP would see.
    #[arg(long, value_name = "FILE")]
    pub to_scim: Option<PathBuf>,
}

/// Prints the mapped document on stdout and the attributes left out on
/// stderr.
pub fn main(args: Args) -> ExitCode {
    let config = match load(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (direction, file) = match (args.to_host, args.to_scim) {
        (Some(f), _) => (Direction::ToHost, f),
        (None, Some(f)) => (Direction::ToScim, f),
        (None, None) => return ExitCode::from(2),
    };
    let input = match read_json(&file) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match run(&config, direction, &input) {
        Ok(out) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&out.output).unwrap_or_default()
            );
            if !out.unmapped.is_empty() {
                eprintln!(
                    "not mapped (ignored or rejected per `unmapped`): {}",
                    out.unmapped.join(", ")
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Which way to map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// SCIM resource → host create body.
    ToHost,
    /// Host record → SCIM resource.
    ToScim,
}

/// The result of a dry run.
#[derive(Debug, Clone, PartialEq)]
pub struct DryRun {
    /// The mapped document.
    pub output: Value,
    /// SCIM attributes in the input that no rule covers (to-host only).
    pub unmapped: Vec<String>,
}

/// Maps `input` with the config's `[users]` mapping.
pub fn run(config: &Config, direction: Direction, input: &Value) -> Result<DryRun, String> {
    let m: &ResourceMapping = config
        .users
        .as_deref()
        .ok_or_else(|| "the config has no [users] mapping".to_string())?;
    match direction {
        Direction::ToHost => Ok(DryRun {
            output: m.to_host(input).map_err(|e| e.to_string())?,
            unmapped: m.unmapped_attributes(input),
        }),
        Direction::ToScim => {
            // A get answer is read like the server reads it: the record at
            // the operation's `item` path (`{"user": {…}}` → `{…}`).
            let item = m
                .op(OpKind::Get)
                .and_then(|op| op.extract_item(input))
                .filter(|i| i.is_object())
                .unwrap_or(input);
            Ok(DryRun {
                output: m.to_scim(item).map_err(|e| e.to_string())?,
                unmapped: Vec::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config() -> Config {
        let text = include_str!("../../config/example.toml");
        Config::from_toml(text, &|_| Some("k".into())).expect("example config")
    }

    #[test]
    fn to_host_lists_unmapped_attributes() {
        let scim = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@x",
            "name": {"givenName": "A"}, "password": "p", "ims": [{"value": "n"}]});
        let out = run(&config(), Direction::ToHost, &scim).unwrap();
        assert_eq!(out.output["login"], "a@x");
        assert_eq!(out.output["profile"]["first"], "A");
        assert!(
            out.unmapped.contains(&"password".to_string()),
            "{:?}",
            out.unmapped
        );
        assert!(
            out.unmapped.iter().any(|u| u.starts_with("ims")),
            "{:?}",
            out.unmapped
        );
    }

    #[test]
    fn to_scim_maps_a_host_record() {
        let host = json!({"id": 7, "login": "b@x", "state": "SUSPENDED"});
        let out = run(&config(), Direction::ToScim, &host).unwrap();
        assert_eq!(out.output["id"], "7");
        assert_eq!(out.output["active"], false);
        assert!(run(&config(), Direction::ToScim, &json!({"login": "x"})).is_err());
    }

    #[test]
    fn to_scim_reads_the_record_at_the_get_item_path() {
        let text = include_str!("../../config/rails.toml");
        let config = Config::from_toml(text, &|_| Some("k".into())).expect("rails config");
        let answer = json!({"user": {"id": 42, "email": "ada@x.io", "active": true}});
        let out = run(&config, Direction::ToScim, &answer).unwrap();
        assert_eq!(out.output["id"], "42");
        assert_eq!(out.output["userName"], "ada@x.io");
    }
}
