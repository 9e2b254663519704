//! The serde mirror of a resource mapping table (`[users]` or
//! `[groups]`): exactly what the TOML says, with `Spanned` on every string
//! the compiler validates later so its errors can point into the file. No
//! validation happens here beyond TOML syntax and unknown keys.

use std::collections::BTreeMap;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A string with its byte span in the TOML source.
pub type SpStr = Spanned<String>;

/// One resource type's mapping: operations, attribute rules, filter
/// push-down, error translation and policies.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceToml {
    /// List/search operation.
    pub list: Option<Spanned<OperationToml>>,
    /// Get-by-id operation.
    pub get: Option<Spanned<OperationToml>>,
    /// Create operation.
    pub create: Option<Spanned<OperationToml>>,
    /// Partial update: the body carries only changed fields.
    pub update: Option<Spanned<OperationToml>>,
    /// Full replace: the body carries every writable field.
    pub replace: Option<Spanned<OperationToml>>,
    /// Delete operation.
    pub delete: Option<Spanned<OperationToml>>,
    /// Action endpoint that sets `active` to true.
    pub activate: Option<Spanned<OperationToml>>,
    /// Action endpoint that sets `active` to false.
    pub deactivate: Option<Spanned<OperationToml>>,
    /// Filter push-down rules keyed by `'<scimAttr> <op>'`.
    #[serde(default)]
    pub search: BTreeMap<SpStr, SearchToml>,
    /// Attribute rules keyed by SCIM path.
    #[serde(default)]
    pub attributes: BTreeMap<SpStr, Spanned<RuleToml>>,
    /// Host fields written into every create/replace body: write path → value.
    #[serde(default)]
    pub constants: BTreeMap<SpStr, toml::Value>,
    /// Resource-wide error rules keyed by `'<status> [<condition>]'`.
    #[serde(default)]
    pub errors: BTreeMap<SpStr, Spanned<ErrorToml>>,
    /// Policy for SCIM attributes the mapping does not cover: `ignore` or `reject`.
    pub unmapped: Option<SpStr>,
    /// How an app's empty string reads: `value` (default) or `absent`.
    pub empty: Option<SpStr>,
    /// What SCIM DELETE does when there is no `delete` operation:
    /// `refuse` (405, default) or `deactivate`.
    pub on_delete: Option<SpStr>,
    /// What a create does when `unique` finds an existing account that is
    /// not one this sidecar left half-made: `error` (409, default) or
    /// `adopt` (update it to the IdP's values and answer 201).
    pub on_create_conflict: Option<SpStr>,
    /// What happens to a new account when a later step of its create
    /// fails: `keep` (default; the IdP's retry completes it) or `delete`.
    pub on_failed_create: Option<SpStr>,
    /// SCIM attributes that must not already exist (push-down lookup) before a create.
    #[serde(default)]
    pub unique: Vec<SpStr>,
    /// SCIM filters of app accounts the IdP may never see or change (the
    /// sidecar's own service account first).
    #[serde(default)]
    pub protect: Vec<SpStr>,
    /// Custom schema extensions.
    #[serde(default)]
    pub extensions: Vec<ExtensionToml>,
    /// Groups only: membership through the app's member endpoints.
    pub members: Option<MembersToml>,
    /// Groups only: groups stored as role values on users.
    pub roles: Option<Spanned<RolesToml>>,
    /// Named placeholders derived from SCIM attributes by transforms,
    /// usable in every request template: name → definition.
    #[serde(default)]
    pub placeholders: BTreeMap<SpStr, PlaceholderToml>,
}

/// `[groups.members]`: a group's members through the app's endpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MembersToml {
    /// JSONPath of the member's (user's) id in a listed member element.
    pub value: SpStr,
    /// JSONPath of a display name in a listed member element.
    pub display: Option<SpStr>,
    /// Most members returned with a group (beyond it: 400 tooMany, use
    /// `excludedAttributes=members`).
    pub max: Option<Spanned<i64>>,
    /// JSONPath of the member list inside the group's own record, for
    /// apps that only replace the whole list: read with `get`, written
    /// whole with `[groups.update]` (instead of `list`, `add`, `remove`).
    pub field: Option<SpStr>,
    /// How member ids are written: `string` (default) or `integer`.
    pub ids: Option<SpStr>,
    /// The member listing (paged like `list`).
    pub list: Option<Spanned<OperationToml>>,
    /// Add one member (`{member}`) or many (`batch`).
    pub add: Option<Spanned<OperationToml>>,
    /// Remove one member (`{member}`) or many (`batch`).
    pub remove: Option<Spanned<OperationToml>>,
}

/// `[groups.roles]`: each group is a role value held on users.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesToml {
    /// Host path of the role values on a user (an array of strings, or of
    /// objects with `value`).
    pub field: Option<SpStr>,
    /// JSONPath of the role value in each element of `field` when the
    /// elements are objects (`[{"id": 3, "name": "Admin"}]` → `$.id`); the
    /// field is then written as the list of values (`[3]`).
    pub value: Option<SpStr>,
    /// How role values are written: `string` (default) or `integer`.
    pub ids: Option<SpStr>,
    /// Group displayName → role value.
    #[serde(default)]
    pub names: BTreeMap<String, SpStr>,
    /// Other displayNames: `reject` (default) or `pass` (used as role values).
    pub unknown: Option<SpStr>,
    /// Query parameters of the users list that find a role's holders
    /// (`{value}` is the role).
    #[serde(default)]
    pub search: BTreeMap<String, SpStr>,
    /// Role-assignment endpoint (`{member}`, `{role}`), instead of writing `field`.
    pub add: Option<Spanned<OperationToml>>,
    /// Role-removal endpoint (`{member}`, `{role}`).
    pub remove: Option<Spanned<OperationToml>>,
    /// Most members returned with a group.
    pub max: Option<Spanned<i64>>,
}

/// A derived placeholder: `localpart = { from = "userName", transform = ["lower"] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceholderToml {
    /// The SCIM attribute it is derived from.
    pub from: SpStr,
    /// Transforms applied in order (their write direction).
    #[serde(default)]
    pub transform: Vec<Spanned<toml::Value>>,
}

/// A query parameter: a template, or a document written by an encoder
/// (`{ rison = { … } }`, `{ json = { … } }`).
#[derive(Debug, Clone)]
pub enum QueryToml {
    /// `page = "{page}"`.
    Text(String),
    /// `q = { rison = { page = "{page}" } }`.
    Doc(DocToml),
}

/// A structured query parameter: exactly one encoder key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocToml {
    /// Rison document.
    pub rison: Option<toml::Value>,
    /// JSON document.
    pub json: Option<toml::Value>,
}

/// A request template on the app's API. Exactly one method key carries the
/// path template: `get = "/api/users/{id}"`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationToml {
    /// GET with this path template.
    pub get: Option<SpStr>,
    /// POST with this path template.
    pub post: Option<SpStr>,
    /// PUT with this path template.
    pub put: Option<SpStr>,
    /// PATCH with this path template.
    pub patch: Option<SpStr>,
    /// DELETE with this path template.
    pub delete: Option<SpStr>,
    /// Query parameters: name → template or encoded document.
    #[serde(default)]
    pub query: BTreeMap<String, Spanned<QueryToml>>,
    /// Request body of an action call (activate, deactivate): a JSON
    /// document whose strings are templates.
    pub body: Option<Spanned<toml::Value>>,
    /// Extra headers: name → template.
    #[serde(default)]
    pub headers: BTreeMap<SpStr, SpStr>,
    /// Write path the request body is wrapped under, e.g. `$.user`.
    pub wrap: Option<SpStr>,
    /// JSONPath of the resource in the response (get/create/update), default `$`.
    pub item: Option<SpStr>,
    /// JSONPath of the list items (list only), e.g. `$.items[*]`.
    pub items: Option<SpStr>,
    /// JSONPath of the total count (list only).
    pub total: Option<SpStr>,
    /// Paging style (list only): `offset`, `page`, `cursor` or `none`;
    /// inferred from the placeholders used when absent.
    pub paging: Option<SpStr>,
    /// First offset value for `offset` paging: 0 (default) or 1.
    pub offset_base: Option<Spanned<i64>>,
    /// First page number for `page` paging: 1 (default) or 0.
    pub page_base: Option<Spanned<i64>>,
    /// Largest page the app serves (list only).
    pub max_page_size: Option<Spanned<i64>>,
    /// JSONPath of the next cursor or next link (cursor paging).
    pub next: Option<SpStr>,
    /// Fetch every listed item with `get` (list items are summaries).
    #[serde(default)]
    pub fetch_each: bool,
    /// `"get"`: after create, fetch the resource (create returns only an id).
    pub then: Option<SpStr>,
    /// JSONPath of the new id in the create response, default `$.id`.
    pub id: Option<SpStr>,
    /// Write path in the request body that carries the app's version of
    /// the resource as read (optimistic locking, e.g. `$.lock_version`).
    pub version_field: Option<SpStr>,
    /// Update/replace: the path of the request body (outside `wrap`)
    /// that carries the record's id, for method-URL APIs
    /// (`POST /users.update {"userId": …, "data": {…}}`).
    pub id_field: Option<SpStr>,
    /// Update: `"json-patch"` sends the changes as RFC 6902 operations
    /// (`application/json-patch+json`) instead of a JSON object.
    pub body_format: Option<SpStr>,
    /// Create only: the SCIM attributes the app's create call accepts;
    /// the other writable attributes follow in an `update` right after.
    pub accepts: Option<Vec<SpStr>>,
    /// `"resource"`: the call answers with the whole record, as `get`
    /// would (at `item`), so the sidecar does not read it back after.
    pub returns: Option<SpStr>,
    /// Member add/remove only: the body path of an array of member ids,
    /// for apps that add or remove many members in one call.
    pub batch: Option<SpStr>,
    /// Operation-specific error rules, tried before the resource-wide ones.
    #[serde(default)]
    pub errors: BTreeMap<SpStr, Spanned<ErrorToml>>,
    /// Activate/deactivate: a call made first, in the same state change
    /// (unlock a locked account before reactivating it).
    pub before: Option<Box<Spanned<OperationToml>>>,
}

/// A filter push-down rule: query parameters merged into the list call,
/// or a get-by-key call (`get = "/users/{value}"`, 404 = no match).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchToml {
    /// Query parameters merged into the list call: name → template with `{value}`.
    #[serde(default)]
    pub query: BTreeMap<String, Spanned<QueryToml>>,
    /// A get-by-key lookup instead of the list: the path template.
    pub get: Option<SpStr>,
    /// JSONPath of the record in the lookup's answer (default the body).
    pub item: Option<SpStr>,
    /// JSONPath of an id in the lookup's answer: the answer is a reverse
    /// index (`{"user_id": …}`) and the record is then read with `get`.
    pub id: Option<SpStr>,
    /// Whether the app matches case-insensitively.
    #[serde(default)]
    pub case_insensitive: bool,
}

/// An attribute rule: a bare host JSONPath or a table.
#[derive(Debug, Clone)]
pub enum RuleToml {
    /// `userName = "$.login"`.
    Path(String),
    /// `active = { path = …, map = … }`.
    Table(Box<RuleTable>),
}

/// The table form of an attribute rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleTable {
    /// Host JSONPath (read) which is also the write path when writable.
    pub path: Option<SpStr>,
    /// SCIM value → host value.
    pub map: Option<Spanned<BTreeMap<String, toml::Value>>>,
    /// Host JSON type written: `string`, `number`, `integer` or `bool`.
    #[serde(rename = "type")]
    pub ty: Option<SpStr>,
    /// Value used when the source side has none (both directions).
    pub default: Option<toml::Value>,
    /// Constant SCIM value (read-only).
    #[serde(rename = "const")]
    pub constant: Option<toml::Value>,
    /// `readOnly`, `readWrite`, `writeOnly` or `immutable`.
    pub mutability: Option<SpStr>,
    /// Invertible transforms, applied host→SCIM on read and inverted on write.
    #[serde(default)]
    pub transform: Vec<Spanned<toml::Value>>,
    /// Transforms applied on read only.
    pub read: Option<Vec<Spanned<toml::Value>>>,
    /// Transforms applied on write only.
    pub write: Option<Vec<Spanned<toml::Value>>>,
    /// Read-only computed value: `"{$.first} {$.last}"`.
    pub template: Option<SpStr>,
    /// Per-element rules of a whole multi-valued attribute, relative to
    /// each host array element: sub-attribute → rule.
    pub fields: Option<BTreeMap<SpStr, Spanned<RuleToml>>>,
    /// The rule owns only the elements of the host list at `path` whose
    /// members equal these values (`{ kind = "email" }`); other elements
    /// are kept as they are on write.
    #[serde(rename = "where")]
    pub where_: Option<Spanned<BTreeMap<String, toml::Value>>>,
    /// With `where` on a single-valued attribute: the element member
    /// holding the value, e.g. `$.subject`.
    pub field: Option<SpStr>,
    /// How a cleared value is written: `null` (default), `null_parent`,
    /// `empty` or `omit`.
    pub clear: Option<SpStr>,
    /// How the app's empty string reads: `value` or `absent` (default: the
    /// resource's `empty`).
    pub empty: Option<SpStr>,
    /// Write-side template of SCIM attributes used when the attribute
    /// itself has no value: `"{name.givenName} {name.familyName}"`.
    pub compose: Option<SpStr>,
    /// SCIM attributes whose first value is written when the attribute
    /// itself has none.
    pub coalesce: Option<Vec<SpStr>>,
    /// `"primary"`: a sub-attribute of a multi-valued attribute kept in
    /// one host field, from the primary element (else the first).
    pub select: Option<SpStr>,
    /// `"first"`: the first host element is the primary one.
    pub primary: Option<SpStr>,
    /// A value the create call sends when the IdP sends none:
    /// `{ random = 24 }` (letters and digits).
    pub generate: Option<Spanned<toml::Value>>,
}

/// An error rule's outcome: `"ok"` or a SCIM error.
#[derive(Debug, Clone)]
pub enum ErrorToml {
    /// `"ok"`: the error means "already done".
    Word(String),
    /// A SCIM error.
    Scim(ScimErrorToml),
}

/// A SCIM error outcome.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScimErrorToml {
    /// SCIM HTTP status.
    pub status: Spanned<i64>,
    /// SCIM `scimType`.
    #[serde(rename = "scimType")]
    pub scim_type: Option<SpStr>,
    /// Error detail; default names the app's status.
    pub detail: Option<String>,
}

/// A custom schema extension.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionToml {
    /// Schema URN.
    pub urn: SpStr,
    /// Human-readable name.
    pub name: Option<String>,
    /// Attribute name → type (`string`, `boolean`, `integer`, `decimal`, `dateTime`, `reference`).
    pub attributes: BTreeMap<SpStr, SpStr>,
}

/// Deserializes "a string or a table" without `untagged` (which would
/// buffer the input and lose the `Spanned` positions inside the table).
struct StrOrTable<T>(std::marker::PhantomData<T>);

/// Conversion used by [`StrOrTable`].
trait FromStrOrTable: Sized {
    const EXPECTING: &'static str;
    fn from_string(s: String) -> Self;
    fn from_table<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

impl<'de, T: FromStrOrTable> Visitor<'de> for StrOrTable<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from_string(v.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::from_table(map)
    }
}

impl FromStrOrTable for RuleToml {
    const EXPECTING: &'static str = "a host JSONPath string or a rule table";
    fn from_string(s: String) -> Self {
        Self::Path(s)
    }
    fn from_table<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        RuleTable::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|t| Self::Table(Box::new(t)))
    }
}

impl FromStrOrTable for ErrorToml {
    const EXPECTING: &'static str = "\"ok\" or a table with status and scimType";
    fn from_string(s: String) -> Self {
        Self::Word(s)
    }
    fn from_table<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        ScimErrorToml::deserialize(de::value::MapAccessDeserializer::new(map)).map(Self::Scim)
    }
}

impl FromStrOrTable for QueryToml {
    const EXPECTING: &'static str =
        "a template string or a table like { rison = { … } } or { json = { … } }";
    fn from_string(s: String) -> Self {
        Self::Text(s)
    }
    fn from_table<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        DocToml::deserialize(de::value::MapAccessDeserializer::new(map)).map(Self::Doc)
    }
}

impl<'de> Deserialize<'de> for QueryToml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrOrTable(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for RuleToml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrOrTable(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for ErrorToml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrOrTable(std::marker::PhantomData))
    }
}
