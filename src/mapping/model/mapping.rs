//! The compiled mapping of one resource type ([`ResourceMapping`]): its
//! attribute rules, operations, push-down rules, error rules, constants,
//! membership shape, policies and compiled schema, with the accessors the
//! SCIM handlers read and the translation of app errors through its error
//! rules. It is immutable once compiled and cheap to share.

use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::mapping::model::direct::DirectPlan;
use crate::mapping::model::error_rules::{ErrorOutcome, ErrorRule};
use crate::mapping::model::groups::{MembersSpec, RolesSpec};
use crate::mapping::model::ops::{OpKind, Operation};
use crate::mapping::model::rule::{AttrRule, Constant, Source};
use crate::mapping::model::search::PushdownRule;
use crate::protocol::filter;
use crate::schema::{Attribute, ResourceSchema, SchemaDef, USER_SCHEMA};

/// Which resource type a mapping describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// SCIM Users.
    User,
    /// SCIM Groups.
    Group,
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

/// A compiled, immutable resource mapping. Cheap to share (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct ResourceMapping {
    pub(in crate::mapping) kind: ResourceKind,
    pub(in crate::mapping) core: &'static SchemaDef,
    pub(in crate::mapping) rules: Vec<AttrRule>,
    pub(in crate::mapping) ops: Vec<Operation>,
    pub(in crate::mapping) search: Vec<PushdownRule>,
    pub(in crate::mapping) errors: Vec<ErrorRule>,
    pub(in crate::mapping) constants: Vec<Constant>,
    pub(in crate::mapping) unmapped: Unmapped,
    pub(in crate::mapping) on_delete: OnDelete,
    pub(in crate::mapping) on_create_conflict: OnCreateConflict,
    pub(in crate::mapping) on_failed_create: OnFailedCreate,
    pub(in crate::mapping) unique: Vec<String>,
    pub(in crate::mapping) members: Option<MembersSpec>,
    pub(in crate::mapping) roles: Option<RolesSpec>,
    pub(in crate::mapping) protect: Vec<filter::Filter>,
    pub(in crate::mapping) warnings: Vec<Diagnostic>,
    pub(in crate::mapping) schema: ResourceSchema,
    /// How resources are written directly, when the rules allow it.
    pub(in crate::mapping) direct: Option<DirectPlan>,
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
        let Some(def) = USER_SCHEMA.attr("groups") else {
            return;
        };
        let mut groups = Attribute::from_def(def);
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
    pub fn members(&self) -> Option<&MembersSpec> {
        self.members.as_ref()
    }

    /// Groups: groups stored as role values on users.
    pub fn roles(&self) -> Option<&RolesSpec> {
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

    /// For an app without a single-record GET: the `'id eq'` search rule
    /// whose query parameters filter the list call by id, which then
    /// stands for `get`. `None` when the mapping has a `get`.
    pub fn get_via_list(&self) -> Option<&PushdownRule> {
        if self.op(OpKind::Get).is_some() {
            return None;
        }
        self.pushdown("id", "eq").filter(|r| r.lookup().is_none())
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
    pub fn warnings(&self) -> &[Diagnostic] {
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
            .any(|f| filter::matches(f, scim, &self.schema))
    }

    /// The compiled schema: every attribute a response can carry, with
    /// the characteristics the sidecar enforces.
    pub fn schema(&self) -> &ResourceSchema {
        &self.schema
    }
}

impl ResourceMapping {
    /// Translates an app error: the operation's rules first, then the
    /// resource-wide ones, most specific first; [`ErrorOutcome::Default`]
    /// when none matches.
    pub fn translate_error(&self, op: OpKind, status: u16, body: Option<&Value>) -> ErrorOutcome {
        let op_rules = self.op(op).map(|o| o.errors.as_slice()).unwrap_or_default();
        self.translate_with(op_rules, status, body)
    }

    /// The app's error code in an error answer, read by the first error
    /// rule (the operation's, then the resource's) whose status matches and
    /// whose condition path finds a code: for debug logs.
    pub fn error_code(
        &self,
        op_rules: &[ErrorRule],
        status: u16,
        body: Option<&Value>,
    ) -> Option<String> {
        if status < 400 {
            return None;
        }
        let body = body?;
        op_rules
            .iter()
            .chain(self.errors.iter())
            .find_map(|r| r.code(status, body))
    }

    /// [`Self::translate_error`] with the given operation rules (a
    /// `before` call's or a lookup's own).
    pub fn translate_with(
        &self,
        op_rules: &[ErrorRule],
        status: u16,
        body: Option<&Value>,
    ) -> ErrorOutcome {
        op_rules
            .iter()
            .chain(self.errors.iter())
            .find(|r| r.matches(status, body))
            .map_or(ErrorOutcome::Default, |r| r.outcome.clone())
    }
}
