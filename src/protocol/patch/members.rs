//! Group membership edits extracted from PATCH operations.
//!
//! This module owns the translation of `members` operations on a Group into
//! explicit add/remove lists, so the caller can make O(k) host calls without
//! listing the group first (DESIGN principle 5). It recognises the Okta and
//! Entra shapes of idp-behavior.md §2.2(k) and §3.1(j); every other operation
//! is passed through untouched in `other_ops`.

use crate::error::ScimType;
use serde_json::{Map, Value};

use super::{Op, OpKind, PatchError};
use crate::protocol::filter::{CompValue, CompareOp, Filter};
use crate::schema::get_ci;

/// The membership effect of a PATCH on a Group, in operation order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberChanges {
    /// Member ids to add (when `replace_all` is `None`).
    pub add: Vec<String>,
    /// Member ids to remove (when `replace_all` is `None`).
    pub remove: Vec<String>,
    /// The complete new member list, when an op replaced or cleared `members`.
    pub replace_all: Option<Vec<String>>,
    /// Operations that do not touch membership, to apply with [`super::apply`].
    pub other_ops: Vec<Op>,
}

impl MemberChanges {
    fn add_id(&mut self, id: String) {
        if let Some(all) = &mut self.replace_all {
            push_unique(all, id);
            return;
        }
        self.remove.retain(|r| r != &id);
        push_unique(&mut self.add, id);
    }

    fn remove_id(&mut self, id: String) {
        if let Some(all) = &mut self.replace_all {
            all.retain(|r| r != &id);
            return;
        }
        self.add.retain(|a| a != &id);
        push_unique(&mut self.remove, id);
    }

    fn replace(&mut self, ids: Vec<String>) {
        self.add.clear();
        self.remove.clear();
        self.replace_all = Some(ids);
    }
}

fn push_unique(list: &mut Vec<String>, id: String) {
    if !list.contains(&id) {
        list.push(id);
    }
}

/// Splits `ops` (parsed from a PATCH on a Group) into membership changes and
/// other operations. Recognised: `add` `members` with a value array;
/// `replace` `members` (`[]` clears); `remove` `members[value eq "x"]` (also
/// `or`-joined); `remove` `members` with a value array (Entra) or without
/// value (all members); `members` inside a path-less add/replace object.
pub fn member_changes(ops: &[Op]) -> Result<MemberChanges, PatchError> {
    let mut out = MemberChanges::default();
    for (i, op) in ops.iter().enumerate() {
        classify(op, &mut out).map_err(|e| e.at(i))?;
    }
    Ok(out)
}

fn classify(op: &Op, out: &mut MemberChanges) -> Result<(), PatchError> {
    let Some(path) = &op.path else {
        return split_pathless(op, out);
    };
    let is_members = path.attr.urn.is_none()
        && path.attr.sub.is_none()
        && path.attr.name.eq_ignore_ascii_case("members");
    if !is_members || path.sub.is_some() {
        out.other_ops.push(op.clone());
        return Ok(());
    }
    let value = op.value.as_ref().filter(|v| !v.is_null());
    match (&path.filter, op.kind, value) {
        (None, OpKind::Add, Some(v)) => ids(v)?.into_iter().for_each(|id| out.add_id(id)),
        (None, OpKind::Replace, v) => out.replace(v.map(ids).transpose()?.unwrap_or_default()),
        // Entra: {"op":"Remove","path":"members","value":[{"$ref":null,"value":"U"}]}
        (None, OpKind::Remove, Some(v)) => ids(v)?.into_iter().for_each(|id| out.remove_id(id)),
        (None, OpKind::Remove, None) => out.replace(Vec::new()),
        (Some(f), OpKind::Remove, _) => match filter_ids(f) {
            // Okta / Entra (flag): {"op":"remove","path":"members[value eq \"U\"]"}
            Some(list) => list.into_iter().for_each(|id| out.remove_id(id)),
            None => out.other_ops.push(op.clone()),
        },
        _ => out.other_ops.push(op.clone()),
    }
    Ok(())
}

/// Path-less add/replace: `members` is taken out, the rest stays an operation
/// (Okta: {"op":"replace","value":{"id":"G","displayName":"…"}}).
fn split_pathless(op: &Op, out: &mut MemberChanges) -> Result<(), PatchError> {
    let Some(Value::Object(obj)) = &op.value else {
        out.other_ops.push(op.clone());
        return Ok(());
    };
    let mut rest = Map::new();
    for (k, v) in obj {
        if !k.eq_ignore_ascii_case("members") {
            rest.insert(k.clone(), v.clone());
            continue;
        }
        let list = if v.is_null() { Vec::new() } else { ids(v)? };
        match op.kind {
            OpKind::Replace => out.replace(list),
            _ => list.into_iter().for_each(|id| out.add_id(id)),
        }
    }
    if !rest.is_empty() {
        out.other_ops.push(Op {
            kind: op.kind,
            path: None,
            value: Some(Value::Object(rest)),
        });
    }
    Ok(())
}

/// Member ids from `[{"value":"U", …}, …]` (or a single member object).
fn ids(v: &Value) -> Result<Vec<String>, PatchError> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    let mut out = Vec::new();
    for item in items {
        match get_ci(item, "value").and_then(Value::as_str) {
            Some(id) => push_unique(&mut out, id.to_owned()),
            None => {
                return Err(PatchError::new(
                    ScimType::InvalidValue,
                    "each member must be an object with a string \"value\"",
                ));
            }
        }
    }
    Ok(out)
}

/// `value eq "x"`, or several joined by `or`: the ids to remove; `None` for any other filter.
fn filter_ids(f: &Filter) -> Option<Vec<String>> {
    match f {
        Filter::Or(l, r) => {
            let mut ids = filter_ids(l)?;
            ids.extend(filter_ids(r)?);
            Some(ids)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.urn.is_none()
            && path.sub.is_none()
            && path.name.eq_ignore_ascii_case("value") =>
        {
            Some(vec![id.clone()])
        }
        _ => None,
    }
}
