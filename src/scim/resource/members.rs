//! Group members over the app's member endpoints (RFC 7643 §4.2 `members`;
//! idp-behavior: Okta's add/remove/replace, Entra's value-array removes):
//! reading a group's members page by page up to the mapping's cap,
//! checking that new member ids exist before the first write, and turning
//! a PATCH's or PUT's membership edit into O(k) member calls, and
//! refusing membership edits a group mapping cannot store. A PATCH
//! never lists the group; a full replacement (PUT, or PATCH `replace`
//! `members`) lists it once to compute the difference.

use http::StatusCode;
use serde_json::{Value, json};

use super::ctx::Ctx;
use super::read::{fetch_any, id_of};
use crate::error::{ScimError, ScimType};
use crate::host::paging;
use crate::mapping::{OpKind, ResourceKind};
use crate::plan::{self, Step};
use crate::protocol::patch::MemberChanges;
use crate::protocol::query::Projection;
use crate::schema::get_ci;

/// A write's effect on membership.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum MemberEdit {
    /// Membership is not touched.
    #[default]
    None,
    /// Add and remove these member ids.
    Change {
        /// Ids to add.
        add: Vec<String>,
        /// Ids to remove.
        remove: Vec<String>,
    },
    /// The member list becomes exactly these ids.
    Replace(Vec<String>),
}

impl MemberEdit {
    /// The edit of a PATCH's membership operations.
    pub fn from_patch(c: &MemberChanges) -> Self {
        match &c.replace_all {
            Some(all) => Self::Replace(all.clone()),
            None if c.add.is_empty() && c.remove.is_empty() => Self::None,
            None => Self::Change {
                add: c.add.clone(),
                remove: c.remove.clone(),
            },
        }
    }
}

/// Whether the group mapping stores members (through member endpoints).
pub fn managed(ctx: &Ctx<'_>) -> bool {
    ctx.mapping().members().is_some()
}

/// Whether the request's `members` must be split off: a group mapping
/// either stores them or refuses them ([`refuse_unstored`]); never passed
/// on as an attribute that an `unmapped = "ignore"` policy would drop.
pub fn split(ctx: &Ctx<'_>) -> bool {
    managed(ctx) || ctx.mapping().kind() == ResourceKind::Group
}

/// A membership edit on a group mapping that stores no members (neither
/// `[groups.members]` nor `[groups.roles]`): 501, never a success that
/// drops the members. An edit that changes nothing (`members: []`) passes
/// as no edit; a stored one is returned as it is.
pub fn refuse_unstored(ctx: &Ctx<'_>, edit: MemberEdit) -> Result<MemberEdit, ScimError> {
    let changes = match &edit {
        MemberEdit::None => false,
        MemberEdit::Change { add, remove } => !add.is_empty() || !remove.is_empty(),
        MemberEdit::Replace(ids) => !ids.is_empty(),
    };
    if managed(ctx) {
        return Ok(edit);
    }
    if !changes {
        return Ok(MemberEdit::None);
    }
    Err(ScimError::not_implemented(
        "this app's groups have no members the sidecar can store (the mapping declares neither [groups.members] nor [groups.roles]); nothing was changed",
    ))
}

/// The member ids of a SCIM `members` value (`[{"value": "U"}, …]`);
/// 400 `invalidValue` for anything else.
pub fn ids_of(members: Option<&Value>) -> Result<Vec<String>, ScimError> {
    let bad = || {
        ScimError::bad_request(
            ScimType::InvalidValue,
            "`members` must be an array of objects with a string `value`",
        )
    };
    let Some(v) = members.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::new();
    for m in v.as_array().ok_or_else(bad)? {
        let id = get_ci(m, "value").and_then(Value::as_str).ok_or_else(bad)?;
        if !out.iter().any(|o| o == id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

/// Removes and returns a resource's `members` (any case).
pub fn take(resource: &mut Value) -> Option<Value> {
    let o = resource.as_object_mut()?;
    let key = o
        .keys()
        .find(|k| k.eq_ignore_ascii_case("members"))
        .cloned()?;
    o.remove(&key)
}

/// Whether a response with this projection shows `members`.
pub fn wanted(p: &Projection) -> bool {
    let named = |list: &[String]| {
        list.iter()
            .any(|n| n == "members" || n.starts_with("members."))
    };
    !p.excluded.iter().any(|n| n == "members") && (p.attributes.is_empty() || named(&p.attributes))
}

/// A group's members as SCIM values, read page by page; more than the
/// mapping's `max` is 400 `tooMany` (the IdP should exclude members).
pub async fn load(ctx: &Ctx<'_>, group: &str) -> Result<Vec<Value>, ScimError> {
    let Some(spec) = ctx.mapping().members() else {
        return Ok(Vec::new());
    };
    let limit = spec.max as u64;
    if spec.in_record() {
        let group = fetch_any(ctx, group).await?;
        return in_record(ctx, &group.host);
    }
    let (items, complete) = paging::walk_list(
        &ctx.host,
        OpKind::MembersList,
        Some(group),
        &[],
        None,
        limit,
    )
    .await?;
    if !complete {
        return Err(ScimError::bad_request(
            ScimType::TooMany,
            format!("the group has more than {limit} members; ask with excludedAttributes=members"),
        ));
    }
    let users = users_url(ctx);
    Ok(items
        .iter()
        .filter_map(|e| spec.member_of(e))
        .map(|(id, display)| member_value(&users, &id, display))
        .collect())
}

/// One SCIM member value: `value`, `$ref`, `type` and, when known, `display`.
pub fn member_value(users_url: &str, id: &str, display: Option<String>) -> Value {
    let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC);
    let mut v = json!({"value": id, "$ref": format!("{users_url}/{encoded}"), "type": "User"});
    if let (Some(d), Some(o)) = (display, v.as_object_mut()) {
        o.insert("display".into(), Value::String(d));
    }
    v
}

/// The URL of `/Users` next to this collection, for member `$ref`s.
pub fn users_url(ctx: &Ctx<'_>) -> String {
    let base = ctx.collection_url.rsplit_once('/').map_or("", |(b, _)| b);
    format!("{base}/Users")
}

/// Adds `members` to a group resource when the projection shows them.
pub async fn attach(ctx: &Ctx<'_>, resource: &mut Value, p: &Projection) -> Result<(), ScimError> {
    if !managed(ctx) || !wanted(p) {
        return Ok(());
    }
    let id = id_of(resource)?;
    let members = load(ctx, &id).await?;
    if let Value::Object(o) = resource {
        o.insert("members".into(), Value::Array(members));
    }
    Ok(())
}

/// Adds `members` to every group resource that lacks it.
pub async fn attach_all(ctx: &Ctx<'_>, resources: &mut [Value]) -> Result<(), ScimError> {
    if !managed(ctx) {
        return Ok(());
    }
    for r in resources.iter_mut().filter(|r| r.get("members").is_none()) {
        let id = id_of(r)?;
        let members = load(ctx, &id).await?;
        if let Value::Object(o) = r {
            o.insert("members".into(), Value::Array(members));
        }
    }
    Ok(())
}

/// The members listed in a group's record, as SCIM values; more than the
/// mapping's `max` is 400 `tooMany`.
fn in_record(ctx: &Ctx<'_>, group: &Value) -> Result<Vec<Value>, ScimError> {
    let Some(spec) = ctx.mapping().members() else {
        return Ok(Vec::new());
    };
    let listed = spec.of_record(group);
    if listed.len() > spec.max {
        return Err(ScimError::bad_request(
            ScimType::TooMany,
            format!(
                "the group has more than {} members; ask with excludedAttributes=members",
                spec.max
            ),
        ));
    }
    let users = users_url(ctx);
    Ok(listed
        .into_iter()
        .map(|(id, display)| member_value(&users, &id, display))
        .collect())
}

/// The member calls of `edit` on group `group`, after checking that every
/// member to add exists; with the member list that results when it is
/// known (a replacement lists the group once to compute the difference).
pub async fn steps(
    ctx: &Ctx<'_>,
    group: Option<&str>,
    edit: &MemberEdit,
) -> Result<(Vec<Step>, Option<Vec<Value>>), ScimError> {
    steps_on(ctx, group, None, edit).await
}

/// [`steps`], with the group's record as just read (`current`) when the
/// caller has it: an app that only replaces the whole member list gets
/// one write of the list that record holds with the edit applied — no
/// read beyond the group's, whatever the group's size — sent with the
/// group's version as read, so a concurrent change makes the app refuse
/// it (and the write is planned again) rather than lose a member.
pub async fn steps_on(
    ctx: &Ctx<'_>,
    group: Option<&str>,
    current: Option<&Value>,
    edit: &MemberEdit,
) -> Result<(Vec<Step>, Option<Vec<Value>>), ScimError> {
    if let Some(spec) = ctx.mapping().members().filter(|s| s.in_record()) {
        if matches!(edit, MemberEdit::None) {
            return Ok((Vec::new(), None));
        }
        let fetched;
        let record = match (current, group) {
            (Some(c), _) => Some(c),
            (None, Some(g)) => {
                fetched = fetch_any(ctx, g).await?;
                Some(&fetched.host)
            }
            (None, None) => None,
        };
        let have: Vec<String> = record
            .map(|r| spec.of_record(r).into_iter().map(|(id, _)| id).collect())
            .unwrap_or_default();
        return replace_in_record(ctx, &have, edit).await;
    }
    let (add, remove, result) = match edit {
        MemberEdit::None => return Ok((Vec::new(), None)),
        MemberEdit::Change { add, remove } => (add.clone(), remove.clone(), None),
        MemberEdit::Replace(all) => {
            let current = match group {
                Some(g) => load(ctx, g).await?,
                None => Vec::new(),
            };
            let have: Vec<String> = ids_of(Some(&Value::Array(current.clone())))?;
            let add: Vec<String> = all.iter().filter(|i| !have.contains(i)).cloned().collect();
            let remove: Vec<String> = have.iter().filter(|i| !all.contains(i)).cloned().collect();
            let users = users_url(ctx);
            let result = all
                .iter()
                .map(|id| {
                    current
                        .iter()
                        .find(|m| m["value"] == id.as_str())
                        .cloned()
                        .unwrap_or_else(|| member_value(&users, id, None))
                })
                .collect();
            (add, remove, Some(result))
        }
    };
    check_users_exist(ctx, &add).await?;
    Ok((plan::membership(ctx.mapping(), &add, &remove), result))
}

/// The one write of a whole member list: `have` with the edit applied
/// (order kept, each id once), or no step when nothing changes.
async fn replace_in_record(
    ctx: &Ctx<'_>,
    have: &[String],
    edit: &MemberEdit,
) -> Result<(Vec<Step>, Option<Vec<Value>>), ScimError> {
    let Some(spec) = ctx.mapping().members() else {
        return Ok((Vec::new(), None));
    };
    let wanted: Vec<String> = match edit {
        MemberEdit::None => return Ok((Vec::new(), None)),
        MemberEdit::Replace(all) => all.clone(),
        MemberEdit::Change { add, remove } => {
            let mut out: Vec<String> = have
                .iter()
                .filter(|h| !remove.contains(h))
                .cloned()
                .collect();
            for a in add.iter().filter(|a| !remove.contains(a)) {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
            out
        }
    };
    let users = users_url(ctx);
    let shown = wanted
        .iter()
        .map(|id| member_value(&users, id, None))
        .collect();
    let same = wanted.len() == have.len() && wanted.iter().all(|w| have.contains(w));
    if same {
        return Ok((Vec::new(), Some(shown)));
    }
    let added: Vec<String> = wanted
        .iter()
        .filter(|w| !have.contains(w))
        .cloned()
        .collect();
    check_users_exist(ctx, &added).await?;
    let body = spec.record_body(&wanted).map_err(|id| {
        ScimError::bad_request(
            ScimType::InvalidValue,
            format!("member `{id}` is not a user id of this app (an integer)"),
        )
    })?;
    let step = plan::step(
        ctx.mapping(),
        OpKind::Update,
        plan::Purpose::ReplaceMembers,
        body,
        vec!["members".into()],
        plan::Condition::Always,
    );
    Ok((step.into_iter().collect(), Some(shown)))
}

/// 400 `invalidValue` naming the first member id the app does not know,
/// before any write (O(k) reads of the users being added).
pub async fn check_users_exist(ctx: &Ctx<'_>, ids: &[String]) -> Result<(), ScimError> {
    let Some(users) = ctx.config().users.as_deref() else {
        return Ok(());
    };
    let host = ctx.host.with_mapping(users);
    for id in ids {
        match crate::host::record::read_record(&host, id).await {
            Ok(_) => {}
            Err(e) if e.status == StatusCode::NOT_FOUND => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("member `{id}` is not a user of this app"),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Adds member steps to a plan's steps; a whole-list write goes into the
/// plan's own update of the group when it has one (one write, one
/// version), else it is a step of its own.
pub fn merge_steps(steps: &mut Vec<Step>, member_steps: Vec<Step>) {
    for m in member_steps {
        let own = steps
            .iter_mut()
            .find(|s| s.op == OpKind::Update && s.purpose == plan::Purpose::Update);
        match (m.purpose, own, &m.body) {
            (plan::Purpose::ReplaceMembers, Some(own), Some(Value::Object(extra))) => {
                if let Some(Value::Object(body)) = &mut own.body {
                    body.extend(extra.clone());
                    own.changes.extend(m.changes.iter().cloned());
                    continue;
                }
                steps.push(m);
            }
            _ => steps.push(m),
        }
    }
}
