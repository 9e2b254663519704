//! The mapping engine: a resource type's TOML mapping (`raw`) is compiled
//! once at load ([`compile`]) into an immutable [`ResourceMapping`] that
//! translates host JSON ↔ SCIM JSON, renders request templates, extracts
//! responses, translates app errors and answers filter push-down lookups.
//! It does no I/O and knows nothing about HTTP servers, SCIM filters or
//! PATCH; the SCIM handler sequences the calls.

mod compile;
mod compile_attr;
mod compile_groups;
mod compile_ops;
mod compile_params;
mod compile_schema;
mod compile_write;
mod convert;
mod diagnostic;
mod env;
mod error;
mod errors;
mod eval;
pub mod groups;
mod lints;
mod ops;
pub mod path;
pub mod raw;
mod render;
mod write;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_templates;
#[cfg(test)]
mod tests_writes;

pub use compile::{compile, compile_with};
pub use diagnostic::CompileError;
pub use env::{EnvLookup, expand_env};
pub use error::MapError;
pub use errors::{ErrorOutcome, ErrorRule};
pub use eval::{HostChanges, active_of};
pub use ops::{HostRequest, Operation, Page, PageRequest, Paging, PushdownRule};
pub use render::vars::Vars;
pub use write::WriteEnv;

use serde_json::Value;

use crate::schema::{AttrType, Mutability, ResourceSchema, SchemaDef};
use path::{ReadPath, ScimPath, WritePath};
use render::template::Template;
use render::transform::Transform;

/// Which resource type a mapping describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// SCIM Users.
    User,
    /// SCIM Groups.
    Group,
}

/// The operations a mapping may declare on the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    /// List / search.
    List,
    /// Get by id.
    Get,
    /// Create.
    Create,
    /// Partial update of changed fields.
    Update,
    /// Full replace.
    Replace,
    /// Delete.
    Delete,
    /// Set `active` true via an action endpoint.
    Activate,
    /// Set `active` false via an action endpoint.
    Deactivate,
    /// List a group's members.
    MembersList,
    /// Add a member to a group (or a role to a user).
    MemberAdd,
    /// Remove a member from a group (or a role from a user).
    MemberRemove,
}

impl OpKind {
    /// All kinds, in TOML key order of the reference.
    pub const ALL: [OpKind; 11] = [
        Self::List,
        Self::Get,
        Self::Create,
        Self::Update,
        Self::Replace,
        Self::Delete,
        Self::Activate,
        Self::Deactivate,
        Self::MembersList,
        Self::MemberAdd,
        Self::MemberRemove,
    ];

    /// The TOML key.
    pub fn key(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Get => "get",
            Self::Create => "create",
            Self::Update => "update",
            Self::Replace => "replace",
            Self::Delete => "delete",
            Self::Activate => "activate",
            Self::Deactivate => "deactivate",
            Self::MembersList => "members.list",
            Self::MemberAdd => "members.add",
            Self::MemberRemove => "members.remove",
        }
    }

    /// Whether the operation reads pages of a list.
    pub fn is_list(self) -> bool {
        matches!(self, Self::List | Self::MembersList)
    }
}

/// Policy for SCIM attributes a mapping does not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmapped {
    /// Accept and drop them (default; Okta always sends `password`, `groups`, `locale`).
    #[default]
    Ignore,
    /// Answer 400 naming the attribute.
    Reject,
}

/// What SCIM DELETE does when the app has no delete operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDelete {
    /// Answer 405: the app cannot delete.
    #[default]
    Refuse,
    /// Deactivate the resource instead (it stays readable with `active: false`).
    Deactivate,
}

/// What a create does when an existing account holds its unique values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnCreateConflict {
    /// Answer 409 `uniqueness`.
    #[default]
    Error,
    /// Adopt the account: update it to the IdP's values and answer 201
    /// (accounts made by SSO just-in-time login or by hand before SCIM).
    Adopt,
}

/// What happens to a new account when a later step of its create fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFailedCreate {
    /// Keep it: the IdP's replay of the create recognises and completes it.
    #[default]
    Keep,
    /// Delete it again, so the replay starts over.
    Delete,
}

/// A custom schema extension declared in the mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    /// Schema URN.
    pub urn: String,
    /// Human-readable name.
    pub name: String,
    /// Attribute names and types.
    pub attributes: Vec<(String, AttrType)>,
}

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
    /// Element rules of a whole multi-valued attribute.
    pub fields: Vec<AttrRule>,
    /// Write-side options: list element selection, clearing, fallbacks,
    /// generated values.
    pub write_opts: write::WriteOpts,
}

/// A compiled, immutable resource mapping. Cheap to share (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct ResourceMapping {
    kind: ResourceKind,
    core: &'static SchemaDef,
    rules: Vec<AttrRule>,
    ops: Vec<Operation>,
    search: Vec<PushdownRule>,
    errors: Vec<ErrorRule>,
    constants: Vec<write::Constant>,
    unmapped: Unmapped,
    on_delete: OnDelete,
    on_create_conflict: OnCreateConflict,
    on_failed_create: OnFailedCreate,
    unique: Vec<String>,
    members: Option<groups::MembersSpec>,
    roles: Option<groups::RolesSpec>,
    protect: Vec<crate::protocol::filter::Filter>,
    warnings: Vec<CompileError>,
    schema: ResourceSchema,
}

impl ResourceMapping {
    /// The resource type.
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// The core schema URN of the resource type.
    pub fn core_schema(&self) -> &'static str {
        self.core.id
    }

    /// The operation of this kind, if configured.
    pub fn op(&self, kind: OpKind) -> Option<&Operation> {
        self.ops.iter().find(|o| o.kind() == kind)
    }

    /// Whether `active` changes go through activate/deactivate endpoints
    /// (then `to_host`/`changes_to_host` never write the `active` field).
    pub fn active_via_actions(&self) -> bool {
        self.op(OpKind::Activate).is_some() && self.op(OpKind::Deactivate).is_some()
    }

    /// The policy for unmapped SCIM attributes.
    pub fn unmapped_policy(&self) -> Unmapped {
        self.unmapped
    }

    /// What DELETE does when no `delete` operation is configured.
    pub fn on_delete(&self) -> OnDelete {
        self.on_delete
    }

    /// Users, when groups are roles: declares the readOnly `groups`
    /// attribute (RFC 7643 §4.1.2) that links a user to the groups it is in.
    pub fn declare_group_links(&mut self) {
        let Some(def) = crate::schema::USER_SCHEMA.attr("groups") else {
            return;
        };
        let mut groups = crate::schema::Attribute::from_def(def);
        for name in ["value", "$ref", "display", "type"] {
            groups.ensure_sub(name, def.sub(name));
        }
        if let Some(t) = groups.sub_attributes.iter_mut().find(|a| a.name == "type") {
            t.canonical_values = vec!["direct".into()];
        }
        self.schema.core.attributes.retain(|a| a.name != "groups");
        self.schema.core.attributes.push(groups);
    }

    /// Groups: members through the app's member endpoints.
    pub fn members(&self) -> Option<&groups::MembersSpec> {
        self.members.as_ref()
    }

    /// Groups: groups stored as role values on users.
    pub fn roles(&self) -> Option<&groups::RolesSpec> {
        self.roles.as_ref()
    }

    /// What a create does when an existing account holds its unique values.
    pub fn on_create_conflict(&self) -> OnCreateConflict {
        self.on_create_conflict
    }

    /// What happens to a new account when a later step of its create fails.
    pub fn on_failed_create(&self) -> OnFailedCreate {
        self.on_failed_create
    }

    /// SCIM attributes whose push-down lookup must find nothing before a create.
    pub fn unique_before_create(&self) -> &[String] {
        &self.unique
    }

    /// The push-down rule for a canonical SCIM attribute path and operator
    /// (both case-insensitive), e.g. (`username`, `EQ`).
    pub fn pushdown(&self, attr: &str, op: &str) -> Option<&PushdownRule> {
        self.search
            .iter()
            .find(|r| r.attr().eq_ignore_ascii_case(attr) && r.op().eq_ignore_ascii_case(op))
    }

    /// Every push-down rule.
    pub fn pushdown_rules(&self) -> &[PushdownRule] {
        &self.search
    }

    /// Whether `meta.version` is mapped (responses carry ETags).
    pub fn maps_version(&self) -> bool {
        self.version_rule().is_some()
    }

    fn version_rule(&self) -> Option<&AttrRule> {
        self.rules.iter().find(|r| {
            r.target.urn.is_none()
                && r.target.attr == "meta"
                && r.target.sub.as_deref() == Some("version")
        })
    }

    /// The app's own version of a host resource, as the app wrote it (the
    /// value an update sends back as its precondition), when mapped.
    pub fn host_version(&self, host: &Value) -> Option<Value> {
        match &self.version_rule()?.source {
            Source::Path { read, .. } => read.one(host).cloned(),
            _ => None,
        }
    }

    /// What `check` warns about: parts of the mapping that compile but
    /// will not do what they seem to.
    pub fn warnings(&self) -> &[CompileError] {
        &self.warnings
    }

    /// Whether the mapping protects any account.
    pub fn protects(&self) -> bool {
        !self.protect.is_empty()
    }

    /// Whether a SCIM resource is one of the app accounts the IdP may
    /// never see or change (`protect`).
    pub fn is_protected(&self, scim: &Value) -> bool {
        self.protect
            .iter()
            .any(|f| crate::protocol::filter::matches(f, scim, &self.schema))
    }

    /// The compiled schema: every attribute a response can carry, with
    /// the characteristics the sidecar enforces.
    pub fn schema(&self) -> &ResourceSchema {
        &self.schema
    }
}
