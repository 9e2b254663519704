//! SCIM Groups over the bundled app's teams API: Okta's group push (lookup
//! by displayName, create, full-member-list PUTs, rename, PATCH in the OIN
//! shapes, delete) and Entra's group provisioning (create without members,
//! `excludedAttributes=members`, Add/Remove value arrays, Replace rename,
//! membership checks by filter), with the app's state checked after every
//! step and the app calls counted for the O(k) guarantee.

use crate::support;

use futures_util::future::join_all;
use http::StatusCode;
use serde_json::{Value, json};
use support::faults::Fault;
use support::*;

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn ops(ops: Value) -> Value {
    json!({"schemas": [PATCH_URN], "Operations": ops})
}

async fn user_id(sc: &Sidecar, login: &str) -> String {
    let path = format!("/scim/v2/Users?filter=userName%20eq%20%22{login}%22");
    let (status, body) = call(sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["Resources"][0]["id"].as_str().unwrap().to_owned()
}

fn members_of(app: &demo_app::DemoApp, team: &str) -> Vec<String> {
    let mut m = app.team_members(team).expect("team exists");
    m.sort();
    m
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn okta_group_push_with_full_member_lists() {
    let (sc, app) = start_example().await;
    let ada = user_id(&sc, "ada.lovelace@example.com").await;
    let alan = user_id(&sc, "alan.turing@example.com").await;
    let grace = user_id(&sc, "grace.hopper@example.com").await;

    // 1. Lookup by name: not there yet.
    let lookup = "/scim/v2/Groups?filter=displayName%20eq%20%22Sales%22&startIndex=1&count=100";
    let (status, found) = call(&sc, "GET", lookup, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["totalResults"], 0);

    // 2. Create, empty.
    let (status, created) = call(
        &sc,
        "POST",
        "/scim/v2/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Sales", "members": []})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(app.team(&id).unwrap()["name"], "Sales");
    assert_eq!(created["members"], json!([]));
    let (_, found) = call(&sc, "GET", lookup, None).await;
    assert_eq!(found["Resources"][0]["id"], id.as_str());

    // 3. PUT with the whole member list (Okta AIW).
    let path = format!("/scim/v2/Groups/{id}");
    let put = |name: &str, members: &[&str]| {
        let m: Vec<Value> = members
            .iter()
            .map(|u| json!({"value": u, "display": "x"}))
            .collect();
        json!({"schemas": [GROUP], "id": id, "displayName": name, "members": m})
    };
    let (status, body) = call(&sc, "PUT", &path, Some(put("Sales", &[&ada, &alan]))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        members_of(&app, &id),
        sorted(vec![ada.clone(), alan.clone()])
    );
    assert_eq!(body["members"].as_array().unwrap().len(), 2);

    // 4. Rename and swap a member in one PUT.
    let (status, body) = call(&sc, "PUT", &path, Some(put("Sales EMEA", &[&alan, &grace]))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["displayName"], "Sales EMEA");
    assert_eq!(app.team(&id).unwrap()["name"], "Sales EMEA");
    assert_eq!(
        members_of(&app, &id),
        sorted(vec![alan.clone(), grace.clone()])
    );

    // 5. GET shows the members with their login as display.
    let (_, got) = call(&sc, "GET", &path, None).await;
    let displays: Vec<&str> = got["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["display"].as_str().unwrap())
        .collect();
    assert!(displays.contains(&"grace.hopper@example.com"), "{got}");

    // 6. An empty push.
    let (status, _) = call(&sc, "PUT", &path, Some(put("Sales EMEA", &[]))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(members_of(&app, &id).is_empty());

    // 7. Delete the group in the target app.
    let (status, _) = call(&sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.team(&id).is_none());
    let (status, _) = call(&sc, "GET", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn okta_oin_patches_add_remove_replace_and_rename() {
    let (sc, app) = start_example().await;
    let ada = user_id(&sc, "ada.lovelace@example.com").await;
    let grace = user_id(&sc, "grace.hopper@example.com").await;
    let (_, eng) = call(
        &sc,
        "GET",
        "/scim/v2/Groups?filter=displayName%20eq%20%22Engineering%22",
        None,
    )
    .await;
    let id = eng["Resources"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Groups/{id}");
    let before = members_of(&app, &id);
    assert!(before.contains(&ada));

    // Rename re-sent with every membership change, add and remove at once.
    let patch = ops(json!([
        {"op": "replace", "value": {"id": id, "displayName": "Engineering"}},
        {"op": "add", "path": "members", "value": [{"value": grace, "display": "grace.hopper@example.com"}]},
        {"op": "remove", "path": format!("members[value eq \"{ada}\"]")}
    ]));
    let (status, body) = call(&sc, "PATCH", &path, Some(patch)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let now = members_of(&app, &id);
    assert!(now.contains(&grace) && !now.contains(&ada), "{now:?}");

    // Adding a member twice and removing a non-member are not errors.
    let again = ops(json!([
        {"op": "add", "path": "members", "value": [{"value": grace}]},
        {"op": "remove", "path": format!("members[value eq \"{ada}\"]")}
    ]));
    let (status, body) = call(&sc, "PATCH", &path, Some(again)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(members_of(&app, &id), now);

    // Full push as a replace; [] empties the group.
    let (status, _) = call(
        &sc,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "replace", "path": "members", "value": [{"value": ada}]}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(members_of(&app, &id), vec![ada.clone()]);
    let (status, _) = call(
        &sc,
        "PATCH",
        &path,
        Some(ops(
            json!([{"op": "replace", "path": "members", "value": []}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(members_of(&app, &id).is_empty());

    // With attributes asked for, the answer is the group.
    let (status, body) = call(
        &sc,
        "PATCH",
        &format!("{path}?attributes=displayName"),
        Some(ops(
            json!([{"op": "replace", "path": "displayName", "value": "Platform"}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["displayName"], "Platform");
    assert_eq!(app.team(&id).unwrap()["name"], "Platform");
}

#[tokio::test]
async fn entra_group_provisioning() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let ada = user_id(&sc, "ada.lovelace@example.com").await;
    let alan = user_id(&sc, "alan.turing@example.com").await;
    let lookup =
        "/scim/v2/Groups?excludedAttributes=members&filter=displayName%20eq%20%22Finance%22";
    let (_, found) = call(&sc, "GET", lookup, None).await;
    assert_eq!(found["totalResults"], 0);

    let body = json!({
        "schemas": [GROUP, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "Finance",
        "meta": {"resourceType": "Group"}
    });
    let (status, created) = call(&sc, "POST", "/scim/v2/Groups", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["members"], json!([]));
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/scim/v2/Groups/{id}");

    proxy.recorder.clear();
    let (status, got) = call(
        &sc,
        "GET",
        &format!("{path}?excludedAttributes=members"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(got.get("members").is_none());
    assert!(
        proxy.seen().iter().all(|s| !s.path.ends_with("/members")),
        "members were listed"
    );

    let add = ops(
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": ada}, {"$ref": null, "value": alan}]}]),
    );
    let (status, _) = call(&sc, "PATCH", &path, Some(add)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        members_of(&app, &id),
        sorted(vec![ada.clone(), alan.clone()])
    );

    // Membership checks phrased as filters.
    let check = format!(
        "/scim/v2/Groups?excludedAttributes=members&filter=id%20eq%20%22{id}%22%20and%20members.value%20eq%20%22{ada}%22"
    );
    let (_, hit) = call(&sc, "GET", &check, None).await;
    assert_eq!(hit["totalResults"], 1);
    assert!(hit["Resources"][0].get("members").is_none());

    let remove =
        ops(json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": ada}]}]));
    let (status, _) = call(&sc, "PATCH", &path, Some(remove)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(members_of(&app, &id), vec![alan.clone()]);
    let (_, miss) = call(&sc, "GET", &check, None).await;
    assert_eq!(miss["totalResults"], 0);

    let rename = ops(json!([{"op": "Replace", "path": "displayName", "value": "Finance & Ops"}]));
    let (status, _) = call(&sc, "PATCH", &path, Some(rename)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.team(&id).unwrap()["name"], "Finance & Ops");

    let (status, _) = call(&sc, "DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(app.team(&id).is_none());
}

#[tokio::test]
async fn a_patch_costs_calls_in_the_members_changed_not_in_the_group() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let team = app.seed_team("Large", 300);
    let members = members_of(&app, &team);
    let grace = user_id(&sc, "grace.hopper@example.com").await;
    let alan = user_id(&sc, "alan.turing@example.com").await;
    let ada = user_id(&sc, "ada.lovelace@example.com").await;
    proxy.recorder.clear();
    let patch = ops(json!([
        {"op": "add", "path": "members", "value": [{"value": grace}, {"value": alan}, {"value": ada}]},
        {"op": "remove", "path": "members", "value": [{"value": members[0]}, {"value": members[1]}]}
    ]));
    let entra = sc.with_token(EXAMPLE_TOKEN);
    let (status, body) = call(
        &entra,
        "PATCH",
        &format!("/scim/v2/Groups/{team}"),
        Some(patch),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let calls = proxy.recorder.calls();
    let writes = calls
        .iter()
        .filter(|c| c.starts_with("PUT ") || c.starts_with("DELETE "))
        .count();
    assert_eq!(writes, 5, "{calls:?}");
    assert!(
        !calls.iter().any(|c| c.ends_with("/members")),
        "the group was listed: {calls:?}"
    );
    assert_eq!(
        calls.len(),
        1 + 3 + 5,
        "read the group, check the 3 new users, 5 writes: {calls:?}"
    );
    assert_eq!(members_of(&app, &team).len(), 301);
}

#[tokio::test]
async fn concurrent_membership_patches_lose_nothing() {
    let (sc, app) = start_example().await;
    let team = app.seed_team("Crowd", 0);
    let users: Vec<String> = {
        let other = app.seed_team("Pool", 12);
        members_of(&app, &other)
    };
    let path = format!("/scim/v2/Groups/{team}");
    let answers = join_all(users.iter().map(|u| {
        let body = ops(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
        call(&sc, "PATCH", &path, Some(body))
    }))
    .await;
    assert!(answers.iter().all(|(s, _)| *s == StatusCode::NO_CONTENT));
    assert_eq!(members_of(&app, &team), sorted(users));
}

#[tokio::test]
async fn unknown_members_and_taken_names_are_refused_before_any_write() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let (_, eng) = call(
        &sc,
        "GET",
        "/scim/v2/Groups?filter=displayName%20eq%20%22Engineering%22",
        None,
    )
    .await;
    let id = eng["Resources"][0]["id"].as_str().unwrap().to_owned();
    let grace = user_id(&sc, "grace.hopper@example.com").await;
    let before = members_of(&app, &id);
    proxy.recorder.clear();
    let patch = ops(
        json!([{"op": "add", "path": "members", "value": [{"value": grace}, {"value": "999999"}]}]),
    );
    let (status, err) = call(&sc, "PATCH", &format!("/scim/v2/Groups/{id}"), Some(patch)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "invalidValue");
    assert!(err["detail"].as_str().unwrap().contains("999999"));
    assert_eq!(
        members_of(&app, &id),
        before,
        "grace was added before the check"
    );
    assert!(proxy.seen().iter().all(|s| s.method == "GET"));

    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "engineering"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["scimType"], "uniqueness");
}

#[tokio::test]
async fn a_membership_patch_that_fails_midway_converges_on_replay() {
    let (sc, app, proxy) = start_example_faulty(|t| t).await;
    let team = app.seed_team("Halfway", 0);
    let pool = app.seed_team("Pool2", 3);
    let users = members_of(&app, &pool);
    proxy.fail_after(
        "PUT",
        &format!("/api/teams/{team}/members/"),
        1,
        1,
        Fault::status(500),
    );
    let body = ops(
        json!([{"op": "add", "path": "members", "value": users.iter().map(|u| json!({"value": u})).collect::<Vec<_>>()}]),
    );
    let path = format!("/scim/v2/Groups/{team}");
    let (status, err) = call(&sc, "PATCH", &path, Some(body.clone())).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{err}");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("applied: add members"),
        "{err}"
    );
    assert_eq!(members_of(&app, &team).len(), 1);
    let (status, _) = call(&sc, "PATCH", &path, Some(body)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(members_of(&app, &team), sorted(users));
}

#[tokio::test]
async fn a_group_too_large_to_list_says_so() {
    let (sc, app) = start_example_with(|t| {
        t.replace("display = \"$.login\"", "display = \"$.login\"\nmax = 50")
    })
    .await;
    let team = app.seed_team("Big", 60);
    let (status, err) = call(&sc, "GET", &format!("/scim/v2/Groups/{team}"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["scimType"], "tooMany");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("excludedAttributes=members")
    );
    let (status, got) = call(
        &sc,
        "GET",
        &format!("/scim/v2/Groups/{team}?excludedAttributes=members"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{got}");
}

/// A group the mapping protects (the app's own administrators, say) is
/// invisible to the IdP and out of its reach: not listed or counted, 404 on
/// read, PATCH, PUT and DELETE, and a create of its name is refused rather
/// than adopting it. The app's team is untouched throughout.
#[tokio::test]
async fn a_protected_group_is_out_of_the_idps_reach() {
    let (sc, app) = start_example_with(|t| {
        t.replacen(
            "[groups]",
            "[groups]\nprotect = ['displayName eq \"Administrators\"']",
            1,
        )
    })
    .await;
    let admins = app.seed_team("Administrators", 2);
    let members = members_of(&app, &admins);
    let team = app.team(&admins);

    let (status, all) = call(&sc, "GET", "/scim/v2/Groups?count=100", None).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let names: Vec<&str> = all["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["displayName"].as_str())
        .collect();
    assert!(
        names.contains(&"Engineering") && !names.contains(&"Administrators"),
        "{names:?}"
    );
    assert_eq!(
        all["totalResults"],
        names.len(),
        "a protected group is not counted"
    );
    let lookup = "/scim/v2/Groups?filter=displayName%20eq%20%22Administrators%22";
    let (_, found) = call(&sc, "GET", lookup, None).await;
    assert_eq!(found["totalResults"], 0, "{found}");

    let path = format!("/scim/v2/Groups/{admins}");
    let grace = user_id(&sc, "grace.hopper@example.com").await;
    let add = ops(json!([{"op": "add", "path": "members", "value": [{"value": grace}]}]));
    let rename = json!({"schemas": [GROUP], "displayName": "Taken Over", "members": []});
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(add)),
        ("PUT", Some(rename)),
        ("DELETE", None),
    ] {
        let (status, err) = call(&sc, method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {err}");
    }
    let (status, err) = call(
        &sc,
        "POST",
        "/scim/v2/Groups",
        Some(json!({"schemas": [GROUP], "displayName": "Administrators", "members": []})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{err}");
    assert_eq!(err["scimType"], "uniqueness");
    assert_eq!(app.team(&admins), team, "the protected team changed");
    assert_eq!(members_of(&app, &admins), members);
}
