//! Static RFC 7643 schema definitions: the core User (§4.1), Group (§4.2)
//! and Enterprise User extension (§4.3) attributes with their
//! characteristics (§2.2: type, multiValued, caseExact, mutability,
//! returned, uniqueness, required, canonicalValues), the common attributes
//! (§3.1) and case-insensitive lookups. It owns no runtime state and knows
//! nothing about mappings; discovery, the mapping compiler and the filter
//! evaluator all read it.

/// Core User schema URN (RFC 7643 §8.7.1).
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Core Group schema URN (RFC 7643 §8.7.1).
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    /// A JSON string.
    String,
    /// A JSON boolean.
    Boolean,
    /// A JSON number with a fractional part allowed.
    Decimal,
    /// A JSON integer.
    Integer,
    /// An RFC 3339 timestamp string.
    DateTime,
    /// Base64 data in a JSON string.
    Binary,
    /// A URI in a JSON string.
    Reference,
    /// A JSON object of sub-attributes.
    Complex,
}

impl AttrType {
    /// The RFC 7643 spelling used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

/// When an attribute may be written (RFC 7643 §2.2 "mutability").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Readable and writable.
    ReadWrite,
    /// Writable once (on create), then read-only.
    Immutable,
    /// Writable, never returned.
    WriteOnly,
}

impl Mutability {
    /// The RFC 7643 spelling used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }

    /// Whether a client may supply a value (on create at least).
    pub fn is_writable(self) -> bool {
        !matches!(self, Self::ReadOnly)
    }
}

/// When an attribute is returned (RFC 7643 §2.2 "returned").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// Always returned.
    Always,
    /// Never returned.
    Never,
    /// Returned unless excluded.
    Default,
    /// Returned only when requested.
    Request,
}

impl Returned {
    /// The RFC 7643 spelling used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// How unique a value must be (RFC 7643 §2.2 "uniqueness").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    /// No uniqueness.
    None,
    /// Unique within the service provider.
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The RFC 7643 spelling used in `/Schemas`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute definition with its RFC 7643 characteristics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrDef {
    /// Canonical attribute name, e.g. `userName`.
    pub name: &'static str,
    /// Data type.
    pub ty: AttrType,
    /// Whether the value is a JSON array.
    pub multi_valued: bool,
    /// Whether string comparison is case-sensitive.
    pub case_exact: bool,
    /// Mutability.
    pub mutability: Mutability,
    /// Returned characteristic.
    pub returned: Returned,
    /// Uniqueness characteristic.
    pub uniqueness: Uniqueness,
    /// Whether the attribute is required.
    pub required: bool,
    /// Canonical values, where RFC 7643 gives them.
    pub canonical_values: &'static [&'static str],
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: &'static [AttrDef],
}

impl AttrDef {
    /// A sub-attribute by case-insensitive name.
    pub fn sub(&self, name: &str) -> Option<&'static AttrDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A plain single-valued readWrite string attribute.
const fn s(name: &'static str) -> AttrDef {
    AttrDef {
        name,
        ty: AttrType::String,
        multi_valued: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        required: false,
        canonical_values: &[],
        sub_attributes: &[],
    }
}

const fn typed(name: &'static str, ty: AttrType) -> AttrDef {
    let mut a = s(name);
    a.ty = ty;
    a
}

const fn ro(mut a: AttrDef) -> AttrDef {
    a.mutability = Mutability::ReadOnly;
    a
}

const fn imm(mut a: AttrDef) -> AttrDef {
    a.mutability = Mutability::Immutable;
    a
}

const fn ce(mut a: AttrDef) -> AttrDef {
    a.case_exact = true;
    a
}

const fn canon(mut a: AttrDef, values: &'static [&'static str]) -> AttrDef {
    a.canonical_values = values;
    a
}

const fn complex(name: &'static str, subs: &'static [AttrDef]) -> AttrDef {
    let mut a = typed(name, AttrType::Complex);
    a.sub_attributes = subs;
    a
}

const fn multi(name: &'static str, subs: &'static [AttrDef]) -> AttrDef {
    let mut a = complex(name, subs);
    a.multi_valued = true;
    a
}

/// The usual `value`/`display`/`type`/`primary` sub-attributes.
macro_rules! mv_subs {
    ($value:expr, $types:expr) => {
        &[
            $value,
            s("display"),
            canon(s("type"), $types),
            typed("primary", AttrType::Boolean),
        ]
    };
}

/// RFC 7643 §3.1 common attributes, part of every resource.
pub static COMMON: &[AttrDef] = &[
    {
        let mut a = ce(ro(s("id")));
        a.returned = Returned::Always;
        a.uniqueness = Uniqueness::Server;
        a
    },
    ce(s("externalId")),
    ro(complex(
        "meta",
        &[
            ce(ro(s("resourceType"))),
            ro(typed("created", AttrType::DateTime)),
            ro(typed("lastModified", AttrType::DateTime)),
            ce(ro(typed("location", AttrType::Reference))),
            ce(ro(s("version"))),
        ],
    )),
];

static EMAIL_TYPES: &[&str] = &["work", "home", "other"];
static PHONE_TYPES: &[&str] = &["work", "home", "mobile", "fax", "pager", "other"];
static IM_TYPES: &[&str] = &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"];

/// RFC 7643 §4.1 core User attributes.
pub static USER: &[AttrDef] = &[
    {
        let mut a = s("userName");
        a.required = true;
        a.uniqueness = Uniqueness::Server;
        a
    },
    complex(
        "name",
        &[
            s("formatted"),
            s("familyName"),
            s("givenName"),
            s("middleName"),
            s("honorificPrefix"),
            s("honorificSuffix"),
        ],
    ),
    s("displayName"),
    s("nickName"),
    typed("profileUrl", AttrType::Reference),
    s("title"),
    s("userType"),
    s("preferredLanguage"),
    s("locale"),
    s("timezone"),
    typed("active", AttrType::Boolean),
    {
        let mut a = s("password");
        a.mutability = Mutability::WriteOnly;
        a.returned = Returned::Never;
        a
    },
    multi("emails", mv_subs!(s("value"), EMAIL_TYPES)),
    multi("phoneNumbers", mv_subs!(s("value"), PHONE_TYPES)),
    multi("ims", mv_subs!(s("value"), IM_TYPES)),
    multi(
        "photos",
        mv_subs!(
            ce(typed("value", AttrType::Reference)),
            &["photo", "thumbnail"]
        ),
    ),
    multi(
        "addresses",
        &[
            s("formatted"),
            s("streetAddress"),
            s("locality"),
            s("region"),
            s("postalCode"),
            s("country"),
            canon(s("type"), &["work", "home", "other"]),
            typed("primary", AttrType::Boolean),
        ],
    ),
    ro(multi(
        "groups",
        &[
            ro(s("value")),
            ro(typed("$ref", AttrType::Reference)),
            ro(s("display")),
            canon(ro(s("type")), &["direct", "indirect"]),
        ],
    )),
    multi("entitlements", mv_subs!(s("value"), &[])),
    multi("roles", mv_subs!(s("value"), &[])),
    multi(
        "x509Certificates",
        mv_subs!(ce(typed("value", AttrType::Binary)), &[]),
    ),
];

/// RFC 7643 §4.3 Enterprise User extension attributes.
pub static ENTERPRISE_USER: &[AttrDef] = &[
    s("employeeNumber"),
    s("costCenter"),
    s("organization"),
    s("division"),
    s("department"),
    complex(
        "manager",
        &[
            s("value"),
            typed("$ref", AttrType::Reference),
            ro(s("displayName")),
        ],
    ),
];

/// RFC 7643 §4.2 core Group attributes.
pub static GROUP: &[AttrDef] = &[
    {
        let mut a = s("displayName");
        a.required = true;
        a
    },
    multi(
        "members",
        &[
            imm(s("value")),
            imm(s("display")),
            imm(typed("$ref", AttrType::Reference)),
            canon(imm(s("type")), &["User", "Group"]),
        ],
    ),
];

/// A static schema: its URN, name and attributes.
#[derive(Debug, Clone, Copy)]
pub struct SchemaDef {
    /// Schema URN.
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// Attributes (without the common ones).
    pub attributes: &'static [AttrDef],
}

/// The core User schema.
pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER_URN,
    name: "User",
    attributes: USER,
};
/// The core Group schema.
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP_URN,
    name: "Group",
    attributes: GROUP,
};
/// The Enterprise User extension schema.
pub static ENTERPRISE_USER_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    attributes: ENTERPRISE_USER,
};

impl SchemaDef {
    /// An attribute of this schema by case-insensitive name (not the common ones).
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        find(self.attributes, name)
    }
}

/// An attribute by case-insensitive name in a list of definitions.
pub fn find(defs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    defs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A common attribute (`id`, `externalId`, `meta`) by case-insensitive name.
pub fn common(name: &str) -> Option<&'static AttrDef> {
    find(COMMON, name)
}

/// A static schema by case-insensitive URN.
pub fn schema_by_urn(urn: &str) -> Option<&'static SchemaDef> {
    [&USER_SCHEMA, &GROUP_SCHEMA, &ENTERPRISE_USER_SCHEMA]
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(urn))
}

/// Looks up an attribute path of a resource whose core schema is `core`:
/// `userName`, `name.givenName`, `meta.created`, or a URN-qualified path
/// such as `urn:…:enterprise:2.0:User:manager.value` (case-insensitive).
/// Returns the schema URN, the attribute and the sub-attribute if any.
pub fn lookup_path(
    core: &'static SchemaDef,
    path: &str,
) -> Option<(&'static str, &'static AttrDef, Option<&'static AttrDef>)> {
    let (urn, rest) = split_urn(path);
    let schema = match urn {
        Some(u) => schema_by_urn(u)?,
        None => core,
    };
    let (attr, sub) = match rest.split_once('.') {
        Some((a, s)) => (a, Some(s)),
        None => (rest, None),
    };
    let def = schema
        .attr(attr)
        .or_else(|| if urn.is_none() { common(attr) } else { None })?;
    let sub = match sub {
        Some(name) => Some(def.sub(name)?),
        None => None,
    };
    Some((schema.id, def, sub))
}

/// Splits `urn:…:Schema:attr.sub` into (`urn:…:Schema`, `attr.sub`); a path
/// without a `urn:` prefix comes back as (`None`, path). The attribute is
/// whatever follows the last `:`.
pub fn split_urn(path: &str) -> (Option<&str>, &str) {
    if path
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        && let Some(i) = path.rfind(':')
    {
        return (Some(&path[..i]), &path[i + 1..]);
    }
    (None, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_name_is_case_insensitive_and_unique() {
        let (urn, def, sub) = lookup_path(&USER_SCHEMA, "USERNAME").unwrap();
        assert_eq!(urn, USER_URN);
        assert_eq!(def.name, "userName");
        assert!(!def.case_exact && def.required);
        assert_eq!(def.uniqueness, Uniqueness::Server);
        assert!(sub.is_none());
    }

    #[test]
    fn sub_attributes_and_extensions_resolve() {
        let (_, def, sub) = lookup_path(&USER_SCHEMA, "name.givenName").unwrap();
        assert_eq!((def.name, sub.unwrap().name), ("name", "givenName"));
        let p = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value";
        let (urn, def, sub) = lookup_path(&USER_SCHEMA, p).unwrap();
        assert_eq!(urn, ENTERPRISE_USER_URN);
        assert_eq!((def.name, sub.unwrap().name), ("manager", "value"));
        let (_, def, sub) = lookup_path(&USER_SCHEMA, "meta.created").unwrap();
        assert_eq!(def.mutability, Mutability::ReadOnly);
        assert_eq!(sub.unwrap().ty, AttrType::DateTime);
        assert!(lookup_path(&USER_SCHEMA, "name.nope").is_none());
        assert!(lookup_path(&USER_SCHEMA, "members").is_none());
        assert!(lookup_path(&GROUP_SCHEMA, "members.value").is_some());
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let def = USER_SCHEMA.attr("password").unwrap();
        assert_eq!(def.mutability, Mutability::WriteOnly);
        assert_eq!(def.returned, Returned::Never);
        let emails = USER_SCHEMA.attr("emails").unwrap();
        assert!(emails.multi_valued);
        assert_eq!(emails.sub("type").unwrap().canonical_values, EMAIL_TYPES);
    }
}
