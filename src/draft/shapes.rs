//! What drafting each resource table shares: the context (the base path,
//! and the path parameters that become connection variables) and the
//! shapes of a family's chosen operations (the record, create and update
//! bodies relative to their envelopes).

use super::model::{Entry, Tv};
use super::ops::Operation;
use super::resources;
use super::rule::Bodies;
use super::schema::{self, Field};
use super::spec::{Node, Spec};

/// Shared while drafting: the base path and the connection variables the
/// paths need.
pub struct Ctx<'a> {
    pub spec: &'a Spec,
    pub base: String,
    pub vars: Vec<Entry>,
}

impl Ctx<'_> {
    /// The mapping's path template for a document path: the base path in
    /// front, `subst` parameters replaced, every other parameter a
    /// connection variable.
    pub fn template(&mut self, path: &str, subst: &[(&str, &str)]) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let name = &rest[open + 1..open + close];
            match subst.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => out.push_str(v),
                None => {
                    let var = schema::snake(name);
                    if !self.vars.iter().any(|e| e.key == var) {
                        self.vars.push(Entry::new(
                            var.clone(),
                            Tv::s(format!("${{APP_{}}}", var.to_ascii_uppercase())),
                            format!("the `{{{name}}}` segment of every path"),
                        ));
                    }
                    out.push_str(&format!("{{conn.{var}}}"));
                }
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        format!("{}{}", self.base, out)
    }
}

/// The record, create and update bodies of a family's chosen operations.
pub struct Shapes<'a> {
    pub bodies: Bodies<'a>,
    /// `item` of get/create answers, `wrap` of request bodies.
    pub item: Option<String>,
    pub wrap: Option<String>,
    pub create_required: Vec<String>,
}

pub fn shapes<'a>(
    spec: &'a Spec,
    get: Option<&Operation<'a>>,
    list: Option<&Operation<'a>>,
    create: Option<&Operation<'a>>,
    update: Option<&Operation<'a>>,
) -> Shapes<'a> {
    let mut item = None;
    let mut record: Option<Node<'a>> = None;
    if let Some(s) = get.and_then(|g| g.success()).and_then(|r| r.schema)
        && let Some((env, rec)) = resources::envelope(spec, s)
    {
        item = env.map(|e| schema::json_path(&[e]));
        record = Some(rec);
    }
    if record.is_none()
        && let Some(s) = list.and_then(|l| l.success()).and_then(|r| r.schema)
        && let Some((_, el)) = resources::list_elements(spec, s)
    {
        record = Some(el);
    }
    let mut wrap = None;
    let mut body = |op: Option<&Operation<'a>>| -> Option<Vec<Field<'a>>> {
        let b = op?.body?;
        let (env, rec) = resources::envelope(spec, b)?;
        if let Some(e) = env {
            wrap = Some(schema::json_path(&[e]));
        }
        Some(schema::fields(spec, rec))
    };
    let create_fields = body(create);
    let update_fields = body(update);
    let record = record.or_else(|| {
        create
            .and_then(|c| c.body)
            .and_then(|b| resources::envelope(spec, b))
            .map(|(_, r)| r)
    });
    let create_required = create_fields
        .iter()
        .flatten()
        .filter(|f| f.required && f.path.len() == 1)
        .map(|f| f.path.join("."))
        .collect();
    Shapes {
        bodies: Bodies {
            record: record.map(|r| schema::fields(spec, r)).unwrap_or_default(),
            create: create_fields,
            update: update_fields,
        },
        item,
        wrap,
        create_required,
    }
}
