//! The Django REST Framework app behind the shipped `config/django.toml`:
//! lookups scanned because the app's search is case-sensitive (and refused
//! beyond the scan limit), Okta's lifecycle as full PUTs, DELETE as
//! deactivation, the app's own uniqueness error, and import paging within
//! its `max_limit`.

use super::*;
use http::Method;

fn django_seed(app: &DjangoApp) -> Vec<String> {
    vec![
        app.insert("ada.lovelace", "Ada", "Lovelace"),
        app.insert("Alan.Turing", "Alan", "Turing"),
        app.insert("grace.hopper", "Grace", "Hopper"),
    ]
}

fn django_expected_auth() -> String {
    format!("Bearer {}", django_app::API_TOKEN)
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<usize> = s.split('-').map(str::len).collect();
    parts == [8, 4, 4, 4, 12] && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[tokio::test]
async fn django_lookups_are_scanned_because_the_app_search_is_case_sensitive() {
    let app = DjangoApp::new();
    let ids = django_seed(&app);
    let sc = start_django(&app, |t| t).await;

    let (status, list) = call(&sc, "GET", "/scim/v2/Users?startIndex=1&count=2", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["totalResults"], json!(3));
    assert_eq!(list["itemsPerPage"], json!(2));
    let first = &list["Resources"][0];
    assert_eq!(first["id"], ids[0].as_str());
    assert!(is_uuid(first["id"].as_str().unwrap()));
    assert_eq!(first["userName"], "ada.lovelace");
    assert_eq!(
        first["name"],
        json!({"givenName": "Ada", "familyName": "Lovelace"})
    );
    assert_eq!(first["active"], true);
    assert_eq!(
        first["emails"],
        json!([{"type": "work", "value": "ada.lovelace@example.com", "primary": true}])
    );
    assert_eq!(first["meta"]["created"], "2024-05-01T12:00:00Z");
    assert_eq!(
        list["Resources"][1]["meta"]["created"],
        "2024-05-01T12:00:01.5Z"
    );

    // The stored login is "Alan.Turing". Every form of the lookup finds it:
    // the sidecar reads the app's pages and compares case-insensitively,
    // without ever using the app's case-sensitive `?username=` filter.
    for path in lookup_paths("Alan.Turing", "alan.turing") {
        app.rec.clear();
        let (status, found) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {found}");
        assert_eq!(found["totalResults"], json!(1), "{path}: {found}");
        assert_eq!(found["Resources"][0]["id"], ids[1].as_str());
        assert_eq!(found["Resources"][0]["userName"], "Alan.Turing");
        let seen = app.rec.seen();
        assert_eq!(seen.len(), 1, "three users fit one app page");
        assert_eq!(seen[0].path, "/api/v1/accounts/");
        assert!(
            !seen[0].query.contains_key("username"),
            "{path}: pushed down"
        );
        assert_eq!(seen[0].query["offset"], "0");
        assert_eq!(seen[0].query["limit"], "50");
    }
    let (status, none) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22nobody%22",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(none["totalResults"], json!(0));
    assert_app_credentials(&app.rec, &django_expected_auth());
}

#[tokio::test]
async fn django_scan_beyond_the_limit_is_refused_not_missed() {
    let app = DjangoApp::new();
    for i in 0..8 {
        app.insert(&format!("user{i}"), "U", &format!("{i}"));
    }
    let sc = start_django(&app, |t| {
        edit(t, "filter_scan_limit = 10000", "filter_scan_limit = 5")
    })
    .await;
    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users?filter=userName%20eq%20%22user7%22",
        None,
    )
    .await;
    assert_scim_error(status, &err, StatusCode::BAD_REQUEST, Some("invalidFilter"));
    // The pre-create uniqueness lookup is the same scan: creates are
    // refused too rather than risking a duplicate — as a limit of the
    // sidecar (500), not as a bad filter the IdP never sent.
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("new.user")),
    )
    .await;
    assert_scim_error(status, &err, StatusCode::INTERNAL_SERVER_ERROR, None);
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("cannot verify that userName is unique")
    );
    assert_eq!(app.len(), 8);
    assert!(app.rec.seen().iter().all(|s| s.method == Method::GET));
}

#[tokio::test]
async fn django_okta_provisioning_lifecycle() {
    let app = DjangoApp::new();
    django_seed(&app);
    let sc = start_django(&app, |t| t).await;
    let login = "test.user@okta.local";

    app.rec.clear();
    let (status, created) =
        call(&sc, "POST", "/scim/v2/Users", Some(okta_create_body(login))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    assert!(is_uuid(&id), "{id}");
    assert_eq!(created["userName"], login);
    assert_eq!(created[ENTERPRISE_URN]["department"], "Engineering");
    assert_eq!(created["meta"]["created"], "2024-05-01T12:00:04.5Z");
    assert!(created.get("password").is_none());
    let posts: Vec<_> = app
        .rec
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::POST)
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        Some(json!({
            "username": login, "email": login, "given_name": "Test",
            "family_name": "User", "is_active": true, "department": "Engineering",
        }))
    );
    let stored = app.account(&id).expect("created in the app");
    assert_eq!(stored["username"], login);
    assert_eq!(stored["email"], login);
    assert_eq!(stored["given_name"], "Test");
    assert_eq!(stored["family_name"], "User");
    assert_eq!(stored["is_active"], true);
    assert_eq!(stored["department"], "Engineering");
    assert_eq!(
        stored["date_joined"],
        json!(django_app::EPOCH_START_MS + 4500)
    );

    // Duplicates in any case are caught by the pre-create lookup; the
    // differently cased one would have been accepted by the app itself.
    for dup in [login, "Test.USER@okta.local"] {
        app.rec.clear();
        let (status, err) = call(&sc, "POST", "/scim/v2/Users", Some(okta_create_body(dup))).await;
        assert_scim_error(status, &err, StatusCode::CONFLICT, Some("uniqueness"));
        assert!(
            app.rec.seen().iter().all(|s| s.method == Method::GET),
            "create reached the app"
        );
        assert_eq!(app.by_username_any_case(login).len(), 1);
        assert_eq!(app.len(), 4);
    }

    // GET → PUT: the app gets a full PUT with every mapped field.
    let (status, mut user) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    user["name"]["givenName"] = json!("Testy");
    user["active"] = json!(false);
    user["groups"] = json!([]);
    app.rec.clear();
    let (status, updated) = call(&sc, "PUT", &format!("/scim/v2/Users/{id}"), Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"]["givenName"], "Testy");
    assert_eq!(updated["active"], false);
    let full = |active: bool, given: &str| {
        json!({
            "username": login, "email": login, "given_name": given,
            "family_name": "User", "is_active": active, "department": "Engineering",
        })
    };
    let puts: Vec<_> = app
        .rec
        .seen()
        .into_iter()
        .filter(|s| s.method == Method::PUT)
        .collect();
    assert_eq!(puts.len(), 1);
    assert_eq!(puts[0].path, format!("/api/v1/accounts/{id}/"));
    assert_eq!(puts[0].body, Some(full(false, "Testy")));
    let stored = app.account(&id).unwrap();
    assert_eq!(stored["given_name"], "Testy");
    assert_eq!(stored["is_active"], false);

    // Clearing an attribute with PUT sends it as null.
    let (_, mut user) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    user.as_object_mut().unwrap().remove(ENTERPRISE_URN);
    let (status, cleared) = call(&sc, "PUT", &format!("/scim/v2/Users/{id}"), Some(user)).await;
    assert_eq!(status, StatusCode::OK, "{cleared}");
    assert!(cleared.get(ENTERPRISE_URN).is_none(), "{cleared}");
    assert!(app.account(&id).unwrap()["department"].is_null());

    // Path-less PATCH reactivation, deactivation, reactivation: full PUTs.
    for active in [true, false, true] {
        app.rec.clear();
        let path = format!("/scim/v2/Users/{id}");
        let (status, body) = call(&sc, "PATCH", &path, Some(okta_patch_active(active))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["active"], active);
        assert_eq!(app.account(&id).unwrap()["is_active"], active);
        let put = app
            .rec
            .seen()
            .into_iter()
            .find(|s| s.method == Method::PUT)
            .expect("a PUT");
        assert_eq!(put.body.unwrap()["is_active"], active);
    }

    // DELETE: the app has none; the account is deactivated and stays.
    app.rec.clear();
    let (status, body) = call(&sc, "DELETE", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let stored = app.account(&id).expect("still in the app");
    assert_eq!(stored["is_active"], false);
    assert_eq!(stored["username"], login);
    let methods: Vec<Method> = app.rec.seen().into_iter().map(|s| s.method).collect();
    assert_eq!(
        methods,
        [Method::GET, Method::PUT],
        "read, then one full PUT"
    );
    let (status, got) = call(&sc, "GET", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["active"], false);
    // A repeated DELETE converges without writing.
    app.rec.clear();
    let (status, _) = call(&sc, "DELETE", &format!("/scim/v2/Users/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.rec.seen().iter().all(|s| s.method == Method::GET));
    assert_eq!(app.len(), 4);

    let (status, err) = call(
        &sc,
        "GET",
        "/scim/v2/Users/00000000-0000-4000-8000-000000000000",
        None,
    )
    .await;
    assert_scim_error(status, &err, StatusCode::NOT_FOUND, None);
    assert_app_credentials(&app.rec, &django_expected_auth());
}

#[tokio::test]
async fn django_app_side_uniqueness_error_is_translated_to_409() {
    // Without `unique`, creates go straight to the app: its 400 for an
    // existing username becomes 409 uniqueness — but its check is
    // case-sensitive, which is why the shipped config keeps `unique`.
    let app = DjangoApp::new();
    django_seed(&app);
    let sc = start_django(&app, |t| edit(t, "unique = [\"userName\"]", "")).await;
    app.rec.clear();
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("grace.hopper")),
    )
    .await;
    assert_scim_error(status, &err, StatusCode::CONFLICT, Some("uniqueness"));
    assert_eq!(err["detail"], "a user with this username already exists");
    let seen = app.rec.seen();
    assert_eq!(seen[0].method, Method::POST, "no lookup before the create");
    assert!(
        seen[1..].iter().all(|s| s.method == Method::GET),
        "after the app's refusal only reads (looking for a half-made account)"
    );
    assert_eq!(app.len(), 3);
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Users",
        Some(okta_create_body("Grace.Hopper")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(app.by_username_any_case("grace.hopper").len(), 2);
    assert_app_credentials(&app.rec, &django_expected_auth());
}

#[tokio::test]
async fn django_import_fills_scim_pages_within_the_apps_limit() {
    let app = DjangoApp::new();
    let ids: Vec<String> = (0..120)
        .map(|i| app.insert(&format!("user{i:03}"), "U", &format!("{i}")))
        .collect();
    let sc = start_django(&app, |t| t).await;
    let mut seen_ids = Vec::new();
    let mut start_index = 1;
    while start_index <= 120 {
        app.rec.clear();
        let path = format!("/scim/v2/Users?startIndex={start_index}&count=100");
        let (status, page) = call(&sc, "GET", &path, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["totalResults"], json!(120));
        assert_eq!(page["startIndex"], json!(start_index));
        let items = page["Resources"].as_array().unwrap();
        assert_eq!(items.len(), if start_index == 1 { 100 } else { 20 });
        assert_eq!(page["itemsPerPage"], json!(items.len()));
        seen_ids.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
        let calls: Vec<(String, String)> = app
            .rec
            .seen()
            .iter()
            .map(|s| (s.query["offset"].clone(), s.query["limit"].clone()))
            .collect();
        let want: Vec<(String, String)> = if start_index == 1 {
            vec![("0".into(), "50".into()), ("50".into(), "50".into())]
        } else {
            vec![("100".into(), "50".into())]
        };
        assert_eq!(calls, want, "startIndex={start_index}");
        start_index += 100;
    }
    assert_eq!(seen_ids, ids, "every user once, in order");
    assert_app_credentials(&app.rec, &django_expected_auth());
}
