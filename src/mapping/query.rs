//! Query parameters of an operation or a search rule: a plain template
//! (`page = "{page}"`), or a structured document written by an encoder
//! (`q = { rison = { page = "{page}", page_size = "{limit}" } }`). A search
//! rule's parameters are merged into the list call's: a parameter of the
//! same name replaces the list's, and two documents of one encoder are
//! merged key by key, so an app that reads one `q` gets filter and paging
//! together. Placeholder values become strings (numbers for `{offset}`,
//! `{limit}` and `{page}` alone) inside the document and can never change
//! its structure.

use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::mapping::MapError;
use crate::mapping::encode::Encoder;
use crate::mapping::template::{Context, Template, Var, Vars, encode, encode_into};

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

    /// Renders the document; `None` when a string's placeholder has no value.
    pub(crate) fn render(&self, vars: &Vars<'_>) -> Result<Option<Value>, MapError> {
        Ok(Some(match self {
            Self::Lit(v) => v.clone(),
            Self::Str(t) => {
                let Some(s) = t.render(vars, Context::Raw)? else {
                    return Ok(None);
                };
                let numeric = matches!(t.only_var(), Some(Var::Offset | Var::Limit | Var::Page));
                match s.parse::<u64>() {
                    Ok(n) if numeric => Value::from(n),
                    _ => Value::String(s),
                }
            }
            Self::Array(a) => {
                let mut out = Vec::new();
                for e in a {
                    out.extend(e.render(vars)?);
                }
                Value::Array(out)
            }
            Self::Object(m) => {
                let mut out = Map::new();
                for (k, e) in m {
                    if let Some(v) = e.render(vars)? {
                        out.insert(k.clone(), v);
                    }
                }
                Value::Object(out)
            }
        }))
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
fn effective<'a>(base: &'a [QueryParam], overlay: &'a [QueryParam]) -> Vec<Cow<'a, QueryParam>> {
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

/// Renders `base` merged with `vars.search` as `name=value` pairs joined
/// by `&`, each part percent-encoded, then `vars.extra_query`; a text
/// parameter whose placeholder has no value is left out.
pub(crate) fn render_query(base: &[QueryParam], vars: &Vars<'_>) -> Result<String, MapError> {
    let params = effective(base, vars.search.unwrap_or_default());
    let mut out = String::new();
    for p in params.iter().map(|p| p.as_ref()) {
        let value = match &p.value {
            ParamValue::Text(t) => t.render(vars, Context::Query)?,
            ParamValue::Doc(enc, tree) => tree
                .render(vars)?
                .map(|doc| encode(&enc.encode(&doc), Context::Query)),
        };
        if let Some(v) = value {
            if !out.is_empty() {
                out.push('&');
            }
            encode_into(&mut out, &p.name, Context::Query);
            out.push('=');
            out.push_str(&v);
        }
    }
    for (k, v) in vars.extra_query {
        if !out.is_empty() {
            out.push('&');
        }
        encode_into(&mut out, k, Context::Query);
        out.push('=');
        encode_into(&mut out, v, Context::Query);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(n: &str) -> Result<Var, String> {
        match n {
            "value" => Ok(Var::Value),
            "page" => Ok(Var::Page),
            "limit" => Ok(Var::Limit),
            _ => Err(format!("unknown {n}")),
        }
    }

    fn doc(enc: Encoder, src: &str) -> ParamValue {
        let v: toml::Table = toml::from_str(&format!("d = {src}")).unwrap();
        ParamValue::Doc(enc, Tree::compile(&v["d"], &mut resolve).unwrap())
    }

    fn text(src: &str) -> ParamValue {
        ParamValue::Text(Template::parse(src, resolve).unwrap())
    }

    fn param(name: &str, value: ParamValue) -> QueryParam {
        QueryParam {
            name: name.into(),
            value,
        }
    }

    #[test]
    fn search_documents_merge_into_the_lists() {
        let list = [
            param(
                "q",
                doc(
                    Encoder::Rison,
                    "{ page = \"{page}\", page_size = \"{limit}\" }",
                ),
            ),
            param("x", text("1")),
        ];
        let search = [
            param(
                "q",
                doc(
                    Encoder::Rison,
                    "{ filters = [{ col = \"email\", opr = \"eq\", value = \"{value}\" }] }",
                ),
            ),
            param("x", text("2")),
        ];
        let vars = Vars {
            page: Some(0),
            limit: Some(100),
            value: Some("o'neil!+1@x.io"),
            search: Some(&search),
            ..Vars::default()
        };
        let q = render_query(&list, &vars).unwrap();
        let (first, second) = q.split_once('&').unwrap();
        assert_eq!(second, "x=2", "one x, the search rule's");
        let raw = percent_encoding::percent_decode_str(first.strip_prefix("q=").unwrap())
            .decode_utf8()
            .unwrap();
        assert_eq!(
            raw,
            "(filters:!((col:'email',opr:'eq',value:'o!'neil!!+1@x.io')),page:0,page_size:100)"
        );
        let without = Vars {
            search: None,
            ..vars
        };
        assert!(!render_query(&list, &without).unwrap().contains("filters"));
    }

    #[test]
    fn json_documents_keep_values_as_strings() {
        let list = [param(
            "filter",
            doc(Encoder::Json, "{ email = \"{value}\" }"),
        )];
        let vars = Vars {
            value: Some("\"},\"admin\":true,\"x\":{\""),
            ..Vars::default()
        };
        let q = render_query(&list, &vars).unwrap();
        let raw = percent_encoding::percent_decode_str(q.strip_prefix("filter=").unwrap())
            .decode_utf8()
            .unwrap();
        let back: Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(back, serde_json::json!({"email": vars.value.unwrap()}));
    }
}
