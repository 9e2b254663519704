//! Fuzzes the SCIM filter parser (RFC 7644 §3.4.2.2) and evaluator.
//!
//! Properties checked for every UTF-8 input:
//! 1. `parse_with` under the default limits never panics.
//! 2. Round trip: the canonical `Display` form of a parsed filter re-parses to
//!    an equal AST, and printing that AST again gives the same text (the
//!    printer is a fixpoint). The re-parse uses relaxed length/depth limits,
//!    because canonical printing may legitimately lengthen the text
//!    (`1E5` → `100000.0`, `not(` → `not (`) or add one pair of parentheses
//!    inside a value path (`emails[a pr or b pr].value pr`); the number of
//!    terms never changes, so `max_terms` stays at its default.
//! 3. `matches` against a fixed SCIM user never panics, is deterministic, and
//!    is consistent with the boolean connectives: `not (f)` is `!f`,
//!    `f and f` / `f or f` are `f`.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scim_sidecar::protocol::filter::{Filter, FilterLimits, matches, parse_with};
use scim_sidecar::schema::ResourceSchema;
use serde_json::Value;

static SCHEMA: LazyLock<ResourceSchema> = LazyLock::new(ResourceSchema::rfc7643_user);

static USER: LazyLock<Value> = LazyLock::new(|| {
    serde_json::json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "Test.User@okta.local",
        "name": {"givenName": "Test", "familyName": "User", "formatted": "Test User"},
        "displayName": "Test User",
        "active": true,
        "emails": [
            {"value": "test.user@okta.local", "type": "work", "primary": true},
            {"value": "tu@home.example", "type": "home"}
        ],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
        "groups": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Engineering",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2011-05-13T04:42:34.5+02:00",
            "version": "W/\"a330bc54f0671c9\""
        },
        "x-count": 42,
        "x-ratio": -0.5
    })
});

/// Limits for re-parsing the canonical form (see the module comment).
fn relaxed() -> FilterLimits {
    let d = FilterLimits::default();
    FilterLimits {
        max_len: usize::MAX,
        max_depth: d.max_depth * 2 + 2,
        max_terms: d.max_terms,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = parse_with(input, &FilterLimits::default()) else {
        return;
    };

    // Round trip through the canonical printer.
    let printed = filter.to_string();
    let reparsed = match parse_with(&printed, &relaxed()) {
        Ok(f) => f,
        Err(e) => panic!(
            "canonical form does not re-parse\n input:   {input:?}\n printed: {printed:?}\n error:   {e}\n ast:     {filter:?}"
        ),
    };
    assert_eq!(
        filter, reparsed,
        "round trip changed the AST\n input:   {input:?}\n printed: {printed:?}"
    );
    assert_eq!(
        printed,
        reparsed.to_string(),
        "canonical printing is not a fixpoint for {input:?}"
    );

    // Evaluation against a fixed user.
    let schema = &*SCHEMA;
    let user = &*USER;
    let m = matches(&filter, user, schema);
    assert_eq!(m, matches(&filter, user, schema), "matches is not deterministic");
    assert_eq!(m, matches(&reparsed, user, &schema));
    let not = Filter::Not(Box::new(filter.clone()));
    assert_eq!(!m, matches(&not, user, &schema), "not (f) != !f for {input:?}");
    let and = Filter::And(Box::new(filter.clone()), Box::new(filter.clone()));
    assert_eq!(m, matches(&and, user, &schema), "f and f != f for {input:?}");
    let or = Filter::Or(Box::new(filter.clone()), Box::new(filter));
    assert_eq!(m, matches(&or, user, &schema), "f or f != f for {input:?}");
});
