//! Query parameters of an operation or a search rule: a plain template
//! (`page = "{page}"`), or a structured document written by an encoder
//! (`q = { rison = { page = "{page}", page_size = "{limit}" } }`). A search
//! rule's parameters are merged into the list call's: a parameter of the
//! same name replaces the list's, and two documents of one encoder are
//! merged key by key, so an app that reads one `q` gets filter and paging
//! together. Placeholder values become strings (numbers for `{offset}`,
//! `{limit}` and `{page}` alone) inside the document and can never change
//! its structure. Rendering is `request`'s.

use std::borrow::Cow;

use serde_json::Value;

use crate::mapping::render::encode::Encoder;
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::template::Template;

/// One compiled query parameter.
#[derive(Debug, Clone)]
pub struct QueryParam {
    pub(crate) name: String,
    pub(crate) value: ParamValue,
}

/// A parameter's value.
#[derive(Debug, Clone)]
pub(crate) enum ParamValue {
    /// A template rendered as one encoded component.
    Text(Template<Var>),
    /// A document rendered, encoded, then percent-encoded.
    Doc(Encoder, Tree),
}

/// A document whose strings are templates.
#[derive(Debug, Clone)]
pub(crate) enum Tree {
    /// A literal (number, boolean, null).
    Lit(Value),
    /// A string template; a value placeholder alone of a numeric kind
    /// renders as a number.
    Str(Template<Var>),
    /// An array; elements whose placeholder has no value are left out.
    Array(Vec<Tree>),
    /// An object; members whose placeholder has no value are left out.
    Object(Vec<(String, Tree)>),
}

impl QueryParam {
    /// The placeholders the parameter uses.
    pub(crate) fn vars(&self) -> Vec<&Var> {
        match &self.value {
            ParamValue::Text(t) => t.vars().collect(),
            ParamValue::Doc(_, tree) => {
                let mut out = Vec::new();
                tree.vars(&mut out);
                out
            }
        }
    }
}

impl Tree {
    /// Compiles a TOML value, resolving the placeholders of its strings.
    pub(crate) fn compile(
        v: &toml::Value,
        resolve: &mut dyn FnMut(&str) -> Result<Var, String>,
    ) -> Result<Self, Vec<String>> {
        Ok(match v {
            toml::Value::String(s) => Self::Str(Template::parse(s, &mut *resolve)?),
            toml::Value::Array(a) => Self::Array(
                a.iter()
                    .map(|e| Self::compile(e, resolve))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(t) => Self::Object(
                t.iter()
                    .map(|(k, e)| Ok((k.clone(), Self::compile(e, resolve)?)))
                    .collect::<Result<_, Vec<String>>>()?,
            ),
            other => Self::Lit(serde_json::to_value(other).unwrap_or(Value::Null)),
        })
    }

    fn vars<'a>(&'a self, out: &mut Vec<&'a Var>) {
        match self {
            Self::Lit(_) => {}
            Self::Str(t) => out.extend(t.vars()),
            Self::Array(a) => a.iter().for_each(|e| e.vars(out)),
            Self::Object(m) => m.iter().for_each(|(_, e)| e.vars(out)),
        }
    }

    /// `self` with `top`'s members laid over it (objects only).
    fn merged(&self, top: &Tree) -> Tree {
        match (self, top) {
            (Self::Object(a), Self::Object(b)) => {
                let mut out: Vec<(String, Tree)> = a
                    .iter()
                    .filter(|(k, _)| !b.iter().any(|(bk, _)| bk == k))
                    .cloned()
                    .collect();
                out.extend(b.iter().cloned());
                Self::Object(out)
            }
            _ => top.clone(),
        }
    }
}

/// The effective parameters of a call: `base` with `overlay` (a search
/// rule's) merged in.
pub(crate) fn effective<'a>(
    base: &'a [QueryParam],
    overlay: &'a [QueryParam],
) -> Vec<Cow<'a, QueryParam>> {
    let mut out: Vec<Cow<'a, QueryParam>> = base
        .iter()
        .map(|p| match overlay.iter().find(|o| o.name == p.name) {
            None => Cow::Borrowed(p),
            Some(o) => match (&p.value, &o.value) {
                (ParamValue::Doc(e1, a), ParamValue::Doc(e2, b)) if e1 == e2 => {
                    Cow::Owned(QueryParam {
                        name: p.name.clone(),
                        value: ParamValue::Doc(*e1, a.merged(b)),
                    })
                }
                _ => Cow::Borrowed(o),
            },
        })
        .collect();
    out.extend(
        overlay
            .iter()
            .filter(|o| !base.iter().any(|p| p.name == o.name))
            .map(Cow::Borrowed),
    );
    out
}
