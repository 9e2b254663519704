//! Operation tables: a document operation written as `[users.get]` and
//! the like — its path template with the mapping's placeholders, fixed
//! values for enumerated path segments, required query parameters, the
//! `If-Match` version header, how a create's answer names the new id,
//! `returns = "resource"`, and whether a PUT is an update or a replace.

use super::attributes;
use super::build::{Ctx, Shapes};
use super::model::{Entry, Op, Tv};
use super::ops::{In, Method, Operation};
use super::paging;
use super::resources;
use super::schema;
use super::spec::Spec;
use super::text;

/// An operation table for document operation `o`.
pub fn op(
    ctx: &mut Ctx<'_>,
    kind: &'static str,
    method: Method,
    o: &Operation<'_>,
    subst: &[(&str, &str)],
) -> Op {
    // Path parameters with a fixed set of values (`{flag}` of
    // `active|new|staff`) take their default, else their first value.
    let mut fixed: Vec<(String, String)> = Vec::new();
    for p in o.params.iter().filter(|p| p.at == In::Path) {
        if subst.iter().any(|(n, _)| *n == p.name) {
            continue;
        }
        let v = p.schema.map(|s| s.v);
        let value = v
            .and_then(|s| {
                s.get("default")
                    .or_else(|| s.get("enum").and_then(|e| e.get(0)))
            })
            .and_then(|d| d.as_str());
        if let Some(value) = value {
            fixed.push((p.name.clone(), value.to_owned()));
        }
    }
    let mut all: Vec<(&str, &str)> = subst.to_vec();
    all.extend(fixed.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let path = ctx.template(&o.path, &all);
    let mut notes = Vec::new();
    let summary = if o.summary.is_empty() {
        &o.description
    } else {
        &o.summary
    };
    let summary = text::short(summary, 70);
    notes.push(if summary.is_empty() {
        format!("{} {}", o.method.upper(), o.path)
    } else {
        format!("{} {}: {summary}", o.method.upper(), o.path)
    });
    let mut op = Op {
        kind,
        method,
        path,
        source: o.path.clone(),
        keys: Vec::new(),
        notes,
    };
    for (n, v) in &fixed {
        op.notes.push(format!(
            "`{{{n}}}` is fixed to `{v}`, its default or first value"
        ));
    }
    if kind != "list" {
        let q = required_query(o);
        if !q.is_empty() {
            op.keys
                .push(Entry::new("query", Tv::Table(q), "required by the app"));
        }
    }
    op
}

/// Required query parameters: their default or only value, else a
/// connection variable.
pub fn required_query(o: &Operation<'_>) -> Vec<(String, Tv)> {
    let mut out = Vec::new();
    for p in o.query().filter(|p| p.required && !paging::is_paging(p)) {
        let v = p.schema.map(|s| s.v);
        let fixed = v
            .and_then(|s| {
                s.get("default")
                    .or_else(|| s.get("enum").and_then(|e| e.get(0)))
            })
            .and_then(|d| match d {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            });
        let value = fixed
            .unwrap_or_else(|| format!("${{APP_{}}}", schema::snake(&p.name).to_ascii_uppercase()));
        out.push((p.name.clone(), Tv::s(value)));
    }
    out
}

/// The item path's key parameter of `op`, with its type.
pub fn item_key<'k>(
    spec: &Spec,
    op: Option<&Operation<'_>>,
    name: Option<&'k str>,
) -> Option<attributes::ItemKey<'k>> {
    let name = name?;
    let p = op.and_then(|o| o.param(name, In::Path));
    let s = p.and_then(|p| p.schema);
    let kind = s.map_or(schema::Kind::Unknown, |s| schema::kind(spec, s));
    let uuid = s.and_then(|s| s.v.get("format")).and_then(|f| f.as_str()) == Some("uuid");
    Some(attributes::ItemKey { name, kind, uuid })
}

/// `update` (the changed fields) for a PUT that says it is partial or
/// whose body requires no field, else `replace` (the whole record).
pub(super) fn put_kind(spec: &Spec, o: &Operation<'_>) -> &'static str {
    let says = text::has(
        &o.text(),
        &[
            "partial",
            "only the fields",
            "fields given",
            "not provided are left",
        ],
    );
    let optional = o
        .body
        .and_then(|b| resources::envelope(spec, b))
        .is_some_and(|(_, rec)| {
            let props = schema::properties(spec, rec);
            !props.is_empty() && props.iter().all(|(_, _, required)| !required)
        });
    if says || optional {
        "update"
    } else {
        "replace"
    }
}

/// `If-Match` on writes whose document declares it.
pub(super) fn version_header(o: &Operation<'_>, op: &mut Op) {
    if let Some(p) = o
        .params
        .iter()
        .find(|p| p.at == In::Header && p.name.eq_ignore_ascii_case("if-match"))
    {
        op.keys.push(Entry::new(
            "headers",
            Tv::table([(p.name.clone(), Tv::s("{version}"))]),
            "the app's optimistic lock: it answers 412 when the version is stale",
        ));
    }
}

/// How the new id is read from the create's answer.
pub(super) fn create_keys(
    spec: &Spec,
    c: &Operation<'_>,
    shapes: &Shapes<'_>,
    id: &[String],
    op: &mut Op,
) {
    if let Some(w) = &shapes.wrap {
        op.keys.push(Entry::new(
            "wrap",
            Tv::s(w.clone()),
            "the app wants the record inside this member",
        ));
    }
    let answer = c.success();
    let record = answer
        .and_then(|r| r.schema)
        .and_then(|s| resources::envelope(spec, s));
    match record {
        Some((env, rec)) => {
            let fields = schema::properties(spec, rec);
            let full = fields.len() >= 4;
            if full {
                if let Some(e) = env {
                    op.keys.push(Entry::new(
                        "item",
                        Tv::s(schema::json_path(&[e])),
                        "the new record inside the answer",
                    ));
                }
            } else {
                let id_path = match &env {
                    Some(e) if !fields.iter().any(|(n, _, _)| Some(n) == id.first()) => {
                        vec![e.clone(), id.join(".")]
                    }
                    _ => id.to_vec(),
                };
                op.keys.push(Entry::new(
                    "then",
                    Tv::s("get"),
                    "the answer is not the whole record",
                ));
                op.keys.push(Entry::new(
                    "id",
                    Tv::s(schema::json_path(&id_path)),
                    "the new id in the answer",
                ));
            }
        }
        None => {
            let status = answer.map_or("no success", |r| r.status.as_str());
            let location = answer.is_some_and(|r| r.headers.iter().any(|h| h == "location"));
            let how = if location {
                "the new id is the last segment of `Location`"
            } else {
                "the document describes no body; the new id is read from `Location` (else the new account is found by its userName)"
            };
            op.keys.push(Entry::new(
                "then",
                Tv::s("get"),
                format!("{status} without a record: {how}"),
            ));
        }
    }
}

/// `returns = "resource"` when a write answers with the whole record (its
/// answer's record has at least four fifths of the get record's fields),
/// so the sidecar need not read it back.
pub(super) fn returns(spec: &Spec, o: &Operation<'_>, shapes: &Shapes<'_>, op: &mut Op) {
    let Some(answer) = o.success().and_then(|r| r.schema) else {
        return;
    };
    let Some((env, record)) = resources::envelope(spec, answer) else {
        return;
    };
    let fields: Vec<String> = schema::properties(spec, record)
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    let wanted: Vec<&String> = shapes
        .bodies
        .record
        .iter()
        .filter(|f| f.path.len() == 1)
        .map(|f| &f.path[0])
        .collect();
    if wanted.len() < 2 {
        return;
    }
    let shared = wanted.iter().filter(|w| fields.contains(w)).count();
    if shared * 5 >= wanted.len() * 4 {
        if let Some(e) = env {
            op.keys.push(Entry::new(
                "item",
                Tv::s(schema::json_path(&[e])),
                "the record inside the answer",
            ));
        }
        op.keys.push(Entry::new(
            "returns",
            Tv::s("resource"),
            "it answers with the whole record: no read-back",
        ));
    }
}
