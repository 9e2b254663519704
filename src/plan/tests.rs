use super::*;
use crate::config::Config;
use serde_json::json;
use std::sync::Arc;

fn example_with(edit: impl FnOnce(String) -> String) -> Arc<ResourceMapping> {
    let text = edit(include_str!("../../config/example.toml").to_owned());
    let config = Config::from_toml(&text, &|_| Some("k".into()))
        .unwrap_or_else(|e| panic!("{}", e.render("example.toml", &text)));
    config.users.expect("users")
}

fn example() -> Arc<ResourceMapping> {
    example_with(|t| t)
}

/// `text` without the TOML tables whose headers are listed (each runs to
/// the next blank line).
fn without_tables(text: &str, headers: &[&str]) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    for line in text.lines() {
        if headers.iter().any(|h| line.starts_with(h)) {
            skipping = true;
        } else if skipping && line.trim().is_empty() {
            skipping = false;
        }
        if !skipping {
            out.push(line);
        }
    }
    out.join("\n")
}

fn user(active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada@example.com",
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"type": "work", "value": "ada@example.com", "primary": true}],
        "active": active,
        "password": "hunter22"
    })
}

fn purposes(p: &WritePlan) -> Vec<Purpose> {
    p.steps.iter().map(|s| s.purpose).collect()
}

#[test]
fn an_inactive_create_on_an_action_app_is_create_then_deactivate() {
    let m = example();
    let p = create(&m, &user(false), &WriteEnv::default()).unwrap();
    assert_eq!(purposes(&p), [Purpose::Create, Purpose::Deactivate]);
    let body = p.steps[0].body.as_ref().unwrap();
    assert!(body.get("state").is_none(), "active is an action here");
    assert_eq!(p.steps[0].repeat, Repeat::Once, "a POST create");
    assert!(!p.steps[0].changes.iter().any(|c| c == "active"));
    assert_eq!(
        p.steps[1].when,
        Condition::ActiveIsNot {
            want: false,
            if_unknown: true
        }
    );
    assert_eq!(
        p.steps[1].repeat,
        Repeat::Safe,
        "already_suspended is read as success"
    );
    assert_eq!(
        p.to_string(),
        "1. create (emails[type eq \"work\"].value, name.familyName, name.givenName, userName); 2. deactivate (active) when active or unknown"
    );
}

#[test]
fn an_active_create_assumes_new_accounts_are_active() {
    let p = create(&example(), &user(true), &WriteEnv::default()).unwrap();
    assert_eq!(purposes(&p), [Purpose::Create, Purpose::Activate]);
    assert_eq!(
        p.steps[1].when,
        Condition::ActiveIsNot {
            want: true,
            if_unknown: false
        }
    );
}

#[test]
fn a_field_active_rides_in_the_create_body() {
    let m = example_with(|t| without_tables(&t, &["[users.deactivate]", "[users.activate]"]));
    let p = create(&m, &user(false), &WriteEnv::default()).unwrap();
    assert_eq!(p.steps[0].body.as_ref().unwrap()["state"], "SUSPENDED");
    assert!(p.steps[0].changes.iter().any(|c| c == "active"));
    // An app may ignore the field on create: when the new account does not
    // show the state asked (or shows nothing), an update sends it alone.
    assert_eq!(purposes(&p), [Purpose::Create, Purpose::CompleteCreate]);
    assert_eq!(p.steps[1].op, OpKind::Update);
    assert_eq!(p.steps[1].body, Some(json!({"state": "SUSPENDED"})));
    assert_eq!(p.steps[1].changes, ["active"]);
    assert_eq!(
        p.steps[1].when,
        Condition::ActiveIsNot {
            want: false,
            if_unknown: true
        }
    );
    let p = create(&m, &user(true), &WriteEnv::default()).unwrap();
    assert_eq!(purposes(&p), [Purpose::Create, Purpose::CompleteCreate]);
    assert_eq!(
        p.steps[1].when,
        Condition::ActiveIsNot {
            want: true,
            if_unknown: false
        }
    );
}

#[test]
fn accepts_splits_a_create_into_create_and_complete() {
    let m = example_with(|t| {
        t.replace(
            "then = \"get\"                    # the app answers only {\"id\": …}",
            "then = \"get\"\naccepts = [\"userName\", \"name\"]",
        )
    });
    let p = create(&m, &user(true), &WriteEnv::default()).unwrap();
    assert_eq!(
        purposes(&p),
        [Purpose::Create, Purpose::CompleteCreate, Purpose::Activate]
    );
    let first = p.steps[0].body.as_ref().unwrap();
    assert_eq!(first["login"], "ada@example.com");
    assert!(first.get("contact").is_none());
    let rest = p.steps[1].body.as_ref().unwrap();
    assert_eq!(rest["contact"]["email"], "ada@example.com");
    assert!(rest.get("login").is_none());
    assert_eq!(p.steps[1].op, OpKind::Update);
    assert_eq!(p.steps[1].changes, ["emails[type eq \"work\"].value"]);
}

#[test]
fn updates_send_only_changes_and_the_action() {
    let m = example();
    let before = json!({"id": "1", "userName": "ada", "title": "Countess", "active": true});
    let after = json!({"id": "1", "userName": "ada", "title": "Analyst", "active": false});
    let p = update(&m, &before, &after, &WriteEnv::default()).unwrap();
    assert_eq!(purposes(&p), [Purpose::Update, Purpose::Deactivate]);
    assert_eq!(
        p.steps[0].body,
        Some(json!({"profile": {"title": "Analyst"}}))
    );
    assert_eq!(
        p.steps[0].repeat,
        Repeat::Safe,
        "a PATCH of absolute values"
    );
    assert!(
        update(&m, &before, &before, &WriteEnv::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn deletes_delete_or_deactivate() {
    let m = example();
    let p = delete(&m, None, &WriteEnv::default()).unwrap().unwrap();
    assert_eq!(purposes(&p), [Purpose::Delete]);
    let m = example_with(|t| {
        without_tables(&t, &["[users.delete]"]).replace(
            "unique = [\"userName\"]",
            "unique = [\"userName\"]\non_delete = \"deactivate\"",
        )
    });
    let current = json!({"id": "1", "userName": "ada", "active": true});
    let p = delete(&m, Some(&current), &WriteEnv::default())
        .unwrap()
        .unwrap();
    assert_eq!(purposes(&p), [Purpose::Deactivate]);
}

#[test]
fn version_preconditions_are_marked() {
    let m = example();
    let before = json!({"id": "1", "userName": "ada", "title": "Countess"});
    let after = json!({"id": "1", "userName": "ada", "title": "Analyst"});
    let p = update(&m, &before, &after, &WriteEnv::default()).unwrap();
    assert!(p.steps[0].precondition);
    assert!(p.to_string().contains("if unchanged"));
}

fn groups_with(edit: impl FnOnce(String) -> String) -> Arc<ResourceMapping> {
    let text = edit(include_str!("../../config/example.toml").to_owned());
    let config = Config::from_toml(&text, &|_| Some("k".into()))
        .unwrap_or_else(|e| panic!("{}", e.render("example.toml", &text)));
    config.groups.expect("groups")
}

#[test]
fn membership_is_one_call_per_member_or_one_batch() {
    let m = groups_with(|t| t);
    let steps = membership(&m, &["u1".into(), "u2".into()], &["u3".into()]);
    let shape: Vec<(Purpose, Option<&str>)> = steps
        .iter()
        .map(|s| (s.purpose, s.member.as_deref()))
        .collect();
    assert_eq!(
        shape,
        [
            (Purpose::RemoveMembers, Some("u3")),
            (Purpose::AddMembers, Some("u1")),
            (Purpose::AddMembers, Some("u2")),
        ]
    );
    assert!(
        steps.iter().all(|s| s.repeat == Repeat::Safe),
        "PUT, and DELETE with an ok rule"
    );
    let batch = groups_with(|t| {
        t.replace(
            "put = \"/api/teams/{id}/members/{member}\"      # idempotent in this app",
            "post = \"/api/teams/{id}/members\"\nbatch = \"$.user_ids\"",
        )
    });
    let steps = membership(&batch, &["u1".into(), "u2".into()], &[]);
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].body, Some(json!({"user_ids": ["u1", "u2"]})));
    assert!(membership(&batch, &[], &[]).is_empty());
}
