//! The filesystem side of loading: reading the files a config refers to
//! (one file, or every `*.toml` of a directory in name order) and the
//! fingerprint of everything read, which lets a reload skip unchanged
//! sources. Validation never touches the filesystem itself.

use sha2::{Digest, Sha256};
use std::path::Path;

/// Reads `path`: a file, or the `*.toml` files of a directory.
pub fn read(path: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_dir() {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        return Ok(vec![(shown, bytes)]);
    }
    let mut names: Vec<_> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot list {shown}: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        // Kubernetes volume internals (`..data`, `..2024_…`) are hidden.
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let shown = p.display().to_string();
            std::fs::read(&p)
                .map(|b| (shown.clone(), b))
                .map_err(|e| format!("cannot read {shown}: {e}"))
        })
        .collect()
}

/// SHA-256 over the config text and every file read, names included.
pub fn fingerprint(text: &str, read: &[(String, Vec<u8>)]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    for (name, bytes) in read {
        h.update([0u8]);
        h.update(name.as_bytes());
        h.update([0u8]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_sees_every_byte_and_name() {
        let a = fingerprint("x", &[("a".into(), b"1".to_vec())]);
        assert_eq!(a, fingerprint("x", &[("a".into(), b"1".to_vec())]));
        assert_ne!(a, fingerprint("x", &[("a".into(), b"2".to_vec())]));
        assert_ne!(a, fingerprint("x", &[("b".into(), b"1".to_vec())]));
        assert_ne!(a, fingerprint("y", &[("a".into(), b"1".to_vec())]));
    }
}
