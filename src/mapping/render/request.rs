//! Renders requests: a request template with its placeholders' values,
//! each percent-encoded for where it lands (one path segment, one query
//! component, a raw header value) and its literal text encoded to match,
//! and query parameters as
//! `name=value` pairs, a search rule's merged into the list call's and
//! documents written by their encoder. An optional parameter whose
//! placeholder has no value is left out; an empty value in a path is an
//! error.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::mapping::error::MapError;
use crate::mapping::render::encode::{Context, encode_into};
use crate::mapping::render::placeholder::{Var, var_name};
use crate::mapping::render::query::{ParamValue, QueryParam, Tree, effective};
use crate::mapping::render::template::{Part, Template};
use crate::mapping::render::vars::Vars;

impl Template<Var> {
    /// Renders with `vars`; `Ok(None)` when a placeholder has no value (an
    /// optional query parameter is then left out), an error when an empty
    /// value would land in a path.
    pub fn render(&self, vars: &Vars<'_>, ctx: Context) -> Result<Option<String>, MapError> {
        let mut out = String::new();
        Ok(self.render_into(&mut out, vars, ctx)?.then_some(out))
    }

    /// [`Template::render`], appending to `out`; `Ok(false)`, with `out`
    /// as it was, when a placeholder has no value.
    pub fn render_into(
        &self,
        out: &mut String,
        vars: &Vars<'_>,
        ctx: Context,
    ) -> Result<bool, MapError> {
        let start = out.len();
        for part in self.parts() {
            match part {
                Part::Lit(s) => push_literal(out, s, ctx),
                // Paging numbers are written without a string of their own.
                Part::Var(v @ (Var::Offset | Var::Limit | Var::Page)) => {
                    let n = match v {
                        Var::Offset => vars.offset,
                        Var::Limit => vars.limit,
                        _ => vars.page,
                    };
                    let Some(n) = n else {
                        out.truncate(start);
                        return Ok(false);
                    };
                    encode_into(out, itoa::Buffer::new().format(n), ctx);
                }
                Part::Var(v) => match vars.get(v)? {
                    Some(val) if val.is_empty() && ctx == Context::PathSegment => {
                        return Err(MapError::MissingVar(var_name(v)));
                    }
                    Some(val) => encode_into(out, &val, ctx),
                    None => {
                        out.truncate(start);
                        return Ok(false);
                    }
                },
            }
        }
        Ok(true)
    }
}

/// Characters a URL never holds as they are (RFC 3986 §2): controls,
/// space, `"<>\^`{|}` and, by the encoder, every non-ASCII byte.
const NOT_IN_URL: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Literal template text: in a query value it is part of the one
/// component (`username = '…'` → `username%20%3D%20%27…%27`); in a path
/// its `/`, `?` and `&` keep their meaning and only what a URL cannot hold
/// is encoded; in a header it is written as it is.
fn push_literal(out: &mut String, s: &str, ctx: Context) {
    match ctx {
        Context::Query => encode_into(out, s, ctx),
        Context::PathSegment => out.extend(utf8_percent_encode(s, NOT_IN_URL)),
        Context::Raw => out.push_str(s),
    }
}

impl Tree {
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
}

/// Renders `base` merged with `vars.search` as `name=value` pairs joined
/// by `&`, each part percent-encoded, then `vars.extra_query`; a text
/// parameter whose placeholder has no value is left out.
#[cfg(test)]
pub(crate) fn render_query(base: &[QueryParam], vars: &Vars<'_>) -> Result<String, MapError> {
    let mut out = String::new();
    render_query_into(&mut out, base, vars)?;
    Ok(out)
}

/// [`render_query`], appending to `out` (each value written in place).
pub(crate) fn render_query_into(
    out: &mut String,
    base: &[QueryParam],
    vars: &Vars<'_>,
) -> Result<(), MapError> {
    let params = effective(base, vars.search.unwrap_or_default());
    let start = out.len();
    for p in params.iter().map(|p| p.as_ref()) {
        let mark = out.len();
        if mark > start {
            out.push('&');
        }
        encode_into(out, &p.name, Context::Query);
        out.push('=');
        let kept = match &p.value {
            ParamValue::Text(t) => t.render_into(out, vars, Context::Query)?,
            ParamValue::Doc(enc, tree) => match tree.render(vars)? {
                Some(doc) => {
                    encode_into(out, &enc.encode(&doc), Context::Query);
                    true
                }
                None => false,
            },
        };
        if !kept {
            out.truncate(mark);
        }
    }
    for (k, v) in vars.extra_query {
        if out.len() > start {
            out.push('&');
        }
        encode_into(out, k, Context::Query);
        out.push('=');
        encode_into(out, v, Context::Query);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::render::encode::Encoder;
    use crate::mapping::render::template::tests::req;

    #[test]
    fn hostile_ids_stay_in_one_segment() {
        let t = req("/api/users/{id}/suspend");
        let cases = [
            ("../admin", "/api/users/..%2Fadmin/suspend"),
            ("..", "/api/users/%2E%2E/suspend"),
            (".", "/api/users/%2E/suspend"),
            ("a/b", "/api/users/a%2Fb/suspend"),
            ("%2F", "/api/users/%252F/suspend"),
            (
                "x\r\nHost: evil",
                "/api/users/x%0D%0AHost%3A%20evil/suspend",
            ),
            ("a?b#c", "/api/users/a%3Fb%23c/suspend"),
            ("ü", "/api/users/%C3%BC/suspend"),
        ];
        for (id, want) in cases {
            let vars = Vars {
                id: Some(id),
                ..Vars::default()
            };
            assert_eq!(
                t.render(&vars, Context::PathSegment).unwrap().as_deref(),
                Some(want),
                "{id}"
            );
        }
        let empty = Vars {
            id: Some(""),
            ..Vars::default()
        };
        assert!(t.render(&empty, Context::PathSegment).is_err());
    }

    /// Literal text of a query template is one query component with the
    /// value (`filter = "username = '{value}'"`), and literal text of a
    /// path is written as it is except what a URL cannot hold.
    #[test]
    fn literal_template_text_is_encoded_for_its_context() {
        let vars = Vars {
            value: Some("O'Brien"),
            id: Some("7"),
            ..Vars::default()
        };
        let t = req("username = '{value}'");
        assert_eq!(
            t.render(&vars, Context::Query).unwrap().as_deref(),
            Some("username%20%3D%20%27O%27Brien%27")
        );
        let t = req("/api/users/{id}/full profile|ü?a=b");
        let path = t.render(&vars, Context::PathSegment).unwrap().unwrap();
        assert_eq!(path, "/api/users/7/full%20profile%7C%C3%BC?a=b");
        assert!(path.parse::<http::Uri>().is_ok());
    }

    #[test]
    fn query_values_are_components() {
        let t = req("{value}");
        let vars = Vars {
            value: Some("a&b=c d+e"),
            ..Vars::default()
        };
        assert_eq!(
            t.render(&vars, Context::Query).unwrap().as_deref(),
            Some("a%26b%3Dc%20d%2Be")
        );
        assert_eq!(t.render(&Vars::default(), Context::Query).unwrap(), None);
    }

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
