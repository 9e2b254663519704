//! The `scim-sidecar` command: `run`, `check`, `token`, `connection new`,
//! `map`, `explain` and `draft`. Thin by design: it parses arguments, installs the
//! process globals (the rustls crypto provider, logging, a panic hook that
//! logs through it) and signal handling (SIGTERM/SIGINT drain, SIGHUP
//! reload), and calls the library. Exit codes: 0 success, 1 invalid config
//! or runtime failure, 2 usage error.

#![forbid(unsafe_code)]

use clap::{Parser, Subcommand, ValueEnum};
use scim_sidecar::config::{Config, LoadError};
use scim_sidecar::telemetry::{self, LogFormat};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `--version`: the crate's version and the commit it was built from
/// (`unknown` when neither git nor the build's environment named one).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SCIM_SIDECAR_GIT_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "scim-sidecar",
    version = VERSION,
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
        /// Threads serving requests; default: the CPUs this process may
        /// use (its affinity and cgroup quota). With one, the sidecar runs
        /// on a single-threaded runtime, which costs less per request.
        #[arg(long, env = "SCIM_SIDECAR_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
        worker_threads: Option<u16>,
    },
    /// Validate a config: print every error with file:line:col, or the effective settings.
    Check {
        /// Config file.
        #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
        config: PathBuf,
        /// Also read one real user (and group) from the app, read-only, and
        /// show it as the IdP would see it, naming attributes that came out empty.
        #[arg(long)]
        probe: bool,
    },
    /// Print a new random bearer token and the `sha256:` form for the config.
    Token,
    /// Manage IdP connections (tenants).
    Connection {
        #[command(subcommand)]
        action: ConnectionCommand,
    },
    /// Show what a SCIM request would do to the app: the reads and the
    /// write plan, call by call. No write call is made.
    Explain {
        /// Config file.
        #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
        config: PathBuf,
        /// Make no call at all, not even reads (plans assume an empty resource).
        #[arg(long)]
        offline: bool,
        /// The connection whose dialect and variables apply (default: the first).
        #[arg(long)]
        connection: Option<String>,
        /// The SCIM request body (JSON), for POST, PUT, PATCH and searches.
        #[arg(long, value_name = "FILE")]
        body: Option<PathBuf>,
        /// The SCIM method, e.g. PATCH.
        method: String,
        /// The SCIM path, e.g. /scim/v2/Users/1001.
        path: String,
    },
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
    /// Draft a config from the app's OpenAPI document (a file or a URL).
    Draft(DraftArgs),
}

/// `draft`: a first config from the app's OpenAPI document.
#[derive(clap::Args)]
struct DraftArgs {
    /// The OpenAPI 3.x or Swagger 2.0 document (JSON or YAML): a file or an http(s) URL.
    #[arg(long, value_name = "FILE|URL")]
    openapi: String,
    /// The app's base URL (default: the document's first server).
    #[arg(long, value_name = "URL")]
    app_url: Option<String>,
    /// A header for fetching the document and for --probe, e.g. 'X-Api-Key: …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// The IdP of the drafted connection.
    #[arg(long, value_enum, default_value = "okta")]
    idp: IdpArg,
    /// The sidecar's listen address in the draft (default 0.0.0.0:8080).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// Read one page of users and one user from the app (GET only) to
    /// confirm or correct the draft, and report which attributes have values.
    #[arg(long)]
    probe: bool,
    /// Write the config here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ConnectionCommand {
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

#[derive(Clone, Copy, ValueEnum)]
enum IdpArg {
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

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Text,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The process-wide rustls provider, for any dependency that asks for
    // the default; the library itself passes its provider explicitly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli.command {
        Command::Run {
            config,
            log_format,
            worker_threads,
        } => run(&config, log_format, worker_threads),
        Command::Check { config, probe } => check(&config, probe),
        Command::Token => token(),
        Command::Connection {
            action:
                ConnectionCommand::New {
                    id,
                    idp,
                    base_path,
                    config,
                },
        } => connection_new(&id, idp, base_path.as_deref(), config.as_deref()),
        Command::Map {
            config,
            to_host,
            to_scim,
        } => map(&config, to_host, to_scim),
        Command::Explain {
            config,
            offline,
            connection,
            body,
            method,
            path,
        } => explain(
            &config,
            offline,
            connection.as_deref(),
            body,
            &method,
            &path,
        ),
        Command::Draft(args) => draft(args),
    }
}

/// `draft`: the library drafts, writes the file and reports.
fn draft(a: DraftArgs) -> ExitCode {
    let opts = scim_sidecar::draft::Options {
        openapi: a.openapi,
        app_url: a.app_url,
        headers: a.headers,
        idp: idp_name(a.idp).to_owned(),
        listen: a.listen,
        probe: a.probe,
    };
    scim_sidecar::draft::command(&opts, a.out.as_deref())
}

fn idp_name(idp: IdpArg) -> &'static str {
    match idp {
        IdpArg::Okta => "okta",
        IdpArg::Entra => "entra",
        IdpArg::OneLogin => "onelogin",
        IdpArg::JumpCloud => "jumpcloud",
        IdpArg::PingOne => "pingone",
        IdpArg::Generic => "generic",
    }
}

fn explain(
    config: &std::path::Path,
    offline: bool,
    connection: Option<&str>,
    body: Option<PathBuf>,
    method: &str,
    path: &str,
) -> ExitCode {
    use scim_sidecar::explain::{ExplainError, Request};
    let config = match load(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Ok(method) = method.to_ascii_uppercase().parse::<http::Method>() else {
        eprintln!("error: `{method}` is not an HTTP method");
        return ExitCode::from(2);
    };
    let body = match body.map(|f| read_json(&f)).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let req = Request {
        connection,
        method,
        path,
        body,
        offline,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(scim_sidecar::explain::explain(config, req)) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e @ ExplainError::Usage(_)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn read_json(file: &std::path::Path) -> Result<serde_json::Value, String> {
    std::fs::read_to_string(file)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("invalid JSON: {e}")))
        .map_err(|e| format!("{}: {e}", file.display()))
}

fn load(path: &std::path::Path) -> Result<Config, ExitCode> {
    load_reporting(path, &mut std::io::stderr())
}

/// Loads a config, writing what is wrong with it to `out`.
fn load_reporting(path: &std::path::Path, out: &mut dyn Write) -> Result<Config, ExitCode> {
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

/// The keys of a config that `connection new` uses; the rest (the app's
/// secrets included) need not be loadable where the command runs.
fn onboarding_settings(
    path: &std::path::Path,
) -> Result<scim_sidecar::config::OnboardingSettings, ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read config file {}: {e}", path.display());
        ExitCode::from(1)
    })?;
    scim_sidecar::config::OnboardingSettings::from_toml(&text).map_err(|errors| {
        eprint!("{}", errors.render(&path.display().to_string(), &text));
        eprintln!("{} error(s) in {}", errors.0.len(), path.display());
        ExitCode::from(1)
    })
}

fn check(path: &std::path::Path, probe: bool) -> ExitCode {
    match load(path) {
        Ok(config) if probe => {
            println!("{}: ok", path.display());
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            let result = match runtime {
                Ok(rt) => rt.block_on(scim_sidecar::explain::probe(config)),
                Err(e) => {
                    eprintln!("error: cannot start the runtime: {e}");
                    return ExitCode::from(1);
                }
            };
            match result {
                Ok(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("probe: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Ok(config) => {
            if let Some(tls) = &config.server.tls {
                let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
                if let Err(e) = scim_sidecar::http::tls::CertStore::load(tls, provider) {
                    eprintln!("error: server.tls: {e}");
                    return ExitCode::from(1);
                }
            }
            println!("{}: ok", path.display());
            print!("{}", config.summary());
            for w in config.users.iter().flat_map(|u| u.warnings()) {
                println!("warning: {w}");
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn connection_new(
    id: &str,
    idp: IdpArg,
    base_path: Option<&str>,
    config: Option<&std::path::Path>,
) -> ExitCode {
    use scim_sidecar::config::Idp;
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
    let idp = match idp {
        IdpArg::Okta => Idp::Okta,
        IdpArg::Entra => Idp::Entra,
        IdpArg::OneLogin => Idp::OneLogin,
        IdpArg::JumpCloud => Idp::JumpCloud,
        IdpArg::PingOne => Idp::PingOne,
        IdpArg::Generic => Idp::Generic,
    };
    match scim_sidecar::onboard::new_connection(id, idp, base_path, default_base, origin) {
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
    let input = match read_json(&file) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
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

/// Serves. From here on nothing writes to stderr directly: every line,
/// config errors included, goes through the log writer, which never
/// blocks on a stderr nobody reads and waits for it at most a bounded
/// time at exit. Nothing is written to stdout.
fn run(path: &std::path::Path, format: Format, workers: Option<u16>) -> ExitCode {
    let logs = match telemetry::init(match format {
        Format::Json => LogFormat::Json,
        Format::Text => LogFormat::Text,
    }) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot start the log writer: {e}");
            return ExitCode::from(1);
        }
    };
    // A panic's message goes through the log writer too: written straight
    // to a stderr nobody reads, it would hold up the thread that panicked.
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "panicked");
    }));
    let mut stderr = logs.writer();
    let config = match load_reporting(path, &mut stderr) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let runtime = match build_runtime(workers) {
        Ok(rt) => rt,
        Err(e) => {
            let _ = stderr.write_all(format!("error: cannot start the runtime: {e}\n").as_bytes());
            return ExitCode::from(1);
        }
    };
    let served = runtime.block_on(async {
        let (reload, reloads) = tokio::sync::mpsc::channel(1);
        tokio::spawn(forward_sighup(reload));
        let shutdown = shutdown_signal();
        let path = path.to_path_buf();
        scim_sidecar::run_with_reload(path, config, shutdown, reloads, logs.dropped()).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "scim-sidecar stopped");
            let _ = stderr.write_all(format!("error: {e}\n").as_bytes());
            ExitCode::from(1)
        }
    }
}

/// The tokio runtime: one thread per CPU this process may use (or as
/// asked). On one CPU a current-thread runtime does the same work without
/// the multi-thread scheduler's hand-offs between the I/O driver and the
/// worker.
fn build_runtime(workers: Option<u16>) -> std::io::Result<tokio::runtime::Runtime> {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let workers = workers.map_or(cpus, usize::from);
    let mut builder = match workers {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    builder.enable_all().build()
}

/// Asks for a config and certificate reload on every SIGHUP.
async fn forward_sighup(reload: tokio::sync::mpsc::Sender<()>) {
    use tokio::signal::unix::{SignalKind, signal};
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
