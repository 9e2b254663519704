//! Tests of group shapes beyond member endpoints: a member list inside the
//! group's record that the app only replaces whole (integer ids), and
//! roles held on users as objects with integer ids.

use serde::Deserialize;
use serde_json::json;

use crate::diagnostic::Diagnostic;
use crate::mapping::compile_with;
use crate::mapping::model::mapping::{ResourceKind, ResourceMapping};
use crate::mapping::raw::ResourceToml;

#[derive(Deserialize)]
struct File {
    groups: ResourceToml,
}

fn compile_groups(src: &str) -> Result<ResourceMapping, Vec<Diagnostic>> {
    let f: File = toml::from_str(src).map_err(|e| vec![Diagnostic::key("", e.to_string())])?;
    compile_with(&f.groups, ResourceKind::Group, "groups", &[], &|_| None)
}

const IN_RECORD: &str = r#"
[groups.list]
get = "/groups"

[groups.get]
get = "/groups/{id}"

[groups.create]
post = "/groups"

[groups.update]
put = "/groups/{id}"

[groups.attributes]
displayName = "$.name"

[groups.members]
field = "$.users"
value = "$.id"
display = "$.username"
ids = "integer"
"#;

#[test]
fn a_member_list_in_the_record_is_read_and_written_whole() {
    let m = compile_groups(IN_RECORD).unwrap_or_else(|e| panic!("{e:?}"));
    let spec = m.members().expect("members");
    assert!(spec.in_record());
    let group = json!({"id": 1, "users": [{"id": 2, "username": "ada"}, {"id": 7}]});
    assert_eq!(
        spec.of_record(&group),
        [
            ("2".to_owned(), Some("ada".to_owned())),
            ("7".to_owned(), None)
        ]
    );
    assert_eq!(
        spec.record_body(&["2".into(), "9".into()]),
        Ok(Some(json!({"users": [2, 9]})))
    );
    assert_eq!(spec.record_body(&["x".into()]), Err("x".to_owned()));
}

#[test]
fn a_member_field_needs_the_groups_update_and_no_endpoints() {
    for (from, to, key) in [
        (
            "[groups.update]\nput = \"/groups/{id}\"\n",
            "",
            "groups.members.field",
        ),
        (
            "ids = \"integer\"\n",
            "ids = \"integer\"\n[groups.members.add]\npost = \"/groups/{id}/users\"\n",
            "groups.members.field",
        ),
        (
            "ids = \"integer\"",
            "ids = \"number\"",
            "groups.members.ids",
        ),
    ] {
        let src = IN_RECORD.replace(from, to);
        let e = compile_groups(&src).unwrap_err();
        assert!(e.iter().any(|d| d.key == key), "{key}: {e:?}");
    }
    let src = IN_RECORD.replace("field = \"$.users\"\n", "");
    let e = compile_groups(&src).unwrap_err();
    assert!(
        e.iter().any(|d| d.key == "groups.members.list"),
        "endpoints are required without a field: {e:?}"
    );
}

const ROLE_OBJECTS: &str = r#"
[groups.roles]
field = "$.roles"
value = "$.id"
ids = "integer"
names = { "Admins" = "1", "Gamma" = "3" }
"#;

#[test]
fn roles_as_objects_are_read_by_id_and_written_as_ids() {
    let m = compile_groups(ROLE_OBJECTS).unwrap_or_else(|e| panic!("{e:?}"));
    let roles = m.roles().expect("roles");
    let user = json!({"id": 5, "roles": [{"id": 3, "name": "Gamma"}]});
    assert_eq!(roles.roles_of(&user), ["3"]);
    assert_eq!(roles.role_of_name("Admins"), Ok("1".to_owned()));
    assert_eq!(
        roles.user_body(&user, "1", true),
        Some(json!({"roles": [3, 1]}))
    );
    assert_eq!(
        roles.user_body(&user, "3", false),
        Some(json!({"roles": []}))
    );
    assert_eq!(roles.user_body(&user, "3", true), None, "already held");
    let bad = ROLE_OBJECTS.replace("\"Gamma\" = \"3\"", "\"Gamma\" = \"gamma\"");
    let e = compile_groups(&bad).unwrap_err();
    assert!(e.iter().any(|d| d.key.contains("roles.names")), "{e:?}");
}
