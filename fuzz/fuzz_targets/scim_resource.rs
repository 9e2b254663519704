//! Fuzzes SCIM User create and replace bodies (raw bytes, as the IdP sends them).
//! The bytes must be JSON; the properties are those of
//! `fuzz/props/resource.rs`, which `tests/it/fuzz_props.rs` also runs as a
//! bounded proptest in `cargo test`.
#![no_main]

#[path = "../props/common.rs"]
mod common;
#[path = "../props/resource.rs"]
mod props;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        props::check(&v);
    }
});
