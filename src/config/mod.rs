//! Configuration: the TOML file is parsed (`raw`), validated and compiled
//! (`validate`) once into [`Config`], the typed model the request path reads.
//! Loading is a pure function of the text and an environment lookup; only
//! [`Config::from_file`] touches the filesystem. Every problem is collected
//! with its TOML location, so `check` can report them all at once.

mod collect;
mod connections;
pub mod coordination;
mod duration;
mod env;
pub(crate) mod files;
mod net;
pub mod raw;
mod summary;
mod validate;
pub mod webhooks;

pub use coordination::{CoordinationConfig, OnUnavailable, RedisConfig};
pub use duration::{format_duration, parse_duration};
pub use env::{EnvLookup, expand};
pub use net::Cidr;
pub use webhooks::WebhookConfig;

use crate::auth::TokenHash;
use crate::diagnostic::{Diagnostic, render_all};
use crate::mapping::ResourceMapping;
use http::HeaderMap;
use http::uri::{Authority, Scheme};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listeners and connection limits.
    pub server: ServerConfig,
    /// The app behind the sidecar.
    pub upstream: UpstreamConfig,
    /// The SCIM front door.
    pub scim: ScimConfig,
    /// How SCIM work calls the app's API.
    pub host: HostConfig,
    /// What is logged besides the SCIM request lines.
    pub log: LogConfig,
    /// IdP connections and their tokens.
    pub connections: Vec<Connection>,
    /// The compiled `[users]` mapping, when SCIM Users are served.
    pub users: Option<Arc<ResourceMapping>>,
    /// The compiled `[groups]` mapping, when SCIM Groups are served.
    pub groups: Option<Arc<ResourceMapping>>,
    /// Receivers of provisioning events (`[[webhooks]]`), none by default.
    pub webhooks: Vec<WebhookConfig>,
    /// What the replicas share (`[coordination]`), nothing by default.
    pub coordination: CoordinationConfig,
    /// Files looked up besides the config file itself (connection files,
    /// token files, CA file), which a reload watches too.
    pub sources: Vec<PathBuf>,
    /// SHA-256 over every byte the config was loaded from (see
    /// [`Attempt::fingerprint`]): a reload whose sources did not change is
    /// skipped.
    pub fingerprint: [u8; 32],
}

/// A sustained rate with a burst, for governor quotas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second (may be below 1).
    pub per_second: f64,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
}

/// `[server.tls]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// Deadline for the TLS handshake.
    pub handshake_timeout: Duration,
}

/// `[server]`, validated.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Public listener.
    pub listen: SocketAddr,
    /// Admin listener.
    pub admin_listen: SocketAddr,
    /// Deadline for reading a request head.
    pub header_read_timeout: Duration,
    /// Deadline for in-flight requests on shutdown.
    pub drain_timeout: Duration,
    /// Largest request head accepted, in bytes.
    pub max_header_bytes: usize,
    /// HTTP/2 streams allowed at once per connection.
    pub http2_max_concurrent_streams: u32,
    /// `scheme://authority` clients use, for `meta.location` and `Location`.
    pub public_origin: Option<String>,
    /// A connection with no request in flight is closed after this.
    pub idle_timeout: Duration,
    /// HTTP/2 keep-alive ping interval.
    pub http2_keep_alive_interval: Duration,
    /// HTTP/2 keep-alive ping acknowledgement deadline.
    pub http2_keep_alive_timeout: Duration,
    /// Client connections open at once on the public port.
    pub max_connections: usize,
    /// Deadline for a request head on the admin port (probes send theirs
    /// at once).
    pub admin_header_read_timeout: Duration,
    /// Connections open at once on the admin port.
    pub admin_max_connections: usize,
    /// TLS on the public port; plain HTTP without it.
    pub tls: Option<TlsConfig>,
}

/// `[upstream]`, validated.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host and port of the app.
    pub authority: Authority,
    /// TCP connect deadline.
    pub connect_timeout: Duration,
    /// Deadline for the app's response head on pass-through.
    pub response_header_timeout: Duration,
    /// Idle pooled connections are closed after this.
    pub pool_idle_timeout: Duration,
    /// Idle pooled connections kept at most.
    pub pool_max_idle: usize,
    /// Peers whose `X-Forwarded-*` headers are trusted.
    pub trusted_proxies: Vec<Cidr>,
    /// App path requested by `/readyz`.
    pub health_path: Option<String>,
    /// PEM CA certificates trusted for `https://` instead of the system roots.
    pub ca_pem: Option<Vec<u8>>,
}

/// `[scim]`, validated.
#[derive(Debug, Clone)]
pub struct ScimConfig {
    /// Path prefix, without a trailing slash, e.g. `/scim/v2`.
    pub base_path: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Total deadline for one SCIM request.
    pub request_timeout: Duration,
    /// Most resources scanned for a filter the app cannot answer.
    pub filter_scan_limit: usize,
    /// Largest page a client may request.
    pub max_page_size: usize,
    /// Most PATCH operations per request.
    pub max_patch_operations: usize,
    /// Failed authentications allowed per client address.
    pub failed_auth_limit: RateLimit,
}

/// `[host]`, validated.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Scheme of the API base URL.
    pub scheme: Scheme,
    /// Host and port of the API.
    pub authority: Authority,
    /// Path prefix of the API (empty or starting with `/`, no trailing slash).
    pub base_path: String,
    /// Headers added to every API call (secrets already expanded).
    pub headers: HeaderMap,
    /// Deadline for one API call.
    pub timeout: Duration,
    /// API calls in flight at once for one SCIM request.
    pub concurrency: usize,
    /// API calls in flight at once across all SCIM requests.
    pub max_in_flight: usize,
    /// API calls waiting for a slot at most.
    pub max_queued: usize,
    /// Rate of API calls across all SCIM requests.
    pub rate_limit: Option<RateLimit>,
    /// Largest app answer read, in bytes.
    pub max_response_bytes: usize,
    /// Whether `/readyz` makes one authenticated read of the app.
    pub ready_read: bool,
}

/// `[log]`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogConfig {
    /// Which pass-through requests get an access line.
    pub access: AccessLog,
}

/// `[log] access`: which pass-through requests get an access line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessLog {
    /// Every one (the default).
    #[default]
    All,
    /// Those answered 500 or above, or whose response broke off.
    Errors,
    /// None.
    Off,
}

impl AccessLog {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Errors => "errors",
            Self::Off => "off",
        }
    }
}

/// The request dialect of an identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idp {
    /// Okta (AIW and OIN apps).
    Okta,
    /// Microsoft Entra ID.
    Entra,
    /// OneLogin (SCIM Provisioner connectors).
    OneLogin,
    /// JumpCloud (custom SCIM connector).
    JumpCloud,
    /// PingOne (SCIM provisioner).
    PingOne,
    /// Strict RFC 7644.
    Generic,
}

impl Idp {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Okta => "okta",
            Self::Entra => "entra",
            Self::OneLogin => "onelogin",
            Self::JumpCloud => "jumpcloud",
            Self::PingOne => "pingone",
            Self::Generic => "generic",
        }
    }
}

/// One IdP connection.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Short name used in logs.
    pub id: String,
    /// Request dialect.
    pub idp: Idp,
    /// SHA-256 digests of the accepted bearer tokens.
    pub token_hashes: Vec<TokenHash>,
    /// Values for `{conn.<name>}` placeholders.
    pub vars: BTreeMap<String, String>,
    /// SCIM base path, without a trailing slash.
    pub base_path: String,
    /// Request rate allowed for this connection.
    pub rate_limit: Option<RateLimit>,
}

/// Every problem found in a config text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<Diagnostic>);

/// What `scim-sidecar connection new` needs of a config (see
/// [`OnboardingSettings::from_toml`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnboardingSettings {
    /// `[scim] base_path` (default `/scim/v2`).
    pub base_path: String,
    /// The origin of `[server] public_url`, when set.
    pub public_origin: Option<String>,
    /// The ids of the `[[connections]]` written in the config itself.
    pub connection_ids: Vec<String>,
}

impl OnboardingSettings {
    /// Reads and validates only the keys onboarding uses, so neither the
    /// app's secrets nor the files a config refers to need to be present.
    pub fn from_toml(text: &str) -> Result<Self, ConfigErrors> {
        validate::onboarding(text)
    }
}

impl ConfigErrors {
    /// Renders all errors as `file:line:col` diagnostics.
    pub fn render(&self, file: &str, text: &str) -> String {
        render_all(file, text, &self.0)
    }
}

/// One load of a config file, successful or not, and what it read.
#[derive(Debug)]
pub struct Attempt {
    /// The config, or why it could not be loaded.
    pub result: Result<Config, LoadError>,
    /// SHA-256 over every byte read: the config file and each file or
    /// directory it referred to (or why one could not be read).
    pub fingerprint: [u8; 32],
    /// The files and directories the config referred to, read or not.
    pub sources: Vec<PathBuf>,
}

/// Why a config file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file was read but is invalid; `rendered` lists every problem.
    #[error("{rendered}")]
    Invalid {
        /// All problems, rendered with file:line:col.
        rendered: String,
        /// The problems themselves.
        errors: ConfigErrors,
    },
}

/// Reads the files a config refers to (connection files, token files, the
/// CA file): given a path as written in the config, the texts found there,
/// each with a name for messages — one for a file, every `*.toml` in name
/// order for a directory.
pub type FileLookup<'a> = &'a dyn Fn(&str) -> Result<Vec<(String, Vec<u8>)>, String>;

/// The lookup of [`Config::from_toml`]: a text alone refers to no files.
fn no_files(path: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    Err(format!(
        "`{path}`: files are read only when the config is loaded from a file"
    ))
}

impl Config {
    /// Parses, validates and compiles a config text.
    pub fn from_toml(text: &str, env: EnvLookup<'_>) -> Result<Self, ConfigErrors> {
        validate::load(text, env, &no_files)
    }

    /// Like [`Config::from_toml`], reading referenced files through `files`.
    pub fn from_toml_with(
        text: &str,
        env: EnvLookup<'_>,
        files: FileLookup<'_>,
    ) -> Result<Self, ConfigErrors> {
        validate::load(text, env, files)
    }

    /// Reads a config file and loads it with the process environment;
    /// relative paths inside it are relative to its directory.
    pub fn from_file(path: &Path) -> Result<Self, LoadError> {
        Self::attempt_file(path).result
    }

    /// Like [`Config::from_file`], keeping what the load read even when it
    /// failed: a reload compares fingerprints to tell a changed config
    /// from the one in force or from one it already refused.
    pub fn attempt_file(path: &Path) -> Attempt {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path);
        let config = files::whole_file(path, &bytes);
        let text = bytes.and_then(|b| {
            String::from_utf8(b)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        });
        let text = match text {
            Ok(text) => text,
            Err(source) => {
                return Attempt {
                    result: Err(LoadError::Read {
                        path: shown,
                        source,
                    }),
                    fingerprint: files::fingerprint(&[config]),
                    sources: Vec::new(),
                };
            }
        };
        let env = |name: &str| std::env::var(name).ok();
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let reads = std::cell::RefCell::new(vec![config]);
        let lookup = |p: &str| {
            let full = dir.join(p);
            let found = files::read(&full);
            reads.borrow_mut().push((full, found.clone()));
            found
        };
        let result =
            Self::from_toml_with(&text, &env, &lookup).map_err(|errors| LoadError::Invalid {
                rendered: errors.render(&shown, &text),
                errors,
            });
        let reads = reads.into_inner();
        let fingerprint = files::fingerprint(&reads);
        let sources: Vec<PathBuf> = reads.into_iter().skip(1).map(|(p, _)| p).collect();
        let result = result.map(|mut config| {
            config.fingerprint = fingerprint;
            config.sources = sources.clone();
            config
        });
        Attempt {
            result,
            fingerprint,
            sources,
        }
    }

    /// The fingerprint [`Config::attempt_file`] would give now for a
    /// config whose last load looked up `sources`, read without parsing:
    /// unchanged while no byte of those files changed.
    pub fn fingerprint_files(path: &Path, sources: &[PathBuf]) -> [u8; 32] {
        files::fingerprint_now(path, sources)
    }

    /// A human summary of the effective settings, printed by `check`.
    pub fn summary(&self) -> String {
        summary::summary(self)
    }
}
