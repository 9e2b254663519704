//! The demo app's records and their JSON: users (with the nested
//! `profile`/`contact` shape the REST API exposes), teams, validation of
//! request bodies into typed fields, RFC 7386 merge-patch, and the exact
//! matching of ids taken from request paths.

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

use super::reply::ApiError;

/// Keys of a user body that the app owns and clients may never send.
pub(super) const USER_READ_ONLY: &[&str] = &["id", "created_at", "updated_at", "version"];
/// Top-level keys of a user body that clients may write.
const USER_WRITABLE: &[&str] = &[
    "login",
    "external_id",
    "profile",
    "contact",
    "state",
    "dept",
    "locale",
    "org",
];

/// Whether a user may sign in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(super) enum State {
    /// The default state.
    #[default]
    Active,
    /// Set by `POST /api/users/{id}/suspend`.
    Suspended,
}

/// `profile` of a user.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Profile {
    first: Option<String>,
    last: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    middle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suffix: Option<String>,
    display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nickname: Option<String>,
    title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preferred_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
}

/// One entry of `contact.addresses`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Address {
    kind: Option<String>,
    street: Option<String>,
    locality: Option<String>,
    region: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
}

/// `org`: where a user sits in the organisation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Org {
    employee_number: Option<String>,
    cost_center: Option<String>,
    organization: Option<String>,
    division: Option<String>,
    manager_id: Option<String>,
    manager_name: Option<String>,
}

/// One entry of `contact.phones`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Phone {
    kind: Option<String>,
    number: String,
}

/// `contact` of a user.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Contact {
    pub(super) email: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    phones: Vec<Phone>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    addresses: Vec<Address>,
}

/// The client-writable part of a user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UserFields {
    pub(super) login: String,
    pub(super) external_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    profile: Profile,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) contact: Contact,
    #[serde(default, deserialize_with = "null_as_default")]
    pub(super) state: State,
    dept: Option<String>,
    locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    org: Option<Org>,
}

/// A stored user.
#[derive(Clone, Debug)]
pub(super) struct User {
    pub(super) id: u64,
    pub(super) fields: UserFields,
    pub(super) created_at: u64,
    pub(super) updated_at: u64,
    pub(super) version: u64,
}

/// A stored team.
#[derive(Clone, Debug)]
pub(super) struct Team {
    pub(super) id: u64,
    pub(super) name: String,
    /// The client's own id for the team (an IdP's group id), if it sent one.
    pub(super) external_id: Option<String>,
    /// Member user ids, in numeric order.
    pub(super) members: BTreeSet<u64>,
    pub(super) created_at: u64,
    pub(super) updated_at: u64,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl UserFields {
    /// Validates a whole user body (POST, or the result of a merge-patch).
    pub(super) fn from_object(body: Map<String, Value>) -> Result<Self, ApiError> {
        check_user_keys(&body)?;
        let fields: Self = serde_json::from_value(Value::Object(body))
            .map_err(|error| ApiError::bad_request(format!("invalid user: {error}")))?;
        if fields.login.trim().is_empty() {
            return Err(ApiError::bad_request("`login` must be a non-empty string"));
        }
        Ok(fields)
    }

    /// The fields after applying an RFC 7386 merge-patch `patch`.
    pub(super) fn patched(&self, patch: &Map<String, Value>) -> Result<Self, ApiError> {
        check_user_keys(patch)?;
        if patch.get("state").is_some_and(Value::is_null) {
            return Err(ApiError::bad_request("`state` cannot be null"));
        }
        let mut document =
            serde_json::to_value(self).map_err(|error| ApiError::bad_request(error.to_string()))?;
        merge_patch(&mut document, &Value::Object(patch.clone()));
        match document {
            Value::Object(map) => Self::from_object(map),
            _ => Err(ApiError::bad_request("request body must be a JSON object")),
        }
    }

    /// Whether `login` equals this user's login, ignoring case.
    pub(super) fn login_matches(&self, login: &str) -> bool {
        self.login.to_lowercase() == login.to_lowercase()
    }
}

/// Rejects read-only (`read_only`) and unknown (`bad_request`) top-level keys.
fn check_user_keys(body: &Map<String, Value>) -> Result<(), ApiError> {
    for key in body.keys() {
        if USER_READ_ONLY.contains(&key.as_str()) {
            return Err(ApiError::read_only(key));
        }
        if !USER_WRITABLE.contains(&key.as_str()) {
            return Err(ApiError::unknown_key(key));
        }
    }
    Ok(())
}

/// RFC 7386 JSON merge-patch: objects merge recursively, `null` removes a
/// member, anything else (arrays included) replaces the target.
pub(super) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target_map) = target else {
        return;
    };
    for (key, value) in patch_map {
        if value.is_null() {
            target_map.remove(key);
        } else {
            let slot = target_map.entry(key.clone()).or_insert(Value::Null);
            merge_patch(slot, value);
        }
    }
}

impl User {
    /// The user as the REST API returns it.
    pub(super) fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(&self.fields).unwrap_or_else(|_| json!({}));
        if let Value::Object(map) = &mut value {
            map.insert("id".into(), Value::from(self.id.to_string()));
            map.insert("created_at".into(), Value::from(self.created_at));
            map.insert("updated_at".into(), Value::from(self.updated_at));
            map.insert("version".into(), Value::from(self.version));
        }
        value
    }
}

impl Team {
    /// The team as the REST API returns it.
    pub(super) fn to_json(&self) -> Value {
        json!({
            "id": team_id_string(self.id),
            "name": self.name,
            "external_id": self.external_id,
            "member_count": self.members.len(),
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// The external form of a team id (`t1`, `t2`, …).
pub(super) fn team_id_string(id: u64) -> String {
    format!("t{id}")
}

/// Matches a user id from a path exactly: canonical decimal, no sign, no
/// leading zeros, nothing encoded. Anything else matches no record.
pub(super) fn parse_user_id(raw: &str) -> Option<u64> {
    let canonical = !raw.is_empty()
        && raw.bytes().all(|b| b.is_ascii_digit())
        && (raw == "0" || !raw.starts_with('0'));
    if canonical { raw.parse().ok() } else { None }
}

/// Matches a team id (`t` + canonical decimal) from a path exactly.
pub(super) fn parse_team_id(raw: &str) -> Option<u64> {
    raw.strip_prefix('t').and_then(parse_user_id)
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub(super) fn now() -> u64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH);
    elapsed.map(|d| d.as_secs()).unwrap_or(0)
}

/// The three demo users added by `DemoApp::seed`.
pub(super) fn seed_users() -> Vec<Value> {
    vec![
        json!({
            "login": "ada.lovelace@example.com",
            "profile": {"first": "Ada", "last": "Lovelace", "display": "Ada Lovelace", "title": "Engineer"},
            "contact": {"email": "ada@example.com", "phones": [{"kind": "mobile", "number": "+1 555 0100"}]},
            "dept": "R&D", "locale": "en-US",
        }),
        json!({
            "login": "alan.turing@example.com",
            "profile": {"first": "Alan", "last": "Turing", "display": "Alan Turing", "title": "Cryptanalyst"},
            "contact": {"email": "alan@example.com", "phones": [{"kind": "work", "number": "+44 20 7946 0100"}]},
            "dept": "Research", "locale": "en-GB",
        }),
        json!({
            "login": "grace.hopper@example.com",
            "profile": {"first": "Grace", "last": "Hopper", "display": null, "title": "Rear Admiral"},
            "contact": {"email": "grace@example.com", "phones": []},
            "dept": "Compilers", "locale": "en-US",
        }),
    ]
}
