//! Paging of the list operation: the style (offset/limit, page/per_page,
//! cursor, OData `$skip/$top`, Keycloak's `first/max`) from the query
//! parameters, the first page or offset from the parameter's `minimum`,
//! `default` or description, the page-size cap from `maximum`, and the
//! items, total and next-cursor paths from the list answer's schema.
//! A next page in an RFC 8288 `Link` header and a total only in a
//! response header (`X-Total-Count`, `Content-Range`) are drafted as
//! `next = "header:Link"` and `total = "header:<Name>"`; a keyset `since`
//! without a `Link` header becomes a `TODO` line naming it.

use super::model::{Entry, Tv};
use super::ops::{Operation, Param};
use super::resources;
use super::schema::{self, Kind};
use super::spec::Spec;
use super::text;
use serde_json::Value;

const OFFSET: &[&str] = &["offset", "skip", "start", "start_index", "from", "first"];
const LIMIT: &[&str] = &[
    "limit",
    "per_page",
    "perpage",
    "page_size",
    "pagesize",
    "size",
    "max",
    "max_results",
    "maxresults",
    "top",
    "take",
    "count",
    "page_limit",
    "num",
];
const PAGE: &[&str] = &[
    "page",
    "page_number",
    "pagenumber",
    "page_num",
    "page_index",
];
const CURSOR: &[&str] = &[
    "cursor",
    "after",
    "marker",
    "page_token",
    "pagetoken",
    "next_token",
    "nexttoken",
    "starting_after",
    "continuation",
    "continuation_token",
    "skiptoken",
    "start_cursor",
    "since",
];
const TOTAL: &[&str] = &[
    "total",
    "total_count",
    "totalcount",
    "total_results",
    "totalresults",
    "total_entries",
    "total_items",
    "totalitems",
    "total_size",
    "total_records",
    "records_total",
    "count",
];
const NEXT: &[&str] = &[
    "next_cursor",
    "nextcursor",
    "next_page_token",
    "nextpagetoken",
    "next_token",
    "nexttoken",
    "next_link",
    "nextlink",
    "odata_next_link",
    "next",
    "next_url",
    "next_page_url",
];

/// The paging parameters' names, to keep them out of search rules.
pub fn is_paging(p: &Param<'_>) -> bool {
    let n = schema::snake(&p.name);
    [OFFSET, LIMIT, PAGE, CURSOR]
        .iter()
        .any(|set| set.contains(&n.as_str()))
}

fn find<'a, 'o>(list: &'o Operation<'a>, names: &[&str]) -> Option<&'o Param<'a>> {
    names
        .iter()
        .find_map(|n| list.query().find(|p| schema::snake(&p.name) == *n))
}

/// What the list operation table gets: its keys and comment lines.
pub struct Paging {
    pub keys: Vec<Entry>,
    pub notes: Vec<String>,
    /// Query parameters for paging (name, template).
    pub query: Vec<(String, Tv)>,
}

/// Drafts paging for `list`.
pub fn paging(spec: &Spec, list: &Operation<'_>) -> Paging {
    let mut p = Paging {
        keys: Vec::new(),
        notes: Vec::new(),
        query: Vec::new(),
    };
    let answer = list.success();
    let body = answer.and_then(|r| r.schema);
    let envelope = body.filter(|b| schema::kind(spec, *b) == Kind::Object);
    let elements = body.and_then(|b| resources::list_elements(spec, b));
    if let Some((keys, _)) = &elements
        && !keys.is_empty()
    {
        let path = format!("{}[*]", schema::json_path(keys));
        p.keys.push(Entry::new(
            "items",
            Tv::s(path),
            "the array in the list answer",
        ));
    }
    let item_keys = elements
        .as_ref()
        .map(|(k, _)| k.clone())
        .unwrap_or_default();
    if let Some(env) = envelope
        && let Some(total) = scalar_path(spec, env, TOTAL, &item_keys, |k| {
            k == Kind::Integer || k == Kind::Number
        })
    {
        p.keys.push(Entry::new(
            "total",
            Tv::s(schema::json_path(&total)),
            "the total count in the list answer",
        ));
    }
    let headers: Vec<&String> = answer
        .map(|r| r.headers.iter().collect())
        .unwrap_or_default();
    if !p.keys.iter().any(|e| e.key == "total")
        && let Some(h) = headers.iter().find(|h| {
            ["x-total-count", "x-total", "total-count", "content-range"].contains(&h.as_str())
        })
    {
        p.keys.push(Entry::new(
            "total",
            Tv::s(format!("header:{}", header_name(h))),
            format!(
                "the total count is only in the `{}` response header",
                header_name(h)
            ),
        ));
    }
    let limit = find(list, LIMIT);
    if let Some(page) = find(list, PAGE) {
        let (base, how) = first_number(page, "page");
        p.query.push((page.name.clone(), Tv::s("{page}")));
        if let Some(l) = limit {
            p.query.push((l.name.clone(), Tv::s("{limit}")));
        }
        p.keys.push(Entry::new("page_base", Tv::Int(base), how));
    } else if let Some(off) = find(list, OFFSET) {
        let (base, how) = first_number(off, "offset");
        p.query.push((off.name.clone(), Tv::s("{offset}")));
        if let Some(l) = limit {
            p.query.push((l.name.clone(), Tv::s("{limit}")));
        }
        if base != 0 {
            p.keys.push(Entry::new("offset_base", Tv::Int(base), how));
        }
    } else if let Some((param, page, size)) = json_paging(spec, list) {
        // One query parameter holding a JSON document with the paging.
        let mut doc = vec![(page.clone(), Tv::s("{page}"))];
        if let Some(size) = &size {
            doc.push((size.clone(), Tv::s("{limit}")));
        }
        p.query
            .push((param.clone(), Tv::table([("json", Tv::Table(doc))])));
        p.keys.push(Entry::new(
            "page_base",
            Tv::Int(1),
            format!("TODO: `{param}` is a JSON document with `{page}`; the document does not say where pages start (1 assumed)"),
        ));
    } else {
        cursor(spec, list, envelope, &item_keys, limit, &headers, &mut p);
    }
    if let Some(l) = limit
        && p.query.iter().any(|(n, _)| *n == l.name)
        && let Some((max, how)) = maximum(l)
    {
        p.keys.push(Entry::new("max_page_size", Tv::Int(max), how));
    }
    p
}

/// A response header's name as conventionally written (`X-Total-Count`).
fn header_name(lower: &str) -> String {
    lower
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `next = "header:Link"`: the next page is the `rel="next"` link of the
/// answer's `Link` header, followed as it is (it carries the cursor).
fn link_header_next(p: &mut Paging, limit: Option<&Param<'_>>, why: String) {
    if let Some(l) = limit {
        p.query.push((l.name.clone(), Tv::s("{limit}")));
    }
    p.keys.push(Entry::new("next", Tv::s("header:Link"), why));
}

fn cursor(
    spec: &Spec,
    list: &Operation<'_>,
    envelope: Option<super::spec::Node<'_>>,
    item_keys: &[String],
    limit: Option<&Param<'_>>,
    headers: &[&String],
    p: &mut Paging,
) {
    let cur = find(list, CURSOR);
    let next = envelope.and_then(|env| {
        scalar_path(spec, env, NEXT, item_keys, |k| {
            k == Kind::String || k == Kind::Object || k == Kind::Unknown
        })
    });
    let link_header = headers.iter().any(|h| h.as_str() == "link")
        || cur.is_some_and(|c| text::has(&c.description, &["link header", "`link`"]))
        || text::has(&list.description, &["link header"]);
    let since = cur.filter(|c| schema::snake(&c.name) == "since");
    match (cur, next) {
        (Some(c), None) if link_header => link_header_next(
            p,
            limit,
            format!(
                "`{}` comes from a `Link: <…>; rel=\"next\"` response header (RFC 8288), whose link is followed as it is",
                c.name
            ),
        ),
        (None, None) if link_header => link_header_next(
            p,
            limit,
            "the next page is a `Link: <…>; rel=\"next\"` response header (RFC 8288), followed as it is".into(),
        ),
        (Some(c), Some(next)) if since.is_none() => {
            let link = next.iter().any(|k| {
                let s = schema::snake(k);
                s.contains("link") || s.contains("url") || s == "href"
            });
            let next_path = if next.last().is_some_and(|k| k == "next")
                && schema::kind(spec, list_node(spec, envelope, &next)) == Kind::Object
            {
                let mut n = next.clone();
                n.push("href".into());
                n
            } else {
                next
            };
            if !link {
                p.query.push((c.name.clone(), Tv::s("{cursor}")));
            }
            if let Some(l) = limit {
                p.query.push((l.name.clone(), Tv::s("{limit}")));
            }
            let how = if link {
                "a link to the next page, followed as it is"
            } else {
                "the next page's cursor, sent back as `{cursor}`"
            };
            p.keys.push(Entry::new(
                "next",
                Tv::s(schema::json_path(&next_path)),
                how,
            ));
        }
        (Some(c), _) => {
            let why = if since.is_some() {
                format!("`{}` is a keyset cursor (the last id seen)", c.name)
            } else {
                format!("the answer has no field holding the next `{}`", c.name)
            };
            p.notes.push(format!(
                "TODO: cursor paging: {why}, which the mapping cannot follow yet; only the first page is read, so lists and lookups see at most one page"
            ));
            if let Some(l) = limit {
                p.query
                    .push((l.name.clone(), Tv::s(one_page(l).to_string())));
            }
            p.keys.push(Entry::new(
                "paging",
                Tv::s("none"),
                "one call (see the TODO above)",
            ));
        }
        (None, _) => {
            if let Some(l) = limit {
                p.notes.push(format!(
                    "TODO: the list takes `{}` but no offset, page or cursor: only the first page is read",
                    l.name
                ));
                p.query
                    .push((l.name.clone(), Tv::s(one_page(l).to_string())));
            }
            p.keys.push(Entry::new(
                "paging",
                Tv::s("none"),
                "the list has no paging parameters: one call returns every record",
            ));
        }
    }
}

fn list_node<'a>(
    spec: &'a Spec,
    envelope: Option<super::spec::Node<'a>>,
    keys: &[String],
) -> super::spec::Node<'a> {
    let mut node = match envelope {
        Some(n) => n,
        None => return spec.root(),
    };
    for k in keys {
        match schema::properties(spec, node)
            .into_iter()
            .find(|(n, _, _)| n == k)
        {
            Some((_, n, _)) => node = schema::unwrap(spec, n),
            None => return node,
        }
    }
    node
}

/// The path of the best-named property (top level or one object down,
/// not inside the items) whose type passes `ok`.
fn scalar_path(
    spec: &Spec,
    env: super::spec::Node<'_>,
    names: &[&str],
    items: &[String],
    ok: impl Fn(Kind) -> bool,
) -> Option<Vec<String>> {
    let mut best: Option<(usize, usize, Vec<String>)> = None;
    let mut consider = |keys: Vec<String>, kind: Kind| {
        if !ok(kind) {
            return;
        }
        let leaf = keys.last().map(|k| schema::snake(k)).unwrap_or_default();
        if let Some(rank) = names.iter().position(|n| *n == leaf) {
            let cand = (rank, keys.len(), keys);
            if best.as_ref().is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                best = Some(cand);
            }
        }
    };
    for (name, child, _) in schema::properties(spec, env) {
        if items.first() == Some(&name) && items.len() == 1 {
            continue;
        }
        let k = schema::kind(spec, child);
        consider(vec![name.clone()], k);
        if k == Kind::Object {
            for (inner, grandchild, _) in schema::properties(spec, child) {
                consider(vec![name.clone(), inner], schema::kind(spec, grandchild));
            }
        }
    }
    best.map(|(_, _, k)| k)
}

/// A JSON-document query parameter whose schema has a page number and a
/// page size (Flask-AppBuilder's `q`): (parameter, page key, size key).
fn json_paging(spec: &Spec, list: &Operation<'_>) -> Option<(String, String, Option<String>)> {
    list.query().filter(|p| p.json).find_map(|p| {
        let props = schema::properties(spec, p.schema?);
        let named = |set: &[&str]| {
            props
                .iter()
                .find(|(n, _, _)| set.contains(&schema::snake(n).as_str()))
                .map(|(n, _, _)| n.clone())
        };
        let page = named(PAGE)?;
        Some((p.name.clone(), page, named(LIMIT)))
    })
}

/// The first page or offset: from `minimum`, then `default`, then the
/// description; 1 for pages and 0 for offsets when nothing says.
fn first_number(p: &Param<'_>, what: &str) -> (i64, String) {
    let schema = p.schema.map(|s| s.v);
    let num = |key: &str| schema.and_then(|s| s.get(key)).and_then(Value::as_i64);
    if let Some(m) = num("minimum").filter(|m| *m == 0 || *m == 1) {
        return (m, format!("`{}` has minimum {m}", p.name));
    }
    let d = p.description.to_lowercase();
    if text::has(
        &d,
        &[
            "0-based",
            "zero-based",
            "zero based",
            "starts at 0",
            "starting at 0",
            "starting from 0",
            "first page is 0",
            "start at 0",
        ],
    ) {
        return (
            0,
            format!("the description of `{}` says it counts from 0", p.name),
        );
    }
    if text::has(
        &d,
        &[
            "1-based",
            "one-based",
            "starts at 1",
            "starting at 1",
            "starting from 1",
            "first page is 1",
            "start at 1",
        ],
    ) {
        return (
            1,
            format!("the description of `{}` says it counts from 1", p.name),
        );
    }
    if let Some(m) = num("default").filter(|m| *m == 0 || *m == 1) {
        return (m, format!("`{}` defaults to {m}", p.name));
    }
    if what == "page" {
        (
            1,
            format!(
                "TODO: the document does not say where `{}` starts; 1 assumed",
                p.name
            ),
        )
    } else {
        (0, String::new())
    }
}

/// The largest page one call may ask for: the cap, else the default when
/// it is larger than 200, else 200.
fn one_page(l: &Param<'_>) -> i64 {
    let default = l
        .schema
        .and_then(|s| s.v.get("default"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    maximum(l).map_or(default.max(200), |(m, _)| m)
}

/// The page-size cap from `maximum` or the description.
fn maximum(p: &Param<'_>) -> Option<(i64, String)> {
    if let Some(m) = p
        .schema
        .and_then(|s| s.v.get("maximum"))
        .and_then(Value::as_i64)
        .filter(|m| *m > 0)
    {
        return Some((m, format!("`{}` has maximum {m}", p.name)));
    }
    let d = p.description.to_lowercase();
    let n = text::number_after(
        &d,
        &[
            "maximum of",
            "maximum",
            "max.",
            "max",
            "at most",
            "up to",
            "capped at",
            "cannot exceed",
            "limit is",
        ],
    )?;
    (n > 0).then(|| (n, format!("the description of `{}` caps it at {n}", p.name)))
}
