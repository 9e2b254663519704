//! Named value transforms usable in attribute rules. Each transform has a
//! read direction (host → SCIM) and a write direction (SCIM → host);
//! `transform = [...]` applies the read functions in order on read and the
//! write functions in reverse order on write. The host value is the one
//! that carries the prefix, the separator-joined string, the epoch number.

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
                "split" | "join" | "replace" | "prefix" | "suffix" => Err(format!(
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
    Ok(Value::String(format_rfc3339(
        n.div_euclid(per_sec),
        (n.rem_euclid(per_sec) * 1000 / per_sec) as u32,
    )))
}

fn to_epoch(v: &Value, per_sec: i64) -> Result<Value, String> {
    let s = v.as_str().ok_or("expected an RFC 3339 timestamp")?;
    let (secs, millis) = parse_rfc3339(s).ok_or("expected an RFC 3339 timestamp")?;
    Ok(Value::from(
        secs * per_sec + i64::from(millis) * per_sec / 1000,
    ))
}

/// Formats Unix seconds (+ milliseconds) as `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
pub fn format_rfc3339(secs: i64, millis: u32) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        let time = format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
        return match millis {
            0 => format!("{y:04}-{m:02}-{d:02}T{time}Z"),
            ms => format!("{y:04}-{m:02}-{d:02}T{time}.{ms:03}Z"),
        };
    }
    let mut out = String::with_capacity(24);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, m, 2);
    out.push('-');
    push_digits(&mut out, d, 2);
    out.push('T');
    push_digits(&mut out, rem / 3600, 2);
    out.push(':');
    push_digits(&mut out, rem % 3600 / 60, 2);
    out.push(':');
    push_digits(&mut out, rem % 60, 2);
    if millis != 0 {
        out.push('.');
        push_digits(&mut out, i64::from(millis), 3);
    }
    out.push('Z');
    out
}

/// Appends `n` zero-padded to at least `width` digits, like `{n:0width$}`
/// for a non-negative `n`, without a temporary string.
fn push_digits(out: &mut String, n: i64, width: u32) {
    let n = n.unsigned_abs();
    let digits = n.checked_ilog10().unwrap_or(0) + 1;
    for _ in digits..width {
        out.push('0');
    }
    let mut div = 10u64.pow(digits - 1);
    while div > 0 {
        out.push(char::from(b'0' + (n / div % 10) as u8));
        div /= 10;
    }
}

/// Parses an RFC 3339 timestamp into Unix seconds and milliseconds.
pub fn parse_rfc3339(s: &str) -> Option<(i64, u32)> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let b = s.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    let mut millis = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        let digits = format!("{:0<3}", &frac[..n.min(3)]);
        millis = digits.parse().ok()?;
        rest = &frac[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = (
                rest.get(1..3)?.parse::<i64>().ok()?,
                rest.get(4..6)?.parse::<i64>().ok()?,
            );
            sign * (oh * 3600 + om * 60)
        }
    };
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + sec - offset, millis))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
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
    fn rfc3339_formatting_matches_the_padded_format() {
        let reference = |secs: i64, millis: u32| {
            let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            let time = format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60);
            match millis {
                0 => format!("{y:04}-{m:02}-{d:02}T{time}Z"),
                ms => format!("{y:04}-{m:02}-{d:02}T{time}.{ms:03}Z"),
            }
        };
        let secs = [
            0,
            -1,
            59,
            86_399,
            951_782_400,
            1_764_000_000,
            -62_167_219_200,
            -62_167_219_201,
            253_402_300_799,
            253_402_300_800,
            i64::from(i32::MAX) * 1000,
        ];
        for s in secs {
            for ms in [0, 1, 9, 10, 99, 100, 999, 1000, 12_345] {
                assert_eq!(format_rfc3339(s, ms), reference(s, ms), "{s} {ms}");
            }
        }
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
