//! `scim-sidecar draft`: a first config from the app's OpenAPI document.
//! The drafting is [`crate::draft`]'s; this file owns the arguments, the
//! runtime the draft's few fetches run on, and what is printed: the
//! config to `--out` (or stdout), the report on stderr.

use super::{IdpArg, current_thread_runtime};
use crate::config::Idp;
use crate::draft::{self, Options, Outcome};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The arguments of `draft`.
#[derive(clap::Args)]
pub struct Args {
    /// The OpenAPI 3.x or Swagger 2.0 document (JSON or YAML): a file or an http(s) URL.
    #[arg(long, value_name = "FILE|URL")]
    pub openapi: String,
    /// The app's base URL (default: the document's first server).
    #[arg(long, value_name = "URL")]
    pub app_url: Option<String>,
    /// A header for fetching the document and for --probe, e.g. 'X-Api-Key: …' (repeatable).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// The IdP of the drafted connection.
    #[arg(long, value_enum, default_value = "okta")]
    pub idp: IdpArg,
    /// The sidecar's listen address in the draft (default 0.0.0.0:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Read one page of users and one user from the app (GET only) to
    /// confirm or correct the draft, and report which attributes have values.
    #[arg(long)]
    pub probe: bool,
    /// Write the config here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Drafts on a current-thread runtime and writes the result (see
/// [`write`]); exit 1 with the reason when no draft could be made.
pub fn main(args: Args) -> ExitCode {
    let opts = Options {
        openapi: args.openapi,
        app_url: args.app_url,
        headers: args.headers,
        idp: Idp::from(args.idp).as_str().to_owned(),
        listen: args.listen,
        probe: args.probe,
    };
    let runtime = match current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(draft::run(&opts)) {
        Ok(outcome) => write(&outcome, args.out.as_deref()),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Writes a finished draft: the config to `out` (or stdout), the report
/// to stderr. Exit 1 when the file cannot be written or the draft needs a
/// hand edit before it loads (the draft is still written, so the edit can
/// be made).
fn write(outcome: &Outcome, out: Option<&Path>) -> ExitCode {
    let written = match out {
        Some(path) => std::fs::write(path, &outcome.toml)
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => std::io::stdout()
            .write_all(outcome.toml.as_bytes())
            .map_err(|e| format!("cannot write the draft: {e}")),
    };
    let mut err = std::io::stderr().lock();
    for line in &outcome.report {
        let _ = writeln!(err, "{line}");
    }
    if let Err(e) = written {
        let _ = writeln!(err, "error: {e}");
        return ExitCode::from(1);
    }
    if let Some(path) = out {
        let _ = writeln!(err, "wrote {}", path.display());
    }
    match &outcome.invalid {
        Some(errors) => {
            let _ = write!(err, "{errors}");
            let _ = writeln!(
                err,
                "error: the draft does not load yet; the lines above name what needs a hand edit"
            );
            ExitCode::from(1)
        }
        None => ExitCode::SUCCESS,
    }
}
