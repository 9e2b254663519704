//! The `/api/teams` endpoints: list with an exact name filter, create, get,
//! rename (and set the external id), delete, and membership (paged member list, idempotent PUT of a
//! member, DELETE of a member).

use http::{Method, StatusCode};
use hyper::body::Incoming;
use serde_json::{Map, Value, json};

use super::DemoApp;
use super::model::{parse_team_id, parse_user_id};
use super::reply::{self, ApiError, Page, Query, Reply};

/// Keys of a team body that the app owns.
const TEAM_READ_ONLY: &[&str] = &["id", "member_count", "created_at", "updated_at"];

/// Dispatches `/api/teams/…`; `rest` holds the path segments after `teams`.
pub(super) async fn route(
    app: &DemoApp,
    method: &Method,
    rest: &[&str],
    query: Option<&str>,
    body: Incoming,
) -> Result<Reply, ApiError> {
    match (rest, method) {
        ([], &Method::GET) => list(app, query),
        ([], &Method::POST) => create(app, body).await,
        ([], _) => Err(ApiError::method_not_allowed("GET, POST")),
        ([id], &Method::GET) => get(app, id),
        ([id], &Method::PATCH) => rename(app, id, body).await,
        ([id], &Method::DELETE) => delete(app, id),
        ([_], _) => Err(ApiError::method_not_allowed("GET, PATCH, DELETE")),
        ([id, "members"], &Method::GET) => members(app, id, query),
        ([_, "members"], _) => Err(ApiError::method_not_allowed("GET")),
        ([id, "members", user], &Method::PUT) => add_member(app, id, user),
        ([id, "members", user], &Method::DELETE) => remove_member(app, id, user),
        ([_, "members", _], _) => Err(ApiError::method_not_allowed("PUT, DELETE")),
        _ => Err(ApiError::not_found("no such endpoint")),
    }
}

/// 404 for a path id that matches no team (including malformed ids).
fn no_such_team(raw: &str) -> ApiError {
    ApiError::not_found(format!("team {raw} not found"))
}

/// `GET /api/teams?offset&limit&name` → `{"teams", "total"}`.
fn list(app: &DemoApp, query: Option<&str>) -> Result<Reply, ApiError> {
    let query = Query::parse(query);
    let page = Page::from_query(&query)?;
    let (teams, total) = app.store().list_teams(query.get("name"), page);
    Ok(reply::json(
        StatusCode::OK,
        &json!({"teams": teams, "total": total}),
    ))
}

/// A team body's writable fields: `name`, and `external_id` (`Some(None)`
/// when the body clears it with `null`).
struct TeamFields {
    name: Option<String>,
    external_id: Option<Option<String>>,
}

/// Validates a team body: only `name` (a non-empty string) and
/// `external_id` (a string or `null`) are writable.
fn team_fields(body: &Map<String, Value>, required: bool) -> Result<TeamFields, ApiError> {
    for key in body.keys() {
        if TEAM_READ_ONLY.contains(&key.as_str()) {
            return Err(ApiError::read_only(key));
        }
        if key != "name" && key != "external_id" {
            return Err(ApiError::unknown_key(key));
        }
    }
    let name = match body.get("name") {
        None if !required => None,
        Some(Value::String(name)) if !name.trim().is_empty() => Some(name.clone()),
        _ => return Err(ApiError::bad_request("`name` must be a non-empty string")),
    };
    let external_id = match body.get("external_id") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(e)) => Some(Some(e.clone())),
        Some(_) => return Err(ApiError::bad_request("`external_id` must be a string")),
    };
    Ok(TeamFields { name, external_id })
}

/// `POST /api/teams` → 201 full team.
async fn create(app: &DemoApp, body: Incoming) -> Result<Reply, ApiError> {
    let bytes = reply::read_body(body).await?;
    let fields = team_fields(&reply::parse_object(&bytes)?, true)?;
    let name = fields
        .name
        .ok_or_else(|| ApiError::bad_request("`name` is required"))?;
    let team = app
        .store()
        .create_team(name, fields.external_id.flatten())?;
    Ok(reply::json(StatusCode::CREATED, &team))
}

/// `GET /api/teams/{id}`.
fn get(app: &DemoApp, raw: &str) -> Result<Reply, ApiError> {
    let store = app.store();
    let team = parse_team_id(raw).and_then(|id| store.team(id));
    let team = team.ok_or_else(|| no_such_team(raw))?;
    Ok(reply::json(StatusCode::OK, &team.to_json()))
}

/// `PATCH /api/teams/{id}` `{"name", "external_id"}` → 200 full team.
async fn rename(app: &DemoApp, raw: &str, body: Incoming) -> Result<Reply, ApiError> {
    let id = parse_team_id(raw).ok_or_else(|| no_such_team(raw))?;
    let bytes = reply::read_body(body).await?;
    let parsed = reply::parse_object(&bytes);
    let mut store = app.store();
    if store.team(id).is_none() {
        return Err(no_such_team(raw));
    }
    let fields = team_fields(&parsed?, false)?;
    let team = store.update_team(id, fields.name, fields.external_id)?;
    Ok(reply::json(StatusCode::OK, &team))
}

/// `DELETE /api/teams/{id}` → 204.
fn delete(app: &DemoApp, raw: &str) -> Result<Reply, ApiError> {
    let id = parse_team_id(raw).ok_or_else(|| no_such_team(raw))?;
    app.store().delete_team(id)?;
    Ok(reply::no_content())
}

/// `GET /api/teams/{id}/members?offset&limit` → `{"members", "total"}`.
fn members(app: &DemoApp, raw: &str, query: Option<&str>) -> Result<Reply, ApiError> {
    let id = parse_team_id(raw).ok_or_else(|| no_such_team(raw))?;
    let page = Page::from_query(&Query::parse(query))?;
    let (members, total) = app.store().members(id, page)?;
    let body = json!({"members": members, "total": total});
    Ok(reply::json(StatusCode::OK, &body))
}

/// `PUT /api/teams/{id}/members/{user_id}` → 204 (idempotent).
fn add_member(app: &DemoApp, raw: &str, user: &str) -> Result<Reply, ApiError> {
    let id = parse_team_id(raw).ok_or_else(|| no_such_team(raw))?;
    app.store().add_member(id, parse_user_id(user))?;
    Ok(reply::no_content())
}

/// `DELETE /api/teams/{id}/members/{user_id}` → 204.
fn remove_member(app: &DemoApp, raw: &str, user: &str) -> Result<Reply, ApiError> {
    let id = parse_team_id(raw).ok_or_else(|| no_such_team(raw))?;
    app.store().remove_member(id, parse_user_id(user))?;
    Ok(reply::no_content())
}
