//! SCIM resources written as JSON text straight from the app's records,
//! for an import page (RFC 7644 §3.4.2: `GET /Users?startIndex=…&count=…`
//! with no filter, sort or projection): byte for byte what serialising
//! [`ResourceMapping::to_scim`]'s resource gives once `meta.location` is
//! added and the default projection applied (RFC 7643 §2.4 `returned`),
//! without building that resource as a `Value` tree and dropping it again.
//! Members come out in the order a `serde_json` map keeps them (sorted by
//! their bytes). It serves mappings whose readable rules all target core
//! attributes as a plain attribute, a sub-attribute (`name.givenName`) or
//! a sub-attribute of a selected element (`emails[type eq "work"].value`),
//! each written by one rule (the plan `compile` works out once);
//! [`ResourceMapping::direct`] is `None` for any other mapping, which then
//! takes `to_scim`.

use serde_json::Value;

use crate::mapping::error::MapError;
use crate::mapping::eval::convert::read_rule;
use crate::mapping::eval::read::one_primary_value;
use crate::mapping::model::direct::{DirectPlan, Top};
use crate::mapping::model::mapping::{ResourceKind, ResourceMapping};
use crate::mapping::model::rule::AttrRule;
use crate::schema::Mutability;

/// The direct writer of one mapping: its rules and its plan.
#[derive(Debug)]
pub struct Direct<'m> {
    rules: &'m [AttrRule],
    core: &'static str,
    resource_type: &'static str,
    plan: &'m DirectPlan,
}

impl ResourceMapping {
    /// The direct writer of this mapping's resources, when its rules have
    /// the shapes it serves; `None` otherwise.
    pub fn direct(&self) -> Option<Direct<'_>> {
        let plan = self.direct.as_ref()?;
        Some(Direct {
            rules: &self.rules,
            core: self.core.id,
            resource_type: match self.kind {
                ResourceKind::User => "User",
                ResourceKind::Group => "Group",
            },
            plan,
        })
    }
}

/// A written member value: `one_primary_value` applied, as `to_scim`
/// applies it to every member of the resource and of its objects.
fn fixed(mut v: Value) -> Value {
    one_primary_value(&mut v);
    v
}

impl Direct<'_> {
    /// Writes the resource of `host` to `out`, with the `meta.location`
    /// that `location` gives for its id, and returns its `meta.version` when that is a
    /// string (the resource's entity tag, RFC 7644 §3.14); the error
    /// `to_scim` would give, with nothing written.
    pub fn write(
        &self,
        host: &Value,
        location: impl Fn(&str) -> String,
        out: &mut Vec<u8>,
    ) -> Result<Option<String>, MapError> {
        let mut values: Vec<Option<Value>> = Vec::with_capacity(self.rules.len());
        for rule in self.rules {
            values.push(if rule.mutability == Mutability::WriteOnly {
                None
            } else {
                read_rule(rule, host)?
            });
        }
        let id = match values.get(self.plan.id) {
            Some(Some(Value::String(s))) if !s.is_empty() => s.clone(),
            _ => return Err(MapError::MissingId),
        };
        out.push(b'{');
        let mut version = None;
        let mut first = true;
        for t in &self.plan.top {
            let start = out.len();
            if !first {
                out.push(b',');
            }
            key(out, t.key());
            let wrote = match t {
                Top::Plain(_, i) => match values[*i].take() {
                    Some(v) => value(out, &fixed(v)),
                    None => false,
                },
                Top::Object(_, members) => object(
                    out,
                    members.iter().filter_map(|(k, i)| {
                        values[*i].take().map(|v| (k.as_str(), Member::V(fixed(v))))
                    }),
                ),
                Top::Array(_, rules) => self.array(out, rules, &mut values),
                Top::Meta(members) => {
                    self.meta(out, members, &mut values, location(&id), &mut version)
                }
                Top::Schemas => {
                    out.push(b'[');
                    text(out, self.core);
                    out.push(b']');
                    true
                }
            };
            if wrote {
                first = false;
            } else {
                out.truncate(start);
            }
        }
        out.push(b'}');
        Ok(version)
    }

    /// The elements selector rules make, in the order their first value
    /// came; a lone element is the primary one (Okta expects one primary
    /// email).
    fn array(&self, out: &mut Vec<u8>, rules: &[usize], values: &mut [Option<Value>]) -> bool {
        let mut elements: Vec<Element<'_>> = Vec::new();
        for &i in rules {
            let t = &self.rules[i].target;
            let (Some((sel, want)), Some(sub), Some(v)) = (&t.selector, &t.sub, values[i].take())
            else {
                continue;
            };
            match elements.iter_mut().find(|(_, w, _)| w == want) {
                Some((_, _, members)) => members.push((sub, Member::V(v))),
                None => elements.push((sel, want, vec![(sub, Member::V(v))])),
            }
        }
        if elements.is_empty() {
            return false;
        }
        let lone = elements.len() == 1;
        out.push(b'[');
        for (n, (sel, want, mut members)) in elements.into_iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            members.push((sel, Member::S(want)));
            if lone {
                members.push(("primary", Member::True));
            }
            members.sort_unstable_by(|a, b| a.0.cmp(b.0));
            object(out, members.into_iter());
        }
        out.push(b']');
        true
    }

    /// `meta`: the mapped members, `resourceType`, `location`, and a
    /// `version` string as a weak ETag (RFC 7232 §2.3).
    fn meta(
        &self,
        out: &mut Vec<u8>,
        members: &[(String, usize)],
        values: &mut [Option<Value>],
        location: String,
        version: &mut Option<String>,
    ) -> bool {
        let mut all: Vec<(&str, Member<'_>)> = members
            .iter()
            .filter_map(|(k, i)| values[*i].take().map(|v| (k.as_str(), Member::V(fixed(v)))))
            .collect();
        for (k, v) in &mut all {
            if let ("version", Member::V(Value::String(s))) = (*k, v) {
                if !s.starts_with("W/\"") {
                    *s = format!("W/\"{s}\"");
                }
                *version = Some(s.clone());
            }
        }
        all.push(("location", Member::V(Value::String(location))));
        all.push(("resourceType", Member::S(self.resource_type)));
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        object(out, all.into_iter())
    }
}

/// An element of a selected multi-valued attribute: its selector key and
/// value, and its members.
type Element<'a> = (&'a str, &'a str, Vec<(&'a str, Member<'a>)>);

/// A member's value: a mapped value, a fixed string or `true`.
enum Member<'a> {
    V(Value),
    S(&'a str),
    True,
}

/// A JSON string as `serde_json` writes it.
fn text(out: &mut Vec<u8>, s: &str) {
    // Writing into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// `"key":`.
fn key(out: &mut Vec<u8>, k: &str) {
    text(out, k);
    out.push(b':');
}

/// A JSON value as `serde_json` writes it; always `true` (written).
fn value(out: &mut Vec<u8>, v: &Value) -> bool {
    // Writing a `Value` into a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, v);
    true
}

/// An object of `members` (in the order given); `false`, with nothing
/// written, when there are none.
fn object<'k, 'v>(out: &mut Vec<u8>, members: impl Iterator<Item = (&'k str, Member<'v>)>) -> bool {
    let start = out.len();
    out.push(b'{');
    let mut any = false;
    for (k, v) in members {
        if any {
            out.push(b',');
        }
        key(out, k);
        match v {
            Member::V(v) => {
                value(out, &v);
            }
            Member::S(s) => text(out, s),
            Member::True => out.extend_from_slice(b"true"),
        }
        any = true;
    }
    if !any {
        out.truncate(start);
        return false;
    }
    out.push(b'}');
    true
}
