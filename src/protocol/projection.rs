//! Attribute projection of returned resources (RFC 7644 §3.4.2.5 and §3.9;
//! RFC 7643 §2.4 `returned`): `attributes` keeps only the named attributes
//! plus those the schema returns `always` (`id`) and `schemas`;
//! `excludedAttributes` drops the named ones but never an `always`
//! attribute. Attributes returned `never` (such as `password`) are always
//! dropped, and those returned on `request` only when named.
//! Names match case-insensitively, with or without the core schema URN, and
//! may name a sub-attribute (`name.givenName`, `emails.value`) or an
//! extension attribute (`urn:…:enterprise:2.0:User:department`).

use super::query::Projection;
use crate::schema::{ResourceSchema, Returned};
use serde_json::{Map, Value};

/// One requested name: `[urn:]attr[.sub]`, lowercased.
struct Name {
    urn: Option<String>,
    attr: String,
    sub: Option<String>,
}

impl Name {
    /// Whether this name is exactly `urn` (lowercased): a whole extension.
    /// The parser split it at its last `:`, so rejoin before comparing.
    fn names_whole(&self, urn: &str) -> bool {
        self.sub.is_none()
            && match &self.urn {
                None => self.attr == urn,
                Some(u) => {
                    urn.len() == u.len() + 1 + self.attr.len()
                        && urn.starts_with(u.as_str())
                        && urn.ends_with(&format!(":{}", self.attr))
                }
            }
    }
}

fn parse_name(raw: &str, core_urn: &str) -> Name {
    let core_prefix = format!("{}:", core_urn.to_ascii_lowercase());
    let raw = raw.strip_prefix(&core_prefix).unwrap_or(raw);
    let (urn, rest) = if raw.starts_with("urn:") {
        match raw.rfind(':') {
            Some(i) => (Some(raw[..i].to_string()), &raw[i + 1..]),
            None => (None, raw),
        }
    } else {
        (None, raw)
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a.to_string(), Some(s.to_string())),
        None => (rest.to_string(), None),
    };
    Name { urn, attr, sub }
}

/// Applies a projection to a resource in place.
pub fn project(resource: &mut Value, p: &Projection, schema: &ResourceSchema) {
    let Value::Object(obj) = resource else { return };
    let core_urn = schema.core_urn();
    let returned = |key: &str| {
        schema
            .attribute(None, key)
            .map_or(Returned::Default, |a| a.returned)
    };
    let named = |key: &str| {
        p.attributes
            .iter()
            .any(|n| parse_name(n, core_urn).attr == key.to_ascii_lowercase())
    };
    obj.retain(|k, _| match returned(k) {
        Returned::Never => false,
        Returned::Request => named(k),
        _ => true,
    });
    // Without `attributes` or `excludedAttributes` (most requests) that
    // is all: the list of always-returned names below is for those two.
    if p.attributes.is_empty() && p.excluded.is_empty() {
        return;
    }
    let always: Vec<String> = std::iter::once("schemas".to_owned())
        .chain(
            obj.keys()
                .filter(|k| returned(k) == Returned::Always)
                .map(|k| k.to_ascii_lowercase()),
        )
        .collect();
    if !p.attributes.is_empty() {
        let names: Vec<Name> = p
            .attributes
            .iter()
            .map(|n| parse_name(n, core_urn))
            .collect();
        let kept = std::mem::take(obj)
            .into_iter()
            .filter_map(|(k, v)| keep(&k, v, &names, &always).map(|v| (k, v)))
            .collect();
        *obj = kept;
    }
    for name in p.excluded.iter().map(|n| parse_name(n, core_urn)) {
        exclude(obj, &name, &always);
    }
}

/// What of top-level attribute `key` survives an `attributes` list.
fn keep(key: &str, value: Value, names: &[Name], always: &[String]) -> Option<Value> {
    let lower = key.to_ascii_lowercase();
    if always.contains(&lower) {
        return Some(value);
    }
    if lower.starts_with("urn:") {
        // An extension object: keep it whole, or only the named attributes.
        if names.iter().any(|n| n.names_whole(&lower)) {
            return Some(value);
        }
        let wanted: Vec<&Name> = names
            .iter()
            .filter(|n| n.urn.as_deref() == Some(lower.as_str()))
            .collect();
        let Value::Object(ext) = value else {
            return None;
        };
        let picked: Map<String, Value> = ext
            .into_iter()
            .filter_map(|(k, v)| {
                let kl = k.to_ascii_lowercase();
                let subs: Vec<&str> = wanted
                    .iter()
                    .filter(|n| n.attr == kl)
                    .filter_map(|n| n.sub.as_deref())
                    .collect();
                let whole = wanted.iter().any(|n| n.attr == kl && n.sub.is_none());
                if whole {
                    Some((k, v))
                } else if !subs.is_empty() {
                    Some((k, keep_subs(v, &subs)))
                } else {
                    None
                }
            })
            .collect();
        return (!picked.is_empty()).then_some(Value::Object(picked));
    }
    let matching: Vec<&Name> = names
        .iter()
        .filter(|n| n.urn.is_none() && n.attr == lower)
        .collect();
    if matching.is_empty() {
        return None;
    }
    if matching.iter().any(|n| n.sub.is_none()) {
        return Some(value);
    }
    let subs: Vec<&str> = matching.iter().filter_map(|n| n.sub.as_deref()).collect();
    Some(keep_subs(value, &subs))
}

/// Keeps only the named sub-attributes of a complex value or of each
/// element of a multi-valued one.
fn keep_subs(value: Value, subs: &[&str]) -> Value {
    match value {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(k, _)| subs.iter().any(|s| s.eq_ignore_ascii_case(k)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(|e| keep_subs(e, subs)).collect()),
        other => other,
    }
}

fn exclude(obj: &mut Map<String, Value>, name: &Name, always: &[String]) {
    if always.contains(&name.attr) && name.urn.is_none() && name.sub.is_none() {
        return;
    }
    // A whole extension, named by its URN alone.
    if let Some(key) = obj
        .keys()
        .find(|k| k.starts_with("urn:") && name.names_whole(&k.to_ascii_lowercase()))
        .cloned()
    {
        obj.remove(&key);
        return;
    }
    let container = match &name.urn {
        None => Some(obj),
        Some(urn) => obj
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(urn))
            .and_then(|(_, v)| v.as_object_mut()),
    };
    let Some(container) = container else { return };
    let Some(key) = container
        .keys()
        .find(|k| k.eq_ignore_ascii_case(&name.attr))
        .cloned()
    else {
        return;
    };
    match &name.sub {
        None => {
            container.remove(&key);
        }
        Some(sub) => match container.get_mut(&key) {
            Some(Value::Object(o)) => o.retain(|k, _| !k.eq_ignore_ascii_case(sub)),
            Some(Value::Array(a)) => a.iter_mut().filter_map(Value::as_object_mut).for_each(|o| {
                o.retain(|k, _| !k.eq_ignore_ascii_case(sub));
            }),
            _ => {}
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn user() -> Value {
        json!({
            "schemas": [USER, ENT], "id": "1", "userName": "ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"type": "work", "value": "a@x", "primary": true}],
            ENT: {"department": "R&D", "employeeNumber": "7"},
            "meta": {"resourceType": "User"}
        })
    }

    fn proj(attrs: &[&str], excl: &[&str]) -> Projection {
        Projection {
            attributes: attrs.iter().map(|s| s.to_ascii_lowercase()).collect(),
            excluded: excl.iter().map(|s| s.to_ascii_lowercase()).collect(),
        }
    }

    #[test]
    fn attributes_keep_named_and_always() {
        let mut u = user();
        project(
            &mut u,
            &proj(
                &[
                    "userName",
                    "name.givenName",
                    "emails.value",
                    &format!("{ENT}:department"),
                ],
                &[],
            ),
            &ResourceSchema::rfc7643_user(),
        );
        assert_eq!(
            u,
            json!({"schemas": [USER, ENT], "id": "1", "userName": "ada", "name": {"givenName": "Ada"},
                   "emails": [{"value": "a@x"}], ENT: {"department": "R&D"}})
        );
    }

    #[test]
    fn core_urn_prefix_is_accepted() {
        let mut u = user();
        project(
            &mut u,
            &proj(&[&format!("{USER}:userName")], &[]),
            &ResourceSchema::rfc7643_user(),
        );
        assert_eq!(u["userName"], "ada");
        assert!(u.get("name").is_none());
    }

    #[test]
    fn excluded_drops_but_never_always() {
        let mut u = user();
        project(
            &mut u,
            &proj(
                &[],
                &[
                    "emails",
                    "id",
                    "name.familyName",
                    &format!("{ENT}:employeeNumber"),
                ],
            ),
            &ResourceSchema::rfc7643_user(),
        );
        assert!(u.get("emails").is_none());
        assert_eq!(u["id"], "1");
        assert_eq!(u["name"], json!({"givenName": "Ada"}));
        assert_eq!(u[ENT], json!({"department": "R&D"}));
    }

    #[test]
    fn a_whole_extension_is_named_by_its_urn() {
        let mut u = user();
        project(&mut u, &proj(&[ENT], &[]), &ResourceSchema::rfc7643_user());
        assert_eq!(u[ENT]["department"], "R&D");
        assert!(u.get("userName").is_none());
        let mut u = user();
        project(&mut u, &proj(&[], &[ENT]), &ResourceSchema::rfc7643_user());
        assert!(u.get(ENT).is_none());
        assert_eq!(u["userName"], "ada");
    }

    #[test]
    fn returned_never_is_dropped_and_request_only_when_named() {
        let mut schema = ResourceSchema::rfc7643_user();
        schema.attribute_mut(None, "title").unwrap().returned = Returned::Request;
        let mut u = user();
        u["password"] = json!("secret");
        u["title"] = json!("Countess");
        project(&mut u, &proj(&[], &[]), &schema);
        assert!(u.get("password").is_none());
        assert!(u.get("title").is_none());
        let mut u = user();
        u["title"] = json!("Countess");
        project(&mut u, &proj(&["title"], &[]), &schema);
        assert_eq!(u["title"], "Countess");
    }
}
