//! Okta's user sequence, as Okta's SCIM client sends it (what Okta sends:
//! test connection, lookup before create in both space encodings and any
//! case, create, duplicate, GET → PUT profile updates, PUT and PATCH
//! deactivation and reactivation, delete), with what any SCIM server must
//! answer; the app checks its store after each step.

use super::{
    Idp, LIST_URN, Lifecycle, Step, USER_URN, Via, assert_scim_error, filter_path, lookup, patch,
    user_path,
};
use crate::support::{Sidecar, call, call_with};
use http::StatusCode;
use serde_json::{Value, json};

const OKTA: Idp = Idp::Okta;

/// Okta's create body (what Okta sends: its user profile's defaults).
pub fn create_body(login: &str) -> Value {
    json!({
        "schemas": [USER_URN],
        "userName": login,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

/// The whole sequence.
pub async fn users<A: Lifecycle>(app: &A, sc: &Sidecar) {
    let logins = app.logins(OKTA);
    test_connection(app, sc).await;
    lookups(app, sc, logins.seeded).await;
    let id = create(app, sc, logins.created).await;
    profile_update(app, sc, &id).await;
    activation(app, sc, &id, &app.user_name(logins.created.0)).await;
    app.fresh(sc);
    app.check(sc, OKTA, Step::Own { id: &id }).await;
    delete(app, sc, OKTA, &id, &app.user_name(logins.created.0)).await;
}

/// Okta's test connection lists two users and reads the counters as
/// integers.
async fn test_connection<A: Lifecycle>(app: &A, sc: &Sidecar) {
    let path = "/scim/v2/Users?startIndex=1&count=2";
    let r = call_with(sc, "GET", path, None, &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.headers["content-type"], "application/scim+json");
    assert_eq!(r.body["schemas"], json!([LIST_URN]));
    assert_eq!(r.body["totalResults"], json!(app.listed()), "{}", r.body);
    assert_eq!(r.body["startIndex"], json!(1));
    let items = r.body["Resources"].as_array().map_or(0, Vec::len);
    assert!(items <= 2, "{}", r.body);
    assert_eq!(r.body["itemsPerPage"], json!(items));
    app.check(sc, OKTA, Step::Listed(&r.body)).await;
}

/// A seeded user is found by its login in Okta's `%20` form, the older
/// `+` form, in another case, and with the attribute and operator in
/// capitals; the login to create is not found.
async fn lookups<A: Lifecycle>(app: &A, sc: &Sidecar, (login, other): (&str, &str)) {
    let enc = |s: &str| s.replace('@', "%40");
    let paths = [
        (login, filter_path("userName", login)),
        (
            login,
            format!("/scim/v2/Users?filter=userName+eq+%22{}%22", enc(login)),
        ),
        (other, filter_path("userName", other)),
        (
            other,
            format!("/scim/v2/Users?filter=USERNAME%20EQ%20%22{}%22", enc(other)),
        ),
    ];
    for (value, path) in paths {
        app.fresh(sc);
        let (status, found) = call(sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {found}");
        assert_eq!(found["totalResults"], json!(1), "{path}: {found}");
        assert_eq!(found["Resources"][0]["userName"], login, "{path}");
        app.check(
            sc,
            OKTA,
            Step::Found {
                value,
                found: &found,
            },
        )
        .await;
    }
}

/// Lookup before create finds nothing; the create answers 201 with the
/// resource and its location; the user is then found in any case, and a
/// create of the same login in any case is 409 `uniqueness`.
async fn create<A: Lifecycle>(app: &A, sc: &Sidecar, (login, other): (&str, &str)) -> String {
    app.fresh(sc);
    let path = filter_path("userName", login);
    let (status, none) = call(sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none["totalResults"], json!(0), "{none}");
    assert_eq!(none["Resources"], json!([]));
    app.check(sc, OKTA, Step::NotFound).await;

    app.fresh(sc);
    let r = call_with(
        sc,
        "POST",
        "/scim/v2/Users",
        Some(app.okta_create(login)),
        &[],
    )
    .await;
    let created = &r.body;
    assert_eq!(r.status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("a string id").to_owned();
    let location = r.headers["location"].to_str().unwrap();
    let location = percent_encoding::percent_decode_str(location).decode_utf8_lossy();
    assert!(
        location.ends_with(&format!("/scim/v2/Users/{id}")),
        "{location}"
    );
    assert_eq!(created["schemas"][0], USER_URN);
    assert_eq!(created["userName"], app.user_name(login));
    assert_eq!(created["active"], true);
    assert!(created.get("password").is_none(), "password returned");
    app.check(
        sc,
        OKTA,
        Step::Created {
            id: &id,
            user: created,
        },
    )
    .await;

    let (status, fetched) = call(sc, "GET", &user_path(&id), None).await;
    assert_eq!(status, StatusCode::OK, "{fetched}");
    assert_eq!(fetched["id"], id.as_str());
    assert_eq!(fetched["userName"], app.user_name(login));
    let found = lookup(sc, other).await;
    assert_eq!(found.len(), 1, "{other}: {found:?}");
    assert_eq!(found[0]["id"], id.as_str());

    for dup in [login, other] {
        app.fresh(sc);
        let (status, err) = call(sc, "POST", "/scim/v2/Users", Some(app.okta_create(dup))).await;
        assert_scim_error(status, &err, StatusCode::CONFLICT, Some("uniqueness"));
        app.check(
            sc,
            OKTA,
            Step::Duplicate {
                login: dup,
                err: &err,
            },
        )
        .await;
    }
    id
}

/// Okta GETs the user and PUTs it back with its changes (and what it
/// read, read-only attributes included); a PUT without an attribute
/// clears it.
async fn profile_update<A: Lifecycle>(app: &A, sc: &Sidecar, id: &str) {
    let path = user_path(id);
    let (status, mut user) = call(sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["id"], id);
    app.edit_profile(&mut user);
    app.fresh(sc);
    let (status, updated) = call(sc, "PUT", &path, Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["id"], id);
    app.check(sc, OKTA, Step::Replaced { id, user: &updated })
        .await;

    if let Some(attribute) = app.cleared_by_put() {
        let (_, mut user) = call(sc, "GET", &path, None).await;
        user.as_object_mut().unwrap().remove(attribute);
        app.fresh(sc);
        let (status, cleared) = call(sc, "PUT", &path, Some(user)).await;
        assert_eq!(status, StatusCode::OK, "{cleared}");
        assert!(cleared.get(attribute).is_none(), "{cleared}");
        app.check(sc, OKTA, Step::Cleared { id }).await;
    }
}

/// Deactivation and reactivation as Okta sends them: a PUT of the user
/// as read with `active` changed (sent twice, as a replay would: the
/// second converges), then Okta's path-less PATCH. An inactive user stays
/// readable and findable.
async fn activation<A: Lifecycle>(app: &A, sc: &Sidecar, id: &str, login: &str) {
    let path = user_path(id);
    let steps = [
        (Via::Put, false),
        (Via::Put, false),
        (Via::Put, true),
        (Via::Patch, false),
        (Via::Patch, true),
    ];
    for (n, (via, active)) in steps.into_iter().enumerate() {
        let body = match via {
            Via::Put => {
                let (_, mut user) = call(sc, "GET", &path, None).await;
                user["active"] = json!(active);
                user
            }
            Via::Patch => patch(json!([{"op": "replace", "value": {"active": active}}])),
        };
        let method = if via == Via::Put { "PUT" } else { "PATCH" };
        app.fresh(sc);
        let (status, user) = call(sc, method, &path, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{method} active={active}: {user}");
        assert_eq!(user["active"], active, "{method}: {user}");
        app.check(sc, OKTA, Step::Activated { id, n, via, active })
            .await;
        if !active {
            inactive_is_readable_and_findable(sc, id, login).await;
        }
    }
}

/// An inactive user is still answered by GET and by a lookup.
pub async fn inactive_is_readable_and_findable(sc: &Sidecar, id: &str, login: &str) {
    let (status, got) = call(sc, "GET", &user_path(id), None).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got["active"], false, "{got}");
    let found = lookup(sc, login).await;
    assert_eq!(found.len(), 1, "{login}: {found:?}");
    assert_eq!(found[0]["id"], id);
    assert_eq!(found[0]["active"], false);
}

/// DELETE answers 204. An app that removes the account then answers 404
/// to GET and DELETE and finds no such login; one that only deactivates
/// it answers the user as inactive, and a repeated DELETE converges
/// without writing.
pub async fn delete<A: Lifecycle>(app: &A, sc: &Sidecar, idp: Idp, id: &str, login: &str) {
    let path = user_path(id);
    app.fresh(sc);
    let (status, body) = call(sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.check(sc, idp, Step::Deleted { id }).await;
    if app.delete_keeps_account() {
        let (status, got) = call(sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{got}");
        assert_eq!(got["active"], false, "{got}");
        app.fresh(sc);
        let (status, _) = call(sc, "DELETE", &path, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let writes: Vec<_> = app.rec().calls();
        assert!(
            writes.iter().all(|c| c.starts_with("GET ")),
            "a repeated DELETE wrote: {writes:?}"
        );
    } else {
        let (status, err) = call(sc, "GET", &path, None).await;
        assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);
        let (status, err) = call(sc, "DELETE", &path, None).await;
        assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);
        assert_eq!(lookup(sc, login).await, Vec::<Value>::new(), "{login}");
    }
}
