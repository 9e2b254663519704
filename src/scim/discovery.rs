//! Discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, generated once at start-up from the
//! mappings and served from memory. `/Schemas` lists exactly the mapped
//! attributes with their RFC 7643 characteristics (as overridden by the
//! mapping), so an IdP that reads the schema — Entra's schema discovery —
//! offers only what this deployment really stores.

use crate::config::Config;
use crate::error::ScimError;
use crate::mapping::{AttributeInfo, ResourceMapping};
use crate::protocol::LIST_URN;
use crate::schema::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};
use serde_json::{Value, json};

/// The discovery documents of one deployment.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// The `/ServiceProviderConfig` document.
    pub service_provider_config: Value,
    resource_types: Vec<Value>,
    schemas: Vec<Value>,
}

/// URN of the ServiceProviderConfig schema.
pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// URN of the ResourceType schema.
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

/// What the deployment really supports, stated in `/ServiceProviderConfig`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    /// PATCH is supported.
    pub patch: bool,
    /// Filtering is supported, with this page cap.
    pub filter_max_results: Option<usize>,
    /// Sorting is supported.
    pub sort: bool,
    /// ETags are supported.
    pub etag: bool,
}

impl Discovery {
    /// Generates the documents for a validated config.
    pub fn from_config(config: &Config) -> Self {
        let base = config.scim.base_path.as_str();
        let mut resource_types = Vec::new();
        let mut schemas = Vec::new();
        if let Some(users) = config.users.as_deref() {
            resource_types.push(resource_type(base, "User", "Users", "User Account", users));
            schemas.extend(schema_docs(base, users));
        }
        let caps = Capabilities {
            patch: config.users.is_some(),
            filter_max_results: config.users.as_ref().map(|_| config.scim.max_page_size),
            sort: config.users.is_some(),
            etag: config.users.as_deref().is_some_and(maps_version),
        };
        Self::new(base, caps, resource_types, schemas)
    }

    /// Builds the documents from capabilities, resource types and schemas.
    pub fn new(
        base_path: &str,
        caps: Capabilities,
        resource_types: Vec<Value>,
        schemas: Vec<Value>,
    ) -> Self {
        Self {
            service_provider_config: service_provider_config(base_path, caps),
            resource_types,
            schemas,
        }
    }

    /// `/ResourceTypes` (a ListResponse) or `/ResourceTypes/{name}`.
    pub fn resource_types(&self, name: Option<&str>) -> Result<Value, ScimError> {
        select(&self.resource_types, name, "name", "resource type")
    }

    /// `/Schemas` (a ListResponse) or `/Schemas/{urn}`.
    pub fn schemas(&self, urn: Option<&str>) -> Result<Value, ScimError> {
        select(&self.schemas, urn, "id", "schema")
    }
}

fn select(items: &[Value], key: Option<&str>, field: &str, what: &str) -> Result<Value, ScimError> {
    match key {
        None => Ok(list(items)),
        Some(k) => items
            .iter()
            .find(|v| {
                v.get(field)
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case(k))
            })
            .cloned()
            .ok_or_else(|| ScimError::not_found(format!("no {what} named {k:?}"))),
    }
}

/// A ListResponse holding every item (RFC 7644 §3.4.2).
fn list(items: &[Value]) -> Value {
    json!({
        "schemas": [LIST_URN],
        "totalResults": items.len(),
        "startIndex": 1,
        "itemsPerPage": items.len(),
        "Resources": items,
    })
}

/// Whether `meta.version` is mapped (ETags supported).
fn maps_version(m: &ResourceMapping) -> bool {
    m.attributes()
        .any(|a| a.name == "meta" && a.sub_attributes.iter().any(|s| s.name == "version"))
}

/// The schema URNs a mapping uses: the core first, then extensions.
fn schema_urns(m: &ResourceMapping) -> Vec<String> {
    let mut urns = vec![m.core_schema().to_string()];
    for a in m.attributes() {
        if !urns.iter().any(|u| u.eq_ignore_ascii_case(&a.schema)) {
            urns.push(a.schema.clone());
        }
    }
    urns
}

/// RFC 7643 §6: a resource type with its schema extensions.
fn resource_type(
    base: &str,
    name: &str,
    endpoint: &str,
    description: &str,
    m: &ResourceMapping,
) -> Value {
    let extensions: Vec<Value> = schema_urns(m)
        .into_iter()
        .skip(1)
        .map(|urn| json!({ "schema": urn, "required": false }))
        .collect();
    json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": name,
        "name": name,
        "endpoint": format!("/{endpoint}"),
        "description": description,
        "schema": m.core_schema(),
        "schemaExtensions": extensions,
        "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}") }
    })
}

/// RFC 7643 §7: one schema document per schema the mapping uses, listing
/// only mapped attributes (common attributes `id` and `meta` are not part of
/// any schema, RFC 7643 §3.1).
fn schema_docs(base: &str, m: &ResourceMapping) -> Vec<Value> {
    schema_urns(m)
        .into_iter()
        .map(|urn| {
            let attributes: Vec<Value> = m
                .attributes()
                .filter(|a| {
                    a.schema.eq_ignore_ascii_case(&urn) && a.name != "id" && a.name != "meta"
                })
                .map(attribute_doc)
                .collect();
            let (name, description) = schema_names(&urn, m);
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
                "id": urn,
                "name": name,
                "description": description,
                "attributes": attributes,
                "meta": { "resourceType": "Schema", "location": format!("{base}/Schemas/{urn}") }
            })
        })
        .collect()
}

fn schema_names(urn: &str, m: &ResourceMapping) -> (String, String) {
    if urn.eq_ignore_ascii_case(USER_URN) {
        ("User".into(), "User Account".into())
    } else if urn.eq_ignore_ascii_case(GROUP_URN) {
        ("Group".into(), "Group".into())
    } else if urn.eq_ignore_ascii_case(ENTERPRISE_USER_URN) {
        ("EnterpriseUser".into(), "Enterprise User".into())
    } else {
        let name = m
            .extensions()
            .iter()
            .find(|e| e.urn.eq_ignore_ascii_case(urn))
            .map_or_else(|| "Extension".to_string(), |e| e.name.clone());
        (name.clone(), name)
    }
}

/// RFC 7643 §7: an attribute definition.
fn attribute_doc(a: &AttributeInfo) -> Value {
    let mut doc = json!({
        "name": a.name,
        "type": a.ty.as_str(),
        "multiValued": a.multi_valued,
        "description": "",
        "required": a.required,
        "caseExact": a.case_exact,
        "mutability": a.mutability.as_str(),
        "returned": a.returned.as_str(),
        "uniqueness": a.uniqueness.as_str(),
    });
    if let Some(obj) = doc.as_object_mut() {
        if !a.canonical_values.is_empty() {
            obj.insert("canonicalValues".into(), json!(a.canonical_values));
        }
        if !a.sub_attributes.is_empty() {
            let subs: Vec<Value> = a.sub_attributes.iter().map(attribute_doc).collect();
            obj.insert("subAttributes".into(), Value::Array(subs));
        }
    }
    doc
}

/// RFC 7643 §5: the service provider configuration.
fn service_provider_config(base_path: &str, caps: Capabilities) -> Value {
    json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://github.com/scim-sidecar/scim-sidecar/blob/main/docs/mapping.md",
        "patch": { "supported": caps.patch },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": caps.filter_max_results.is_some(), "maxResults": caps.filter_max_results.unwrap_or(0) },
        "changePassword": { "supported": false },
        "sort": { "supported": caps.sort },
        "etag": { "supported": caps.etag },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a static bearer token issued by the sidecar operator",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true
        }],
        "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{base_path}/ServiceProviderConfig") }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_selects_case_insensitively() {
        let d = Discovery::new(
            "/scim/v2",
            Capabilities::default(),
            vec![json!({"name": "User"})],
            vec![],
        );
        assert_eq!(d.resource_types(None).unwrap()["totalResults"], 1);
        assert_eq!(d.resource_types(Some("user")).unwrap()["name"], "User");
        assert_eq!(
            d.resource_types(Some("Group")).unwrap_err().status.as_u16(),
            404
        );
        assert_eq!(d.schemas(None).unwrap()["Resources"], json!([]));
        assert_eq!(d.service_provider_config["bulk"]["supported"], false);
    }
}
