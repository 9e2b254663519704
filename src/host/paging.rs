//! The app's lists, page by page, in whichever paging style the mapping
//! declares (offset, page, cursor token, next link or none): the app
//! pages that make up one SCIM page ([`page`]), and walking a list from
//! the start for scans, lookups and a group's member listing
//! ([`walk_list`]). A walk is bounded by a limit on the items read and by
//! the number of calls, and an answer that does not fit (a short page
//! while the app's total says more exist, a `next` that is neither a
//! cursor the mapping sends back nor a link) is a 502 rather than a
//! silent gap.

use super::{HostCtx, HostReply, bad_answer};
use crate::error::{ScimError, ScimType};
use crate::mapping::{OpKind, Page, Paging, PushdownRule, ResourceMapping, Vars};
use http::StatusCode;
use serde_json::Value;

/// Page size for walking the app's list when it declares no cap.
pub(crate) const WALK_PAGE: u64 = 100;

/// Walks the list operation `kind` (`List`, or `MembersList` of the group
/// `id`) from the start, collecting up to `limit` items; `true` when the
/// list was exhausted within the limit. `search` is a push-down rule and
/// its value, whose parameters merge into the list call's.
pub async fn walk_list(
    host: &HostCtx<'_>,
    kind: OpKind,
    id: Option<&str>,
    extra: &[(String, String)],
    search: Option<(&PushdownRule, &str)>,
    limit: u64,
) -> Result<(Vec<Value>, bool), ScimError> {
    let m = host.mapping;
    let size = m.max_page_size_of(kind).unwrap_or(WALK_PAGE).max(1);
    let base = match m.paging_of(kind) {
        Paging::Offset { base } => base,
        _ => 0,
    };
    let page_base = match m.paging_of(kind) {
        Paging::Page { base } => base,
        _ => 1,
    };
    let mut items: Vec<Value> = Vec::new();
    let mut cursor: Option<String> = None;
    let uses_cursor = m.op(kind).is_some_and(|op| op.uses_cursor());
    // Every call that does not end the walk adds at least one item, so
    // this bounds the calls even for apps with tiny pages.
    let max_calls = limit.saturating_add(2);
    for call in 0..max_calls {
        let vars = Vars {
            offset: Some(base + items.len() as u64),
            limit: Some(size),
            page: Some(call + page_base),
            cursor: cursor.as_deref(),
            extra_query: extra,
            id,
            value: search.map(|(_, v)| v),
            value_of: search.map(|(r, _)| r.attr()),
            search: search.map(|(r, _)| r.query()),
            ..host.vars()
        };
        let page = match cursor.as_deref() {
            Some(link) if is_link(link) => follow_page(host, kind, link, &vars).await?,
            Some(_) if !uses_cursor => {
                return Err(bad_answer("list (a `next` value that is not a link)"));
            }
            _ => fetch_page_of(host, kind, &vars).await?,
        };
        let got = page.items.len() as u64;
        items.extend(page.items);
        if items.len() as u64 > limit {
            return Ok((items, false));
        }
        let seen = items.len() as u64;
        if got == 0 && page.total.is_some_and(|t| seen < t) {
            // The app's total says more exist but its page is empty: a
            // filtered lookup must not answer "none" from a broken walk.
            return Err(short_pages(size));
        }
        let done = got == 0
            || match m.paging_of(kind) {
                Paging::None => true,
                Paging::Cursor => page.next_cursor.is_none(),
                // A short page ends the list, unless the app's total says
                // more exist: an app that caps pages below our size is
                // walked on from where it stopped.
                Paging::Offset { .. } => page.total.map_or(got < size, |t| seen >= t),
                // Pages are numbered by our size: a short page with more
                // to come means the app caps below it, and walking on by
                // page number would skip records.
                Paging::Page { .. } => match page.total {
                    Some(t) if got < size && seen < t => return Err(short_pages(size)),
                    Some(t) => seen >= t,
                    None => got < size,
                },
            };
        if done {
            return Ok((items, true));
        }
        cursor = page.next_cursor;
    }
    Ok((items, false))
}

/// The app's records of one unfiltered SCIM page (`startIndex` `start`,
/// `count` records) and the total to report: one app page or a few where
/// the app can seek; where it cannot (cursors, or no paging), a walk from
/// the start, bounded by `scan_limit`.
pub async fn page(
    host: &HostCtx<'_>,
    start: u64,
    count: u64,
    scan_limit: u64,
) -> Result<(Vec<Value>, u64), ScimError> {
    let m = host.mapping;
    if matches!(m.paging(), Paging::Cursor | Paging::None) {
        return walked_page(host, start, count, scan_limit).await;
    }
    let plan = m.plan_pages(start, count.max(1));
    let mut items = Vec::new();
    let mut total = None;
    let mut at_end = false;
    for req in &plan {
        let vars = Vars {
            offset: req.offset,
            limit: req.limit,
            page: req.page,
            ..host.vars()
        };
        let page = fetch_page_of(host, OpKind::List, &vars).await?;
        total = total.or(page.total);
        let got = page.items.len();
        items.extend(page.items.into_iter().skip(req.skip).take(req.take));
        if let Some(limit) = req.limit.filter(|l| (got as u64) < *l) {
            // A short page is the end, unless the app's total says records
            // follow it: then the app caps pages below our size and the
            // next SCIM page would skip records.
            let reached = match (req.offset, req.page) {
                (Some(offset), _) => offset.saturating_sub(base_offset(m)) + got as u64,
                (None, Some(page)) => page.saturating_sub(base_page(m)) * limit + got as u64,
                (None, None) => got as u64,
            };
            if page.total.is_some_and(|t| t > reached) {
                return Err(short_pages(limit));
            }
            at_end = true;
            break;
        }
    }
    if count == 0 {
        items.clear();
    }
    let returned = items.len() as u64;
    // Without a total from the app: exact at the end, otherwise one more
    // than seen so that clients ask for the next page.
    let total = total.unwrap_or(if at_end {
        start - 1 + returned
    } else {
        start + returned
    });
    Ok((items, total))
}

/// [`page`] for an app that cannot seek: walk from the start, bounded by
/// the scan limit.
async fn walked_page(
    host: &HostCtx<'_>,
    start: u64,
    count: u64,
    scan_limit: u64,
) -> Result<(Vec<Value>, u64), ScimError> {
    let wanted = (start - 1).saturating_add(count);
    // Without paging the one call already returned everything: keep it
    // all, so the total is exact.
    let bound = if host.mapping.paging() == Paging::None {
        u64::MAX
    } else if wanted > scan_limit {
        return Err(ScimError::bad_request(
            ScimType::TooMany,
            format!(
                "the app pages with cursors, so reaching startIndex {start} means reading more than the scan limit of {scan_limit} resources"
            ),
        ));
    } else {
        wanted
    };
    let (items, complete) = walk_list(host, OpKind::List, None, &[], None, bound).await?;
    let total = if complete {
        items.len() as u64
    } else {
        wanted + 1
    };
    let picked = items
        .into_iter()
        .skip((start - 1) as usize)
        .take(count as usize)
        .collect();
    Ok((picked, total))
}

/// The app's first page number (1 unless the mapping says `page_base = 0`).
fn base_page(m: &ResourceMapping) -> u64 {
    match m.paging() {
        Paging::Page { base } => base,
        _ => 1,
    }
}

/// The app's first offset (0 unless the mapping says otherwise).
fn base_offset(m: &ResourceMapping) -> u64 {
    match m.paging() {
        Paging::Offset { base } => base,
        _ => 0,
    }
}

/// The app returned fewer records than asked while its total says more
/// exist: the mapping's `max_page_size` is above the app's real cap.
fn short_pages(size: u64) -> ScimError {
    tracing::warn!(
        size,
        "the app returns shorter pages than requested; set max_page_size to its cap"
    );
    ScimError::upstream(
        StatusCode::BAD_GATEWAY,
        format!(
            "the app returned a short page for a page size of {size} while its total says more exist; the mapping's max_page_size must be the app's page cap"
        ),
    )
}

/// Whether a `next` value is a link to follow rather than a cursor token.
fn is_link(next: &str) -> bool {
    next.starts_with('/') || next.starts_with("http://") || next.starts_with("https://")
}

async fn follow_page(
    host: &HostCtx<'_>,
    kind: OpKind,
    link: &str,
    vars: &Vars<'_>,
) -> Result<Page, ScimError> {
    page_of(host, kind, host.follow(kind, link, vars).await?)
}

async fn fetch_page_of(
    host: &HostCtx<'_>,
    kind: OpKind,
    vars: &Vars<'_>,
) -> Result<Page, ScimError> {
    page_of(host, kind, host.read(kind, vars).await?)
}

/// The page in a list answer.
fn page_of(host: &HostCtx<'_>, kind: OpKind, reply: HostReply) -> Result<Page, ScimError> {
    let body = reply.body.ok_or_else(|| bad_answer(kind.key()))?;
    host.mapping
        .extract_page_with(kind, body, &reply.headers)
        .map_err(ScimError::from)
}
