//! Values for request placeholders at request time ([`Vars`]): what the
//! caller knows (id, filter value, paging, connection variables, the SCIM
//! resource, the app's version, member, role, a search rule's query
//! parameters), and how each placeholder gets its value, derived ones
//! through their transforms.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::mapping::error::MapError;
use crate::mapping::path::ScimPath;
use crate::mapping::render::placeholder::{Derived, Var};
use crate::mapping::render::query::QueryParam;
use crate::mapping::render::transform::Dir;
use crate::schema::get_ci;

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
    /// The SCIM resource as last read, for `{current.<attr>}`.
    pub current: Option<&'a Value>,
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
    pub search: Option<&'a [QueryParam]>,
}

impl<'a> Vars<'a> {
    /// The placeholder's value, `None` when unset; an error when a
    /// derived placeholder's transforms refuse the value.
    pub fn get(&self, var: &Var) -> Result<Option<Cow<'_, str>>, MapError> {
        match var {
            Var::Derived(d) => Ok(self.derived(d)?.map(Cow::Owned)),
            Var::Quoted(v, q) => Ok(self.get(v)?.map(|s| Cow::Owned(q.apply(&s)))),
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
                .apply(v, Dir::Write)
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
            Var::Current(p) => self.current.and_then(|r| scim_scalar(r, p)).map(Cow::Owned),
            Var::Derived(_) | Var::Quoted(..) => None,
        }
    }
}

/// A scalar SCIM value at `path` (no selectors), stringified.
fn scim_scalar(resource: &Value, path: &ScimPath) -> Option<String> {
    let base = match &path.urn {
        Some(urn) => get_ci(resource, urn)?,
        None => resource,
    };
    let mut v = get_ci(base, &path.attr)?;
    if let Some(sub) = &path.sub {
        v = get_ci(v, sub)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
