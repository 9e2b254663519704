//! A loaded OpenAPI document set and `$ref` resolution over it: JSON
//! pointers (RFC 6901, percent-decoded as URI fragments) into the same or
//! another loaded document, chains of references followed to their end,
//! cycles and over-long chains refused, and the total number of
//! resolutions bounded so that a document whose references fan out
//! cannot make the drafter work for ever. A reference that does not
//! resolve is remembered and fails the draft once the drafter needed it.

use super::error::DraftError;
use super::load::{Loaded, Location};
use serde_json::Value;
use std::cell::{Cell, RefCell};

/// Longest chain of references to references.
const MAX_CHAIN: usize = 32;
/// Most resolutions for one draft.
const MAX_RESOLUTIONS: usize = 2_000_000;

static NULL: Value = Value::Null;

/// Which dialect the document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Swagger 2.0.
    Swagger2,
    /// OpenAPI 3.0.x.
    OpenApi30,
    /// OpenAPI 3.1.x.
    OpenApi31,
}

/// A value inside one of the loaded documents.
#[derive(Clone, Copy)]
pub struct Node<'a> {
    /// Index of the document it is in.
    pub doc: usize,
    /// The value.
    pub v: &'a Value,
    /// Where it is, as a JSON pointer into its document, for messages.
    pub at: &'a str,
}

/// The documents of one draft.
pub struct Spec {
    docs: Vec<Loaded>,
    /// The dialect of the root document.
    pub dialect: Dialect,
    /// `openapi` / `swagger` as written, e.g. `3.0.3`.
    pub version: String,
    resolutions: Cell<usize>,
    problems: RefCell<Vec<DraftError>>,
}

impl Spec {
    /// Wraps loaded documents (the first is the root) after checking that
    /// the root is an OpenAPI 3.x or Swagger 2.0 document with paths.
    pub fn new(docs: Vec<Loaded>) -> Result<Self, DraftError> {
        let root = docs
            .first()
            .ok_or_else(|| DraftError::Usage("no document".into()))?;
        let what = root.location.key();
        let value = root.value.as_ref().map_err(|e| DraftError::Read {
            path: what.clone(),
            reason: e.clone(),
        })?;
        let not = |reason: &str| DraftError::NotOpenApi {
            what: what.clone(),
            reason: reason.to_owned(),
        };
        let Value::Object(map) = value else {
            return Err(not("the top level is not an object"));
        };
        let (dialect, version) = match (map.get("openapi"), map.get("swagger")) {
            (Some(Value::String(v)), _) if v.starts_with("3.0") => (Dialect::OpenApi30, v),
            (Some(Value::String(v)), _) if v.starts_with("3.") => (Dialect::OpenApi31, v),
            (Some(v), _) => {
                return Err(not(&format!(
                    "`openapi` is {v}; the drafter reads OpenAPI 3.x and Swagger 2.0"
                )));
            }
            (None, Some(Value::String(v))) if v.starts_with("2.") => (Dialect::Swagger2, v),
            (None, Some(v)) => {
                return Err(not(&format!("`swagger` is {v}; only Swagger 2.0 is read")));
            }
            (None, None) => {
                return Err(not(
                    "it has neither an `openapi` nor a `swagger` version field",
                ));
            }
        };
        if !map.get("paths").is_some_and(Value::is_object) {
            return Err(not("it has no `paths` object"));
        }
        let version = version.clone();
        Ok(Self {
            docs,
            dialect,
            version,
            resolutions: Cell::new(0),
            problems: RefCell::new(Vec::new()),
        })
    }

    /// A spec from one document's text (no other documents).
    pub fn from_value(value: Value) -> Result<Self, DraftError> {
        Self::new(vec![Loaded {
            location: Location::Inline,
            value: Ok(value),
        }])
    }

    /// The root document.
    pub fn root(&self) -> Node<'_> {
        let v = self.docs[0].value.as_ref().unwrap_or(&NULL);
        Node { doc: 0, v, at: "#" }
    }

    /// Where the root document came from.
    pub fn location(&self) -> &Location {
        &self.docs[0].location
    }

    /// `node` with its `$ref` chain followed; a reference that does not
    /// resolve (or a cycle) is recorded and reads as `null`.
    pub fn deref<'a>(&'a self, node: Node<'a>) -> Node<'a> {
        let mut current = node;
        let mut seen: Vec<(usize, &str)> = Vec::new();
        loop {
            let Some(Value::String(reference)) = current.v.get("$ref") else {
                return current;
            };
            if !self.count() {
                return self.null(current.doc);
            }
            if seen.len() >= MAX_CHAIN {
                self.problem(DraftError::RefLimit(format!(
                    "a chain of more than {MAX_CHAIN} $refs starts at {}",
                    node.at
                )));
                return self.null(current.doc);
            }
            match self.target(current.doc, reference) {
                Ok((doc, at, v)) => {
                    if seen.contains(&(doc, at)) {
                        self.problem(DraftError::BrokenRef {
                            reference: reference.clone(),
                            at: current.at.to_owned(),
                            reason: "it refers to itself through other $refs".into(),
                        });
                        return self.null(doc);
                    }
                    seen.push((doc, at));
                    current = Node { doc, v, at };
                }
                Err(reason) => {
                    self.problem(DraftError::BrokenRef {
                        reference: reference.clone(),
                        at: current.at.to_owned(),
                        reason,
                    });
                    return self.null(current.doc);
                }
            }
        }
    }

    /// The member `key` of `node` (dereferenced), itself dereferenced.
    pub fn get<'a>(&'a self, node: Node<'a>, key: &str) -> Option<Node<'a>> {
        let node = self.deref(node);
        let v = node.v.get(key)?;
        Some(self.deref(Node { v, ..node }))
    }

    /// The first problem a followed reference caused, if any.
    pub fn take_problem(&self) -> Option<DraftError> {
        let mut problems = self.problems.borrow_mut();
        if problems.is_empty() {
            None
        } else {
            Some(problems.remove(0))
        }
    }

    fn null(&self, doc: usize) -> Node<'_> {
        Node {
            doc,
            v: &NULL,
            at: "#",
        }
    }

    fn problem(&self, e: DraftError) {
        let mut problems = self.problems.borrow_mut();
        if problems.len() < 16 {
            problems.push(e);
        }
    }

    /// Counts one resolution; false once the budget is spent.
    fn count(&self) -> bool {
        let n = self.resolutions.get() + 1;
        self.resolutions.set(n);
        if n == MAX_RESOLUTIONS {
            self.problem(DraftError::RefLimit(format!(
                "the document's $refs expand to more than {MAX_RESOLUTIONS} resolutions"
            )));
        }
        n < MAX_RESOLUTIONS
    }

    /// The document, pointer and value a reference names.
    fn target<'a>(
        &'a self,
        from: usize,
        reference: &'a str,
    ) -> Result<(usize, &'a str, &'a Value), String> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let doc = if file.is_empty() {
            from
        } else {
            let location = self.docs[from].location.join(file)?;
            self.docs
                .iter()
                .position(|d| d.location == location)
                .ok_or_else(|| format!("{} was not loaded", location.key()))?
        };
        let value = self.docs[doc]
            .value
            .as_ref()
            .map_err(|e| format!("{}: {e}", self.docs[doc].location.key()))?;
        let pointer = percent_decode(fragment);
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err("only JSON-pointer fragments (`#/…`) are followed".into());
        }
        let v = value.pointer(&pointer).ok_or_else(|| {
            format!(
                "nothing at `#{pointer}` in {}",
                self.docs[doc].location.key()
            )
        })?;
        Ok((doc, reference, v))
    }
}

/// `%7B` → `{` in a URI fragment.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> Spec {
        Spec::from_value(v).unwrap()
    }

    #[test]
    fn dialects_and_refusals() {
        assert_eq!(
            spec(json!({"openapi": "3.0.3", "paths": {}})).dialect,
            Dialect::OpenApi30
        );
        assert_eq!(
            spec(json!({"openapi": "3.1.0", "paths": {}})).dialect,
            Dialect::OpenApi31
        );
        assert_eq!(
            spec(json!({"swagger": "2.0", "paths": {}})).dialect,
            Dialect::Swagger2
        );
        for bad in [
            json!([1]),
            json!({"name": "x"}),
            json!({"openapi": "4.0", "paths": {}}),
            json!({"swagger": "1.2", "paths": {}}),
            json!({"openapi": "3.0.0"}),
        ] {
            assert!(matches!(
                Spec::from_value(bad),
                Err(DraftError::NotOpenApi { .. })
            ));
        }
    }

    #[test]
    fn refs_resolve_chains_and_report_cycles_and_dangling() {
        let s = spec(json!({
            "openapi": "3.0.0", "paths": {},
            "components": {"schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"type": "object"},
                "C": {"$ref": "#/components/schemas/D"},
                "D": {"$ref": "#/components/schemas/C"},
                "E": {"$ref": "#/components/schemas/Nope"},
                "F{x}": {"type": "string"}
            }}
        }));
        let a = s
            .get(s.root(), "components")
            .and_then(|c| s.get(c, "schemas"))
            .unwrap();
        assert_eq!(s.get(a, "A").unwrap().v, &json!({"type": "object"}));
        assert!(s.take_problem().is_none());
        assert!(s.get(a, "C").unwrap().v.is_null());
        assert!(
            s.take_problem()
                .unwrap()
                .to_string()
                .contains("refers to itself")
        );
        assert!(s.get(a, "E").unwrap().v.is_null());
        let e = s.take_problem().unwrap().to_string();
        assert!(e.contains("#/components/schemas/Nope"), "{e}");
        let enc = json!({"$ref": "#/components/schemas/F%7Bx%7D"});
        assert_eq!(
            s.deref(Node {
                doc: 0,
                v: &enc,
                at: "#"
            })
            .v["type"],
            "string"
        );
    }
}
