//! Which filesystem events concern the reloader. Every file the config
//! depends on is resolved link by link: each symlink met on the way
//! (`config.toml -> ..data/config.toml`, then `..data ->
//! ..2026_12_05_10_00_00.123`, as a Kubernetes ConfigMap or Secret volume
//! lays them out) and the file finally reached are the paths whose change
//! can change the bytes read. Their directories are watched (a volume
//! update renames `..data`, which no watch on the file itself sees), and an
//! event prompts a look only when it names one of those paths — or a new
//! `*.toml` in a directory source — and can change content: reads (open,
//! access, close after reading) and metadata changes never do, and neither
//! does any other file in the same directory.

use super::check::RELOAD_LOG;
use crate::config::files::toml_files;
use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Most symlinks followed while resolving one path (the Linux limit).
const MAX_LINKS: usize = 40;

/// Whether an event of this kind can mean changed bytes: creations,
/// removals, renames, writes and the close of a file written; not reads
/// nor metadata (permissions, times).
pub fn may_change_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
}

/// The paths that decide what reading `path` gives: each symlink met while
/// resolving it from the root, in order, then the path reached (which may
/// not exist). A link's target is resolved against the link's directory.
pub fn resolve(path: &Path) -> Vec<PathBuf> {
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut cur = PathBuf::from("/");
    let mut chain = Vec::new();
    // Names still to walk, the next one last; `None` is `..`.
    let mut rest: Vec<Option<OsString>> = Vec::new();
    push_parts(&mut rest, &path);
    while let Some(part) = rest.pop() {
        let Some(name) = part else {
            cur.pop();
            continue;
        };
        let next = cur.join(&name);
        match std::fs::read_link(&next) {
            Ok(target) if chain.len() < MAX_LINKS => {
                chain.push(next);
                if target.is_absolute() {
                    cur = PathBuf::from("/");
                }
                push_parts(&mut rest, &target);
            }
            _ => cur = next,
        }
    }
    chain.push(cur);
    chain
}

/// Pushes the names of `path` onto `rest` so that its first is popped next.
fn push_parts(rest: &mut Vec<Option<OsString>>, path: &Path) {
    rest.extend(path.components().rev().filter_map(|c| match c {
        Component::Normal(n) => Some(Some(n.to_owned())),
        Component::ParentDir => Some(None),
        _ => None,
    }));
}

/// Which watched file (as configured) each event path concerns, and the
/// directories to watch for them.
#[derive(Debug, Default)]
pub struct Routes {
    paths: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    /// Directory sources, resolved: a new `*.toml` there concerns them.
    dirs: BTreeMap<PathBuf, PathBuf>,
}

impl Routes {
    /// Routes for `watched`: files, and directories of `*.toml` files.
    pub fn new(watched: &[PathBuf]) -> Self {
        let mut routes = Self::default();
        for item in watched {
            let chain = resolve(item);
            let real = chain.last().cloned().unwrap_or_else(|| item.clone());
            if real.is_dir() {
                let entries = toml_files(&real).unwrap_or_default();
                for entry in entries {
                    routes.add(item, resolve(&entry));
                }
                routes.dirs.insert(real, item.clone());
            }
            routes.add(item, chain);
        }
        routes
    }

    fn add(&mut self, item: &Path, chain: Vec<PathBuf>) {
        for p in chain {
            self.paths.entry(p).or_default().insert(item.to_path_buf());
        }
    }

    /// The watched files an event on `path` concerns.
    pub fn concerned(&self, path: &Path) -> Vec<PathBuf> {
        let mut items: Vec<PathBuf> = self
            .paths
            .get(path)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        let new_toml = path.extension().is_some_and(|x| x == "toml")
            && !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if let (true, Some(item)) = (new_toml, path.parent().and_then(|d| self.dirs.get(d))) {
            items.push(item.clone());
        }
        items.sort();
        items.dedup();
        items
    }

    /// Every watched file.
    pub fn items(&self) -> BTreeSet<PathBuf> {
        self.paths.values().flatten().cloned().collect()
    }

    /// The directories to watch: those of every path on a chain, and the
    /// directory sources themselves.
    pub fn dirs(&self) -> BTreeSet<PathBuf> {
        self.paths
            .keys()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .chain(self.dirs.keys().cloned())
            .collect()
    }
}

/// The watcher and the directories it watches.
pub struct Watches {
    watcher: Option<RecommendedWatcher>,
    dirs: BTreeSet<PathBuf>,
    /// Directories that could not be watched (already warned about).
    failed: BTreeSet<PathBuf>,
}

impl Watches {
    /// Wraps a watcher (none when it could not be created).
    pub fn new(watcher: Option<RecommendedWatcher>) -> Self {
        Self {
            watcher,
            dirs: BTreeSet::new(),
            failed: BTreeSet::new(),
        }
    }

    /// Whether events come at all.
    pub fn active(&self) -> bool {
        self.watcher.is_some()
    }

    /// Watches exactly `wanted`; a directory that cannot be watched (not
    /// there yet, say) is warned about once and tried again next time.
    pub fn set(&mut self, wanted: BTreeSet<PathBuf>) {
        let Some(w) = &mut self.watcher else { return };
        for gone in self.dirs.difference(&wanted) {
            // A removed directory's watch is already gone with it.
            let _ = w.unwatch(gone);
        }
        let mut watched = BTreeSet::new();
        for dir in wanted {
            if self.dirs.contains(&dir) {
                watched.insert(dir);
                continue;
            }
            match w.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.failed.remove(&dir);
                    watched.insert(dir);
                }
                Err(e) => {
                    if self.failed.insert(dir.clone()) {
                        tracing::warn!(target: RELOAD_LOG, dir = %dir.display(), error = %e, "cannot watch directory; its changes are seen by the periodic check");
                    }
                }
            }
        }
        self.dirs = watched;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, RenameMode};
    use std::os::unix::fs::symlink;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("scim-sidecar-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::canonicalize(dir).unwrap()
    }

    #[test]
    fn reads_and_metadata_never_count_as_changes() {
        use notify::event::AccessKind as A;
        assert!(!may_change_content(&EventKind::Access(A::Open(
            AccessMode::Any
        ))));
        assert!(!may_change_content(&EventKind::Access(A::Close(
            AccessMode::Read
        ))));
        assert!(!may_change_content(&EventKind::Access(A::Read)));
        assert!(!may_change_content(&EventKind::Modify(
            ModifyKind::Metadata(MetadataKind::Any)
        )));
        assert!(may_change_content(&EventKind::Access(A::Close(
            AccessMode::Write
        ))));
        assert!(may_change_content(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(may_change_content(&EventKind::Modify(ModifyKind::Name(
            RenameMode::To
        ))));
        assert!(may_change_content(&EventKind::Create(CreateKind::File)));
    }

    #[test]
    fn a_kubernetes_volume_file_resolves_through_data_to_the_timestamped_dir() {
        let d = temp("resolve-k8s");
        std::fs::create_dir(d.join("..2026_12_05_01")).unwrap();
        std::fs::write(d.join("..2026_12_05_01/config.toml"), "x").unwrap();
        symlink("..2026_12_05_01", d.join("..data")).unwrap();
        symlink("..data/config.toml", d.join("config.toml")).unwrap();
        assert_eq!(
            resolve(&d.join("config.toml")),
            [
                d.join("config.toml"),
                d.join("..data"),
                d.join("..2026_12_05_01/config.toml"),
            ]
        );
        // A plain file is its own chain; `..` in a target is resolved.
        std::fs::write(d.join("plain"), "x").unwrap();
        assert_eq!(resolve(&d.join("plain")), [d.join("plain")]);
        symlink("../x/../plain", d.join("..2026_12_05_01/up")).unwrap();
        assert_eq!(
            resolve(&d.join("..data/up")),
            [
                d.join("..data"),
                d.join("..2026_12_05_01/up"),
                d.join("plain")
            ]
        );
        // A loop ends.
        symlink("loop", d.join("loop")).unwrap();
        assert!(resolve(&d.join("loop")).len() <= MAX_LINKS + 1);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn routes_name_the_links_and_new_toml_files_but_no_neighbour() {
        let d = temp("routes");
        std::fs::create_dir(d.join("conns.d")).unwrap();
        std::fs::write(d.join("conns.d/a.toml"), "").unwrap();
        std::fs::create_dir(d.join("..v1")).unwrap();
        std::fs::write(d.join("..v1/config.toml"), "").unwrap();
        symlink("..v1", d.join("..data")).unwrap();
        symlink("..data/config.toml", d.join("config.toml")).unwrap();
        let (config, conns) = (d.join("config.toml"), d.join("conns.d"));
        let routes = Routes::new(&[config.clone(), conns.clone()]);
        for (event, item) in [
            ("config.toml", &config),
            ("..data", &config),
            ("..v1/config.toml", &config),
            ("conns.d/a.toml", &conns),
            ("conns.d/b.toml", &conns),
        ] {
            assert_eq!(
                routes.concerned(&d.join(event)),
                std::slice::from_ref(item),
                "{event}"
            );
        }
        for neighbour in [
            "sidecar.log",
            "..data_tmp",
            "config.toml.swp",
            "conns.d/x.txt",
        ] {
            assert!(
                routes.concerned(&d.join(neighbour)).is_empty(),
                "{neighbour}"
            );
        }
        assert_eq!(
            routes.dirs(),
            [d.clone(), d.join("..v1"), d.join("conns.d")].into()
        );
        let _ = std::fs::remove_dir_all(&d);
    }
}
