//! Named value transforms usable in attribute rules. Each transform has a
//! read direction (host → SCIM) and a write direction (SCIM → host);
//! `transform = [...]` applies the read functions in order on read and the
//! write functions in reverse order on write. The host value is the one
//! that carries the prefix, the separator-joined string, the epoch number.

use crate::schema::datetime::{format_rfc3339_nanos, parse_rfc3339_nanos};
use serde_json::Value;

/// A named transform with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    /// Lower-case (both directions).
    Lower,
    /// Upper-case (both directions).
    Upper,
    /// Trim whitespace (both directions).
    Trim,
    /// Host string joined by the separator ↔ SCIM array (read splits).
    Split(String),
    /// Host array ↔ SCIM string joined by the separator (read joins).
    Join(String),
    /// Read replaces `from` with `to`; write replaces `to` with `from`.
    Replace(String, String),
    /// Host value carries the prefix: read strips it, write adds it.
    Prefix(String),
    /// Host value carries the suffix: read strips it, write adds it.
    Suffix(String),
    /// Host epoch seconds ↔ SCIM RFC 3339 timestamp.
    EpochSeconds,
    /// Host epoch milliseconds ↔ SCIM RFC 3339 timestamp.
    EpochMillis,
    /// Host percent-encoded text ↔ SCIM text: read decodes, write encodes
    /// everything but RFC 3986 unreserved characters.
    Percent,
    /// Only characters of the set are allowed on write (a 400
    /// `invalidValue` naming the rule otherwise); reads pass.
    Charset(Charset),
    /// Host timestamp without a zone, in UTC (`2024-05-01T12:00:00`) ↔
    /// SCIM RFC 3339: read adds `Z`, write converts to UTC and drops it.
    NaiveUtc,
}

/// A set of allowed characters written as in a regular expression class
/// without brackets: `a-z0-9._=-` (a `-` first or last is literal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charset {
    /// The set as written, for messages.
    pub spec: String,
    ranges: Vec<(char, char)>,
}

impl Charset {
    /// Parses a set; an empty set or a backwards range is an error.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let chars: Vec<char> = spec.chars().collect();
        let mut ranges = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if i + 2 < chars.len() && chars[i + 1] == '-' {
                let (lo, hi) = (chars[i], chars[i + 2]);
                if lo > hi {
                    return Err(format!("charset range `{lo}-{hi}` is backwards"));
                }
                ranges.push((lo, hi));
                i += 3;
            } else {
                ranges.push((chars[i], chars[i]));
                i += 1;
            }
        }
        if ranges.is_empty() {
            return Err("a charset needs at least one character".into());
        }
        Ok(Self {
            spec: spec.to_owned(),
            ranges,
        })
    }

    /// Whether every character of `s` is in the set.
    pub fn allows(&self, s: &str) -> bool {
        s.chars()
            .all(|c| self.ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)))
    }
}

/// Direction of evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Host → SCIM.
    Read,
    /// SCIM → host.
    Write,
}

impl Transform {
    /// Parses `"lower"` or a one-key table such as `{ prefix = "acme-" }`,
    /// `{ replace = ["-", "_"] }`, `{ split = "," }`.
    pub fn parse(v: &toml::Value) -> Result<Self, String> {
        match v {
            toml::Value::String(name) => match name.as_str() {
                "lower" => Ok(Self::Lower),
                "upper" => Ok(Self::Upper),
                "trim" => Ok(Self::Trim),
                "epoch_seconds" => Ok(Self::EpochSeconds),
                "epoch_millis" => Ok(Self::EpochMillis),
                "percent" => Ok(Self::Percent),
                "naive_utc" => Ok(Self::NaiveUtc),
                "split" | "join" | "replace" | "prefix" | "suffix" | "charset" => Err(format!(
                    "transform `{name}` needs an argument: {{ {name} = … }}"
                )),
                other => Err(format!("unknown transform `{other}`")),
            },
            toml::Value::Table(t) if t.len() == 1 => {
                let Some((name, arg)) = t.iter().next() else {
                    return Err("empty transform table".into());
                };
                Self::with_arg(name, arg)
            }
            _ => Err("a transform is a name or a one-key table like { prefix = \"x\" }".into()),
        }
    }

    fn with_arg(name: &str, arg: &toml::Value) -> Result<Self, String> {
        let text = |a: &toml::Value| a.as_str().map(str::to_owned);
        let one = || text(arg).ok_or_else(|| format!("transform `{name}` takes a string"));
        match name {
            "split" => Ok(Self::Split(one()?)),
            "join" => Ok(Self::Join(one()?)),
            "prefix" => Ok(Self::Prefix(one()?)),
            "suffix" => Ok(Self::Suffix(one()?)),
            "charset" => Ok(Self::Charset(Charset::parse(&one()?)?)),
            "replace" => match arg
                .as_array()
                .map(|a| a.iter().map(text).collect::<Vec<_>>())
            {
                Some(v) if v.len() == 2 => match (&v[0], &v[1]) {
                    (Some(f), Some(t)) if !f.is_empty() => Ok(Self::Replace(f.clone(), t.clone())),
                    _ => Err("transform `replace` takes two strings, the first non-empty".into()),
                },
                _ => Err("transform `replace` takes [from, to]".into()),
            },
            other => Err(format!("unknown transform `{other}`")),
        }
    }

    /// Applies the transform in `dir`; a lowercase reason on a value it cannot take.
    pub fn apply(&self, v: Value, dir: Dir) -> Result<Value, String> {
        use Dir::{Read, Write};
        match (self, dir) {
            (Self::Lower, _) => map_str(v, &|s| s.to_lowercase()),
            (Self::Upper, _) => map_str(v, &|s| s.to_uppercase()),
            (Self::Trim, _) => map_str(v, &|s| s.trim().to_owned()),
            (Self::Split(sep), Read) | (Self::Join(sep), Write) => split(v, sep),
            (Self::Split(sep), Write) | (Self::Join(sep), Read) => join(v, sep),
            (Self::Replace(f, t), Read) => map_str(v, &|s| s.replace(f.as_str(), t)),
            (Self::Replace(f, t), Write) if !t.is_empty() => {
                map_str(v, &|s| s.replace(t.as_str(), f))
            }
            (Self::Replace(..), Write) => Ok(v),
            (Self::Prefix(p), Read) => {
                map_str(v, &|s| s.strip_prefix(p.as_str()).unwrap_or(s).to_owned())
            }
            (Self::Prefix(p), Write) => map_str(v, &|s| format!("{p}{s}")),
            (Self::Suffix(p), Read) => {
                map_str(v, &|s| s.strip_suffix(p.as_str()).unwrap_or(s).to_owned())
            }
            (Self::Suffix(p), Write) => map_str(v, &|s| format!("{s}{p}")),
            (Self::EpochSeconds, Read) => from_epoch(&v, 1),
            (Self::EpochMillis, Read) => from_epoch(&v, 1000),
            (Self::EpochSeconds, Write) => to_epoch(&v, 1),
            (Self::EpochMillis, Write) => to_epoch(&v, 1000),
            (Self::Percent, Read) => map_str_fallible(v, &|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|d| d.into_owned())
                    .map_err(|_| "the percent-encoded value is not UTF-8".to_owned())
            }),
            (Self::Percent, Write) => map_str(v, &|s| {
                crate::mapping::render::encode::encode(
                    s,
                    crate::mapping::render::encode::Context::Query,
                )
            }),
            (Self::Charset(_), Read) => Ok(v),
            (Self::Charset(c), Write) => map_str_fallible(v, &|s| {
                if c.allows(s) {
                    Ok(s.to_owned())
                } else {
                    Err(format!(
                        "the value has a character outside the allowed set `{}`",
                        c.spec
                    ))
                }
            }),
            (Self::NaiveUtc, Read) => map_str(v, &add_zone),
            (Self::NaiveUtc, Write) => map_str_fallible(v, &|s| {
                let nanos = parse_rfc3339_nanos(&add_zone(s))
                    .ok_or_else(|| "expected an RFC 3339 timestamp".to_owned())?;
                let utc = format_rfc3339_nanos(nanos)
                    .ok_or_else(|| "the timestamp is out of range".to_owned())?;
                Ok(utc.trim_end_matches('Z').to_owned())
            }),
        }
    }
}

fn map_str(v: Value, f: &dyn Fn(&str) -> String) -> Result<Value, String> {
    match v {
        Value::String(s) => Ok(Value::String(f(&s))),
        Value::Array(a) => a
            .into_iter()
            .map(|e| map_str(e, f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

fn map_str_fallible(v: Value, f: &dyn Fn(&str) -> Result<String, String>) -> Result<Value, String> {
    match v {
        Value::String(s) => f(&s).map(Value::String),
        Value::Array(a) => a
            .into_iter()
            .map(|e| map_str_fallible(e, f))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        other => Ok(other),
    }
}

/// A timestamp without a zone designator is read as UTC (`Z` added);
/// one with a zone is left alone.
fn add_zone(s: &str) -> String {
    let time = s.split_once(['T', 't', ' ']).map_or("", |(_, t)| t);
    let zoned = time.ends_with(['Z', 'z']) || time.contains(['+', '-']);
    if zoned || time.is_empty() {
        s.to_owned()
    } else {
        format!("{}Z", s.replacen(' ', "T", 1))
    }
}

fn split(v: Value, sep: &str) -> Result<Value, String> {
    match v {
        Value::String(s) if s.is_empty() => Ok(Value::Array(Vec::new())),
        Value::String(s) => Ok(Value::Array(
            s.split(sep).map(|p| Value::String(p.to_owned())).collect(),
        )),
        Value::Array(a) => Ok(Value::Array(a)),
        _ => Err("expected a string".into()),
    }
}

fn join(v: Value, sep: &str) -> Result<Value, String> {
    match v {
        Value::Array(a) => {
            let parts: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
            parts
                .map(|p| Value::String(p.join(sep)))
                .ok_or_else(|| "expected an array of strings".into())
        }
        Value::String(s) => Ok(Value::String(s)),
        _ => Err("expected an array of strings".into()),
    }
}

fn from_epoch(v: &Value, per_sec: i64) -> Result<Value, String> {
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
    .ok_or("expected an epoch number")?;
    let nanos = i128::from(n) * (1_000_000_000 / i128::from(per_sec));
    format_rfc3339_nanos(nanos)
        .map(Value::String)
        .ok_or_else(|| "the epoch value is outside the years 0 to 9999".into())
}

fn to_epoch(v: &Value, per_sec: i64) -> Result<Value, String> {
    let s = v.as_str().ok_or("expected an RFC 3339 timestamp")?;
    let nanos = parse_rfc3339_nanos(s).ok_or("expected an RFC 3339 timestamp")?;
    i64::try_from(nanos.div_euclid(1_000_000_000 / i128::from(per_sec)))
        .map(Value::from)
        .map_err(|_| "the timestamp is out of range".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn epoch_round_trips() {
        let t = Transform::EpochSeconds;
        let r = t.apply(json!(1_700_000_000), Dir::Read).unwrap();
        assert_eq!(r, json!("2023-11-14T22:13:20Z"));
        assert_eq!(t.apply(r, Dir::Write).unwrap(), json!(1_700_000_000));
        let m = Transform::EpochMillis;
        assert_eq!(
            m.apply(json!(951_782_400_123_i64), Dir::Read).unwrap(),
            json!("2000-02-29T00:00:00.123Z")
        );
        assert_eq!(
            m.apply(json!("2000-02-29T01:00:00.123+01:00"), Dir::Write)
                .unwrap(),
            json!(951_782_400_123_i64)
        );
        assert_eq!(
            t.apply(json!(-1), Dir::Read).unwrap(),
            json!("1969-12-31T23:59:59Z")
        );
        assert!(t.apply(json!("yesterday"), Dir::Write).is_err());
    }

    #[test]
    fn string_transforms() {
        let p = Transform::Prefix("acme-".into());
        assert_eq!(p.apply(json!("acme-x"), Dir::Read).unwrap(), json!("x"));
        assert_eq!(p.apply(json!("x"), Dir::Write).unwrap(), json!("acme-x"));
        let s = Transform::Split(",".into());
        assert_eq!(s.apply(json!("a,b"), Dir::Read).unwrap(), json!(["a", "b"]));
        assert_eq!(
            s.apply(json!(["a", "b"]), Dir::Write).unwrap(),
            json!("a,b")
        );
        let r = Transform::Replace("_".into(), "-".into());
        assert_eq!(r.apply(json!("en_US"), Dir::Read).unwrap(), json!("en-US"));
        assert_eq!(r.apply(json!("en-US"), Dir::Write).unwrap(), json!("en_US"));
        assert_eq!(
            Transform::Lower.apply(json!("AbC"), Dir::Write).unwrap(),
            json!("abc")
        );
    }

    #[test]
    fn percent_charset_and_naive_timestamps() {
        let p = Transform::Percent;
        let raw = "a b/c?d&e=f'g!h+i%j@k:l";
        let enc = p.apply(json!(raw), Dir::Write).unwrap();
        assert!(
            enc.as_str()
                .unwrap()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"%-._~".contains(&b)),
            "{enc}"
        );
        assert_eq!(p.apply(enc, Dir::Read).unwrap(), json!(raw));
        let c = Transform::Charset(Charset::parse("a-z0-9._=-").unwrap());
        assert_eq!(
            c.apply(json!("ab.c=40-1"), Dir::Write).unwrap(),
            json!("ab.c=40-1")
        );
        let e = c.apply(json!("Ab"), Dir::Write).unwrap_err();
        assert!(e.contains("`a-z0-9._=-`") && !e.contains("Ab"), "{e}");
        assert_eq!(c.apply(json!("Ab"), Dir::Read).unwrap(), json!("Ab"));
        assert!(Charset::parse("z-a").is_err());
        let n = Transform::NaiveUtc;
        assert_eq!(
            n.apply(json!("2024-05-01T12:00:00"), Dir::Read).unwrap(),
            json!("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            n.apply(json!("2024-05-01T12:00:00+02:00"), Dir::Read)
                .unwrap(),
            json!("2024-05-01T12:00:00+02:00")
        );
        assert_eq!(
            n.apply(json!("2024-05-01T14:00:00+02:00"), Dir::Write)
                .unwrap(),
            json!("2024-05-01T12:00:00")
        );
        assert!(n.apply(json!("soon"), Dir::Write).is_err());
    }

    #[test]
    fn parse_names_and_args() {
        let v: toml::Value =
            toml::from_str::<toml::Table>("t = { replace = [\"a\", \"b\"] }").unwrap()["t"].clone();
        assert_eq!(
            Transform::parse(&v).unwrap(),
            Transform::Replace("a".into(), "b".into())
        );
        assert!(
            Transform::parse(&toml::Value::String("nope".into()))
                .unwrap_err()
                .contains("unknown")
        );
        assert!(Transform::parse(&toml::Value::String("prefix".into())).is_err());
    }
}
