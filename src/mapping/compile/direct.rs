//! Whether a mapping's resources can be written directly from the app's
//! records (`eval`'s `direct`), and how: each readable rule must target a
//! core attribute as a plain attribute, a sub-attribute or a sub-attribute
//! of a selected element, one rule per member, and the result must be
//! what `to_scim` builds with the default projection (RFC 7643 §2.4).

use crate::mapping::model::direct::{DirectPlan, Top};
use crate::mapping::model::rule::AttrRule;
use crate::schema::{Mutability, ResourceSchema, Returned};

/// The direct writer's plan for a mapping's `rules` and `schema`, when
/// every readable rule has a shape it serves; `None` otherwise.
pub(crate) fn direct_plan(rules: &[AttrRule], schema: &ResourceSchema) -> Option<DirectPlan> {
    let mut plain: Vec<(&str, usize)> = Vec::new();
    let mut objects: Vec<(&str, Vec<(&str, usize)>)> = Vec::new();
    let mut arrays: Vec<(&str, Vec<usize>)> = Vec::new();
    let mut meta: Vec<(&str, usize)> = Vec::new();
    let mut id = None;
    for (i, rule) in rules.iter().enumerate() {
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
                    Some((_, element_rules)) => {
                        let same = |&j: &usize| {
                            let o = &rules[j].target;
                            o.selector == t.selector && o.sub == t.sub
                        };
                        // One selector key per attribute, one rule per
                        // element member.
                        let other_key = element_rules
                            .iter()
                            .any(|&j| rules[j].target.selector.as_ref().map(|s| &s.0) != Some(sel));
                        if other_key || element_rules.iter().any(same) {
                            return None;
                        }
                        element_rules.push(i);
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
        rules
            .iter()
            .any(|r| r.target.selector.is_some() && r.target.urn.is_none() && r.target.attr == *k)
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
    let owned = |m: Vec<(&str, usize)>| -> Vec<(String, usize)> {
        let mut m: Vec<_> = m.into_iter().map(|(k, i)| (k.to_owned(), i)).collect();
        m.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        m
    };
    let mut top: Vec<Top> = plain
        .into_iter()
        .map(|(k, i)| Top::Plain(k.to_owned(), i))
        .collect();
    top.extend(
        objects
            .into_iter()
            .map(|(k, m)| Top::Object(k.to_owned(), owned(m))),
    );
    top.extend(arrays.into_iter().map(|(k, r)| Top::Array(k.to_owned(), r)));
    top.push(Top::Meta(owned(meta)));
    top.push(Top::Schemas);
    // The default projection leaves out what is returned `never` or
    // only on request (RFC 7643 §2.4).
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
    Some(DirectPlan { id: id?, top })
}
