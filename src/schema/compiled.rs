//! The compiled schema of one resource type: the single owner of attribute
//! characteristics (RFC 7643 §2.2: type, multiValued, caseExact,
//! mutability, returned, uniqueness, required, canonicalValues) for a
//! deployment. The mapping compiler builds it once from the RFC 7643
//! definitions, the mapping's rules and its custom extensions; discovery
//! renders it as `/Schemas` (RFC 7643 §7), and the filter evaluator, the
//! PATCH engine, projection and mutability checks all read it, so
//! `/Schemas` never disagrees with a response.

use serde_json::{Map, Value, json};

use super::rfc7643::{
    AttrDef, AttrType, COMMON, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, Mutability, Returned,
    SchemaDef, USER_SCHEMA, Uniqueness,
};

/// Whether two attribute names or schema URNs are equal ignoring ASCII
/// case. The length is compared first, inline, so most names in a scan
/// are passed over without a call; then the bytes as they are, since a
/// name is usually spelt as the schema spells it (a resource's own keys,
/// an IdP's filter); only then byte by byte without case.
#[inline]
fn same_name(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a == b || a.eq_ignore_ascii_case(b))
}

/// One attribute with its characteristics and sub-attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// Canonical name, e.g. `userName`.
    pub name: String,
    /// Data type.
    pub ty: AttrType,
    /// Whether the value is a JSON array.
    pub multi_valued: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Mutability.
    pub mutability: Mutability,
    /// Returned characteristic.
    pub returned: Returned,
    /// Uniqueness.
    pub uniqueness: Uniqueness,
    /// Whether the attribute is required.
    pub required: bool,
    /// The values this deployment can store, where the set is closed.
    pub canonical_values: Vec<String>,
    /// Reference types, for `reference` attributes (RFC 7643 §7).
    pub reference_types: Vec<String>,
    /// Sub-attributes of a complex attribute.
    pub sub_attributes: Vec<Attribute>,
}

impl Attribute {
    /// The attribute as RFC 7643 defines it, without sub-attributes.
    pub fn from_def(def: &AttrDef) -> Self {
        Self {
            name: def.name.to_owned(),
            ty: def.ty,
            multi_valued: def.multi_valued,
            case_exact: def.case_exact,
            mutability: def.mutability,
            returned: def.returned,
            uniqueness: def.uniqueness,
            required: def.required,
            canonical_values: def.canonical_values.iter().map(|s| (*s).into()).collect(),
            reference_types: reference_types(def),
            sub_attributes: Vec::new(),
        }
    }

    /// The attribute as RFC 7643 defines it, with every sub-attribute.
    pub fn from_def_deep(def: &AttrDef) -> Self {
        let mut a = Self::from_def(def);
        a.sub_attributes = def.sub_attributes.iter().map(Self::from_def).collect();
        a
    }

    /// A custom extension attribute of type `ty` (readWrite, not caseExact).
    pub fn custom(name: &str, ty: AttrType) -> Self {
        Self {
            name: name.to_owned(),
            ty,
            multi_valued: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            required: false,
            canonical_values: Vec::new(),
            reference_types: if ty == AttrType::Reference {
                vec!["external".into()]
            } else {
                Vec::new()
            },
            sub_attributes: Vec::new(),
        }
    }

    /// A sub-attribute by case-insensitive name.
    pub fn sub(&self, name: &str) -> Option<&Attribute> {
        self.sub_attributes
            .iter()
            .find(|a| same_name(&a.name, name))
    }

    /// The sub-attribute `name`, added from `def` (or as a plain string) when
    /// missing.
    pub fn ensure_sub(&mut self, name: &str, def: Option<&AttrDef>) -> &mut Attribute {
        let pos = self
            .sub_attributes
            .iter()
            .position(|a| same_name(&a.name, name));
        let i = match pos {
            Some(i) => i,
            None => {
                let sub = match def {
                    Some(d) => Self::from_def(d),
                    None => Self::custom(name, AttrType::String),
                };
                self.sub_attributes.push(sub);
                self.sub_attributes.len() - 1
            }
        };
        &mut self.sub_attributes[i]
    }

    /// Whether a client may change the value once set (readWrite or writeOnly).
    pub fn is_changeable(&self) -> bool {
        matches!(
            self.mutability,
            Mutability::ReadWrite | Mutability::WriteOnly
        )
    }

    /// RFC 7643 §7: the attribute definition as JSON.
    pub fn to_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("name".into(), self.name.clone().into());
        doc.insert("type".into(), self.ty.as_str().into());
        doc.insert("multiValued".into(), self.multi_valued.into());
        doc.insert("description".into(), describe(self).into());
        doc.insert("required".into(), self.required.into());
        if !self.canonical_values.is_empty() {
            doc.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        doc.insert("caseExact".into(), self.case_exact.into());
        doc.insert("mutability".into(), self.mutability.as_str().into());
        doc.insert("returned".into(), self.returned.as_str().into());
        doc.insert("uniqueness".into(), self.uniqueness.as_str().into());
        if self.ty == AttrType::Reference {
            doc.insert("referenceTypes".into(), json!(self.reference_types));
        }
        if self.ty == AttrType::Complex {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Self::to_json).collect();
            doc.insert("subAttributes".into(), Value::Array(subs));
        }
        Value::Object(doc)
    }
}

/// RFC 7643 §7 `referenceTypes` of the static reference attributes.
fn reference_types(def: &AttrDef) -> Vec<String> {
    if def.ty != AttrType::Reference {
        return Vec::new();
    }
    let types: &[&str] = match def.name {
        "$ref" => &["User", "Group"],
        "location" => &["uri"],
        _ => &["external"],
    };
    types.iter().map(|s| (*s).into()).collect()
}

/// A short description for `/Schemas` (RFC 7643 §7 lists `description`).
fn describe(a: &Attribute) -> String {
    let what = match (a.multi_valued, a.ty) {
        (true, _) => "multi-valued attribute",
        (false, AttrType::Complex) => "complex attribute",
        _ => "attribute",
    };
    format!("The {} {what}.", a.name)
}

/// One schema (the core schema or an extension) with its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// Schema URN.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Attributes.
    pub attributes: Vec<Attribute>,
}

impl Schema {
    fn empty(id: &str, name: &str, description: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            description: description.to_owned(),
            attributes: Vec::new(),
        }
    }

    /// An attribute by case-insensitive name.
    pub fn attr(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| same_name(&a.name, name))
    }

    fn attr_mut(&mut self, name: &str) -> Option<&mut Attribute> {
        self.attributes
            .iter_mut()
            .find(|a| same_name(&a.name, name))
    }

    /// RFC 7643 §7: the schema resource, with `location` below `base`.
    pub fn to_json(&self, base: &str) -> Value {
        let attributes: Vec<Value> = self.attributes.iter().map(Attribute::to_json).collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{}", self.id) }
        })
    }
}

/// What an attribute path resolved to.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The top-level attribute.
    pub attr: &'a Attribute,
    /// The sub-attribute, when the path names one.
    pub sub: Option<&'a Attribute>,
}

impl<'a> Resolved<'a> {
    /// The attribute the path denotes (the sub-attribute if any).
    pub fn leaf(&self) -> &'a Attribute {
        self.sub.unwrap_or(self.attr)
    }
}

/// The compiled schema of one resource type (`User`, `Group`).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceSchema {
    /// Resource type name (`User`).
    pub name: String,
    /// Endpoint (`/Users`).
    pub endpoint: String,
    /// Resource type description.
    pub description: String,
    /// The core schema.
    pub core: Schema,
    /// Schema extensions, in declaration order.
    pub extensions: Vec<Schema>,
    /// The common attributes `id` and `meta` (RFC 7643 §3.1), part of no schema.
    pub common: Vec<Attribute>,
}

impl ResourceSchema {
    /// An empty schema for a resource type whose core schema is `core`:
    /// only the common attributes `id` and `meta`.
    pub fn empty(core: &SchemaDef) -> Self {
        let (name, endpoint, description) = if core.id == GROUP_SCHEMA.id {
            ("Group", "/Groups", "Group")
        } else {
            ("User", "/Users", "User Account")
        };
        let common = COMMON
            .iter()
            .filter(|d| d.name != "externalId")
            .map(Attribute::from_def_deep)
            .collect();
        Self {
            name: name.into(),
            endpoint: endpoint.into(),
            description: description.into(),
            core: Schema::empty(core.id, core.name, description),
            extensions: Vec::new(),
            common,
        }
    }

    /// The full RFC 7643 User resource (core User plus the Enterprise User
    /// extension, every attribute and sub-attribute), for callers without
    /// a mapping: benches, fuzz targets, tests.
    pub fn rfc7643_user() -> Self {
        let mut s = Self::empty(&USER_SCHEMA);
        s.core.attributes = full_attributes(&USER_SCHEMA);
        let mut ext = Schema::empty(
            ENTERPRISE_USER_SCHEMA.id,
            "EnterpriseUser",
            "Enterprise User",
        );
        ext.attributes = full_attributes(&ENTERPRISE_USER_SCHEMA);
        s.extensions.push(ext);
        s
    }

    /// The full RFC 7643 Group resource.
    pub fn rfc7643_group() -> Self {
        let mut s = Self::empty(&GROUP_SCHEMA);
        s.core.attributes = full_attributes(&GROUP_SCHEMA);
        s
    }

    /// The core schema URN.
    pub fn core_urn(&self) -> &str {
        &self.core.id
    }

    /// Every schema: the core first, then the extensions.
    pub fn schemas(&self) -> impl Iterator<Item = &Schema> {
        std::iter::once(&self.core).chain(self.extensions.iter())
    }

    /// The schema with URN `urn` (case-insensitive).
    pub fn schema(&self, urn: &str) -> Option<&Schema> {
        self.schemas().find(|s| same_name(&s.id, urn))
    }

    /// The schema with URN `urn`, added (empty) when missing.
    pub fn schema_mut(&mut self, urn: &str, name: &str, description: &str) -> &mut Schema {
        if same_name(&self.core.id, urn) {
            return &mut self.core;
        }
        let pos = self.extensions.iter().position(|s| same_name(&s.id, urn));
        let i = match pos {
            Some(i) => i,
            None => {
                self.extensions.push(Schema::empty(urn, name, description));
                self.extensions.len() - 1
            }
        };
        &mut self.extensions[i]
    }

    /// The top-level attribute `name` of schema `urn` (the core schema
    /// and the common attributes when `urn` is `None` or the core URN).
    pub fn attribute(&self, urn: Option<&str>, name: &str) -> Option<&Attribute> {
        match urn.filter(|u| !same_name(u, &self.core.id)) {
            None => self
                .core
                .attr(name)
                .or_else(|| self.common.iter().find(|a| same_name(&a.name, name))),
            Some(u) => self.schema(u)?.attr(name),
        }
    }

    /// Mutable access to a declared top-level attribute.
    pub fn attribute_mut(&mut self, urn: Option<&str>, name: &str) -> Option<&mut Attribute> {
        let core = self.core.id.clone();
        match urn.filter(|u| !same_name(u, &core)) {
            None => self.core.attr_mut(name),
            Some(u) => self
                .extensions
                .iter_mut()
                .find(|s| same_name(&s.id, u))?
                .attr_mut(name),
        }
    }

    /// Resolves `[urn:]name[.sub]` (all case-insensitive).
    pub fn resolve(
        &self,
        urn: Option<&str>,
        name: &str,
        sub: Option<&str>,
    ) -> Option<Resolved<'_>> {
        let attr = self.attribute(urn, name)?;
        let sub = match sub {
            Some(s) => Some(attr.sub(s)?),
            None => None,
        };
        Some(Resolved { attr, sub })
    }

    /// Whether string values at the path compare case-sensitively; unknown
    /// attributes compare case-insensitively.
    pub fn case_exact(&self, urn: Option<&str>, name: &str, sub: Option<&str>) -> bool {
        self.leaf_of(urn, name, sub).is_some_and(|a| a.case_exact)
    }

    /// The declared type at the path, `None` when undeclared.
    pub fn type_of(&self, urn: Option<&str>, name: &str, sub: Option<&str>) -> Option<AttrType> {
        self.leaf_of(urn, name, sub).map(|a| a.ty)
    }

    /// The mutability at the path: a sub-attribute of a readOnly attribute
    /// is readOnly. `None` when undeclared.
    pub fn mutability(
        &self,
        urn: Option<&str>,
        name: &str,
        sub: Option<&str>,
    ) -> Option<Mutability> {
        let r = self.resolve(urn, name, None)?;
        if r.attr.mutability == Mutability::ReadOnly {
            return Some(Mutability::ReadOnly);
        }
        match sub {
            None => Some(r.attr.mutability),
            Some(s) => r.attr.sub(s).map(|a| a.mutability),
        }
    }

    fn leaf_of(&self, urn: Option<&str>, name: &str, sub: Option<&str>) -> Option<&Attribute> {
        let attr = self.attribute(urn, name)?;
        match sub {
            Some(s) => attr.sub(s),
            None => Some(attr),
        }
    }

    /// Whether `urn` names the core schema or one of the extensions.
    pub fn knows_schema(&self, urn: &str) -> bool {
        self.schema(urn).is_some()
    }

    /// Whether `password` can be written (`changePassword`, RFC 7643 §5).
    pub fn can_change_password(&self) -> bool {
        self.core
            .attr("password")
            .is_some_and(|a| a.mutability != Mutability::ReadOnly)
    }

    /// RFC 7643 §6: the resource type document.
    pub fn resource_type_json(&self, base: &str) -> Value {
        let extensions: Vec<Value> = self
            .extensions
            .iter()
            .map(|e| json!({ "schema": e.id, "required": false }))
            .collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.core.id,
            "schemaExtensions": extensions,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", self.name) }
        })
    }
}

fn full_attributes(def: &SchemaDef) -> Vec<Attribute> {
    def.attributes
        .iter()
        .map(Attribute::from_def_deep)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ENTERPRISE_USER_URN;

    #[test]
    fn rfc_user_resolves_case_insensitively() {
        let s = ResourceSchema::rfc7643_user();
        let r = s.resolve(None, "USERNAME", None).unwrap();
        assert_eq!(r.attr.name, "userName");
        assert!(!s.case_exact(None, "userName", None));
        assert!(s.case_exact(None, "id", None));
        assert_eq!(
            s.type_of(None, "meta", Some("lastModified")),
            Some(AttrType::DateTime)
        );
        assert_eq!(
            s.type_of(Some(ENTERPRISE_USER_URN), "manager", Some("value")),
            Some(AttrType::String)
        );
        assert_eq!(
            s.mutability(None, "meta", Some("created")),
            Some(Mutability::ReadOnly)
        );
        assert_eq!(
            s.mutability(None, "groups", Some("value")),
            Some(Mutability::ReadOnly)
        );
        assert!(s.resolve(None, "name", Some("nope")).is_none());
        assert!(s.can_change_password());
    }

    #[test]
    fn schema_documents_follow_rfc7643_section7() {
        let s = ResourceSchema::rfc7643_user();
        let doc = s.core.to_json("/scim/v2");
        let emails = doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "emails")
            .unwrap();
        assert_eq!(emails["multiValued"], true);
        let primary = emails["subAttributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "primary")
            .unwrap();
        assert_eq!(primary["type"], "boolean");
        let profile = doc["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "profileUrl")
            .unwrap();
        assert_eq!(profile["referenceTypes"], json!(["external"]));
    }
}
