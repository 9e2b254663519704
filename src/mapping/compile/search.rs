//! Compiles `[<resource>.search]`: filter push-down rules keyed
//! `'<attribute> <operator>'`, each either query parameters merged into
//! the list call or a get-by-key lookup (compiled like an operation: its
//! key in the path or in its own query, `GET /users.info?username=…`, and
//! with `id` a reverse lookup followed by the resource's get),
//! taking only `{value}`, `{conn.<var>}` and placeholders derived from
//! the rule's own attribute.

use toml::Spanned;

use crate::mapping::compile::ctx::{Ctx, canonical_attr, seg};
use crate::mapping::compile::ops::compile_op;
use crate::mapping::compile::params::query_params;
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::search::PushdownRule;
use crate::mapping::path::ReadPath;
use crate::mapping::raw::{OperationToml, ResourceToml};
use crate::mapping::render::placeholder::{Derived, Var, var_name};
use crate::mapping::render::query::QueryParam;

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
        let Some(canonical) = canonical_attr(ctx, attr.trim()) else {
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
        // With `get`, the query is the lookup's own (`GET /users.info?username=…`);
        // without, it merges into the list call.
        let query = match rule.get {
            Some(_) => Vec::new(),
            None => query_params(ctx, &format!("{k}.query"), &rule.query, None, conn),
        };
        let lookup = rule.get.as_ref().and_then(|g| {
            let op = OperationToml {
                get: Some(g.clone()),
                item: rule.item.clone(),
                query: rule.query.clone(),
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
            .chain(
                lookup
                    .iter()
                    .flat_map(|l| l.query.iter().flat_map(QueryParam::vars)),
            )
            .collect();
        let bad = uses.iter().find_map(|v| match v.base() {
            Var::Derived(d) if foreign.contains(&d.name) => Some(d.name.clone()),
            b @ (Var::Id | Var::Version | Var::Attr(_) | Var::Current(_)) => Some(var_name(b)),
            _ => None,
        });
        if let Some(name) = bad {
            ctx.err(
                &k,
                key.span(),
                format!("a search rule takes {{value}}, {{conn.<var>}} and placeholders derived from its own attribute, not `{{{name}}}`"),
            );
        }
        if rule.get.is_none() && rule.query.is_empty() {
            ctx.err(
                &k,
                key.span(),
                "a search rule needs `query` (merged into the list call) or `get` (a lookup by key, with its own `query` if the key travels there)",
            );
        }
        if rule.item.is_some() && rule.get.is_none() {
            ctx.err(
                &format!("{k}.item"),
                key.span(),
                "`item` belongs with `get`",
            );
        }
        let follow = rule.id.as_ref().and_then(|p| {
            if rule.get.is_none() || rule.item.is_some() {
                return ctx.fail(
                    &format!("{k}.id"),
                    p.span(),
                    "`id` belongs with `get` (a reverse lookup whose answer holds the id), without `item`",
                );
            }
            ReadPath::compile(p.get_ref())
                .map_err(|e| ctx.err(&format!("{k}.id"), p.span(), format!("invalid JSONPath: {e}")))
                .ok()
        });
        if ctx.errors.len() > before {
            continue;
        }
        out.push(PushdownRule {
            attr: canonical,
            op,
            query,
            lookup,
            follow,
            case_insensitive: rule.case_insensitive,
        });
    }
    out
}
