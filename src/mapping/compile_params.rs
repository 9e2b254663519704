//! Compiles the parts of a mapping that feed request templates: derived
//! placeholders (`[<resource>.placeholders]`), query parameters (plain
//! templates or encoded documents) and filter push-down rules (query
//! parameters merged into the list call, or a get-by-key lookup).
//! `${ENV}` references in every mapping string are expanded here, once.

use std::collections::BTreeMap;

use toml::Spanned;

use crate::mapping::compile_attr::{Ctx, seg};
use crate::mapping::compile_ops::{attr_placeholder, compile_op, resolver};
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::search::PushdownRule;
use crate::mapping::raw::{OperationToml, QueryToml, ResourceToml};
use crate::mapping::render::encode::Encoder;
use crate::mapping::render::placeholder::{Derived, Var};
use crate::mapping::render::query::{ParamValue, QueryParam, Tree};
use crate::mapping::render::template::Template;
use crate::mapping::render::transform::Transform;

/// `text` with `${NAME}` references expanded (`$$` is a literal `$`);
/// an unset variable is an error at `k`.
pub(crate) fn env_expanded(
    ctx: &mut Ctx<'_>,
    k: &str,
    span: std::ops::Range<usize>,
    text: &str,
) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_owned());
    }
    crate::mapping::env::expand_env(text, ctx.env)
        .map_err(|e| ctx.err(k, span, e))
        .ok()
}

/// A TOML value with `${NAME}` expanded in every string.
pub(crate) fn env_value(
    ctx: &mut Ctx<'_>,
    k: &str,
    span: std::ops::Range<usize>,
    v: &toml::Value,
) -> Option<toml::Value> {
    Some(match v {
        toml::Value::String(s) => toml::Value::String(env_expanded(ctx, k, span, s)?),
        toml::Value::Array(a) => toml::Value::Array(
            a.iter()
                .map(|e| env_value(ctx, k, span.clone(), e))
                .collect::<Option<_>>()?,
        ),
        toml::Value::Table(t) => {
            let mut out = toml::Table::new();
            for (key, e) in t {
                out.insert(key.clone(), env_value(ctx, k, span.clone(), e)?);
            }
            toml::Value::Table(out)
        }
        other => other.clone(),
    })
}

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
            parsed
                .map(|t| ParamValue::Doc(enc, t))
                .map_err(|e| ctx.err(k, q.span(), e.join("; ")))
                .ok()
        }
    }
}

/// `[<resource>.search]`: push-down rules keyed `'<attribute> <operator>'`.
pub(crate) fn search(ctx: &mut Ctx<'_>, raw: &ResourceToml, conn: &[String]) -> Vec<PushdownRule> {
    const OPS: [&str; 10] = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"];
    let mut out = Vec::new();
    for (key, rule) in &raw.search {
        let k = format!("search.{}", seg(key.get_ref()));
        let (attr, op) = key
            .get_ref()
            .trim()
            .rsplit_once(' ')
            .unwrap_or((key.get_ref(), ""));
        let op = op.to_ascii_lowercase();
        if !OPS.contains(&op.as_str()) {
            ctx.err(
                &k,
                key.span(),
                "a search key is '<attribute> <operator>', e.g. 'userName eq'",
            );
            continue;
        }
        let Some(canonical) = crate::mapping::compile::canonical_attr(ctx, attr.trim()) else {
            ctx.err(
                &k,
                key.span(),
                format!("unknown SCIM attribute `{}`", attr.trim()),
            );
            continue;
        };
        let before = ctx.errors.len();
        let only_from = |d: &Derived| d.from_key.eq_ignore_ascii_case(&canonical);
        let foreign: Vec<String> = ctx
            .derived
            .iter()
            .filter(|d| !only_from(d))
            .map(|d| d.name.clone())
            .collect();
        let query = query_params(ctx, &format!("{k}.query"), &rule.query, None, conn);
        let lookup = rule.get.as_ref().and_then(|g| {
            let op = OperationToml {
                get: Some(g.clone()),
                item: rule.item.clone(),
                ..OperationToml::default()
            };
            ctx.in_search = true;
            let compiled = compile_op(ctx, OpKind::Get, &Spanned::new(g.span(), op), conn);
            ctx.in_search = false;
            compiled
        });
        let uses: Vec<&Var> = query
            .iter()
            .flat_map(QueryParam::vars)
            .chain(lookup.iter().flat_map(|l| l.path.vars()))
            .collect();
        let bad = uses.iter().find_map(|v| match v {
            Var::Derived(d) if foreign.contains(&d.name) => Some(d.name.clone()),
            Var::Id | Var::Version | Var::Attr(_) => {
                Some(crate::mapping::render::placeholder::var_name(v))
            }
            _ => None,
        });
        if let Some(name) = bad {
            ctx.err(
                &k,
                key.span(),
                format!("a search rule takes {{value}}, {{conn.<var>}} and placeholders derived from its own attribute, not `{{{name}}}`"),
            );
        }
        if rule.get.is_some() != rule.query.is_empty() {
            ctx.err(
                &k,
                key.span(),
                "a search rule has either `query` (merged into the list call) or `get` (a lookup by key)",
            );
        }
        if rule.item.is_some() && rule.get.is_none() {
            ctx.err(
                &format!("{k}.item"),
                key.span(),
                "`item` belongs with `get`",
            );
        }
        if ctx.errors.len() > before {
            continue;
        }
        out.push(PushdownRule {
            attr: canonical,
            op,
            query,
            lookup,
            case_insensitive: rule.case_insensitive,
        });
    }
    out
}
