//! Reading SCIM request bodies: a size-bounded read, JSON parsing with the
//! error's location in the detail, and the normalisation of resource bodies
//! (POST/PUT) that IdPs send in non-RFC shapes.

use crate::error::{ScimError, ScimType};
use crate::protocol::patch::Dialect;
use crate::schema::ENTERPRISE_USER_URN;
use http::StatusCode;
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};

/// Reads and parses a JSON body of at most `max` bytes.
pub async fn read_json<B>(body: B, max: usize) -> Result<Value, ScimError>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Send,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    let bytes = match Limited::new(body, max).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err(ScimError::client(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("request body exceeds {max} bytes"),
            ));
        }
        Err(_) => {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                "the request body could not be read",
            ));
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            "a JSON request body is required",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!(
                "malformed JSON at line {} column {}: {}",
                e.line(),
                e.column(),
                e.classify_str()
            ),
        )
    })
}

/// The category of a JSON error, in words.
trait Classify {
    fn classify_str(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end of input",
        }
    }
}

/// Checks and normalises a resource body for create or replace:
/// - it must be an object whose `schemas` names the core schema (the
///   Okta and Entra dialects tolerate a missing `schemas`);
/// - explicit `null` members mean "no value" (RFC 7643 §2.5) and are
///   dropped — Entra: create bodies carry `"title":null,"manager":null`;
/// - Entra: the enterprise `manager` may arrive as a bare id string
///   (`"manager":"<id>"`); it becomes `{"value":"<id>"}`.
pub fn normalise_resource(
    body: Value,
    core_urn: &str,
    dialect: Dialect,
) -> Result<Value, ScimError> {
    let Value::Object(mut obj) = body else {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            "a resource must be a JSON object",
        ));
    };
    if dialect == Dialect::OneLogin {
        onelogin_legacy(&mut obj, core_urn);
    }
    match obj.get("schemas") {
        Some(Value::Array(a)) => {
            if !a
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(core_urn)))
            {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("`schemas` must contain {core_urn}"),
                ));
            }
        }
        None if dialect.lenient() => {}
        _ => {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                format!("`schemas` must be an array containing {core_urn}"),
            ));
        }
    }
    drop_nulls(&mut obj);
    if dialect.lenient() {
        wrap_bare_manager(&mut obj);
    }
    coerce_active(&mut obj, dialect)?;
    Ok(Value::Object(obj))
}

/// `active` must be a JSON boolean (RFC 7643 §4.1.1). Entra: string
/// booleans (`"active":"True"`) are read as booleans in the lenient dialects.
fn coerce_active(obj: &mut Map<String, Value>, dialect: Dialect) -> Result<(), ScimError> {
    let Some(v) = obj
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case("active"))
        .map(|(_, v)| v)
    else {
        return Ok(());
    };
    let parsed = match v {
        Value::Bool(_) => return Ok(()),
        Value::String(s) if dialect.lenient() && s.eq_ignore_ascii_case("true") => true,
        Value::String(s) if dialect.lenient() && s.eq_ignore_ascii_case("false") => false,
        _ => {
            return Err(ScimError::bad_request(
                ScimType::InvalidValue,
                "`active` must be a boolean",
            ));
        }
    };
    *v = Value::Bool(parsed);
    Ok(())
}

/// The legacy schema names OneLogin's templates send.
const ONELOGIN_CORE: &str = "urn:scim:schemas:core:1.0";
const ONELOGIN_ENTERPRISE: [&str; 2] = [
    "urn:scim:schemas:extension:enterprise:1.0",
    "urn:scim:schemas:extension:enterprise:2.0",
];

/// OneLogin: the default user templates of its "SCIM Provisioner"
/// connectors send SCIM 1.1 names and shapes in SCIM 2.0 bodies, e.g.
/// `{"schemas": ["urn:scim:schemas:core:1.0",
/// "urn:scim:schemas:extension:enterprise:1.0"], "emails": {"value": …},
/// "urn:scim:schemas:extension:enterprise:1.0": {"manager": {"managerId":
/// …}}}` (developers.onelogin.com, "Define Your SCIM User Schema"). They
/// become the RFC 7643 names: the core and enterprise URNs, lists of one
/// element, and `manager.value`.
fn onelogin_legacy(obj: &mut Map<String, Value>, core_urn: &str) {
    if let Some(Value::Array(schemas)) = obj.get_mut("schemas") {
        for s in schemas.iter_mut() {
            let name = s.as_str().unwrap_or_default();
            if name.eq_ignore_ascii_case(ONELOGIN_CORE) {
                *s = Value::String(core_urn.to_owned());
            } else if ONELOGIN_ENTERPRISE
                .iter()
                .any(|e| e.eq_ignore_ascii_case(name))
            {
                *s = Value::String(ENTERPRISE_USER_URN.to_owned());
            }
        }
    }
    let legacy: Vec<String> = obj
        .keys()
        .filter(|k| {
            ONELOGIN_ENTERPRISE
                .iter()
                .any(|e| e.eq_ignore_ascii_case(k))
        })
        .cloned()
        .collect();
    for k in legacy {
        if let Some(Value::Object(ext)) = obj.remove(&k) {
            let target = obj
                .entry(ENTERPRISE_USER_URN.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(t) = target {
                t.extend(ext);
            }
        }
    }
    for key in ["emails", "phoneNumbers", "addresses"] {
        if let Some(v) = obj.get_mut(key)
            && v.is_object()
        {
            *v = Value::Array(vec![v.take()]);
        }
    }
    let manager = obj
        .get_mut(ENTERPRISE_USER_URN)
        .and_then(|e| e.get_mut("manager"))
        .and_then(Value::as_object_mut);
    if let Some(m) = manager
        && !m.contains_key("value")
        && let Some(id) = m.remove("managerId")
    {
        m.insert("value".into(), id);
    }
}

fn drop_nulls(obj: &mut Map<String, Value>) {
    obj.retain(|_, v| !v.is_null());
    for v in obj.values_mut() {
        if let Value::Object(inner) = v {
            drop_nulls(inner);
        }
    }
}

fn wrap_bare_manager(obj: &mut Map<String, Value>) {
    let manager = obj
        .iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(ENTERPRISE_USER_URN))
        .and_then(|(_, v)| v.as_object_mut())
        .and_then(|ext| {
            ext.iter_mut()
                .find(|(k, _)| k.eq_ignore_ascii_case("manager"))
                .map(|(_, v)| v)
        });
    if let Some(m) = manager
        && let Value::String(id) = m
    {
        *m = serde_json::json!({ "value": id.clone() });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

    #[test]
    fn onelogin_legacy_names_become_rfc_names() {
        let body = json!({
            "schemas": ["urn:scim:schemas:core:1.0", "urn:scim:schemas:extension:enterprise:2.0"],
            "userName": "ada@x.io",
            "emails": {"value": "ada@x.io", "type": "work", "primary": true},
            "urn:scim:schemas:extension:enterprise:2.0": {"department": "R&D", "manager": {"managerId": "9"}}
        });
        let out = normalise_resource(body.clone(), USER, Dialect::OneLogin).unwrap();
        assert_eq!(out["schemas"], json!([USER, ENTERPRISE_USER_URN]));
        assert_eq!(
            out["emails"],
            json!([{"value": "ada@x.io", "type": "work", "primary": true}])
        );
        assert_eq!(
            out[ENTERPRISE_USER_URN],
            json!({"department": "R&D", "manager": {"value": "9"}})
        );
        assert!(normalise_resource(body, USER, Dialect::Entra).is_err());
    }

    #[test]
    fn nulls_are_dropped_and_manager_wrapped() {
        let body = json!({"schemas": [USER, ENTERPRISE_USER_URN], "userName": "a", "title": null,
            "name": {"givenName": "A", "middleName": null},
            ENTERPRISE_USER_URN: {"manager": "1002", "department": null}});
        let out = normalise_resource(body, USER, Dialect::Entra).unwrap();
        assert_eq!(
            out,
            json!({"schemas": [USER, ENTERPRISE_USER_URN], "userName": "a", "name": {"givenName": "A"},
            ENTERPRISE_USER_URN: {"manager": {"value": "1002"}}})
        );
    }

    #[test]
    fn active_must_be_boolean_string_forms_only_when_lenient() {
        let body = |a: Value| json!({"schemas": [USER], "userName": "a", "active": a});
        assert_eq!(
            normalise_resource(body(json!("False")), USER, Dialect::Entra).unwrap()["active"],
            false
        );
        assert_eq!(
            normalise_resource(body(json!("true")), USER, Dialect::Okta).unwrap()["active"],
            true
        );
        assert!(normalise_resource(body(json!("True")), USER, Dialect::Generic).is_err());
        assert!(normalise_resource(body(json!("maybe")), USER, Dialect::Entra).is_err());
        assert!(normalise_resource(body(json!(1)), USER, Dialect::Okta).is_err());
    }

    #[test]
    fn schemas_are_checked() {
        let e = normalise_resource(
            json!({"schemas": ["urn:x"], "userName": "a"}),
            USER,
            Dialect::Okta,
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert!(normalise_resource(json!({"userName": "a"}), USER, Dialect::Okta).is_ok());
        assert!(normalise_resource(json!({"userName": "a"}), USER, Dialect::Generic).is_err());
        assert!(normalise_resource(json!([1]), USER, Dialect::Okta).is_err());
    }
}
