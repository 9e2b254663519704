//! Discovery endpoints (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, rendered once at start-up from each
//! mapping's compiled schema and served from memory. The schema is the one
//! the filter evaluator, PATCH, projection and mutability checks read, so
//! what an IdP discovers is exactly what responses carry and what the
//! sidecar enforces.

use crate::config::Config;
use crate::error::ScimError;
use crate::mapping::ResourceMapping;
use crate::protocol::LIST_URN;
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
    /// `password` can be changed.
    pub change_password: bool,
}

impl Discovery {
    /// Generates the documents for a validated config.
    pub fn from_config(config: &Config) -> Self {
        let base = config.scim.base_path.as_str();
        let mappings: Vec<&ResourceMapping> = [config.users.as_deref(), config.groups.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let mut resource_types = Vec::new();
        let mut schemas: Vec<Value> = Vec::new();
        for m in &mappings {
            resource_types.push(m.schema().resource_type_json(base));
            for s in m.schema().schemas() {
                let known = schemas.iter().any(|d| d["id"] == s.id.as_str());
                if !known {
                    schemas.push(s.to_json(base));
                }
            }
        }
        let any = !mappings.is_empty();
        let caps = Capabilities {
            patch: any,
            filter_max_results: any.then_some(config.scim.max_page_size),
            sort: any,
            etag: mappings.iter().any(|m| maps_version(m)),
            change_password: mappings.iter().any(|m| m.schema().can_change_password()),
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

/// Whether `meta.version` is mapped, so responses carry ETags.
fn maps_version(m: &ResourceMapping) -> bool {
    m.maps_version()
}

/// RFC 7643 §5: the service provider configuration.
fn service_provider_config(base_path: &str, caps: Capabilities) -> Value {
    json!({
        "schemas": [SPC_URN],
        "documentationUri": "https://github.com/scim-sidecar/scim-sidecar/blob/main/docs/mapping.md",
        "patch": { "supported": caps.patch },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": caps.filter_max_results.is_some(), "maxResults": caps.filter_max_results.unwrap_or(0) },
        "changePassword": { "supported": caps.change_password },
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

    fn example_with(edit: impl FnOnce(String) -> String) -> Discovery {
        let text = edit(include_str!("../../config/example.toml").to_owned());
        let config = Config::from_toml(&text, &|_| Some("k".into()))
            .unwrap_or_else(|e| panic!("{}", e.render("example.toml", &text)));
        Discovery::from_config(&config)
    }

    #[test]
    fn change_password_is_supported_exactly_when_password_is_mapped() {
        let without = example_with(|t| t);
        assert_eq!(
            without.service_provider_config["changePassword"]["supported"],
            false
        );
        let with = example_with(|t| {
            t.replace(
                "locale            = \"$.locale\"",
                "locale            = \"$.locale\"\npassword          = \"$.password\"",
            )
        });
        assert_eq!(
            with.service_provider_config["changePassword"]["supported"],
            true
        );
        let user = with.schemas(Some(crate::schema::USER_URN)).unwrap();
        let password = user["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == "password")
            .unwrap();
        assert_eq!(password["mutability"], "writeOnly");
        assert_eq!(password["returned"], "never");
    }

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
