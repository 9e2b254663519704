//! `GET /Users/{id}` and `GET /Groups/{id}` (RFC 7644 §3.4.1): one
//! resource with the attributes asked for, a group's members read when
//! they are shown, and `304` when `If-None-Match` names its version. With
//! no projection, of a mapping the direct writer serves, the resource is
//! written straight from the app's record ([`Direct`]).

use super::ctx::Ctx;
use super::list::direct_writer;
use super::members;
use super::read::fetch;
use super::reply::{etag, etag_matches, resource_response, set_etag};
use crate::body::{Body, empty};
use crate::error::ScimError;
use crate::host::record::read_record;
use crate::mapping::Direct;
use crate::protocol::query;
use crate::scim::response::json_bytes_response;
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
    if let Some(direct) = direct_writer(ctx, &q.projection) {
        return get_direct(ctx, &direct, id, headers).await;
    }
    let mut resource = fetch(ctx, id).await?;
    members::attach(ctx, &mut resource, &q.projection).await?;
    if let Some(resp) = not_modified(headers, etag(&resource).as_deref()) {
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

/// [`get`] written straight from the app's record (the same bytes and
/// entity tag as through the SCIM value): a mapping the direct writer
/// serves, with nothing to project, hide or attach.
async fn get_direct(
    ctx: &Ctx<'_>,
    direct: &Direct<'_>,
    id: &str,
    headers: &HeaderMap,
) -> Result<Response<Body>, ScimError> {
    let host = read_record(&ctx.host, id).await?;
    let mut text = Vec::with_capacity(512);
    let tag = direct.write(&host, |id| ctx.location_of(id), &mut text)?;
    if let Some(resp) = not_modified(headers, tag.as_deref()) {
        return Ok(resp);
    }
    let mut resp = json_bytes_response(StatusCode::OK, text);
    set_etag(&mut resp, tag);
    Ok(resp)
}

/// `304 Not Modified` with the resource's entity tag, when
/// `If-None-Match` names it (RFC 9110 §13.1.2, §15.4.5).
fn not_modified(headers: &HeaderMap, tag: Option<&str>) -> Option<Response<Body>> {
    let (tag, inm) = (tag?, headers.get(IF_NONE_MATCH)?);
    if !inm.to_str().is_ok_and(|v| etag_matches(v, tag)) {
        return None;
    }
    let mut resp = Response::new(empty());
    *resp.status_mut() = StatusCode::NOT_MODIFIED;
    set_etag(&mut resp, Some(tag.to_owned()));
    Some(resp)
}
