//! Bounded proptest variants of the fuzz targets of `fuzz/`: the same
//! property checks (`fuzz/props/*.rs`, shared with the targets), on
//! inputs generated from SCIM's and the example app's vocabulary so that
//! a few hundred cases reach deep: SCIM User bodies for creates and
//! replaces, arbitrary app records read through every shipped mapping,
//! and PATCH requests planned on arbitrary app state. The fuzz targets run
//! the same checks for minutes on raw bytes (see `fuzz/README.md`); every
//! input they found failing is kept in `fuzz/regressions/` and replayed
//! here.

#[path = "../../fuzz/props/common.rs"]
mod common;
#[path = "../../fuzz/props/mapping_eval.rs"]
mod mapping_eval;
#[path = "../../fuzz/props/resource.rs"]
mod resource;
#[path = "../../fuzz/props/write_plan.rs"]
mod write_plan;

use proptest::prelude::*;
use serde_json::{Map, Value, json};

const SCIM_KEYS: &[&str] = &[
    "userName",
    "name",
    "givenName",
    "familyName",
    "formatted",
    "middleName",
    "displayName",
    "nickName",
    "title",
    "externalId",
    "active",
    "emails",
    "phoneNumbers",
    "addresses",
    "value",
    "type",
    "primary",
    "display",
    "locale",
    "timezone",
    "password",
    "groups",
    "id",
    "meta",
    "schemas",
    "members",
    "userType",
    "preferredLanguage",
    "profileUrl",
    "ims",
    "roles",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "department",
    "manager",
    "employeeNumber",
    "costCenter",
    "version",
    "streetAddress",
    "country",
    "x",
];

const HOST_KEYS: &[&str] = &[
    "id",
    "login",
    "external_id",
    "profile",
    "first",
    "last",
    "middle",
    "display",
    "nickname",
    "title",
    "contact",
    "email",
    "phones",
    "number",
    "kind",
    "addresses",
    "street",
    "state",
    "dept",
    "org",
    "employee_number",
    "manager_id",
    "version",
    "created_at",
    "updated_at",
    "locale",
    "name",
    "user_id",
    "members",
    "teams",
    "user",
    "username",
    "email_address",
    "first_name",
    "last_name",
    "is_active",
    "uuid",
    "data",
    "attributes",
    "roles",
    "x",
];

const WORDS: &[&str] = &[
    "",
    "a@example.com",
    "ADA@Example.COM ",
    "work",
    "home",
    "mobile",
    "office",
    "ACTIVE",
    "SUSPENDED",
    "True",
    "False",
    "true",
    "false",
    "1001",
    "t1",
    "Ada",
    "null",
    "42",
    "-1",
    "2024-01-01T00:00:00Z",
    "W/\"3\"",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "é",
    "\u{0}",
    "a\nb",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..2000).prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(WORDS).prop_map(Value::from),
        "[a-zA-Z0-9 @._-]{0,12}".prop_map(Value::from),
    ]
}

fn json_of(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A User body: the core schema URN (usually) and attributes of any type.
fn user_body() -> impl Strategy<Value = Value> {
    let schemas = prop_oneof![
        4 => Just(json!(["urn:ietf:params:scim:schemas:core:2.0:User"])),
        1 => Just(json!(["urn:ietf:params:scim:schemas:core:2.0:User",
                         "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"])),
        1 => json_of(SCIM_KEYS),
    ];
    let attrs = prop::collection::vec((prop::sample::select(SCIM_KEYS), json_of(SCIM_KEYS)), 0..8);
    (schemas, "[a-z.@]{1,10}", attrs).prop_map(|(schemas, login, attrs)| {
        let mut o = Map::new();
        o.insert("schemas".into(), schemas);
        o.insert("userName".into(), Value::from(login));
        for (k, v) in attrs {
            o.insert(k.to_owned(), v);
        }
        Value::Object(o)
    })
}

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[a-zA-Z .@-]{0,10}".prop_map(Value::from),
        1 => prop::sample::select(WORDS).prop_map(Value::from),
        1 => leaf(),
    ]
}

fn phone() -> impl Strategy<Value = Value> {
    let kind =
        prop::sample::select(&["mobile", "office", "home", "fax", "pager", "other", "x"][..]);
    (text(), kind, any::<bool>())
        .prop_map(|(n, k, p)| json!({"number": n, "kind": k, "primary": p}))
}

/// An app record in the example app's shape (sometimes with parts of any
/// type): what the example app stores for a user.
fn record() -> impl Strategy<Value = Value> {
    let state = prop_oneof![4 => prop::sample::select(&["ACTIVE", "SUSPENDED"][..]).prop_map(Value::from), 1 => leaf()];
    let profile = prop::collection::vec(
        (
            prop::sample::select(
                &[
                    "first", "last", "middle", "display", "nickname", "title", "timezone",
                ][..],
            ),
            text(),
        ),
        0..5,
    );
    let junk = prop::collection::vec((prop::sample::select(HOST_KEYS), json_of(HOST_KEYS)), 0..2);
    (
        any::<u16>(),
        "[a-z.@]{1,10}",
        state,
        profile,
        prop::option::of(text()),
        prop::collection::vec(phone(), 0..3),
        prop::option::of(text()),
        junk,
    )
        .prop_map(|(id, login, state, profile, email, phones, dept, junk)| {
            let mut o = Map::new();
            o.insert("id".into(), Value::from(id.to_string()));
            o.insert("login".into(), Value::from(login));
            o.insert("state".into(), state);
            o.insert("version".into(), Value::from(id % 7));
            let p: Map<String, Value> = profile
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            o.insert("profile".into(), Value::Object(p));
            o.insert("contact".into(), json!({"email": email, "phones": phones}));
            if let Some(d) = dept {
                o.insert("dept".into(), d);
            }
            for (k, v) in junk {
                o.insert(k.to_owned(), v);
            }
            Value::Object(o)
        })
}

/// A value of the kind `path` holds (sometimes of any kind).
fn value_for(path: &'static str) -> BoxedStrategy<Value> {
    let email = (
        text(),
        prop::sample::select(&["work", "home", "Work"][..]),
        any::<bool>(),
    )
        .prop_map(|(v, t, p)| json!({"value": v, "type": t, "primary": p}));
    let scim_phone = (
        text(),
        prop::sample::select(&["mobile", "work", "home", "fax"][..]),
    )
        .prop_map(|(v, t)| json!({"value": v, "type": t}));
    let typed = match path {
        "active" => prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            prop::sample::select(&["True", "False", "false"][..]).prop_map(Value::from)
        ]
        .boxed(),
        "emails" => prop::collection::vec(email, 0..3)
            .prop_map(Value::Array)
            .boxed(),
        "phoneNumbers" => prop::collection::vec(scim_phone, 0..3)
            .prop_map(Value::Array)
            .boxed(),
        "" => prop::collection::vec(
            (
                prop::sample::select(
                    &[
                        "title",
                        "active",
                        "displayName",
                        "name.givenName",
                        "nickName",
                        "emails",
                    ][..],
                ),
                text(),
            ),
            0..4,
        )
        .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
        .boxed(),
        _ => text().boxed(),
    };
    prop_oneof![5 => typed, 1 => json_of(SCIM_KEYS)].boxed()
}

fn operation() -> impl Strategy<Value = Value> {
    let op = prop::sample::select(&["add", "replace", "remove", "Add", "Replace", "Remove"][..]);
    let path = prop_oneof![4 => prop::sample::select(PATHS), 1 => Just("")];
    (op, path)
        .prop_flat_map(|(op, path)| {
            (
                Just(op),
                Just(path),
                prop::option::weighted(0.9, value_for(path)),
            )
        })
        .prop_map(|(op, path, value)| {
            let mut o = Map::new();
            o.insert("op".into(), Value::from(op));
            if !path.is_empty() {
                o.insert("path".into(), Value::from(path));
            }
            if let Some(v) = value {
                o.insert("value".into(), v);
            }
            Value::Object(o)
        })
}

const PATHS: &[&str] = &[
    "title",
    "name.givenName",
    "name.familyName",
    "name.formatted",
    "displayName",
    "active",
    "userName",
    "externalId",
    "locale",
    "nickName",
    "emails",
    "emails[type eq \"work\"].value",
    "emails[type eq \"work\"]",
    "phoneNumbers",
    "phoneNumbers[type eq \"mobile\"].value",
    "addresses",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "id",
    "meta.version",
    "members",
    "password",
    "x",
];

fn patch_body() -> impl Strategy<Value = Value> {
    prop::collection::vec(operation(), 1..4).prop_map(|ops| {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Failures become files of `fuzz/regressions/`, replayed below.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn user_bodies_plan_creates_that_replays_recognise(body in user_body()) {
        resource::check(&body);
    }

    #[test]
    fn app_records_read_as_declared_resources_and_echo_unchanged(r in prop_oneof![record(), json_of(HOST_KEYS)]) {
        mapping_eval::check(&r);
    }

    #[test]
    fn patches_plan_writes_whose_replay_is_empty(r in record(), p in patch_body()) {
        write_plan::check(&json!([r, p]));
    }
}

/// Every input a fuzz target found failing, replayed. Each of the six
/// targets says where its findings go: the JSON targets whose properties
/// live in `fuzz/props/` are replayed here from `fuzz/regressions/<target>/`,
/// which must hold at least one JSON input each (a missing or empty
/// folder, or a file the target would not even read, fails); the text
/// targets' findings became unit tests; a target that found nothing has no
/// folder, so a first finding kept there fails this test until the target
/// joins the replayed ones.
#[test]
fn regressions_found_by_fuzzing_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    type Check = fn(&Value);
    let replayed: [(&str, Check); 2] = [
        ("scim_resource", resource::check),
        ("write_plan", write_plan::check),
    ];
    // `filter_parse`: `src/protocol/filter/tests.rs` (`emails[type pr].not
    // pr`); `patch_apply`: `src/protocol/patch/tests/mod.rs`
    // (`read_only_attributes`, `meta.vNersion`).
    let unit_tested = ["filter_parse", "patch_apply"];
    let no_findings = ["mapping_eval", "patch_path"];

    let mut counts = std::collections::BTreeMap::new();
    for (target, check) in replayed {
        let folder = dir.join(target);
        let entries =
            std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
        let mut n = 0;
        for e in entries {
            let path = e.unwrap().path();
            let v: Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| {
                    panic!(
                        "{}: not JSON ({e}), so {target} never reads it",
                        path.display()
                    )
                });
            check(&v);
            n += 1;
        }
        counts.insert(target, n);
    }
    assert!(
        counts.values().all(|n| *n > 0),
        "a target replayed nothing: {counts:?}"
    );
    for e in std::fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        let known =
            replayed.iter().any(|(t, _)| *t == name) || unit_tested.contains(&name.as_str());
        assert!(
            known,
            "fuzz/regressions/{name} is replayed by no test{}",
            if no_findings.contains(&name.as_str()) {
                ": add its target to the replayed ones"
            } else {
                ""
            }
        );
    }
}
