//! The `scim-sidecar` command: `run`, `check` and `token`. Thin by design:
//! it parses arguments, installs logging and signal handling, and calls the
//! library. Exit codes: 0 success, 1 invalid config or runtime failure,
//! 2 usage error.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use scim_sidecar::config::{Config, LoadError};
use scim_sidecar::telemetry::{self, LogFormat};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "scim-sidecar",
    version,
    about = "A SCIM 2.0 server for an existing app, as a reverse proxy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve: SCIM below the base path, everything else passed to the app.
    Run {
        /// Config file.
        #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
        config: PathBuf,
        /// Log format.
        #[arg(
            long,
            value_enum,
            default_value = "json",
            env = "SCIM_SIDECAR_LOG_FORMAT"
        )]
        log_format: Format,
    },
    /// Validate a config: print every error with file:line:col, or the effective settings.
    Check {
        /// Config file.
        #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
        config: PathBuf,
    },
    /// Print a new random bearer token and the `sha256:` form for the config.
    Token,
    /// Dry-run the [users] mapping on a JSON file (no app, no IdP needed).
    Map {
        /// Config file.
        #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
        config: PathBuf,
        /// A SCIM User: print the host body a create would send, and the
        /// SCIM attributes the mapping does not cover.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "to_scim",
            required_unless_present = "to_scim"
        )]
        to_host: Option<PathBuf>,
        /// A host record: print the SCIM User the IdP would see.
        #[arg(long, value_name = "FILE")]
        to_scim: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Text,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, log_format } => run(&config, log_format),
        Command::Check { config } => check(&config),
        Command::Token => token(),
        Command::Map {
            config,
            to_host,
            to_scim,
        } => map(&config, to_host, to_scim),
    }
}

fn load(path: &std::path::Path) -> Result<Config, ExitCode> {
    Config::from_file(path).map_err(|e| {
        match &e {
            LoadError::Read { .. } => eprintln!("error: {e}"),
            LoadError::Invalid { rendered, errors } => {
                eprint!("{rendered}");
                eprintln!("{} error(s) in {}", errors.0.len(), path.display());
            }
        }
        ExitCode::from(1)
    })
}

fn check(path: &std::path::Path) -> ExitCode {
    match load(path) {
        Ok(config) => {
            println!("{}: ok", path.display());
            print!("{}", config.summary());
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn token() -> ExitCode {
    match scim_sidecar::auth::generate() {
        Ok(t) => {
            println!("token:  {}", t.token);
            println!("config: {}", t.hash);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the OS random number generator failed: {e}");
            ExitCode::from(1)
        }
    }
}

fn map(config: &std::path::Path, to_host: Option<PathBuf>, to_scim: Option<PathBuf>) -> ExitCode {
    use scim_sidecar::dryrun::{self, Direction};
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let (direction, file) = match (to_host, to_scim) {
        (Some(f), _) => (Direction::ToHost, f),
        (None, Some(f)) => (Direction::ToScim, f),
        (None, None) => return ExitCode::from(2),
    };
    let input = match std::fs::read_to_string(&file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("invalid JSON: {e}")))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    match dryrun::run(&config, direction, &input) {
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

fn run(path: &std::path::Path, format: Format) -> ExitCode {
    telemetry::init(match format {
        Format::Json => LogFormat::Json,
        Format::Text => LogFormat::Text,
    });
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(scim_sidecar::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "scim-sidecar stopped");
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without signal handlers the process still stops on the default
        // disposition; just never resolve.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received"),
        _ = int.recv() => tracing::info!("SIGINT received"),
    }
}
