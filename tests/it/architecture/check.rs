//! The crate's module graph from its source text, and the rules
//! docs/architecture.md states about it: every top-level module of `src/`
//! is in the module map, every map entry is a module, no import points up
//! the map, and no two modules of one folder import each other, directly
//! or round a circle.
//!
//! An import is any path naming a module of the crate: a `use` leaf
//! (`pub use` included), a path in code (`crate::x::f()`, `super::y::T`,
//! `child::g()`); `super::`, `self::` and child-relative paths are
//! resolved against the importing module. A path through a re-export
//! (`crate::Config`, a folder's `pub use`) counts as an import of the
//! module that defines the item.

use super::scan::{FileScan, scan};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

type ModPath = Vec<String>;

/// The binary's root, as a module path of its own: it names the library
/// as `scim_sidecar::`.
const BIN: &str = "main.rs";

#[derive(Default)]
struct Module {
    children: BTreeSet<String>,
    /// Names bound by `use`: name → absolute path.
    uses: BTreeMap<String, ModPath>,
    globs: Vec<ModPath>,
    items: BTreeSet<String>,
    /// The file holding the module, relative to `src/`; empty for an
    /// inline module (`mod tests { .. }`), which folds into its file's.
    file: String,
}

/// One import: a file's module naming another module of the crate.
#[derive(Debug, Clone)]
pub struct Edge {
    /// The file, relative to `src/`.
    pub file: String,
    pub line: usize,
    /// The importing file's module.
    pub from: ModPath,
    /// The module the path lands in, after re-exports.
    pub to: ModPath,
}

pub struct Tree {
    modules: BTreeMap<ModPath, Module>,
    /// Files (relative to `src/`) with what they say.
    files: Vec<(String, FileScan)>,
    /// Top-level modules that are folders.
    folders: BTreeSet<String>,
    /// Modules with files of their own below them (`a/` for `a/b.rs`).
    with_files_below: BTreeSet<ModPath>,
}

/// The module path of a file relative to `src/`: `lib.rs` is the crate
/// root, `a/mod.rs` and `a.rs` are `a`, `main.rs` is [`BIN`].
pub fn module_of(rel: &str) -> ModPath {
    if rel == "lib.rs" {
        return vec![];
    }
    if rel == BIN {
        return vec![BIN.to_string()];
    }
    let stem = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut segs: ModPath = stem.split('/').map(str::to_string).collect();
    if segs.last().is_some_and(|s| s == "mod") {
        segs.pop();
    }
    segs
}

impl Tree {
    /// `files`: (path relative to `src/`, source) for every `.rs` file.
    pub fn new(files: Vec<(String, String)>) -> Tree {
        let mut tree = Tree {
            modules: BTreeMap::new(),
            files: Vec::new(),
            folders: BTreeSet::new(),
            with_files_below: BTreeSet::new(),
        };
        for (rel, src) in files {
            if let Some((top, _)) = rel.split_once('/') {
                tree.folders.insert(top.to_string());
            }
            let scan = scan(&src);
            let module = module_of(&rel);
            for k in 1..module.len() {
                tree.with_files_below.insert(module[..k].to_vec());
            }
            for k in 0..=module.len() {
                tree.modules.entry(module[..k].to_vec()).or_default();
                if k > 0 && module[0] != BIN {
                    let parent = tree.modules.get_mut(&module[..k - 1]).expect("inserted");
                    parent.children.insert(module[k - 1].clone());
                }
            }
            for (scope, name) in &scan.children {
                let m = tree.module_mut(&module, scope);
                m.children.insert(name.clone());
                let mut inner = module.clone();
                inner.extend(scope.iter().cloned());
                inner.push(name.clone());
                tree.modules.entry(inner).or_default();
            }
            for (scope, name) in &scan.items {
                tree.module_mut(&module, scope).items.insert(name.clone());
            }
            tree.module_mut(&module, &[]).file = rel.clone();
            tree.files.push((rel, scan));
        }
        tree.bind_uses();
        tree
    }

    fn module_mut(&mut self, module: &[String], scope: &[String]) -> &mut Module {
        let mut path = module.to_vec();
        path.extend(scope.iter().cloned());
        self.modules.entry(path).or_default()
    }

    /// Records what each module's `use` leaves bind, as absolute paths.
    fn bind_uses(&mut self) {
        let mut binds = Vec::new();
        for (rel, scan) in &self.files {
            let module = module_of(rel);
            for u in &scan.uses {
                let mut at = module.clone();
                at.extend(u.scope.iter().cloned());
                if let Some(abs) = self.absolute(&u.segs, &at) {
                    binds.push((at, u.name.clone(), abs));
                }
            }
        }
        for (at, name, abs) in binds {
            let m = self.modules.entry(at).or_default();
            match name {
                Some(name) => {
                    m.uses.insert(name, abs);
                }
                None => m.globs.push(abs),
            }
        }
    }

    /// A path as written in module `at`, made absolute; `None` when it
    /// names no module of the library (std, another crate, a local).
    fn absolute(&self, segs: &[String], at: &[String]) -> Option<ModPath> {
        let first = segs.first()?;
        let in_bin = at.first().is_some_and(|s| s == BIN);
        let mut base: ModPath = match first.as_str() {
            "scim_sidecar" if in_bin => vec![],
            "crate" if !in_bin => vec![],
            "self" => at.to_vec(),
            "super" => {
                let ups = segs.iter().take_while(|s| *s == "super").count();
                let mut base = at.to_vec();
                for _ in 0..ups {
                    base.pop()?;
                }
                base.extend(segs[ups..].iter().cloned());
                return Some(base);
            }
            _ if !in_bin
                && self
                    .modules
                    .get(at)
                    .is_some_and(|m| m.children.contains(first)) =>
            {
                let mut base = at.to_vec();
                base.push(first.clone());
                base.extend(segs[1..].iter().cloned());
                return Some(base);
            }
            _ => return None,
        };
        base.extend(segs[1..].iter().cloned());
        Some(base)
    }

    /// The module an absolute path lands in: the deepest module it walks
    /// through, following `use` bindings (re-exports) on the way.
    fn resolve(&self, segs: &[String], hops: u8) -> ModPath {
        let mut cur: ModPath = vec![];
        for (k, s) in segs.iter().enumerate() {
            let Some(m) = self.modules.get(&cur) else {
                return cur;
            };
            let rest = &segs[k + 1..];
            if m.children.contains(s) {
                cur.push(s.clone());
                continue;
            }
            if hops < 8 {
                if let Some(target) = m.uses.get(s) {
                    return self.resolve(&[target, rest].concat(), hops + 1);
                }
                if !m.items.contains(s) {
                    for glob in &m.globs {
                        let g = self.resolve(glob, hops + 1);
                        let gm = &self.modules[&g];
                        if gm.children.contains(s)
                            || gm.uses.contains_key(s)
                            || gm.items.contains(s)
                        {
                            let mut path = g.clone();
                            path.push(s.clone());
                            path.extend(rest.iter().cloned());
                            return self.resolve(&path, hops + 1);
                        }
                    }
                }
            }
            return cur;
        }
        cur
    }

    /// The file module holding `m` (inline modules fold into their file).
    fn file_module(&self, m: &[String]) -> ModPath {
        let mut m = m.to_vec();
        while !m.is_empty() && self.modules.get(&m).is_none_or(|x| x.file.is_empty()) {
            m.pop();
        }
        m
    }

    /// Every import of one module of the crate by another file's module.
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = Vec::new();
        for (rel, scan) in &self.files {
            let from = module_of(rel);
            let uses = scan.uses.iter().map(|u| (&u.scope, &u.segs, u.line));
            let paths = scan.paths.iter().map(|p| (&p.scope, &p.segs, p.line));
            for (scope, segs, line) in uses.chain(paths) {
                let mut at = from.clone();
                at.extend(scope.iter().cloned());
                let Some(abs) = self.absolute(segs, &at) else {
                    continue;
                };
                let to = self.file_module(&self.resolve(&abs, 0));
                if to != from {
                    out.push(Edge {
                        file: rel.clone(),
                        line,
                        from: from.clone(),
                        to,
                    });
                }
            }
        }
        out
    }

    /// The module map's name for a top-level module: `x/` for a folder,
    /// `x.rs` for a file, `lib.rs` for the crate root.
    pub fn top_label(&self, m: &[String]) -> String {
        match m.first() {
            None => "lib.rs".to_string(),
            Some(s) if s == BIN => BIN.to_string(),
            Some(s) if self.folders.contains(s) => format!("{s}/"),
            Some(s) => format!("{s}.rs"),
        }
    }

    /// Every top-level module in `src/`, as the map names them.
    pub fn top_modules(&self) -> BTreeSet<String> {
        self.files
            .iter()
            .map(|(rel, _)| self.top_label(&module_of(rel)))
            .collect()
    }

    /// Whether `src/<rel>` is a file or a folder of the tree.
    pub fn has_path(&self, rel: &str) -> bool {
        let dir = rel.strip_suffix('/');
        self.files.iter().any(|(f, _)| match dir {
            Some(d) => f.starts_with(d) && f[d.len()..].starts_with('/'),
            None => f == rel,
        })
    }

    /// How a module appears inside its parent's folder: `x/` when it has
    /// files of its own below it, `x.rs` otherwise.
    pub fn node_label(&self, parent: &[String], child: &str) -> String {
        let mut path = parent.to_vec();
        path.push(child.to_string());
        if parent.is_empty() {
            return self.top_label(&path);
        }
        if self.with_files_below.contains(&path) {
            format!("{child}/")
        } else {
            format!("{child}.rs")
        }
    }

    /// The folder (module with child modules) each edge joins, and the
    /// two of its children it joins. The folder's own file (`mod.rs`,
    /// `lib.rs`, `locks.rs` for `locks/`) is no node: it holds what its
    /// children share and the folder's public face, so its children may
    /// use its items while it calls them; an import through its re-export
    /// reaches the child that defines the item.
    fn folder_edges(&self) -> BTreeMap<ModPath, Vec<(String, String, Edge)>> {
        let mut out: BTreeMap<ModPath, Vec<(String, String, Edge)>> = BTreeMap::new();
        for e in self.edges() {
            let common = e.from.iter().zip(&e.to).take_while(|(a, b)| a == b).count();
            let folder = e.from[..common].to_vec();
            let (Some(a), Some(b)) = (e.from.get(common), e.to.get(common)) else {
                continue;
            };
            let from = self.node_label(&folder, a);
            let to = self.node_label(&folder, b);
            out.entry(folder).or_default().push((from, to, e));
        }
        out
    }

    /// Every circle between modules of one folder (the crate root is the
    /// folder of the top-level modules), one per knot, each as the folder
    /// (`src/mapping/`), its modules round the circle, and for each step
    /// the import that makes it (`file:line`).
    pub fn circles(&self) -> Vec<String> {
        let mut found = Vec::new();
        for (folder, edges) in self.folder_edges() {
            let mut graph: BTreeMap<&str, BTreeMap<&str, &Edge>> = BTreeMap::new();
            for (a, b, e) in &edges {
                graph.entry(a).or_default().entry(b).or_insert(e);
            }
            let mut seen: BTreeSet<&str> = BTreeSet::new();
            for &start in graph.keys() {
                if seen.contains(start) {
                    continue;
                }
                let Some(circle) = shortest_circle(&graph, start) else {
                    continue;
                };
                seen.extend(knot(&graph, start));
                let dir = if folder.is_empty() {
                    "src/".to_string()
                } else {
                    format!("src/{}/", folder.join("/"))
                };
                let names: Vec<&str> = circle.iter().map(|(n, _)| *n).collect();
                let steps: Vec<String> = circle
                    .iter()
                    .map(|(_, e)| format!("src/{}:{}", e.file, e.line))
                    .collect();
                found.push(format!(
                    "circle in {dir}: {} → {start} (imports at {})",
                    names.join(" → "),
                    steps.join(", ")
                ));
            }
        }
        found
    }
}

type Graph<'a> = BTreeMap<&'a str, BTreeMap<&'a str, &'a Edge>>;

/// The shortest circle through `start`: each node with the import that
/// leaves it.
fn shortest_circle<'a>(g: &Graph<'a>, start: &'a str) -> Option<Vec<(&'a str, &'a Edge)>> {
    let mut prev: BTreeMap<&str, (&str, &Edge)> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for (&next, &e) in g.get(n).into_iter().flatten() {
            if next == start {
                let mut circle = vec![(n, e)];
                let mut at = n;
                while at != start {
                    let (p, pe) = prev[at];
                    circle.push((p, pe));
                    at = p;
                }
                circle.reverse();
                return Some(circle);
            }
            if !prev.contains_key(next) {
                prev.insert(next, (n, e));
                queue.push_back(next);
            }
        }
    }
    None
}

fn reach<'a>(g: &Graph<'a>, start: &'a str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![start];
    while let Some(n) = stack.pop() {
        for &next in g.get(n).into_iter().flat_map(|m| m.keys()) {
            if seen.insert(next) {
                stack.push(next);
            }
        }
    }
    seen
}

/// The nodes on some circle with `start`.
fn knot<'a>(g: &Graph<'a>, start: &'a str) -> BTreeSet<&'a str> {
    reach(g, start)
        .into_iter()
        .filter(|&n| reach(g, n).contains(start))
        .collect()
}

/// One entry of the module map: a top-level module and the parts listed
/// under it.
#[derive(Debug)]
pub struct MapEntry {
    pub name: String,
    pub line: usize,
    pub parts: Vec<(String, usize)>,
    /// The entry says [`ORDERED`]: its parts are in import order too.
    pub ordered: bool,
}

/// What a map entry says when its parts, like the top-level modules,
/// import only parts listed below them.
pub const ORDERED: &str = "a part imports only parts below it";

/// The module map of docs/architecture.md: the first fenced block after
/// the `## Module map` heading. An entry starts at column 2 with the
/// module's name (`name/` or `name.rs`), a part of it at column 4;
/// deeper-indented lines continue a description.
pub fn parse_map(doc: &str) -> Result<Vec<MapEntry>, String> {
    let mut lines = doc.lines().enumerate().map(|(n, l)| (n + 1, l));
    lines
        .by_ref()
        .find(|(_, l)| l.trim_end() == "## Module map")
        .ok_or("no `## Module map` heading")?;
    lines
        .by_ref()
        .find(|(_, l)| l.starts_with("```"))
        .ok_or("no fenced block under `## Module map`")?;
    let mut entries: Vec<MapEntry> = Vec::new();
    for (n, l) in lines {
        if l.starts_with("```") {
            return if entries.is_empty() {
                Err("the module map is empty".into())
            } else {
                Ok(entries)
            };
        }
        let indent = l.len() - l.trim_start().len();
        let word = l.split_whitespace().next().unwrap_or("");
        if (indent != 1 && indent != 3) || word.is_empty() {
            continue;
        }
        if !(word.ends_with('/') || word.ends_with(".rs")) {
            return Err(format!(
                "docs/architecture.md:{n}: a map entry starts with a module (`name/` or `name.rs`), not `{word}`"
            ));
        }
        if indent == 1 {
            entries.push(MapEntry {
                name: word.to_string(),
                line: n,
                parts: Vec::new(),
                ordered: l.contains(ORDERED),
            });
        } else {
            let entry = entries
                .last_mut()
                .ok_or(format!("docs/architecture.md:{n}: a part before any entry"))?;
            entry.parts.push((word.to_string(), n));
        }
    }
    Err("the module map's fenced block is not closed".into())
}

/// The map against `src/`: every top-level module listed once, every
/// entry and part a module.
pub fn map_problems(tree: &Tree, map: &[MapEntry]) -> Vec<String> {
    let mut problems = Vec::new();
    let listed: BTreeSet<&str> = map.iter().map(|e| e.name.as_str()).collect();
    for m in tree.top_modules() {
        if !listed.contains(m.as_str()) {
            problems.push(format!(
                "src/{m} is missing from the module map in docs/architecture.md"
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for e in map {
        if !seen.insert(&e.name) {
            problems.push(format!(
                "docs/architecture.md:{}: {} is listed twice",
                e.line, e.name
            ));
        }
        if !tree.has_path(&e.name) {
            problems.push(format!(
                "docs/architecture.md:{}: {} is no module in src/",
                e.line, e.name
            ));
        }
        for (part, line) in &e.parts {
            let rel = format!("{}{part}", e.name);
            if !tree.has_path(&rel) {
                problems.push(format!(
                    "docs/architecture.md:{line}: {rel} is no module in src/"
                ));
            }
        }
    }
    problems
}

/// Every import of a top-level module the map lists above the importer,
/// and, inside an [`ORDERED`] entry, of a part listed above the importer.
pub fn upward_imports(tree: &Tree, map: &[MapEntry]) -> Vec<String> {
    let rank: BTreeMap<&str, usize> = map
        .iter()
        .enumerate()
        .map(|(i, e)| (e.name.as_str(), i))
        .collect();
    let ordered: BTreeMap<&str, BTreeMap<&str, usize>> = map
        .iter()
        .filter(|e| e.ordered)
        .map(|e| {
            (
                e.name.as_str(),
                e.parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p.0.as_str(), i))
                    .collect(),
            )
        })
        .collect();
    let mut found = Vec::new();
    for e in tree.edges() {
        let (from, to) = (tree.top_label(&e.from), tree.top_label(&e.to));
        let (mut a, mut b) = (rank.get(from.as_str()), rank.get(to.as_str()));
        let (mut from, mut to) = (from, to);
        if from == to
            && let (Some(parts), Some(x), Some(y)) =
                (ordered.get(from.as_str()), e.from.get(1), e.to.get(1))
            && x != y
        {
            let top = &e.from[..1];
            let (px, py) = (tree.node_label(top, x), tree.node_label(top, y));
            (a, b) = (parts.get(px.as_str()), parts.get(py.as_str()));
            (from, to) = (format!("{from}{px}"), format!("{to}{py}"));
        }
        if let (Some(a), Some(b)) = (a, b)
            && b < a
        {
            let problem = format!(
                "src/{}:{}: {from} imports {to}, which the module map lists above it",
                e.file, e.line
            );
            if !found.contains(&problem) {
                found.push(problem);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::new(
            files
                .iter()
                .map(|(p, s)| (p.to_string(), s.to_string()))
                .collect(),
        )
    }

    const LIB: &str = "pub mod http;\npub mod config;\npub mod schema;\npub use config::Config;\n";
    const MAP: &str = "# Architecture\n\n## Module map\n\n```\n lib.rs        the root\n http/         the edge\n   server.rs     serves\n config/       the config\n schema/       pure\n```\n";

    fn upward(files: &[(&str, &str)]) -> Vec<String> {
        upward_imports(&tree(files), &parse_map(MAP).unwrap())
    }

    #[test]
    fn a_downward_tree_passes() {
        let t = tree(&[
            ("lib.rs", LIB),
            ("http/mod.rs", "pub mod server;"),
            (
                "http/server.rs",
                "use crate::{Config, schema::Def};\nfn f() { crate::config::load(); }",
            ),
            ("config/mod.rs", "use crate::schema;\npub struct Config;\n"),
            ("schema/mod.rs", "pub struct Def;\n"),
        ]);
        let map = parse_map(MAP).unwrap();
        assert_eq!(map_problems(&t, &map), Vec::<String>::new());
        assert_eq!(upward_imports(&t, &map), Vec::<String>::new());
        assert_eq!(t.circles(), Vec::<String>::new());
    }

    #[test]
    fn an_upward_use_is_named_with_file_line_and_both_modules() {
        let found = upward(&[
            ("lib.rs", LIB),
            ("http/mod.rs", ""),
            ("config/mod.rs", "\n\nuse crate::http::serve;\n"),
            ("schema/mod.rs", ""),
        ]);
        assert_eq!(
            found,
            ["src/config/mod.rs:3: config/ imports http/, which the module map lists above it"]
        );
    }

    #[test]
    fn an_inline_crate_path_is_an_import() {
        let found = upward(&[
            ("lib.rs", LIB),
            ("http/mod.rs", ""),
            ("config/mod.rs", ""),
            (
                "schema/mod.rs",
                "fn f() {\n    let _ = crate::config::load(1);\n}\n",
            ),
        ]);
        assert_eq!(
            found,
            ["src/schema/mod.rs:2: schema/ imports config/, which the module map lists above it"]
        );
    }

    #[test]
    fn a_grouped_use_and_a_re_export_are_imports() {
        let found = upward(&[
            ("lib.rs", LIB),
            ("http/mod.rs", ""),
            ("config/mod.rs", ""),
            // `crate::Config` is config's, through the root's re-export.
            (
                "schema/mod.rs",
                "use crate::{\n    Config as C,\n    http::{self, x},\n};\n",
            ),
        ]);
        assert_eq!(
            found,
            [
                "src/schema/mod.rs:2: schema/ imports config/, which the module map lists above it",
                "src/schema/mod.rs:3: schema/ imports http/, which the module map lists above it",
            ]
        );
    }

    #[test]
    fn a_super_path_leaving_its_top_level_module_is_resolved() {
        let found = upward(&[
            ("lib.rs", LIB),
            ("http/mod.rs", "pub mod server;"),
            ("http/server.rs", ""),
            (
                "config/mod.rs",
                "mod inner {\n    use super::super::http::server::S;\n}\n",
            ),
            ("schema/mod.rs", "pub mod x;"),
            ("schema/x.rs", "fn f() { super::super::config::g(); }"),
        ]);
        assert_eq!(
            found,
            [
                "src/config/mod.rs:2: config/ imports http/, which the module map lists above it",
                "src/schema/x.rs:1: schema/ imports config/, which the module map lists above it",
            ]
        );
    }

    #[test]
    fn an_ordered_entrys_parts_are_held_to_their_order() {
        let map = MAP.replace(
            "schema/       pure",
            &format!("schema/       pure; {ORDERED}\n   defs.rs\n   compiled.rs"),
        );
        let files = [
            ("lib.rs", LIB),
            ("http/mod.rs", "pub mod server;"),
            ("http/server.rs", "use super::Other;"),
            ("config/mod.rs", ""),
            ("schema/mod.rs", "mod compiled;\nmod defs;\nmod tests;"),
            ("schema/defs.rs", "use super::compiled::C;"),
            (
                "schema/compiled.rs",
                "pub struct C;\n\nfn f() { super::defs::g(); }",
            ),
            ("schema/tests.rs", "use super::defs::g;"),
        ];
        let found = upward_imports(&tree(&files), &parse_map(&map).unwrap());
        assert_eq!(
            found,
            [
                "src/schema/compiled.rs:3: schema/compiled.rs imports schema/defs.rs, which the module map lists above it"
            ]
        );
        // Without the marker, parts are a description, not an order.
        let unordered = map.replace(ORDERED, "");
        assert_eq!(
            upward_imports(&tree(&files), &parse_map(&unordered).unwrap()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn comments_and_strings_naming_a_module_are_no_imports() {
        let found = upward(&[
            ("lib.rs", LIB),
            ("http/mod.rs", ""),
            ("config/mod.rs", ""),
            (
                "schema/mod.rs",
                "//! Unlike crate::http::serve, ...\n/// See [`crate::config`].\nfn f() { let _ = \"crate::http\"; /* crate::config::x() */ }\n",
            ),
        ]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn a_circle_of_three_siblings_is_printed() {
        let t = tree(&[
            ("lib.rs", "pub mod mapping;"),
            (
                "mapping/mod.rs",
                "mod compile;\nmod eval;\nmod model;\nmod path;\npub use model::Rule;\n",
            ),
            ("mapping/compile.rs", "use super::eval::run;\n"),
            (
                "mapping/eval.rs",
                "use super::path::P;\nfn f() {\n    crate::mapping::Rule::new();\n}\n",
            ),
            (
                "mapping/model.rs",
                "pub struct Rule;\nfn g() { super::compile::go(); }\n",
            ),
            ("mapping/path.rs", "pub struct P;\n"),
        ]);
        assert_eq!(
            t.circles(),
            [
                "circle in src/mapping/: compile.rs → eval.rs → model.rs → compile.rs \
              (imports at src/mapping/compile.rs:1, \
              src/mapping/eval.rs:3, src/mapping/model.rs:2)"
            ]
        );
    }

    #[test]
    fn a_circle_between_top_level_modules_is_printed() {
        let t = tree(&[
            ("lib.rs", "pub mod a;\npub mod b;"),
            ("a/mod.rs", "pub mod x;"),
            ("a/x.rs", "use crate::b::f;"),
            ("b.rs", "fn f() { crate::a::x::g(); }"),
        ]);
        assert_eq!(
            t.circles(),
            ["circle in src/: a/ → b.rs → a/ (imports at src/a/x.rs:1, src/b.rs:1)"]
        );
    }

    #[test]
    fn a_folders_own_file_is_no_node_but_its_re_exports_lead_to_the_child() {
        let shared = tree(&[
            ("lib.rs", "pub mod m;"),
            (
                "m/mod.rs",
                "mod a;\nmod b;\npub use a::A;\npub use b::B;\npub struct Shared;\nfn f() { a::g(); }\n",
            ),
            ("m/a.rs", "pub struct A;\nuse super::{B, Shared};"),
            ("m/b.rs", "pub struct B;"),
        ]);
        assert_eq!(shared.circles(), Vec::<String>::new());
        let through_reexports = tree(&[
            ("lib.rs", "pub mod m;"),
            ("m/mod.rs", "mod a;\nmod b;\npub use a::A;\npub use b::B;\n"),
            ("m/a.rs", "pub struct A;\nuse super::B;"),
            (
                "m/b.rs",
                "pub struct B;\nfn f() {\n    crate::m::A::new();\n}",
            ),
        ]);
        assert_eq!(
            through_reexports.circles(),
            ["circle in src/m/: a.rs → b.rs → a.rs (imports at src/m/a.rs:2, src/m/b.rs:3)"]
        );
    }

    #[test]
    fn the_map_and_src_must_list_the_same_modules() {
        let t = tree(&[
            ("lib.rs", LIB),
            ("http/mod.rs", ""),
            ("config/mod.rs", ""),
            ("schema/mod.rs", ""),
            ("hex.rs", ""),
        ]);
        let map = MAP.replace(
            " config/       the config\n",
            " config/\n   gone.rs\n plan/\n",
        );
        assert_eq!(
            map_problems(&t, &parse_map(&map).unwrap()),
            [
                "src/hex.rs is missing from the module map in docs/architecture.md",
                "docs/architecture.md:8: http/server.rs is no module in src/",
                "docs/architecture.md:10: config/gone.rs is no module in src/",
                "docs/architecture.md:11: plan/ is no module in src/",
            ]
        );
    }

    #[test]
    fn a_map_line_that_is_no_module_is_refused() {
        let map = MAP.replace(" schema/       pure", " schema and more");
        assert!(parse_map(&map).unwrap_err().contains("not `schema`"));
    }
}
