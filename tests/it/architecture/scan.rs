//! Reads one Rust source file as text, well enough to find what it names
//! of the crate: its `use` trees (grouped, aliased, globbed, `pub use`
//! included), the paths written in code (`crate::x::f()`, `super::y::Z`,
//! `child::g()`), the modules it declares (`mod x;`, `mod x { .. }`) and
//! the items it defines at module level. Comments (doc comments
//! included), string, byte-string, raw-string and char literals are
//! skipped by the lexer, so a `crate::x` written in any of them is no
//! import.

/// One token the scanner cares about; everything else is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: usize,
}

/// What one file says about modules. `scope` is the path of inline
/// modules (`mod tests { .. }`) inside the file, empty at file level.
#[derive(Debug, Default)]
pub struct FileScan {
    /// `mod name;` and `mod name { .. }`: (scope, name).
    pub children: Vec<(Vec<String>, String)>,
    /// Items defined at module level: (scope, name).
    pub items: Vec<(Vec<String>, String)>,
    pub uses: Vec<Use>,
    pub paths: Vec<PathRef>,
}

/// One leaf of a `use` tree: `use a::{b, c::d as e, f::*};` has three.
#[derive(Debug, Clone)]
pub struct Use {
    pub scope: Vec<String>,
    /// `pub use` or `pub(..) use`: a re-export.
    pub public: bool,
    /// The path as written (`self` leaves folded into their parent).
    pub segs: Vec<String>,
    /// The name it binds; `None` for a glob.
    pub name: Option<String>,
    pub line: usize,
}

/// A path written in code outside `use`: `crate::x::f`, `super::T`, ...
#[derive(Debug, Clone)]
pub struct PathRef {
    pub scope: Vec<String>,
    pub segs: Vec<String>,
    pub line: usize,
}

pub fn lex(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == b'\n' {
            line += 1;
            i += 1;
        } else if c == b'/' && next == Some(b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && next == Some(b'*') {
            i = skip_block_comment(b, i, &mut line);
        } else if c == b'"' {
            i = skip_string(b, i + 1, &mut line);
        } else if c == b'\'' {
            i = skip_quote(b, i);
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            let word = &src[start..i];
            match (word, b.get(i).copied()) {
                ("b" | "c", Some(b'"')) => i = skip_string(b, i + 1, &mut line),
                ("b", Some(b'\'')) => i = skip_quote(b, i),
                ("r" | "br" | "cr", Some(b'"' | b'#')) => {
                    let mut j = i;
                    while b.get(j) == Some(&b'#') {
                        j += 1;
                    }
                    if b.get(j) == Some(&b'"') {
                        i = skip_raw(b, j + 1, j - i, &mut line);
                    } else if word == "r" && j == i + 1 {
                        // A raw identifier: r#type.
                        let s = j;
                        i = j;
                        while i < b.len() && is_ident(b[i]) {
                            i += 1;
                        }
                        out.push(ident(&src[s..i], line));
                    } else {
                        out.push(ident(word, line));
                    }
                }
                _ => out.push(ident(word, line)),
            }
        } else if c.is_ascii_digit() {
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
        } else if c == b':' && next == Some(b':') {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            if c.is_ascii_punctuation() {
                out.push(Token {
                    tok: Tok::Punct(c as char),
                    line,
                });
            }
            i += 1;
        }
    }
    out
}

fn ident(s: &str, line: usize) -> Token {
    Token {
        tok: Tok::Ident(s.to_string()),
        line,
    }
}

fn skip_block_comment(b: &[u8], mut i: usize, line: &mut usize) -> usize {
    let mut depth = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            *line += usize::from(b[i] == b'\n');
            i += 1;
        }
    }
    i
}

/// From just after the opening `"` to just after the closing one.
fn skip_string(b: &[u8], mut i: usize, line: &mut usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => {
                *line += usize::from(b.get(i + 1) == Some(&b'\n'));
                i += 2;
            }
            b'"' => return i + 1,
            c => {
                *line += usize::from(c == b'\n');
                i += 1;
            }
        }
    }
    i
}

/// From just after the opening `"` of `r##"` to after its `"##`.
fn skip_raw(b: &[u8], mut i: usize, hashes: usize, line: &mut usize) -> usize {
    while i < b.len() {
        if b[i] == b'"'
            && b[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        *line += usize::from(b[i] == b'\n');
        i += 1;
    }
    i
}

/// At a `'`: a char literal (`'a'`, `'\''`, `'é'`) or a lifetime/label
/// (`'a`, `'static`); returns the index after it.
fn skip_quote(b: &[u8], i: usize) -> usize {
    if b.get(i + 1) == Some(&b'\\') {
        let mut j = i + 3;
        while j < b.len() && b[j] != b'\'' && b[j] != b'\n' {
            j += 1;
        }
        return j + 1;
    }
    // One char (of any UTF-8 length) then a closing quote: a literal.
    let width = match b.get(i + 1) {
        Some(&c) if c < 0x80 => 1,
        Some(&c) if c >= 0xF0 => 4,
        Some(&c) if c >= 0xE0 => 3,
        Some(_) => 2,
        None => return i + 1,
    };
    if b.get(i + 1 + width) == Some(&b'\'') {
        return i + 2 + width;
    }
    // A lifetime or label: skip its name too.
    let mut j = i + 1;
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    j
}

const ITEM_KEYWORDS: &[&str] = &[
    "fn", "struct", "enum", "const", "static", "type", "trait", "union",
];

/// Scans one file's source.
pub fn scan(src: &str) -> FileScan {
    let t = lex(src);
    let mut out = FileScan::default();
    // Inline modules open at this point: (name, brace depth inside them).
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < t.len() {
        let scope: Vec<String> = stack.iter().map(|m| m.0.clone()).collect();
        let body_depth = stack.last().map_or(0, |m| m.1);
        match &t[i].tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                if stack.last().is_some_and(|m| m.1 == depth) {
                    stack.pop();
                }
                depth = depth.saturating_sub(1);
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct(p @ (';' | '{')))) =
                    (tok(&t, i + 1), tok(&t, i + 2))
                {
                    out.children.push((scope, name.clone()));
                    if *p == '{' {
                        depth += 1;
                        stack.push((name.clone(), depth));
                    }
                    i += 3;
                    continue;
                }
            }
            Tok::Ident(w) if w == "use" => {
                let public = is_pub(&t, i);
                let mut j = i + 1;
                let mut leaves = Vec::new();
                use_tree(&t, &mut j, Vec::new(), &mut leaves);
                for (segs, name, line) in leaves {
                    out.uses.push(Use {
                        scope: scope.clone(),
                        public,
                        segs,
                        name,
                        line,
                    });
                }
                while j < t.len() && t[j].tok != Tok::Punct(';') {
                    j += 1;
                }
                i = j + 1;
                continue;
            }
            Tok::Ident(w)
                if depth == body_depth
                    && (ITEM_KEYWORDS.contains(&w.as_str()) || w == "macro_rules") =>
            {
                let at = if w == "macro_rules" { i + 2 } else { i + 1 };
                if let Some(Tok::Ident(name)) = tok(&t, at) {
                    out.items.push((scope, name.clone()));
                }
            }
            Tok::Ident(first) if tok(&t, i + 1) == Some(&Tok::PathSep) && starts_path(&t, i) => {
                let mut segs = vec![first.clone()];
                let mut j = i + 1;
                while tok(&t, j) == Some(&Tok::PathSep) {
                    match tok(&t, j + 1) {
                        Some(Tok::Ident(s)) => segs.push(s.clone()),
                        _ => break,
                    }
                    j += 2;
                }
                out.paths.push(PathRef {
                    scope,
                    segs,
                    line: t[i].line,
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn tok(t: &[Token], i: usize) -> Option<&Tok> {
    t.get(i).map(|t| &t.tok)
}

/// Whether the ident at `i` starts a path: not a later segment, not a
/// method (`.collect::<T>()`), not the scope of `pub(in crate::x)`.
fn starts_path(t: &[Token], i: usize) -> bool {
    let Some(prev) = i.checked_sub(1).map(|p| &t[p].tok) else {
        return true;
    };
    match prev {
        Tok::PathSep | Tok::Punct('.') => false,
        Tok::Ident(w) if w == "in" => {
            !matches!(i.checked_sub(3).map(|p| &t[p].tok), Some(Tok::Ident(p)) if p == "pub")
        }
        _ => true,
    }
}

/// `pub use` or `pub(crate) use` / `pub(in path) use`.
fn is_pub(t: &[Token], i: usize) -> bool {
    match i.checked_sub(1).map(|p| &t[p].tok) {
        Some(Tok::Ident(w)) => w == "pub",
        Some(Tok::Punct(')')) => {
            let mut j = i - 1;
            while j > 0 && t[j].tok != Tok::Punct('(') {
                j -= 1;
            }
            j > 0 && matches!(&t[j - 1].tok, Tok::Ident(w) if w == "pub")
        }
        _ => false,
    }
}

type Leaf = (Vec<String>, Option<String>, usize);

/// One use tree from `*i`, appending its leaves (path, bound name, line).
fn use_tree(t: &[Token], i: &mut usize, mut segs: Vec<String>, out: &mut Vec<Leaf>) {
    while *i < t.len() {
        let line = t[*i].line;
        match &t[*i].tok {
            Tok::PathSep => *i += 1,
            Tok::Punct('*') => {
                *i += 1;
                out.push((segs, None, line));
                return;
            }
            Tok::Punct('{') => {
                *i += 1;
                while *i < t.len() && t[*i].tok != Tok::Punct('}') {
                    use_tree(t, i, segs.clone(), out);
                    if t.get(*i).map(|t| &t.tok) == Some(&Tok::Punct(',')) {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            Tok::Ident(s) => {
                *i += 1;
                let is_self = s == "self";
                if !is_self {
                    segs.push(s.clone());
                }
                if tok(t, *i) == Some(&Tok::PathSep) {
                    continue;
                }
                let mut name = segs.last().cloned();
                if tok(t, *i) == Some(&Tok::Ident("as".into())) {
                    if let Some(Tok::Ident(alias)) = tok(t, *i + 1) {
                        name = Some(alias.clone());
                    }
                    *i += 2;
                }
                out.push((segs, name, line));
                return;
            }
            // `;`, `,` or `}` with nothing before it: an empty tree.
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn use_paths(src: &str) -> Vec<String> {
        scan(src)
            .uses
            .iter()
            .map(|u| {
                let mut s = u.segs.join("::");
                match &u.name {
                    None => s.push_str("::*"),
                    Some(n) if Some(n) != u.segs.last() => s.push_str(&format!(" as {n}")),
                    Some(_) => {}
                }
                s
            })
            .collect()
    }

    #[test]
    fn grouped_use_trees_give_one_leaf_each_on_its_own_line() {
        let src = "use crate::{a, b::{c, d as e, self}, f::*};\n\
                   pub use super::g\n    ::h;\nuse crate::{\n    x,\n    y::z,\n};\n";
        assert_eq!(
            use_paths(src),
            [
                "crate::a",
                "crate::b::c",
                "crate::b::d as e",
                "crate::b",
                "crate::f::*",
                "super::g::h",
                "crate::x",
                "crate::y::z"
            ]
        );
        let s = scan(src);
        assert!(!s.uses[0].public && s.uses[5].public);
        assert_eq!(s.uses[6].line, 5);
        assert_eq!(s.uses[7].line, 6);
    }

    #[test]
    fn restricted_pub_use_is_a_re_export() {
        let s = scan("pub(crate) use self::a::B;\npub(in crate::m) use c::D;\nuse e::F;");
        let public: Vec<bool> = s.uses.iter().map(|u| u.public).collect();
        assert_eq!(public, [true, true, false]);
    }

    #[test]
    fn comments_strings_and_chars_hide_paths() {
        let src = r####"
// crate::a::f() in a line comment
/// [`crate::b`] in a doc comment
//! crate::c in an inner doc comment
/* crate::d /* nested */ crate::e */
fn f<'a>(x: &'a str) -> char {
    let _ = "crate::g::h \" crate::i";
    let _ = r#"crate::j "quoted" "#;
    let _ = b"crate::k";
    let _ = br##"crate::l"##;
    let _ = ('"', '\'', b'"', 'é');
    crate::real::call();
    'outer: loop { break 'outer; }
    '{'
}
"####;
        let s = scan(src);
        let paths: Vec<String> = s.paths.iter().map(|p| p.segs.join("::")).collect();
        assert_eq!(paths, ["crate::real::call"]);
        assert_eq!(s.paths[0].line, 12);
    }

    #[test]
    fn inline_paths_skip_methods_and_visibility_scopes() {
        let src = "pub(in crate::m) struct S;\nfn f() { x.collect::<Vec<_>>(); super::y::Z::new(); <T as crate::t::Tr>::g(); $crate::mac::m!(); }";
        let s = scan(src);
        let paths: Vec<String> = s.paths.iter().map(|p| p.segs.join("::")).collect();
        assert_eq!(paths, ["super::y::Z::new", "crate::t::Tr", "crate::mac::m"]);
    }

    #[test]
    fn inline_modules_scope_what_they_hold() {
        let src = "mod a;\npub mod b;\nfn top() {}\nimpl X { fn method() {} }\n\
                   #[cfg(test)]\nmod tests {\n    use super::*;\n    fn helper() { crate::z::q(); }\n}\nstruct After;";
        let s = scan(src);
        let children: Vec<_> = s
            .children
            .iter()
            .map(|c| (c.0.join("::"), c.1.as_str()))
            .collect();
        assert_eq!(
            children,
            [("".into(), "a"), ("".into(), "b"), ("".into(), "tests")]
        );
        let items: Vec<_> = s
            .items
            .iter()
            .map(|c| (c.0.join("::"), c.1.as_str()))
            .collect();
        assert_eq!(
            items,
            [
                ("".into(), "top"),
                ("tests".into(), "helper"),
                ("".into(), "After")
            ]
        );
        assert_eq!(s.uses[0].scope, ["tests"]);
        assert_eq!(s.paths[0].scope, ["tests"]);
    }
}
