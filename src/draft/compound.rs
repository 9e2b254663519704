//! Attributes made of several fields: whole multi-valued lists (e-mails,
//! phones, addresses kept as arrays of objects, with their `type` mapped
//! to SCIM's), a postal address kept as separate fields, and the
//! enterprise manager as an object or a bare string.

use super::attributes::{Bodies, Found, Rule, writability};
use super::model::Tv;
use super::names;
use super::schema::{self, Field, Kind};
use super::spec::Spec;
use serde_json::Value;

/// Whole multi-valued attributes kept as arrays of objects.
pub(super) fn multi_valued(
    spec: &Spec,
    b: &Bodies<'_>,
    found: &mut Found,
    used: &mut Vec<Vec<String>>,
) {
    for (attr, list_names, value_names) in [
        (
            "emails",
            &["emails", "email_addresses", "mails"][..],
            &["value", "email", "address"][..],
        ),
        (
            "phoneNumbers",
            &["phones", "phone_numbers", "phonenumbers", "telephones"][..],
            &["value", "number", "phone", "phone_number"][..],
        ),
        ("addresses", &["addresses", "postal_addresses"][..], &[][..]),
    ] {
        let Some(f) = b.record.iter().find(|f| {
            f.kind == Kind::Array
                && list_names.contains(&schema::snake(f.name()).as_str())
                && !used.contains(&f.path)
        }) else {
            continue;
        };
        let Some(el) = schema::items(spec, f.node) else {
            continue;
        };
        let props = schema::properties(spec, el);
        let prop = |cands: &[&str]| {
            props
                .iter()
                .find(|(n, _, _)| cands.contains(&schema::snake(n).as_str()))
                .map(|(n, _, _)| n.clone())
        };
        let mut fields: Vec<(String, Tv)> = Vec::new();
        if attr == "addresses" {
            for (sub, cands) in [
                ("type", &["type", "kind", "label"][..]),
                (
                    "streetAddress",
                    &[
                        "street_address",
                        "street",
                        "line1",
                        "address",
                        "address_line1",
                    ][..],
                ),
                ("locality", &["locality", "city", "town"][..]),
                ("region", &["region", "state", "province"][..]),
                (
                    "postalCode",
                    &["postal_code", "postcode", "zip", "zip_code", "zipcode"][..],
                ),
                ("country", &["country", "country_code"][..]),
            ] {
                if let Some(p) = prop(cands) {
                    fields.push((sub.into(), Tv::s(format!("$.{p}"))));
                }
            }
        } else {
            let Some(value) = prop(value_names) else {
                continue;
            };
            fields.push(("value".into(), Tv::s(format!("$.{value}"))));
            if let Some(t) = prop(&["type", "kind", "label"]) {
                fields.push(("type".into(), type_rule(spec, &props, &t)));
            }
            if let Some(p) = prop(&["primary", "is_primary"]) {
                fields.push(("primary".into(), Tv::s(format!("$.{p}"))));
            }
        }
        if fields.len() < 2 {
            continue;
        }
        if attr == "emails" {
            // The whole list replaces the single work e-mail.
            let key = names::scim_key("emails");
            found.entries.retain(|e| e.key != key);
            found.email = Some(f.path.clone());
        }
        if attr == "phoneNumbers" {
            found
                .entries
                .retain(|e| !e.key.starts_with("phoneNumbers["));
        }
        used.push(f.path.clone());
        let mut rule = Rule::path(f);
        rule.add("fields", Tv::Table(fields));
        rule.comment = format!("the list `{}`, element by element", f.path.join("."));
        found.entries.push(rule.entry(attr));
    }
}

/// A `type` sub-rule: a path when the app's kinds are SCIM's, else a map
/// of the kinds that have a SCIM meaning.
fn type_rule(spec: &Spec, props: &[(String, super::spec::Node<'_>, bool)], name: &str) -> Tv {
    let path = Tv::s(format!("$.{name}"));
    let Some((_, node, _)) = props.iter().find(|(n, _, _)| n == name) else {
        return path;
    };
    let values: Vec<String> = match schema::unwrap(spec, *node).v.get("enum") {
        Some(Value::Array(vs)) => vs
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => return path,
    };
    if values
        .iter()
        .all(|v| names::canonical_type(v) == Some(v.as_str()))
    {
        return path;
    }
    let mut map: Vec<(String, Tv)> = Vec::new();
    for v in &values {
        if let Some(scim) = names::canonical_type(v)
            && !map.iter().any(|(k, _)| k == scim)
        {
            map.push((scim.to_owned(), Tv::s(v.clone())));
        }
    }
    if map.is_empty() {
        return path;
    }
    Tv::table([("path", path), ("map", Tv::Table(map))])
}

/// `manager.id` / `manager.name` objects, or a bare `manager` string.
pub(super) fn manager(b: &Bodies<'_>, found: &mut Found, used: &mut Vec<Vec<String>>) {
    let key = |s: &str| names::scim_key(&format!("enterprise:manager.{s}"));
    for f in &b.record {
        let under = f.path.len() >= 2 && schema::snake(&f.path[f.path.len() - 2]) == "manager";
        let leaf = schema::snake(f.name());
        let target = match (under, leaf.as_str(), f.kind) {
            (true, "id" | "value" | "user_id", Kind::String | Kind::Integer) => "value",
            (true, "name" | "display_name" | "displayname", Kind::String) => "displayName",
            (false, "manager", Kind::String)
                if found.entries.iter().any(|e| e.key == key("value")) =>
            {
                "displayName"
            }
            (false, "manager", Kind::String) => "value",
            _ => continue,
        };
        if found.entries.iter().any(|e| e.key == key(target)) || used.contains(&f.path) {
            continue;
        }
        used.push(f.path.clone());
        let mut rule = Rule::path(f);
        writability(b, f, "manager", &mut rule);
        found.entries.push(rule.entry(&key(target)));
    }
}

/// One postal address kept as separate fields (`city`, `zipCode`, …):
/// the work address's parts.
pub(super) fn addresses(b: &Bodies<'_>, found: &mut Found, used: &mut Vec<Vec<String>>) {
    if found.entries.iter().any(|e| e.key == "addresses") {
        return;
    }
    const PARTS: &[(&str, &[&str])] = &[
        (
            "streetAddress",
            &[
                "street_address",
                "streetaddress",
                "street",
                "address_line1",
                "line1",
                "address1",
            ],
        ),
        ("locality", &["city", "locality", "town"]),
        ("region", &["state", "region", "province"]),
        (
            "postalCode",
            &[
                "postal_code",
                "postalcode",
                "zip",
                "zip_code",
                "zipcode",
                "postcode",
            ],
        ),
        ("country", &["country", "country_code", "countrycode"]),
    ];
    let mut parents: Vec<Vec<String>> = b
        .record
        .iter()
        .map(|f| f.path[..f.path.len() - 1].to_vec())
        .collect();
    parents.sort();
    parents.dedup();
    for parent in parents {
        let hits: Vec<(&str, &Field<'_>)> = PARTS
            .iter()
            .filter_map(|(sub, names)| {
                b.record
                    .iter()
                    .find(|f| {
                        f.path.len() == parent.len() + 1
                            && f.path.starts_with(&parent)
                            && f.kind == Kind::String
                            && !used.contains(&f.path)
                            && names.contains(&schema::snake(f.name()).as_str())
                    })
                    .map(|f| (*sub, f))
            })
            .collect();
        if hits.len() < 2 {
            continue;
        }
        for (sub, f) in hits {
            used.push(f.path.clone());
            let mut rule = Rule::path(f);
            writability(b, f, "addresses", &mut rule);
            found
                .entries
                .push(rule.entry(&format!("addresses[type eq \"work\"].{sub}")));
        }
        return;
    }
}
