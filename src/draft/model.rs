//! The draft before it is written out: what goes into each table of the
//! config, with the comment that gives the evidence for it. The finders
//! fill it, `--probe` corrects it from real records, and the renderer
//! writes it as TOML in a fixed order, so that the same document always
//! gives the same bytes.

use super::ops::Method;

/// A TOML value as the draft writes it (inline).
#[derive(Debug, Clone, PartialEq)]
pub enum Tv {
    Str(String),
    Int(i64),
    Bool(bool),
    Arr(Vec<Tv>),
    Table(Vec<(String, Tv)>),
}

impl Tv {
    /// A string value.
    pub fn s(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// An inline table of `(key, value)` pairs, in the given order.
    pub fn table<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Tv)>) -> Self {
        Self::Table(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// `key = value  # comment`.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Tv,
    pub comment: String,
}

impl Entry {
    /// An entry with a comment (empty: none).
    pub fn new(key: impl Into<String>, value: Tv, comment: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value,
            comment: comment.into(),
        }
    }
}

/// One operation table, e.g. `[users.get]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// `list`, `get`, `create`, …
    pub kind: &'static str,
    pub method: Method,
    /// The path template, placeholders already the mapping's.
    pub path: String,
    /// The document's own path, for comments and alternatives.
    pub source: String,
    /// Keys after the method key, in order.
    pub keys: Vec<Entry>,
    /// Comment lines above the table.
    pub notes: Vec<String>,
}

impl Op {
    /// The value of `key`, if set.
    pub fn get(&self, key: &str) -> Option<&Tv> {
        self.keys.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// Sets `key` (replacing an earlier value and its comment).
    pub fn set(&mut self, key: &str, value: Tv, comment: impl Into<String>) {
        let comment = comment.into();
        match self.keys.iter_mut().find(|e| e.key == key) {
            Some(e) => {
                e.value = value;
                e.comment = comment;
            }
            None => self.keys.push(Entry::new(key, value, comment)),
        }
    }

    /// Removes `key`.
    pub fn unset(&mut self, key: &str) {
        self.keys.retain(|e| e.key != key);
    }

    /// `METHOD path` as the document wrote it.
    pub fn describe(&self) -> String {
        format!("{} {}", self.method.upper(), self.source)
    }
}

/// `[groups.members]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Members {
    pub value: String,
    pub display: Option<String>,
    pub list: Option<Op>,
    pub add: Option<Op>,
    pub remove: Option<Op>,
    pub notes: Vec<String>,
}

/// One resource type (`[users]` or `[groups]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    /// `users` or `groups`.
    pub name: &'static str,
    /// Why the table is written commented out (an operation the mapping
    /// requires is missing); `None` when it is live.
    pub disabled: Option<String>,
    /// Comment lines under the table header: what was chosen and why,
    /// the alternatives, TODOs.
    pub notes: Vec<String>,
    /// `unmapped`, `unique`, … in order.
    pub policies: Vec<Entry>,
    pub ops: Vec<Op>,
    pub search: Vec<Entry>,
    pub search_notes: Vec<String>,
    pub constants: Vec<Entry>,
    pub attributes: Vec<Entry>,
    pub attribute_notes: Vec<String>,
    pub errors: Vec<Entry>,
    pub members: Option<Members>,
}

impl Resource {
    /// The operation `kind`, if drafted.
    pub fn op(&self, kind: &str) -> Option<&Op> {
        self.ops.iter().find(|o| o.kind == kind)
    }

    /// The operation `kind`, mutably.
    pub fn op_mut(&mut self, kind: &str) -> Option<&mut Op> {
        self.ops.iter_mut().find(|o| o.kind == kind)
    }

    /// The attribute rule for `scim`, if drafted.
    pub fn attribute(&self, scim: &str) -> Option<&Entry> {
        self.attributes.iter().find(|e| e.key == scim)
    }
}

/// The whole draft.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Draft {
    /// Comment lines at the top: what the draft was made from.
    pub header: Vec<String>,
    pub listen: String,
    pub upstream: String,
    pub upstream_notes: Vec<String>,
    /// `[host] headers`.
    pub host_headers: Vec<Entry>,
    pub host_notes: Vec<String>,
    /// `[[connections]] idp`.
    pub idp: String,
    /// `[[connections]] vars`: path segments every call needs.
    pub vars: Vec<Entry>,
    pub users: Resource,
    pub groups: Option<Resource>,
    /// Comment lines at the end (shapes the mapping cannot express yet).
    pub footer: Vec<String>,
}
