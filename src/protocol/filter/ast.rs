//! The filter AST (RFC 7644 §3.4.2.2) and its canonical printer.
//!
//! This module owns the data types a parsed filter is made of and the
//! `Display` impls that print a filter back in a canonical form which
//! re-parses to the same AST. It does not parse or evaluate.

use std::fmt;

/// Prefix shared by the core schema URNs (RFC 7643 §8.7.1); attributes qualified
/// with a core URN live at the top level of a resource, not in an extension object.
pub const CORE_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:";

/// An attribute path: `[URI ":"] ATTRNAME [ "." subAttr ]` (RFC 7644 §3.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, everything up to the last `:` before the name.
    pub urn: Option<String>,
    /// The attribute name, as written.
    pub name: String,
    /// The sub-attribute name, as written.
    pub sub: Option<String>,
}

impl AttrPath {
    /// A path without URN and without sub-attribute.
    pub fn simple(name: &str) -> Self {
        Self {
            urn: None,
            name: name.to_owned(),
            sub: None,
        }
    }

    /// A path `name.sub` without URN.
    pub fn with_sub(name: &str, sub: &str) -> Self {
        Self {
            urn: None,
            name: name.to_owned(),
            sub: Some(sub.to_owned()),
        }
    }

    /// True when the URN names a core schema (or is absent): such attributes
    /// live at the top level of the resource (RFC 7643 §3).
    pub fn is_core(&self) -> bool {
        self.urn.as_deref().is_none_or(|u| {
            u.as_bytes()
                .get(..CORE_URN_PREFIX.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(CORE_URN_PREFIX.as_bytes()))
        })
    }

    /// The extension URN when the attribute lives in an extension object.
    pub fn extension(&self) -> Option<&str> {
        if self.is_core() {
            None
        } else {
            self.urn.as_deref()
        }
    }

    /// Canonical lowercased lookup key: `name.givenname`, or
    /// `urn:…:user:department` for extension attributes (core URNs dropped).
    pub fn key(&self) -> String {
        let mut out = String::new();
        if let Some(urn) = self.extension() {
            out.push_str(urn);
            out.push(':');
        }
        out.push_str(&self.name);
        if let Some(sub) = &self.sub {
            out.push('.');
            out.push_str(sub);
        }
        out.make_ascii_lowercase();
        out
    }

    /// The lowercased key of the top-level attribute (without sub-attribute).
    pub fn top_key(&self) -> String {
        let mut out = String::new();
        if let Some(urn) = self.extension() {
            out.push_str(urn);
            out.push(':');
        }
        out.push_str(&self.name);
        out.make_ascii_lowercase();
        out
    }

    /// Whether [`Self::key`] equals `other` ignoring ASCII case, without
    /// building the key.
    pub fn key_eq_ignore_case(&self, other: &str) -> bool {
        self.key_parts_eq(other, self.sub.as_deref())
    }

    /// Whether [`Self::top_key`] equals `other` ignoring ASCII case, without
    /// building the key.
    pub fn top_key_eq_ignore_case(&self, other: &str) -> bool {
        self.key_parts_eq(other, None)
    }

    /// Compares `[extension ":"] name ["." sub]` with `other`, part by part.
    fn key_parts_eq(&self, other: &str, sub: Option<&str>) -> bool {
        let mut rest = other.as_bytes();
        let mut eat = |part: &str| match rest.get(..part.len()) {
            Some(head) if head.eq_ignore_ascii_case(part.as_bytes()) => {
                rest = &rest[part.len()..];
                true
            }
            _ => false,
        };
        let ext_ok = self.extension().is_none_or(|urn| eat(urn) && eat(":"));
        let name_ok = ext_ok && eat(&self.name);
        let sub_ok = name_ok && sub.is_none_or(|s| eat(".") && eat(s));
        sub_ok && rest.is_empty()
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3); `pr` is [`Filter::Present`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// Parses an operator keyword case-insensitively (RFC 7644 §3.4.2.2).
    pub fn from_keyword(word: &str) -> Option<Self> {
        let op = match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        };
        Some(op)
    }

    /// The canonical lowercase keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }
}

/// A comparison value: `false / null / true / number / string` (RFC 7644 §3.4.2.2).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string, unescaped.
    Str(String),
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::Str(s) => {
                let quoted = serde_json::Value::String(s.clone()).to_string();
                f.write_str(&quoted)
            }
        }
    }
}

/// A parsed filter expression (RFC 7644 §3.4.2.2, Figure 1).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `left and right`.
    And(Box<Filter>, Box<Filter>),
    /// `left or right`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (inner)`.
    Not(Box<Filter>),
    /// `path op value`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The literal compared against.
        value: CompValue,
    },
    /// `path pr`.
    Present(AttrPath),
    /// `path[filter]`: the inner filter applies to each element of `path`.
    ValuePath {
        /// The (multi-valued) attribute.
        path: AttrPath,
        /// The filter over its elements; paths inside are relative to an element.
        filter: Box<Filter>,
    },
}

impl Filter {
    fn precedence(&self) -> u8 {
        match self {
            Self::Or(..) => 1,
            Self::And(..) => 2,
            _ => 3,
        }
    }

    fn fmt_prec(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        let wrap = self.precedence() < min;
        if wrap {
            f.write_str("(")?;
        }
        match self {
            Self::Or(l, r) => {
                l.fmt_prec(f, 1)?;
                f.write_str(" or ")?;
                r.fmt_prec(f, 2)?;
            }
            Self::And(l, r) => {
                l.fmt_prec(f, 2)?;
                f.write_str(" and ")?;
                r.fmt_prec(f, 3)?;
            }
            Self::Not(inner) => {
                f.write_str("not (")?;
                inner.fmt_prec(f, 0)?;
                f.write_str(")")?;
            }
            Self::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str())?,
            Self::Present(path) => write!(f, "{path} pr")?,
            Self::ValuePath { path, filter } => {
                write!(f, "{path}[")?;
                filter.fmt_prec(f, 0)?;
                f.write_str("]")?;
            }
        }
        if wrap {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Prints the canonical form: lowercase keywords, minimal parentheses,
/// JSON-escaped strings. The output re-parses to an equal AST.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_prec(f, 0)
    }
}
