//! `explain`: what a SCIM request would do to the app, without doing it.
//! A write is parsed and checked exactly as the server would, the reads it
//! needs are made (unless offline) and its write plan is printed call by
//! call — method, URL, the operation's headers, body, and why — but no
//! write call is made. A read (`GET`) is answered from the app's real
//! answers, or, offline, shown as the call it would make. A request the
//! server would refuse gets the same SCIM error.

use http::HeaderMap;
use serde_json::{Value, json};
use std::fmt::Write as _;

use super::checks;
use super::create::{CreatePlan, Decision, plan_create};
use super::ctx::Ctx;
use super::list;
use super::members::{self, MemberEdit};
use super::read::{fetch, fetch_current};
use super::update::{Change, Planned, plan_write};
use crate::error::{ScimError, ScimType};
use crate::host::exec::{self, Known};
use crate::host::paging::WALK_PAGE;
use crate::mapping::{OpKind, PushdownRule, Vars};
use crate::plan::{self, Condition, Repeat, WritePlan};
use crate::protocol::query;
use crate::route::Action;
use crate::scim::input::normalise_resource;

/// The id shown for a resource a plan creates.
const NEW_ID: &str = "NEW-ID";

/// Explains `action` on the resource `id` (for item actions) with `body`.
pub async fn explain(
    ctx: &Ctx<'_>,
    action: Action,
    id: &str,
    query: Option<&str>,
    body: Option<Value>,
    offline: bool,
) -> Result<String, ScimError> {
    if ctx.mapping().roles().is_some() {
        return Err(ScimError::not_implemented(
            "explain covers resources with operations of their own; groups stored as roles grant and take roles one user at a time",
        ));
    }
    let mut out = String::new();
    let body = || body.clone().ok_or_else(missing_body);
    match action {
        Action::Get | Action::List | Action::Search => {
            read(ctx, action, id, query, body, offline, &mut out).await?
        }
        Action::Create => create(ctx, body()?, offline, &mut out).await?,
        Action::Replace | Action::Patch => {
            update(
                ctx,
                action == Action::Replace,
                id,
                body()?,
                offline,
                &mut out,
            )
            .await?
        }
        Action::Delete => delete(ctx, id, offline, &mut out).await?,
        _ => return Err(ScimError::not_found("nothing to explain for this endpoint")),
    }
    calls_made(ctx, &mut out);
    out.push_str("No write call was made.\n");
    Ok(out)
}

/// The app calls the explanation made (reads), as sent, with their status.
fn calls_made(ctx: &Ctx<'_>, out: &mut String) {
    let Some(calls) = ctx
        .host
        .calls
        .and_then(|c| c.lock().ok().map(|c| c.clone()))
    else {
        return;
    };
    if calls.is_empty() {
        return;
    }
    out.push_str("App calls made:\n");
    for c in calls {
        let _ = writeln!(out, "  {c}");
    }
}

/// The call that reads one record, and its cost when the app has no
/// single-record GET (a list filtered by id).
fn read_lines(ctx: &Ctx<'_>, id: &str) -> Result<String, ScimError> {
    let (p, note) = crate::host::record::preview_read(&ctx.host, id)?;
    let mut lines = format!("  {} {}\n", p.method, p.url);
    if let Some(note) = note {
        let _ = writeln!(lines, "  ({note})");
    }
    Ok(lines)
}

fn missing_body() -> ScimError {
    ScimError::bad_request(
        ScimType::InvalidSyntax,
        "this request needs a body (--body FILE)",
    )
}

async fn read(
    ctx: &Ctx<'_>,
    action: Action,
    id: &str,
    q: Option<&str>,
    body: impl Fn() -> Result<Value, ScimError>,
    offline: bool,
    out: &mut String,
) -> Result<(), ScimError> {
    if offline {
        return offline_read(ctx, action, id, q, body, out);
    }
    let result = read_value(ctx, action, id, q, body).await?;
    let pretty = serde_json::to_string_pretty(&result).unwrap_or_default();
    let _ = writeln!(
        out,
        "The SCIM answer, mapped from the app's answers:\n{pretty}"
    );
    Ok(())
}

/// The first call a read would make, as the server would make it: the
/// query parsed and checked (a bad filter is the server's 400), a filter
/// pushed down where a search rule covers it, the page cut as the client
/// asked within the app's page size.
fn offline_read(
    ctx: &Ctx<'_>,
    action: Action,
    id: &str,
    q: Option<&str>,
    body: impl Fn() -> Result<Value, ScimError>,
    out: &mut String,
) -> Result<(), ScimError> {
    let max = ctx.config().scim.max_page_size as u64;
    let query = match action {
        Action::Get => {
            let lines = read_lines(ctx, id)?;
            let _ = write!(out, "Reads (not made, --offline):\n{lines}");
            return Ok(());
        }
        Action::List => query::from_query(q, max, &Default::default())?,
        _ => query::from_search_body(&body()?, max, &Default::default())?,
    };
    if let Some(f) = &query.filter {
        super::filter_check::check(ctx.mapping(), f)?;
    }
    let count = query.count.unwrap_or(100.min(max));
    let m = ctx.mapping();
    let page_size = m
        .max_page_size_of(OpKind::List)
        .map_or(count, |cap| count.min(cap));
    let first = m.plan_pages(query.start_index, page_size);
    let page = first.first();
    let mut vars = Vars {
        offset: page.and_then(|p| p.offset),
        limit: Some(page_size),
        page: page.and_then(|p| p.page),
        ..ctx.host.vars()
    };
    let filter = query.filter.as_ref();
    let (how, kind) = match (
        filter.and_then(list::id_term),
        filter.and_then(|f| list::pushdown(ctx, f)),
    ) {
        (Some(id), _) => {
            let lines = read_lines(ctx, &id)?;
            let _ = write!(
                out,
                "Reads (not made, --offline): the one resource the filter names\n{lines}"
            );
            return Ok(());
        }
        (None, Some((rule, value))) => {
            let preview = pushed_down(ctx, rule, &value)?;
            let _ = writeln!(
                out,
                "Reads (not made, --offline): the filter's `{} eq` term pushed down to the app's search, every answer re-checked with the whole filter\n  {preview}",
                rule.attr()
            );
            return Ok(());
        }
        (None, None) if filter.is_some() || query.sort_by.is_some() || m.protects() => {
            let size = m.max_page_size_of(OpKind::List).unwrap_or(WALK_PAGE).max(1);
            let first = m.plan_pages(1, size);
            vars.offset = first.first().and_then(|p| p.offset);
            vars.page = first.first().and_then(|p| p.page);
            vars.limit = Some(size);
            (
                format!(
                    "a scan of the app's list from its start, up to [scim] filter_scan_limit ({}) records, evaluated by the sidecar; its first call",
                    ctx.config().scim.filter_scan_limit
                ),
                OpKind::List,
            )
        }
        (None, None) => ("one SCIM page; its first call".to_owned(), OpKind::List),
    };
    let p = ctx.host.preview(kind, &vars, None)?;
    let _ = writeln!(
        out,
        "Reads (not made, --offline): {how}\n  {} {}",
        p.method, p.url
    );
    Ok(())
}

/// The call a pushed-down filter term makes: the search rule's get-by-key
/// lookup, or the list call with its parameters, whose candidates are read
/// from the start in the app's page size.
fn pushed_down(ctx: &Ctx<'_>, rule: &PushdownRule, value: &str) -> Result<String, ScimError> {
    let m = ctx.mapping();
    let size = m.max_page_size_of(OpKind::List).unwrap_or(WALK_PAGE).max(1);
    let first = m.plan_pages(1, size);
    let vars = Vars {
        offset: first.first().and_then(|p| p.offset),
        page: first.first().and_then(|p| p.page),
        limit: Some(size),
        value: Some(value),
        value_of: Some(rule.attr()),
        search: Some(rule.query()),
        ..ctx.host.vars()
    };
    Ok(match rule.lookup() {
        Some(op) => {
            let req = op.render(&vars, None)?;
            format!("{} {}", req.method, req.path_and_query)
        }
        None => {
            let p = ctx.host.preview(OpKind::List, &vars, None)?;
            format!("{} {}", p.method, p.url)
        }
    })
}

/// The SCIM answer of a read (`GET` of an item or a list, or a search),
/// mapped from the app's real answers.
pub(super) async fn read_value(
    ctx: &Ctx<'_>,
    action: Action,
    id: &str,
    q: Option<&str>,
    body: impl Fn() -> Result<Value, ScimError>,
) -> Result<Value, ScimError> {
    let max = ctx.config().scim.max_page_size as u64;
    Ok(match action {
        Action::Get => {
            let mut r = fetch(ctx, id).await?;
            let q = query::from_query(q, 1, &Default::default())?;
            members::attach(ctx, &mut r, &q.projection).await?;
            r
        }
        Action::List => list::list(ctx, query::from_query(q, max, &Default::default())?)
            .await?
            .into_value(),
        _ => list::list(
            ctx,
            query::from_search_body(&body()?, max, &Default::default())?,
        )
        .await?
        .into_value(),
    })
}

async fn create(
    ctx: &Ctx<'_>,
    json: Value,
    offline: bool,
    out: &mut String,
) -> Result<(), ScimError> {
    let m = ctx.mapping();
    let mut wanted = normalise_resource(json, m.core_schema(), ctx.dialect)?;
    let edit = group_edit(ctx, &mut wanted)?;
    checks::unmapped(ctx, &wanted)?;
    checks::required(m.schema(), &wanted)?;
    if offline {
        let mut p = plan::create(m, &wanted, &ctx.write_env(None))?;
        if let MemberEdit::Replace(ids) = &edit {
            p.steps.extend(plan::membership(m, ids, &[]));
        }
        out.push_str("Reads (not made, --offline): a lookup of each `unique` attribute through the list operation.\n");
        return show(ctx, &p, new_known(), &wanted, out);
    }
    match plan_create(ctx, &wanted, &edit).await? {
        CreatePlan::Fresh(p) => {
            out.push_str("No account holds its unique values: a new one is created.\n");
            show(ctx, &p, new_known(), &wanted, out)
        }
        CreatePlan::Converge(c) => {
            let _ = writeln!(
                out,
                "Account {} holds its unique values: it is {}.",
                c.id,
                match c.decision {
                    Decision::Complete => "a half-made account of this request, completed (201)",
                    _ => "adopted (201)",
                }
            );
            let known = Known {
                id: Some(c.id.clone()),
                version: m.host_version(&c.existing.host),
                scim: Some(c.existing.scim.clone()),
                item: None,
                whole: false,
            };
            show(ctx, &c.plan, known, &c.target, out)
        }
    }
}

fn new_known() -> Known {
    Known {
        id: Some(NEW_ID.into()),
        ..Known::default()
    }
}

/// Splits a group's `members` off a create body.
fn group_edit(ctx: &Ctx<'_>, wanted: &mut Value) -> Result<MemberEdit, ScimError> {
    if !members::managed(ctx) {
        return Ok(MemberEdit::None);
    }
    let list = members::take(wanted);
    Ok(MemberEdit::Replace(members::ids_of(list.as_ref())?))
}

async fn update(
    ctx: &Ctx<'_>,
    put: bool,
    id: &str,
    json: Value,
    offline: bool,
    out: &mut String,
) -> Result<(), ScimError> {
    let (change, edit) = Change::parse(ctx, put, json)?;
    if offline {
        let _ = write!(
            out,
            "Reads (not made, --offline):\n{}",
            read_lines(ctx, id)?
        );
        out.push_str("The plan below assumes the resource has no other values; online, only real changes are sent.\n");
        let current = json!({"id": id, "schemas": [ctx.mapping().core_schema()]});
        let after = change.apply(ctx, &current)?;
        let mut plan = plan::update(ctx.mapping(), &current, &after, &ctx.write_env(None))?;
        if let MemberEdit::Change { add, remove } = &edit {
            plan.steps
                .extend(plan::membership(ctx.mapping(), add, remove));
        }
        let known = Known {
            id: Some(id.into()),
            ..Known::default()
        };
        return show(ctx, &plan, known, &after, out);
    }
    let Planned {
        current,
        after,
        plan,
        ..
    } = plan_write(ctx, id, &HeaderMap::new(), &edit, &change).await?;
    let _ = write!(out, "Read:\n{}", read_lines(ctx, id)?);
    let known = Known {
        id: Some(id.into()),
        version: ctx.mapping().host_version(&current.host),
        scim: Some(current.scim),
        item: None,
        whole: false,
    };
    show(ctx, &plan, known, &after, out)
}

async fn delete(ctx: &Ctx<'_>, id: &str, offline: bool, out: &mut String) -> Result<(), ScimError> {
    let current = match offline {
        true => None,
        false => Some(fetch_current(ctx, id).await?),
    };
    let env = ctx.write_env(current.as_ref().map(|c| &c.host));
    let plan =
        plan::delete(ctx.mapping(), current.as_ref().map(|c| &c.scim), &env)?.ok_or_else(|| {
            ScimError::client(
                http::StatusCode::METHOD_NOT_ALLOWED,
                None,
                "this app does not support deleting resources",
            )
        })?;
    let known = Known {
        id: Some(id.into()),
        version: current
            .as_ref()
            .and_then(|c| ctx.mapping().host_version(&c.host)),
        scim: current.as_ref().map(|c| c.scim.clone()),
        item: None,
        whole: false,
    };
    show(ctx, &plan, known, &Value::Null, out)
}

/// Prints the plan call by call.
fn show(
    ctx: &Ctx<'_>,
    plan: &WritePlan,
    known: Known,
    resource: &Value,
    out: &mut String,
) -> Result<(), ScimError> {
    if plan.is_empty() {
        out.push_str("Plan: no app call — nothing the mapping stores changes.\n");
        return Ok(());
    }
    out.push_str("Plan:\n");
    for (i, step) in plan.steps.iter().enumerate() {
        let p = exec::preview(&ctx.host, step, &known, resource)?;
        let mut why = step.purpose.label().to_owned();
        if !step.changes.is_empty() {
            let _ = write!(why, " ({})", step.changes.join(", "));
        }
        let _ = writeln!(out, "  {}. {why}", i + 1);
        let _ = writeln!(out, "     {} {}", p.method, p.url);
        for h in &p.headers {
            let _ = writeln!(out, "     {h}");
        }
        if let Some(b) = &p.body {
            let _ = writeln!(out, "     {}", serde_json::to_string(b).unwrap_or_default());
        }
        if step.precondition {
            out.push_str("     carries the app's version: a concurrent change makes the sidecar re-read and re-apply\n");
        }
        if let Condition::ActiveIsNot { want, .. } = step.when {
            let _ = writeln!(
                out,
                "     only if the account is not already {}",
                if want { "active" } else { "inactive" }
            );
        }
        let repeat = match step.repeat {
            Repeat::Safe => "safe to repeat: retried on 429/503, and a replay converges",
            Repeat::Once => "sent once: not retried on 429/503",
        };
        let _ = writeln!(out, "     {repeat}");
    }
    if known.id.as_deref() == Some(NEW_ID) {
        let _ = writeln!(out, "  ({NEW_ID} is the id the create call answers.)");
    }
    Ok(())
}
