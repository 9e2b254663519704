//! Raw → validated: turns the serde mirror into [`Config`], collecting every
//! problem with its key and span instead of stopping at the first.

use super::raw::{RawConfig, RawConnection, RawHost, RawScim, RawServer, RawUpstream, SpStr};
use super::{
    Cidr, Config, ConfigError, ConfigErrors, Connection, EnvLookup, HostConfig, Idp, ScimConfig,
    ServerConfig, UpstreamConfig, expand, parse_duration,
};
use crate::auth::parse_token_hash;
use crate::mapping::ResourceKind;
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

/// Collects errors while validating.
struct Errors(Vec<ConfigError>);

impl Errors {
    fn at(&mut self, key: &str, value: &SpStr, message: impl Into<String>) {
        self.0.push(ConfigError::at(key, value.span(), message));
    }

    fn duration(&mut self, key: &str, value: &Option<SpStr>, default: Duration) -> Duration {
        let Some(v) = value else { return default };
        parse_duration(v.get_ref()).unwrap_or_else(|e| {
            self.at(key, v, e);
            default
        })
    }

    fn count(
        &mut self,
        key: &str,
        value: &Option<Spanned<i64>>,
        default: usize,
        range: (i64, i64),
    ) -> usize {
        let Some(v) = value else { return default };
        let n = *v.get_ref();
        if n < range.0 || n > range.1 {
            let msg = format!("must be between {} and {}", range.0, range.1);
            self.0.push(ConfigError::at(key, v.span(), msg));
            return default;
        }
        usize::try_from(n).unwrap_or(default)
    }

    fn socket(&mut self, key: &str, value: &Option<SpStr>, default: &str) -> SocketAddr {
        let fallback = || {
            default
                .parse()
                .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)))
        };
        let Some(v) = value else { return fallback() };
        v.get_ref().parse().unwrap_or_else(|_| {
            self.at(
                key,
                v,
                "invalid socket address, expected e.g. `0.0.0.0:8080`",
            );
            fallback()
        })
    }

    fn expanded(&mut self, key: &str, value: &SpStr, env: EnvLookup<'_>) -> Option<String> {
        expand(value.get_ref(), env)
            .map_err(|e| self.at(key, value, e))
            .ok()
    }
}

/// Loads a config text; see [`Config::from_toml`].
pub fn load(text: &str, env: EnvLookup<'_>) -> Result<Config, ConfigErrors> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let msg = e.message().trim_end_matches('\n').to_string();
        ConfigErrors(vec![match e.span() {
            Some(span) => ConfigError::at("", span, msg),
            None => ConfigError::key("", msg),
        }])
    })?;
    let mut errs = Errors(Vec::new());
    let server = server(&raw.server, &mut errs);
    let upstream = upstream(&raw.upstream, env, &mut errs);
    let scim = scim(&raw.scim, &mut errs);
    let host = host(&raw.host, &raw.upstream, env, &mut errs);
    let connections = connections(&raw.connections, env, &mut errs);
    let vars = common_vars(&connections);
    let mut compile = |raw: Option<&crate::mapping::raw::ResourceToml>, kind, key| {
        raw.and_then(|r| {
            crate::mapping::compile(r, kind, key, &vars)
                .map_err(|e| errs.0.extend(e.into_iter().map(ConfigError::from)))
                .ok()
        })
    };
    let mut users = compile(raw.users.as_ref(), ResourceKind::User, "users");
    let groups = compile(raw.groups.as_ref(), ResourceKind::Group, "groups");
    if groups.as_ref().is_some_and(|g| g.roles().is_some()) {
        match users.as_mut() {
            Some(u) => u.declare_group_links(),
            None => errs.0.push(ConfigError::key(
                "groups.roles",
                "groups stored as roles need a [users] mapping",
            )),
        }
    }
    let users = users.map(Arc::new);
    let groups = groups.map(Arc::new);
    if errs.0.is_empty() {
        Ok(Config {
            server,
            upstream,
            scim,
            host,
            connections,
            users,
            groups,
        })
    } else {
        Err(ConfigErrors(errs.0))
    }
}

/// The `{conn.<var>}` names every connection defines: a mapping may use
/// only those, so no connection can render a template with a hole in it.
fn common_vars(connections: &[Connection]) -> Vec<String> {
    let Some((first, rest)) = connections.split_first() else {
        return Vec::new();
    };
    first
        .vars
        .keys()
        .filter(|k| rest.iter().all(|c| c.vars.contains_key(*k)))
        .cloned()
        .collect()
}

fn server(raw: &RawServer, errs: &mut Errors) -> ServerConfig {
    ServerConfig {
        listen: errs.socket("server.listen", &raw.listen, "0.0.0.0:8080"),
        admin_listen: errs.socket("server.admin_listen", &raw.admin_listen, "127.0.0.1:9090"),
        header_read_timeout: errs.duration(
            "server.header_read_timeout",
            &raw.header_read_timeout,
            Duration::from_secs(30),
        ),
        drain_timeout: errs.duration(
            "server.drain_timeout",
            &raw.drain_timeout,
            Duration::from_secs(30),
        ),
        max_header_bytes: errs.count(
            "server.max_header_bytes",
            &raw.max_header_bytes,
            64 * 1024,
            (8 * 1024, 1 << 24),
        ),
        http2_max_concurrent_streams: u32::try_from(errs.count(
            "server.http2_max_concurrent_streams",
            &raw.http2_max_concurrent_streams,
            256,
            (1, 65_535),
        ))
        .unwrap_or(256),
    }
}

/// Scheme, authority and path prefix of a base URL.
fn base_url(
    key: &str,
    value: &SpStr,
    text: &str,
    errs: &mut Errors,
) -> Option<(Scheme, Authority, String)> {
    let uri: Uri = match text.parse() {
        Ok(u) => u,
        Err(_) => {
            errs.at(
                key,
                value,
                "invalid URL, expected e.g. `http://127.0.0.1:3000`",
            );
            return None;
        }
    };
    let (Some(scheme), Some(authority)) = (uri.scheme().cloned(), uri.authority().cloned()) else {
        errs.at(
            key,
            value,
            "URL must be absolute, e.g. `http://127.0.0.1:3000`",
        );
        return None;
    };
    if scheme != Scheme::HTTP {
        errs.at(
            key,
            value,
            "only `http://` URLs are supported for the app (TLS to the app is not built yet)",
        );
        return None;
    }
    if uri.query().is_some() {
        errs.at(key, value, "URL must not have a query");
        return None;
    }
    Some((
        scheme,
        authority,
        uri.path().trim_end_matches('/').to_string(),
    ))
}

fn upstream(raw: &Spanned<RawUpstream>, env: EnvLookup<'_>, errs: &mut Errors) -> UpstreamConfig {
    let r = raw.get_ref();
    let url = errs.expanded("upstream.url", &r.url, env);
    let parsed = url.and_then(|u| base_url("upstream.url", &r.url, &u, errs));
    let (scheme, authority) = match parsed {
        Some((s, a, path)) if path.is_empty() => (s, a),
        Some((s, a, _)) => {
            errs.at("upstream.url", &r.url, "the upstream URL must not have a path: pass-through keeps request paths as they are");
            (s, a)
        }
        None => (Scheme::HTTP, Authority::from_static("127.0.0.1:80")),
    };
    let mut trusted = Vec::new();
    for (i, cidr) in r.trusted_proxies.iter().enumerate() {
        match Cidr::parse(cidr.get_ref()) {
            Ok(c) => trusted.push(c),
            Err(e) => errs.at(&format!("upstream.trusted_proxies[{i}]"), cidr, e),
        }
    }
    let health_path = r.health_path.as_ref().and_then(|p| {
        let ok =
            p.get_ref().starts_with('/') && p.get_ref().parse::<http::uri::PathAndQuery>().is_ok();
        if !ok {
            errs.at(
                "upstream.health_path",
                p,
                "must be a path starting with `/`",
            );
        }
        ok.then(|| p.get_ref().clone())
    });
    UpstreamConfig {
        scheme,
        authority,
        connect_timeout: errs.duration(
            "upstream.connect_timeout",
            &r.connect_timeout,
            Duration::from_secs(5),
        ),
        response_header_timeout: errs.duration(
            "upstream.response_header_timeout",
            &r.response_header_timeout,
            Duration::from_secs(60),
        ),
        pool_idle_timeout: errs.duration(
            "upstream.pool_idle_timeout",
            &r.pool_idle_timeout,
            Duration::from_secs(90),
        ),
        pool_max_idle: errs.count("upstream.pool_max_idle", &r.pool_max_idle, 64, (0, 10_000)),
        trusted_proxies: trusted,
        health_path,
    }
}

fn scim(raw: &RawScim, errs: &mut Errors) -> ScimConfig {
    let base_path = match &raw.base_path {
        None => "/scim/v2".to_string(),
        Some(p) => {
            let path = p.get_ref().trim_end_matches('/');
            let valid = path.starts_with('/')
                && path.len() > 1
                && !path.contains(['?', '#', '%'])
                && path.parse::<http::uri::PathAndQuery>().is_ok();
            if !valid {
                errs.at(
                    "scim.base_path",
                    p,
                    "must be a path such as `/scim/v2` (not `/`)",
                );
            }
            path.to_string()
        }
    };
    ScimConfig {
        base_path,
        max_body_bytes: errs.count(
            "scim.max_body_bytes",
            &raw.max_body_bytes,
            1 << 20,
            (1024, 1 << 30),
        ),
        request_timeout: errs.duration(
            "scim.request_timeout",
            &raw.request_timeout,
            Duration::from_secs(30),
        ),
        filter_scan_limit: errs.count(
            "scim.filter_scan_limit",
            &raw.filter_scan_limit,
            10_000,
            (0, 10_000_000),
        ),
        max_page_size: errs.count("scim.max_page_size", &raw.max_page_size, 200, (1, 10_000)),
        max_patch_operations: errs.count(
            "scim.max_patch_operations",
            &raw.max_patch_operations,
            1_000,
            (1, 100_000),
        ),
    }
}

fn host(
    raw: &RawHost,
    up: &Spanned<RawUpstream>,
    env: EnvLookup<'_>,
    errs: &mut Errors,
) -> HostConfig {
    let url_value = raw.url.as_ref().unwrap_or(&up.get_ref().url);
    let key = if raw.url.is_some() {
        "host.url"
    } else {
        "upstream.url"
    };
    // Without its own URL the host API shares the upstream's, whose
    // problems are already reported once.
    let mut shared = Errors(Vec::new());
    let sink = if raw.url.is_some() {
        &mut *errs
    } else {
        &mut shared
    };
    let base = sink
        .expanded(key, url_value, env)
        .and_then(|u| base_url(key, url_value, &u, sink));
    let (scheme, authority, base_path) = base.unwrap_or((
        Scheme::HTTP,
        Authority::from_static("127.0.0.1:80"),
        String::new(),
    ));
    let mut headers = HeaderMap::new();
    for (name, value) in &raw.headers {
        let key = format!("host.headers.{name}");
        let Ok(hname) = HeaderName::try_from(name.as_str()) else {
            errs.at(&key, value, format!("invalid header name `{name}`"));
            continue;
        };
        if is_reserved_host_header(&hname) {
            errs.at(
                &key,
                value,
                format!("`{name}` is managed by the sidecar and cannot be set"),
            );
            continue;
        }
        let Some(expanded) = errs.expanded(&key, value, env) else {
            continue;
        };
        match HeaderValue::try_from(expanded) {
            Ok(mut v) => {
                v.set_sensitive(true);
                headers.append(hname, v);
            }
            Err(_) => errs.at(&key, value, "header value contains invalid characters"),
        }
    }
    HostConfig {
        scheme,
        authority,
        base_path,
        headers,
        timeout: errs.duration("host.timeout", &raw.timeout, Duration::from_secs(10)),
        concurrency: errs.count("host.concurrency", &raw.concurrency, 8, (1, 256)),
    }
}

fn is_reserved_host_header(name: &HeaderName) -> bool {
    [
        http::header::HOST,
        http::header::CONTENT_LENGTH,
        http::header::TRANSFER_ENCODING,
        http::header::CONNECTION,
    ]
    .contains(name)
}

fn connections(
    raw: &[Spanned<RawConnection>],
    env: EnvLookup<'_>,
    errs: &mut Errors,
) -> Vec<Connection> {
    if raw.is_empty() {
        errs.0.push(ConfigError::key(
            "connections",
            "at least one [[connections]] entry with a token is required to serve SCIM",
        ));
    }
    let mut ids = HashSet::new();
    let mut hashes = HashSet::new();
    let mut out = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let conn = connection(i, c.get_ref(), env, errs);
        if !ids.insert(conn.id.clone()) {
            errs.at(
                &format!("connections[{i}].id"),
                &c.get_ref().id,
                "duplicate connection id",
            );
        }
        for (j, h) in conn.token_hashes.iter().enumerate() {
            if let (false, Some(tok)) = (hashes.insert(*h), c.get_ref().tokens.get(j)) {
                errs.at(
                    &format!("connections[{i}].tokens[{j}]"),
                    tok,
                    "this token hash is already used by another entry",
                );
            }
        }
        out.push(conn);
    }
    out
}

fn connection(i: usize, c: &RawConnection, env: EnvLookup<'_>, errs: &mut Errors) -> Connection {
    let prefix = format!("connections[{i}]");
    let id = c.id.get_ref().clone();
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        errs.at(
            &format!("{prefix}.id"),
            &c.id,
            "must be 1-64 characters of letters, digits, `-` or `_`",
        );
    }
    let idp = match c.idp.as_ref().map(|s| s.get_ref().as_str()) {
        None | Some("generic") => Idp::Generic,
        Some("okta") => Idp::Okta,
        Some("entra") => Idp::Entra,
        Some(other) => {
            if let Some(v) = &c.idp {
                errs.at(
                    &format!("{prefix}.idp"),
                    v,
                    format!("unknown idp `{other}`, expected `okta`, `entra` or `generic`"),
                );
            }
            Idp::Generic
        }
    };
    if c.tokens.is_empty() {
        errs.0.push(ConfigError::key(
            format!("{prefix}.tokens"),
            "at least one token hash is required",
        ));
    }
    let mut token_hashes = Vec::new();
    for (j, t) in c.tokens.iter().enumerate() {
        let key = format!("{prefix}.tokens[{j}]");
        let Some(text) = errs.expanded(&key, t, env) else {
            continue;
        };
        match parse_token_hash(&text) {
            Ok(h) => token_hashes.push(h),
            Err(e) => errs.at(&key, t, e),
        }
    }
    let mut vars = BTreeMap::new();
    for (name, v) in &c.vars {
        if let Some(value) = errs.expanded(&format!("{prefix}.vars.{name}"), v, env) {
            vars.insert(name.clone(), value);
        }
    }
    Connection {
        id,
        idp,
        token_hashes,
        vars,
    }
}
