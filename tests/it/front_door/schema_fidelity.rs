//! Whatever the app stores, an answer says only what `/Schemas` declares
//! (every answer here passes the strict reader): attributes the mapping
//! makes writeOnly are declared `returned: never`, and an app value SCIM
//! cannot carry as its attribute's type (a dateTime that is not RFC 3339,
//! a fraction for an integer, an array for a single value) is a 502 that
//! names the attribute, never a 200 a strict client would refuse. A
//! default is a value its attribute can hold, and at most one value of a
//! multi-valued attribute is primary.

use crate::support;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use support::app::App;
use support::record::Recorder;
use support::*;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ACME: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";

/// Operations for an app at `/u` whose records are `record` (id 1).
const OPS: &str = r#"
[users.list]
get = "/u"
items = "$[*]"
paging = "none"

[users.get]
get = "/u/{id}"

[users.create]
post = "/u"

[users.update]
patch = "/u/{id}"

[[users.extensions]]
urn = "urn:example:params:scim:schemas:extension:acme:2.0:User"
name = "AcmeUser"
attributes = { clearance = "integer", badgeIssued = "dateTime" }
"#;

/// A sidecar mapped by `attributes` in front of an app that answers every
/// read and write with `record` and records each request.
async fn sidecar(attributes: &str, record: Value) -> (Sidecar, Recorder) {
    let rec = Recorder::default();
    let app = App::handler(move |r| {
        let (status, body) = match (&r.method, r.path.as_str()) {
            (&Method::GET, "/u") => (200, json!([record])),
            (&Method::POST, "/u") => (201, record.clone()),
            (_, "/u/1") => (200, record.clone()),
            _ => (404, json!({"error": "not found"})),
        };
        app::json(status, &body)
    })
    .recorded(&rec)
    .serve()
    .await;
    let mapping = format!("{OPS}\n[users.attributes]\nuserName = \"$.login\"\n{attributes}");
    (start(load(&config_text(app, &mapping))).await, rec)
}

/// The `/Schemas` definition of a core attribute.
async fn declared(sc: &Sidecar, name: &str) -> Value {
    let path = format!("/scim/v2/Schemas/{USER}");
    let (status, schema) = call(sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{schema}");
    schema["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} is not declared: {schema}"))
}

#[tokio::test]
async fn write_only_attributes_are_declared_never_returned() {
    let (sc, app) = sidecar(
        r#"title = { path = "$.title", mutability = "writeOnly" }"#,
        json!({"id": 1, "login": "ada", "title": "Countess"}),
    )
    .await;
    let title = declared(&sc, "title").await;
    assert_eq!(title["mutability"], "writeOnly");
    assert_eq!(title["returned"], "never", "{title}");

    let (status, user) = call(&sc, "GET", "/scim/v2/Users/1", None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert!(user.get("title").is_none(), "{user}");
    // Asked for by name, it is still not returned (RFC 7643 §2.2).
    let (status, user) = call(&sc, "GET", "/scim/v2/Users/1?attributes=title", None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert!(user.get("title").is_none(), "{user}");
    // It is written all the same.
    let new = json!({"schemas": [USER], "userName": "ada", "title": "Countess"});
    let (status, created) = call(&sc, "POST", "/scim/v2/Users", Some(new)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created.get("title").is_none(), "{created}");
    let posts: Vec<Option<Value>> = app
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::POST)
        .map(|s| s.body)
        .collect();
    assert_eq!(posts, [Some(json!({"login": "ada", "title": "Countess"}))]);
}

/// GET /Users/1 with the app storing `record`.
async fn read(attributes: &str, record: Value) -> (StatusCode, Value) {
    let (sc, _) = sidecar(attributes, record).await;
    call(&sc, "GET", "/scim/v2/Users/1", None).await
}

/// The app's value for the attribute `attr` does not fit: a 502 naming it.
#[track_caller]
fn refused(answer: (StatusCode, Value), attr: &str, why: &str) {
    let (status, err) = answer;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    let detail = err["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("`{attr}`")), "{detail}");
    assert!(detail.contains(why), "{detail}");
}

const CREATED: &str = r#""meta.created" = "$.created""#;

#[tokio::test]
async fn date_times_are_rfc3339_or_refused() {
    let ok = read(
        CREATED,
        json!({"id": 1, "login": "a", "created": "2024-05-01T14:00:00.5+02:00"}),
    );
    let (status, user) = ok.await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["meta"]["created"], "2024-05-01T14:00:00.5+02:00");
    for created in [
        json!("2024-05-01 12:00:00"),
        json!("2024-05-01T12:00:00"),
        json!(1714564800),
    ] {
        let record = json!({"id": 1, "login": "a", "created": created});
        refused(read(CREATED, record).await, "meta.created", "RFC 3339");
    }
    let badge = format!(r#""{ACME}:badgeIssued" = "$.issued""#);
    let record = json!({"id": 1, "login": "a", "issued": "yesterday"});
    refused(
        read(&badge, record).await,
        &format!("{ACME}:badgeIssued"),
        "RFC 3339",
    );
}

#[tokio::test]
async fn a_date_time_a_client_writes_must_be_rfc3339() {
    let badge = format!(r#""{ACME}:badgeIssued" = "$.issued""#);
    let (sc, app) = sidecar(&badge, json!({"id": 1, "login": "a"})).await;
    let new = json!({"schemas": [USER, ACME], "userName": "a", ACME: {"badgeIssued": "yesterday"}});
    let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(new)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "invalidValue");
    assert!(
        app.seen().iter().all(|s| s.method == Method::GET),
        "{:?}",
        app.calls()
    );
}

#[tokio::test]
async fn integers_are_whole_numbers_or_refused() {
    let clearance = format!(r#""{ACME}:clearance" = "$.level""#);
    for (level, read_as) in [
        (json!(3), json!(3)),
        (json!(3.0), json!(3)),
        (json!("4"), json!(4)),
    ] {
        let record = json!({"id": 1, "login": "a", "level": level});
        let (status, user) = read(&clearance, record).await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert_eq!(user[ACME]["clearance"], read_as, "{level}");
    }
    let attr = format!("{ACME}:clearance");
    for level in [json!(3.5), json!("3.5"), json!(true)] {
        let record = json!({"id": 1, "login": "a", "level": level});
        refused(read(&clearance, record).await, &attr, "");
    }
}

#[tokio::test]
async fn single_valued_attributes_never_carry_arrays() {
    let record = json!({"id": 1, "login": "a", "title": ["Countess", "Mathematician"]});
    refused(read(r#"title = "$.title""#, record).await, "title", "array");
    let record = json!({"id": 1, "login": "a", "level": [1, 2]});
    let clearance = format!(r#""{ACME}:clearance" = "$.level""#);
    refused(
        read(&clearance, record).await,
        &format!("{ACME}:clearance"),
        "",
    );
}

/// The config errors of a mapping, rendered; empty when it loads.
fn config_errors(attributes: &str) -> String {
    let mapping = format!("{OPS}\n[users.attributes]\nuserName = \"$.login\"\n{attributes}");
    let app = "127.0.0.1:9".parse().unwrap(); // never called: only loaded
    let text = config_text(app, &mapping);
    match scim_sidecar::Config::from_toml(&text, &|_: &str| None) {
        Ok(_) => String::new(),
        Err(e) => e.render("test.toml", &text),
    }
}

#[test]
fn defaults_are_values_the_attribute_can_hold() {
    for (rule, why) in [
        (
            r#"title = { path = "$.t", map = { lead = "L" }, default = "intern" }"#,
            "the default \"intern\" is not one of the map's keys (lead)",
        ),
        (
            r#"active = { path = "$.s", default = "maybe" }"#,
            "the default \"maybe\" is not a SCIM boolean value",
        ),
        (
            &format!(r#""{ACME}:clearance" = {{ path = "$.k", default = 2.5 }}"#),
            "the default 2.5 is not a SCIM integer value",
        ),
        (
            &format!(r#""{ACME}:badgeIssued" = {{ path = "$.i", default = "soon" }}"#),
            "the default \"soon\" is not a SCIM dateTime value",
        ),
    ] {
        let errors = config_errors(rule);
        assert!(errors.contains(why), "{rule}:\n{errors}");
        assert!(errors.contains(".default`"), "{rule}:\n{errors}");
    }
    let fine = r#"title = { path = "$.t", map = { lead = "L" }, default = "LEAD" }"#;
    assert_eq!(config_errors(fine), "");
}

#[tokio::test]
async fn defaults_are_read_in_their_scim_form() {
    let rules = r#"
active = { path = "$.state", map = { true = "on", false = "off" }, default = "False" }
title = { path = "$.title", map = { lead = "L", member = "M" }, default = "MEMBER" }
"#;
    let (status, user) = read(rules, json!({"id": 1, "login": "a", "state": "??"})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["active"], false);
    assert_eq!(user["title"], "member");
    let title = {
        let (sc, _) = sidecar(rules, json!({"id": 1, "login": "a"})).await;
        declared(&sc, "title").await
    };
    assert_eq!(title["canonicalValues"], json!(["lead", "member"]));
}

#[tokio::test]
async fn at_most_one_value_is_primary() {
    let emails =
        r#"emails = { path = "$.emails", fields = { value = "$.address", primary = "$.main" } }"#;
    let record = json!({"id": 1, "login": "a", "emails": [
        {"address": "a@work.example", "main": true},
        {"address": "a@home.example", "main": true},
        {"address": "a@old.example", "main": false}]});
    let (status, user) = read(emails, record).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let primary: Vec<&Value> = user["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["primary"])
        .collect();
    assert_eq!(primary, [&json!(true), &json!(false), &json!(false)]);
}
