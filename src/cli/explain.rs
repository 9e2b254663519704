//! `scim-sidecar explain`: shows what a SCIM request would do to the app —
//! the reads it makes and the write plan, call by call — without making a
//! single write call (`--offline`: without any call at all). This module
//! resolves the connection and the request path ([`explain`]); the SCIM
//! resource layer does the planning exactly as the server would.

use super::{current_thread_runtime, load, read_json};
use crate::config::Config;
use crate::error::ScimError;
use crate::runtime::State;
use crate::scim::resource::explain_request;
use http::Method;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

/// The arguments of `explain`.
#[derive(clap::Args)]
pub struct Args {
    /// Config file.
    #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
    pub config: PathBuf,
    /// Make no call at all, not even reads (plans assume an empty resource).
    #[arg(long)]
    pub offline: bool,
    /// The connection whose dialect and variables apply (default: the first).
    #[arg(long)]
    pub connection: Option<String>,
    /// The SCIM request body (JSON), for POST, PUT, PATCH and searches.
    #[arg(long, value_name = "FILE")]
    pub body: Option<PathBuf>,
    /// The SCIM method, e.g. PATCH.
    pub method: String,
    /// The SCIM path, e.g. /scim/v2/Users/1001.
    pub path: String,
}

/// Prints what `args` would do to the app of the config.
pub fn main(args: Args) -> ExitCode {
    let config = match load(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let method = args.method.as_str();
    let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
        eprintln!("error: `{method}` is not an HTTP method");
        return ExitCode::from(2);
    };
    let body = match args.body.map(|f| read_json(&f)).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let req = Request {
        connection: args.connection.as_deref(),
        method,
        path: &args.path,
        body,
        offline: args.offline,
    };
    let runtime = match current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match runtime.block_on(explain(config, req)) {
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

/// A request to explain.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The connection (`[[connections]] id`); the first one when `None`.
    pub connection: Option<&'a str>,
    /// The SCIM method.
    pub method: Method,
    /// The request path, e.g. `/scim/v2/Users/17?attributes=userName`.
    pub path: &'a str,
    /// The request body, for writes and searches.
    pub body: Option<Value>,
    /// Make no call at all, not even reads.
    pub offline: bool,
}

/// Why a request could not be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The connection or path does not exist in this config.
    #[error("{0}")]
    Usage(String),
    /// The server would answer this SCIM error.
    #[error("the sidecar would answer {} {}", .0.status.as_u16(), .0.detail)]
    Scim(ScimError),
}

/// Explains `req` against the app of `config`.
pub async fn explain(config: Config, req: Request<'_>) -> Result<String, ExplainError> {
    let state = State::new(config);
    let rt = state.runtime();
    let conns = &rt.config.connections;
    let index = match req.connection {
        None if !conns.is_empty() => 0,
        None => {
            return Err(ExplainError::Usage(
                "the config has no [[connections]]".into(),
            ));
        }
        Some(id) => conns
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| ExplainError::Usage(format!("no connection `{id}` in the config")))?,
    };
    let base = conns[index].base_path.clone();
    let (path, query) = match req.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path, None),
    };
    let rest = strip_base(path, &base).ok_or_else(|| {
        ExplainError::Usage(format!(
            "`{path}` is not below the connection's base path `{base}`"
        ))
    })?;
    let scim_url = format!(
        "{}{base}",
        rt.config
            .server
            .public_origin
            .as_deref()
            .unwrap_or_default()
    );
    explain_request(
        state.services(&rt),
        index,
        &req.method,
        rest,
        query,
        req.body,
        req.offline,
        &scim_url,
    )
    .await
    .map_err(ExplainError::Scim)
}

/// `path` below `base` (compared case-insensitively, as requests are).
fn strip_base<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    let head = path.get(..base.len())?;
    let rest = &path[base.len()..];
    (head.eq_ignore_ascii_case(base) && (rest.is_empty() || rest.starts_with('/'))).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_strip_their_base_case_insensitively() {
        assert_eq!(strip_base("/scim/v2/Users/1", "/scim/v2"), Some("/Users/1"));
        assert_eq!(strip_base("/SCIM/v2/Users", "/scim/v2"), Some("/Users"));
        assert_eq!(strip_base("/scim/v22/Users", "/scim/v2"), None);
        assert_eq!(strip_base("/other", "/scim/v2"), None);
    }
}
