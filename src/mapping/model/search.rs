//! Filter push-down rules (`[<resource>.search]`): a SCIM filter
//! `'<attr> <op>'` answered by the app, either by query parameters merged
//! into the list call or by a get-by-key lookup, which may answer only
//! the id of the record to read next (a reverse index). The SCIM handler picks a
//! rule through `ResourceMapping::pushdown` and re-checks every answer.

use crate::mapping::model::ops::Operation;
use serde_json::Value;

use crate::mapping::path::ReadPath;
use crate::mapping::render::query::QueryParam;

/// A filter push-down rule: `'<attr> <op>'` → query parameters merged
/// into the list call, or a get-by-key lookup.
#[derive(Debug, Clone)]
pub struct PushdownRule {
    pub(crate) attr: String,
    pub(crate) op: String,
    pub(crate) query: Vec<QueryParam>,
    pub(crate) lookup: Option<Operation>,
    pub(crate) follow: Option<ReadPath>,
    pub(crate) case_insensitive: bool,
}

impl PushdownRule {
    /// The canonical SCIM attribute path, e.g. `userName`, `emails.value`.
    pub fn attr(&self) -> &str {
        &self.attr
    }

    /// The lowercase operator, e.g. `eq`.
    pub fn op(&self) -> &str {
        &self.op
    }

    /// Whether the app matches case-insensitively (the handler re-checks
    /// every answer either way).
    pub fn case_insensitive(&self) -> bool {
        self.case_insensitive
    }

    /// The query parameters merged into the list call (`Vars::search`).
    pub fn query(&self) -> &[QueryParam] {
        &self.query
    }

    /// The get-by-key call, when the rule looks one record up by its key
    /// (404: no match) instead of filtering the list.
    pub fn lookup(&self) -> Option<&Operation> {
        self.lookup.as_ref()
    }

    /// Where the lookup's answer holds the id of the record to read with
    /// the resource's `get` (a two-step lookup through a reverse index),
    /// `None` when the answer is the record itself.
    pub fn follows(&self) -> bool {
        self.follow.is_some()
    }

    /// The id a reverse lookup's answer holds (a string, or a number as
    /// text), `None` when it holds none.
    pub fn followed_id(&self, answer: &Value) -> Option<String> {
        match self.follow.as_ref()?.one(answer)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}
