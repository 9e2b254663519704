//! How the filter evaluator and the PATCH engine read attribute
//! characteristics: every question about an [`AttrPath`] (caseExact,
//! dateTime, boolean, readOnly) is answered by the compiled
//! [`ResourceSchema`], the one owner of those characteristics. Attributes
//! the schema does not declare fall back to RFC 7643's definition, else to
//! a case-insensitive string.

use super::ast::AttrPath;
use crate::schema::{self, AttrType, Mutability, ResourceSchema};

impl AttrPath {
    fn declared(&self, s: &ResourceSchema) -> Option<(Option<AttrType>, bool, Option<Mutability>)> {
        let (urn, sub) = (self.extension(), self.sub.as_deref());
        let r = s.resolve(urn, &self.name, sub)?;
        let leaf = r.leaf();
        Some((
            Some(leaf.ty),
            leaf.case_exact,
            s.mutability(urn, &self.name, sub),
        ))
    }

    /// RFC 7643's own definition of an attribute the schema does not declare.
    fn rfc(&self, s: &ResourceSchema) -> Option<(Option<AttrType>, bool, Option<Mutability>)> {
        let core = schema::schema_by_urn(s.core_urn())?;
        let text = match (self.extension(), &self.sub) {
            (Some(u), Some(sub)) => format!("{u}:{}.{sub}", self.name),
            (Some(u), None) => format!("{u}:{}", self.name),
            (None, Some(sub)) => format!("{}.{sub}", self.name),
            (None, None) => self.name.clone(),
        };
        let (_, def, sub) = schema::lookup_path(core, &text)?;
        let leaf = sub.unwrap_or(def);
        let m = if def.mutability == Mutability::ReadOnly {
            Mutability::ReadOnly
        } else {
            leaf.mutability
        };
        Some((Some(leaf.ty), leaf.case_exact, Some(m)))
    }

    fn facts(&self, s: &ResourceSchema) -> (Option<AttrType>, bool, Option<Mutability>) {
        self.declared(s)
            .or_else(|| self.rfc(s))
            .unwrap_or((None, false, None))
    }

    /// Whether string comparisons on this path are case-sensitive (`caseExact`).
    pub fn case_exact_in(&self, s: &ResourceSchema) -> bool {
        self.facts(s).1
    }

    /// Whether the path has type `dateTime` and compares as an instant.
    pub fn is_datetime_in(&self, s: &ResourceSchema) -> bool {
        self.facts(s).0 == Some(AttrType::DateTime)
    }

    /// Whether the path has type `boolean` (Entra's `"True"` is coerced).
    pub fn is_boolean_in(&self, s: &ResourceSchema) -> bool {
        self.facts(s).0 == Some(AttrType::Boolean)
    }

    /// Whether RFC 7643 itself lets a client write the path (the mapping
    /// may still make it readOnly, e.g. a computed `name.formatted`).
    pub fn rfc_writable(&self, s: &ResourceSchema) -> bool {
        self.rfc(s)
            .is_some_and(|f| f.2 != Some(Mutability::ReadOnly))
    }

    /// Whether the path is `mutability: readOnly` (RFC 7643 §2.2). A
    /// sub-attribute no schema declares takes its parent's: `meta.x` is as
    /// readOnly as `meta`.
    pub fn is_read_only_in(&self, s: &ResourceSchema) -> bool {
        match self.facts(s).2 {
            Some(m) => m == Mutability::ReadOnly,
            None if self.sub.is_some() => {
                let parent = AttrPath {
                    sub: None,
                    ..self.clone()
                };
                parent.facts(s).2 == Some(Mutability::ReadOnly)
            }
            None => false,
        }
    }
}
