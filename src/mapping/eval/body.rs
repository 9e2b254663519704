//! The write side of attribute rules beyond "value at a path": rules that
//! own only some elements of a host list (`where`), per-rule clearing
//! styles, fallbacks that compose a value from other SCIM attributes
//! (`compose`, `coalesce`), values generated for a create (a random
//! password the app requires), and constants — conditional on a SCIM
//! value, with `{conn.<var>}` and SCIM placeholders — written into bodies,
//! with what a write knows beyond the SCIM resource ([`WriteEnv`]).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::mapping::error::MapError;
use crate::mapping::eval::scim::scim_at;
use crate::mapping::model::rule::{AttrRule, Clear, Constant, Fallback, Source, WriteOpts};
use crate::mapping::path::WritePath;
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::template::Template;
use crate::mapping::render::vars::Vars;

/// What a write knows beyond the SCIM resource.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteEnv<'a> {
    /// Connection variables, for `{conn.<var>}` in constants.
    pub conn: Option<&'a BTreeMap<String, String>>,
    /// The app's JSON of the resource as last read (updates), so list
    /// elements no rule owns are sent back unchanged.
    pub current: Option<&'a Value>,
}

/// The value a rule writes: its own SCIM value, else its first fallback
/// with a value.
pub(crate) fn effective<'a>(
    rule: &AttrRule,
    own: Option<&'a Value>,
    scim: &'a Value,
) -> Result<Option<Cow<'a, Value>>, MapError> {
    if let Some(v) = own.filter(|v| !v.is_null()) {
        return Ok(Some(Cow::Borrowed(v)));
    }
    for f in &rule.write_opts.fallbacks {
        match f {
            Fallback::Attr(p) => {
                if let Some(v) = scim_at(scim, p) {
                    return Ok(Some(Cow::Borrowed(v)));
                }
            }
            Fallback::Template(t) => {
                let vars = Vars {
                    resource: Some(scim),
                    ..Vars::default()
                };
                let text = render_loose(t, &vars)?;
                if !text.trim().is_empty() {
                    return Ok(Some(Cow::Owned(Value::String(text.trim().to_owned()))));
                }
            }
        }
    }
    Ok(None)
}

/// Renders a template with missing placeholders as empty text, inner
/// runs of spaces collapsed (`"Ada "` + `""` → `"Ada"`).
fn render_loose(t: &Template<Var>, vars: &Vars<'_>) -> Result<String, MapError> {
    let mut out = String::new();
    for part in t.parts() {
        match part {
            crate::mapping::render::template::Part::Lit(s) => out.push_str(s),
            crate::mapping::render::template::Part::Var(v) => {
                out.push_str(&vars.get(v)?.unwrap_or_default());
            }
        }
    }
    Ok(out
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" "))
}

/// A random value of `len` letters and digits, for a create call that
/// needs a value the IdP did not send (a password).
pub(crate) fn generated(len: usize) -> Result<Value, MapError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        getrandom::fill(&mut buf).map_err(|_| MapError::InvalidValue {
            attr: "generate".into(),
            message: "no randomness available".into(),
        })?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        out.extend(
            buf.iter()
                .filter(|b| usize::from(**b) < limit)
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .take(len - out.len()),
        );
    }
    Ok(Value::String(out))
}

/// Writes a rule's host value (`None`: cleared) into `body`.
pub(crate) fn put(
    rule: &AttrRule,
    body: &mut Value,
    v: Option<Value>,
    nulls: bool,
    env: &WriteEnv<'_>,
) {
    let Source::Path {
        write: Some(w),
        read,
    } = &rule.source
    else {
        return;
    };
    let o = &rule.write_opts;
    if !o.where_.is_empty() {
        let base = w
            .get(body)
            .filter(|v| v.is_array())
            .or_else(|| {
                env.current
                    .and_then(|c| read.one(c))
                    .filter(|v| v.is_array())
            })
            .cloned();
        if v.is_none() && base.is_none() && !nulls {
            return;
        }
        let mut list: Vec<Value> = match base {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        list.retain(|e| !owns(o, e));
        list.extend(elements(o, v));
        w.set(body, Value::Array(list));
        return;
    }
    match v {
        Some(v) => w.set(body, v),
        None if nulls => clear(rule, w, body),
        None => {}
    }
}

/// Whether a host list element is one of the rule's (`where` matches).
pub(crate) fn owns(o: &WriteOpts, e: &Value) -> bool {
    o.where_.iter().all(|(k, want)| e.get(k) == Some(want))
}

/// The host elements of a rule's value, each marked with its `where` members.
fn elements(o: &WriteOpts, v: Option<Value>) -> Vec<Value> {
    let items = match (v, &o.field) {
        (None, _) => Vec::new(),
        (Some(v), Some(f)) => {
            let mut e = Value::Object(Map::new());
            f.set(&mut e, v);
            vec![e]
        }
        (Some(Value::Array(a)), None) => a,
        (Some(v), None) => vec![v],
    };
    items
        .into_iter()
        .map(|mut e| {
            if let Value::Object(m) = &mut e {
                for (k, want) in &o.where_ {
                    m.insert(k.clone(), want.clone());
                }
            }
            e
        })
        .collect()
}

fn clear(rule: &AttrRule, w: &WritePath, body: &mut Value) {
    match rule.write_opts.clear {
        Clear::Null => w.set(body, Value::Null),
        Clear::NullParent => match w.segments().split_last() {
            Some((_, parent)) if !parent.is_empty() => {
                let p = WritePath::from_segments(parent.to_vec());
                // Another rule may already have set a sibling: the parent
                // as a whole is what the app clears.
                p.set(body, Value::Null);
            }
            _ => w.set(body, Value::Null),
        },
        Clear::Empty if rule.multi => w.set(body, Value::Array(Vec::new())),
        Clear::Empty => w.set(body, Value::String(String::new())),
        Clear::Omit => {}
    }
}

/// Renders the constants for a body: each whose condition holds on
/// `scim` (for an update, only those whose condition attribute changed
/// between `before` and `scim`; `None` for creates and replaces).
pub(crate) fn constants_into(
    constants: &[Constant],
    body: &mut Value,
    scim: &Value,
    before: Option<&Value>,
    env: &WriteEnv<'_>,
) -> Result<bool, MapError> {
    let vars = Vars {
        conn: env.conn,
        resource: Some(scim),
        ..Vars::default()
    };
    let mut wrote = false;
    for c in constants {
        let present = c.when.as_ref().is_none_or(|w| scim_at(scim, w).is_some());
        match (before, &c.when) {
            // An update sends a conditional constant when its condition
            // attribute changed: rendered when present, cleared when not.
            (Some(b), Some(w)) => {
                if scim_at(b, w) == scim_at(scim, w) {
                    continue;
                }
            }
            (Some(_), None) => continue,
            (None, _) if !present => continue,
            (None, _) => {}
        }
        let v = if present {
            c.value.render(&vars)?
        } else {
            None
        };
        c.path.set(body, v.unwrap_or(Value::Null));
        wrote = true;
    }
    Ok(wrote)
}
