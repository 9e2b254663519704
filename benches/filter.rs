//! Filter parse and evaluate costs for the filters Okta and Entra send
//! (RFC 7644 §3.4.2.2). Run with `cargo bench --bench filter`; results are
//! recorded in docs/benchmarks.md.

use divan::{Bencher, black_box};
use scim_sidecar::protocol::filter::{matches, parse};
use scim_sidecar::schema::ResourceSchema;
use serde_json::json;

fn main() {
    divan::main();
}

const FILTERS: &[(&str, &str)] = &[
    ("okta_username_eq", r#"userName eq "test.user@okta.local""#),
    (
        "entra_externalid_eq",
        r#"externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef""#,
    ),
    ("okta_group_displayname", r#"displayName eq "Test SCIMv2""#),
    ("entra_and", r#"id eq "1001" and manager eq "1002""#),
    (
        "complex",
        r#"userType eq "Employee" and (emails[type eq "work" and value co "@example.com"] or not (title pr)) and meta.lastModified gt "2011-05-13T04:42:34Z""#,
    ),
];

#[divan::bench(args = FILTERS)]
fn parse_filter(b: Bencher<'_, '_>, case: &(&str, &str)) {
    b.bench(|| parse(black_box(case.1)));
}

#[divan::bench(args = FILTERS)]
fn parse_and_evaluate(b: Bencher<'_, '_>, case: &(&str, &str)) {
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1001", "userName": "Test.User@okta.local", "externalId": "00ujl29u0le5T6Aj10h7",
        "displayName": "Test SCIMv2", "userType": "Employee", "title": "Engineer",
        "emails": [{"type": "work", "value": "test.user@example.com", "primary": true}],
        "meta": {"lastModified": "2024-01-01T00:00:00Z"}
    });
    let schema = ResourceSchema::rfc7643_user();
    b.bench(|| {
        let f = parse(black_box(case.1)).expect("valid filter");
        matches(&f, black_box(&user), &schema)
    });
}
