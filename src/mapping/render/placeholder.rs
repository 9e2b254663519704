//! The placeholders a request template may hold (`{id}`, `{value}`,
//! paging, `{conn.<var>}`, `{version}`, `{member}`, `{role}`, SCIM
//! attributes and derived placeholders), resolved once when the mapping is
//! compiled; their values at request time are `vars`'s.

use crate::mapping::path::ScimPath;
use crate::mapping::render::encode::Quote;
use crate::mapping::render::transform::Transform;

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
    /// `{current.userName}`: a value of the resource as the app held it
    /// when last read (the key of a record whose key is being changed).
    Current(ScimPath),
    /// A named placeholder of `[<resource>.placeholders]`: a SCIM value
    /// passed through transforms.
    Derived(Box<Derived>),
    /// `{value|sql}`: a placeholder's value escaped for a string literal
    /// of the app's query language.
    Quoted(Box<Var>, Quote),
}

impl Var {
    /// The placeholder itself, without its quoting (`{value|sql}` → `{value}`).
    pub fn base(&self) -> &Var {
        match self {
            Var::Quoted(v, _) => v.base(),
            v => v,
        }
    }
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
    pub transforms: Vec<Transform>,
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
        Var::Current(p) => format!("current.{}", p.attr),
        Var::Derived(d) => d.name.clone(),
        Var::Quoted(v, q) => format!("{}|{}", var_name(v), q.name()),
    }
}
