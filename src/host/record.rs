//! One record by id: the mapping's `get`, or — for an app without a
//! single-record GET — its list filtered by the `'id eq'` search rule.
//! The filtered list must settle the question: exactly one record whose
//! id is the one asked for is the record, none is 404, and two, or an
//! answer too long to be a filtered one, is a 502 (the app's filter is
//! not what the mapping says, and a guess could write to the wrong
//! account).

use super::paging::walk_list;
use super::{HostCtx, Preview, bad_answer};
use crate::error::ScimError;
use crate::mapping::{OpKind, Vars};
use http::StatusCode;
use serde_json::Value;

/// Most records a list filtered by id may answer (the app may match
/// loosely, by prefix say; the exact id is picked from them).
const BY_ID_MAX: u64 = 20;

/// The app's record with this id (the host JSON of the record).
pub async fn read_record(host: &HostCtx<'_>, id: &str) -> Result<Value, ScimError> {
    let m = host.mapping;
    let Some(rule) = m.get_via_list() else {
        let vars = Vars {
            id: Some(id),
            ..host.vars()
        };
        let reply = host.read(OpKind::Get, &vars).await?;
        let op = m
            .op(OpKind::Get)
            .ok_or_else(|| ScimError::internal("no get operation"))?;
        let body = reply.body.ok_or_else(|| bad_answer("get"))?;
        return match op.extract_item(&body) {
            Some(item) if std::ptr::eq(item, &body) => Ok(body),
            Some(item) => Ok(item.clone()),
            None => Err(bad_answer("get")),
        };
    };
    let (items, complete) =
        walk_list(host, OpKind::List, None, &[], Some((rule, id)), BY_ID_MAX).await?;
    if !complete {
        return Err(unfiltered(format!(
            "more than {BY_ID_MAX} records for one id"
        )));
    }
    let mut found = Vec::new();
    for item in items {
        if m.to_scim(&item)?.get("id").and_then(Value::as_str) == Some(id) {
            found.push(item);
        }
    }
    match found.len() {
        0 => Err(ScimError::not_found("resource not found")),
        1 => Ok(found.remove(0)),
        n => Err(unfiltered(format!("{n} records with the same id"))),
    }
}

/// The call [`read_record`] makes, without making it, and what it costs
/// when it is not a plain `get`.
pub fn preview_read(
    host: &HostCtx<'_>,
    id: &str,
) -> Result<(Preview, Option<&'static str>), ScimError> {
    let m = host.mapping;
    let Some(rule) = m.get_via_list() else {
        let vars = Vars {
            id: Some(id),
            ..host.vars()
        };
        return Ok((host.preview(OpKind::Get, &vars, None)?, None));
    };
    let size = m.max_page_size().unwrap_or(BY_ID_MAX);
    let vars = Vars {
        offset: Some(match m.paging() {
            crate::mapping::Paging::Offset { base } => base,
            _ => 0,
        }),
        limit: Some(size),
        page: Some(match m.paging() {
            crate::mapping::Paging::Page { base } => base,
            _ => 1,
        }),
        value: Some(id),
        value_of: Some(rule.attr()),
        search: Some(rule.query()),
        ..host.vars()
    };
    let note = "the app has no single-record GET: every read of one record (and the read-back after each write) is this list call filtered by id; exactly one record must carry the id";
    Ok((host.preview(OpKind::List, &vars, None)?, Some(note)))
}

/// The app's answer to a list filtered by id does not single one out.
fn unfiltered(what: String) -> ScimError {
    tracing::warn!(
        what,
        "the app's list filtered by id does not single out a record"
    );
    ScimError::upstream(
        StatusCode::BAD_GATEWAY,
        format!(
            "the app's list filtered by id answered {what}: its filter is not what the mapping's `'id eq'` rule says"
        ),
    )
}
