//! Account-state actions below a user item (`…/{id}/suspend` and
//! `…/unsuspend`, `…/lifecycle/deactivate` and `…/reactivate`, `PUT` and
//! `DELETE` of `…/{id}/suspended`), chosen as a pair so that `active`
//! can go both ways.

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
