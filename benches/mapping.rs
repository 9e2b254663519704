//! The compiled mapping on the request path: host JSON → SCIM resource,
//! SCIM resource → host body, and a typical PATCH (parse, apply, diff to the
//! host's partial body), for the 16-attribute user of `config/example.toml`.
//! Run with `cargo bench --bench mapping`; results in docs/benchmarks.md.

use divan::{Bencher, black_box};
use scim_sidecar::Config;
use scim_sidecar::mapping::ResourceMapping;
use scim_sidecar::protocol::patch::{Dialect, PatchOptions, apply, parse};
use serde_json::{Value, json};
use std::sync::Arc;

fn main() {
    divan::main();
}

fn mapping() -> Arc<ResourceMapping> {
    let text = include_str!("../config/example.toml");
    let env = |_: &str| Some("bench-key".to_string());
    let config = Config::from_toml(text, &env).expect("config/example.toml is valid");
    config.users.expect("users are mapped")
}

fn host_user() -> Value {
    json!({"id": "1001", "login": "ada.lovelace@example.com", "external_id": "00u1abc",
        "profile": {"first": "Ada", "last": "Lovelace", "display": "Ada Lovelace", "title": "Engineer"},
        "contact": {"email": "ada@example.com", "phones": [{"kind": "mobile", "number": "+1 555 0100"}, {"kind": "work", "number": "+1 555 0101"}]},
        "state": "ACTIVE", "dept": "R&D", "locale": "en-US",
        "created_at": 1764000000, "updated_at": 1764000100, "version": 3})
}

#[divan::bench]
fn host_to_scim(b: Bencher<'_, '_>) {
    let m = mapping();
    let host = host_user();
    b.bench(|| m.to_scim(black_box(&host)).expect("maps"));
}

#[divan::bench]
fn scim_to_host(b: Bencher<'_, '_>) {
    let m = mapping();
    let scim = m.to_scim(&host_user()).expect("maps");
    b.bench(|| m.to_host(black_box(&scim)).expect("maps"));
}

#[divan::bench]
fn typical_patch(b: Bencher<'_, '_>) {
    let m = mapping();
    let before = m.to_scim(&host_user()).expect("maps");
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "name.familyName", "value": "Byron"},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada@byron.example"},
        {"op": "Replace", "path": "active", "value": "False"}]});
    let opts = PatchOptions {
        dialect: Dialect::Entra,
        ..PatchOptions::default()
    };
    b.bench(|| {
        let ops = parse(black_box(&body), &opts).expect("parses");
        let mut after = before.clone();
        apply(&mut after, &ops, &opts).expect("applies");
        m.changes_to_host(&before, &after).expect("diffs")
    });
}
