//! The `scim-sidecar` command line: its arguments ([`Cli`]) and one file
//! per subcommand — [`run`] serves, [`check`] validates a config (and,
//! with `--probe`, reads the app), [`token`] makes a bearer token,
//! [`connection`] onboards an IdP tenant, [`explain`] shows what a SCIM
//! request would do to the app, [`map`] dry-runs a mapping, [`draft`]
//! writes a first config from the app's OpenAPI document. Each
//! subcommand's `main` returns the process's exit code: 0 success, 1
//! invalid config or runtime failure, 2 usage error. The binary parses
//! the arguments, installs the process globals and calls the subcommand.
//! The parts tests call directly ([`explain::explain`], [`check::probe`],
//! [`map::run`], [`connection::new_connection`]) print nothing.

pub mod check;
pub mod connection;
pub mod draft;
pub mod explain;
pub mod map;
pub mod run;
pub mod token;

use crate::config::{Config, Idp, LoadError};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// `--version`: the crate's version and the commit it was built from
/// (`unknown` when neither git nor the build's environment named one).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SCIM_SIDECAR_GIT_COMMIT"),
    ")"
);

/// The command line.
#[derive(Parser)]
#[command(
    name = "scim-sidecar",
    version = VERSION,
    about = "A SCIM 2.0 server for an existing app, as a reverse proxy"
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands; each variant's arguments live in its own file.
#[derive(Subcommand)]
pub enum Command {
    /// Serve: SCIM below the base path, everything else passed to the app.
    Run(run::Args),
    /// Validate a config: print every error with file:line:col, or the effective settings.
    Check(check::Args),
    /// Print a new random bearer token and the `sha256:` form for the config.
    Token,
    /// Manage IdP connections (tenants).
    #[command(subcommand)]
    Connection(connection::Command),
    /// Show what a SCIM request would do to the app: the reads and the
    /// write plan, call by call. No write call is made.
    Explain(explain::Args),
    /// Dry-run the [users] mapping on a JSON file (no app, no IdP needed).
    Map(map::Args),
    /// Draft a config from the app's OpenAPI document (a file or a URL).
    Draft(draft::Args),
}

/// `--idp`, spelled as on the command line. Its values carry no doc
/// comments: those would be printed in `--help`.
#[derive(Clone, Copy, ValueEnum)]
pub enum IdpArg {
    Okta,
    Entra,
    #[value(name = "onelogin")]
    OneLogin,
    #[value(name = "jumpcloud")]
    JumpCloud,
    #[value(name = "pingone")]
    PingOne,
    Generic,
}

impl From<IdpArg> for Idp {
    fn from(idp: IdpArg) -> Self {
        match idp {
            IdpArg::Okta => Self::Okta,
            IdpArg::Entra => Self::Entra,
            IdpArg::OneLogin => Self::OneLogin,
            IdpArg::JumpCloud => Self::JumpCloud,
            IdpArg::PingOne => Self::PingOne,
            IdpArg::Generic => Self::Generic,
        }
    }
}

/// Loads a config, printing what is wrong with it on stderr.
fn load(path: &Path) -> Result<Config, ExitCode> {
    load_reporting(path, &mut std::io::stderr())
}

/// Loads a config, writing what is wrong with it to `out`.
fn load_reporting(path: &Path, out: &mut dyn Write) -> Result<Config, ExitCode> {
    Config::from_file(path).map_err(|e| {
        let text = match &e {
            LoadError::Read { .. } => format!("error: {e}\n"),
            LoadError::Invalid { rendered, errors } => {
                format!(
                    "{rendered}{} error(s) in {}\n",
                    errors.0.len(),
                    path.display()
                )
            }
        };
        // In one write, so that the log writer keeps or drops it whole;
        // it has nowhere else to go if it cannot be written.
        let _ = out.write_all(text.as_bytes());
        ExitCode::from(1)
    })
}

/// A JSON file, or why it could not be read (naming the file).
fn read_json(file: &Path) -> Result<serde_json::Value, String> {
    std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("invalid JSON: {e}")))
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// A single-threaded runtime for a command that makes a few calls.
fn current_thread_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the runtime: {e}");
            ExitCode::from(1)
        })
}
