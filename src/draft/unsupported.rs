//! API shapes the mapping cannot express yet, recognised where the
//! document states them and named in `TODO` lines at the end of the
//! draft: RPC-style method URLs, updates that take only RFC 6902 JSON
//! Patch, other body media types, creates by invitation, query documents
//! with the app's own operators, and a missing single-user GET. (Paging
//! shapes — a `Link` header, a header total, keyset `since` — are named by
//! the paging module.) When the mapping learns a shape, its recognition
//! moves from here into the drafting of the table it belongs to.

use super::ops::{Method, Operation};
use super::resources::{self, Family};

/// `TODO` lines for shapes the mapping cannot express yet, where the
/// document states them.
pub fn todos(ops: &[Operation<'_>], users: &[&Family<'_>], has_get: bool) -> Vec<String> {
    let mut out = Vec::new();
    let rpc: Vec<&str> = ops
        .iter()
        .filter(|o| {
            let last = resources::segments(&o.path)
                .last()
                .cloned()
                .unwrap_or_default();
            let (noun, method) = last.split_once('.').unwrap_or(("", ""));
            matches!(noun, "users" | "user" | "usergroups" | "admin")
                && !method.is_empty()
                && method != "json"
        })
        .map(|o| o.path.as_str())
        .take(4)
        .collect();
    if !rpc.is_empty() {
        out.push(format!(
            "TODO: RPC-style method URLs ({}): writes that POST to a method URL with the id in the body cannot be mapped yet",
            rpc.join(", ")
        ));
    }
    for f in users {
        for op in f.items.iter().chain(f.create.iter()) {
            if op.other_media.iter().any(|m| m.contains("json-patch")) {
                out.push(format!(
                    "TODO: {} {} takes only RFC 6902 JSON Patch (application/json-patch+json), which the mapping cannot send yet",
                    op.method.upper(),
                    op.path
                ));
            } else if !op.other_media.is_empty() && op.body.is_none() {
                out.push(format!(
                    "TODO: {} {} takes {} bodies; the sidecar sends JSON",
                    op.method.upper(),
                    op.path,
                    op.other_media.join(", ")
                ));
            }
        }
        for (op, rest) in &f.beside {
            let word = rest.first().map(|w| resources::bare(w)).unwrap_or_default();
            if op.method == Method::Post
                && matches!(word.as_str(), "invite" | "invitations" | "invites")
            {
                out.push(format!(
                    "TODO: {} {} creates users by invitation, which the mapping cannot use as its create yet",
                    op.method.upper(),
                    op.path
                ));
            }
        }
        if let Some(list) = f.list {
            for p in list.query() {
                let d = p.description.to_lowercase();
                if d.contains("json")
                    && (d.contains("filter") || d.contains("query"))
                    && matches!(p.name.as_str(), "filter" | "query" | "where" | "q")
                {
                    out.push(format!(
                        "TODO: `{}` takes a JSON query document; a search rule can send it with `{{ json = {{ … }} }}`, but the operators are the app's own",
                        p.name
                    ));
                }
            }
        }
    }
    if !has_get {
        out.push(
            "TODO: the document has no GET of a single user; a get through a filtered list is not expressible yet, so [users.get] must be written by hand"
                .into(),
        );
    }
    out.sort();
    out.dedup();
    out
}
