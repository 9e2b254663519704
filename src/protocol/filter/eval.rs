//! Evaluates a parsed filter against a SCIM JSON resource.
//!
//! This module owns filter semantics (RFC 7644 §3.4.2.2): attribute names
//! match JSON keys case-insensitively, URN-qualified attributes are read from
//! the extension object keyed by their URN, a multi-valued attribute matches
//! when any element matches, a comparison on a multi-valued complex attribute
//! without sub-attribute compares the elements' `value`, strings honour
//! `caseExact`, dateTimes compare as instants, numbers numerically, booleans
//! only with `eq`/`ne`. It does not decide what the host app can answer.

use std::cmp::Ordering;

use serde_json::Value;

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::schema::ResourceSchema;
use crate::schema::datetime::parse_rfc3339_nanos;
use crate::schema::get_ci;

/// Whether `resource` satisfies `filter` (RFC 7644 §3.4.2.2).
pub fn matches(filter: &Filter, resource: &Value, schema: &ResourceSchema) -> bool {
    eval(filter, resource, None, schema)
}

/// Whether one element of the multi-valued attribute `parent` satisfies the
/// value filter `filter` (the `[…]` of a value path, RFC 7644 §3.5.2).
pub fn matches_element(
    filter: &Filter,
    element: &Value,
    parent: &AttrPath,
    schema: &ResourceSchema,
) -> bool {
    eval(filter, element, Some(parent), schema)
}

fn eval(filter: &Filter, ctx: &Value, parent: Option<&AttrPath>, schema: &ResourceSchema) -> bool {
    match filter {
        Filter::And(l, r) => eval(l, ctx, parent, schema) && eval(r, ctx, parent, schema),
        Filter::Or(l, r) => eval(l, ctx, parent, schema) || eval(r, ctx, parent, schema),
        Filter::Not(inner) => !eval(inner, ctx, parent, schema),
        Filter::Present(path) => values(ctx, path).into_iter().any(is_present),
        Filter::Compare { path, op, value } => {
            let full = full_path(parent, path);
            compare_any(&values(ctx, path), *op, value, &full, schema)
        }
        Filter::ValuePath { path, filter } => elements(ctx, path)
            .into_iter()
            .any(|el| eval(filter, el, Some(path), schema)),
    }
}

/// The schema path of an attribute read inside a value path (`emails` + `type`
/// → `emails.type`), so `caseExact` is looked up on the right attribute.
fn full_path(parent: Option<&AttrPath>, path: &AttrPath) -> AttrPath {
    match parent {
        Some(p) => AttrPath {
            urn: p.urn.clone(),
            name: p.name.clone(),
            sub: Some(path.name.clone()),
        },
        None => path.clone(),
    }
}

/// The value of the top-level attribute of `path` (ignoring its sub-attribute).
fn attribute<'v>(ctx: &'v Value, path: &AttrPath) -> Option<&'v Value> {
    let container = match path.extension() {
        Some(urn) => get_ci(ctx, urn)?,
        None => ctx,
    };
    get_ci(container, &path.name)
}

/// The elements a value path iterates over: array elements, or a single complex value.
fn elements<'v>(ctx: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    match attribute(ctx, path) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    }
}

/// The leaf values `path` denotes, with arrays flattened.
fn values<'v>(ctx: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let Some(top) = attribute(ctx, path) else {
        return Vec::new();
    };
    let tops: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    let Some(sub) = &path.sub else {
        return tops;
    };
    let mut out = Vec::new();
    for t in tops {
        match get_ci(t, sub) {
            Some(Value::Array(items)) => out.extend(items.iter()),
            Some(v) => out.push(v),
            None => {}
        }
    }
    out
}

/// `pr`: "If the attribute has a non-empty value, or if it contains a non-empty
/// node for complex attributes, there is a match" (RFC 7644 §3.4.2.2).
fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

fn compare_any(
    vals: &[&Value],
    op: CompareOp,
    lit: &CompValue,
    path: &AttrPath,
    schema: &ResourceSchema,
) -> bool {
    let present: Vec<&Value> = vals.iter().copied().filter(|v| is_present(v)).collect();
    match (op, lit) {
        (CompareOp::Eq, CompValue::Null) => present.is_empty(),
        (CompareOp::Ne, CompValue::Null) => !present.is_empty(),
        (CompareOp::Ne, _) if present.is_empty() => true,
        _ => present
            .into_iter()
            .any(|v| compare_one(v, op, lit, path, schema)),
    }
}

fn compare_one(
    attr: &Value,
    op: CompareOp,
    lit: &CompValue,
    path: &AttrPath,
    schema: &ResourceSchema,
) -> bool {
    // A multi-valued complex attribute compared without sub-attribute uses `value`.
    let attr = match attr {
        Value::Object(_) => match get_ci(attr, "value") {
            Some(v) => v,
            None => return op == CompareOp::Ne,
        },
        v => v,
    };
    match (attr, lit) {
        (Value::String(a), CompValue::Str(b)) => compare_str(a, b, op, path, schema),
        (Value::Number(a), CompValue::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| ordered(op, o)),
            _ => false,
        },
        (Value::Bool(a), CompValue::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        _ => op == CompareOp::Ne,
    }
}

fn compare_str(a: &str, b: &str, op: CompareOp, path: &AttrPath, schema: &ResourceSchema) -> bool {
    if path.is_datetime_in(schema)
        && let (Some(x), Some(y)) = (parse_rfc3339_nanos(a), parse_rfc3339_nanos(b))
        && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    {
        return ordered(op, x.cmp(&y));
    }
    let (a, b) = if path.case_exact_in(schema) {
        (a.to_owned(), b.to_owned())
    } else {
        (a.to_lowercase(), b.to_lowercase())
    };
    match op {
        CompareOp::Co => a.contains(&b),
        CompareOp::Sw => a.starts_with(&b),
        CompareOp::Ew => a.ends_with(&b),
        _ => ordered(op, a.cmp(&b)),
    }
}

fn ordered(op: CompareOp, o: Ordering) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Ne => o != Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
