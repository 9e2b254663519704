//! Templates: strings split once at load time into literal parts and
//! placeholders. Request templates (`/api/users/{id}`, `{conn.org}`,
//! `{userName}`) render from [`Vars`] with context-specific percent-encoding;
//! value templates (`{$.first} {$.last}`) render read-only attributes from
//! host JSON. Encoding rules live here so no placeholder value can change
//! which app endpoint is called.

use std::borrow::Cow;
use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::mapping::MapError;
use crate::mapping::path::{ReadPath, ScimPath};

/// Everything except RFC 3986 unreserved characters is encoded, so a
/// placeholder can never introduce `/`, `?`, `#`, `%`, `&`, `=` or controls.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A template split into parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Template<P> {
    parts: Vec<Part<P>>,
}

/// One part of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Part<P> {
    /// Literal text.
    Lit(String),
    /// A placeholder.
    Var(P),
}

impl<P> Template<P> {
    /// Splits `src` at `{…}` placeholders (`{{`/`}}` are literal braces) and
    /// resolves each with `resolve`; returns every unresolved placeholder's
    /// reason.
    pub fn parse(
        src: &str,
        mut resolve: impl FnMut(&str) -> Result<P, String>,
    ) -> Result<Self, Vec<String>> {
        let mut parts = Vec::new();
        let mut errors = Vec::new();
        let mut lit = String::new();
        let mut rest = src;
        while let Some(i) = rest.find(['{', '}']) {
            lit.push_str(&rest[..i]);
            let (c, after) = (rest.as_bytes().get(i), &rest[i + 1..]);
            if after.starts_with(if c == Some(&b'{') { '{' } else { '}' }) {
                lit.push_str(&rest[i..i + 1]);
                rest = &after[1..];
                continue;
            }
            if c == Some(&b'}') {
                errors.push("unmatched `}`".to_owned());
                rest = after;
                continue;
            }
            let Some(end) = after.find('}') else {
                errors.push("unclosed `{`".to_owned());
                rest = "";
                break;
            };
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(&mut lit)));
            }
            match resolve(after[..end].trim()) {
                Ok(p) => parts.push(Part::Var(p)),
                Err(e) => errors.push(e),
            }
            rest = &after[end + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        if errors.is_empty() {
            Ok(Self { parts })
        } else {
            Err(errors)
        }
    }

    /// The parts.
    pub fn parts(&self) -> &[Part<P>] {
        &self.parts
    }

    /// The single placeholder when the template is exactly one (`"{page}"`).
    pub fn only_var(&self) -> Option<&P> {
        match self.parts.as_slice() {
            [Part::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// The placeholders used.
    pub fn vars(&self) -> impl Iterator<Item = &P> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(v) => Some(v),
            Part::Lit(_) => None,
        })
    }
}

/// A request-template placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Var {
    /// `{id}`: the resource id.
    Id,
    /// `{value}`: a filter value (push-down) or member id.
    Value,
    /// `{offset}`: host offset (with the configured base).
    Offset,
    /// `{limit}` / `{count}` / `{per_page}`: page size.
    Limit,
    /// `{page}`: 1-based page number.
    Page,
    /// `{cursor}`: next-page cursor.
    Cursor,
    /// `{conn.<name>}`: a connection variable.
    Conn(String),
    /// `{version}`: the app's version of the resource as last read (a
    /// precondition such as `If-Match` or `?expected_version=`).
    Version,
    /// `{member}`: the id of a group member being added or removed.
    Member,
    /// `{role}`: the role value a group stands for (groups as roles).
    Role,
    /// `{userName}`, `{name.givenName}`: a value of the SCIM resource.
    Attr(ScimPath),
    /// A named placeholder of `[<resource>.placeholders]`: a SCIM value
    /// passed through transforms.
    Derived(Box<Derived>),
}

/// A placeholder derived from a SCIM attribute by transforms (applied in
/// the write direction), e.g. `localpart` = `userName` lower-cased with
/// `@` escaped, checked against a charset.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    /// The placeholder's name, for messages.
    pub name: String,
    /// The SCIM attribute it is derived from.
    pub from: ScimPath,
    /// The canonical attribute path of `from` (`userName`, `urn:…:User:x`).
    pub from_key: String,
    /// Transforms, applied in order.
    pub transforms: Vec<crate::mapping::transform::Transform>,
}

/// Values for request placeholders.
#[derive(Debug, Clone, Copy, Default)]
pub struct Vars<'a> {
    /// `{id}`.
    pub id: Option<&'a str>,
    /// `{value}`.
    pub value: Option<&'a str>,
    /// `{offset}`.
    pub offset: Option<u64>,
    /// `{limit}` / `{count}` / `{per_page}`.
    pub limit: Option<u64>,
    /// `{page}`.
    pub page: Option<u64>,
    /// `{cursor}`.
    pub cursor: Option<&'a str>,
    /// Connection variables for `{conn.<name>}`.
    pub conn: Option<&'a BTreeMap<String, String>>,
    /// The SCIM resource for attribute placeholders.
    pub resource: Option<&'a Value>,
    /// `{version}`: the app's version of the resource, as the app wrote it.
    pub version: Option<&'a Value>,
    /// `{member}`.
    pub member: Option<&'a str>,
    /// `{role}`.
    pub role: Option<&'a str>,
    /// Extra query parameters appended verbatim (groups as roles: the
    /// holders of a role).
    pub extra_query: &'a [(String, String)],
    /// The canonical SCIM attribute `{value}` is a value of (a search
    /// rule's attribute): placeholders derived from it take `{value}`.
    pub value_of: Option<&'a str>,
    /// A search rule's query parameters, merged into the list's.
    pub search: Option<&'a [crate::mapping::query::QueryParam]>,
}

impl<'a> Vars<'a> {
    /// The placeholder's value, `None` when unset; an error when a
    /// derived placeholder's transforms refuse the value.
    pub fn get(&self, var: &Var) -> Result<Option<Cow<'_, str>>, MapError> {
        match var {
            Var::Derived(d) => Ok(self.derived(d)?.map(Cow::Owned)),
            other => Ok(self.plain(other)),
        }
    }

    fn derived(&self, d: &Derived) -> Result<Option<String>, MapError> {
        let source = match (self.value_of, self.value) {
            (Some(of), Some(v)) if of.eq_ignore_ascii_case(&d.from_key) => Some(v.to_owned()),
            _ => self.resource.and_then(|r| scim_scalar(r, &d.from)),
        };
        let Some(mut v) = source.map(Value::String) else {
            return Ok(None);
        };
        for t in &d.transforms {
            v = t
                .apply(v, crate::mapping::transform::Dir::Write)
                .map_err(|message| MapError::InvalidValue {
                    attr: format!("{} (placeholder `{}`)", d.from_key, d.name),
                    message,
                })?;
        }
        Ok(match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    fn plain(&self, var: &Var) -> Option<Cow<'_, str>> {
        let borrowed = |v: Option<&'a str>| v.map(Cow::Borrowed);
        match var {
            Var::Id => borrowed(self.id),
            Var::Value => borrowed(self.value),
            Var::Offset => self.offset.map(|n| Cow::Owned(n.to_string())),
            Var::Limit => self.limit.map(|n| Cow::Owned(n.to_string())),
            Var::Page => self.page.map(|n| Cow::Owned(n.to_string())),
            Var::Cursor => borrowed(self.cursor),
            Var::Conn(name) => self
                .conn
                .and_then(|c| c.get(name))
                .map(|v| Cow::Borrowed(v.as_str())),
            Var::Member => borrowed(self.member),
            Var::Role => borrowed(self.role),
            Var::Version => self.version.and_then(|v| match v {
                Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                Value::Number(n) => Some(Cow::Owned(n.to_string())),
                _ => None,
            }),
            Var::Attr(p) => self
                .resource
                .and_then(|r| scim_scalar(r, p))
                .map(Cow::Owned),
            Var::Derived(_) => None,
        }
    }
}

/// A scalar SCIM value at `path` (no selectors), stringified.
fn scim_scalar(resource: &Value, path: &ScimPath) -> Option<String> {
    let base = match &path.urn {
        Some(urn) => crate::schema::get_ci(resource, urn)?,
        None => resource,
    };
    let mut v = crate::schema::get_ci(base, &path.attr)?;
    if let Some(sub) = &path.sub {
        v = crate::schema::get_ci(v, sub)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Where a rendered value goes, which decides its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// One path segment: everything but unreserved characters encoded, and
    /// `.`/`..` encoded as `%2E` so they cannot walk up the path.
    PathSegment,
    /// A query name or value component.
    Query,
    /// A header value: passed raw (control characters are rejected later).
    Raw,
}

/// Encodes one placeholder value for its context.
pub fn encode(value: &str, ctx: Context) -> String {
    let mut out = String::with_capacity(value.len());
    encode_into(&mut out, value, ctx);
    out
}

/// [`encode`], appending to `out` (no string of its own per value).
pub fn encode_into(out: &mut String, value: &str, ctx: Context) {
    match ctx {
        Context::Raw => out.push_str(value),
        Context::PathSegment if !value.is_empty() && value.bytes().all(|b| b == b'.') => {
            for _ in 0..value.len() {
                out.push_str("%2E");
            }
        }
        Context::Query | Context::PathSegment => {
            out.extend(utf8_percent_encode(value, COMPONENT));
        }
    }
}

impl Template<Var> {
    /// Renders with `vars`; `Ok(None)` when a placeholder has no value (an
    /// optional query parameter is then left out), an error when an empty
    /// value would land in a path.
    pub fn render(&self, vars: &Vars<'_>, ctx: Context) -> Result<Option<String>, MapError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => match vars.get(v)? {
                    Some(val) if val.is_empty() && ctx == Context::PathSegment => {
                        return Err(MapError::MissingVar(var_name(v)));
                    }
                    Some(val) => encode_into(&mut out, &val, ctx),
                    None => return Ok(None),
                },
            }
        }
        Ok(Some(out))
    }
}

/// A readable placeholder name for errors.
pub fn var_name(v: &Var) -> String {
    match v {
        Var::Id => "id".into(),
        Var::Value => "value".into(),
        Var::Offset => "offset".into(),
        Var::Limit => "limit".into(),
        Var::Page => "page".into(),
        Var::Cursor => "cursor".into(),
        Var::Conn(n) => format!("conn.{n}"),
        Var::Version => "version".into(),
        Var::Member => "member".into(),
        Var::Role => "role".into(),
        Var::Attr(p) => p.attr.clone(),
        Var::Derived(d) => d.name.clone(),
    }
}

/// Renders a value template from host JSON: placeholders are host
/// JSONPaths; missing values render empty; the result is trimmed and
/// `None` when every placeholder was missing.
pub fn render_value(t: &Template<ReadPath>, host: &Value) -> Option<String> {
    let mut out = String::new();
    let mut any = false;
    for part in t.parts() {
        match part {
            Part::Lit(s) => out.push_str(s),
            Part::Var(p) => match p.one(host) {
                Some(Value::String(s)) => {
                    any |= !s.is_empty();
                    out.push_str(s);
                }
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    any = true;
                    out.push_str(&v.to_string());
                }
                _ => {}
            },
        }
    }
    any.then(|| out.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(src: &str) -> Template<Var> {
        Template::parse(src, |s| match s {
            "id" => Ok(Var::Id),
            "value" => Ok(Var::Value),
            _ => Err(format!("unknown `{s}`")),
        })
        .unwrap()
    }

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

    #[test]
    fn parse_reports_unknown_placeholders_and_braces() {
        let e = Template::parse("/x/{nope}/{{lit}}/{id", |s| {
            if s == "id" {
                Ok(Var::Id)
            } else {
                Err(format!("unknown `{s}`"))
            }
        })
        .unwrap_err();
        assert_eq!(
            e,
            vec!["unknown `nope`".to_owned(), "unclosed `{`".to_owned()]
        );
        let t = req("{{a}}{id}");
        assert_eq!(t.parts()[0], Part::Lit("{a}".into()));
    }

    #[test]
    fn value_templates_join_host_fields() {
        let t = Template::parse("{$.first} {$.last}", ReadPath::compile).unwrap();
        assert_eq!(
            render_value(&t, &json!({"first": "Ada", "last": "L"})),
            Some("Ada L".into())
        );
        assert_eq!(
            render_value(&t, &json!({"first": "Ada"})),
            Some("Ada".into())
        );
        assert_eq!(render_value(&t, &json!({})), None);
    }
}
