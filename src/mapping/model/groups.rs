//! How a group's members are stored, in either of the two shapes a
//! mapping can declare for `/Groups`:
//!
//! - [`MembersSpec`]: the app has groups (teams) with member endpoints: a
//!   paged member listing, and add/remove calls per member or in batches;
//!   or the member list is a field of the group's record that the app
//!   only replaces whole (`PUT {"users": [2, 3]}`);
//! - [`RolesSpec`]: the app has no groups, only role values on each user
//!   (`roles: ["admin", "billing"]`) or role-assignment endpoints; a group
//!   is a named role, its id is the role value (stable, no state kept), and
//!   membership edits are user updates.
//!
//! Both are compiled once from `[groups.members]` / `[groups.roles]` and
//! read here; the group handlers sequence the calls.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::mapping::error::MapError;
use crate::mapping::path::{ReadPath, WritePath};
use crate::mapping::render::encode::Context;
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::template::Template;
use crate::mapping::render::vars::Vars;

/// Members through the app's member endpoints, or as one list inside the
/// group's record that the app only replaces whole.
#[derive(Debug, Clone)]
pub struct MembersSpec {
    pub(crate) value: ReadPath,
    pub(crate) display: Option<ReadPath>,
    /// Most members returned with a group.
    pub max: usize,
    /// The member list inside the group's record (read, written whole).
    pub(crate) field: Option<(ReadPath, WritePath)>,
    /// Member ids are written as integers.
    pub(crate) integer_ids: bool,
}

impl MembersSpec {
    /// Whether the members are one list in the group's record, replaced
    /// whole by the group's update.
    pub fn in_record(&self) -> bool {
        self.field.is_some()
    }

    /// The members (id, display) listed in a group's record.
    pub fn of_record(&self, group: &Value) -> Vec<(String, Option<String>)> {
        let Some((read, _)) = &self.field else {
            return Vec::new();
        };
        match read.one(group) {
            Some(Value::Array(items)) => items.iter().filter_map(|e| self.member_of(e)).collect(),
            _ => Vec::new(),
        }
    }

    /// The partial group body that sets the whole member list to `ids`;
    /// `Err` names an id that is not an integer when ids are integers.
    pub fn record_body(&self, ids: &[String]) -> Result<Option<Value>, String> {
        let Some((_, write)) = &self.field else {
            return Ok(None);
        };
        let list = ids
            .iter()
            .map(|id| match self.integer_ids {
                false => Ok(Value::String(id.clone())),
                true => id.parse::<i64>().map(Value::from).map_err(|_| id.clone()),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut body = Value::Object(serde_json::Map::new());
        write.set(&mut body, Value::Array(list));
        Ok(Some(body))
    }

    /// The member id (and display name) of one listed element.
    pub fn member_of(&self, element: &Value) -> Option<(String, Option<String>)> {
        let id = match self.value.one(element)? {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let display = self
            .display
            .as_ref()
            .and_then(|d| d.one(element))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some((id, display))
    }

    /// Whether listed members carry a display name.
    pub fn has_display(&self) -> bool {
        self.display.is_some()
    }
}

/// What a group name that is not listed in `names` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownRoles {
    /// 400 naming the allowed names.
    Reject,
    /// The name is the role value.
    Pass,
}

/// Groups as role values on users.
#[derive(Debug, Clone)]
pub struct RolesSpec {
    pub(crate) field: Option<(ReadPath, WritePath)>,
    /// The role value inside each element, when elements are objects.
    pub(crate) element: Option<ReadPath>,
    /// Role values are written as integers.
    pub(crate) integer_ids: bool,
    /// (displayName, role value), in the TOML's order.
    pub(crate) names: Vec<(String, String)>,
    /// What other names mean.
    pub unknown: UnknownRoles,
    pub(crate) search: Vec<(String, Template<Var>)>,
    /// Most members returned with a group.
    pub max: usize,
}

impl RolesSpec {
    /// The role a group displayName stands for; `Err` lists the allowed names.
    pub fn role_of_name(&self, display: &str) -> Result<String, String> {
        if let Some((_, role)) = self.names.iter().find(|(n, _)| n == display) {
            return Ok(role.clone());
        }
        match self.unknown {
            UnknownRoles::Pass if !display.trim().is_empty() => Ok(display.to_owned()),
            _ => {
                let allowed: Vec<&str> = self.names.iter().map(|(n, _)| n.as_str()).collect();
                Err(allowed.join(", "))
            }
        }
    }

    /// The displayName of a role, `None` for a role no group stands for.
    pub fn name_of_role(&self, role: &str) -> Option<String> {
        match self.names.iter().find(|(_, r)| r == role) {
            Some((n, _)) => Some(n.clone()),
            None if self.unknown == UnknownRoles::Pass && !role.is_empty() => Some(role.to_owned()),
            None => None,
        }
    }

    /// Every named group: (displayName, role).
    pub fn named(&self) -> &[(String, String)] {
        &self.names
    }

    /// The role values on a user's host JSON.
    pub fn roles_of(&self, user: &Value) -> Vec<String> {
        let Some((read, _)) = &self.field else {
            return Vec::new();
        };
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let of = |e: &Value| match &self.element {
            Some(p) => p.one(e).and_then(text),
            None => text(e),
        };
        match read.one(user) {
            Some(Value::Array(items)) => items.iter().filter_map(of).collect(),
            Some(v @ (Value::String(_) | Value::Number(_))) => of(v).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The partial user body that adds (`present`) or removes `role`, or
    /// `None` when the user already is as asked (or roles go through
    /// endpoints).
    pub fn user_body(&self, user: &Value, role: &str, present: bool) -> Option<Value> {
        let (_, write) = self.field.as_ref()?;
        let mut roles = self.roles_of(user);
        let has = roles.iter().any(|r| r == role);
        match (has, present) {
            (false, true) => roles.push(role.to_owned()),
            (true, false) => roles.retain(|r| r != role),
            _ => return None,
        }
        let mut body = Value::Object(serde_json::Map::new());
        let value = |r: String| match r.parse::<i64>() {
            Ok(n) if self.integer_ids => Value::from(n),
            _ => Value::String(r),
        };
        write.set(
            &mut body,
            Value::Array(roles.into_iter().map(value).collect()),
        );
        Some(body)
    }

    /// Whether roles are written into the user's field (else endpoints).
    pub fn writes_field(&self) -> bool {
        self.field.is_some()
    }

    /// The users-list query parameters that find a role's holders, empty
    /// when the app cannot search by role.
    pub fn search_query(
        &self,
        role: &str,
        conn: Option<&BTreeMap<String, String>>,
    ) -> Result<Vec<(String, String)>, MapError> {
        let vars = Vars {
            value: Some(role),
            conn,
            ..Vars::default()
        };
        let mut out = Vec::new();
        for (k, t) in &self.search {
            let v = t
                .render(&vars, Context::Raw)?
                .ok_or_else(|| MapError::MissingVar(k.clone()))?;
            out.push((k.clone(), v));
        }
        Ok(out)
    }
}
