//! The serde mirror of the TOML file: every table denies unknown keys, and
//! every value that is validated after deserialization is `Spanned`, so the
//! validator can point at it. Nothing here is used on the request path.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A string value together with its byte span in the source.
pub type SpStr = Spanned<String>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[server]`: listeners and connection limits.
    #[serde(default)]
    pub server: RawServer,
    /// `[upstream]`: the app that receives every non-SCIM request.
    pub upstream: Spanned<RawUpstream>,
    /// `[scim]`: the SCIM front door.
    #[serde(default)]
    pub scim: RawScim,
    /// `[host]`: how SCIM work calls the app's own API.
    #[serde(default)]
    pub host: RawHost,
    /// `[log]`: what is logged besides the SCIM request lines.
    #[serde(default)]
    pub log: RawLog,
    /// `[[connections]]`: one per IdP tenant.
    #[serde(default)]
    pub connections: Vec<Spanned<RawConnection>>,
    /// `[users]`: the User mapping.
    pub users: Option<crate::mapping::raw::ResourceToml>,
    /// `[groups]`: the Group mapping.
    pub groups: Option<crate::mapping::raw::ResourceToml>,
    /// `[[webhooks]]`: receivers of provisioning events.
    #[serde(default)]
    pub webhooks: Vec<Spanned<super::webhooks::RawWebhook>>,
    /// `[coordination]`: what the replicas share.
    #[serde(default)]
    pub coordination: RawCoordination,
}

/// `[server]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    /// Public listener address, e.g. `0.0.0.0:8080`.
    pub listen: Option<SpStr>,
    /// Admin listener address (`/livez`, `/readyz`).
    pub admin_listen: Option<SpStr>,
    /// Time allowed for a client to send a request's headers.
    pub header_read_timeout: Option<SpStr>,
    /// Time allowed for in-flight requests to finish on shutdown.
    pub drain_timeout: Option<SpStr>,
    /// Largest request head (request line + headers) accepted, in bytes.
    pub max_header_bytes: Option<Spanned<i64>>,
    /// HTTP/2 streams allowed at once per connection.
    pub http2_max_concurrent_streams: Option<Spanned<i64>>,
    /// The origin clients use, e.g. `https://sso.example.com`, for
    /// `meta.location` and `Location`.
    pub public_url: Option<SpStr>,
    /// A connection with no request in flight is closed after this.
    pub idle_timeout: Option<SpStr>,
    /// Interval of HTTP/2 keep-alive pings on idle connections.
    pub http2_keep_alive_interval: Option<SpStr>,
    /// Time allowed for a ping's acknowledgement before the connection is closed.
    pub http2_keep_alive_timeout: Option<SpStr>,
    /// Client connections open at once on the public port.
    pub max_connections: Option<Spanned<i64>>,
    /// Time allowed for a request head on the admin port.
    pub admin_header_read_timeout: Option<SpStr>,
    /// Connections open at once on the admin port.
    pub admin_max_connections: Option<Spanned<i64>>,
    /// `[server.tls]`: TLS on the public port.
    pub tls: Option<Spanned<RawTls>>,
}

/// `[server.tls]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// PEM certificate chain, leaf first.
    pub cert: SpStr,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: SpStr,
    /// Time allowed for a client to complete the TLS handshake.
    pub handshake_timeout: Option<SpStr>,
}

/// `{ requests_per_second = N, burst = M }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// Sustained rate; fractions allowed (`0.5` is one every two seconds).
    pub requests_per_second: Spanned<f64>,
    /// Requests allowed at once above the sustained rate.
    pub burst: Option<Spanned<i64>>,
}

/// `[upstream]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    /// Base URL of the app, e.g. `http://127.0.0.1:3000`.
    pub url: SpStr,
    /// Time allowed to open a TCP connection to the app.
    pub connect_timeout: Option<SpStr>,
    /// Time allowed for the app to start answering a pass-through request.
    pub response_header_timeout: Option<SpStr>,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Option<SpStr>,
    /// Idle pooled connections kept at most.
    pub pool_max_idle: Option<Spanned<i64>>,
    /// Peers whose `X-Forwarded-*` headers are trusted and extended.
    #[serde(default)]
    pub trusted_proxies: Vec<SpStr>,
    /// An app path that `/readyz` requests; without it a TCP connect suffices.
    pub health_path: Option<SpStr>,
    /// PEM CA certificates trusted for an `https://` app instead of the
    /// system roots.
    pub ca_file: Option<SpStr>,
}

/// `[scim]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScim {
    /// Path prefix of the SCIM service, default `/scim/v2`.
    pub base_path: Option<SpStr>,
    /// Largest SCIM request body accepted, in bytes.
    pub max_body_bytes: Option<Spanned<i64>>,
    /// Total deadline for one SCIM request, all app calls included.
    pub request_timeout: Option<SpStr>,
    /// Most resources scanned when the sidecar must evaluate a filter itself.
    pub filter_scan_limit: Option<Spanned<i64>>,
    /// Largest `count` a client may ask for; larger values are capped.
    pub max_page_size: Option<Spanned<i64>>,
    /// Most PATCH operations accepted in one request.
    pub max_patch_operations: Option<Spanned<i64>>,
    /// Failed authentications allowed per client address.
    pub failed_auth_limit: Option<Spanned<RawRateLimit>>,
    /// A TOML file, or a directory of `*.toml` files, holding more
    /// `[[connections]]` entries.
    pub connections_from: Option<SpStr>,
}

/// `[host]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHost {
    /// Base URL for API calls, default: the upstream URL.
    pub url: Option<SpStr>,
    /// Headers added to every API call, e.g. an API key from `${ENV}`.
    #[serde(default)]
    pub headers: BTreeMap<String, SpStr>,
    /// Deadline for one API call.
    pub timeout: Option<SpStr>,
    /// API calls in flight at once for one SCIM request (summary lists).
    pub concurrency: Option<Spanned<i64>>,
    /// API calls in flight at once across all SCIM requests.
    pub max_in_flight: Option<Spanned<i64>>,
    /// API calls waiting for a slot at most; beyond, SCIM answers 429.
    pub max_queued: Option<Spanned<i64>>,
    /// Rate of API calls across all SCIM requests.
    pub rate_limit: Option<Spanned<RawRateLimit>>,
    /// Largest app answer read, in bytes.
    pub max_response_bytes: Option<Spanned<i64>>,
    /// `/readyz` makes one authenticated read of the app (the users list,
    /// one record) with these credentials.
    #[serde(default)]
    pub ready_read: bool,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    /// Pass-through access lines: `all`, `errors` or `off`.
    pub access: Option<SpStr>,
}

/// One `[[connections]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnection {
    /// Short name used in logs.
    pub id: SpStr,
    /// Request dialect: `okta`, `entra`, `onelogin`, `jumpcloud`, `pingone` or `generic`.
    pub idp: Option<SpStr>,
    /// `sha256:<hex>` hashes of the bearer tokens accepted.
    #[serde(default)]
    pub tokens: Vec<SpStr>,
    /// Files each holding one more token hash (or the token itself).
    #[serde(default)]
    pub token_files: Vec<SpStr>,
    /// Values for `{conn.<name>}` placeholders in mappings.
    #[serde(default)]
    pub vars: BTreeMap<String, SpStr>,
    /// SCIM base path of this connection, default `[scim] base_path`.
    pub base_path: Option<SpStr>,
    /// Requests per second allowed for this connection.
    pub rate_limit: Option<Spanned<RawRateLimit>>,
}

/// A file of `[[connections]]` entries (see `[scim] connections_from`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConnectionsFile {
    /// The entries.
    #[serde(default)]
    pub connections: Vec<Spanned<RawConnection>>,
}

/// `[coordination]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCoordination {
    /// `redis://[user:password@]host[:port][/db]`.
    pub redis: Option<SpStr>,
    /// Prefix of every key the sidecar writes.
    pub key_prefix: Option<SpStr>,
    /// How long a lock outlives a holder that stopped renewing it.
    pub lock_ttl: Option<SpStr>,
    /// Longest wait for one Redis command before Redis counts as down.
    pub timeout: Option<SpStr>,
    /// `fail` (writes answer 503) or `local` (locks of this process only).
    pub on_unavailable: Option<SpStr>,
}
