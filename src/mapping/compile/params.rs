//! Compiles the parts of a mapping that feed request templates: derived
//! placeholders (`[<resource>.placeholders]`) and query parameters (plain
//! templates or encoded documents) of operations and search rules, where
//! a placeholder inside quotes of the app's query language must name the
//! app's string-literal encoder.

use std::collections::BTreeMap;

use toml::Spanned;

use crate::mapping::compile::ctx::{Ctx, attr_placeholder, env_expanded, env_value, resolver, seg};
use crate::mapping::model::ops::OpKind;
use crate::mapping::raw::{QueryToml, ResourceToml};
use crate::mapping::render::encode::{Encoder, Quote};
use crate::mapping::render::placeholder::{Derived, Var, var_name};
use crate::mapping::render::query::{ParamValue, QueryParam, Tree};
use crate::mapping::render::template::{Part, Template};
use crate::mapping::render::transform::Transform;

/// `[<resource>.placeholders]`: each derived from a single-valued SCIM
/// attribute through transforms.
pub(crate) fn placeholders(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> Vec<Derived> {
    const RESERVED: [&str; 9] = [
        "id", "value", "offset", "limit", "count", "per_page", "page", "cursor", "version",
    ];
    let mut out = Vec::new();
    for (name, def) in &raw.placeholders {
        let k = format!("placeholders.{}", seg(name.get_ref()));
        let n = name.get_ref();
        if RESERVED.contains(&n.as_str()) || n.starts_with("conn.") || n.contains(['{', '}']) {
            ctx.err(
                &k,
                name.span(),
                format!("`{n}` is a reserved placeholder name"),
            );
            continue;
        }
        let Some(Var::Attr(from)) = attr_placeholder(ctx, def.from.get_ref()) else {
            ctx.err(
                &format!("{k}.from"),
                def.from.span(),
                format!(
                    "`{}` is not a single-valued SCIM attribute",
                    def.from.get_ref()
                ),
            );
            continue;
        };
        let transforms: Vec<Transform> = def
            .transform
            .iter()
            .filter_map(|t| {
                let key = format!("{k}.transform");
                let v = env_value(ctx, &key, t.span(), t.get_ref())?;
                Transform::parse(&v)
                    .map_err(|e| ctx.err(&key, t.span(), e))
                    .ok()
            })
            .collect();
        let from_key = match &from.urn {
            Some(u) => format!("{u}:{}", from.attr),
            None => from
                .sub
                .as_ref()
                .map_or(from.attr.clone(), |s| format!("{}.{s}", from.attr)),
        };
        out.push(Derived {
            name: n.clone(),
            from,
            from_key,
            transforms,
        });
    }
    out
}

/// Compiles query parameters at `k` (`users.list.query`).
pub(crate) fn query_params(
    ctx: &mut Ctx<'_>,
    k: &str,
    raw: &BTreeMap<String, Spanned<QueryToml>>,
    kind: Option<OpKind>,
    conn: &[String],
) -> Vec<QueryParam> {
    let mut out = Vec::new();
    for (name, q) in raw {
        let qk = format!("{k}.{}", seg(name));
        if let Some(value) = param_value(ctx, &qk, q, kind, conn) {
            out.push(QueryParam {
                name: name.clone(),
                value,
            });
        }
    }
    out
}

fn param_value(
    ctx: &mut Ctx<'_>,
    k: &str,
    q: &Spanned<QueryToml>,
    kind: Option<OpKind>,
    conn: &[String],
) -> Option<ParamValue> {
    match q.get_ref() {
        QueryToml::Text(t) => {
            let text = env_expanded(ctx, k, q.span(), t)?;
            let parsed = Template::parse(&text, resolver(ctx, kind, conn));
            if let Some(name) = parsed.as_ref().ok().and_then(unquoted_in_literal) {
                return ctx.fail(k, q.span(), quote_message(&name));
            }
            parsed
                .map(ParamValue::Text)
                .map_err(|e| ctx.err(k, q.span(), e.join("; ")))
                .ok()
        }
        QueryToml::Doc(d) => {
            let (enc, doc) = match (&d.rison, &d.json) {
                (Some(r), None) => (Encoder::Rison, r),
                (None, Some(j)) => (Encoder::Json, j),
                _ => {
                    return ctx.fail(
                        k,
                        q.span(),
                        "a structured parameter has exactly one encoder: { rison = … } or { json = … }",
                    );
                }
            };
            let doc = env_value(ctx, k, q.span(), doc)?;
            let parsed = Tree::compile(&doc, &mut resolver(ctx, kind, conn));
            if let Some(name) = parsed.as_ref().ok().and_then(tree_unquoted) {
                return ctx.fail(k, q.span(), quote_message(&name));
            }
            parsed
                .map(|t| ParamValue::Doc(enc, t))
                .map_err(|e| ctx.err(k, q.span(), e.join("; ")))
                .ok()
        }
    }
}

fn quote_message(name: &str) -> String {
    format!(
        "placeholder `{{{name}}}` sits inside quotes of the app's query language: give it the \
         app's string-literal encoder, e.g. `{{{name}|sql}}` (one of {}), so a value holding a \
         quote cannot end the literal",
        Quote::NAMES
    )
}

/// The first placeholder of `t` that sits between quotes of its literal
/// text (`username='{value}'`) without a [`Quote`]; paging numbers are
/// exempt. A backslash outside a placeholder escapes the next character.
fn unquoted_in_literal(t: &Template<Var>) -> Option<String> {
    let mut open: Option<char> = None;
    for part in t.parts() {
        match part {
            Part::Lit(text) => {
                let mut chars = text.chars();
                while let Some(c) = chars.next() {
                    match (open, c) {
                        (_, '\\') => {
                            chars.next();
                        }
                        (None, '\'' | '"') => open = Some(c),
                        (Some(q), c) if c == q => open = None,
                        _ => {}
                    }
                }
            }
            Part::Var(v) => {
                let exempt = matches!(v, Var::Quoted(..) | Var::Offset | Var::Limit | Var::Page);
                if open.is_some() && !exempt {
                    return Some(var_name(v));
                }
            }
        }
    }
    None
}

fn tree_unquoted(t: &Tree) -> Option<String> {
    match t {
        Tree::Lit(_) => None,
        Tree::Str(s) => unquoted_in_literal(s),
        Tree::Array(a) => a.iter().find_map(tree_unquoted),
        Tree::Object(m) => m.iter().find_map(|(_, e)| tree_unquoted(e)),
    }
}
