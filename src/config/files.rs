//! The filesystem side of loading: reading the files a config refers to
//! (one file, or every `*.toml` of a directory in name order) and the
//! fingerprint of everything a load read — the config file and each file
//! or directory looked up, in order, with what was found there or why
//! nothing was. Reading the same paths again and hashing them the same way
//! tells a reload whether any byte changed without parsing anything.
//! Validation never touches the filesystem itself.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// What one lookup found: the texts read (a name for messages and the
/// bytes), or why nothing could be read.
pub type Found = Result<Vec<(String, Vec<u8>)>, String>;

/// Reads `path`: a file, or the `*.toml` files of a directory.
pub fn read(path: &Path) -> Found {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    if !meta.is_dir() {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        return Ok(vec![(shown, bytes)]);
    }
    toml_files(path)
        .map_err(|e| format!("cannot list {shown}: {e}"))?
        .into_iter()
        .map(|p| {
            let shown = p.display().to_string();
            std::fs::read(&p)
                .map(|b| (shown.clone(), b))
                .map_err(|e| format!("cannot read {shown}: {e}"))
        })
        .collect()
}

/// The `*.toml` files of a directory, in name order. Hidden names are
/// skipped: Kubernetes volume internals (`..data`, `..2024_…`) live there.
pub fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "toml")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    names.sort();
    Ok(names)
}

/// One file read whole (the config file, a certificate) as a lookup,
/// from what reading it gave.
pub fn whole_file(path: &Path, read: &std::io::Result<Vec<u8>>) -> (PathBuf, Found) {
    let found = match read {
        Ok(bytes) => Ok(vec![(path.display().to_string(), bytes.clone())]),
        Err(e) => Err(e.to_string()),
    };
    (path.to_path_buf(), found)
}

/// SHA-256 over every lookup of a load, in order: the path, then each
/// text found (name and bytes) or the reason nothing was. Every field is
/// length-prefixed, so no two different reads hash alike.
pub fn fingerprint(reads: &[(PathBuf, Found)]) -> [u8; 32] {
    let mut h = Sha256::new();
    for (path, found) in reads {
        field(&mut h, path.as_os_str().as_encoded_bytes());
        match found {
            Ok(texts) => {
                h.update([1]);
                h.update((texts.len() as u64).to_le_bytes());
                for (name, bytes) in texts {
                    field(&mut h, name.as_bytes());
                    field(&mut h, bytes);
                }
            }
            Err(why) => {
                h.update([0]);
                field(&mut h, why.as_bytes());
            }
        }
    }
    h.finalize().into()
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

/// The fingerprint a load of `config` that looked up `sources` (in that
/// order) would have now: the same as that load's while no byte it read
/// changed, and different as soon as one did.
pub fn fingerprint_now(config: &Path, sources: &[PathBuf]) -> [u8; 32] {
    let reads: Vec<_> = std::iter::once(whole_file(config, &std::fs::read(config)))
        .chain(sources.iter().map(|s| (s.clone(), read(s))))
        .collect();
    fingerprint(&reads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(path: &str, name: &str, bytes: &[u8]) -> [u8; 32] {
        fingerprint(&[(path.into(), Ok(vec![(name.into(), bytes.to_vec())]))])
    }

    #[test]
    fn fingerprint_sees_every_byte_name_path_and_failure() {
        let a = one("p", "a", b"1");
        assert_eq!(a, one("p", "a", b"1"));
        assert_ne!(a, one("p", "a", b"2"));
        assert_ne!(a, one("p", "b", b"1"));
        assert_ne!(a, one("q", "a", b"1"));
        assert_ne!(one("p", "ab", b""), one("p", "a", b"b"));
        let missing = fingerprint(&[("p".into(), Err("cannot read p".into()))]);
        assert_ne!(missing, fingerprint(&[("p".into(), Ok(Vec::new()))]));
    }

    #[test]
    fn reading_again_gives_the_same_fingerprint_until_a_byte_changes() {
        let dir = std::env::temp_dir().join(format!("scim-sidecar-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("conns.d")).unwrap();
        let config = dir.join("config.toml");
        std::fs::write(&config, "x").unwrap();
        std::fs::write(dir.join("conns.d/a.toml"), "a").unwrap();
        let sources = [dir.join("conns.d"), dir.join("token")];
        let before = fingerprint_now(&config, &sources);
        assert_eq!(before, fingerprint_now(&config, &sources));
        // A new file in a directory source, a missing file appearing.
        std::fs::write(dir.join("conns.d/b.toml"), "b").unwrap();
        let added = fingerprint_now(&config, &sources);
        assert_ne!(before, added);
        std::fs::write(dir.join("token"), "t").unwrap();
        assert_ne!(added, fingerprint_now(&config, &sources));
        // Files that are not `*.toml` in a directory source are not read.
        let now = fingerprint_now(&config, &sources);
        std::fs::write(dir.join("conns.d/notes.txt"), "n").unwrap();
        assert_eq!(now, fingerprint_now(&config, &sources));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
