//! Listing and filtering (RFC 7644 §3.4.2): plans how a filter is answered
//! — pushed down to the app's search where a rule covers one of its `and`
//! terms, or evaluated by the sidecar over the app's pages up to the scan
//! limit — and translates SCIM `startIndex`/`count` into the app's paging.
//! Every pushed-down answer is re-checked with the full filter, so an app
//! that matches loosely never produces a false match; a filter that cannot
//! be evaluated within the scan limit is a 400 `invalidFilter`, never an
//! empty list.

use super::ctx::Ctx;
use super::filter_check;
use super::members;
use super::read::{fetch_any, fetch_current, resource_of, roles_as_groups};
use crate::error::{ScimError, ScimType};
use crate::host::{bad_answer, paging};
use crate::mapping::{Direct, OpKind, PushdownRule, Vars};
use crate::protocol::LIST_URN;
use crate::protocol::filter::{AttrPath, CompValue, CompareOp, Filter, matches};
use crate::protocol::projection::project;
use crate::protocol::query::{ListQuery, Projection};
use crate::schema::{ResourceSchema, get_ci};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::{Map, Value, json};
use std::cmp::Ordering;

/// Page size used when the client sends no `count`.
const DEFAULT_COUNT: u64 = 100;

/// Which accounts a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// What the IdP may see: protected accounts are left out.
    Visible,
    /// Every account (uniqueness lookups must see protected ones).
    All,
}

/// A ListResponse (RFC 7644 §3.4.2): one page of resources and the
/// totals. Written directly as JSON ([`ListPage::to_json`]) for the
/// answer, or as a `Value` for the sidecar's own reads.
#[derive(Debug)]
pub struct ListPage {
    /// The resources of the page, projected.
    pub resources: Vec<Value>,
    /// `totalResults`.
    pub total: u64,
    /// `startIndex`, as asked.
    pub start_index: u64,
}

impl ListPage {
    /// The ListResponse as a JSON value.
    pub fn into_value(self) -> Value {
        let mut out = Map::new();
        out.insert("schemas".into(), json!([LIST_URN]));
        out.insert("totalResults".into(), self.total.into());
        out.insert("startIndex".into(), self.start_index.into());
        out.insert("itemsPerPage".into(), self.resources.len().into());
        // Moved, not copied: `json!` would serialise them into new values.
        out.insert("Resources".into(), Value::Array(self.resources));
        Value::Object(out)
    }

    /// The ListResponse's JSON text, byte for byte what serialising
    /// [`ListPage::into_value`] gives (members in the same sorted order:
    /// `Resources`, `itemsPerPage`, `schemas`, `startIndex`,
    /// `totalResults`), without building the envelope as a `Value`.
    pub fn to_json(&self) -> Vec<u8> {
        let written: Result<_, std::convert::Infallible> = list_text(
            self.resources.len(),
            self.start_index,
            self.total,
            |out, i| {
                // Writing a `Value` into a `Vec` cannot fail.
                let _ = serde_json::to_writer(out, &self.resources[i]);
                Ok(())
            },
        );
        written.unwrap_or_else(|never| match never {})
    }
}

/// A ListResponse's text with `n` resources, each written by `resource`,
/// members in the order serialising [`ListPage::into_value`] gives.
fn list_text<E>(
    n: usize,
    start_index: u64,
    total: u64,
    mut resource: impl FnMut(&mut Vec<u8>, usize) -> Result<(), E>,
) -> Result<Vec<u8>, E> {
    let mut out = Vec::with_capacity(160 + RESOURCE_BYTES * n);
    out.extend_from_slice(b"{\"Resources\":[");
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        resource(&mut out, i)?;
    }
    out.extend_from_slice(b"],\"itemsPerPage\":");
    push_number(&mut out, n as u64);
    out.extend_from_slice(b",\"schemas\":[");
    let _ = serde_json::to_writer(&mut out, LIST_URN);
    out.extend_from_slice(b"],\"startIndex\":");
    push_number(&mut out, start_index);
    out.extend_from_slice(b",\"totalResults\":");
    push_number(&mut out, total);
    out.push(b'}');
    Ok(out)
}

/// Room reserved per resource in a ListResponse's text: a typical mapped
/// user fits, so the buffer is rarely grown.
const RESOURCE_BYTES: usize = 400;

fn push_number(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Answers a list or search request with a ListResponse.
pub async fn list(ctx: &Ctx<'_>, q: ListQuery) -> Result<ListPage, ScimError> {
    list_scoped(ctx, q, Scope::Visible).await
}

/// The ListResponse text of a list request. An import page — no filter,
/// sort or projection, every account visible, nothing to attach — of a
/// mapping the direct writer serves is written straight from the app's
/// records ([`ResourceMapping::direct`](crate::mapping::ResourceMapping),
/// the same bytes); anything else is listed and serialised.
pub async fn list_json(ctx: &Ctx<'_>, q: ListQuery) -> Result<Vec<u8>, ScimError> {
    let m = ctx.mapping();
    let import = q.filter.is_none() && q.sort_by.is_none() && !m.fetch_each();
    let Some(direct) = direct_writer(ctx, &q.projection).filter(|_| import) else {
        return Ok(list(ctx, q).await?.to_json());
    };
    let (items, total) = app_page(ctx, q.start_index, page_count(ctx, &q)).await?;
    list_text(items.len(), q.start_index, total, |out, i| {
        direct
            .write(&items[i], |id| ctx.location_of(id), out)
            .map(drop)
            .map_err(ScimError::from)
    })
}

/// The mapping's direct writer when what it writes is the whole answer:
/// no projection, every account visible, nothing attached afterwards.
pub(super) fn direct_writer<'c>(ctx: &'c Ctx<'_>, projection: &Projection) -> Option<Direct<'c>> {
    let plain = projection.attributes.is_empty()
        && projection.excluded.is_empty()
        && !ctx.mapping().protects()
        && !members::managed(ctx)
        && roles_as_groups(ctx).is_none();
    ctx.mapping().direct().filter(|_| plain)
}

/// The page size of a list request: its `count`, else the default within
/// the configured maximum.
fn page_count(ctx: &Ctx<'_>, q: &ListQuery) -> u64 {
    q.count
        .unwrap_or(DEFAULT_COUNT.min(ctx.config().scim.max_page_size as u64))
}

/// [`list`] over the accounts of `scope`.
pub async fn list_scoped(ctx: &Ctx<'_>, q: ListQuery, scope: Scope) -> Result<ListPage, ScimError> {
    if let Some(f) = &q.filter {
        filter_check::check(ctx.mapping(), f)?;
    }
    let count = page_count(ctx, &q);
    // Protected accounts are left out before the page is cut: the app's
    // page would have a hole where one sat and the totals would shift from
    // page to page, so a client stepping by results would skip accounts.
    // Which app positions hold them is known only by reading the list from
    // its start, as a filter without push-down is answered.
    let hides = scope == Scope::Visible && ctx.mapping().protects();
    let (mut resources, total) = match (&q.filter, &q.sort_by) {
        (None, None) if !hides => page(ctx, q.start_index, count).await?,
        _ => filtered(ctx, &q, count, scope).await?,
    };
    if members::wanted(&q.projection) {
        members::attach_all(ctx, &mut resources).await?;
    }
    for r in &mut resources {
        project(r, &q.projection, ctx.mapping().schema());
    }
    Ok(ListPage {
        resources,
        total,
        start_index: q.start_index,
    })
}

/// Unfiltered listing: the app's records of one SCIM page, mapped.
async fn page(ctx: &Ctx<'_>, start: u64, count: u64) -> Result<(Vec<Value>, u64), ScimError> {
    let (items, total) = app_page(ctx, start, count).await?;
    Ok((map_all(ctx, items).await?, total))
}

/// The app's records of one SCIM page, and the total.
async fn app_page(ctx: &Ctx<'_>, start: u64, count: u64) -> Result<(Vec<Value>, u64), ScimError> {
    let scan_limit = ctx.config().scim.filter_scan_limit as u64;
    paging::page(&ctx.host, start, count, scan_limit).await
}

/// Filtered (or sorted) listing: candidates from a pushed-down search or a
/// scan, then evaluation, sorting and slicing in the sidecar.
async fn filtered(
    ctx: &Ctx<'_>,
    q: &ListQuery,
    count: u64,
    scope: Scope,
) -> Result<(Vec<Value>, u64), ScimError> {
    let limit = ctx.config().scim.filter_scan_limit as u64;
    // `id eq "…"` (Entra's membership check `id eq G and members eq U`)
    // is one read of that resource, however many the app holds.
    if let Some(id) = q.filter.as_ref().and_then(id_term) {
        let found = match fetch_current(ctx, &id).await {
            Ok(c) => vec![c.scim],
            Err(e) if e.status == http::StatusCode::NOT_FOUND => Vec::new(),
            Err(e) => return Err(e),
        };
        return finish_filtered(ctx, q, count, found, scope).await;
    }
    let pushed = q.filter.as_ref().and_then(|f| pushdown(ctx, f));
    let (host_items, complete) = match &pushed {
        Some((rule, value)) if rule.lookup().is_some() => (lookup(ctx, rule, value).await?, true),
        Some((rule, value)) => walk(ctx, Some((rule, value)), limit).await?,
        None => walk(ctx, None, limit).await?,
    };
    if !complete {
        let what = match (&q.filter, &q.sort_by) {
            (Some(_), _) => "this filter",
            (None, Some(_)) => "sorting",
            (None, None) => "a list that leaves out the protected accounts",
        };
        tracing::info!(limit, pushed_down = pushed.is_some(), "scan limit reached");
        return Err(ScimError::bad_request(
            if q.filter.is_some() {
                ScimType::InvalidFilter
            } else {
                ScimType::TooMany
            },
            format!(
                "{what} cannot be answered: the app holds more than {limit} candidate resources and cannot search on it"
            ),
        ));
    }
    let resources = map_all(ctx, host_items).await?;
    finish_filtered(ctx, q, count, resources, scope).await
}

/// Evaluates the filter on the candidates (their members read first when
/// the filter names `members`), sorts and slices.
async fn finish_filtered(
    ctx: &Ctx<'_>,
    q: &ListQuery,
    count: u64,
    mut resources: Vec<Value>,
    scope: Scope,
) -> Result<(Vec<Value>, u64), ScimError> {
    if let Some(f) = &q.filter {
        if names_members(f) {
            members::attach_all(ctx, &mut resources).await?;
        }
        let schema = ctx.mapping().schema();
        resources.retain(|r| matches(f, r, schema));
    }
    if scope == Scope::Visible {
        resources.retain(|r| !ctx.mapping().is_protected(r));
    }
    if let Some(by) = &q.sort_by {
        sort(&mut resources, by, q.descending);
    }
    let total = resources.len() as u64;
    let picked = resources
        .into_iter()
        .skip((q.start_index - 1) as usize)
        .take(count as usize)
        .collect();
    Ok((picked, total))
}

/// The id of an `id eq "…"` term reachable through `and`.
pub(super) fn id_term(f: &Filter) -> Option<String> {
    match f {
        Filter::And(a, b) => id_term(a).or_else(|| id_term(b)),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } if path.is_core() && path.sub.is_none() && path.name.eq_ignore_ascii_case("id") => {
            Some(s.clone())
        }
        _ => None,
    }
}

/// Whether a filter names the `members` attribute anywhere.
fn names_members(f: &Filter) -> bool {
    match f {
        Filter::And(a, b) | Filter::Or(a, b) => names_members(a) || names_members(b),
        Filter::Not(inner) => names_members(inner),
        Filter::Compare { path, .. } | Filter::Present(path) | Filter::ValuePath { path, .. } => {
            path.is_core() && path.name.eq_ignore_ascii_case("members")
        }
    }
}

/// The push-down rule covering one `and` term of the filter (`userName eq
/// "x"`, or Entra's `emails[type eq "work"].value eq "x"` via its `value`
/// term), with the term's value. A rule whose app search is
/// case-sensitive is used only for case-exact attributes: otherwise a
/// differently cased stored value would be missed and the IdP would
/// create a duplicate.
pub(super) fn pushdown<'m>(ctx: &Ctx<'m>, f: &Filter) -> Option<(&'m PushdownRule, String)> {
    let mut terms = Vec::new();
    let m = ctx.host.mapping;
    conjuncts(m.schema(), f, None, &mut terms);
    terms.into_iter().find_map(|(key, value, case_exact)| {
        let rule = m.pushdown(&key, "eq")?;
        (rule.case_insensitive() || case_exact).then_some((rule, value))
    })
}

/// A get-by-key lookup (`GET /users/{value}`): the one record it answers,
/// or none on 404.
pub(super) async fn lookup(
    ctx: &Ctx<'_>,
    rule: &PushdownRule,
    value: &str,
) -> Result<Vec<Value>, ScimError> {
    let Some(op) = rule.lookup() else {
        return Ok(Vec::new());
    };
    let vars = Vars {
        value: Some(value),
        value_of: Some(rule.attr()),
        ..ctx.host.vars()
    };
    match ctx.host.call_op(op, &vars).await {
        Ok(reply) => {
            let body = reply.body.ok_or_else(|| bad_answer("search lookup"))?;
            let item = op
                .extract_item(&body)
                .filter(|i| i.is_object())
                .ok_or_else(|| bad_answer("search lookup"))?;
            if rule.follows() {
                follow(ctx, rule, item).await
            } else {
                Ok(vec![item.clone()])
            }
        }
        Err(e) if e.status == http::StatusCode::NOT_FOUND => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The second step of a reverse lookup: the record whose id the answer
/// holds, read with the resource's get (404: the index was stale, no
/// match). An answer without an id is a bad answer, not "no match".
async fn follow(
    ctx: &Ctx<'_>,
    rule: &PushdownRule,
    answer: &Value,
) -> Result<Vec<Value>, ScimError> {
    let id = rule
        .followed_id(answer)
        .ok_or_else(|| bad_answer("search lookup (no id)"))?;
    match fetch_any(ctx, &id).await {
        Ok(current) => Ok(vec![current.host]),
        Err(e) if e.status == http::StatusCode::NOT_FOUND => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Collects the `attr eq value` terms reachable through `and` (and inside
/// value paths) as (lookup key, value, caseExact).
fn conjuncts(
    schema: &ResourceSchema,
    f: &Filter,
    parent: Option<&str>,
    out: &mut Vec<(String, String, bool)>,
) {
    match f {
        Filter::And(a, b) => {
            conjuncts(schema, a, parent, out);
            conjuncts(schema, b, parent, out);
        }
        Filter::ValuePath { path, filter } => conjuncts(schema, filter, Some(&path.key()), out),
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => {
            let text = match value {
                CompValue::Str(s) => s.clone(),
                CompValue::Number(n) => n.to_string(),
                CompValue::Bool(b) => b.to_string(),
                CompValue::Null => return,
            };
            let key = match parent {
                Some(p) => format!("{p}.{}", path.key()),
                None => path.key(),
            };
            let exact = parent.is_none() && path.case_exact_in(schema);
            out.push((key, text, exact));
        }
        _ => {}
    }
}

/// Walks the app's list from the start, collecting up to `limit` items;
/// `true` when the list was exhausted within the limit.
async fn walk(
    ctx: &Ctx<'_>,
    search: Option<(&PushdownRule, &str)>,
    limit: u64,
) -> Result<(Vec<Value>, bool), ScimError> {
    paging::walk_list(&ctx.host, OpKind::List, None, &[], search, limit).await
}

/// Maps host items to SCIM resources; with `fetch_each`, fetches each item
/// in full first (bounded concurrency, order kept).
async fn map_all(ctx: &Ctx<'_>, items: Vec<Value>) -> Result<Vec<Value>, ScimError> {
    let m = ctx.mapping();
    if !m.fetch_each() {
        return items.iter().map(|i| resource_of(ctx, i)).collect();
    }
    // Only the id is read from a summary: its other fields may differ
    // from the full record's (units, formats) and are never shown.
    let ids: Vec<String> = items
        .iter()
        .map(|i| m.id_of_host(i).map_err(|_| bad_answer("list")))
        .collect::<Result<_, _>>()?;
    stream::iter(
        ids.into_iter()
            .map(|id| async move { fetch_any(ctx, &id).await.map(|c| c.scim) }),
    )
    .buffered(ctx.config().host.concurrency)
    .try_collect()
    .await
}

/// Sorts by an attribute (RFC 7644 §3.4.2.3): missing values sort last in
/// ascending order; strings compare case-insensitively.
fn sort(resources: &mut [Value], by: &AttrPath, descending: bool) {
    let key = |r: &Value| -> Option<Value> {
        let base = match &by.urn {
            Some(urn) => get_ci(r, urn)?,
            None => r,
        };
        let mut v = get_ci(base, &by.name)?;
        if let Some(sub) = &by.sub {
            v = get_ci(v, sub)?;
        }
        Some(v.clone())
    };
    resources.sort_by(|a, b| {
        let ord = match (key(a), key(b)) {
            (Some(x), Some(y)) => compare(&x, &y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if descending { ord.reverse() } else { ord }
    });
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The envelope written directly, and the one built as a value, are
    /// the ListResponse `json!` builds, byte for byte: empty, one and
    /// several resources, large numbers.
    #[test]
    fn list_page_text_is_its_value_serialised() {
        let user = |id: &str| json!({"id": id, "userName": "a\"b\u{e9}", "meta": {"x": 1}});
        let pages = [
            (vec![], 0, 1),
            (vec![user("1")], 1, 1),
            (vec![user("1"), user("2"), json!({})], u64::MAX, 10_000),
        ];
        for (resources, total, start_index) in pages {
            let want = serde_json::to_string(&json!({
                "schemas": [LIST_URN],
                "totalResults": total,
                "startIndex": start_index,
                "itemsPerPage": resources.len(),
                "Resources": resources,
            }))
            .unwrap();
            let page = ListPage {
                resources,
                total,
                start_index,
            };
            assert_eq!(String::from_utf8(page.to_json()).unwrap(), want);
            assert_eq!(serde_json::to_string(&page.into_value()).unwrap(), want);
        }
    }
}
