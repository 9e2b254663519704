//! Raw → validated: turns the serde mirror into [`Config`], collecting every
//! problem with its key and span instead of stopping at the first.

use super::collect::{Errors, base_path};
use super::connections::{common_vars, connections};
use super::raw::{RawConfig, RawHost, RawLog, RawScim, RawServer, RawTls, RawUpstream, SpStr};
use super::{
    AccessLog, Cidr, Config, ConfigErrors, EnvLookup, FileLookup, HostConfig, LogConfig, RateLimit,
    ScimConfig, ServerConfig, TlsConfig, UpstreamConfig,
};
use crate::diagnostic::Diagnostic;
use crate::mapping::raw::ResourceToml;
use crate::mapping::{ResourceKind, compile_with};
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use toml::Spanned;

/// What `connection new` reads of a config: the SCIM base path, the
/// public origin and the ids of the connections written in it. Only these
/// keys are validated, so onboarding works where the app's secrets
/// (`${APP_API_KEY}`) are not set.
pub fn onboarding(text: &str) -> Result<super::OnboardingSettings, ConfigErrors> {
    let raw: RawConfig = parse(text)?;
    let mut errs = Errors(Vec::new());
    let settings = super::OnboardingSettings {
        base_path: scim(&raw.scim, &mut errs).base_path,
        public_origin: raw
            .server
            .public_url
            .as_ref()
            .and_then(|u| public_origin(u, &mut errs)),
        connection_ids: raw
            .connections
            .iter()
            .map(|c| c.get_ref().id.get_ref().clone())
            .collect(),
    };
    if errs.0.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigErrors(errs.0))
    }
}

fn parse(text: &str) -> Result<RawConfig, ConfigErrors> {
    toml::from_str(text).map_err(|e| {
        let msg = e.message().trim_end_matches('\n').to_string();
        ConfigErrors(vec![match e.span() {
            Some(span) => Diagnostic::at("", span, msg),
            None => Diagnostic::key("", msg),
        }])
    })
}

/// Loads a config text; see [`Config::from_toml_with`].
pub fn load(text: &str, env: EnvLookup<'_>, files: FileLookup<'_>) -> Result<Config, ConfigErrors> {
    let raw = parse(text)?;
    let mut errs = Errors(Vec::new());
    let server = server(&raw.server, &mut errs);
    let upstream = upstream(&raw.upstream, env, files, &mut errs);
    let scim = scim(&raw.scim, &mut errs);
    let host = host(&raw.host, &raw.upstream, env, &mut errs);
    let log = log(&raw.log, &mut errs);
    let connections = connections(&raw, &scim.base_path, env, files, &mut errs);
    let vars = common_vars(&connections);
    let mut compile = |raw: Option<&ResourceToml>, kind, key| {
        raw.and_then(|r| {
            compile_with(r, kind, key, &vars, env)
                .map_err(|e| errs.0.extend(e))
                .ok()
        })
    };
    let mut users = compile(raw.users.as_ref(), ResourceKind::User, "users");
    let groups = compile(raw.groups.as_ref(), ResourceKind::Group, "groups");
    if groups.as_ref().is_some_and(|g| g.roles().is_some()) {
        match users.as_mut() {
            Some(u) => u.declare_group_links(),
            None => errs.0.push(Diagnostic::key(
                "groups.roles",
                "groups stored as roles need a [users] mapping",
            )),
        }
    }
    let users = users.map(Arc::new);
    let groups = groups.map(Arc::new);
    let webhooks = super::webhooks::validate(&raw.webhooks, env, &mut errs.0);
    let coordination = super::coordination::validate(&raw.coordination, env, &mut errs);
    if errs.0.is_empty() {
        Ok(Config {
            server,
            upstream,
            scim,
            host,
            log,
            connections,
            users,
            groups,
            webhooks,
            coordination,
            sources: Vec::new(),
            fingerprint: [0; 32],
        })
    } else {
        Err(ConfigErrors(errs.0))
    }
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
        public_origin: raw.public_url.as_ref().and_then(|u| public_origin(u, errs)),
        idle_timeout: errs.duration(
            "server.idle_timeout",
            &raw.idle_timeout,
            Duration::from_secs(120),
        ),
        http2_keep_alive_interval: errs.duration(
            "server.http2_keep_alive_interval",
            &raw.http2_keep_alive_interval,
            Duration::from_secs(30),
        ),
        http2_keep_alive_timeout: errs.duration(
            "server.http2_keep_alive_timeout",
            &raw.http2_keep_alive_timeout,
            Duration::from_secs(20),
        ),
        max_connections: errs.count(
            "server.max_connections",
            &raw.max_connections,
            4096,
            (1, 1_000_000),
        ),
        admin_header_read_timeout: admin_header_read_timeout(raw, errs),
        admin_max_connections: errs.count(
            "server.admin_max_connections",
            &raw.admin_max_connections,
            64,
            (2, 4096),
        ),
        tls: raw.tls.as_ref().map(|t| tls(t.get_ref(), errs)),
    }
}

/// The admin port's head deadline: short, since the kubelet and
/// Prometheus send their request as soon as they connect; above zero and
/// at most a minute.
fn admin_header_read_timeout(raw: &RawServer, errs: &mut Errors) -> Duration {
    let key = "server.admin_header_read_timeout";
    let default = Duration::from_secs(2);
    let d = errs.duration(key, &raw.admin_header_read_timeout, default);
    match &raw.admin_header_read_timeout {
        Some(v) if d.is_zero() || d > Duration::from_secs(60) => {
            errs.at(key, v, "must be above 0 and at most 60s");
            default
        }
        _ => d,
    }
}

fn log(raw: &RawLog, errs: &mut Errors) -> LogConfig {
    let access = match &raw.access {
        None => AccessLog::All,
        Some(v) => {
            match v.get_ref().as_str() {
                "all" => AccessLog::All,
                "errors" => AccessLog::Errors,
                "off" => AccessLog::Off,
                other => {
                    errs.at(
                    "log.access",
                    v,
                    format!("unknown access log setting `{other}`, expected `all`, `errors` or `off`"),
                );
                    AccessLog::All
                }
            }
        }
    };
    LogConfig { access }
}

fn tls(raw: &RawTls, errs: &mut Errors) -> TlsConfig {
    for (key, v) in [("server.tls.cert", &raw.cert), ("server.tls.key", &raw.key)] {
        if v.get_ref().is_empty() {
            errs.at(key, v, "must be a file path");
        }
    }
    TlsConfig {
        cert: PathBuf::from(raw.cert.get_ref()),
        key: PathBuf::from(raw.key.get_ref()),
        handshake_timeout: errs.duration(
            "server.tls.handshake_timeout",
            &raw.handshake_timeout,
            Duration::from_secs(10),
        ),
    }
}

/// `scheme://authority` of `[server] public_url`; a path is refused (the
/// SCIM base path is appended to it).
fn public_origin(value: &SpStr, errs: &mut Errors) -> Option<String> {
    let key = "server.public_url";
    let uri: Uri = match value.get_ref().parse() {
        Ok(u) => u,
        Err(_) => {
            errs.at(
                key,
                value,
                "invalid URL, expected e.g. `https://sso.example.com`",
            );
            return None;
        }
    };
    let bare = uri.path() == "/" && uri.query().is_none();
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme @ ("http" | "https")), Some(a)) if bare => Some(format!("{scheme}://{a}")),
        _ => {
            errs.at(
                key,
                value,
                "must be `http(s)://host[:port]` without a path, e.g. `https://sso.example.com`",
            );
            None
        }
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
    if scheme != Scheme::HTTP && scheme != Scheme::HTTPS {
        errs.at(key, value, "the app's URL must be `http://` or `https://`");
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

fn upstream(
    raw: &Spanned<RawUpstream>,
    env: EnvLookup<'_>,
    files: FileLookup<'_>,
    errs: &mut Errors,
) -> UpstreamConfig {
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
        ca_pem: r.ca_file.as_ref().and_then(|f| ca_file(f, files, errs)),
    }
}

/// Reads `[upstream] ca_file`: PEM with at least one certificate.
fn ca_file(value: &SpStr, files: FileLookup<'_>, errs: &mut Errors) -> Option<Vec<u8>> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let key = "upstream.ca_file";
    let bytes = match files(value.get_ref()).map(|mut v| v.pop()) {
        Ok(Some((_, b))) => b,
        Ok(None) => {
            errs.at(key, value, "must be a PEM file, not a directory");
            return None;
        }
        Err(e) => {
            errs.at(key, value, e);
            return None;
        }
    };
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
    match certs {
        Ok(c) if !c.is_empty() => Some(bytes),
        _ => {
            errs.at(key, value, "holds no PEM certificate");
            None
        }
    }
}

fn scim(raw: &RawScim, errs: &mut Errors) -> ScimConfig {
    let base_path = match &raw.base_path {
        None => "/scim/v2".to_string(),
        Some(p) => base_path("scim.base_path", p, errs),
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
        failed_auth_limit: raw
            .failed_auth_limit
            .as_ref()
            .map(|r| errs.rate_limit("scim.failed_auth_limit", r))
            .unwrap_or(RateLimit {
                per_second: 0.5,
                burst: 20,
            }),
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
        max_in_flight: errs.count("host.max_in_flight", &raw.max_in_flight, 32, (1, 10_000)),
        max_queued: errs.count("host.max_queued", &raw.max_queued, 1_000, (0, 1_000_000)),
        rate_limit: raw
            .rate_limit
            .as_ref()
            .map(|r| errs.rate_limit("host.rate_limit", r)),
        max_response_bytes: errs.count(
            "host.max_response_bytes",
            &raw.max_response_bytes,
            16 << 20,
            (1024, 1 << 30),
        ),
        ready_read: raw.ready_read,
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

#[cfg(test)]
mod tests {
    use crate::auth::token_hash_string;
    use crate::config::Config;
    use std::time::Duration;

    fn with_server(lines: &str) -> Result<Config, String> {
        let hash = token_hash_string("t".repeat(40).as_str());
        let text = format!(
            "[server]\n{lines}\n[upstream]\nurl = \"http://127.0.0.1:1\"\n\
             [[connections]]\nid = \"a\"\nidp = \"okta\"\ntokens = [\"{hash}\"]\n"
        );
        Config::from_toml(&text, &|_| None).map_err(|e| e.render("t.toml", &text))
    }

    #[test]
    fn the_admin_port_has_a_short_deadline_and_its_own_budget() {
        let c = with_server("").unwrap();
        assert_eq!(c.server.admin_header_read_timeout, Duration::from_secs(2));
        assert_eq!(c.server.admin_max_connections, 64);
        let c = with_server("admin_header_read_timeout = \"500ms\"\nadmin_max_connections = 8")
            .unwrap();
        assert_eq!(
            c.server.admin_header_read_timeout,
            Duration::from_millis(500)
        );
        assert_eq!(c.server.admin_max_connections, 8);
        for bad in [
            "admin_header_read_timeout = \"0s\"",
            "admin_header_read_timeout = \"2m\"",
            "admin_max_connections = 1",
        ] {
            let e = with_server(bad).expect_err(bad);
            assert!(e.contains("server.admin_"), "{bad}: {e}");
        }
    }
}
