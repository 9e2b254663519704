//! The integration tests, linked as one binary (one link instead of one
//! per test file is most of what a fresh `cargo test` saves), in modules
//! grouped by area; the in-test apps and the lifecycle table of (app,
//! IdP) cases have theirs. Every test starts the real server in-process
//! on 127.0.0.1 port 0 ([`support`]) or runs the real binary.
//!
//! The tests run in parallel threads of this one process, so none relies
//! on process-wide state: logs are captured per thread
//! ([`support::LogBuf::capture`] sets a thread's default dispatcher, never
//! the global one), no test changes environment variables or the current
//! directory of this process (child processes get their own), TLS configs
//! name their crypto provider instead of installing a default one, and
//! temporary directories are unique per test. `tests/streaming.rs`
//! measures its process's peak memory, so it stays a binary of its own.

mod support;

mod app_calls;
mod apps;
mod binary;
mod draft;
mod front_door;
mod fuzz_props;
mod idp;
mod lifecycle;
mod serving;
mod telemetry;
