//! The config `scim-sidecar draft` writes from the bundled app's own
//! OpenAPI document (`examples/demo_app/openapi.json`, served at
//! `/openapi.json`) is a row of the lifecycle table: unedited, it runs
//! Okta's and Entra's whole user sequences with the app's store checked
//! after every step (`lifecycle::drafted_example_okta`,
//! `lifecycle::drafted_example_entra`). Here: that what those rows serve
//! is the draft as written, with nothing left open.

use crate::support::drafted_example;

#[test]
fn the_bundled_apps_draft_leaves_nothing_open() {
    let text = drafted_example();
    assert!(
        text.starts_with("# Drafted by `scim-sidecar draft`"),
        "{text}"
    );
    assert!(
        !text.contains("TODO:"),
        "the bundled app's draft leaves nothing open:\n{text}"
    );
}
