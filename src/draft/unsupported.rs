//! API shapes the drafter recognises where the document states them but
//! does not draft, named in `TODO` lines at the end of the draft with the
//! mapping keys that express them: RPC-style method URLs (`id_field`,
//! search rules with `get` and `query`), RFC 6902 JSON Patch outside an
//! update's PATCH, other body media types, creates by invitation
//! (`accepts`), query documents with the app's own operators, and a
//! missing single-user GET (an `'id eq'` search rule). (A `Link` header
//! and a header total are drafted by the paging module, a JSON Patch
//! update by the users table.) When the drafter learns to write a shape,
//! its recognition moves from here into the table it belongs to.

use super::ops::{Method, Operation};
use super::resources::{self, Family};

/// `TODO` lines for shapes the drafter does not write, where the
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
            "TODO: RPC-style method URLs ({}): map each call as its operation — `post = \"/…/users.update\"` with `id_field = \"$.userId\"` (and `wrap`) for the id in the body, actions with `body = {{ userId = \"{{id}}\" }}`, lookups as search rules with `get` and `query`",
            rpc.join(", ")
        ));
    }
    for f in users {
        for op in f.items.iter().chain(f.create.iter()) {
            let patch = op.other_media.iter().any(|m| m.contains("json-patch"));
            if patch && op.method == Method::Patch {
                // Drafted as the update's `body_format = "json-patch"`.
            } else if patch {
                out.push(format!(
                    "TODO: {} {} takes only RFC 6902 JSON Patch (application/json-patch+json), which the sidecar sends only as an update's PATCH (`body_format = \"json-patch\"`)",
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
                    "TODO: {} {} creates users by invitation: without another create, map it as [users.create] with `accepts` naming what it takes (`[\"emails\"]`); the rest follows in the update, which `{{current.userName}}` can key by the username as last read",
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
            "TODO: the document has no GET of a single user: add an `'id eq'` search rule whose `query` filters the list by id (records are then read through the list, one call per read), or write [users.get] by hand"
                .into(),
        );
    }
    out.sort();
    out.dedup();
    out
}
