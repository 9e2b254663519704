//! The `scim-sidecar` binary itself (`CARGO_BIN_EXE_scim-sidecar`): its
//! subcommands, `run` under real signals and a blocked log pipe, and the
//! shipping files (Dockerfile, Kubernetes manifests) it runs in.

mod cli;
mod deploy;
mod explain;
mod log_pipe;
pub(crate) mod process;
