//! Compiled attribute rules ([`AttrRule`]): the SCIM target, where the
//! host value comes from (a path, a value template or a constant), value
//! maps, transforms, defaults, the element rules of a whole multi-valued
//! attribute, and the write-side options (`where`, clearing style,
//! fallbacks, primary selection, generated values); and the constants
//! written into host bodies.

use serde_json::Value;

use crate::mapping::path::{ReadPath, ScimPath, WritePath};
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::query::Tree;
use crate::mapping::render::template::Template;
use crate::mapping::render::transform::Transform;
use crate::schema::{AttrType, Mutability};

/// Where a rule's host value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A host path; `write` is set when the rule is writable.
    Path {
        read: ReadPath,
        write: Option<WritePath>,
    },
    /// A read-only value template.
    Template(Template<ReadPath>),
    /// A constant SCIM value.
    Const(Value),
}

/// The host JSON type a rule writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HostType {
    String,
    Number,
    Integer,
    Bool,
}

/// One compiled attribute rule.
#[derive(Debug, Clone)]
pub(crate) struct AttrRule {
    /// SCIM side, with canonical names.
    pub target: ScimPath,
    /// The SCIM path for messages, e.g. `emails[type eq "work"].value`.
    pub name: String,
    /// SCIM type of the mapped value.
    pub ty: AttrType,
    /// Whether the mapped value is a SCIM array (whole multi-valued rule).
    pub multi: bool,
    pub mutability: Mutability,
    pub source: Source,
    /// (SCIM value as text, host value) pairs.
    pub map: Vec<(String, Value)>,
    pub host_type: Option<HostType>,
    pub read: Vec<Transform>,
    pub write: Vec<Transform>,
    pub default: Option<Value>,
    /// `empty = "absent"`: the app's `""` reads as no value.
    pub empty_absent: bool,
    /// Element rules of a whole multi-valued attribute.
    pub fields: Vec<AttrRule>,
    /// Write-side options: list element selection, clearing, fallbacks,
    /// generated values.
    pub write_opts: WriteOpts,
}

/// How a cleared value is written to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clear {
    /// `null` at the rule's path.
    #[default]
    Null,
    /// `null` at the parent of the rule's path (`"manager": null`).
    NullParent,
    /// `""` for a single value, `[]` for a list.
    Empty,
    /// The key is left out.
    Omit,
}

/// A value written when the attribute itself has none.
#[derive(Debug, Clone)]
pub(crate) enum Fallback {
    /// Another SCIM attribute.
    Attr(ScimPath),
    /// A template of SCIM attributes; empty renders count as no value.
    Template(Template<Var>),
}

/// Write-side options of a rule.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteOpts {
    /// The members that select the rule's elements of a host list.
    pub where_: Vec<(String, Value)>,
    /// Single-valued rule with `where`: the element member holding the value.
    pub field: Option<WritePath>,
    /// Clearing style.
    pub clear: Clear,
    /// Fallbacks, in order.
    pub fallbacks: Vec<Fallback>,
    /// A sub-attribute of the primary (else first) element.
    pub pick_primary: bool,
    /// The first host element is the primary one.
    pub primary_first: bool,
    /// Length of a random value generated for a create.
    pub generate: Option<usize>,
}

/// A host field written into create and replace bodies.
#[derive(Debug, Clone)]
pub(crate) struct Constant {
    pub path: WritePath,
    pub value: Tree,
    /// Written only when this SCIM attribute has a value (and, in an
    /// update, when it changed).
    pub when: Option<ScimPath>,
}
