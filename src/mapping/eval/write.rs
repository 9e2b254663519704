//! Writes SCIM resources to the app (SCIM → host): the body of a create
//! (with generated and computed values, which constants may name, and the
//! split of what the create call
//! `accepts`), the body of a full replace, and the partial body of the
//! fields a PATCH or PUT changed, with the `active` change that goes
//! through action endpoints.

use serde_json::{Map, Value};

use crate::mapping::error::MapError;
use crate::mapping::eval::body::{WriteEnv, constants_into, effective, generated, put};
use crate::mapping::eval::convert::write_value;
use crate::mapping::eval::scim::{active_of, scim_value};
use crate::mapping::model::mapping::ResourceMapping;
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::rule::{AttrRule, Source};
use crate::mapping::path::ScimPath;

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
        let computed = self.with_computed(scim, true)?;
        let scim = &computed;
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
        let computed = self.with_computed(scim, false)?;
        self.build_host_where(&computed, how, true, &|_| true, env)
    }

    /// `scim` with the values the write computes itself at their
    /// attributes — a create's `generate`d values and the fallbacks
    /// (`compose`, `coalesce`) of attributes without a value — so that
    /// constants can name them (`"$.passwordConfirm" = "{password}"`
    /// writes the one generated password into a second field). Generated
    /// once per create, so every body of it holds the same value.
    fn with_computed(&self, scim: &Value, create: bool) -> Result<Value, MapError> {
        let mut out = scim.clone();
        for rule in self.writable_rules() {
            let t = &rule.target;
            if t.selector.is_some() || rule.multi || rule.write_opts.pick_primary {
                continue;
            }
            if scim_value(rule, scim).is_some_and(|v| !v.is_null()) {
                continue;
            }
            let v = match effective(rule, None, scim)? {
                Some(v) => v.into_owned(),
                None => match rule.write_opts.generate {
                    Some(n) if create => generated(n)?,
                    _ => continue,
                },
            };
            set_scim(&mut out, t, v);
        }
        Ok(out)
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
            let v = write_value(rule, own.as_deref())?;
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
}

/// `v` at the SCIM attribute `t` (no selector) of `scim`, making the
/// objects on the way; an existing key is matched case-insensitively.
fn set_scim(scim: &mut Value, t: &ScimPath, v: Value) {
    let mut keys: Vec<&str> = t.urn.iter().map(String::as_str).collect();
    keys.push(&t.attr);
    keys.extend(t.sub.as_deref());
    let mut at = scim;
    for (i, key) in keys.iter().enumerate() {
        let Value::Object(m) = at else {
            return;
        };
        let name = m
            .keys()
            .find(|k| k.eq_ignore_ascii_case(key))
            .cloned()
            .unwrap_or_else(|| (*key).to_owned());
        let last = i + 1 == keys.len();
        let slot = m.entry(name).or_insert(Value::Null);
        if last {
            *slot = v;
            return;
        }
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        at = slot;
    }
}

/// How a body is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// Absent values left out.
    Plain,
    /// A create: absent values left out (the generated ones are already
    /// in the SCIM value it is built from).
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
