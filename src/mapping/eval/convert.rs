//! Per-rule value conversion in both directions: value maps, transforms,
//! SCIM type checks (→ 400 invalidValue), app values read as their SCIM
//! type or refused (→ 502, never an answer `/Schemas` does not allow) and
//! host type coercions.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::mapping::error::MapError;
use crate::mapping::model::rule::{AttrRule, HostType, Source};
use crate::mapping::render::template::render_value;
use crate::mapping::render::transform::Dir;
use crate::schema::AttrType;
use crate::schema::datetime::parse_rfc3339_nanos;
use crate::schema::get_ci;

fn invalid(rule: &AttrRule, message: impl Into<String>) -> MapError {
    MapError::InvalidValue {
        attr: rule.name.clone(),
        message: message.into(),
    }
}

fn host_err(rule: &AttrRule, message: impl Into<String>) -> MapError {
    MapError::HostValue {
        attr: rule.name.clone(),
        message: message.into(),
    }
}

/// Reads a rule's SCIM value from a host document (`None`: no value).
pub(crate) fn read_rule(rule: &AttrRule, host: &Value) -> Result<Option<Value>, MapError> {
    let o = &rule.write_opts;
    let raw = match &rule.source {
        Source::Path { read, .. } if rule.multi || !o.where_.is_empty() => {
            let all = read.all(host);
            let mut items: Vec<Value> = match all.as_slice() {
                [Value::Array(a)] => a.clone(),
                [] => Vec::new(),
                many => many.iter().map(|v| (*v).clone()).collect(),
            };
            if !o.where_.is_empty() {
                items.retain(|e| crate::mapping::eval::body::owns(o, e));
            }
            match &o.field {
                // A single value kept in the first element `where` selects.
                Some(f) => items.first().and_then(|e| f.get(e)).cloned(),
                None => Some(Value::Array(items)),
            }
        }
        Source::Path { read, .. } => read.one(host).cloned(),
        Source::Template(t) => render_value(t, host).map(Value::String),
        Source::Const(c) => return Ok(Some(c.clone())),
    };
    if rule.multi {
        return read_multi(rule, raw);
    }
    read_value(rule, raw)
}

fn read_multi(rule: &AttrRule, raw: Option<Value>) -> Result<Option<Value>, MapError> {
    let Some(Value::Array(items)) = raw else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for item in &items {
        let mut obj = Map::new();
        for f in &rule.fields {
            if let Some(v) = read_rule(f, item)? {
                obj.insert(f.target.attr.clone(), v);
            }
        }
        if !obj.is_empty() {
            out.push(Value::Object(obj));
        }
    }
    if rule.write_opts.primary_first
        && let Some(Value::Object(first)) = out.first_mut()
    {
        first.insert("primary".into(), Value::Bool(true));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// Host value → SCIM value: read transforms, reverse value map, SCIM type.
fn read_value(rule: &AttrRule, raw: Option<Value>) -> Result<Option<Value>, MapError> {
    let absent = |v: &Value| v.is_null() || (rule.empty_absent && v.as_str() == Some(""));
    let Some(mut v) = raw.filter(|v| !absent(v)) else {
        return Ok(rule.default.clone());
    };
    for t in &rule.read {
        v = t.apply(v, Dir::Read).map_err(|e| host_err(rule, e))?;
    }
    if !rule.map.is_empty() {
        let v_text = text(&v);
        let same =
            |(_, h): &&(String, Value)| *h == v || text(h).is_some_and(|h| Some(h) == v_text);
        // Several SCIM values written as one host value read back as the
        // rule's default when it is one of them, else the first.
        let preferred = rule.default.as_ref().and_then(Value::as_str);
        let hit = rule
            .map
            .iter()
            .filter(same)
            .find(|(s, _)| Some(s.as_str()) == preferred)
            .or_else(|| rule.map.iter().find(same));
        match hit {
            Some((scim, _)) => v = Value::String(scim.clone()),
            None => return Ok(rule.default.clone()),
        }
    }
    to_scim_type(rule, v).map(Some)
}

/// The text of a scalar: strings as they are, numbers and booleans printed.
fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn to_scim_type(rule: &AttrRule, v: Value) -> Result<Value, MapError> {
    match (rule.ty, v) {
        (AttrType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Value::Bool(true))
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Value::Bool(false))
        }
        (AttrType::Boolean, Value::Number(n)) if n.as_u64().is_some_and(|n| n <= 1) => {
            Ok(Value::Bool(n.as_u64() == Some(1)))
        }
        (AttrType::Boolean, other) => Err(host_err(
            rule,
            format!("got {} instead of a boolean", json_type(&other)),
        )),
        (AttrType::Integer | AttrType::Decimal, Value::Number(n)) => {
            whole_if_integer(rule, Value::Number(n))
        }
        (AttrType::Integer | AttrType::Decimal, Value::String(s)) => {
            let n = serde_json::from_str::<serde_json::Number>(s.trim())
                .map_err(|_| host_err(rule, "not a number"))?;
            whole_if_integer(rule, Value::Number(n))
        }
        (AttrType::Integer | AttrType::Decimal, other) => Err(host_err(
            rule,
            format!("got {} instead of a number", json_type(&other)),
        )),
        (AttrType::Complex, v) => Ok(v),
        // A `split` read transform makes the array on purpose.
        (_, v @ Value::Array(_)) if splits(rule) => Ok(v),
        // RFC 7643 §2.4: only multi-valued attributes hold arrays.
        (ty, Value::Array(_)) => Err(host_err(
            rule,
            format!("got an array instead of a {}", ty.as_str()),
        )),
        (AttrType::DateTime, v) => date_time(rule, v),
        (_, v @ Value::String(_)) => Ok(v),
        (_, v) => text(&v)
            .map(|t| Value::String(t.into_owned()))
            .ok_or_else(|| host_err(rule, "not a scalar")),
    }
}

fn splits(rule: &AttrRule) -> bool {
    rule.read
        .iter()
        .any(|t| matches!(t, crate::mapping::render::transform::Transform::Split(_)))
}

/// RFC 7643 §2.3.4: an integer has no fractional digits (`3.0` reads as
/// `3`, `3.5` is not an integer).
fn whole_if_integer(rule: &AttrRule, v: Value) -> Result<Value, MapError> {
    let Value::Number(n) = &v else { return Ok(v) };
    if rule.ty != AttrType::Integer || n.is_i64() || n.is_u64() {
        return Ok(v);
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::from(f as i64)),
        _ => Err(host_err(rule, format!("{n} is not a whole number"))),
    }
}

/// RFC 7643 §2.3.5: a dateTime is sent as RFC 3339, with a time zone.
fn date_time(rule: &AttrRule, v: Value) -> Result<Value, MapError> {
    let hint = match &v {
        Value::String(s) if parse_rfc3339_nanos(s).is_some() => return Ok(v),
        Value::String(s) if parse_rfc3339_nanos(&naive_as_utc(s)).is_some() => {
            "a timestamp without a time zone: add the transform naive_utc when the app's times are UTC"
        }
        Value::Number(_) => "epoch numbers need a transform: epoch_seconds or epoch_millis",
        _ => {
            "timestamps without a zone need naive_utc, epoch numbers epoch_seconds or epoch_millis"
        }
    };
    Err(host_err(
        rule,
        format!("not an RFC 3339 dateTime with a time zone ({hint})"),
    ))
}

/// `2024-05-01 12:00:03.25` read as UTC (`…T12:00:03.25Z`), to tell a
/// timestamp without a zone from text that is no timestamp.
fn naive_as_utc(s: &str) -> String {
    format!("{}Z", s.trim().replacen(' ', "T", 1))
}

/// SCIM value → host value (`None`: nothing to write). `v` is the value in
/// the SCIM document; null means "no value".
pub(crate) fn write_value(rule: &AttrRule, v: Option<&Value>) -> Result<Option<Value>, MapError> {
    let v = match v.filter(|v| !v.is_null()) {
        Some(v) => v.clone(),
        None => match &rule.default {
            Some(d) => d.clone(),
            None => return Ok(None),
        },
    };
    if rule.multi {
        return write_multi(rule, v).map(Some);
    }
    let mut v = check_scim_type(rule, v)?;
    if !rule.map.is_empty() {
        let key = text(&v).unwrap_or_default();
        let hit = rule
            .map
            .iter()
            .find(|(s, _)| *s == key)
            .or_else(|| rule.map.iter().find(|(s, _)| s.eq_ignore_ascii_case(&key)));
        // A SCIM value the map does not know is written as the default's
        // host value, when the rule has a default.
        let fallback = || {
            let d = rule.default.as_ref().and_then(Value::as_str)?;
            rule.map.iter().find(|(s, _)| s == d)
        };
        let hit = hit.or_else(fallback).map(|(_, h)| h.clone());
        v = hit.ok_or_else(|| {
            let allowed: Vec<&str> = rule.map.iter().map(|(s, _)| s.as_str()).collect();
            invalid(
                rule,
                format!("the value is not one of {}", allowed.join(", ")),
            )
        })?;
    }
    for t in &rule.write {
        v = t.apply(v, Dir::Write).map_err(|e| invalid(rule, e))?;
    }
    match rule.host_type {
        Some(ht) => coerce_host(rule, ht, v).map(Some),
        None => Ok(Some(v)),
    }
}

fn write_multi(rule: &AttrRule, v: Value) -> Result<Value, MapError> {
    let Value::Array(mut items) = v else {
        return Err(invalid(rule, "expected an array"));
    };
    if rule.write_opts.primary_first {
        // The app knows no `primary`: its first element is the primary one.
        let primary = |it: &Value| get_ci(it, "primary") == Some(&Value::Bool(true));
        if let Some(i) = items.iter().position(primary) {
            let p = items.remove(i);
            items.insert(0, p);
        }
    }
    let mut out = Vec::new();
    for item in &items {
        if !item.is_object() {
            return Err(invalid(rule, "expected an array of objects"));
        }
        let mut host = Value::Object(Map::new());
        for f in &rule.fields {
            let Source::Path { write: Some(w), .. } = &f.source else {
                continue;
            };
            if let Some(hv) = write_value(f, get_ci(item, &f.target.attr))? {
                w.set(&mut host, hv);
            }
        }
        // An element no field rule gives a value is no element: it would
        // be stored empty and never read back (RFC 7643 §2.5).
        if host.as_object().is_some_and(|o| !o.is_empty()) {
            out.push(host);
        }
    }
    Ok(Value::Array(out))
}

/// Checks (and normalizes) a SCIM input value against the attribute type.
fn check_scim_type(rule: &AttrRule, v: Value) -> Result<Value, MapError> {
    let ok = match (&rule.ty, &v) {
        (AttrType::Boolean, Value::Bool(_)) => true,
        // Entra: sends `"active": "True"` (AzureAD/SCIMReferenceCode #21).
        (AttrType::Boolean, Value::String(s)) => {
            let b = if s.eq_ignore_ascii_case("true") {
                true
            } else if s.eq_ignore_ascii_case("false") {
                false
            } else {
                return Err(invalid(rule, "expected a boolean".to_string()));
            };
            return Ok(Value::Bool(b));
        }
        (AttrType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (AttrType::Decimal, Value::Number(_)) => true,
        (AttrType::Complex, Value::Object(_)) => true,
        (AttrType::DateTime, Value::String(s)) => parse_rfc3339_nanos(s).is_some(),
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => true,
        (_, Value::Array(_)) => rule.write.iter().any(|t| {
            matches!(
                t,
                crate::mapping::render::transform::Transform::Split(_)
                    | crate::mapping::render::transform::Transform::Join(_)
            )
        }),
        _ => false,
    };
    if ok {
        Ok(v)
    } else {
        Err(invalid(
            rule,
            format!("expected a {} value", rule.ty.as_str()),
        ))
    }
}

fn coerce_host(rule: &AttrRule, ht: HostType, v: Value) -> Result<Value, MapError> {
    let bad = || {
        invalid(
            rule,
            format!("cannot convert a {} for the app", json_type(&v)),
        )
    };
    Ok(match (ht, &v) {
        (HostType::String, Value::String(_))
        | (HostType::Bool, Value::Bool(_))
        | (HostType::Number, Value::Number(_)) => v,
        (HostType::String, Value::Number(_) | Value::Bool(_)) => {
            Value::String(text(&v).unwrap_or_default().into_owned())
        }
        (HostType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => v,
        (HostType::Integer, Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| bad())?,
        (HostType::Number, Value::String(s)) => {
            serde_json::from_str::<serde_json::Number>(s.trim())
                .map(Value::Number)
                .map_err(|_| bad())?
        }
        (HostType::Bool, Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        (HostType::Bool, Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        _ => return Err(bad()),
    })
}

/// The JSON type of a value, for messages: values themselves may be
/// personal data and never appear in errors or logs.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
