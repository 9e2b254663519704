//! The `scim-sidecar` command: `run`, `check`, `token`, `connection new`,
//! `map`, `explain` and `draft`. Thin by design: it parses the arguments
//! ([`cli::Cli`]), installs the process globals — the rustls crypto
//! provider, and for `run` the log output and a panic hook that logs
//! through it — and calls the subcommand in [`cli`]. Exit codes: 0
//! success, 1 invalid config or runtime failure, 2 usage error.

#![forbid(unsafe_code)]

use clap::Parser;
use scim_sidecar::cli::{self, Cli, Command};
use scim_sidecar::telemetry;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The process-wide rustls provider, for any dependency that asks for
    // the default; the library itself passes its provider explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        Command::Run(args) => {
            let logs = match telemetry::init(args.log_format.into()) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: cannot start the log writer: {e}");
                    return ExitCode::from(1);
                }
            };
            // A panic's message goes through the log writer too: written
            // straight to a stderr nobody reads, it would hold up the
            // thread that panicked.
            std::panic::set_hook(Box::new(|info| {
                tracing::error!(panic = %info, "panicked");
            }));
            cli::run::main(&args, &logs)
        }
        Command::Check(args) => cli::check::main(&args),
        Command::Token => cli::token::main(),
        Command::Connection(command) => cli::connection::main(command),
        Command::Explain(args) => cli::explain::main(args),
        Command::Map(args) => cli::map::main(args),
        Command::Draft(args) => cli::draft::main(args),
    }
}
