//! Reading JSON Schemas the way the drafter needs them: the type of a
//! schema (OpenAPI 3.1 type lists and `anyOf [T, null]`, 3.0 `nullable`,
//! `allOf` compositions merged), the properties of an object schema, and
//! every field of a record flattened to a path (`profile.first`), through
//! nested objects but not into arrays, bounded in depth so a recursive
//! schema ends.

use super::spec::{Node, Spec};
use serde_json::Value;

/// How deep nested objects are followed.
const MAX_DEPTH: usize = 4;
/// Most fields read from one record schema.
const MAX_FIELDS: usize = 400;

/// The JSON type a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    Unknown,
}

/// One field of a record.
#[derive(Clone)]
pub struct Field<'a> {
    /// Keys from the record's top level.
    pub path: Vec<String>,
    pub node: Node<'a>,
    pub kind: Kind,
    pub format: String,
    /// Description and title, as written.
    pub description: String,
    pub read_only: bool,
    pub write_only: bool,
    /// Required in its parent object.
    pub required: bool,
    /// `enum` values.
    pub values: Vec<Value>,
}

impl Field<'_> {
    /// The last key.
    pub fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    /// The JSONPath of the field: `$.profile.first`, `$['odd key']`.
    pub fn json_path(&self) -> String {
        json_path(&self.path)
    }
}

/// `["a", "b c"]` → `$.a['b c']`.
pub fn json_path(keys: &[String]) -> String {
    let mut out = String::from("$");
    for k in keys {
        let plain = !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !k.starts_with(|c: char| c.is_ascii_digit());
        if plain {
            out.push('.');
            out.push_str(k);
        } else {
            out.push_str("['");
            out.push_str(&k.replace('\\', "\\\\").replace('\'', "\\'"));
            out.push_str("']");
        }
    }
    out
}

/// `node` with nullable wrappers removed: `anyOf`/`oneOf` with one
/// non-null branch, a one-element `allOf`.
pub fn unwrap<'a>(spec: &'a Spec, node: Node<'a>) -> Node<'a> {
    let mut node = spec.deref(node);
    for _ in 0..MAX_DEPTH {
        let next = ["anyOf", "oneOf", "allOf"].iter().find_map(|k| {
            let Some(Value::Array(branches)) = node.v.get(*k) else {
                return None;
            };
            let live: Vec<&Value> = branches.iter().filter(|b| !is_null_schema(b)).collect();
            let only_composition = node.v.as_object().is_some_and(|m| {
                m.keys().all(|key| {
                    matches!(
                        key.as_str(),
                        "anyOf"
                            | "oneOf"
                            | "allOf"
                            | "description"
                            | "title"
                            | "nullable"
                            | "default"
                            | "readOnly"
                            | "writeOnly"
                            | "example"
                    )
                })
            });
            (live.len() == 1 && only_composition).then(|| spec.deref(Node { v: live[0], ..node }))
        });
        match next {
            Some(n) => node = n,
            None => break,
        }
    }
    node
}

fn is_null_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

/// The type of a schema.
pub fn kind(spec: &Spec, node: Node<'_>) -> Kind {
    let node = unwrap(spec, node);
    let ty = match node.v.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    match ty {
        Some("object") => Kind::Object,
        Some("array") => Kind::Array,
        Some("string") => Kind::String,
        Some("integer") => Kind::Integer,
        Some("number") => Kind::Number,
        Some("boolean") => Kind::Boolean,
        _ if node.v.get("properties").is_some() || node.v.get("allOf").is_some() => Kind::Object,
        _ if node.v.get("items").is_some() => Kind::Array,
        // `oneOf`/`anyOf` of alternatives: the kind they share.
        _ => {
            let branches = ["oneOf", "anyOf"]
                .iter()
                .find_map(|k| node.v.get(*k).and_then(Value::as_array));
            let kinds: Vec<Kind> = branches
                .into_iter()
                .flatten()
                .filter(|b| !is_null_schema(b))
                .take(8)
                .map(|b| {
                    let b = spec.deref(Node { v: b, ..node });
                    if b.v.get("oneOf").is_some() || b.v.get("anyOf").is_some() {
                        Kind::Unknown
                    } else {
                        kind(spec, b)
                    }
                })
                .collect();
            match kinds.first() {
                Some(k) if kinds.iter().all(|x| x == k) => *k,
                _ => Kind::Unknown,
            }
        }
    }
}

/// The element schema of an array schema.
pub fn items<'a>(spec: &'a Spec, node: Node<'a>) -> Option<Node<'a>> {
    let node = unwrap(spec, node);
    spec.get(node, "items")
}

/// The properties of an object schema (`allOf` parts merged, later ones
/// winning), with whether each is required; in name order.
pub fn properties<'a>(spec: &'a Spec, node: Node<'a>) -> Vec<(String, Node<'a>, bool)> {
    let mut out: Vec<(String, Node<'a>, bool)> = Vec::new();
    collect_properties(spec, unwrap(spec, node), &mut out, 0);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn collect_properties<'a>(
    spec: &'a Spec,
    node: Node<'a>,
    out: &mut Vec<(String, Node<'a>, bool)>,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let node = spec.deref(node);
    if let Some(Value::Array(parts)) = node.v.get("allOf") {
        for p in parts {
            collect_properties(spec, Node { v: p, ..node }, out, depth + 1);
        }
    }
    let required: Vec<&str> = match node.v.get("required") {
        Some(Value::Array(r)) => r.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if let Some(Value::Object(props)) = node.v.get("properties") {
        for (name, p) in props {
            let child = Node {
                v: p,
                at: name,
                ..node
            };
            let req = required.contains(&name.as_str());
            match out.iter_mut().find(|(n, _, _)| n == name) {
                Some(slot) => *slot = (name.clone(), child, req || slot.2),
                None => out.push((name.clone(), child, req)),
            }
        }
    } else if out.is_empty() {
        // `anyOf`/`oneOf` of objects: the union of their properties.
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(parts)) = node.v.get(key) {
                for p in parts.iter().filter(|p| !is_null_schema(p)) {
                    collect_properties(spec, Node { v: p, ..node }, out, depth + 1);
                }
            }
        }
    }
}

/// Every field of a record schema, flattened through nested objects.
pub fn fields<'a>(spec: &'a Spec, node: Node<'a>) -> Vec<Field<'a>> {
    let mut out = Vec::new();
    walk(spec, node, &mut Vec::new(), &mut out);
    out
}

fn walk<'a>(spec: &'a Spec, node: Node<'a>, prefix: &mut Vec<String>, out: &mut Vec<Field<'a>>) {
    if prefix.len() >= MAX_DEPTH {
        return;
    }
    for (name, child, required) in properties(spec, node) {
        if out.len() >= MAX_FIELDS {
            return;
        }
        let raw = spec.deref(child);
        let inner = unwrap(spec, child);
        prefix.push(name);
        let k = kind(spec, inner);
        let mut description = text(raw.v, "description");
        if description.is_empty() {
            description = text(inner.v, "description");
        }
        let title = text(inner.v, "title");
        if !title.is_empty() {
            description = format!("{title}. {description}");
        }
        out.push(Field {
            path: prefix.clone(),
            node: inner,
            kind: k,
            format: text(inner.v, "format"),
            description,
            read_only: flag(raw.v, "readOnly") || flag(inner.v, "readOnly"),
            write_only: flag(raw.v, "writeOnly") || flag(inner.v, "writeOnly"),
            required,
            values: match inner.v.get("enum") {
                Some(Value::Array(values)) => values.clone(),
                _ => Vec::new(),
            },
        });
        if k == Kind::Object {
            walk(spec, inner, prefix, out);
        }
        prefix.pop();
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn flag(v: &Value, key: &str) -> bool {
    v.get(key) == Some(&Value::Bool(true))
}

/// Lower-case words of an identifier: `createdTimestamp` → `created
/// timestamp`, `first_name` → `first name`, `X-Total-Count` → `x total count`.
pub fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let boundary = c.is_uppercase()
            && i > 0
            && (chars[i - 1].is_lowercase()
                || chars[i - 1].is_ascii_digit()
                || (chars[i - 1].is_uppercase()
                    && chars.get(i + 1).is_some_and(|n| n.is_lowercase())));
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The identifier's words joined with `_`: `firstName` → `first_name`.
pub fn snake(name: &str) -> String {
    words(name).join("_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_split_every_convention() {
        assert_eq!(words("createdTimestamp"), ["created", "timestamp"]);
        assert_eq!(words("first_name"), ["first", "name"]);
        assert_eq!(words("X-Total-Count"), ["x", "total", "count"]);
        assert_eq!(words("HTMLUrl"), ["html", "url"]);
        assert_eq!(words("user-id"), ["user", "id"]);
        assert_eq!(snake("isActive"), "is_active");
    }

    #[test]
    fn json_paths_quote_odd_keys() {
        assert_eq!(json_path(&["a".into(), "b".into()]), "$.a.b");
        assert_eq!(
            json_path(&["@odata.nextLink".into()]),
            "$['@odata.nextLink']"
        );
        assert_eq!(json_path(&["it's".into()]), "$['it\\'s']");
    }

    #[test]
    fn fields_flatten_nested_objects_and_compositions() {
        let s = Spec::from_value(json!({
            "openapi": "3.1.0", "paths": {},
            "components": {"schemas": {
                "Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "readOnly": true}}},
                "User": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "properties": {
                    "profile": {"type": "object", "properties": {"first": {"type": ["string", "null"]}}},
                    "email": {"anyOf": [{"type": "string", "format": "email"}, {"type": "null"}], "description": "Mail"},
                    "me": {"$ref": "#/components/schemas/User"}
                }}]}
            }}
        }))
        .unwrap();
        let user = json!({"$ref": "#/components/schemas/User"});
        let fs = fields(
            &s,
            Node {
                doc: 0,
                v: &user,
                at: "#",
            },
        );
        let paths: Vec<String> = fs.iter().map(Field::json_path).collect();
        assert!(paths.contains(&"$.profile.first".to_owned()), "{paths:?}");
        let email = fs.iter().find(|f| f.name() == "email").unwrap();
        assert_eq!(
            (
                email.kind,
                email.format.as_str(),
                email.description.as_str()
            ),
            (Kind::String, "email", "Mail")
        );
        let id = fs.iter().find(|f| f.name() == "id").unwrap();
        assert!(id.read_only && id.required);
        assert!(
            paths.iter().any(|p| p.starts_with("$.me.me.")),
            "recursion is followed a few levels"
        );
        assert!(paths.len() < 60, "and then stops");
    }
}
