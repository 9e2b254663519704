//! `scim-sidecar draft`: through the binary ([`cli`]), with `--probe`
//! against an app whose records differ from its document ([`probe`]), on
//! a corpus of published OpenAPI documents scored against answer keys
//! ([`corpus`]), and the bundled app's unedited draft, which the lifecycle
//! table drives through Okta's and Entra's sequences ([`sequences`]).
//! [`real_apps`] is opt-in (ignored by default): the scripts in
//! `tests/real_apps/` start a live app and run it with
//! `cargo test --test it draft::real_apps -- --ignored`.

mod cli;
mod corpus;
mod probe;
mod real_apps;
mod sequences;
mod shapes;
