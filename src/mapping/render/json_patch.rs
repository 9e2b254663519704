//! A changes body rendered as RFC 6902 JSON Patch operations, for apps
//! whose update is `PATCH` with `application/json-patch+json`: each
//! changed field (a leaf of the changes object, arrays whole) becomes an
//! `add` — which sets an object member whether or not it exists (RFC 6902
//! §4.1) — and each cleared one (`null`) a `remove`; the app's version,
//! when the call carries it in a field, becomes a leading `test` (§4.6),
//! so a stale write fails as a whole (§5).

use serde_json::{Value, json};

use crate::mapping::path::{Segment, WritePath};

/// The media type of a JSON Patch document (RFC 6902 §6).
pub const JSON_PATCH: &str = "application/json-patch+json";

/// The operations that apply `changes` (a JSON object of changed fields,
/// cleared ones `null`), led by a `test` of the version field's value.
pub fn json_patch(changes: &Value, test: Option<(&WritePath, &Value)>) -> Value {
    let mut ops = Vec::new();
    if let Some((field, version)) = test {
        ops.push(json!({"op": "test", "path": pointer_of(field), "value": version}));
    }
    leaves(changes, &mut String::new(), &mut ops);
    Value::Array(ops)
}

fn leaves(v: &Value, at: &mut String, ops: &mut Vec<Value>) {
    match v {
        Value::Object(map) if !map.is_empty() || at.is_empty() => {
            for (k, child) in map {
                let len = at.len();
                at.push('/');
                at.push_str(&escape(k));
                leaves(child, at, ops);
                at.truncate(len);
            }
        }
        Value::Null => ops.push(json!({"op": "remove", "path": at.as_str()})),
        other => ops.push(json!({"op": "add", "path": at.as_str(), "value": other})),
    }
}

/// The JSON Pointer (RFC 6901) of a write path.
fn pointer_of(path: &WritePath) -> String {
    path.segments()
        .iter()
        .map(|s| match s {
            Segment::Key(k) => format!("/{}", escape(k)),
            Segment::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// RFC 6901 §3: `~` is `~0` and `/` is `~1` in a reference token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_are_adds_and_cleared_ones_removes() {
        let changes =
            json!({"profile": {"title": "Lead", "a/b~c": 1}, "manager": null, "emails": ["x@y"]});
        assert_eq!(
            json_patch(&changes, None),
            json!([
                {"op": "add", "path": "/emails", "value": ["x@y"]},
                {"op": "remove", "path": "/manager"},
                {"op": "add", "path": "/profile/a~1b~0c", "value": 1},
                {"op": "add", "path": "/profile/title", "value": "Lead"}
            ])
        );
    }

    #[test]
    fn the_version_is_tested_first() {
        let field = WritePath::parse("$.meta.version").unwrap();
        let ops = json_patch(&json!({"title": "x"}), Some((&field, &json!(7))));
        assert_eq!(
            ops,
            json!([
                {"op": "test", "path": "/meta/version", "value": 7},
                {"op": "add", "path": "/title", "value": "x"}
            ])
        );
    }

    #[test]
    fn an_empty_object_is_a_value() {
        assert_eq!(
            json_patch(&json!({"prefs": {}}), None),
            json!([{"op": "add", "path": "/prefs", "value": {}}])
        );
    }
}
