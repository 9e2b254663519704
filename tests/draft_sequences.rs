//! The config `scim-sidecar draft` writes from the bundled app's own
//! OpenAPI document (`examples/demo_app/openapi.json`, served at
//! `/openapi.json`), unedited, runs Okta's and Entra's whole user
//! sequences: the tests of `config/example.toml` in `tests/okta_users.rs`
//! and `tests/entra_users.rs`, included here, where their support module
//! serves the draft instead (`support::drafted_example`).

// Each included file brings its own copy of the support module: that copy
// is the one that serves the draft.
#![allow(clippy::duplicate_mod)]

mod support;

#[path = "entra_users.rs"]
mod entra_users;
#[path = "okta_users.rs"]
mod okta_users;

#[test]
fn the_included_sequences_run_against_the_unedited_draft() {
    assert!(support::drafted_example());
    let text = support::example_text();
    assert!(
        text.starts_with("# Drafted by `scim-sidecar draft`"),
        "{text}"
    );
    assert!(
        !text.contains("TODO:"),
        "the bundled app's draft leaves nothing open:\n{text}"
    );
}
