//! Build script: the git commit that `scim-sidecar --version` prints, as
//! the `SCIM_SIDECAR_GIT_COMMIT` compile-time variable. Taken from the
//! environment variable of that name when set (builds without `.git`,
//! such as the Docker build, pass it as a build argument), otherwise from
//! `git rev-parse --short HEAD`, otherwise `unknown`. The script reruns
//! only when that variable, `.git/HEAD` or the ref it points to change.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

const VAR: &str = "SCIM_SIDECAR_GIT_COMMIT";

fn main() {
    println!("cargo:rerun-if-env-changed={VAR}");
    let commit = match std::env::var(VAR) {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            watch_head();
            git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into())
        }
    };
    println!("cargo:rustc-env={VAR}={commit}");
}

/// One line of `git` output, run in the package's directory.
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.trim();
    (out.status.success() && !line.is_empty()).then(|| line.to_string())
}

/// Reruns the script when HEAD moves: `HEAD` itself (a checkout) and the
/// branch it names, loose or packed (a commit). Only files that exist are
/// named: cargo reruns every time for one that does not.
fn watch_head() {
    let (Some(git_dir), Some(common)) = (
        git(&["rev-parse", "--absolute-git-dir"]),
        git(&["rev-parse", "--git-common-dir"]),
    ) else {
        return;
    };
    let git_dir = PathBuf::from(git_dir);
    let common = absolute(&git_dir, &common);
    let mut files = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        files.push(git_dir.join(&branch));
        files.push(common.join(&branch));
    }
    for f in files.iter().filter(|f| f.is_file()) {
        println!("cargo:rerun-if-changed={}", f.display());
    }
}

/// `--git-common-dir` may be relative to the directory git ran in; the
/// package's directory is where `git` ran.
fn absolute(git_dir: &Path, common: &str) -> PathBuf {
    let p = PathBuf::from(common);
    if p.is_absolute() {
        return p;
    }
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir).join(p),
        None => git_dir.join(p),
    }
}
