//! Writing a draft as TOML: tables in the order of the hand-written
//! examples (server, upstream, host, connection, users, groups), every
//! value inline, short comments at the end of their line and longer ones
//! above it, keys and strings quoted only as TOML needs. The output is a
//! pure function of the draft, so the same document gives the same bytes.

use super::model::{Draft, Entry, Members, Op, Resource, Tv};
use std::fmt::Write;

/// Comments longer than this go on their own line above the key.
const INLINE_COMMENT: usize = 56;

/// The draft as a config file.
pub fn render(d: &Draft) -> String {
    let mut out = String::new();
    comments(&mut out, &d.header);
    out.push('\n');
    out.push_str("[server]\n");
    line(
        &mut out,
        &Entry::new("listen", Tv::s(d.listen.clone()), "--listen"),
    );
    line(
        &mut out,
        &Entry::new(
            "admin_listen",
            Tv::s("127.0.0.1:9090"),
            "/livez, /readyz, /metrics",
        ),
    );
    out.push('\n');
    comments(&mut out, &d.upstream_notes);
    out.push_str("[upstream]\n");
    line(
        &mut out,
        &Entry::new(
            "url",
            Tv::s(d.upstream.clone()),
            "all non-SCIM traffic goes here",
        ),
    );
    out.push('\n');
    comments(&mut out, &d.host_notes);
    out.push_str("[host]\n");
    if !d.host_headers.is_empty() {
        let headers = Tv::Table(
            d.host_headers
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect(),
        );
        line(
            &mut out,
            &Entry::new(
                "headers",
                headers,
                "the sidecar's credentials for the app's API",
            ),
        );
    }
    out.push('\n');
    out.push_str("[[connections]]\n");
    line(&mut out, &Entry::new("id", Tv::s(d.idp.clone()), ""));
    line(&mut out, &Entry::new("idp", Tv::s(d.idp.clone()), ""));
    line(
        &mut out,
        &Entry::new(
            "tokens",
            Tv::Arr(vec![Tv::s("${SCIM_TOKEN_SHA256}")]),
            "the `config:` line of `scim-sidecar token`",
        ),
    );
    if !d.vars.is_empty() {
        for v in &d.vars {
            comments(&mut out, &[format!("vars.{}: {}", v.key, v.comment)]);
        }
        let vars = Tv::Table(
            d.vars
                .iter()
                .map(|e| (e.key.clone(), e.value.clone()))
                .collect(),
        );
        line(&mut out, &Entry::new("vars", vars, ""));
    }
    out.push('\n');
    resource(&mut out, &d.users);
    if let Some(g) = &d.groups {
        match &g.disabled {
            None => resource(&mut out, g),
            Some(why) => {
                // Written out for the human to finish, commented so that
                // the rest of the file loads.
                let mut inner = String::new();
                resource(&mut inner, g);
                let dashes = 72 - 2 - g.name.len() - 1;
                let _ = writeln!(out, "# {} {}", "-".repeat(dashes), g.name);
                comments(
                    &mut out,
                    &[format!("TODO: [{}] is commented out: {why}", g.name)],
                );
                for l in inner.lines().skip(1) {
                    if l.is_empty() {
                        out.push_str("#\n");
                    } else if l.starts_with('#') {
                        let _ = writeln!(out, "#{l}");
                    } else {
                        let _ = writeln!(out, "# {l}");
                    }
                }
                out.push('\n');
            }
        }
    }
    if !d.footer.is_empty() {
        out.push_str("# ------------------------------------------------------- not drafted\n");
        comments(&mut out, &d.footer);
    }
    out
}

fn resource(out: &mut String, r: &Resource) {
    let dashes = 72 - 2 - r.name.len() - 1;
    let _ = writeln!(out, "# {} {}", "-".repeat(dashes), r.name);
    let _ = writeln!(out, "[{}]", r.name);
    comments(out, &r.notes);
    for p in &r.policies {
        line(out, p);
    }
    out.push('\n');
    for op in &r.ops {
        operation(out, &format!("{}.{}", r.name, op.kind), op);
    }
    comments(out, &r.search_notes);
    if !r.search.is_empty() {
        let _ = writeln!(out, "[{}.search]", r.name);
        for e in &r.search {
            line(out, e);
        }
        out.push('\n');
    } else if !r.search_notes.is_empty() {
        out.push('\n');
    }
    if !r.constants.is_empty() {
        let _ = writeln!(out, "[{}.constants]", r.name);
        for e in &r.constants {
            line(out, e);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "[{}.attributes]", r.name);
    for e in &r.attributes {
        line(out, e);
    }
    comments(out, &r.attribute_notes);
    out.push('\n');
    if !r.errors.is_empty() {
        let _ = writeln!(out, "[{}.errors]", r.name);
        for e in &r.errors {
            line(out, e);
        }
        out.push('\n');
    }
    if let Some(m) = &r.members {
        members(out, r.name, m);
    }
}

fn members(out: &mut String, name: &str, m: &Members) {
    comments(out, &m.notes);
    let _ = writeln!(out, "[{name}.members]");
    line(
        out,
        &Entry::new(
            "value",
            Tv::s(m.value.clone()),
            "the member's user id in a listed element",
        ),
    );
    if let Some(d) = &m.display {
        line(out, &Entry::new("display", Tv::s(d.clone()), ""));
    }
    out.push('\n');
    for op in m.ops() {
        operation(out, &format!("{name}.members.{}", op.kind), op);
    }
}

fn operation(out: &mut String, table: &str, op: &Op) {
    let (first, rest) = op
        .notes
        .split_first()
        .map_or((None, &[][..]), |(f, r)| (Some(f), r));
    comments(out, rest);
    let _ = write!(out, "[{table}]");
    if let Some(f) = first {
        let _ = write!(out, "{}# {f}", pad(table.len() + 2));
    }
    out.push('\n');
    line(
        out,
        &Entry::new(op.method.key(), Tv::s(op.path.clone()), ""),
    );
    for e in &op.keys {
        line(out, e);
    }
    out.push('\n');
}

fn pad(used: usize) -> String {
    " ".repeat(32usize.saturating_sub(used).max(1))
}

fn comments(out: &mut String, lines: &[String]) {
    for l in lines {
        for part in wrap(l, 76) {
            let _ = writeln!(out, "# {part}");
        }
    }
}

/// `key = value  # comment` (or the comment above when long).
fn line(out: &mut String, e: &Entry) {
    let text = format!("{} = {}", key(&e.key), value(&e.value));
    if e.comment.is_empty() {
        let _ = writeln!(out, "{text}");
    } else if e.comment.chars().count() <= INLINE_COMMENT && text.len() < 48 {
        let _ = writeln!(out, "{text}{}# {}", pad(text.len()), e.comment);
    } else {
        comments(out, std::slice::from_ref(&e.comment));
        let _ = writeln!(out, "{text}");
    }
}

/// A TOML key: bare when it can be, else quoted.
pub fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { k.to_owned() } else { string(k) }
}

/// A TOML string: a literal string when it holds `"` (and nothing a
/// literal string cannot), else a basic string with escapes.
pub fn string(s: &str) -> String {
    let literal_ok = s.contains('"') && !s.contains('\'') && !s.chars().any(char::is_control);
    if literal_ok {
        return format!("'{s}'");
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An inline TOML value.
pub fn value(v: &Tv) -> String {
    match v {
        Tv::Str(s) => string(s),
        Tv::Int(n) => n.to_string(),
        Tv::Bool(b) => b.to_string(),
        Tv::Arr(items) => format!(
            "[{}]",
            items.iter().map(value).collect::<Vec<_>>().join(", ")
        ),
        Tv::Table(pairs) if pairs.is_empty() => "{}".into(),
        Tv::Table(pairs) => format!(
            "{{ {} }}",
            pairs
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Splits a comment into lines of at most `width` characters at spaces.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut cur));
            cur.push_str("  ");
        }
        if !cur.is_empty() && !cur.ends_with("  ") {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_strings_are_valid_toml() {
        assert_eq!(key("userName"), "userName");
        assert_eq!(key("name.givenName"), "\"name.givenName\"");
        assert_eq!(
            key(r#"emails[type eq "work"].value"#),
            r#"'emails[type eq "work"].value'"#
        );
        assert_eq!(string("a\"b'c\n"), "\"a\\\"b'c\\n\"");
        let v = Tv::table([
            ("query", Tv::table([("$skip", Tv::s("{offset}"))])),
            ("n", Tv::Int(3)),
            ("b", Tv::Bool(true)),
        ]);
        let doc = format!("x = {}\n", value(&v));
        let parsed: toml::Table = toml::from_str(&doc).unwrap();
        assert_eq!(parsed["x"]["query"]["$skip"].as_str(), Some("{offset}"));
    }

    #[test]
    fn long_comments_wrap() {
        let lines = wrap(&"word ".repeat(40), 30);
        assert!(lines.len() > 3);
        assert!(lines.iter().all(|l| l.chars().count() <= 32));
    }
}
