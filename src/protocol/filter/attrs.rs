//! Attribute characteristics the filter evaluator and PATCH engine need.
//!
//! This module owns the [`AttrInfo`] trait (caseExact, dateTime, boolean,
//! readOnly) and [`DefaultAttrs`], its implementation for the core User,
//! Group and Enterprise User schemas of RFC 7643 §4 and §8.7. A deployment
//! with a mapping supplies its own implementation from the compiled schema.

use super::ast::AttrPath;

/// Schema characteristics of attributes (RFC 7643 §2.2, §7).
pub trait AttrInfo: Sync {
    /// Whether string comparisons on `path` are case-sensitive (`caseExact`).
    fn case_exact(&self, path: &AttrPath) -> bool;
    /// Whether `path` has type `dateTime` and compares as an instant.
    fn is_datetime(&self, path: &AttrPath) -> bool;
    /// Whether `path` has type `boolean` (used to coerce Entra's `"True"`).
    fn is_boolean(&self, path: &AttrPath) -> bool {
        let _ = path;
        false
    }
    /// Whether `path` is `mutability: readOnly` (RFC 7643 §2.2).
    fn is_read_only(&self, path: &AttrPath) -> bool {
        ["id", "meta", "groups"]
            .iter()
            .any(|k| path.top_key_eq_ignore_case(k))
    }
}

/// The RFC 7643 characteristics of the core User, Group and Enterprise User
/// attributes: `id` and `externalId` are caseExact, `meta.created` and
/// `meta.lastModified` are dateTimes, `active` and every `primary` are
/// booleans, `id`, `meta` and `groups` are readOnly; everything else is a
/// case-insensitive string.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultAttrs;

impl AttrInfo for DefaultAttrs {
    fn case_exact(&self, path: &AttrPath) -> bool {
        ["id", "externalid", "meta.version"]
            .iter()
            .any(|k| path.key_eq_ignore_case(k))
            || path
                .sub
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("$ref"))
    }

    fn is_datetime(&self, path: &AttrPath) -> bool {
        ["meta.created", "meta.lastmodified"]
            .iter()
            .any(|k| path.key_eq_ignore_case(k))
    }

    fn is_boolean(&self, path: &AttrPath) -> bool {
        path.key_eq_ignore_case("active")
            || path
                .sub
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("primary"))
    }
}
