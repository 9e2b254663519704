//! The `/api/users` endpoints: list with filters and paging, create (201 with
//! only the id and a `Location`), get, merge-patch, delete, and the
//! suspend/unsuspend actions with their 409s. PATCH and DELETE honour
//! `If-Match: <version>` (optimistic locking: 412 `stale` when the user's
//! `version` moved on).

use http::header::{HeaderValue, LOCATION};
use http::{Method, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use super::DemoApp;
use super::model::{State, UserFields, parse_user_id};
use super::reply::{self, ApiError, Page, Query, Reply};
use super::store::{UserFilter, user_not_found};

/// Dispatches `/api/users/…`; `rest` holds the path segments after `users`.
pub(super) async fn route(
    app: &DemoApp,
    method: &Method,
    rest: &[&str],
    query: Option<&str>,
    if_match: Option<&str>,
    body: Incoming,
) -> Result<Reply, ApiError> {
    match (rest, method) {
        ([], &Method::GET) => list(app, query),
        ([], &Method::POST) => create(app, body).await,
        ([], _) => Err(ApiError::method_not_allowed("GET, POST")),
        ([id], &Method::GET) => get(app, id),
        ([id], &Method::PATCH) => patch(app, id, if_match, body).await,
        ([id], &Method::DELETE) => delete(app, id, if_match),
        ([_], _) => Err(ApiError::method_not_allowed("GET, PATCH, DELETE")),
        ([id, "suspend"], &Method::POST) => set_state(app, id, State::Suspended),
        ([id, "unsuspend"], &Method::POST) => set_state(app, id, State::Active),
        ([_, "suspend" | "unsuspend"], _) => Err(ApiError::method_not_allowed("POST")),
        _ => Err(ApiError::not_found("no such endpoint")),
    }
}

/// 404 for a path id that matches no user (including malformed ids).
fn no_such_user(raw: &str) -> ApiError {
    ApiError::not_found(format!("user {raw} not found"))
}

/// `GET /api/users?offset&limit&login&email&external_id`.
fn list(app: &DemoApp, query: Option<&str>) -> Result<Reply, ApiError> {
    let query = Query::parse(query);
    let page = Page::from_query(&query)?;
    let filter = UserFilter {
        login: query.get("login"),
        email: query.get("email"),
        external_id: query.get("external_id"),
    };
    let (items, total) = app.store().list_users(&filter, page);
    let body = json!({"items": items, "total": total, "offset": page.offset, "limit": page.limit});
    Ok(reply::json(StatusCode::OK, &body))
}

/// `POST /api/users` → 201 `{"id"}` with `Location`.
async fn create(app: &DemoApp, body: Incoming) -> Result<Reply, ApiError> {
    let bytes = reply::read_body(body).await?;
    let fields = UserFields::from_object(reply::parse_object(&bytes)?)?;
    let id = app.store().create_user(fields)?;
    let mut response = reply::json(StatusCode::CREATED, &json!({"id": id.to_string()}));
    if let Ok(location) = HeaderValue::from_str(&format!("/api/users/{id}")) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

/// `GET /api/users/{id}`.
fn get(app: &DemoApp, raw: &str) -> Result<Reply, ApiError> {
    let store = app.store();
    let user = parse_user_id(raw).and_then(|id| store.user(id));
    let user = user.ok_or_else(|| no_such_user(raw))?;
    Ok(reply::json(StatusCode::OK, &user.to_json()))
}

/// 412 unless `If-Match` (when sent) names the user's current version;
/// quotes and a weak `W/` prefix are accepted.
fn check_version(current: u64, if_match: Option<&str>) -> Result<(), ApiError> {
    let Some(tag) = if_match else { return Ok(()) };
    let tag = tag.trim().trim_start_matches("W/").trim_matches('"');
    if tag == "*" || tag == current.to_string() {
        Ok(())
    } else {
        Err(ApiError::stale())
    }
}

/// `PATCH /api/users/{id}` with a JSON merge-patch body → 200 full user.
async fn patch(
    app: &DemoApp,
    raw: &str,
    if_match: Option<&str>,
    body: Incoming,
) -> Result<Reply, ApiError> {
    let id = parse_user_id(raw).ok_or_else(|| no_such_user(raw))?;
    let bytes = reply::read_body(body).await?;
    let patch = reply::parse_object(&bytes);
    let mut store = app.store();
    let current = store.user(id).ok_or_else(|| user_not_found(id))?;
    check_version(current.version, if_match)?;
    let fields = current.fields.patched(&patch?)?;
    let user = store.update_user(id, fields)?;
    Ok(reply::json(StatusCode::OK, &user))
}

/// `DELETE /api/users/{id}` → 204.
fn delete(app: &DemoApp, raw: &str, if_match: Option<&str>) -> Result<Reply, ApiError> {
    let id = parse_user_id(raw).ok_or_else(|| no_such_user(raw))?;
    let mut store = app.store();
    if let Some(current) = store.user(id) {
        check_version(current.version, if_match)?;
    }
    store.delete_user(id)?;
    Ok(reply::no_content())
}

/// `POST /api/users/{id}/suspend` and `/unsuspend` → 200 full user.
fn set_state(app: &DemoApp, raw: &str, state: State) -> Result<Reply, ApiError> {
    let id = parse_user_id(raw).ok_or_else(|| no_such_user(raw))?;
    let conflict = match state {
        State::Suspended => "already_suspended",
        State::Active => "already_active",
    };
    let user = app.store().set_state(id, state, conflict)?;
    Ok(reply::json(StatusCode::OK, &user))
}
