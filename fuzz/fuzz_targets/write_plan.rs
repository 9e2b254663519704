//! Fuzzes a PATCH planned on an app record: the input is `[record, PatchOp]`.
//! The bytes must be JSON; the properties are those of
//! `fuzz/props/write_plan.rs`, which `tests/it/fuzz_props.rs` also runs as a
//! bounded proptest in `cargo test`.
#![no_main]

#[path = "../props/common.rs"]
mod common;
#[path = "../props/write_plan.rs"]
mod props;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        props::check(&v);
    }
});
