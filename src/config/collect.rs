//! The error collector of config validation and the value checks that
//! several sections share: every problem is kept with its key and span
//! (never stopping at the first), durations, counts, rate limits and SCIM
//! base paths are parsed into typed values here.

use super::raw::{RawRateLimit, SpStr};
use super::{EnvLookup, RateLimit, expand, parse_duration};
use crate::diagnostic::Diagnostic;
use std::net::SocketAddr;
use std::time::Duration;
use toml::Spanned;

/// Collects errors while validating.
pub(super) struct Errors(pub(super) Vec<Diagnostic>);

impl Errors {
    pub(super) fn at(&mut self, key: &str, value: &SpStr, message: impl Into<String>) {
        self.0.push(Diagnostic::at(key, value.span(), message));
    }

    pub(super) fn duration(
        &mut self,
        key: &str,
        value: &Option<SpStr>,
        default: Duration,
    ) -> Duration {
        let Some(v) = value else { return default };
        parse_duration(v.get_ref()).unwrap_or_else(|e| {
            self.at(key, v, e);
            default
        })
    }

    pub(super) fn count(
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
            self.0.push(Diagnostic::at(key, v.span(), msg));
            return default;
        }
        usize::try_from(n).unwrap_or(default)
    }

    /// A `{ requests_per_second, burst }` table; the burst defaults to one
    /// second's worth (at least 1).
    pub(super) fn rate_limit(&mut self, key: &str, value: &Spanned<RawRateLimit>) -> RateLimit {
        let r = value.get_ref();
        let rps = *r.requests_per_second.get_ref();
        let rps = if rps.is_finite() && (0.001..=1_000_000.0).contains(&rps) {
            rps
        } else {
            self.0.push(Diagnostic::at(
                format!("{key}.requests_per_second"),
                r.requests_per_second.span(),
                "must be between 0.001 and 1000000",
            ));
            1.0
        };
        let default_burst = i64::try_from(rps.ceil() as u64).unwrap_or(1).max(1);
        let burst = self.count(
            &format!("{key}.burst"),
            &r.burst,
            usize::try_from(default_burst).unwrap_or(1),
            (1, 1_000_000),
        );
        RateLimit {
            per_second: rps,
            burst: u32::try_from(burst).unwrap_or(1),
        }
    }

    pub(super) fn socket(&mut self, key: &str, value: &Option<SpStr>, default: &str) -> SocketAddr {
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

    pub(super) fn expanded(
        &mut self,
        key: &str,
        value: &SpStr,
        env: EnvLookup<'_>,
    ) -> Option<String> {
        expand(value.get_ref(), env)
            .map_err(|e| self.at(key, value, e))
            .ok()
    }
}

/// A SCIM base path: absolute, not `/`, plain segments only (no dot
/// segments, no percent-encoding, no empty segments), without a trailing
/// slash. Requests are matched against it case-insensitively.
pub(super) fn base_path(key: &str, p: &SpStr, errs: &mut Errors) -> String {
    let path = p.get_ref().trim_end_matches('/');
    let valid = path.starts_with('/')
        && path.len() > 1
        && path[1..]
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && !path.contains(['?', '#', '%', '\\', ';'])
        && path.parse::<http::uri::PathAndQuery>().is_ok();
    if !valid {
        errs.at(key, p, "must be a path such as `/scim/v2` (not `/`)");
    }
    path.to_string()
}
