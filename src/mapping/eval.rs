//! Runs a compiled mapping: host JSON → SCIM resource ([`ResourceMapping::to_scim`]),
//! SCIM resource → host body for create or full replace, the partial body
//! of changed fields for PATCH-style updates, and unmapped-attribute
//! detection. Nothing here parses a config string.

use serde_json::{Map, Value};

use crate::mapping::convert::{read_rule, write_value};
use crate::mapping::error::MapError;
use crate::mapping::model::mapping::{ResourceKind, ResourceMapping};
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::rule::{AttrRule, Source};
use crate::mapping::write::{WriteEnv, constants_into, effective, generated, put};
use crate::schema::{Mutability, get_ci};

/// The host-side effect of a SCIM change (PATCH or PUT).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostChanges {
    /// Partial host body of the changed fields (cleared fields are `null`);
    /// `None` when no field changed.
    pub body: Option<Value>,
    /// New `active` value when it changed and `active` goes through the
    /// activate/deactivate endpoints.
    pub active_change: Option<bool>,
    /// The SCIM attributes whose host value changed (rule names, e.g.
    /// `name.givenName`, `emails[type eq "work"].value`), `active` included.
    pub attributes: Vec<String>,
}

impl HostChanges {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.body.is_none() && self.active_change.is_none()
    }
}

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

    /// The host body for a create: every writable mapped attribute present
    /// in `scim` at its host path, plus the configured constants. Absent
    /// and `null` attributes are omitted (the app's defaults apply).
    pub fn to_host(&self, scim: &Value) -> Result<Value, MapError> {
        self.build_host(scim, false, &WriteEnv::default())
    }

    /// The host body for a full replace: like [`Self::to_host`], but every
    /// writable attribute absent or `null` in `scim` is written as JSON
    /// `null`, so the app learns that the value was cleared.
    pub fn to_host_replace(&self, scim: &Value) -> Result<Value, MapError> {
        self.build_host(scim, true, &WriteEnv::default())
    }

    /// [`Self::to_host_replace`] with the connection's variables and the
    /// app's current JSON (list elements no rule owns are kept).
    pub fn to_host_replace_in(&self, scim: &Value, env: &WriteEnv<'_>) -> Result<Value, MapError> {
        self.build_host(scim, true, env)
    }

    /// The create call's body and, when the create operation `accepts`
    /// only some attributes, the partial body of the others for an update
    /// right after (`None` when nothing is left for it).
    pub fn to_host_create(&self, scim: &Value) -> Result<(Value, Option<Value>), MapError> {
        self.to_host_create_in(scim, &WriteEnv::default())
    }

    /// [`Self::to_host_create`] with the connection's variables; values
    /// the mapping `generate`s for a create are generated here.
    pub fn to_host_create_in(
        &self,
        scim: &Value,
        env: &WriteEnv<'_>,
    ) -> Result<(Value, Option<Value>), MapError> {
        let accepts = self.op(OpKind::Create).and_then(|o| o.accepts());
        let Some(accepts) = accepts else {
            return self
                .build_host_where(scim, Build::Create, true, &|_| true, env)
                .map(|b| (b, None));
        };
        let takes = |r: &AttrRule| accepts.iter().any(|a| *a == top_key(r));
        let first = self.build_host_where(scim, Build::Create, true, &takes, env)?;
        let rest = self.build_host_where(scim, Build::Create, false, &|r| !takes(r), env)?;
        let rest = rest
            .as_object()
            .is_some_and(|o| !o.is_empty())
            .then_some(rest);
        Ok((first, rest))
    }

    /// The SCIM attributes (rule names) that `scim` gives a value to and
    /// that a write sends to the app; `active` is left out when it is an
    /// action.
    pub fn writable_attributes(&self, scim: &Value) -> Vec<String> {
        self.writable_rules()
            .filter(|r| matches!(r.source, Source::Path { write: Some(_), .. }))
            .filter(|r| {
                effective(r, scim_value(r, scim), scim).is_ok_and(|v| v.is_some())
                    || r.default.is_some()
                    || r.write_opts.generate.is_some()
            })
            .map(|r| r.name.clone())
            .collect()
    }

    /// Whether the create call itself writes the SCIM attribute `rule`
    /// names (the top-level attribute of a rule name such as
    /// `emails[type eq "work"].value`).
    pub fn create_writes(&self, attribute: &str) -> bool {
        if attribute == "active" && self.active_via_actions() {
            return false;
        }
        let Some(rule) = self.rules.iter().find(|r| r.name == attribute) else {
            return true;
        };
        let accepts = self.op(OpKind::Create).and_then(|o| o.accepts());
        accepts.is_none_or(|a| a.iter().any(|k| *k == top_key(rule)))
    }

    fn build_host(&self, scim: &Value, nulls: bool, env: &WriteEnv<'_>) -> Result<Value, MapError> {
        let how = if nulls { Build::Replace } else { Build::Plain };
        self.build_host_where(scim, how, true, &|_| true, env)
    }

    fn build_host_where(
        &self,
        scim: &Value,
        how: Build,
        constants: bool,
        keep: &dyn Fn(&AttrRule) -> bool,
        env: &WriteEnv<'_>,
    ) -> Result<Value, MapError> {
        let mut body = Value::Object(Map::new());
        if constants {
            constants_into(&self.constants, &mut body, scim, None, env)?;
        }
        for rule in self.writable_rules().filter(|r| keep(r)) {
            let own = effective(rule, scim_value(rule, scim), scim)?;
            let mut v = write_value(rule, own.as_deref())?;
            if let (None, Build::Create, Some(n)) = (&v, how, rule.write_opts.generate) {
                v = Some(generated(n)?);
            }
            put(rule, &mut body, v, how == Build::Replace, env);
        }
        Ok(body)
    }

    fn writable_rules(&self) -> impl Iterator<Item = &AttrRule> {
        let skip_active = self.active_via_actions();
        self.rules.iter().filter(move |r| {
            r.mutability.is_writable()
                && !(skip_active && r.target.urn.is_none() && r.target.attr == "active")
        })
    }

    /// The partial host body of the fields that differ between two SCIM
    /// resources (before/after a PATCH or PUT), and the `active` change
    /// when `active` goes through action endpoints. Errors only for
    /// invalid values in `after`.
    pub fn changes_to_host(&self, before: &Value, after: &Value) -> Result<HostChanges, MapError> {
        self.changes_to_host_in(before, after, &WriteEnv::default())
    }

    /// [`Self::changes_to_host`] with the connection's variables and the
    /// app's current JSON (list elements no rule owns are sent back as
    /// they are).
    pub fn changes_to_host_in(
        &self,
        before: &Value,
        after: &Value,
        env: &WriteEnv<'_>,
    ) -> Result<HostChanges, MapError> {
        let mut body = Value::Object(Map::new());
        let mut changed = constants_into(&self.constants, &mut body, after, Some(before), env)?;
        let mut attributes = Vec::new();
        for rule in self.writable_rules() {
            if !matches!(rule.source, Source::Path { write: Some(_), .. }) {
                continue;
            }
            let was = effective(rule, scim_value(rule, before), before)?;
            let is = effective(rule, scim_value(rule, after), after)?;
            let new = write_value(rule, is.as_deref())?;
            // `write_value` is pure: an unchanged SCIM value maps to the same host value.
            if was == is {
                continue;
            }
            let old = write_value(rule, was.as_deref()).ok().flatten();
            // RFC 7643 §2.5: no value, `null` and `[]` are the same state.
            if old != new && !(unassigned(old.as_ref()) && unassigned(new.as_ref())) {
                put(rule, &mut body, new, true, env);
                changed = true;
                attributes.push(rule.name.clone());
            }
        }
        let active_change = if self.active_via_actions() {
            let (b, a) = (active_of(before), active_of(after));
            a.filter(|a| b != Some(*a))
        } else {
            None
        };
        if active_change.is_some() {
            attributes.push("active".into());
        }
        Ok(HostChanges {
            body: changed.then_some(body),
            active_change,
            attributes,
        })
    }

    /// SCIM attributes present (non-null, non-empty) in an input body that
    /// no rule covers, as SCIM paths (`nickName`, `name.middleName`,
    /// `emails[type eq "home"]`, extension URNs). `schemas`, `id`, `meta`
    /// and schema read-only attributes such as `groups` are ignored.
    pub fn unmapped_attributes(&self, scim: &Value) -> Vec<String> {
        let mut out = Vec::new();
        let Some(obj) = scim.as_object() else {
            return out;
        };
        for (k, v) in obj {
            let membership = k.eq_ignore_ascii_case("members")
                && (self.members.is_some() || self.roles.is_some());
            if ["schemas", "id", "meta"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(k))
                || is_empty(v)
                || membership
            {
                continue;
            }
            if k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
                let known = self.rules.iter().any(|r| {
                    r.target
                        .urn
                        .as_deref()
                        .is_some_and(|u| u.eq_ignore_ascii_case(k))
                });
                match v.as_object().filter(|_| known) {
                    Some(inner) => inner
                        .iter()
                        .for_each(|(ik, iv)| self.check_attr(Some(k), ik, iv, &mut out)),
                    None => out.push(k.clone()),
                }
            } else {
                self.check_attr(None, k, v, &mut out);
            }
        }
        out
    }

    fn check_attr(&self, urn: Option<&str>, attr: &str, v: &Value, out: &mut Vec<String>) {
        if is_empty(v) {
            return;
        }
        let same_urn = |r: &&AttrRule| match (&r.target.urn, urn) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        let rules: Vec<&AttrRule> = self
            .rules
            .iter()
            .filter(same_urn)
            .filter(|r| r.target.attr.eq_ignore_ascii_case(attr))
            .collect();
        let full = |s: String| urn.map_or(s.clone(), |u| format!("{u}:{s}"));
        if rules.is_empty() {
            let read_only = urn.is_none()
                && self
                    .core
                    .attr(attr)
                    .is_some_and(|d| d.mutability == Mutability::ReadOnly);
            if !read_only {
                out.push(full(attr.to_owned()));
            }
            return;
        }
        if rules
            .iter()
            .any(|r| r.target.sub.is_none() || r.write_opts.pick_primary)
        {
            return;
        }
        match v {
            Value::Object(m) => m
                .iter()
                .filter(|(s, sv)| {
                    !is_empty(sv)
                        && !rules.iter().any(|r| {
                            r.target
                                .sub
                                .as_deref()
                                .is_some_and(|rs| rs.eq_ignore_ascii_case(s))
                        })
                })
                .for_each(|(s, _)| out.push(full(format!("{attr}.{s}")))),
            Value::Array(items) => items
                .iter()
                .filter(|it| {
                    !rules
                        .iter()
                        .any(|r| select(r, std::slice::from_ref(*it)).is_some())
                })
                .for_each(|it| {
                    let ty = get_ci(it, "type").and_then(Value::as_str).unwrap_or("");
                    out.push(full(format!("{attr}[type eq \"{ty}\"]")));
                }),
            _ => out.push(full(attr.to_owned())),
        }
    }
}

/// RFC 7643 §2.4: `"primary": true` appears at most once in a
/// multi-valued attribute. When the app marks several, the first stays
/// primary and the others are answered as `false`.
fn one_primary(out: &mut Map<String, Value>) {
    for v in out.values_mut() {
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
}

/// How a body is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// Absent values left out.
    Plain,
    /// A create: absent values left out, `generate`d ones made up.
    Create,
    /// A full replace: absent values cleared.
    Replace,
}

/// The `accepts` key of a rule's top-level attribute: `attr` or
/// `urn:…:attr`, lowercased.
fn top_key(r: &AttrRule) -> String {
    match &r.target.urn {
        Some(u) => format!("{u}:{}", r.target.attr).to_ascii_lowercase(),
        None => r.target.attr.to_ascii_lowercase(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Whether a host value means "no value": absent, `null`, or a list or
/// object holding nothing else (`[]`, `[{}]`, `{"kind": null}`).
fn unassigned(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(a)) => a.iter().all(|e| unassigned(Some(e))),
        Some(Value::Object(o)) => o.values().all(|e| unassigned(Some(e))),
        Some(_) => false,
    }
}

/// The SCIM `active` value of a resource (bool or Entra's `"True"`).
pub fn active_of(scim: &Value) -> Option<bool> {
    match get_ci(scim, "active")? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// The value a rule reads from a SCIM document (case-insensitive names).
fn scim_value<'a>(rule: &AttrRule, scim: &'a Value) -> Option<&'a Value> {
    let base = match &rule.target.urn {
        Some(u) => get_ci(scim, u)?,
        None => scim,
    };
    let v = get_ci(base, &rule.target.attr)?;
    let v = match &rule.target.selector {
        Some(_) => select(rule, v.as_array()?)?,
        None if rule.write_opts.pick_primary => {
            let items = v.as_array()?;
            let primary = |it: &&Value| get_ci(it, "primary") == Some(&Value::Bool(true));
            items.iter().find(primary).or(items.first())?
        }
        None => v,
    };
    match &rule.target.sub {
        Some(s) => get_ci(v, s),
        None => Some(v),
    }
}

/// The element a selector rule addresses: the one whose selector
/// sub-attribute matches (case-insensitively); else, for a `type` selector,
/// an element without a `type` that is primary or alone.
fn select<'a>(rule: &AttrRule, items: &'a [Value]) -> Option<&'a Value> {
    let (sel, want) = rule.target.selector.as_ref()?;
    let matches = |it: &&Value| {
        get_ci(it, sel)
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(want))
    };
    let primary = |it: &&Value| get_ci(it, "primary") == Some(&Value::Bool(true));
    let found = items.iter().find(matches).or_else(|| {
        let untyped = |it: &&Value| get_ci(it, sel).is_none_or(Value::is_null);
        items
            .iter()
            .filter(untyped)
            .find(|it| primary(it) || items.len() == 1)
    });
    // `select = "primary"`: one host field takes the element of the
    // selected type, else the primary element of any type, else the first.
    match found {
        None if rule.write_opts.pick_primary => items.iter().find(primary).or(items.first()),
        other => other,
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
