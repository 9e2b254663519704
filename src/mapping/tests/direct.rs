//! The direct writer against its oracle: for the shipped and benchmark
//! mappings and app records of every shape (generated), the bytes it
//! writes are those of `to_scim`'s resource with `meta.location` added and
//! the default projection applied, serialised, and its entity tag is
//! that resource's `meta.version` — or both give the same error.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::compile_users;
use crate::mapping::model::mapping::ResourceMapping;
use crate::protocol::projection::project;
use crate::protocol::query::Projection;

const URL: &str = "https://sidecar.example/scim/v2/Users";

/// The shipped and benchmark mappings the direct writer serves, by name;
/// the benchmark shapes must be among them, the bundled example (an
/// extension and a whole multi-valued attribute) must not.
fn served() -> Vec<(&'static str, ResourceMapping)> {
    let texts = [
        ("example", super::EXAMPLE),
        ("bench", include_str!("../../../benches/load/sidecar.toml")),
        (
            "okta",
            include_str!("../../../benches/load/sidecar-okta.toml"),
        ),
        ("config/crm", include_str!("../../../config/crm.toml")),
        ("config/django", include_str!("../../../config/django.toml")),
        ("config/fab", include_str!("../../../config/fab.toml")),
        ("config/matrix", include_str!("../../../config/matrix.toml")),
        (
            "config/pocketbase",
            include_str!("../../../config/pocketbase.toml"),
        ),
        ("config/rails", include_str!("../../../config/rails.toml")),
    ];
    let served: Vec<_> = texts
        .into_iter()
        .filter_map(|(name, src)| {
            let m = compile_users(src, &["api_key", "tenant", "realm", "base"], &|_| {
                Some("x".into())
            })
            .ok()?;
            m.direct().is_some().then_some((name, m))
        })
        .collect();
    let names: Vec<&str> = served.iter().map(|(n, _)| *n).collect();
    assert!(
        names.contains(&"bench") && names.contains(&"okta"),
        "{names:?}"
    );
    assert!(!names.contains(&"example"), "{names:?}");
    served
}

/// `meta.location` as the server forms it: the collection's URL and the
/// id as a percent-encoded path segment.
fn location(id: &str) -> String {
    format!("{URL}/{}", utf8_percent_encode(id, NON_ALPHANUMERIC))
}

/// What a list or a get answers for `host`, built as a `Value`: the
/// resource's text and its entity tag (`meta.version`, before projection).
fn oracle(m: &ResourceMapping, host: &Value) -> Result<(String, Option<String>), String> {
    let mut scim = m.to_scim(host).map_err(|e| e.to_string())?;
    let location = scim.get("id").and_then(Value::as_str).map(location);
    if let (Some(l), Some(meta)) = (
        location,
        scim.get_mut("meta").and_then(Value::as_object_mut),
    ) {
        meta.insert("location".into(), Value::String(l));
    }
    let tag = scim["meta"]["version"].as_str().map(str::to_owned);
    project(&mut scim, &Projection::default(), m.schema());
    Ok((serde_json::to_string(&scim).unwrap(), tag))
}

fn direct(m: &ResourceMapping, host: &Value) -> Result<(String, Option<String>), String> {
    let mut out = Vec::new();
    let tag = m
        .direct()
        .unwrap()
        .write(host, location, &mut out)
        .map_err(|e| e.to_string())?;
    Ok((String::from_utf8(out).unwrap(), tag))
}

fn check(m: &ResourceMapping, name: &str, host: &Value) {
    assert_eq!(direct(m, host), oracle(m, host), "{name}: {host}");
}

#[test]
fn typical_records_are_written_as_to_scim_writes_them() {
    let records = [
        super::host_user(),
        json!({"id": 7, "login": "zoë+1@example.com", "external_id": "e/7", "first": "Zoë",
               "last": "\"Q\"", "email": "z@example.com", "title": "Dr", "state": "ACTIVE",
               "version": 4, "display_name": "Zoë Q", "created_at": 1_714_564_800u64,
               "updated_at": 1_714_564_900u64}),
        json!({"id": "a b/c", "login": "x", "state": "SUSPENDED"}),
        json!({"login": "no-id"}),
        json!({"id": "", "login": "empty-id"}),
        json!({"id": 1, "login": ["not", "a", "string"]}),
    ];
    for (name, m) in served() {
        for r in &records {
            check(&m, name, r);
        }
    }
}

/// A JSON value of any kind, small.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (0u64..4_000_000_000).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zA-Z0-9 @._\"\\\\/é😀-]{0,12}".prop_map(Value::from),
        prop::sample::select(
            &[
                "ACTIVE",
                "SUSPENDED",
                "true",
                "false",
                "2024-05-01T12:00:00Z"
            ][..]
        )
        .prop_map(Value::from),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..3).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// Field names of the mappings' app records.
const KEYS: &[&str] = &[
    "id",
    "login",
    "external_id",
    "first",
    "last",
    "email",
    "title",
    "state",
    "version",
    "display_name",
    "created_at",
    "updated_at",
    "profile",
    "contact",
    "phones",
    "kind",
    "number",
    "display",
    "dept",
    "locale",
    "primary",
    "value",
];

/// An app record: each field present or not, of a likely or of any kind.
fn record() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop::sample::select(KEYS),
            prop_oneof![3 => leaf(), 1 => any_json()],
        ),
        0..14,
    )
    .prop_map(|fields| {
        let mut o: Map<String, Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        // Most records carry an id, as apps' do.
        o.entry("id").or_insert(Value::from("17"));
        Value::Object(o)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn any_record_is_written_as_to_scim_writes_it(r in record()) {
        for (name, m) in served() {
            check(&m, name, &r);
        }
    }
}
