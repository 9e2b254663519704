//! Laying one SCIM resource over another: how a create that meets an
//! existing account (RFC 7644 §3.3: the IdP's replay of a create whose
//! answer was lost) computes the resource it still has to reach.

use serde_json::{Map, Value};

/// `base` with `top`'s attributes laid over it: complex values merge,
/// everything else (multi-valued attributes included) is replaced; `base`'s
/// `schemas`, `id` and `meta` are kept. Names match case-insensitively
/// (RFC 7643 §2.1).
pub fn overlay(base: &Value, top: &Value) -> Value {
    let (Value::Object(b), Value::Object(t)) = (base, top) else {
        return top.clone();
    };
    let mut out: Map<String, Value> = b.clone();
    for (k, v) in t {
        if ["schemas", "id", "meta"]
            .iter()
            .any(|r| r.eq_ignore_ascii_case(k))
        {
            continue;
        }
        let key = out
            .keys()
            .find(|x| x.eq_ignore_ascii_case(k))
            .cloned()
            .unwrap_or_else(|| k.clone());
        let merged = match (out.get(&key), v) {
            (Some(old @ Value::Object(_)), Value::Object(_)) => overlay(old, v),
            _ => v.clone(),
        };
        out.insert(key, merged);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overlay_merges_complex_values_and_replaces_lists() {
        let base = json!({"id": "1", "name": {"givenName": "A", "middleName": "M"},
                          "emails": [{"value": "a@x"}], "title": "T"});
        let top = json!({"id": "9", "name": {"givenName": "B"}, "emails": [{"value": "b@x"}]});
        assert_eq!(
            overlay(&base, &top),
            json!({"id": "1", "name": {"givenName": "B", "middleName": "M"},
                   "emails": [{"value": "b@x"}], "title": "T"})
        );
    }

    #[test]
    fn names_match_case_insensitively() {
        let base = json!({"Title": "T", "Name": {"GivenName": "A"}});
        let top = json!({"title": "U", "name": {"givenName": "B"}});
        assert_eq!(
            overlay(&base, &top),
            json!({"Title": "U", "Name": {"GivenName": "B"}})
        );
    }
}
