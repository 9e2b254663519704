//! Finds the SCIM attributes of an input body that no rule covers
//! (`nickName`, `name.middleName`, `emails[type eq "home"]`, extension
//! URNs), for the `unmapped` policy.

use serde_json::Value;

use crate::mapping::eval::scim::select;
use crate::mapping::model::mapping::ResourceMapping;
use crate::mapping::model::rule::AttrRule;
use crate::schema::{Mutability, get_ci};

impl ResourceMapping {
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

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}
