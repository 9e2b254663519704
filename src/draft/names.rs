//! The vocabulary the drafter matches fields by: for each SCIM attribute,
//! the field names (snake-cased) that mean it in published user APIs, best
//! first, and the words that classify an account state as active or not.

/// SCIM User attributes matched by field name, best name first. A name
/// marked with a leading `^` only counts inside a `name` or `profile`
/// object (`profile.prefix`, never a top-level `prefix`).
pub const USER: &[(&str, &[&str])] = &[
    (
        "userName",
        &[
            "username",
            "user_name",
            "login",
            "user_login",
            "screen_name",
            "handle",
            "login_name",
            "uid",
        ],
    ),
    (
        "externalId",
        &[
            "external_id",
            "externalid",
            "ext_id",
            "external_key",
            "external_user_id",
        ],
    ),
    (
        "name.givenName",
        &[
            "first_name",
            "firstname",
            "given_name",
            "givenname",
            "first",
            "forename",
        ],
    ),
    (
        "name.familyName",
        &[
            "last_name",
            "lastname",
            "family_name",
            "familyname",
            "surname",
            "last",
            "sur_name",
        ],
    ),
    ("name.middleName", &["middle_name", "middlename", "middle"]),
    (
        "name.honorificPrefix",
        &["honorific_prefix", "^prefix", "^salutation"],
    ),
    ("name.honorificSuffix", &["honorific_suffix", "^suffix"]),
    ("name.formatted", &["formatted_name", "^formatted"]),
    (
        "displayName",
        &[
            "display_name",
            "displayname",
            "full_name",
            "fullname",
            "^display",
            "display",
        ],
    ),
    ("nickName", &["nick_name", "nickname"]),
    ("profileUrl", &["profile_url", "profileurl", "html_url"]),
    ("title", &["title", "job_title", "jobtitle"]),
    ("userType", &["user_type", "usertype"]),
    (
        "preferredLanguage",
        &[
            "preferred_language",
            "preferredlanguage",
            "language",
            "lang",
        ],
    ),
    ("locale", &["locale"]),
    ("timezone", &["timezone", "time_zone", "tz"]),
    (
        "emails",
        &[
            "email",
            "mail",
            "email_address",
            "emailaddress",
            "primary_email",
            "work_email",
        ],
    ),
    (
        "phoneNumbers.work",
        &[
            "phone",
            "phone_number",
            "phonenumber",
            "telephone",
            "work_phone",
            "primary_phone",
        ],
    ),
    (
        "phoneNumbers.mobile",
        &[
            "mobile",
            "mobile_phone",
            "mobilephone",
            "mobile_number",
            "cell",
            "cell_phone",
        ],
    ),
    (
        "enterprise:department",
        &["department", "dept", "department_name"],
    ),
    (
        "enterprise:employeeNumber",
        &[
            "employee_number",
            "employeenumber",
            "employee_id",
            "employee_no",
            "staff_id",
        ],
    ),
    ("enterprise:costCenter", &["cost_center", "costcenter"]),
    (
        "enterprise:organization",
        &["organization", "organisation", "company", "company_name"],
    ),
    ("enterprise:division", &["division"]),
    ("enterprise:manager.value", &["manager_id", "managerid"]),
    (
        "enterprise:manager.displayName",
        &["manager_name", "managername"],
    ),
    (
        "meta.created",
        &[
            "created",
            "created_at",
            "createdat",
            "created_on",
            "created_date",
            "creation_date",
            "date_joined",
            "created_timestamp",
            "inserted_at",
            "date_created",
            "create_time",
        ],
    ),
    (
        "meta.lastModified",
        &[
            "updated",
            "updated_at",
            "updatedat",
            "last_updated",
            "modified",
            "modified_at",
            "changed_on",
            "last_modified",
            "lastmodified",
            "updated_on",
            "date_updated",
            "update_time",
            "modified_on",
        ],
    ),
    (
        "meta.version",
        &["version", "lock_version", "etag", "row_version"],
    ),
];

/// SCIM Group attributes matched by field name.
pub const GROUP: &[(&str, &[&str])] = &[
    (
        "displayName",
        &[
            "display_name",
            "displayname",
            "name",
            "title",
            "group_name",
            "team_name",
        ],
    ),
    ("externalId", &["external_id", "externalid"]),
    (
        "meta.created",
        &[
            "created",
            "created_at",
            "created_on",
            "date_created",
            "created_timestamp",
        ],
    ),
    (
        "meta.lastModified",
        &[
            "updated",
            "updated_at",
            "modified",
            "changed_on",
            "last_updated",
            "last_modified",
        ],
    ),
];

/// Boolean fields that are true for an active account.
pub const ACTIVE_TRUE: &[&str] = &[
    "active",
    "is_active",
    "enabled",
    "is_enabled",
    "activated",
    "is_activated",
    "account_enabled",
];
/// Boolean fields that are true for an inactive account.
pub const ACTIVE_FALSE: &[&str] = &[
    "disabled",
    "is_disabled",
    "suspended",
    "is_suspended",
    "blocked",
    "is_blocked",
    "deactivated",
    "is_deactivated",
    "inactive",
    "prohibit_login",
    "banned",
    "is_banned",
    "archived",
    "is_archived",
    "locked",
    "is_locked",
];
/// Fields holding an account state.
pub const STATE_FIELDS: &[&str] = &[
    "status",
    "state",
    "account_status",
    "user_status",
    "account_state",
    "lifecycle_state",
];
/// State values of an active account.
pub const STATE_ACTIVE: &[&str] = &["active", "enabled", "activated", "normal", "ok", "live"];
/// State values of an inactive account, the preferred one to write first.
pub const STATE_INACTIVE: &[&str] = &[
    "suspended",
    "disabled",
    "inactive",
    "deactivated",
    "blocked",
    "locked",
    "banned",
    "archived",
    "deprovisioned",
    "locked_out",
];

/// The enterprise extension's URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The mapping key for a table attribute: `enterprise:department` → the
/// full URN path, `phoneNumbers.work` → a selector, `emails` → the work
/// e-mail selector.
pub fn scim_key(attr: &str) -> String {
    if let Some(rest) = attr.strip_prefix("enterprise:") {
        return format!("{ENTERPRISE}:{rest}");
    }
    match attr {
        "emails" => r#"emails[type eq "work"].value"#.to_owned(),
        "phoneNumbers.work" => r#"phoneNumbers[type eq "work"].value"#.to_owned(),
        "phoneNumbers.mobile" => r#"phoneNumbers[type eq "mobile"].value"#.to_owned(),
        other => other.to_owned(),
    }
}

/// How well `name` (snake-cased) means `attr`: the rank of the name in the
/// table (lower is better), given the parent object's name.
pub fn rank(table: &[(&str, &[&str])], attr: &str, name: &str, parent: &str) -> Option<usize> {
    let (_, names) = table.iter().find(|(a, _)| *a == attr)?;
    names.iter().position(|n| match n.strip_prefix('^') {
        Some(inner) => inner == name && matches!(parent, "name" | "profile" | "names"),
        None => *n == name,
    })
}

/// SCIM phone and e-mail types, and the host words that mean them.
pub fn canonical_type(host: &str) -> Option<&'static str> {
    Some(match host.to_ascii_lowercase().as_str() {
        "work" | "office" | "business" => "work",
        "home" | "personal" | "private" => "home",
        "mobile" | "cell" | "cellphone" | "mobile_phone" => "mobile",
        "fax" => "fax",
        "pager" => "pager",
        "other" => "other",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_respect_parents_and_order() {
        assert_eq!(rank(USER, "userName", "username", ""), Some(0));
        assert_eq!(rank(USER, "userName", "login", ""), Some(2));
        assert_eq!(rank(USER, "name.honorificPrefix", "prefix", ""), None);
        assert!(rank(USER, "name.honorificPrefix", "prefix", "profile").is_some());
        assert_eq!(
            scim_key("enterprise:department"),
            format!("{ENTERPRISE}:department")
        );
        assert_eq!(canonical_type("Office"), Some("work"));
    }
}
