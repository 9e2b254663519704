//! `[coordination]`: what the replicas of one deployment share. Without
//! the table each sidecar coordinates only its own requests; with `redis`
//! set, write locks, uniqueness claims, per-connection rate limits and
//! the failed-authentication guard are kept in one Redis (or Valkey)
//! server that every replica names.

use super::EnvLookup;
use super::collect::Errors;
use super::raw::RawCoordination;
use std::time::Duration;

/// What a write that needs a shared lock does while Redis cannot be
/// reached in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUnavailable {
    /// The write is refused: 503 with `Retry-After`, the IdP retries.
    Fail,
    /// The write goes on under this process's own locks (a warning and
    /// the `scim_sidecar_coordination_degraded_total` metric say so).
    Local,
}

/// `[coordination] redis = …` and its settings, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// The server's URL (may carry a password: never logged).
    pub url: String,
    /// Prefix of every key.
    pub key_prefix: String,
    /// Lock time-to-live, renewed while the holder works.
    pub lock_ttl: Duration,
    /// Deadline of one command.
    pub timeout: Duration,
    /// Writes while Redis is down or slow.
    pub on_unavailable: OnUnavailable,
}

/// `[coordination]`, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoordinationConfig {
    /// Shared coordination, when configured.
    pub redis: Option<RedisConfig>,
}

pub(super) fn validate(
    raw: &RawCoordination,
    env: EnvLookup<'_>,
    errs: &mut Errors,
) -> CoordinationConfig {
    let Some(value) = &raw.redis else {
        for (key, v) in [
            ("key_prefix", &raw.key_prefix),
            ("lock_ttl", &raw.lock_ttl),
            ("timeout", &raw.timeout),
            ("on_unavailable", &raw.on_unavailable),
        ] {
            if let Some(v) = v {
                errs.at(
                    &format!("coordination.{key}"),
                    v,
                    "has no effect without `coordination.redis`",
                );
            }
        }
        return CoordinationConfig::default();
    };
    let url = errs
        .expanded("coordination.redis", value, env)
        .and_then(|u| match check_url(&u) {
            Ok(()) => Some(u),
            Err(e) => {
                errs.at("coordination.redis", value, e);
                None
            }
        });
    let key_prefix = match &raw.key_prefix {
        None => "scim-sidecar".to_owned(),
        Some(p) if valid_prefix(p.get_ref()) => p.get_ref().clone(),
        Some(p) => {
            errs.at(
                "coordination.key_prefix",
                p,
                "must be 1 to 64 letters, digits, `-`, `_`, `.` or `:`",
            );
            String::new()
        }
    };
    let lock_ttl = errs.duration(
        "coordination.lock_ttl",
        &raw.lock_ttl,
        Duration::from_secs(10),
    );
    if let Some(v) = raw
        .lock_ttl
        .as_ref()
        .filter(|_| lock_ttl < Duration::from_millis(300))
    {
        errs.at(
            "coordination.lock_ttl",
            v,
            "must be at least 300ms (it is renewed every third of it)",
        );
    }
    let timeout = errs.duration(
        "coordination.timeout",
        &raw.timeout,
        Duration::from_millis(250),
    );
    if let Some(v) = raw
        .timeout
        .as_ref()
        .filter(|_| timeout.is_zero() || timeout >= lock_ttl)
    {
        errs.at(
            "coordination.timeout",
            v,
            "must be above zero and below `lock_ttl`",
        );
    }
    let on_unavailable = match raw
        .on_unavailable
        .as_ref()
        .map(|v| (v, v.get_ref().as_str()))
    {
        None | Some((_, "fail")) => OnUnavailable::Fail,
        Some((_, "local")) => OnUnavailable::Local,
        Some((v, other)) => {
            errs.at(
                "coordination.on_unavailable",
                v,
                format!("unknown setting `{other}`, expected `fail` or `local`"),
            );
            OnUnavailable::Fail
        }
    };
    CoordinationConfig {
        redis: url.map(|url| RedisConfig {
            url,
            key_prefix,
            lock_ttl,
            timeout,
            on_unavailable,
        }),
    }
}

/// A `redis://` URL with a host (TLS, `rediss://`, and Unix sockets are
/// not supported: Redis beside the sidecars is reached in the cluster).
fn check_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("redis://") else {
        return Err(match url.split_once("://") {
            Some((scheme, _)) => format!("`{scheme}://` is not supported; use `redis://host:port`"),
            None => "must be a URL such as `redis://redis:6379`".to_owned(),
        });
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Err("names no host; use `redis://host:port`".to_owned());
    }
    if let Some(db) = rest
        .split_once('/')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
        && db.parse::<u16>().is_err()
    {
        return Err(format!("the database `/{db}` is not a number"));
    }
    if let Err(e) = redis::Client::open(url) {
        return Err(format!(
            "is not a valid Redis URL: {}",
            e.detail().unwrap_or("unparsable")
        ));
    }
    Ok(())
}

fn valid_prefix(p: &str) -> bool {
    (1..=64).contains(&p.len())
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    const CONNECTION: &str = "[[connections]]\nid = \"t\"\ntokens = [\"sha256:4054bccf971055987c0cff7a53b3335161ad23a133000fbcc0f811cb69cd11d7\"]\n";

    fn load(extra: &str) -> Result<Config, String> {
        let upstream = "[upstream]\nurl = \"http://127.0.0.1:3000\"\n";
        let text = format!("{upstream}{CONNECTION}[coordination]\n{extra}\n");
        let env = |name: &str| (name == "REDIS_URL").then(|| "redis://r:6379/2".to_owned());
        Config::from_toml(&text, &env).map_err(|e| e.render("sidecar.toml", &text))
    }

    #[test]
    fn defaults_and_env_expansion() {
        let c = load("redis = \"${REDIS_URL}\"").unwrap();
        let r = c.coordination.redis.unwrap();
        assert_eq!(r.url, "redis://r:6379/2");
        assert_eq!(r.key_prefix, "scim-sidecar");
        assert_eq!(r.lock_ttl.as_secs(), 10);
        assert_eq!(r.timeout.as_millis(), 250);
        assert_eq!(r.on_unavailable, super::OnUnavailable::Fail);
        assert!(load("").unwrap().coordination.redis.is_none());
    }

    #[test]
    fn bad_values_are_reported_at_their_keys() {
        let cases = [
            (
                "redis = \"rediss://r:6379\"",
                "coordination.redis",
                "`rediss://` is not supported",
            ),
            ("redis = \"r:6379\"", "coordination.redis", "must be a URL"),
            (
                "redis = \"redis://:6379\"",
                "coordination.redis",
                "names no host",
            ),
            (
                "redis = \"redis://r/x\"",
                "coordination.redis",
                "is not a number",
            ),
            (
                "redis = \"redis://r\"\non_unavailable = \"open\"",
                "coordination.on_unavailable",
                "expected `fail` or `local`",
            ),
            (
                "redis = \"redis://r\"\nlock_ttl = \"100ms\"",
                "coordination.lock_ttl",
                "at least 300ms",
            ),
            (
                "redis = \"redis://r\"\ntimeout = \"20s\"",
                "coordination.timeout",
                "below `lock_ttl`",
            ),
            (
                "redis = \"redis://r\"\nkey_prefix = \"a b\"",
                "coordination.key_prefix",
                "letters, digits",
            ),
            (
                "lock_ttl = \"5s\"",
                "coordination.lock_ttl",
                "without `coordination.redis`",
            ),
        ];
        for (extra, key, message) in cases {
            let e = load(extra).unwrap_err();
            assert!(e.contains(key) && e.contains(message), "{extra}: {e}");
            assert!(e.contains("sidecar.toml:"), "{e}");
        }
    }
}
