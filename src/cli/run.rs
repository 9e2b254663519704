//! `scim-sidecar run`: serves until SIGTERM or SIGINT, then drains;
//! SIGHUP reloads the config and the certificate. The binary installs
//! the log output first (`telemetry::init`, in the format asked for
//! here); from then on nothing writes to stderr directly:
//! every line, config errors included, goes through the log writer,
//! which never blocks on a stderr nobody reads and waits for it at most
//! a bounded time at exit. Nothing is written to stdout.

use super::load_reporting;
use crate::run_with_reload;
use crate::runtime::Workers;
use crate::telemetry::LogFormat;
use crate::telemetry::logs::LogOutput;
use clap::ValueEnum;
use std::io::Write;
use std::num::NonZero;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::runtime::Builder;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// The arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// Config file.
    #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
    pub config: PathBuf,
    /// Log format.
    #[arg(
        long,
        value_enum,
        default_value = "json",
        env = "SCIM_SIDECAR_LOG_FORMAT"
    )]
    pub log_format: Format,
    /// Threads serving requests; default: the CPUs this process may
    /// use (its affinity and cgroup quota). Each runs a single-threaded
    /// runtime and serves whole connections; with one, that thread also
    /// runs the listeners and the admin port.
    #[arg(long, env = "SCIM_SIDECAR_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub worker_threads: Option<u16>,
}

/// `--log-format` (see [`LogFormat`]). Its values carry no doc
/// comments: those would be printed in `--help`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

impl From<Format> for LogFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Json => Self::Json,
            Format::Text => Self::Text,
        }
    }
}

/// Serves with the config at `args.config`, logging through `logs`.
pub fn main(args: &Args, logs: &LogOutput) -> ExitCode {
    let mut stderr = logs.writer();
    let config = match load_reporting(&args.config, &mut stderr) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let started = Builder::new_current_thread()
        .enable_all()
        .build()
        .and_then(|rt| Ok((rt, Workers::start(worker_runtimes(args.worker_threads))?)));
    let (runtime, workers) = match started {
        Ok(started) => started,
        Err(e) => {
            let _ = stderr.write_all(format!("error: cannot start the runtime: {e}\n").as_bytes());
            return ExitCode::from(1);
        }
    };
    let spread = workers.spread();
    let served = runtime.block_on(async {
        let (reload, reloads) = mpsc::channel(1);
        tokio::spawn(forward_sighup(reload));
        let shutdown = shutdown_signal();
        let path = args.config.clone();
        run_with_reload(path, config, shutdown, reloads, logs.dropped(), spread).await
    });
    workers.stop();
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "scim-sidecar stopped");
            let _ = stderr.write_all(format!("error: {e}\n").as_bytes());
            ExitCode::from(1)
        }
    }
}

/// How many worker runtimes serve connections besides the main one: one
/// per CPU this process may use (or per thread asked for), none when that
/// is one, as the main runtime then serves them itself.
fn worker_runtimes(threads: Option<u16>) -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, NonZero::get);
    match threads.map_or(cpus, usize::from) {
        1 => 0,
        n => n,
    }
}

/// Asks for a config and certificate reload on every SIGHUP.
async fn forward_sighup(reload: mpsc::Sender<()>) {
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP received: reloading");
        let _ = reload.try_send(());
    }
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
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
