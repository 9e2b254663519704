//! Values written into string literals of an app's own filter language:
//! an in-test app whose `filter=username='…'` is parsed strictly (SQL
//! quoting, `''` for a quote, nothing after the closing quote) receives,
//! for hostile logins, exactly one equality on the literal login.

use crate::support;

use http::Method;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::app::{App, json};
use support::*;

const MAPPING: &str = r#"
[users.list]
get = "/records"
items = "$.items[*]"

[users.get]
get = "/records/{id}"

[users.create]
post = "/records"

[users.update]
patch = "/records/{id}"

[users.search]
'userName eq' = { query = { filter = "username='{value|sql}'" }, case_insensitive = true }

[users.attributes]
userName = "$.username"
"#;

/// The one literal of `username='…'`, or `None` when the filter is
/// anything else (another term, an unclosed or stray quote).
fn equality_literal(filter: &str) -> Option<String> {
    let rest = filter.strip_prefix("username='")?;
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            out.push(c);
        } else if chars.peek() == Some(&'\'') {
            chars.next();
            out.push('\'');
        } else {
            return chars.next().is_none().then_some(out);
        }
    }
    None
}

type Store = Arc<Mutex<Vec<Value>>>;

/// Records with a strict filter; every literal it was asked for is kept.
async fn records_app(store: Store, asked: Arc<Mutex<Vec<String>>>) -> std::net::SocketAddr {
    App::handler(move |r| {
        let mut records = store.lock().unwrap();
        match (r.method.clone(), r.segments().as_slice()) {
            (Method::GET, ["records"]) => {
                let items: Vec<Value> = match r.query.get("filter") {
                    None => records.clone(),
                    Some(f) => match equality_literal(f) {
                        Some(lit) => {
                            asked.lock().unwrap().push(lit.clone());
                            let lit = lit.to_lowercase();
                            records
                                .iter()
                                .filter(|u| u["username"].as_str().unwrap().to_lowercase() == lit)
                                .cloned()
                                .collect()
                        }
                        None => return json(400, &json!({"message": "invalid filter"})),
                    },
                };
                json(200, &json!({ "items": items }))
            }
            (Method::POST, ["records"]) => {
                let mut u = r.body.clone().unwrap_or(Value::Null);
                u["id"] = json!(format!("r{}", records.len() + 1));
                records.push(u.clone());
                json(201, &u)
            }
            (Method::GET, ["records", id]) => match records.iter().find(|u| u["id"] == json!(id)) {
                Some(u) => json(200, u),
                None => json(404, &json!({})),
            },
            _ => json(405, &json!({})),
        }
    })
    .serve()
    .await
}

#[tokio::test]
async fn hostile_logins_reach_the_app_as_one_literal_each() {
    let logins = ["alice", "O'Brien", "x' || username != '", "''", "b'"];
    let store: Store = Arc::default();
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = records_app(store.clone(), asked.clone()).await;
    let sc = start(load(&config_text(app, MAPPING))).await;
    for login in logins {
        let user =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": login});
        let (status, body) = call(&sc, "POST", "/scim/v2/Users", Some(user)).await;
        assert_eq!(status, 201, "{login}: {body}");
    }
    asked.lock().unwrap().clear();
    for login in logins {
        let filter = format!("userName eq \"{}\"", login.replace('"', "\\\""));
        let q = utf8_percent_encode(&filter, NON_ALPHANUMERIC);
        let (status, list) = call(&sc, "GET", &format!("/scim/v2/Users?filter={q}"), None).await;
        assert_eq!(status, 200, "{login}: {list}");
        assert_eq!(list["totalResults"], 1, "{login}: {list}");
        assert_eq!(list["Resources"][0]["userName"], login);
        let seen = std::mem::take(&mut *asked.lock().unwrap());
        assert_eq!(seen, [login], "one equality on the literal login");
    }
    assert_eq!(store.lock().unwrap().len(), logins.len());
}
