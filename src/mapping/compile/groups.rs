//! Compiles `[groups.members]` and `[groups.roles]` into a
//! [`MembersSpec`] or [`RolesSpec`] (their operations are compiled with
//! the others), and checks that a group mapping uses one shape or the
//! other, with the operations that shape needs.

use crate::diagnostic::Diagnostic;
use crate::mapping::compile::ctx::{Ctx, seg};
use crate::mapping::model::groups::{MembersSpec, RolesSpec, UnknownRoles};
use crate::mapping::model::mapping::ResourceKind;
use crate::mapping::path::{ReadPath, WritePath};
use crate::mapping::raw::{MembersToml, ResourceToml, RolesToml};
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::template::Template;

/// Members returned with a group by default.
const DEFAULT_MAX_MEMBERS: usize = 10_000;

/// The membership shape of a group mapping, after checking that users
/// declare neither and groups at most one.
pub(crate) fn membership(
    ctx: &mut Ctx<'_>,
    kind: ResourceKind,
    raw: &ResourceToml,
    conn: &[String],
) -> (Option<MembersSpec>, Option<RolesSpec>) {
    if kind == ResourceKind::User {
        if raw.members.is_some() || raw.roles.is_some() {
            ctx.errors.push(Diagnostic::key(
                ctx.key.to_owned(),
                "`members` and `roles` belong on [groups]",
            ));
        }
        return (None, None);
    }
    match (&raw.members, &raw.roles) {
        (Some(_), Some(r)) => {
            ctx.err(
                "roles",
                r.span(),
                "declare [groups.members] or [groups.roles], not both",
            );
            (None, None)
        }
        (Some(m), None) => (members(ctx, m), None),
        (None, Some(r)) => (None, roles(ctx, r.get_ref(), conn)),
        (None, None) => (None, None),
    }
}

fn max(ctx: &mut Ctx<'_>, key: &str, v: Option<&toml::Spanned<i64>>) -> usize {
    match v {
        None => DEFAULT_MAX_MEMBERS,
        Some(n) => match usize::try_from(*n.get_ref()) {
            Ok(n) if n > 0 => n,
            _ => {
                ctx.err(key, n.span(), "max must be a positive integer");
                DEFAULT_MAX_MEMBERS
            }
        },
    }
}

fn members(ctx: &mut Ctx<'_>, m: &MembersToml) -> Option<MembersSpec> {
    for (name, op) in [("list", &m.list), ("add", &m.add), ("remove", &m.remove)] {
        if op.is_none() {
            ctx.errors.push(Diagnostic::key(
                format!("{}.members.{name}", ctx.key),
                format!("missing required operation `members.{name}`"),
            ));
        }
    }
    let value = ReadPath::compile(m.value.get_ref())
        .map_err(|e| {
            ctx.err(
                "members.value",
                m.value.span(),
                format!("invalid JSONPath: {e}"),
            )
        })
        .ok();
    let display = m.display.as_ref().and_then(|d| {
        ReadPath::compile(d.get_ref())
            .map_err(|e| {
                ctx.err(
                    "members.display",
                    d.span(),
                    format!("invalid JSONPath: {e}"),
                )
            })
            .ok()
    });
    let max = max(ctx, "members.max", m.max.as_ref());
    Some(MembersSpec {
        value: value?,
        display,
        max,
    })
}

fn roles(ctx: &mut Ctx<'_>, r: &RolesToml, conn: &[String]) -> Option<RolesSpec> {
    let before = ctx.errors.len();
    let field = r.field.as_ref().and_then(|f| {
        let read = ReadPath::compile(f.get_ref());
        let write = WritePath::parse(f.get_ref());
        match (read, write) {
            (Ok(read), Ok(write)) => Some((read, write)),
            _ => ctx.fail(
                "roles.field",
                f.span(),
                "not a writable path: use `$.a.b`, `$.a[0]` or `$['key']`",
            ),
        }
    });
    if field.is_none() && (r.add.is_none() || r.remove.is_none()) && r.field.is_none() {
        ctx.errors.push(Diagnostic::key(
            format!("{}.roles", ctx.key),
            "declare the users' role `field`, or both `add` and `remove` endpoints",
        ));
    }
    let unknown = match r.unknown.as_ref().map(|u| (u.get_ref().as_str(), u.span())) {
        None | Some(("reject", _)) => UnknownRoles::Reject,
        Some(("pass", _)) => UnknownRoles::Pass,
        Some((other, span)) => {
            ctx.err(
                "roles.unknown",
                span,
                format!("unknown value `{other}`: use reject or pass"),
            );
            UnknownRoles::Reject
        }
    };
    if r.names.is_empty() && unknown == UnknownRoles::Reject {
        ctx.errors.push(Diagnostic::key(
            format!("{}.roles.names", ctx.key),
            "name at least one group (displayName = role), or set unknown = \"pass\"",
        ));
    }
    let mut names: Vec<(String, String)> = Vec::new();
    for (display, role) in &r.names {
        if names.iter().any(|(_, r)| r == role.get_ref()) {
            ctx.err(
                &format!("roles.names.{}", seg(display)),
                role.span(),
                "two group names stand for this role, so reading it back is ambiguous",
            );
        }
        names.push((display.clone(), role.get_ref().clone()));
    }
    let search = r
        .search
        .iter()
        .filter_map(|(k, t)| {
            let parsed = Template::parse(t.get_ref(), |n| match n {
                "value" => Ok(Var::Value),
                n if n
                    .strip_prefix("conn.")
                    .is_some_and(|v| conn.iter().any(|c| c == v)) =>
                {
                    Ok(Var::Conn(n[5..].to_owned()))
                }
                n => Err(format!("unknown placeholder `{{{n}}}`: a role search takes {{value}} (the role) and {{conn.<var>}}")),
            });
            parsed
                .map_err(|e| ctx.err(&format!("roles.search.{}", seg(k)), t.span(), e.join("; ")))
                .ok()
                .map(|t| (k.clone(), t))
        })
        .collect();
    let max = max(ctx, "roles.max", r.max.as_ref());
    (ctx.errors.len() == before).then_some(RolesSpec {
        field,
        names,
        unknown,
        search,
        max,
    })
}
