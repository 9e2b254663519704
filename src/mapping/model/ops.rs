//! Compiled operations on the app ([`OpKind`], [`Operation`]): request
//! rendering (method, encoded path, query, headers, wrapped body), the
//! resource in an answer, and the settings of list calls (items, total,
//! next cursor, paging style). Reading list answers is `eval`'s.

use http::{HeaderName, HeaderValue, Method};
use serde_json::Value;

use crate::mapping::error::MapError;
use crate::mapping::model::error_rules::{ErrorOutcome, ErrorRule};
use crate::mapping::path::{ReadPath, WritePath};
use crate::mapping::render::encode::Context;
use crate::mapping::render::json_patch::{JSON_PATCH, json_patch};
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::query::{QueryParam, Tree};
use crate::mapping::render::request::render_query_into;
use crate::mapping::render::template::Template;
use crate::mapping::render::vars::Vars;

/// The operations a mapping may declare on the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// List / search.
    List,
    /// Get by id.
    Get,
    /// Create.
    Create,
    /// Partial update of changed fields.
    Update,
    /// Full replace.
    Replace,
    /// Delete.
    Delete,
    /// Set `active` true via an action endpoint.
    Activate,
    /// Set `active` false via an action endpoint.
    Deactivate,
    /// List a group's members.
    MembersList,
    /// Add a member to a group (or a role to a user).
    MemberAdd,
    /// Remove a member from a group (or a role from a user).
    MemberRemove,
}

impl OpKind {
    /// All kinds, in TOML key order of the reference.
    pub const ALL: [OpKind; 11] = [
        Self::List,
        Self::Get,
        Self::Create,
        Self::Update,
        Self::Replace,
        Self::Delete,
        Self::Activate,
        Self::Deactivate,
        Self::MembersList,
        Self::MemberAdd,
        Self::MemberRemove,
    ];

    /// The TOML key.
    pub fn key(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Get => "get",
            Self::Create => "create",
            Self::Update => "update",
            Self::Replace => "replace",
            Self::Delete => "delete",
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
            Self::MembersList => "members.list",
            Self::MemberAdd => "members.add",
            Self::MemberRemove => "members.remove",
        }
    }

    /// Whether the operation reads pages of a list.
    pub fn is_list(self) -> bool {
        matches!(self, Self::List | Self::MembersList)
    }
}

/// A compiled request template on the app's API.
#[derive(Debug, Clone)]
pub struct Operation {
    pub(crate) kind: OpKind,
    pub(crate) method: Method,
    pub(crate) path: Template<Var>,
    pub(crate) path_source: String,
    pub(crate) query: Vec<QueryParam>,
    pub(crate) headers: Vec<(HeaderName, Template<Var>)>,
    pub(crate) body: Option<Tree>,
    pub(crate) wrap: Option<WritePath>,
    pub(crate) item: Option<ReadPath>,
    pub(crate) then_get: bool,
    pub(crate) id_path: Option<ReadPath>,
    pub(crate) errors: Vec<ErrorRule>,
    pub(crate) list: Option<ListSpec>,
    pub(crate) version_field: Option<WritePath>,
    pub(crate) accepts: Option<Vec<String>>,
    pub(crate) batch: Option<WritePath>,
    pub(crate) before: Option<Box<Operation>>,
    pub(crate) returns_resource: bool,
    /// Where the body carries the record's id (method-URL APIs).
    pub(crate) id_field: Option<WritePath>,
    /// Whether the body is sent as RFC 6902 JSON Patch operations.
    pub(crate) json_patch: bool,
}

/// List-specific settings.
#[derive(Debug, Clone)]
pub(crate) struct ListSpec {
    pub items: ReadPath,
    /// The `items` JSONPath as written, for messages.
    pub items_source: String,
    /// The array `items` selects from, when `items` is a wildcard or filter.
    pub items_container: Option<ReadPath>,
    pub total: Option<ReadPath>,
    pub next: Option<ReadPath>,
    /// `total = "header:X-Total-Count"`: the total is in this response
    /// header (a count, or a `Content-Range` with its complete length).
    pub total_header: Option<HeaderName>,
    /// `next = "header:Link"`: the next page is in this response header
    /// (RFC 8288 `rel="next"` for `Link`, else the header's value).
    pub next_header: Option<HeaderName>,
    pub paging: Paging,
    pub max_page_size: Option<u64>,
    pub fetch_each: bool,
}

/// How the app pages its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `{offset}`/`{limit}`; `base` is the app's first offset (0 or 1).
    Offset {
        /// First offset value.
        base: u64,
    },
    /// `{page}` and `{per_page}`; `base` is the app's first page (1 or 0).
    Page {
        /// First page number.
        base: u64,
    },
    /// `{cursor}` from the previous page's `next`.
    Cursor,
    /// The app returns everything in one call.
    None,
}

/// A rendered request, ready for the host client.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRequest {
    /// HTTP method.
    pub method: Method,
    /// Encoded path and query, e.g. `/api/users/a%2Fb?x=1`.
    pub path_and_query: String,
    /// Operation headers (the global host headers are added by the client).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Body, already wrapped per the operation.
    pub body: Option<Value>,
    /// The body's media type when it is not `application/json`.
    pub content_type: Option<&'static str>,
}

/// One page of list results.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Host items (unmapped).
    pub items: Vec<Value>,
    /// Total count when the app reports one.
    pub total: Option<u64>,
    /// Cursor or next link for the following page.
    pub next_cursor: Option<String>,
}

/// One host list call of a SCIM page, from [`ResourceMapping::plan_pages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// `{offset}` value (offset paging).
    pub offset: Option<u64>,
    /// `{limit}`/`{per_page}` value.
    pub limit: Option<u64>,
    /// `{page}` value (page paging).
    pub page: Option<u64>,
    /// Items to drop from the start of this host page.
    pub skip: usize,
    /// Items to keep after skipping.
    pub take: usize,
}

impl Operation {
    /// The operation kind.
    pub fn kind(&self) -> OpKind {
        self.kind
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Whether the path or query uses `{cursor}` (cursor paging that sends
    /// the token back; without it, `next` must be a link).
    pub fn uses_cursor(&self) -> bool {
        self.path.vars().any(|v| *v == Var::Cursor)
            || self
                .query
                .iter()
                .any(|q| q.vars().into_iter().any(|v| *v == Var::Cursor))
    }

    /// Whether create is followed by a get (the app returns only an id).
    pub fn then_get(&self) -> bool {
        self.then_get
    }

    /// Whether the call carries the app's version of the resource as a
    /// precondition (`{version}` in the path, query or headers, or a
    /// `version_field` in the body).
    pub fn uses_version(&self) -> bool {
        let in_tpl = |t: &Template<Var>| t.vars().any(|v| *v == Var::Version);
        self.version_field.is_some()
            || in_tpl(&self.path)
            || self
                .query
                .iter()
                .any(|q| q.vars().into_iter().any(|v| *v == Var::Version))
            || self.headers.iter().any(|(_, t)| in_tpl(t))
    }

    /// Whether the call's answer is the whole record (at `item`), as `get`
    /// returns it: a create without `then = "get"`, or any call declared
    /// `returns = "resource"`.
    pub fn returns_resource(&self) -> bool {
        self.returns_resource || (self.kind == OpKind::Create && !self.then_get)
    }

    /// Member add/remove: the body path of the member id array of a batch
    /// call; `None` for one call per member.
    pub fn batch(&self) -> Option<&WritePath> {
        self.batch.as_ref()
    }

    /// Whether one of the operation's own error rules reads an app error
    /// as "already done", which makes repeating the call harmless.
    pub fn has_success_rule(&self) -> bool {
        self.errors
            .iter()
            .any(|r| r.outcome == ErrorOutcome::Success)
    }

    /// The path template as configured, for logs.
    pub fn path_source(&self) -> &str {
        &self.path_source
    }

    /// The call made first in the same state change (activate and
    /// deactivate only).
    pub fn before(&self) -> Option<&Operation> {
        self.before.as_deref()
    }

    /// The operation's own error rules.
    pub fn error_rules(&self) -> &[ErrorRule] {
        &self.errors
    }

    /// Create only: the SCIM attributes (lowercased `attr` or
    /// `urn:…:attr`) the create call accepts; `None` for all of them.
    pub fn accepts(&self) -> Option<&[String]> {
        self.accepts.as_deref()
    }

    /// Renders the request: placeholders in the path are encoded as one path
    /// segment each, in the query as components (a search rule's
    /// parameters in `vars.search` merged in); `body` (else the
    /// operation's own body template) is wrapped per the operation.
    pub fn render(&self, vars: &Vars<'_>, body: Option<Value>) -> Result<HostRequest, MapError> {
        let mut pq = match self.path.render(vars, Context::PathSegment)? {
            Some(p) => p,
            None => return Err(self.missing(vars)),
        };
        // The query is written after its separator, which is taken back
        // when no parameter has a value.
        let mark = pq.len();
        pq.push(if pq.contains('?') { '&' } else { '?' });
        render_query_into(&mut pq, &self.query, vars)?;
        if pq.len() == mark + 1 {
            pq.truncate(mark);
        }
        let mut headers = Vec::new();
        for (name, t) in &self.headers {
            if let Some(v) = t.render(vars, Context::Raw)? {
                let hv =
                    HeaderValue::from_str(&v).map_err(|_| MapError::BadHeader(name.to_string()))?;
                headers.push((name.clone(), hv));
            }
        }
        let body = match (body, &self.body) {
            (Some(b), _) => Some(b),
            (None, Some(t)) => t.render(vars)?,
            (None, None) => None,
        };
        let body = match (&self.version_field, vars.version) {
            (Some(field), Some(v)) if !self.json_patch => {
                let mut b = body.unwrap_or_else(|| Value::Object(serde_json::Map::new()));
                field.set(&mut b, v.clone());
                Some(b)
            }
            _ => body,
        };
        let body = body.map(|b| match &self.wrap {
            Some(w) => {
                let mut out = Value::Null;
                w.set(&mut out, b);
                out
            }
            None => b,
        });
        let body = match (&self.id_field, vars.id) {
            (Some(field), Some(id)) => {
                let mut b = body.unwrap_or_else(|| Value::Object(serde_json::Map::new()));
                field.set(&mut b, Value::String(id.to_owned()));
                Some(b)
            }
            _ => body,
        };
        let (body, content_type) = match body {
            Some(b) if self.json_patch => {
                let test = self.version_field.as_ref().zip(vars.version);
                (Some(json_patch(&b, test)), Some(JSON_PATCH))
            }
            b => (b, None),
        };
        Ok(HostRequest {
            method: self.method.clone(),
            path_and_query: pq,
            headers,
            body,
            content_type,
        })
    }

    /// The error for a path placeholder without a value.
    fn missing(&self, vars: &Vars<'_>) -> MapError {
        let name = self
            .path
            .vars()
            .find(|v| !matches!(vars.get(v), Ok(Some(_))))
            .map(crate::mapping::render::placeholder::var_name)
            .unwrap_or_default();
        MapError::MissingVar(name)
    }

    /// The resource in a response body (the `item` path, default the body).
    pub fn extract_item<'a>(&self, body: &'a Value) -> Option<&'a Value> {
        match &self.item {
            Some(p) => p.one(body),
            None => Some(body),
        }
    }

    /// [`Operation::extract_item`] of a body no longer needed: the body
    /// itself is moved, not copied, when it is the resource.
    pub fn take_item(&self, body: Value) -> Option<Value> {
        match &self.item {
            Some(p) => p.one(&body).cloned(),
            None => Some(body),
        }
    }
}
