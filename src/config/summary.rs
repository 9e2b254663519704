//! The effective-settings summary that `check` prints for a valid config.
//! It shows every bound and deadline in force, defaults included, and never
//! prints secrets (header values, token hashes, connection variables).

use super::{Config, format_duration as d};
use std::fmt::Write;

/// Renders the summary.
pub fn summary(c: &Config) -> String {
    let mut s = String::new();
    let s_ = &mut s;
    let _ = writeln!(s_, "listeners:");
    match &c.server.tls {
        Some(t) => {
            let _ = writeln!(
                s_,
                "  public  {} (TLS 1.2/1.3, h2 and http/1.1; cert {}, key {}, handshake_timeout {})",
                c.server.listen,
                t.cert.display(),
                t.key.display(),
                d(t.handshake_timeout)
            );
        }
        None => {
            let _ = writeln!(s_, "  public  {} (HTTP/1.1 and h2c)", c.server.listen);
        }
    }
    let _ = writeln!(
        s_,
        "  admin   {} (/livez, /startupz, /readyz, /metrics; admin_header_read_timeout {}, admin_max_connections {})",
        c.server.admin_listen,
        d(c.server.admin_header_read_timeout),
        c.server.admin_max_connections
    );
    let _ = writeln!(
        s_,
        "  header_read_timeout {}, drain_timeout {}, max_header_bytes {}, http2_max_concurrent_streams {}",
        d(c.server.header_read_timeout),
        d(c.server.drain_timeout),
        c.server.max_header_bytes,
        c.server.http2_max_concurrent_streams
    );
    let _ = writeln!(
        s_,
        "  idle_timeout {}, http2_keep_alive_interval {}, http2_keep_alive_timeout {}, max_connections {}, public_url {}",
        d(c.server.idle_timeout),
        d(c.server.http2_keep_alive_interval),
        d(c.server.http2_keep_alive_timeout),
        c.server.max_connections,
        c.server
            .public_origin
            .as_deref()
            .unwrap_or("(none: locations are paths unless a trusted proxy names the host)")
    );
    let _ = writeln!(s_, "upstream (pass-through):");
    let _ = writeln!(s_, "  {}://{}", c.upstream.scheme, c.upstream.authority);
    let _ = writeln!(
        s_,
        "  connect_timeout {}, response_header_timeout {}, pool_idle_timeout {}, pool_max_idle {}",
        d(c.upstream.connect_timeout),
        d(c.upstream.response_header_timeout),
        d(c.upstream.pool_idle_timeout),
        c.upstream.pool_max_idle
    );
    let trusted: Vec<String> = c
        .upstream
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    let _ = writeln!(
        s_,
        "  trusted_proxies [{}], readiness {}",
        trusted.join(", "),
        c.upstream
            .health_path
            .as_deref()
            .map_or("TCP connect".to_string(), |p| format!("GET {p}"))
    );
    let _ = writeln!(s_, "scim:");
    let _ = writeln!(s_, "  base_path {}", c.scim.base_path);
    let _ = writeln!(
        s_,
        "  max_body_bytes {}, request_timeout {}, max_page_size {}, filter_scan_limit {}, max_patch_operations {}",
        c.scim.max_body_bytes,
        d(c.scim.request_timeout),
        c.scim.max_page_size,
        c.scim.filter_scan_limit,
        c.scim.max_patch_operations
    );
    let names: Vec<&str> = c.host.headers.keys().map(|k| k.as_str()).collect();
    let _ = writeln!(
        s_,
        "host API: {}://{}{} timeout {}, concurrency {}, headers [{}] (values hidden)",
        c.host.scheme,
        c.host.authority,
        c.host.base_path,
        d(c.host.timeout),
        c.host.concurrency,
        names.join(", ")
    );
    let _ = writeln!(
        s_,
        "  max_in_flight {}, max_queued {}, rate_limit {}, max_response_bytes {}",
        c.host.max_in_flight,
        c.host.max_queued,
        rate(c.host.rate_limit),
        c.host.max_response_bytes
    );
    let _ = writeln!(s_, "connections:");
    for conn in &c.connections {
        let vars: Vec<&str> = conn.vars.keys().map(String::as_str).collect();
        let _ = writeln!(
            s_,
            "  {} idp={} base_path={} tokens={} rate_limit {} vars=[{}]",
            conn.id,
            conn.idp.as_str(),
            conn.base_path,
            conn.token_hashes.len(),
            rate(conn.rate_limit),
            vars.join(", ")
        );
    }
    let f = c.scim.failed_auth_limit;
    let _ = writeln!(
        s_,
        "  failed authentications per client address: {}/s, burst {}",
        f.per_second, f.burst
    );
    if let Some(users) = &c.users {
        users_summary(s_, users);
    } else {
        let _ = writeln!(s_, "users: not mapped (/Users answers 501)");
    }
    let _ = writeln!(
        s_,
        "webhooks: {}",
        if c.webhooks.is_empty() { "none" } else { "" }
    );
    for w in &c.webhooks {
        let _ = writeln!(s_, "  {}", w.summary());
    }
    let _ = match &c.coordination.redis {
        // Never the URL: it may carry a password.
        Some(r) => writeln!(
            s_,
            "coordination: shared in Redis (key prefix {}, lock TTL {}, timeout {}, while unavailable: {})",
            r.key_prefix,
            super::format_duration(r.lock_ttl),
            super::format_duration(r.timeout),
            match r.on_unavailable {
                super::OnUnavailable::Fail => "writes fail",
                super::OnUnavailable::Local => "this process's locks",
            }
        ),
        None => writeln!(s_, "coordination: this process only"),
    };
    let _ = writeln!(
        s_,
        "log: pass-through access lines {}",
        c.log.access.as_str()
    );
    s
}

fn rate(r: Option<super::RateLimit>) -> String {
    r.map_or("none".into(), |r| {
        format!("{}/s burst {}", r.per_second, r.burst)
    })
}

fn users_summary(s: &mut String, m: &crate::mapping::ResourceMapping) {
    use crate::mapping::OpKind;
    let ops: Vec<&str> = OpKind::ALL
        .iter()
        .filter(|k| m.op(**k).is_some())
        .map(|k| k.key())
        .collect();
    let search: Vec<String> = m
        .pushdown_rules()
        .iter()
        .map(|r| format!("{} {}", r.attr(), r.op()))
        .collect();
    let _ = writeln!(s, "users:");
    let _ = writeln!(s, "  operations [{}]", ops.join(", "));
    let _ = writeln!(
        s,
        "  attributes {} mapped, push-down [{}], unmapped {:?}, on_delete {:?}",
        m.schema()
            .schemas()
            .map(|s| s.attributes.len())
            .sum::<usize>(),
        search.join(", "),
        m.unmapped_policy(),
        m.on_delete()
    );
}
