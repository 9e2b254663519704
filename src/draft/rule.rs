//! What drafting one resource's attribute rules works on: the request and
//! answer bodies of its operations, the rules found so far, and one rule
//! being built with the read-only marking the bodies imply. Shared by the
//! attribute, compound-attribute and account-state drafting.

use super::model::{Entry, Tv};
use super::schema::Field;

/// The request and answer bodies of one resource's operations, relative
/// to their envelopes.
pub struct Bodies<'a> {
    /// The record as `get` returns it.
    pub record: Vec<Field<'a>>,
    /// The create body's fields, when the document describes it.
    pub create: Option<Vec<Field<'a>>>,
    /// The update body's fields, when the document describes it.
    pub update: Option<Vec<Field<'a>>>,
}

/// The rules drafted for one resource.
#[derive(Default)]
pub struct Found {
    pub entries: Vec<Entry>,
    pub notes: Vec<String>,
    /// The host path of the SCIM id.
    pub id: Vec<String>,
    /// Host paths of the attributes a lookup may need.
    pub user_name: Option<Vec<String>>,
    pub email: Option<Vec<String>>,
    pub external_id: Option<Vec<String>>,
    /// The account-state field, when there is one.
    pub active: Option<Vec<String>>,
}

/// A rule being built.
pub struct Rule {
    pairs: Vec<(String, Tv)>,
    pub comment: String,
}

impl Rule {
    pub fn path(f: &Field<'_>) -> Self {
        let mut comment = format!("field `{}`", f.path.join("."));
        if !f.format.is_empty() {
            comment.push_str(&format!(", format {}", f.format));
        }
        Self {
            pairs: vec![("path".into(), Tv::s(f.json_path()))],
            comment,
        }
    }

    pub fn add(&mut self, key: &str, v: Tv) {
        self.pairs.push((key.into(), v));
    }

    pub fn entry(self, key: &str) -> Entry {
        let value = match self.pairs.as_slice() {
            [(k, v)] if k == "path" => v.clone(),
            _ => Tv::Table(self.pairs),
        };
        Entry::new(key, value, self.comment)
    }
}

/// Adds `mutability = "readOnly"` where the app does not take the field.
pub fn writability(b: &Bodies<'_>, f: &Field<'_>, attr: &str, rule: &mut Rule) {
    if attr.starts_with("meta.") {
        return;
    }
    let in_body = |fields: &Option<Vec<Field<'_>>>| {
        fields
            .as_ref()
            .map(|fs| fs.iter().any(|x| x.path == f.path))
    };
    let why = if f.read_only {
        Some("readOnly in the document")
    } else {
        match (in_body(&b.create), in_body(&b.update)) {
            (Some(false), Some(false)) => Some("in neither the create nor the update body"),
            (Some(false), None) => Some("not in the create body"),
            (None, Some(false)) if b.create.is_none() => Some("not in the update body"),
            _ => None,
        }
    };
    if let Some(why) = why {
        rule.add("mutability", Tv::s("readOnly"));
        rule.comment.push_str(&format!("; {why}"));
    }
}
