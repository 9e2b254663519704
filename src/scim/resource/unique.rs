//! Uniqueness of the values a write claims (RFC 7643 §2.1 `uniqueness:
//! server`): the lock keys a create or a rename takes for its unique
//! values, so two writers in this sidecar never claim one login at once;
//! the account that already holds one of them, looked up through the list
//! operation (pushed down or scanned, protected accounts included); and
//! the 409 `uniqueness` of a rename onto another account's value. Creates
//! and replacements alike (PUT and PATCH) check here.

use super::ctx::Ctx;
use super::list::{Scope, list_scoped};
use super::read::{Current, fetch_any, id_of};
use crate::error::{ScimError, ScimType};
use crate::mapping::ResourceMapping;
use crate::protocol::filter;
use crate::protocol::query::ListQuery;
use crate::schema::{get_ci, split_urn};
use http::StatusCode;
use serde_json::Value;

/// The lock keys of the unique values a resource claims (the userName at
/// least), lowercased where the attribute is not caseExact: a create
/// takes them all, a rename those it adds.
pub(super) fn claim_keys(m: &ResourceMapping, wanted: &Value) -> Vec<String> {
    let mut attrs: Vec<&str> = m
        .unique_before_create()
        .iter()
        .map(String::as_str)
        .collect();
    if attrs.is_empty() {
        let required = m.schema().core.attributes.iter().find(|a| a.required);
        attrs.extend(required.map(|a| a.name.as_str()));
    }
    let mut keys = Vec::new();
    for attr in attrs {
        let exact = m.schema().case_exact(None, attr, None);
        for v in values_at(wanted, attr) {
            let printed;
            let text = match v.as_str() {
                Some(s) => s,
                None => {
                    printed = v.to_string();
                    &printed
                }
            };
            // `c:{attr}:{text}`, written in one string.
            let mut key = String::with_capacity(3 + attr.len() + text.len());
            key.push_str("c:");
            key.extend(attr.chars().map(|c| c.to_ascii_lowercase()));
            key.push(':');
            match exact {
                true => key.push_str(text),
                false => key.push_str(&text.to_lowercase()),
            }
            keys.push(key);
        }
    }
    keys
}

/// The account that holds one of `wanted`'s values of `attrs`, looked up
/// through the list operation (pushed down or scanned, and re-checked).
/// A lookup that cannot be made is an error, never "nothing found".
pub(super) async fn find_existing(
    ctx: &Ctx<'_>,
    wanted: &Value,
    attrs: &[String],
) -> Result<Option<Current>, ScimError> {
    for attr in attrs {
        for value in values_at(wanted, attr) {
            if let Some(found) = holder(ctx, attr, &value).await? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// The account, protected or not, whose `attr` holds `value` (compared
/// as the attribute's `caseExact` says), looked up through a search rule
/// (a list query, a get-by-key call, or a scan).
async fn holder(ctx: &Ctx<'_>, attr: &str, value: &Value) -> Result<Option<Current>, ScimError> {
    let text = format!("{attr} eq {value}");
    let filter = filter::parse(&text)
        .map_err(|e| ScimError::bad_request(ScimType::InvalidValue, format!("`{attr}`: {e}")))?;
    let q = ListQuery {
        filter: Some(filter),
        start_index: 1,
        count: Some(1),
        ..Default::default()
    };
    let found = list_scoped(ctx, q, Scope::All)
        .await
        .map_err(|e| unverifiable(attr, e))?;
    let id = found
        .resources
        .first()
        .and_then(|r| r.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    match id {
        Some(id) => fetch_any(ctx, &id).await.map(Some),
        None => Ok(None),
    }
}

/// RFC 7643 §2.1 `uniqueness: server` on a write that changes a unique
/// attribute (a rename): a value another account holds is 409
/// `uniqueness`, compared case-insensitively unless the attribute is
/// caseExact (Okta and Entra rename by PUT or PATCH of `userName`).
pub(super) async fn check_renames(
    ctx: &Ctx<'_>,
    id: &str,
    before: &Value,
    after: &Value,
) -> Result<(), ScimError> {
    let m = ctx.mapping();
    for attr in m.unique_before_create() {
        let exact = m.schema().case_exact(None, attr, None);
        let key = |v: &Value| {
            let t = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            if exact { t } else { t.to_lowercase() }
        };
        let old: Vec<String> = values_at(before, attr).iter().map(key).collect();
        for value in values_at(after, attr) {
            if old.contains(&key(&value)) {
                continue;
            }
            if let Some(other) = holder(ctx, attr, &value).await?
                && id_of(&other.scim)? != id
            {
                return Err(ScimError::client(
                    StatusCode::CONFLICT,
                    Some(ScimType::Uniqueness),
                    format!("another resource already has this {attr}"),
                ));
            }
        }
    }
    Ok(())
}

/// A lookup's own 400s (scan limit, unmapped attribute) are not the
/// client's fault: the create cannot be checked, so it is refused as a
/// sidecar limitation rather than answered as a bad filter.
fn unverifiable(attr: &str, e: ScimError) -> ScimError {
    if matches!(
        e.scim_type,
        Some(ScimType::InvalidFilter | ScimType::TooMany)
    ) {
        ScimError::internal(format!(
            "cannot verify that {attr} is unique before creating: {}",
            e.detail
        ))
    } else {
        e
    }
}

/// Every value of the attribute path `path` (`userName`, `emails.value`,
/// `urn:…:employeeNumber`) in a SCIM resource, as filter literals, looking
/// through multi-valued attributes.
pub(super) fn values_at(resource: &Value, path: &str) -> Vec<Value> {
    let (urn, rest) = split_urn(path);
    let base = match urn {
        Some(u) => match get_ci(resource, u) {
            Some(b) => b,
            None => return Vec::new(),
        },
        None => resource,
    };
    let (name, sub) = match rest.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let Some(top) = get_ci(base, name) else {
        return Vec::new();
    };
    let tops: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    tops.into_iter()
        .filter_map(|v| match sub {
            Some(s) => get_ci(v, s),
            None => Some(v),
        })
        .filter(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_look_through_multi_valued_attributes() {
        let r = json!({"userName": "a", "emails": [{"value": "x@y"}, {"value": "z@y"}],
                       "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 7}});
        assert_eq!(values_at(&r, "userName"), [json!("a")]);
        assert_eq!(values_at(&r, "emails.value"), [json!("x@y"), json!("z@y")]);
        assert_eq!(
            values_at(
                &r,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
            ),
            [json!(7)]
        );
        assert!(values_at(&r, "title").is_empty());
    }

    /// Lock keys are shared by replicas (Redis): their spelling is fixed,
    /// `c:{attribute, lowercased}:{value, lowercased unless caseExact}`.
    #[test]
    fn claim_keys_are_spelt_as_replicas_expect() {
        let text = include_str!("../../../config/example.toml");
        let config =
            crate::config::Config::from_toml(text, &|_| Some("k".into())).expect("example config");
        let m = config.users.expect("users");
        let keys = claim_keys(&m, &json!({"userName": "Ä.Bc@X.org"}));
        assert_eq!(keys, ["c:username:ä.bc@x.org"]);
        assert_eq!(claim_keys(&m, &json!({"userName": 42})), ["c:username:42"]);
    }
}
