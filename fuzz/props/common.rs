//! What the property checks of the fuzz targets (and of their bounded
//! proptest variants in `tests/it/fuzz_props.rs`) run against: every config
//! shipped in `config/`, loaded once, and small JSON helpers.

#![allow(dead_code)] // each fuzz target uses a part

use scim_sidecar::Config;
use scim_sidecar::mapping::ResourceMapping;
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// The shipped configs, by name.
pub static CONFIGS: LazyLock<Vec<(&'static str, Config)>> = LazyLock::new(|| {
    let env = |_: &str| Some("fuzz-secret".to_owned());
    [
        ("example", include_str!("../../config/example.toml")),
        ("rails", include_str!("../../config/rails.toml")),
        ("django", include_str!("../../config/django.toml")),
        ("crm", include_str!("../../config/crm.toml")),
        ("fab", include_str!("../../config/fab.toml")),
        ("matrix", include_str!("../../config/matrix.toml")),
    ]
    .into_iter()
    .map(|(name, text)| {
        let config =
            Config::from_toml(text, &env).unwrap_or_else(|e| panic!("{}", e.render(name, text)));
        (name, config)
    })
    .collect()
});

/// Every users mapping, by config name.
pub fn users() -> impl Iterator<Item = (&'static str, &'static ResourceMapping)> {
    CONFIGS
        .iter()
        .filter_map(|(n, c)| c.users.as_deref().map(|m| (*n, m)))
}

/// Every users and groups mapping, by config name.
pub fn mappings() -> impl Iterator<Item = (&'static str, &'static ResourceMapping)> {
    let groups = CONFIGS
        .iter()
        .filter_map(|(n, c)| c.groups.as_deref().map(|m| (*n, m)));
    users().chain(groups)
}

/// The users mapping of `config/example.toml`, whose app (the bundled
/// example app) applies an update as a JSON merge patch.
pub fn example_users() -> &'static ResourceMapping {
    CONFIGS[0]
        .1
        .users
        .as_deref()
        .expect("the example maps users")
}

/// RFC 7396 JSON merge patch of `patch` onto `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("an object");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

pub use scim_sidecar::protocol::overlay::overlay;

/// Whether more than one element of a multi-valued attribute (top level
/// or in an extension) is `"primary": true` (RFC 7643 §2.4 allows one).
pub fn has_two_primaries(resource: &Value) -> Option<String> {
    let o = resource.as_object()?;
    for (k, v) in o {
        match v {
            Value::Array(items) => {
                let n = items
                    .iter()
                    .filter(|e| e.get("primary") == Some(&Value::Bool(true)))
                    .count();
                if n > 1 {
                    return Some(k.clone());
                }
            }
            Value::Object(_) if k.to_ascii_lowercase().starts_with("urn:") => {
                if let Some(inner) = has_two_primaries(v) {
                    return Some(format!("{k}:{inner}"));
                }
            }
            _ => {}
        }
    }
    None
}
