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
    match scim_sidecar::token::generate() {
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
