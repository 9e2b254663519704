//! Reads the app's resources (host → SCIM): the full SCIM resource for a
//! host resource ([`ResourceMapping::to_scim`]), with `schemas`, `meta`
//! and one primary value per multi-valued attribute; the resource a
//! create answers when the app's read-back fails; and the id of a created
//! resource.

use serde_json::{Map, Value};

use crate::mapping::error::MapError;
use crate::mapping::eval::convert::read_rule;
use crate::mapping::model::mapping::{ResourceKind, ResourceMapping};
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::rule::{AttrRule, Source};
use crate::schema::Mutability;

impl ResourceMapping {
    /// The full SCIM resource for a host resource: `schemas`, `id` (always a
    /// string), every readable mapped attribute, and `meta` (`resourceType`,
    /// mapped timestamps, `version` as a weak ETag). Write-only attributes
    /// are never included; `meta.location` is the caller's.
    pub fn to_scim(&self, host: &Value) -> Result<Value, MapError> {
        let mut out = Map::new();
        for rule in &self.rules {
            if rule.mutability == Mutability::WriteOnly {
                continue;
            }
            if let Some(v) = read_rule(rule, host)? {
                place(&mut out, rule, v);
            }
        }
        if out
            .get("id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(MapError::MissingId);
        }
        self.mark_primary(&mut out);
        one_primary(&mut out);
        let mut schemas = vec![Value::String(self.core.id.to_owned())];
        schemas.extend(
            out.keys()
                .filter(|k| k.starts_with("urn:"))
                .map(|k| Value::String(k.clone())),
        );
        let meta = out
            .entry("meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = meta {
            let rt = match self.kind {
                ResourceKind::User => "User",
                ResourceKind::Group => "Group",
            };
            m.insert("resourceType".into(), rt.into());
            if let Some(Value::String(v)) = m.get_mut("version")
                && !v.starts_with("W/\"")
            {
                *v = format!("W/\"{v}\"");
            }
        }
        out.insert("schemas".into(), Value::Array(schemas));
        Ok(Value::Object(out))
    }

    /// A single value produced by selector rules (e.g. the only email) is
    /// marked `primary: true`, as Okta expects one primary email.
    fn mark_primary(&self, out: &mut Map<String, Value>) {
        for rule in self.rules.iter().filter(|r| r.target.selector.is_some()) {
            let arr = match &rule.target.urn {
                Some(u) => out.get_mut(u).and_then(|c| c.get_mut(&rule.target.attr)),
                None => out.get_mut(&rule.target.attr),
            };
            if let Some(Value::Array(items)) = arr
                && let [Value::Object(only)] = items.as_mut_slice()
            {
                only.entry("primary").or_insert(Value::Bool(true));
            }
        }
    }

    /// The SCIM `id` of a host item, read by the `id` rule alone: a list's
    /// summaries (`fetch_each`) carry the id but need not map in full.
    pub fn id_of_host(&self, host: &Value) -> Result<String, MapError> {
        let id_rule = self
            .rules
            .iter()
            .find(|r| r.target.urn.is_none() && r.target.attr == "id" && r.target.sub.is_none())
            .ok_or(MapError::MissingId)?;
        match read_rule(id_rule, host)? {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(MapError::MissingId),
        }
    }

    /// The SCIM resource an app that stored `scim` exactly under `id` would
    /// return: what a create answers when the app's own read-back fails.
    pub fn as_stored(&self, scim: &Value, id: &str) -> Result<Value, MapError> {
        let mut host = self.to_host(scim)?;
        let id_rule = self
            .rules
            .iter()
            .find(|r| r.target.urn.is_none() && r.target.attr == "id");
        match id_rule.map(|r| &r.source) {
            Some(Source::Path { read, .. }) => match read.as_write_path() {
                Some(p) => p.set(&mut host, Value::String(id.to_owned())),
                None => return Err(MapError::MissingId),
            },
            _ => return Err(MapError::MissingId),
        }
        self.to_scim(&host)
    }

    /// The id of a created resource: the create op's `id` JSONPath in the
    /// body (default `$.id`, numbers stringified), else the last segment
    /// of `Location` (percent-decoded).
    pub fn created_id(&self, body: Option<&Value>, location: Option<&str>) -> Option<String> {
        let op = self.op(OpKind::Create)?;
        let from_body = body.and_then(|b| match &op.id_path {
            Some(p) => p.one(b),
            None => b.get("id"),
        });
        match from_body {
            Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
            Some(Value::Number(n)) => return Some(n.to_string()),
            _ => {}
        }
        let loc = location?;
        let path = loc.split(['?', '#']).next()?.trim_end_matches('/');
        let last = path.rsplit('/').next().filter(|s| !s.is_empty())?;
        percent_encoding::percent_decode_str(last)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    }
}

/// RFC 7643 §2.4: `"primary": true` appears at most once in a
/// multi-valued attribute. When the app marks several, the first stays
/// primary and the others are answered as `false`.
fn one_primary(out: &mut Map<String, Value>) {
    out.values_mut().for_each(one_primary_value);
}

/// [`one_primary`] for one member's value: an array keeps its first
/// primary element, an object is looked into.
pub(crate) fn one_primary_value(v: &mut Value) {
    match v {
        Value::Array(items) => {
            let mut seen = false;
            for it in items.iter_mut() {
                if let Some(p) = it.get_mut("primary")
                    && *p == Value::Bool(true)
                {
                    *p = Value::Bool(!seen);
                    seen = true;
                }
            }
        }
        Value::Object(ext) => one_primary(ext),
        _ => {}
    }
}

/// Places a SCIM value at the rule's target in the output resource.
fn place(out: &mut Map<String, Value>, rule: &AttrRule, v: Value) {
    let container = match &rule.target.urn {
        Some(u) => object_at(out, u),
        None => Some(out),
    };
    let Some(container) = container else { return };
    let t = &rule.target;
    match (&t.selector, &t.sub) {
        (Some((sel, want)), Some(sub)) => {
            let Some(items) = array_at(container, &t.attr) else {
                return;
            };
            let pos = items
                .iter()
                .position(|it| it.get(sel).and_then(Value::as_str) == Some(want));
            let idx = pos.unwrap_or_else(|| {
                let mut m = Map::new();
                m.insert(sel.clone(), Value::String(want.clone()));
                items.push(Value::Object(m));
                items.len() - 1
            });
            if let Some(Value::Object(el)) = items.get_mut(idx) {
                el.insert(sub.clone(), v);
            }
        }
        (None, Some(sub)) if rule.write_opts.pick_primary => {
            if let Some(items) = array_at(container, &t.attr) {
                let mut el = Map::new();
                el.insert(sub.clone(), v);
                el.insert("primary".into(), Value::Bool(true));
                items.push(Value::Object(el));
            }
        }
        (None, Some(sub)) => {
            if let Some(o) = object_at(container, &t.attr) {
                o.insert(sub.clone(), v);
            }
        }
        _ => {
            container.insert(t.attr.clone(), v);
        }
    }
}

/// The object at `key`, created (or replacing a non-object) when needed.
fn object_at<'a>(m: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    slot_of(m, key, Value::is_object, || Value::Object(Map::new()))?.as_object_mut()
}

/// The array at `key`, created (or replacing a non-array) when needed.
fn array_at<'a>(m: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Vec<Value>> {
    slot_of(m, key, Value::is_array, || Value::Array(Vec::new()))?.as_array_mut()
}

/// The member `key`, set to `empty()` when missing or not of the kind
/// `fits` accepts; the key is copied only when the member is inserted.
fn slot_of<'a>(
    m: &'a mut Map<String, Value>,
    key: &str,
    fits: fn(&Value) -> bool,
    empty: fn() -> Value,
) -> Option<&'a mut Value> {
    if !m.contains_key(key) {
        m.insert(key.to_owned(), empty());
    }
    let slot = m.get_mut(key)?;
    if !fits(slot) {
        *slot = empty();
    }
    Some(slot)
}
