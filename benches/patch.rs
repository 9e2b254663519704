//! PATCH parse + apply costs for the request shapes Okta and Entra send
//! (RFC 7644 §3.5.2). Run with `cargo bench --bench patch`.

use divan::{Bencher, black_box};
use scim_sidecar::protocol::patch::{Dialect, PatchOptions, apply, parse};
use serde_json::{Value, json};

fn main() {
    divan::main();
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "1001", "userName": "ada@example.com", "active": true,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"type": "work", "value": "ada@example.com", "primary": true}],
        "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
    })
}

fn bodies() -> Vec<(&'static str, Value)> {
    vec![
        (
            "okta_deactivate",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}]}),
        ),
        (
            "entra_update",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada@new.example"},
                {"op": "Replace", "path": "name.familyName", "value": "Byron"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Math"},
                {"op": "Replace", "path": "active", "value": "False"}]}),
        ),
    ]
}

#[divan::bench(args = ["okta_deactivate", "entra_update"])]
fn parse_and_apply(b: Bencher<'_, '_>, name: &str) {
    let body = bodies()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| b)
        .expect("case");
    let opts = PatchOptions {
        dialect: Dialect::Entra,
        ..PatchOptions::default()
    };
    let base = user();
    b.with_inputs(|| base.clone())
        .bench_local_values(|mut resource| {
            let ops = parse(black_box(&body), &opts).expect("valid patch");
            apply(&mut resource, &ops, &opts).expect("applies");
            resource
        });
}
