//! `scim-sidecar token`: prints a new random bearer token and the
//! `sha256:` form of it for the config (the sidecar stores only that).

use crate::auth::generate;
use std::process::ExitCode;

/// Prints a token and its hash.
pub fn main() -> ExitCode {
    match generate() {
        Ok(t) => {
            println!("token:  {}", t.token);
            println!("config: {}", t.hash);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the OS random number generator failed: {e}");
            ExitCode::from(1)
        }
    }
}
