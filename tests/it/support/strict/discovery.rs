//! Discovery's own resources as RFC 7643 defines them: a `Schema` (§7:
//! every attribute with a known type and characteristics from §2.2,
//! writeOnly ones `returned: never`, `referenceTypes` exactly on
//! references, `subAttributes` only on complex attributes and never
//! nested, §2.3.8; names unique ignoring case, §2.1)
//! and a `ResourceType` (§6: name, endpoint, a core schema and extensions
//! that `/Schemas` serves).

use super::{Discovery, schema_doc};
use serde_json::Value;

const TYPES: [&str; 8] = [
    "string",
    "boolean",
    "decimal",
    "integer",
    "dateTime",
    "binary",
    "reference",
    "complex",
];
const MUTABILITY: [&str; 4] = ["readOnly", "readWrite", "immutable", "writeOnly"];
const RETURNED: [&str; 4] = ["always", "never", "default", "request"];
const UNIQUENESS: [&str; 3] = ["none", "server", "global"];

/// RFC 7643 §7: a schema resource.
pub fn schema(_d: &Discovery, r: &Value, at: &str, p: &mut Vec<String>) {
    let id = r["id"].as_str().unwrap_or("");
    if !id.starts_with("urn:") {
        p.push(format!("{at}id {} is not a schema URI", r["id"]));
    }
    match r["attributes"].as_array() {
        Some(attrs) => definitions(attrs, &format!("{at}{id}:"), true, p),
        None => p.push(format!("{at}attributes is not an array")),
    }
}

/// Attribute definitions at one level; `top` allows complex ones.
fn definitions(attrs: &[Value], at: &str, top: bool, p: &mut Vec<String>) {
    let mut names: Vec<String> = Vec::new();
    for a in attrs {
        let name = a["name"].as_str().unwrap_or("");
        let here = format!("{at}{name}");
        if name.is_empty() {
            p.push(format!("{at}: an attribute without a name"));
        } else if names.contains(&name.to_ascii_lowercase()) {
            p.push(format!("{here}: declared twice (names ignore case)"));
        } else {
            names.push(name.to_ascii_lowercase());
        }
        definition(a, &here, top, p);
    }
}

fn definition(a: &Value, at: &str, top: bool, p: &mut Vec<String>) {
    let ty = a["type"].as_str().unwrap_or("");
    if !TYPES.contains(&ty) {
        p.push(format!("{at}: type {} is not an RFC 7643 type", a["type"]));
    }
    for key in ["multiValued", "required", "caseExact"] {
        if a.get(key).is_some_and(|v| !v.is_boolean()) {
            p.push(format!("{at}: {key} is not a boolean"));
        }
    }
    for (key, allowed) in [
        ("mutability", &MUTABILITY[..]),
        ("returned", &RETURNED[..]),
        ("uniqueness", &UNIQUENESS[..]),
    ] {
        if let Some(v) = a.get(key)
            && !v.as_str().is_some_and(|v| allowed.contains(&v))
        {
            p.push(format!("{at}: {key} {v} is not one of {allowed:?}"));
        }
    }
    // §2.2: writeOnly values "SHALL NOT be returned"; any `returned` but
    // `never` promises them.
    if a["mutability"] == "writeOnly" && a["returned"] != "never" {
        p.push(format!("{at}: writeOnly but returned {}", a["returned"]));
    }
    if let Some(c) = a.get("canonicalValues")
        && !c.as_array().is_some_and(|c| c.iter().all(Value::is_string))
    {
        p.push(format!("{at}: canonicalValues is not an array of strings"));
    }
    let refs = a.get("referenceTypes");
    match (ty == "reference", refs) {
        (true, Some(Value::Array(r))) if !r.is_empty() && r.iter().all(Value::is_string) => {}
        (true, _) => p.push(format!("{at}: a reference without referenceTypes")),
        (false, Some(_)) => p.push(format!("{at}: referenceTypes on a {ty}")),
        (false, None) => {}
    }
    match (ty == "complex", a["subAttributes"].as_array()) {
        (true, Some(subs)) if top => definitions(subs, &format!("{at}."), false, p),
        (true, _) if !top => p.push(format!(
            "{at}: a complex sub-attribute (RFC 7643 §2.3.8 forbids nesting)"
        )),
        (true, _) => p.push(format!("{at}: complex without subAttributes")),
        (false, Some(_)) => p.push(format!("{at}: subAttributes on a {ty}")),
        (false, None) => {}
    }
}

/// RFC 7643 §6: a resource type whose schemas `/Schemas` serves.
pub fn resource_type(d: &Discovery, r: &Value, at: &str, p: &mut Vec<String>) {
    for key in ["name", "endpoint", "schema"] {
        if r[key].as_str().is_none_or(str::is_empty) {
            p.push(format!("{at}{key} is not a non-empty string"));
        }
    }
    let name = r["name"].as_str().unwrap_or("");
    if let Some(core) = r["schema"].as_str()
        && schema_doc(d, core).is_none()
    {
        p.push(format!("{at}{name}: schema {core} is not in /Schemas"));
    }
    let exts = match r.get("schemaExtensions") {
        None => return,
        Some(Value::Array(e)) => e,
        Some(_) => {
            p.push(format!("{at}{name}: schemaExtensions is not an array"));
            return;
        }
    };
    for e in exts {
        match e["schema"].as_str() {
            Some(u) if schema_doc(d, u).is_some() => {}
            _ => p.push(format!(
                "{at}{name}: extension {} is not in /Schemas",
                e["schema"]
            )),
        }
        if !e["required"].is_boolean() {
            p.push(format!("{at}{name}: extension `required` is not a boolean"));
        }
    }
}
