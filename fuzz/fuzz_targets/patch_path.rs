//! Fuzzes the PATCH `path` parser (RFC 7644 §3.5.2).
//!
//! Properties checked for every UTF-8 input:
//! 1. `parse_path` never panics.
//! 2. Round trip: the `Display` form of a parsed path re-parses to an equal
//!    `PatchPath`, and printing that again gives the same text.
//! 3. The lowercased lookup keys (`AttrPath::key`, `top_key`) of the original
//!    and the re-parsed path agree, and `top_key` is a prefix of `key`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_sidecar::protocol::filter::{FilterLimits, parse_path, parser::parse_patch_path};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = parse_path(input) else {
        return;
    };
    let printed = path.to_string();
    // Relaxed length/depth: canonical printing may lengthen the text
    // (`1E5` → `100000.0`); the structure itself must not change.
    let relaxed = FilterLimits {
        max_len: usize::MAX,
        max_depth: FilterLimits::default().max_depth * 2 + 2,
        ..FilterLimits::default()
    };
    let reparsed = match parse_patch_path(&printed, &relaxed) {
        Ok(p) => p,
        Err(e) => panic!(
            "canonical path does not re-parse\n input:   {input:?}\n printed: {printed:?}\n error:   {e}\n parsed:  {path:?}"
        ),
    };
    assert_eq!(
        path, reparsed,
        "round trip changed the path\n input:   {input:?}\n printed: {printed:?}"
    );
    assert_eq!(printed, reparsed.to_string(), "printing is not a fixpoint for {input:?}");
    assert_eq!(path.attr.key(), reparsed.attr.key());
    let (key, top) = (path.attr.key(), path.attr.top_key());
    assert!(
        key.starts_with(&top),
        "top_key {top:?} is not a prefix of key {key:?} for {input:?}"
    );
});
