//! The account state and the password: `active` from a boolean, an
//! inverted boolean (`disabled`, `prohibit_login`) or a state enum with a
//! value map (values that are neither read as no value), and a write-only
//! `password`, generated when the create requires one.

use super::attributes::{Bodies, Found, Rule, writability};
use super::model::Tv;
use super::names::{ACTIVE_FALSE, ACTIVE_TRUE, STATE_ACTIVE, STATE_FIELDS, STATE_INACTIVE};
use super::schema::{self, Kind};
use serde_json::Value;

/// `active` from a boolean, an inverted boolean or a state enum.
pub(super) fn active(
    b: &Bodies<'_>,
    found: &mut Found,
    used: &mut Vec<Vec<String>>,
    actions: bool,
) {
    let top = |names: &[&str], kind: Kind| {
        b.record
            .iter()
            .filter(|f| f.path.len() <= 2 && f.kind == kind && !used.contains(&f.path))
            .filter_map(|f| {
                names
                    .iter()
                    .position(|n| *n == schema::snake(f.name()))
                    .map(|r| (r, f.path.len(), f))
            })
            .min_by_key(|(r, l, _)| (*l, *r))
            .map(|(_, _, f)| f)
    };
    let action_note = if actions {
        "; written through the activate/deactivate actions"
    } else {
        ""
    };
    let (f, mut rule) = if let Some(f) = top(ACTIVE_TRUE, Kind::Boolean) {
        let mut r = Rule::path(f);
        r.comment = format!("boolean `{}`{action_note}", f.path.join("."));
        (f, r)
    } else if let Some(f) = top(ACTIVE_FALSE, Kind::Boolean) {
        let mut r = Rule::path(f);
        r.add(
            "map",
            Tv::table([("true", Tv::Bool(false)), ("false", Tv::Bool(true))]),
        );
        r.comment = format!(
            "`{}` is true for an inactive account{action_note}",
            f.path.join(".")
        );
        (f, r)
    } else if let Some(f) = top(STATE_FIELDS, Kind::String).filter(|f| !f.values.is_empty()) {
        let values: Vec<&str> = f.values.iter().filter_map(Value::as_str).collect();
        let is = |v: &str, set: &[&str]| set.contains(&v.to_ascii_lowercase().as_str());
        let on: Vec<&str> = values
            .iter()
            .copied()
            .filter(|v| is(v, STATE_ACTIVE))
            .collect();
        let mut off: Vec<&str> = values
            .iter()
            .copied()
            .filter(|v| is(v, STATE_INACTIVE))
            .collect();
        off.sort_by_key(|v| {
            STATE_INACTIVE
                .iter()
                .position(|s| v.eq_ignore_ascii_case(s))
        });
        if on.is_empty() || off.is_empty() {
            found.notes.push(format!(
                "TODO: `{}` holds the account state ({}); map the active and inactive values to `active`",
                f.path.join("."),
                values.join(", ")
            ));
            return;
        }
        let list = |vs: &[&str]| match vs {
            [one] => Tv::s(*one),
            many => Tv::Arr(many.iter().map(|v| Tv::s(*v)).collect()),
        };
        let mut r = Rule::path(f);
        r.add(
            "map",
            Tv::table([("true", list(&on)), ("false", list(&off))]),
        );
        let others: Vec<&str> = values
            .iter()
            .copied()
            .filter(|v| !on.contains(v) && !off.contains(v))
            .collect();
        r.comment = format!("the state enum of `{}`{action_note}", f.path.join("."));
        if !others.is_empty() {
            r.comment
                .push_str(&format!("; {} read as no value", others.join(", ")));
        }
        (f, r)
    } else {
        if actions {
            found.notes.push("TODO: the record shows no account state, so `active` reads as absent; map it if the app has one".into());
        }
        return;
    };
    used.push(f.path.clone());
    found.active = Some(f.path.clone());
    if !actions {
        writability(b, f, "active", &mut rule);
    }
    found.entries.push(rule.entry("active"));
}

/// `password` when the create body takes one.
pub(super) fn password(b: &Bodies<'_>, found: &mut Found, create_required: &[String]) {
    let from = b.create.iter().flatten().chain(b.record.iter());
    let Some(f) = from
        .filter(|f| f.kind == Kind::String || f.kind == Kind::Unknown)
        .find(|f| {
            matches!(
                schema::snake(f.name()).as_str(),
                "password" | "new_password"
            ) || f.format == "password"
                || (f.write_only && schema::words(f.name()).iter().any(|w| w == "password"))
        })
    else {
        return;
    };
    let mut rule = Rule::path(f);
    rule.comment = format!(
        "write-only: sent on create and change, never read (field `{}`)",
        f.path.join(".")
    );
    if create_required.iter().any(|r| *r == f.path.join(".")) {
        rule.add("generate", Tv::table([("random", Tv::Int(32))]));
        rule.comment = format!(
            "the create requires `{}`: a random one when the IdP sends none (SSO users never use it)",
            f.path.join(".")
        );
    }
    found.entries.push(rule.entry("password"));
}
