//! `scim-sidecar draft`: a first config for an app, written from the app's
//! own OpenAPI document (3.0, 3.1 or Swagger 2.0; JSON or YAML; a file or
//! a URL). This module owns the whole path from the document to the TOML:
//!
//! - [`load`] reads the document and the documents its `$ref`s name,
//!   bounded in size and number; [`spec`] resolves `$ref`s, bounded in
//!   depth and count, cycles refused; [`ops`] reads every operation in one
//!   shape whatever the dialect; [`schema`] reads JSON Schemas;
//! - [`resources`] finds the user and group collections, [`build`] and
//!   [`groups`] choose each operation, [`actions`] the account-state
//!   actions, [`paging`] and [`search`] the list's paging and lookups,
//!   [`attributes`] (with the vocabulary in [`names`], lists in
//!   [`compound`], the account state in [`state`]) the attribute rules,
//!   [`errors`] and [`auth`] the error rules and credentials, [`tables`]
//!   each operation table, [`users`] the `[users]` table and
//!   [`unsupported`] the `TODO`s for shapes the mapping cannot express;
//! - [`probe`] reads a page and a record from the live app (read-only)
//!   and corrects the draft from them; [`render`] writes the TOML.
//!
//! Every decision carries its evidence as a comment, what the document
//! leaves open a `TODO`, and the same document always gives the same bytes.

mod actions;
mod attributes;
mod auth;
mod build;
mod compound;
mod error;
mod errors;
mod groups;
mod load;
mod model;
mod names;
mod ops;
mod paging;
mod probe;
mod render;
mod resources;
mod schema;
mod search;
mod spec;
mod state;
mod tables;
mod text;
mod unsupported;
mod users;

pub use build::Settings;
pub use error::{DraftError, Source};
pub use load::{MAX_DOCUMENT_BYTES, MAX_DOCUMENTS};

use crate::config::Config;

/// The command line of `draft`.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--openapi`: a file or an `http(s)` URL.
    pub openapi: String,
    /// `--app-url`: the app's base URL (default: the document's server).
    pub app_url: Option<String>,
    /// `--header 'Name: value'`: sent when fetching the document from the
    /// app's origin and by `--probe`.
    pub headers: Vec<String>,
    /// `--idp`.
    pub idp: String,
    /// `--listen` (default `0.0.0.0:8080`).
    pub listen: Option<String>,
    /// `--probe`: read a page and a record from the app to check the draft.
    pub probe: bool,
}

/// A finished draft.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The config file.
    pub toml: String,
    /// What the drafter wants the user to know (chosen collections, TODO
    /// count, what `--probe` found).
    pub report: Vec<String>,
    /// Why the draft does not load as it is (an API shape the mapping
    /// cannot express without a hand edit); empty when it loads.
    pub invalid: Option<String>,
}

/// Drafts a config from `opts.openapi`.
pub async fn run(opts: &Options) -> Result<Outcome, DraftError> {
    let headers = load::parse_headers(&opts.headers)?;
    let location = load::Location::parse(&opts.openapi)?;
    let app: Option<http::Uri> = match &opts.app_url {
        Some(u) => Some(app_url(u)?),
        None => None,
    };
    let mut trusted: Vec<&http::Uri> = app.iter().collect();
    if let load::Location::Url(u) = &location {
        trusted.push(u);
    }
    let fetcher = load::Fetcher::new(headers, &trusted);
    let docs = load::load_all(location.clone(), &fetcher).await?;
    let spec = spec::Spec::new(docs)?;
    let settings = settings(opts);
    let mut draft = build::build(&spec, &settings, &location.key())?;
    drop(spec);
    let mut report = summary(&draft);
    if opts.probe {
        let url: http::Uri = draft.upstream.parse().map_err(|e| {
            DraftError::Usage(format!(
                "the app URL `{}` is not a URL: {e}",
                draft.upstream
            ))
        })?;
        let probe_fetcher = load::Fetcher::new(load::parse_headers(&opts.headers)?, &[&url]);
        report.extend(probe::probe(&mut draft, &probe_fetcher, &url).await?);
    }
    let toml = render::render(&draft);
    let invalid = validate(&toml).err();
    Ok(Outcome {
        toml,
        report,
        invalid,
    })
}

/// Drafts a config from a document's text (no `$ref`s to other files, no
/// probe): the library entry for tests and tools.
pub fn draft_text(document: &str, settings: &Settings) -> Result<String, DraftError> {
    let value = load::parse(document.as_bytes(), "the document")?;
    let spec = spec::Spec::from_value(value)?;
    let draft = build::build(&spec, settings, "the document")?;
    Ok(render::render(&draft))
}

fn settings(opts: &Options) -> Settings {
    Settings {
        app_url: opts.app_url.clone(),
        listen: opts.listen.clone().unwrap_or_else(|| "0.0.0.0:8080".into()),
        idp: opts.idp.clone(),
    }
}

fn app_url(u: &str) -> Result<http::Uri, DraftError> {
    let uri: http::Uri = u
        .parse()
        .map_err(|e| DraftError::Usage(format!("--app-url `{u}` is not a URL: {e}")))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.authority().is_some() => Ok(uri),
        _ => Err(DraftError::Usage(format!(
            "--app-url `{u}` must be an http:// or https:// URL"
        ))),
    }
}

/// Whether a draft loads as a config, with every `${NAME}` set to a
/// stand-in: the errors as `check` would print them.
pub fn validate(toml: &str) -> Result<Config, String> {
    let env = |name: &str| {
        Some(if name == "SCIM_TOKEN_SHA256" {
            format!("sha256:{}", "0".repeat(64))
        } else {
            "draft-check".to_owned()
        })
    };
    Config::from_toml(toml, &env).map_err(|e| e.render("draft.toml", toml))
}

fn summary(d: &model::Draft) -> Vec<String> {
    let mut out = Vec::new();
    for r in std::iter::once(&d.users).chain(d.groups.iter()) {
        let ops: Vec<String> = r
            .ops
            .iter()
            .map(|o| format!("{} {}", o.kind, o.describe()))
            .collect();
        let off = if r.disabled.is_some() {
            " (commented out: a required operation is missing)"
        } else {
            ""
        };
        out.push(format!("{}{off}: {}", r.name, ops.join("; ")));
    }
    if d.groups.is_none() {
        out.push("groups: no group API drafted".into());
    }
    let rendered = render::render(d);
    let todos = rendered.lines().filter(|l| l.contains("TODO")).count();
    out.push(format!("{todos} TODO line(s) to review"));
    out
}
