//! Error rules from the declared error responses: a 409 on create is a
//! uniqueness conflict, a 400/422 whose error code enumerates a "taken"
//! value is one too, other 422s are invalid values, 401/403 mean the
//! app refused the sidecar's own credentials, and an action's 409 (or a
//! member removal's 404) that says "already" is the "already done" of a
//! replay.

use super::model::{Entry, Tv};
use super::ops::Operation;
use super::schema::{self, Field, Kind};
use super::spec::Spec;
use super::text;
use serde_json::Value;

const TAKEN: &[&str] = &[
    "taken",
    "already_exists",
    "exists",
    "duplicate",
    "not_unique",
    "unique",
    "already_taken",
    "in_use",
    "conflict",
];
const CODE_FIELDS: &[&str] = &[
    "code",
    "error_code",
    "errcode",
    "error",
    "type",
    "reason",
    "kind",
];

/// The error code field of an error schema, with its enumerated values.
fn code_field<'a>(
    spec: &'a Spec,
    op: &Operation<'a>,
    status: &str,
) -> Option<(String, Vec<String>)> {
    let schema = op.response(status)?.schema?;
    let fields: Vec<Field<'a>> = schema::fields(spec, schema);
    let mut best: Option<(usize, &Field<'a>)> = None;
    for f in fields.iter().filter(|f| f.kind == Kind::String) {
        if let Some(r) = CODE_FIELDS
            .iter()
            .position(|n| *n == schema::snake(f.name()))
        {
            let r = r + if f.values.is_empty() { 10 } else { 0 };
            if best.is_none_or(|(b, _)| r < b) {
                best = Some((r, f));
            }
        }
    }
    best.map(|(_, f)| {
        (
            f.json_path(),
            f.values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        )
    })
}

/// Resource-level rules: the uniqueness code, invalid values, credentials.
pub fn resource(
    spec: &Spec,
    writes: &[&Operation<'_>],
    all: &[&Operation<'_>],
    unique: &str,
) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for status in ["422", "400"] {
        for op in writes {
            if let Some((path, values)) = code_field(spec, op, status)
                && let Some(v) = values
                    .iter()
                    .find(|v| TAKEN.contains(&schema::snake(v).as_str()))
            {
                let key = format!("{status} {path} == \"{v}\"");
                if !out.iter().any(|e| e.key == key) {
                    out.push(Entry::new(
                        key,
                        uniqueness(unique),
                        format!("the {status} answer's `{v}` code means a duplicate"),
                    ));
                }
            }
        }
    }
    if writes.iter().any(|o| o.response("422").is_some()) {
        out.push(Entry::new(
            "422",
            Tv::table([
                ("status", Tv::Int(400)),
                ("scimType", Tv::s("invalidValue")),
            ]),
            "the app's validation errors",
        ));
    }
    for status in ["401", "403"] {
        if all.iter().any(|o| o.response(status).is_some()) {
            out.push(Entry::new(
                status,
                Tv::table([
                    ("status", Tv::Int(502)),
                    ("detail", Tv::s("the app refused the sidecar's credentials")),
                ]),
                "the sidecar's own credentials, not the IdP's",
            ));
        }
    }
    out
}

fn uniqueness(unique: &str) -> Tv {
    Tv::table([
        ("status", Tv::Int(409)),
        ("scimType", Tv::s("uniqueness")),
        ("detail", Tv::s(format!("{unique} is already taken"))),
    ])
}

/// The create's own rule: a declared 409 is a duplicate.
pub fn create(op: &Operation<'_>, unique: &str) -> Option<Entry> {
    op.response("409").map(|r| {
        let why = if r.description.is_empty() {
            String::new()
        } else {
            format!(": \"{}\"", text::short(&r.description, 60))
        };
        Entry::new(
            "409",
            uniqueness(unique),
            format!("the create declares 409{why}"),
        )
    })
}

/// An action's (or a member call's) "already done" answer.
pub fn already(spec: &Spec, op: &Operation<'_>, statuses: &[&str]) -> Option<Entry> {
    for status in statuses {
        let Some(r) = op.response(status) else {
            continue;
        };
        if let Some((path, values)) = code_field(spec, op, status)
            && let Some(v) = values.iter().find(|v| {
                let s = schema::snake(v);
                s.starts_with("already") || s.starts_with("not_member") || s == "not_a_member"
            })
        {
            return Some(Entry::new(
                format!("{status} {path} == \"{v}\""),
                Tv::s("ok"),
                "already done: a replay converges",
            ));
        }
        if text::has(
            &r.description,
            &["already", "not a member", "is not a member"],
        ) {
            return Some(Entry::new(
                *status,
                Tv::s("ok"),
                format!("\"{}\": already done", text::short(&r.description, 50)),
            ));
        }
    }
    None
}
