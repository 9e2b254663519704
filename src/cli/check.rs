//! `scim-sidecar check`: validates a config and prints every problem with
//! its `file:line:col`, or the effective settings and the mapping's
//! warnings. With `--probe` it also reads one real user (and group) from
//! the app through the mapping, read-only, and shows it as the IdP would
//! see it, naming the mapped attributes that came out empty ([`probe`]).

use super::explain::ExplainError;
use super::{current_thread_runtime, load};
use crate::config::Config;
use crate::http::tls::CertStore;
use crate::mapping::ResourceMapping;
use crate::runtime::State;
use crate::schema::{Returned, get_ci};
use crate::scim::resource::read_request;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The arguments of `check`.
#[derive(clap::Args)]
pub struct Args {
    /// Config file.
    #[arg(long, short, env = "SCIM_SIDECAR_CONFIG")]
    pub config: PathBuf,
    /// Also read one real user (and group) from the app, read-only, and
    /// show it as the IdP would see it, naming attributes that came out empty.
    #[arg(long)]
    pub probe: bool,
}

/// Checks the config at `args.config`.
pub fn main(args: &Args) -> ExitCode {
    let path = args.config.as_path();
    let config = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.probe {
        println!("{}: ok", path.display());
        let runtime = match current_thread_runtime() {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        return match runtime.block_on(probe(config)) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("probe: {e}");
                ExitCode::from(1)
            }
        };
    }
    if let Some(tls) = &config.server.tls {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        if let Err(e) = CertStore::load(tls, provider) {
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

/// `check --probe`: reads one real user (and group) through the mapping,
/// read-only, and shows it as the IdP would see it, naming the mapped
/// attributes that came out empty (a wrong JSONPath, usually).
pub async fn probe(config: Config) -> Result<String, ExplainError> {
    let state = State::new(config);
    let rt = state.runtime();
    let base = match rt.config.connections.first() {
        Some(c) => c.base_path.clone(),
        None => {
            return Err(ExplainError::Usage(
                "the config has no [[connections]]".into(),
            ));
        }
    };
    let read = |rest: String, query: Option<&'static str>| {
        let (state, rt, base) = (&state, &rt, &base);
        async move {
            read_request(state.services(rt), 0, &rest, query, base)
                .await
                .map_err(ExplainError::Scim)
        }
    };
    let mut out = String::new();
    for (endpoint, mapping) in [
        ("Users", rt.config.users.as_deref()),
        ("Groups", rt.config.groups.as_deref()),
    ] {
        let Some(m) = mapping else { continue };
        let listed = read(format!("/{endpoint}"), Some("count=1")).await?;
        let Some(id) = listed.pointer("/Resources/0/id").and_then(Value::as_str) else {
            out.push_str(&format!(
                "{endpoint}: the app lists none; nothing to show\n\n"
            ));
            continue;
        };
        let encoded = utf8_percent_encode(id, NON_ALPHANUMERIC);
        let shown = read(format!("/{endpoint}/{encoded}"), None).await?;
        let pretty = serde_json::to_string_pretty(&shown).unwrap_or_default();
        out.push_str(&format!("{endpoint}: {id}, as the IdP sees it\n{pretty}\n"));
        match empty_attributes(m, &shown).as_slice() {
            [] => out.push_str("every mapped attribute has a value\n\n"),
            empty => out.push_str(&format!(
                "came out empty: {} (check their paths if this record has them)\n\n",
                empty.join(", ")
            )),
        }
    }
    Ok(out)
}

/// The mapped attributes (and sub-attributes of complex ones) a resource
/// has no value for.
fn empty_attributes(m: &ResourceMapping, r: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for schema in m.schema().schemas() {
        let core = schema.id == m.schema().core.id;
        let container = if core { Some(r) } else { r.get(&schema.id) };
        for a in &schema.attributes {
            if a.returned == Returned::Never {
                continue;
            }
            let name = if core {
                a.name.clone()
            } else {
                format!("{}:{}", schema.id, a.name)
            };
            match container.and_then(|c| get_ci(c, &a.name)) {
                None | Some(Value::Null) => out.push(name),
                Some(Value::Object(o)) if !a.multi_valued => out.extend(
                    a.sub_attributes
                        .iter()
                        .filter(|s| !o.contains_key(&s.name))
                        .map(|s| format!("{name}.{}", s.name)),
                ),
                _ => {}
            }
        }
    }
    out
}
