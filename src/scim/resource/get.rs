//! `GET /Users/{id}` and `GET /Groups/{id}` (RFC 7644 §3.4.1): one
//! resource with the attributes asked for, a group's members read when
//! they are shown, and `304` when `If-None-Match` names its version.

use super::ctx::Ctx;
use super::members;
use super::read::fetch;
use super::reply::{etag, etag_matches, resource_response, set_etag};
use crate::body::{Body, empty};
use crate::error::ScimError;
use crate::protocol::query;
use http::header::IF_NONE_MATCH;
use http::{HeaderMap, Response, StatusCode};

/// `GET /Users/{id}` (RFC 7644 §3.4.1), with `If-None-Match` → 304.
pub(super) async fn get(
    ctx: &Ctx<'_>,
    id: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response<Body>, ScimError> {
    let q = query::from_query(query, 1, &Default::default())?;
    let mut resource = fetch(ctx, id).await?;
    members::attach(ctx, &mut resource, &q.projection).await?;
    if let (Some(tag), Some(inm)) = (etag(&resource), headers.get(IF_NONE_MATCH))
        && inm.to_str().is_ok_and(|v| etag_matches(v, &tag))
    {
        let mut resp = Response::new(empty());
        *resp.status_mut() = StatusCode::NOT_MODIFIED;
        set_etag(&mut resp, Some(tag));
        return Ok(resp);
    }
    Ok(resource_response(
        ctx,
        StatusCode::OK,
        resource,
        &q.projection,
        false,
    ))
}
