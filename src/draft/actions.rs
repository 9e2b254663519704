//! Account-state actions below a user item (`…/{id}/suspend` and
//! `…/unsuspend`, `…/lifecycle/deactivate` and `…/reactivate`, `PUT` and
//! `DELETE` of `…/{id}/suspended`), chosen as a pair so that `active`
//! can go both ways; and the API shapes the mapping cannot express yet,
//! named in `TODO` lines where the document states them.

use super::ops::{Method, Operation};
use super::resources::{self, Family};

/// Deactivate verbs and their inverses, preferred first.
const PAIRS: &[(&str, &[&str])] = &[
    ("deactivate", &["reactivate", "activate"]),
    ("suspend", &["unsuspend"]),
    ("disable", &["enable"]),
    ("block", &["unblock"]),
    ("lock", &["unlock"]),
    ("ban", &["unban"]),
    ("archive", &["unarchive", "restore"]),
];
/// State nouns set with PUT and cleared with DELETE.
const STATES: &[&str] = &[
    "suspended",
    "disabled",
    "blocked",
    "locked",
    "banned",
    "deactivated",
];

/// The chosen pair: (deactivate, activate).
pub struct Pair<'a> {
    pub deactivate: &'a Operation<'a>,
    pub activate: &'a Operation<'a>,
    /// Other verbs found, for a comment.
    pub others: Vec<String>,
}

fn verb(rest: &[String]) -> Option<String> {
    let last = rest.last()?;
    if resources::is_param(last) || rest.iter().any(|s| resources::is_param(s)) {
        return None;
    }
    Some(resources::bare(last).replace('-', "_"))
}

/// The best deactivate/activate pair below the items of `fams`.
pub fn pair<'a>(fams: &[&Family<'a>]) -> Option<Pair<'a>> {
    let below: Vec<(&'a Operation<'a>, String)> = fams
        .iter()
        .flat_map(|f| f.below.iter())
        .filter_map(|(op, rest)| verb(rest).map(|v| (*op, v)))
        .collect();
    let find = |v: &str, methods: &[Method]| {
        below
            .iter()
            .find(|(op, w)| w == v && methods.contains(&op.method))
            .map(|(op, _)| *op)
    };
    let writes = [Method::Post, Method::Put, Method::Patch];
    let mut others = Vec::new();
    let mut chosen = None;
    for (off, ons) in PAIRS {
        let Some(d) = find(off, &writes) else {
            continue;
        };
        // The inverse whose text names the state the deactivation leaves
        // (Okta: `activate` works on DEPROVISIONED users, `reactivate` on
        // PROVISIONED ones), else the first that exists.
        let inverses: Vec<&Operation<'a>> = ons.iter().filter_map(|on| find(on, &writes)).collect();
        let names_state = |o: &&Operation<'a>| {
            let t = o.text();
            t.contains("deprovisioned")
                || t.contains("deactivated")
                || t.contains("suspended")
                || t.contains("disabled")
        };
        let Some(a) = inverses
            .iter()
            .copied()
            .find(names_state)
            .or_else(|| inverses.first().copied())
        else {
            others.push(format!("{} {} (no inverse)", d.method.upper(), d.path));
            continue;
        };
        if chosen.is_none() {
            chosen = Some((d, a));
        } else {
            others.push(format!(
                "{} {} / {} {}",
                d.method.upper(),
                d.path,
                a.method.upper(),
                a.path
            ));
        }
    }
    for state in STATES {
        if let (Some(d), Some(a)) = (
            find(state, &[Method::Put, Method::Post]),
            find(state, &[Method::Delete]),
        ) {
            if chosen.is_none() {
                chosen = Some((d, a));
            } else {
                others.push(format!(
                    "{} / {} {}",
                    d.method.upper(),
                    a.method.upper(),
                    d.path
                ));
            }
        }
    }
    chosen.map(|(deactivate, activate)| Pair {
        deactivate,
        activate,
        others,
    })
}

/// `TODO` lines for shapes the mapping cannot express yet, where the
/// document states them.
pub fn shapes(ops: &[Operation<'_>], users: &[&Family<'_>], has_get: bool) -> Vec<String> {
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
