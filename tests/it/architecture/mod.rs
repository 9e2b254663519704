//! The module map of docs/architecture.md held against `src/`: every
//! top-level module is in the map and every entry is a module; no module
//! imports one the map lists above it; no modules of one folder (the
//! crate root's included) import each other round a circle. The imports
//! come from the source text ([`scan`]: `use` trees, `pub use`, paths in
//! code, `super::` resolved; comments and literals skipped), the order
//! from the map itself ([`check::parse_map`]).

mod check;
mod scan;

use check::{MapEntry, Tree, map_problems, parse_map, upward_imports};
use std::path::Path;
use std::sync::OnceLock;

/// `src/` and the map, read once for the tests below.
fn real() -> &'static (Tree, Vec<MapEntry>) {
    static REAL: OnceLock<(Tree, Vec<MapEntry>)> = OnceLock::new();
    REAL.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        read_rs(&root.join("src"), "", &mut files);
        let doc = std::fs::read_to_string(root.join("docs/architecture.md"))
            .expect("docs/architecture.md is readable");
        let map = parse_map(&doc).unwrap_or_else(|e| panic!("module map: {e}"));
        (Tree::new(files), map)
    })
}

/// Every `.rs` file below `dir`, as (path relative to `src/`, source).
fn read_rs(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 names");
        let rel = format!("{prefix}{name}");
        if path.is_dir() {
            read_rs(&path, &format!("{rel}/"), out);
        } else if name.ends_with(".rs") {
            let src = std::fs::read_to_string(&path).expect("source is readable");
            out.push((rel, src));
        }
    }
}

fn assert_none(what: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "{what}:\n{}", problems.join("\n"));
}

#[test]
fn the_module_map_lists_every_module_of_src() {
    let (tree, map) = real();
    assert_none("module map vs src/", map_problems(tree, map));
}

#[test]
fn no_module_imports_one_listed_above_it() {
    let (tree, map) = real();
    assert_none(
        "imports pointing up the module map",
        upward_imports(tree, map),
    );
}

#[test]
fn no_modules_of_one_folder_import_each_other_round_a_circle() {
    let (tree, _) = real();
    assert_none("circles between modules", tree.circles());
}
