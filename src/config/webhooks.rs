//! `[[webhooks]]`: receivers of provisioning events, off unless configured.
//! This module owns the TOML shape and its validation into
//! [`WebhookConfig`]; delivery (signing, queueing, retries) lives in
//! `telemetry::webhook`. Secrets come from `${ENV}` references and are never
//! printed, not even by `Debug`.

use super::{EnvLookup, expand, parse_duration};
use crate::diagnostic::Diagnostic;
use http::Uri;
use http::uri::Scheme;
use serde::Deserialize;
use std::fmt;
use std::time::Duration;
use toml::Spanned;

/// The event types a webhook can subscribe to, as they appear in `events`
/// and in the payload's `type`.
pub const EVENT_TYPES: [&str; 11] = [
    "user.created",
    "user.updated",
    "user.deactivated",
    "user.reactivated",
    "user.deleted",
    "group.created",
    "group.renamed",
    "group.updated",
    "group.members_added",
    "group.members_removed",
    "group.deleted",
];

/// One `[[webhooks]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhook {
    /// Name used in logs and metric labels (never the URL, which may embed
    /// a secret); default `webhook-<n>`.
    pub name: Option<Spanned<String>>,
    /// Receiver URL, `https://` (or `http://` inside a trusted network).
    pub url: Spanned<String>,
    /// HMAC-SHA256 key, normally `${ENV_VAR}`.
    pub secret: Spanned<String>,
    /// Event types to send (`user.created`, `user.*`, `*`); default all.
    pub events: Option<Spanned<Vec<Spanned<String>>>>,
    /// Deadline for one delivery attempt.
    pub timeout: Option<Spanned<String>>,
    /// Attempts per event before it is dropped.
    pub max_attempts: Option<Spanned<i64>>,
    /// First retry delay; doubled per attempt up to `max_backoff`.
    pub backoff: Option<Spanned<String>>,
    /// Longest retry delay.
    pub max_backoff: Option<Spanned<String>>,
    /// Events waiting for this receiver at most; beyond it new events are
    /// dropped (counted and logged).
    pub queue: Option<Spanned<i64>>,
}

/// A webhook signing key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A key from bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The key bytes, for signing.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A validated webhook receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookConfig {
    /// Name for logs and metrics.
    pub name: String,
    /// Receiver URL.
    pub url: Uri,
    /// Signing key.
    pub secret: Secret,
    /// Subscribed event patterns: exact types, `user.*`, `group.*` or `*`.
    pub events: Vec<String>,
    /// Deadline for one attempt.
    pub timeout: Duration,
    /// Attempts per event.
    pub max_attempts: u32,
    /// First retry delay.
    pub backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Queue bound.
    pub queue: usize,
}

impl WebhookConfig {
    /// One line for `check`: the receiver's origin only (a URL path or
    /// query may embed a secret), never the signing key.
    pub fn summary(&self) -> String {
        format!(
            "{} {}://{} events [{}] timeout {}, max_attempts {}, backoff {}..{}, queue {}",
            self.name,
            self.url.scheme_str().unwrap_or("?"),
            self.url.authority().map_or("?", |a| a.host()),
            self.events.join(", "),
            super::format_duration(self.timeout),
            self.max_attempts,
            super::format_duration(self.backoff),
            super::format_duration(self.max_backoff),
            self.queue
        )
    }

    /// Whether this receiver subscribed to event type `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        self.events.iter().any(|p| pattern_matches(p, kind))
    }
}

fn pattern_matches(pattern: &str, kind: &str) -> bool {
    match pattern.strip_suffix(".*") {
        _ if pattern == "*" => true,
        Some(prefix) => kind
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.')),
        None => pattern == kind,
    }
}

/// Validates every `[[webhooks]]` entry, pushing problems onto `errs`.
pub fn validate(
    raw: &[Spanned<RawWebhook>],
    env: EnvLookup<'_>,
    errs: &mut Vec<Diagnostic>,
) -> Vec<WebhookConfig> {
    let mut out: Vec<WebhookConfig> = Vec::new();
    for (i, w) in raw.iter().enumerate() {
        let key = format!("webhooks[{i}]");
        if let Some(hook) = one(&key, i, w.get_ref(), env, errs) {
            if out.iter().any(|o| o.name == hook.name) {
                errs.push(Diagnostic::at(
                    format!("{key}.name"),
                    w.span(),
                    format!("webhook name `{}` is used twice", hook.name),
                ));
            }
            out.push(hook);
        }
    }
    out
}

fn one(
    key: &str,
    index: usize,
    w: &RawWebhook,
    env: EnvLookup<'_>,
    errs: &mut Vec<Diagnostic>,
) -> Option<WebhookConfig> {
    let before = errs.len();
    let mut at = |field: &str, span: std::ops::Range<usize>, msg: String| {
        errs.push(Diagnostic::at(format!("{key}.{field}"), span, msg));
    };
    let name = match &w.name {
        None => format!("webhook-{}", index + 1),
        Some(n) => {
            let ok = !n.get_ref().is_empty()
                && n.get_ref().len() <= 64
                && n.get_ref()
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !ok {
                at(
                    "name",
                    n.span(),
                    "must be 1–64 letters, digits, `-`, `_` or `.`".into(),
                );
            }
            n.get_ref().clone()
        }
    };
    let url = expand(w.url.get_ref(), env)
        .map_err(|e| at("url", w.url.span(), e))
        .ok()
        .and_then(|u| match parse_url(&u) {
            Ok(uri) => Some(uri),
            Err(e) => {
                at("url", w.url.span(), e.into());
                None
            }
        });
    let secret = match expand(w.secret.get_ref(), env) {
        Err(e) => {
            at("secret", w.secret.span(), e);
            None
        }
        Ok(s) if s.len() < 16 => {
            at(
                "secret",
                w.secret.span(),
                "must be at least 16 characters (e.g. `openssl rand -hex 32`)".into(),
            );
            None
        }
        Ok(s) => Some(Secret(s.into_bytes())),
    };
    let events = match &w.events {
        None => vec!["*".to_string()],
        Some(list) => {
            if list.get_ref().is_empty() {
                at(
                    "events",
                    list.span(),
                    "must name at least one event type (or leave it out for all)".into(),
                );
            }
            for p in list.get_ref() {
                if !valid_pattern(p.get_ref()) {
                    at(
                        "events",
                        p.span(),
                        format!(
                            "unknown event type `{}`; expected `*`, `user.*`, `group.*` or one of {}",
                            p.get_ref(),
                            EVENT_TYPES.join(", ")
                        ),
                    );
                }
            }
            list.get_ref().iter().map(|p| p.get_ref().clone()).collect()
        }
    };
    let mut duration = |field: &str, v: &Option<Spanned<String>>, default: Duration| match v {
        None => default,
        Some(s) => match parse_duration(s.get_ref()) {
            Ok(d) if !d.is_zero() => d,
            Ok(_) => {
                at(field, s.span(), "must be longer than zero".into());
                default
            }
            Err(e) => {
                at(field, s.span(), e);
                default
            }
        },
    };
    let timeout = duration("timeout", &w.timeout, Duration::from_secs(10));
    let backoff = duration("backoff", &w.backoff, Duration::from_secs(1));
    let max_backoff = duration("max_backoff", &w.max_backoff, Duration::from_secs(300));
    let mut count = |field: &str, v: &Option<Spanned<i64>>, default: i64, max: i64| match v {
        None => default,
        Some(n) if (1..=max).contains(n.get_ref()) => *n.get_ref(),
        Some(n) => {
            at(field, n.span(), format!("must be between 1 and {max}"));
            default
        }
    };
    let max_attempts = count("max_attempts", &w.max_attempts, 8, 100);
    let queue = count("queue", &w.queue, 1000, 1_000_000);
    if errs.len() > before {
        return None;
    }
    Some(WebhookConfig {
        name,
        url: url?,
        secret: secret?,
        events,
        timeout,
        max_attempts: u32::try_from(max_attempts).unwrap_or(8),
        backoff,
        max_backoff: max_backoff.max(backoff),
        queue: usize::try_from(queue).unwrap_or(1000),
    })
}

fn valid_pattern(p: &str) -> bool {
    p == "*" || p == "user.*" || p == "group.*" || EVENT_TYPES.contains(&p)
}

fn parse_url(text: &str) -> Result<Uri, &'static str> {
    let uri: Uri = text
        .parse()
        .map_err(|_| "invalid URL, expected e.g. `https://hooks.example.com/scim`")?;
    match (uri.scheme(), uri.authority()) {
        (Some(s), Some(_)) if *s == Scheme::HTTPS || *s == Scheme::HTTP => Ok(uri),
        (Some(_), Some(_)) => Err("only `https://` and `http://` URLs are supported"),
        _ => Err("URL must be absolute, e.g. `https://hooks.example.com/scim`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Vec<WebhookConfig>, Vec<Diagnostic>) {
        #[derive(Deserialize)]
        struct Doc {
            webhooks: Vec<Spanned<RawWebhook>>,
        }
        let doc: Doc = toml::from_str(text).expect("toml");
        let env = |n: &str| (n == "HOOK_SECRET").then(|| "0123456789abcdef0123".to_string());
        let mut errs = Vec::new();
        let hooks = validate(&doc.webhooks, &env, &mut errs);
        (hooks, errs)
    }

    #[test]
    fn defaults_and_secret_from_env() {
        let (hooks, errs) = load(
            r#"
            [[webhooks]]
            url = "https://hooks.example.com/scim"
            secret = "${HOOK_SECRET}"
            "#,
        );
        assert!(errs.is_empty(), "{errs:?}");
        let h = &hooks[0];
        assert_eq!(h.name, "webhook-1");
        assert_eq!(h.secret.expose(), b"0123456789abcdef0123");
        assert!(!format!("{h:?}").contains("0123456789abcdef"));
        assert_eq!(
            h.summary(),
            "webhook-1 https://hooks.example.com events [*] timeout 10s, max_attempts 8, backoff 1s..5m, queue 1000"
        );
        assert!(h.wants("user.created") && h.wants("group.deleted"));
        assert_eq!((h.max_attempts, h.queue), (8, 1000));
    }

    #[test]
    fn event_filters_match_exact_and_by_resource() {
        let (hooks, errs) = load(
            r#"
            [[webhooks]]
            url = "http://127.0.0.1:9/x"
            secret = "${HOOK_SECRET}"
            events = ["user.*", "group.deleted"]
            "#,
        );
        assert!(errs.is_empty(), "{errs:?}");
        let h = &hooks[0];
        assert!(h.wants("user.deactivated"));
        assert!(h.wants("group.deleted"));
        assert!(!h.wants("group.created"));
        assert!(!pattern_matches("user.*", "username.created"));
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let (hooks, errs) = load(
            r#"
            [[webhooks]]
            url = "ftp://example.com"
            secret = "short"
            events = ["user.exploded"]
            max_attempts = 0
            timeout = "soon"
            [[webhooks]]
            url = "https://example.com"
            secret = "${UNSET_SECRET}"
            "#,
        );
        assert!(hooks.is_empty());
        let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
        for k in [
            "webhooks[0].url",
            "webhooks[0].secret",
            "webhooks[0].events",
            "webhooks[0].max_attempts",
            "webhooks[0].timeout",
            "webhooks[1].secret",
        ] {
            assert!(keys.contains(&k), "missing {k} in {errs:?}");
        }
        assert!(errs.iter().all(|e| !e.message.contains("short")));
    }
}
