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
//! each written by one rule; [`ResourceMapping::direct`] is `None` for any
//! other mapping, which then takes `to_scim`.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::mapping::error::MapError;
use crate::mapping::eval::convert::read_rule;
use crate::mapping::eval::read::one_primary_value;
use crate::mapping::model::mapping::{ResourceKind, ResourceMapping};
use crate::mapping::model::rule::AttrRule;
use crate::schema::{Mutability, Returned};

/// How a mapping's resources are written directly: its top-level members
/// in output order.
#[derive(Debug)]
pub struct Direct<'m> {
    rules: &'m [AttrRule],
    core: &'static str,
    resource_type: &'static str,
    /// Index of the `id` rule.
    id: usize,
    top: Vec<Top<'m>>,
}

/// One top-level member of the resource.
#[derive(Debug)]
enum Top<'m> {
    /// A plain attribute: its rule.
    Plain(&'m str, usize),
    /// A complex attribute from sub-attribute rules, sorted by name.
    Object(&'m str, Vec<(&'m str, usize)>),
    /// A multi-valued attribute from selector rules, in rule order.
    Array(&'m str, Vec<usize>),
    /// `meta`: mapped members (sorted by name) with `resourceType`,
    /// `location` and the weak `version` added.
    Meta(Vec<(&'m str, usize)>),
    /// `schemas`: the core schema.
    Schemas,
}

impl Top<'_> {
    fn key(&self) -> &str {
        match self {
            Self::Plain(k, _) | Self::Object(k, _) | Self::Array(k, _) => k,
            Self::Meta(_) => "meta",
            Self::Schemas => "schemas",
        }
    }
}

impl ResourceMapping {
    /// The direct writer of this mapping's resources, when its rules have
    /// the shapes it serves; `None` otherwise.
    pub fn direct(&self) -> Option<Direct<'_>> {
        let mut plain: Vec<(&str, usize)> = Vec::new();
        let mut objects: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
        let mut arrays: Vec<(&str, Vec<usize>)> = Vec::new();
        let mut meta: Vec<(&str, usize)> = Vec::new();
        let mut id = None;
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.mutability == Mutability::WriteOnly {
                continue;
            }
            let t = &rule.target;
            if t.urn.is_some() || rule.multi || !rule.write_opts.where_.is_empty() {
                return None;
            }
            let attr = t.attr.as_str();
            match (&t.selector, &t.sub) {
                (None, None) => {
                    if matches!(attr, "meta" | "schemas") || plain.iter().any(|(k, _)| *k == attr) {
                        return None;
                    }
                    if attr == "id" {
                        id = Some(i);
                    }
                    plain.push((attr, i));
                }
                (None, Some(sub)) if attr == "meta" => {
                    if matches!(sub.as_str(), "resourceType" | "location")
                        || meta.iter().any(|(k, _)| *k == sub)
                    {
                        return None;
                    }
                    meta.push((sub, i));
                }
                (None, Some(sub)) if !rule.write_opts.pick_primary => {
                    match objects.iter_mut().find(|(k, _)| *k == attr) {
                        Some((_, members)) if members.iter().any(|(k, _)| *k == sub) => {
                            return None;
                        }
                        Some((_, members)) => members.push((sub, i)),
                        None => objects.push((attr, vec![(sub, i)])),
                    }
                }
                (Some((sel, _)), Some(sub)) if sub != sel && sub != "primary" => {
                    match arrays.iter_mut().find(|(k, _)| *k == attr) {
                        Some((_, rules)) => {
                            let same = |&j: &usize| {
                                let o = &self.rules[j].target;
                                o.selector == t.selector && o.sub == t.sub
                            };
                            // One selector key per attribute, one rule per
                            // element member.
                            let other_key = rules.iter().any(|&j| {
                                self.rules[j].target.selector.as_ref().map(|s| &s.0) != Some(sel)
                            });
                            if other_key || rules.iter().any(same) {
                                return None;
                            }
                            rules.push(i);
                        }
                        None => arrays.push((attr, vec![i])),
                    }
                }
                _ => return None,
            }
        }
        // A top-level name written in two shapes would merge or replace in
        // `to_scim`; such a mapping is left to it.
        let mut keys: Vec<&str> = plain.iter().map(|(k, _)| *k).collect();
        keys.extend(objects.iter().map(|(k, _)| *k));
        keys.extend(arrays.iter().map(|(k, _)| *k));
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        // `to_scim` marks a lone element primary under any selector rule's
        // attribute, write-only ones too, and lists `urn:` members in
        // `schemas`.
        let selected = |k: &&str| {
            self.rules.iter().any(|r| {
                r.target.selector.is_some() && r.target.urn.is_none() && r.target.attr == *k
            })
        };
        let plain_or_object = plain
            .iter()
            .map(|(k, _)| k)
            .chain(objects.iter().map(|(k, _)| k));
        if keys.len() != n
            || keys
                .iter()
                .any(|k| matches!(*k, "meta" | "schemas") || k.starts_with("urn:"))
            || plain_or_object.clone().any(selected)
        {
            return None;
        }
        let mut top: Vec<Top<'_>> = plain.into_iter().map(|(k, i)| Top::Plain(k, i)).collect();
        top.extend(objects.into_iter().map(|(k, mut m)| {
            m.sort_unstable_by(|a, b| a.0.cmp(b.0));
            Top::Object(k, m)
        }));
        top.extend(arrays.into_iter().map(|(k, r)| Top::Array(k, r)));
        meta.sort_unstable_by(|a, b| a.0.cmp(b.0));
        top.push(Top::Meta(meta));
        top.push(Top::Schemas);
        // The default projection leaves out what is returned `never` or
        // only on request (RFC 7643 §2.4).
        let schema = self.schema();
        top.retain(|t| {
            let returned = schema
                .attribute(None, t.key())
                .map_or(Returned::Default, |a| a.returned);
            !matches!(returned, Returned::Never | Returned::Request)
        });
        if !top.iter().any(|t| matches!(t, Top::Meta(_))) {
            return None;
        }
        top.sort_unstable_by(|a, b| a.key().cmp(b.key()));
        Some(Direct {
            rules: &self.rules,
            core: self.core.id,
            resource_type: match self.kind {
                ResourceKind::User => "User",
                ResourceKind::Group => "Group",
            },
            id: id?,
            top,
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
    /// Writes the resource of `host` to `out`, with `meta.location` under
    /// `collection_url`, and returns its `meta.version` when that is a
    /// string (the resource's entity tag, RFC 7644 §3.14); the error
    /// `to_scim` would give, with nothing written.
    pub fn write(
        &self,
        host: &Value,
        collection_url: &str,
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
        let id = match values.get(self.id) {
            Some(Some(Value::String(s))) if !s.is_empty() => s.clone(),
            _ => return Err(MapError::MissingId),
        };
        out.push(b'{');
        let mut version = None;
        let mut first = true;
        for t in &self.top {
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
                    members
                        .iter()
                        .filter_map(|(k, i)| values[*i].take().map(|v| (*k, Member::V(fixed(v))))),
                ),
                Top::Array(_, rules) => self.array(out, rules, &mut values),
                Top::Meta(members) => {
                    self.meta(out, members, &mut values, &id, collection_url, &mut version)
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
        members: &[(&str, usize)],
        values: &mut [Option<Value>],
        id: &str,
        collection_url: &str,
        version: &mut Option<String>,
    ) -> bool {
        let mut location = String::with_capacity(collection_url.len() + 1 + id.len());
        location.push_str(collection_url);
        location.push('/');
        location.extend(utf8_percent_encode(id, NON_ALPHANUMERIC));
        let mut all: Vec<(&str, Member<'_>)> = members
            .iter()
            .filter_map(|(k, i)| values[*i].take().map(|v| (*k, Member::V(fixed(v)))))
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
