//! Compiles the write-side options of an attribute rule (`where`,
//! `field`, `clear`, `compose`, `coalesce`, `select`, `primary`,
//! `generate`) and the `[<resource>.constants]` table.

use serde_json::Value;

use crate::mapping::compile::ctx::{Ctx, attr_placeholder, env_value, resolver, seg};
use crate::mapping::model::rule::{Clear, Constant, Fallback, WriteOpts};
use crate::mapping::path::WritePath;
use crate::mapping::raw::{ResourceToml, RuleTable};
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::query::Tree;
use crate::mapping::render::template::Template;

/// The shape of the rule the options belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A single value (or a sub-attribute).
    Single,
    /// A whole multi-valued attribute with `fields`.
    Whole,
    /// A sub-attribute of a multi-valued attribute without a selector
    /// (allowed with `select = "primary"`).
    MultiSub,
    /// A selector rule (`emails[type eq "work"].value`).
    Selected,
    /// An element rule inside `fields`.
    Field,
}

/// Compiles the write options of the rule table `t` at `k`.
pub(crate) fn write_opts(ctx: &mut Ctx<'_>, k: &str, t: &RuleTable, shape: Shape) -> WriteOpts {
    let mut o = WriteOpts::default();
    if let Some(w) = &t.where_ {
        if matches!(shape, Shape::Field | Shape::MultiSub | Shape::Selected) {
            ctx.err(
                &format!("{k}.where"),
                w.span(),
                "`where` belongs on a whole multi-valued attribute or a single value with `field`",
            );
        }
        let wk = format!("{k}.where");
        for (key, v) in w.get_ref() {
            let v = env_value(ctx, &wk, w.span(), v)
                .and_then(|v| no_placeholder(ctx, &wk, w.span(), v, "`where` values"));
            if let Some(v) = v {
                o.where_
                    .push((key.clone(), serde_json::to_value(v).unwrap_or(Value::Null)));
            }
        }
    }
    match (&t.field, shape, o.where_.is_empty()) {
        (Some(f), Shape::Single, false) => {
            o.field = WritePath::parse(f.get_ref())
                .map_err(|e| {
                    ctx.err(
                        &format!("{k}.field"),
                        f.span(),
                        format!("not a writable path: {e}"),
                    )
                })
                .ok();
        }
        (Some(f), _, _) => ctx.err(
            &format!("{k}.field"),
            f.span(),
            "`field` names the member of a `where`-selected element that holds a single value",
        ),
        (None, Shape::Single, false) => ctx.err(
            &format!("{k}.where"),
            0..0,
            "a single value with `where` needs `field`, e.g. field = \"$.subject\"",
        ),
        _ => {}
    }
    if let Some(c) = &t.clear {
        o.clear = match c.get_ref().as_str() {
            "null" => Clear::Null,
            "null_parent" => Clear::NullParent,
            "empty" => Clear::Empty,
            "omit" => Clear::Omit,
            other => {
                ctx.err(
                    &format!("{k}.clear"),
                    c.span(),
                    format!(
                        "unknown clearing style `{other}`: use null, null_parent, empty or omit"
                    ),
                );
                Clear::Null
            }
        };
    }
    if let Some(c) = &t.coalesce {
        for (i, a) in c.iter().enumerate() {
            match attr_placeholder(ctx, a.get_ref()) {
                Some(Var::Attr(p)) => o.fallbacks.push(Fallback::Attr(p)),
                _ => ctx.err(
                    &format!("{k}.coalesce[{i}]"),
                    a.span(),
                    format!("`{}` is not a single-valued SCIM attribute", a.get_ref()),
                ),
            }
        }
    }
    if let Some(c) = &t.compose {
        let parsed = Template::parse(c.get_ref(), |n| match attr_placeholder(ctx, n) {
            Some(v @ Var::Attr(_)) => Ok(v),
            _ => Err(format!("`{{{n}}}` is not a single-valued SCIM attribute")),
        });
        match parsed {
            Ok(tpl) => o.fallbacks.push(Fallback::Template(tpl)),
            Err(e) => ctx.err(&format!("{k}.compose"), c.span(), e.join("; ")),
        }
    }
    if let Some(s) = &t.select {
        match (s.get_ref().as_str(), shape) {
            ("primary", Shape::MultiSub | Shape::Selected) => o.pick_primary = true,
            _ => ctx.err(&format!("{k}.select"), s.span(), "`select = \"primary\"` maps a sub-attribute of a multi-valued attribute, e.g. \"phoneNumbers.value\", to one host field"),
        }
    }
    if let Some(p) = &t.primary {
        match (p.get_ref().as_str(), shape) {
            ("first", Shape::Whole) => o.primary_first = true,
            _ => ctx.err(
                &format!("{k}.primary"),
                p.span(),
                "`primary = \"first\"` belongs on a whole multi-valued attribute",
            ),
        }
    }
    if let Some(g) = &t.generate {
        let n = g
            .get_ref()
            .as_table()
            .filter(|t| t.len() == 1)
            .and_then(|t| t.get("random"))
            .and_then(toml::Value::as_integer);
        match n {
            Some(n @ 8..=256) => o.generate = Some(n as usize),
            _ => ctx.err(
                &format!("{k}.generate"),
                g.span(),
                "generate = { random = <length 8 to 256> }",
            ),
        }
    }
    o
}

/// `[<resource>.constants]`: write path → value, or `{ value, when }`
/// (written only when the SCIM attribute `when` has a value). Strings may
/// hold `${ENV}`, `{conn.<var>}` and SCIM attribute placeholders.
pub(crate) fn constants(ctx: &mut Ctx<'_>, raw: &ResourceToml, conn: &[String]) -> Vec<Constant> {
    let mut out = Vec::new();
    for (key, v) in &raw.constants {
        let k = format!("constants.{}", seg(key.get_ref()));
        let span = key.span();
        let path = match WritePath::parse(key.get_ref()) {
            Ok(p) => p,
            Err(e) => {
                ctx.err(&k, span, format!("not a writable path: {e}"));
                continue;
            }
        };
        let conditional = v
            .as_table()
            .filter(|t| t.len() == 2 && t.contains_key("value") && t.contains_key("when"));
        let (value, when) = match conditional {
            Some(t) => (&t["value"], t["when"].as_str()),
            None => (v, None),
        };
        let when = match when.map(|w| (w, attr_placeholder(ctx, w))) {
            None => None,
            Some((_, Some(Var::Attr(p)))) => Some(p),
            Some((w, _)) => {
                ctx.err(
                    &format!("{k}.when"),
                    span,
                    format!("`{w}` is not a single-valued SCIM attribute"),
                );
                continue;
            }
        };
        let Some(value) = env_value(ctx, &k, span.clone(), value) else {
            continue;
        };
        let parsed = Tree::compile(
            &value,
            &mut resolver(ctx, Some(crate::mapping::model::ops::OpKind::Create), conn),
        );
        match parsed {
            Ok(value) => out.push(Constant { path, value, when }),
            Err(e) => ctx.err(&k, span, e.join("; ")),
        }
    }
    out
}

/// A rule's `default` or `const` with `${ENV}` expanded; `{conn.…}` is
/// refused there (a default is a SCIM value, the same for every
/// connection: use a constant).
pub(crate) fn literal(
    ctx: &mut Ctx<'_>,
    k: &str,
    span: std::ops::Range<usize>,
    v: &toml::Value,
) -> Option<Value> {
    let v = env_value(ctx, k, span.clone(), v)?;
    let v = no_placeholder(ctx, k, span, v, "a `default` or `const`")?;
    serde_json::to_value(v).ok()
}

/// `v` when none of its strings holds a request placeholder (`{conn.x}`,
/// `{userName}`): in literal values `what` such text would be sent to the
/// app as it is written, so it is an error.
pub(crate) fn no_placeholder(
    ctx: &mut Ctx<'_>,
    k: &str,
    span: std::ops::Range<usize>,
    v: toml::Value,
    what: &str,
) -> Option<toml::Value> {
    let found = first_placeholder(&v);
    match found {
        Some(name) if name.starts_with("conn.") => ctx.fail(k, span, format!(
            "`{{{name}}}` is not expanded in {what}: write the host field with a constant in [<resource>.constants], or use ${{ENV}}"
        )),
        Some(name) => ctx.fail(k, span, format!(
            "`{{{name}}}` is not expanded in {what}: the text is sent to the app as written"
        )),
        None => Some(v),
    }
}

/// The first placeholder in any string of `v`.
fn first_placeholder(v: &toml::Value) -> Option<&str> {
    match v {
        toml::Value::String(s) => placeholder_in(s),
        toml::Value::Array(a) => a.iter().find_map(first_placeholder),
        toml::Value::Table(t) => t.values().find_map(first_placeholder),
        _ => None,
    }
}

/// The name of the first `{name}` placeholder in `s` (`{{` and `}}` are
/// literal braces; `{}` and text with spaces are not placeholders).
fn placeholder_in(s: &str) -> Option<&str> {
    let mut rest = s;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        if let Some(lit) = after.strip_prefix('{') {
            rest = lit;
            continue;
        }
        let end = after.find('}')?;
        let name = &after[..end];
        if !name.is_empty() && !name.contains(char::is_whitespace) && !name.contains('{') {
            return Some(name);
        }
        rest = after;
    }
    None
}
