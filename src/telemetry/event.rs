//! The provisioning event itself: what happened ([`EventKind`]), to which
//! resource, by which connection, with which attributes (names, never
//! values) and members (ids), how it ended, and when — plus its JSON
//! document for webhooks and the attribute diff it is built from. Pure
//! data, shared by the two parts that consume it: [`super::audit`]
//! records it, [`super::webhook`] delivers it.

use crate::config::Connection;
use crate::hex;
use crate::schema::datetime::format_rfc3339_nanos;
use crate::schema::get_ci;
use crate::telemetry::request;
use serde::Serialize;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// SCIM resource type of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResourceType {
    /// A SCIM User.
    User,
    /// A SCIM Group.
    Group,
}

impl ResourceType {
    /// The type of a resource mapping from its core schema URN.
    pub fn of_schema(core_schema: &str) -> Self {
        if core_schema.ends_with(":Group") {
            Self::Group
        } else {
            Self::User
        }
    }

    /// `User` or `Group`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }
}

/// What happened to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A user was created.
    UserCreated,
    /// A user's attributes changed (other than `active`).
    UserUpdated,
    /// A user became inactive.
    UserDeactivated,
    /// An inactive user became active again.
    UserReactivated,
    /// A user was deleted.
    UserDeleted,
    /// A group was created.
    GroupCreated,
    /// A group's `displayName` changed (and nothing else).
    GroupRenamed,
    /// A group changed otherwise, or several ways at once.
    GroupUpdated,
    /// Members were added to a group.
    GroupMembersAdded,
    /// Members were removed from a group.
    GroupMembersRemoved,
    /// A group was deleted.
    GroupDeleted,
}

impl EventKind {
    /// Every kind, in the order of the configurable event types
    /// (`config::webhooks::EVENT_TYPES`).
    pub const ALL: [EventKind; 11] = [
        Self::UserCreated,
        Self::UserUpdated,
        Self::UserDeactivated,
        Self::UserReactivated,
        Self::UserDeleted,
        Self::GroupCreated,
        Self::GroupRenamed,
        Self::GroupUpdated,
        Self::GroupMembersAdded,
        Self::GroupMembersRemoved,
        Self::GroupDeleted,
    ];

    /// The event type, e.g. `user.created`: in logs, metrics, webhook
    /// payloads and `[[webhooks]] events`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserUpdated => "user.updated",
            Self::UserDeactivated => "user.deactivated",
            Self::UserReactivated => "user.reactivated",
            Self::UserDeleted => "user.deleted",
            Self::GroupCreated => "group.created",
            Self::GroupRenamed => "group.renamed",
            Self::GroupUpdated => "group.updated",
            Self::GroupMembersAdded => "group.members_added",
            Self::GroupMembersRemoved => "group.members_removed",
            Self::GroupDeleted => "group.deleted",
        }
    }

    /// The resource type the kind is about.
    pub fn resource_type(self) -> ResourceType {
        match self {
            Self::UserCreated
            | Self::UserUpdated
            | Self::UserDeactivated
            | Self::UserReactivated
            | Self::UserDeleted => ResourceType::User,
            _ => ResourceType::Group,
        }
    }

    /// `user.created` / `group.created`.
    pub fn created(rt: ResourceType) -> Self {
        match rt {
            ResourceType::User => Self::UserCreated,
            ResourceType::Group => Self::GroupCreated,
        }
    }

    /// `user.updated` / `group.updated`.
    pub fn updated(rt: ResourceType) -> Self {
        match rt {
            ResourceType::User => Self::UserUpdated,
            ResourceType::Group => Self::GroupUpdated,
        }
    }

    /// `user.deleted` / `group.deleted`.
    pub fn deleted(rt: ResourceType) -> Self {
        match rt {
            ResourceType::User => Self::UserDeleted,
            ResourceType::Group => Self::GroupDeleted,
        }
    }
}

/// How the change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The app made the change.
    Success,
    /// The request was answered with this error status; the change may not
    /// have been made (or only partly: see the request log).
    Failure {
        /// The SCIM response status.
        status: u16,
    },
}

/// One provisioning change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningEvent {
    /// Unique id of the event (`evt_` + 24 hex digits).
    pub id: String,
    /// What happened.
    pub kind: EventKind,
    /// The connection id.
    pub connection: String,
    /// The connection's IdP dialect.
    pub idp: &'static str,
    /// The resource's SCIM id (the app's id); empty when a create failed.
    pub resource_id: String,
    /// Names of the attributes set or changed (never their values).
    pub attributes: Vec<String>,
    /// The user ids added or removed, for membership events.
    pub members: Vec<String>,
    /// Success or the failure status.
    pub outcome: Outcome,
    /// When the event was recorded.
    pub time: SystemTime,
    /// The request that caused it.
    pub request_id: Option<String>,
}

impl ProvisioningEvent {
    /// A successful `kind` on resource `resource_id` by `conn`, stamped
    /// now and with the current request id.
    pub fn new(kind: EventKind, conn: &Connection, resource_id: impl Into<String>) -> Self {
        Self::for_connection(
            kind,
            request::ConnInfo {
                id: conn.id.clone(),
                idp: conn.idp.as_str(),
            },
            resource_id,
        )
    }

    /// Like [`ProvisioningEvent::new`], from a request's connection info.
    pub fn for_connection(
        kind: EventKind,
        conn: request::ConnInfo,
        resource_id: impl Into<String>,
    ) -> Self {
        Self {
            id: event_id(),
            kind,
            connection: conn.id,
            idp: conn.idp,
            resource_id: resource_id.into(),
            attributes: Vec::new(),
            members: Vec::new(),
            outcome: Outcome::Success,
            time: SystemTime::now(),
            request_id: request::current_id(),
        }
    }

    /// The same event with these attribute names.
    pub fn with_attributes(mut self, names: Vec<String>) -> Self {
        self.attributes = names;
        self
    }

    /// The same event with these member ids (membership events).
    pub fn with_members(mut self, ids: Vec<String>) -> Self {
        self.members = ids;
        self
    }

    /// The same event as a failure answered with `status`.
    pub fn failed(mut self, status: u16) -> Self {
        self.outcome = Outcome::Failure { status };
        self
    }

    /// A created resource, as the app stored it: its attribute names.
    pub fn created(conn: &Connection, core_schema: &str, created: &Value) -> Self {
        let rt = ResourceType::of_schema(core_schema);
        Self::new(EventKind::created(rt), conn, id_of(created))
            .with_attributes(changed_attributes(&Value::Null, created))
    }

    /// An updated resource: the kind follows from what changed between the
    /// app's state `before` and after the write (`active` flips are
    /// deactivations and reactivations; a group whose only change is
    /// `displayName` was renamed).
    pub fn updated(
        conn: &Connection,
        core_schema: &str,
        id: &str,
        before: &Value,
        after: &Value,
    ) -> Self {
        let rt = ResourceType::of_schema(core_schema);
        let changed = changed_attributes(before, after);
        let active = |v: &Value| get_ci(v, "active").and_then(Value::as_bool);
        let kind = match (rt, active(before), active(after)) {
            (ResourceType::User, Some(true), Some(false)) => EventKind::UserDeactivated,
            (ResourceType::User, Some(false), Some(true)) => EventKind::UserReactivated,
            (ResourceType::Group, ..) if changed == ["displayName"] => EventKind::GroupRenamed,
            _ => EventKind::updated(rt),
        };
        Self::new(kind, conn, id).with_attributes(changed)
    }

    /// A SCIM DELETE that succeeded: `removed` when the app deleted the
    /// resource, otherwise it was deactivated instead (`on_delete =
    /// "deactivate"`), which is what the event then says.
    pub fn deleted(conn: &Connection, core_schema: &str, id: &str, removed: bool) -> Self {
        let rt = ResourceType::of_schema(core_schema);
        match (removed, rt) {
            (false, ResourceType::User) => Self::new(EventKind::UserDeactivated, conn, id)
                .with_attributes(vec!["active".to_string()]),
            _ => Self::new(EventKind::deleted(rt), conn, id),
        }
    }

    /// `success` or `failure`.
    pub fn result(&self) -> &'static str {
        match self.outcome {
            Outcome::Success => "success",
            Outcome::Failure { .. } => "failure",
        }
    }

    /// The JSON document webhooks receive.
    pub fn to_json(&self) -> Value {
        let mut doc = serde_json::json!({
            "id": self.id,
            "type": self.kind.as_str(),
            "time": rfc3339(self.time),
            "connection": self.connection,
            "idp": self.idp,
            "resource": {"type": self.kind.resource_type().as_str(), "id": self.resource_id},
            "attributes": self.attributes,
            "result": self.result(),
        });
        if let (Outcome::Failure { status }, Some(o)) = (self.outcome, doc.as_object_mut()) {
            o.insert("status".into(), status.into());
        }
        if let (false, Some(o)) = (self.members.is_empty(), doc.as_object_mut()) {
            o.insert("members".into(), self.members.clone().into());
        }
        if let (Some(r), Some(o)) = (&self.request_id, doc.as_object_mut()) {
            o.insert("request_id".into(), r.clone().into());
        }
        doc
    }
}

fn id_of(resource: &Value) -> String {
    resource
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Members that describe the resource rather than its content.
const NOT_ATTRIBUTES: [&str; 3] = ["id", "meta", "schemas"];

/// The names of the attributes that differ between two SCIM resources:
/// top-level attributes, sub-attributes of complex ones
/// (`name.givenName`) and extension attributes by their full URN path
/// (`urn:…:enterprise:2.0:User:department`). Multi-valued attributes are
/// named as a whole (`emails`). `id`, `meta` and `schemas` are not
/// attributes of the change. Sorted, no duplicates.
pub fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_object(before, after, "", true, &mut out);
    out.sort_by_key(|s| s.to_ascii_lowercase());
    out.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    out
}

fn diff_object(before: &Value, after: &Value, prefix: &str, top: bool, out: &mut Vec<String>) {
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let keys = a
        .keys()
        .chain(b.keys().filter(|k| get_ci(after, k).is_none()));
    for key in keys {
        if top && NOT_ATTRIBUTES.iter().any(|n| n.eq_ignore_ascii_case(key)) {
            continue;
        }
        let old = get_ci(before, key).unwrap_or(&Value::Null);
        let new = get_ci(after, key).unwrap_or(&Value::Null);
        if old == new {
            continue;
        }
        let is_extension = top && key.to_ascii_lowercase().starts_with("urn:");
        let name = if is_extension {
            format!("{key}:")
        } else {
            format!("{prefix}{key}")
        };
        if (new.is_object() || old.is_object()) && (top || is_extension) {
            let sub_prefix = if is_extension {
                name
            } else {
                format!("{name}.")
            };
            diff_object(old, new, &sub_prefix, false, out);
        } else {
            out.push(name);
        }
    }
}

/// Formats a time as RFC 3339 UTC, to the millisecond.
pub fn rfc3339(t: SystemTime) -> String {
    let millis = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let nanos = i128::try_from(millis).unwrap_or(0) * 1_000_000;
    format_rfc3339_nanos(nanos).unwrap_or_default()
}

fn event_id() -> String {
    let mut b = [0u8; 12];
    // A failing RNG leaves zeros; the id then only loses uniqueness, which
    // receivers use for de-duplication, so fall back to the clock.
    if getrandom::fill(&mut b).is_err() {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        b.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    let mut id = String::from("evt_");
    id.push_str(&hex::encode(&b));
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Idp;
    use crate::config::webhooks::EVENT_TYPES;
    use serde_json::json;

    #[test]
    fn kinds_match_the_configurable_event_types() {
        let names: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, EVENT_TYPES);
    }

    #[test]
    fn changed_attribute_names_not_values() {
        let before = json!({
            "id": "1", "meta": {"version": "W/\"1\""},
            "userName": "ada@example.com", "active": true,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.com", "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
        });
        let after = json!({
            "id": "1", "meta": {"version": "W/\"2\""},
            "userName": "ada@example.com", "active": false,
            "name": {"givenName": "Augusta", "familyName": "Lovelace"},
            "emails": [{"value": "augusta@example.com", "type": "work"}],
            "title": "Countess",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Math"}
        });
        assert_eq!(
            changed_attributes(&before, &after),
            [
                "active",
                "emails",
                "name.givenName",
                "title",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            ]
        );
        let created = changed_attributes(&Value::Null, &before);
        assert!(created.contains(&"name.familyName".to_string()));
        assert!(!created.iter().any(|n| n == "id" || n.starts_with("meta")));
    }

    #[test]
    fn update_kinds_follow_the_change() {
        let conn = Connection {
            id: "acme".into(),
            idp: Idp::Okta,
            token_hashes: vec![],
            vars: Default::default(),
            base_path: "/scim/v2".into(),
            rate_limit: None,
        };
        let user = "urn:ietf:params:scim:schemas:core:2.0:User";
        let on = json!({"active": true, "title": "a"});
        let off = json!({"active": false, "title": "a"});
        let k =
            |b: &Value, a: &Value, s: &str| ProvisioningEvent::updated(&conn, s, "1", b, a).kind;
        assert_eq!(k(&on, &off, user), EventKind::UserDeactivated);
        assert_eq!(k(&off, &on, user), EventKind::UserReactivated);
        assert_eq!(
            k(&on, &json!({"active": true, "title": "b"}), user),
            EventKind::UserUpdated
        );
        let group = "urn:ietf:params:scim:schemas:core:2.0:Group";
        let g1 = json!({"displayName": "a"});
        assert_eq!(
            k(&g1, &json!({"displayName": "b"}), group),
            EventKind::GroupRenamed
        );
        let e = ProvisioningEvent::created(&conn, user, &json!({"id": "7", "userName": "x"}));
        assert_eq!(
            (e.kind, e.resource_id.as_str()),
            (EventKind::UserCreated, "7")
        );
    }

    #[test]
    fn payload_shape() {
        let conn = Connection {
            id: "acme".into(),
            idp: Idp::Entra,
            token_hashes: vec![],
            vars: Default::default(),
            base_path: "/scim/v2".into(),
            rate_limit: None,
        };
        let mut e = ProvisioningEvent::new(EventKind::UserDeleted, &conn, "42").failed(404);
        e.time = UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let doc = e.to_json();
        assert_eq!(doc["type"], "user.deleted");
        assert_eq!(doc["time"], "2023-11-14T22:13:20.123Z");
        assert_eq!(doc["resource"], json!({"type": "User", "id": "42"}));
        assert_eq!(
            (doc["result"].as_str(), doc["status"].as_u64()),
            (Some("failure"), Some(404))
        );
        assert!(e.id.starts_with("evt_") && e.id.len() == 28);
        assert!(
            e.id[4..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{}",
            e.id
        );
        assert_ne!(e.id, event_id(), "ids are random");
        assert!(doc.get("members").is_none());
        let m = ProvisioningEvent::new(EventKind::GroupMembersAdded, &conn, "g1")
            .with_members(vec!["7".into(), "9".into()]);
        assert_eq!(m.to_json()["members"], json!(["7", "9"]));
        assert_eq!(m.to_json()["resource"]["type"], "Group");
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap = UNIX_EPOCH + std::time::Duration::from_micros(951_782_400_123_456); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.123Z");
    }
}
