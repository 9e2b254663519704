//! Warnings `check` prints about a mapping that compiles but will not do
//! what its author likely meant: two rules writing one host path, search
//! rules that are never used, and `unique` relying on a list call that a
//! fixed query parameter filters (accounts the list hides are then
//! invisible to the uniqueness check, and an upsert create could take
//! them over).

use crate::diagnostic::Diagnostic;
use crate::mapping::compile::ctx::Ctx;
use crate::mapping::model::ops::Operation;
use crate::mapping::model::rule::{AttrRule, Source};
use crate::mapping::model::search::PushdownRule;
use crate::mapping::path::{Segment, WritePath};
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::query::{ParamValue, QueryParam, Tree};
use crate::schema::lookup_path;

/// Every warning for the compiled parts of a mapping.
pub(crate) fn lint(
    ctx: &Ctx<'_>,
    rules: &[AttrRule],
    list: Option<&Operation>,
    search: &[PushdownRule],
    unique: &[String],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    shared_paths(ctx, rules, &mut out);
    unused_search(ctx, search, unique, &mut out);
    if let Some(list) = list {
        filtered_unique(ctx, list, search, unique, &mut out);
    }
    out
}

/// Two rules writing one host path (or one inside the other) overwrite
/// each other; rules sharing a list through `where` are meant to.
fn shared_paths(ctx: &Ctx<'_>, rules: &[AttrRule], out: &mut Vec<Diagnostic>) {
    let writes: Vec<(&AttrRule, &WritePath)> = rules
        .iter()
        .filter(|r| r.mutability.is_writable() && r.write_opts.where_.is_empty())
        .filter_map(|r| match &r.source {
            Source::Path { write: Some(w), .. } => Some((r, w)),
            _ => None,
        })
        .collect();
    for (i, (a, wa)) in writes.iter().enumerate() {
        for (b, wb) in &writes[i + 1..] {
            if !same_or_nested(wa, wb) {
                continue;
            }
            let message = match (a.multi, b.multi) {
                (true, false) | (false, true) => {
                    let (list, one) = if a.multi { (a, b) } else { (b, a) };
                    format!(
                        "`{}` writes a whole list where `{}` writes a single value: the app's field holds one or the other",
                        list.name, one.name
                    )
                }
                _ => format!(
                    "`{}` and `{}` write the same host field: one overwrites the other",
                    a.name, b.name
                ),
            };
            out.push(Diagnostic::key(format!("{}.attributes", ctx.key), message));
        }
    }
}

/// Search rules the sidecar never uses: operators other than `eq`, and
/// case-sensitive rules on case-insensitive attributes (lookups then
/// scan instead).
fn unused_search(
    ctx: &Ctx<'_>,
    search: &[PushdownRule],
    unique: &[String],
    out: &mut Vec<Diagnostic>,
) {
    for r in search {
        let key = format!("{}.search.'{} {}'", ctx.key, r.attr, r.op);
        if r.op != "eq" {
            out.push(Diagnostic::key(
                key,
                "only `eq` rules are pushed down: this rule is never used",
            ));
            continue;
        }
        let case_exact = lookup_path(ctx.core, &r.attr)
            .map(|(_, d, sub)| sub.map_or(d.case_exact, |s| s.case_exact))
            .unwrap_or(true);
        if !r.case_insensitive && !case_exact {
            let why = if unique.iter().any(|u| u.eq_ignore_ascii_case(&r.attr)) {
                "lookups and the uniqueness check scan the list instead"
            } else {
                "lookups scan the list instead"
            };
            out.push(Diagnostic::key(
                key,
                format!(
                    "`{}` is case-insensitive and this rule is not (case_insensitive = false): it is never used; {why}",
                    r.attr
                ),
            ));
        }
    }
}

/// `unique` through the list call while the list's own query has a fixed
/// (non-paging) parameter, which may hide accounts from the check.
fn filtered_unique(
    ctx: &Ctx<'_>,
    list: &Operation,
    search: &[PushdownRule],
    unique: &[String],
    out: &mut Vec<Diagnostic>,
) {
    let fixed: Vec<&str> = list
        .query
        .iter()
        .filter(|q| is_fixed(q))
        .map(|q| q.name.as_str())
        .collect();
    if fixed.is_empty() {
        return;
    }
    for u in unique {
        let by_key = search
            .iter()
            .any(|r| r.op == "eq" && r.attr.eq_ignore_ascii_case(u) && r.lookup.is_some());
        if !by_key {
            out.push(Diagnostic::key(
                format!("{}.unique", ctx.key),
                format!(
                    "`{u}` is checked through the list call, whose query `{}` may hide accounts: a hidden account with the same value would be missed (use a get-by-key search rule, `get = \"…/{{value}}\"`)",
                    fixed.join("`, `")
                ),
            ));
        }
    }
}

/// Whether a list parameter filters: a plain parameter that is neither
/// paging nor ordering nor field selection, or a structured one with a
/// `filter…` member (Rison and JSON query documents).
fn is_fixed(q: &QueryParam) -> bool {
    const NOT_FILTERS: [&str; 10] = [
        "sort", "order", "field", "column", "format", "include", "expand", "token", "key", "api",
    ];
    let paging = |v: &Var| matches!(v, Var::Offset | Var::Limit | Var::Page | Var::Cursor);
    let name = q.name.to_ascii_lowercase();
    match &q.value {
        ParamValue::Text(t) => {
            !t.vars().any(paging) && !NOT_FILTERS.iter().any(|n| name.contains(n))
        }
        ParamValue::Doc(_, Tree::Object(members)) => members
            .iter()
            .any(|(k, _)| k.to_ascii_lowercase().contains("filter")),
        ParamValue::Doc(..) => false,
    }
}

/// Whether one write path is the other or lies inside it (an index in
/// one where the other ends is a different list element).
fn same_or_nested(a: &WritePath, b: &WritePath) -> bool {
    let (x, y) = (a.segments(), b.segments());
    let n = x.len().min(y.len());
    x[..n] == y[..n] && !matches!(x.get(n).or(y.get(n)), Some(Segment::Index(_)))
}
