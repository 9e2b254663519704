//! A strict SCIM client's view of every response: the message rules of
//! RFC 7644 (§3.1 media type, §3.3 a created resource's `Location`, §3.14
//! `ETag` as `meta.version`, §3.4.2 ListResponse counters, §3.12 error
//! bodies) and every resource checked against the sidecar's own `/Schemas`
//! and `/ResourceTypes` (RFC 7643 §7): each attribute and sub-attribute
//! declared, of its declared type and plurality, within its
//! `canonicalValues`, never one that is `returned: never` or `writeOnly`,
//! at most one `primary` value; extension objects named in `schemas`;
//! `id` and `meta` as RFC 7643 §3.1 defines. Discovery's own `Schema` and
//! `ResourceType` resources are checked as RFC 7643 §6 and §7 define them
//! ([`discovery`]). The shared request helper runs it on every answer, so
//! each test that talks SCIM also checks that discovery tells the truth.

mod discovery;

use http::HeaderMap;
use serde_json::{Map, Value};

/// The discovery documents a response is checked against.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// `/Schemas` resources.
    pub schemas: Vec<Value>,
    /// `/ResourceTypes` resources.
    pub resource_types: Vec<Value>,
}

const LIST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCIM_TYPES: [&str; 10] = [
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
];

/// Checks one SCIM answer; panics with every problem found.
pub fn check(d: &Discovery, status: u16, headers: &HeaderMap, body: &Value, what: &str) {
    let mut problems = Vec::new();
    if body.is_null() {
        if ![204, 304].contains(&status) {
            problems.push(format!("a {status} answer without a body"));
        }
    } else {
        let ct = header(headers, "content-type").unwrap_or("");
        if !ct.starts_with("application/scim+json") {
            problems.push(format!("content type {ct:?} is not application/scim+json"));
        }
        if status >= 400 {
            error_body(status, body, &mut problems);
        } else if has_schema(body, LIST_URN) {
            list(d, body, &mut problems);
        } else if body.get("id").is_some() {
            any_resource(d, body, "", &mut problems);
            if !is_discovery(body) {
                resource_headers(status, headers, body, &mut problems);
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{what}: a strict SCIM client rejects this answer ({status}):\n  {}\n{body}",
        problems.join("\n  ")
    );
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// RFC 7644 §3.3: a created resource's URI is both the `Location` header
/// and `meta.location`; §3.14: an `ETag` header wherever `meta.version`
/// is given, with the same value.
fn resource_headers(status: u16, headers: &HeaderMap, r: &Value, p: &mut Vec<String>) {
    let location = r["meta"]["location"].as_str();
    if status == 201 {
        match (header(headers, "location"), location) {
            (Some(h), Some(m)) if h == m => {}
            (h, m) => p.push(format!(
                "201: Location header {h:?} and meta.location {m:?} are not one URI"
            )),
        }
    }
    if let Some(version) = r["meta"]["version"].as_str()
        && header(headers, "etag") != Some(version)
    {
        p.push(format!(
            "ETag header {:?} is not meta.version {version:?}",
            header(headers, "etag")
        ));
    }
}

fn is_discovery(r: &Value) -> bool {
    has_schema(r, SCHEMA_URN) || has_schema(r, RESOURCE_TYPE_URN)
}

fn has_schema(body: &Value, urn: &str) -> bool {
    body["schemas"]
        .as_array()
        .is_some_and(|a| a.iter().any(|s| s == urn))
}

/// RFC 7644 §3.12.
fn error_body(status: u16, body: &Value, p: &mut Vec<String>) {
    if !has_schema(body, ERROR_URN) {
        p.push("an error without the Error schema".into());
    }
    if body["status"] != Value::String(status.to_string()) {
        p.push(format!("error `status` is not the string \"{status}\""));
    }
    if !body["detail"].is_string() {
        p.push("error without a string `detail`".into());
    }
    if let Some(t) = body.get("scimType")
        && !t.as_str().is_some_and(|t| SCIM_TYPES.contains(&t))
    {
        p.push(format!("`scimType` {t} is not one of RFC 7644 Table 9"));
    }
}

/// RFC 7644 §3.4.2: integer counters (a 1-based `startIndex`) and
/// `Resources`, required whenever `totalResults` is not zero.
fn list(d: &Discovery, body: &Value, p: &mut Vec<String>) {
    for k in ["totalResults", "startIndex", "itemsPerPage"] {
        if !body[k].is_u64() {
            p.push(format!("`{k}` is not a non-negative integer"));
        }
    }
    if body["startIndex"].as_u64() == Some(0) {
        p.push("`startIndex` is 0, not 1-based".into());
    }
    let resources = body["Resources"].as_array();
    if resources.is_none() && body["totalResults"].as_u64().is_some_and(|t| t > 0) {
        p.push("`Resources` missing while `totalResults` is not zero".into());
    }
    let n = resources.map_or(0, Vec::len) as u64;
    if body["itemsPerPage"].as_u64() != Some(n) {
        p.push("`itemsPerPage` is not the number of Resources".into());
    }
    if body["totalResults"].as_u64().is_some_and(|t| t < n) {
        p.push("`totalResults` is smaller than the page".into());
    }
    for (i, r) in resources.into_iter().flatten().enumerate() {
        any_resource(d, r, &format!("Resources[{i}]."), p);
    }
}

/// Discovery's own resources are described by RFC 7643 (§6, §7, §8.7.2),
/// not by `/ResourceTypes`; every other resource by its resource type.
fn any_resource(d: &Discovery, r: &Value, at: &str, p: &mut Vec<String>) {
    let listed: Vec<&Value> = r["schemas"].as_array().into_iter().flatten().collect();
    if listed
        .iter()
        .enumerate()
        .any(|(i, s)| listed[..i].contains(s))
    {
        p.push(format!("{at}schemas lists a URI twice (RFC 7643 §3)"));
    }
    if has_schema(r, SCHEMA_URN) {
        discovery::schema(d, r, at, p);
    } else if has_schema(r, RESOURCE_TYPE_URN) {
        discovery::resource_type(d, r, at, p);
    } else {
        resource(d, r, at, p);
    }
}

/// One resource against its resource type's schemas.
fn resource(d: &Discovery, r: &Value, at: &str, p: &mut Vec<String>) {
    let Some(obj) = r.as_object() else {
        p.push(format!("{at}: not an object"));
        return;
    };
    let listed: Vec<&str> = r["schemas"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    // `meta` may be left out by `attributes`; then `schemas` names the type.
    let rt = match r["meta"]["resourceType"].as_str() {
        Some(name) => d.resource_types.iter().find(|t| t["name"] == name),
        None => d
            .resource_types
            .iter()
            .find(|t| t["schema"].as_str().is_some_and(|c| listed.contains(&c))),
    };
    let Some(rt) = rt else {
        p.push(format!(
            "{at}meta.resourceType {} / schemas {listed:?}: no resource type in /ResourceTypes",
            r["meta"]["resourceType"]
        ));
        return;
    };
    let rt_name = rt["name"].as_str().unwrap_or("");
    let core = rt["schema"].as_str().unwrap_or("");
    let extensions: Vec<&str> = rt["schemaExtensions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["schema"].as_str())
        .collect();
    if !listed.contains(&core) {
        p.push(format!("{at}schemas does not list the core schema {core}"));
    }
    for s in &listed {
        if *s != core && !extensions.contains(s) {
            p.push(format!(
                "{at}schemas lists {s}, not an extension of {rt_name}"
            ));
        }
    }
    common(r, at, p);
    let Some(core_doc) = schema_doc(d, core) else {
        p.push(format!("{at}core schema {core} is not in /Schemas"));
        return;
    };
    for (k, v) in obj {
        if ["schemas", "id", "meta"].contains(&k.as_str()) {
            continue;
        }
        if k.starts_with("urn:") {
            if !listed.contains(&k.as_str()) {
                p.push(format!(
                    "{at}{k}: an extension object not listed in schemas"
                ));
            }
            match schema_doc(d, k) {
                Some(doc) => attributes(doc, v, &format!("{at}{k}:"), p),
                None => p.push(format!("{at}{k}: not in /Schemas")),
            }
            continue;
        }
        match attr_of(core_doc, k) {
            Some(def) => value(def, v, &format!("{at}{k}"), p),
            None => p.push(format!("{at}{k}: not declared in {core}")),
        }
    }
}

/// RFC 7643 §3.1: `id` (returned always) and `meta` (returned by default,
/// so a projection may leave it out).
fn common(r: &Value, at: &str, p: &mut Vec<String>) {
    if r["id"].as_str().is_none_or(str::is_empty) {
        p.push(format!("{at}id is not a non-empty string"));
    }
    let meta = match r.get("meta") {
        None => return,
        Some(Value::Object(meta)) => meta,
        Some(_) => {
            p.push(format!("{at}meta is not an object"));
            return;
        }
    };
    for (k, v) in meta {
        let ok = match k.as_str() {
            "resourceType" | "location" | "version" => v.is_string(),
            "created" | "lastModified" => v.as_str().is_some_and(is_rfc3339),
            _ => false,
        };
        if !ok {
            p.push(format!(
                "{at}meta.{k} = {v} is not as RFC 7643 §3.1 defines"
            ));
        }
    }
}

fn schema_doc<'d>(d: &'d Discovery, urn: &str) -> Option<&'d Value> {
    d.schemas.iter().find(|s| s["id"] == urn)
}

fn attr_of<'d>(doc: &'d Value, name: &str) -> Option<&'d Value> {
    doc["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["name"] == name)
}

fn sub_of<'d>(def: &'d Value, name: &str) -> Option<&'d Value> {
    def["subAttributes"]
        .as_array()?
        .iter()
        .find(|a| a["name"] == name)
}

/// The attributes of an extension object.
fn attributes(doc: &Value, v: &Value, at: &str, p: &mut Vec<String>) {
    let Some(obj) = v.as_object() else {
        p.push(format!("{at} is not an object"));
        return;
    };
    for (k, v) in obj {
        match attr_of(doc, k) {
            Some(def) => value(def, v, &format!("{at}{k}"), p),
            None => p.push(format!("{at}{k}: not declared")),
        }
    }
}

/// A value against its attribute definition.
fn value(def: &Value, v: &Value, at: &str, p: &mut Vec<String>) {
    if def["returned"] == "never" {
        p.push(format!("{at}: returned although `returned: never`"));
    }
    if def["mutability"] == "writeOnly" {
        p.push(format!(
            "{at}: returned although `writeOnly` (RFC 7643 §2.2: SHALL NOT be returned)"
        ));
    }
    if def["multiValued"] == true {
        match v.as_array() {
            Some(items) => {
                items
                    .iter()
                    .enumerate()
                    .for_each(|(i, it)| single(def, it, &format!("{at}[{i}]"), p));
                let primaries = items.iter().filter(|it| it["primary"] == true).count();
                if primaries > 1 {
                    p.push(format!(
                        "{at}: {primaries} values are primary (RFC 7643 §2.4: at most one)"
                    ));
                }
            }
            None => p.push(format!("{at}: multiValued but not an array")),
        }
    } else {
        single(def, v, at, p);
    }
}

fn single(def: &Value, v: &Value, at: &str, p: &mut Vec<String>) {
    let ty = def["type"].as_str().unwrap_or("");
    let ok = match ty {
        "string" | "reference" | "binary" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "decimal" => v.is_number(),
        "dateTime" => v.as_str().is_some_and(is_rfc3339),
        "complex" => v.is_object(),
        _ => false,
    };
    if !ok {
        p.push(format!("{at}: {v} is not a {ty}"));
        return;
    }
    if let (Some(canon), Some(s)) = (def["canonicalValues"].as_array(), v.as_str())
        && !canon.is_empty()
        && !canon.iter().any(|c| c == s)
    {
        p.push(format!(
            "{at}: {s:?} is not one of its canonicalValues {canon:?}"
        ));
    }
    if let (true, Some(obj)) = (ty == "complex", v.as_object()) {
        sub_values(def, obj, at, p);
    }
}

fn sub_values(def: &Value, obj: &Map<String, Value>, at: &str, p: &mut Vec<String>) {
    for (k, sv) in obj {
        match sub_of(def, k) {
            Some(sd) => value(sd, sv, &format!("{at}.{k}"), p),
            None => p.push(format!("{at}.{k}: sub-attribute not declared")),
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    matches!(rest, "Z" | "z")
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':')
}
