//! Compiles a resource's raw TOML mapping into a [`ResourceMapping`], in
//! steps that each take the run's shared context ([`ctx`]): custom
//! extensions and the compiled schema ([`resource_schema`]), derived
//! placeholders and query parameters ([`params`]), attribute rules
//! ([`attr`]) with their write options ([`write`]), operations ([`ops`]),
//! a group's membership shape ([`groups`]), filter push-down rules
//! ([`search`]), error rules ([`error_rules`]) and policies ([`policy`]);
//! then the warnings `check` prints ([`lints`]). This file sequences the
//! steps and checks which operations a resource declares. Every problem
//! becomes a [`Diagnostic`] with its dotted key and span; all are
//! collected. `${NAME}` expansion is [`env`]'s.

mod attr;
mod ctx;
mod direct;
pub(crate) mod env;
mod error_rules;
mod groups;
mod lints;
mod ops;
mod params;
mod policy;
mod resource_schema;
mod search;
mod write;

use toml::Spanned;

use crate::diagnostic::Diagnostic;
use crate::mapping::compile::attr::compile_rule;
use crate::mapping::compile::ctx::Ctx;
use crate::mapping::compile::env::EnvLookup;
use crate::mapping::compile::error_rules::error_rules;
use crate::mapping::compile::groups::membership;
use crate::mapping::compile::lints::lint;
use crate::mapping::compile::ops::compile_op;
use crate::mapping::compile::params::placeholders;
use crate::mapping::compile::policy::{on_delete, policy, protect, unique};
use crate::mapping::compile::resource_schema::{
    build_schema, declare_members, declare_role_name, extensions,
};
use crate::mapping::compile::search::search;
use crate::mapping::compile::write::constants;

use crate::mapping::compile::direct::direct_plan;
use crate::mapping::model::mapping::{
    OnCreateConflict, OnFailedCreate, ResourceKind, ResourceMapping, Unmapped,
};
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::ops::Operation;
use crate::mapping::model::rule::{AttrRule, Source};
use crate::mapping::path::{ReadPath, ScimPath, WritePath};
use crate::mapping::raw::{OperationToml, ResourceToml};
use crate::schema::{self, AttrType, Mutability};

/// Compiles `raw` (the `[<key>]` table) for `kind`. `known_conn_vars` are
/// the variable names every connection defines (`{conn.<var>}`); a
/// `${NAME}` in a mapping string is an error (see [`compile_with`]).
pub fn compile(
    raw: &ResourceToml,
    kind: ResourceKind,
    key: &str,
    known_conn_vars: &[String],
) -> Result<ResourceMapping, Vec<Diagnostic>> {
    compile_with(raw, kind, key, known_conn_vars, &|_| None)
}

/// [`compile`] with `${NAME}` in mapping strings (templates, constants,
/// defaults) expanded from `env`.
pub fn compile_with(
    raw: &ResourceToml,
    kind: ResourceKind,
    key: &str,
    known_conn_vars: &[String],
    env: EnvLookup<'_>,
) -> Result<ResourceMapping, Vec<Diagnostic>> {
    let core = match kind {
        ResourceKind::User => &schema::USER_SCHEMA,
        ResourceKind::Group => &schema::GROUP_SCHEMA,
    };
    let mut ctx = Ctx {
        key,
        core,
        extensions: Vec::new(),
        errors: Vec::new(),
        env,
        derived: Vec::new(),
        in_search: false,
        empty_absent: false,
    };
    if let Some(e) = &raw.empty {
        ctx.empty_absent = ctx::empty_absent(&mut ctx, "empty", e);
    }
    ctx.extensions = extensions(&mut ctx, raw);
    ctx.derived = placeholders(&mut ctx, raw);
    let mut rules: Vec<AttrRule> = raw
        .attributes
        .iter()
        .filter_map(|(k, r)| compile_rule(&mut ctx, k, r))
        .collect();
    if !rules
        .iter()
        .any(|r| r.target.attr == "id" && r.target.urn.is_none())
    {
        rules.push(default_id_rule());
    }
    let ops: Vec<Operation> = OpKind::ALL
        .iter()
        .filter_map(|&k| op_field(raw, k).map(|o| (k, o)))
        .filter_map(|(k, o)| compile_op(&mut ctx, k, o, known_conn_vars))
        .collect();
    let (members, roles) = membership(&mut ctx, kind, raw, known_conn_vars);
    required_ops(&mut ctx, kind, raw);
    let search = search(&mut ctx, raw, known_conn_vars);
    let errors = error_rules(&mut ctx, "errors", &raw.errors);
    let constants = constants(&mut ctx, raw, known_conn_vars);
    let unmapped = match raw
        .unmapped
        .as_ref()
        .map(|s| (s.get_ref().as_str(), s.span()))
    {
        None | Some(("ignore", _)) => Unmapped::Ignore,
        Some(("reject", _)) => Unmapped::Reject,
        Some((other, span)) => {
            ctx.err(
                "unmapped",
                span,
                format!("unknown policy `{other}`: use ignore or reject"),
            );
            Unmapped::Ignore
        }
    };
    let on_delete = on_delete(&mut ctx, raw);
    let on_create_conflict = policy(
        &mut ctx,
        "on_create_conflict",
        raw.on_create_conflict.as_ref(),
        &[
            ("error", OnCreateConflict::Error),
            ("adopt", OnCreateConflict::Adopt),
        ],
    );
    let on_failed_create = policy(
        &mut ctx,
        "on_failed_create",
        raw.on_failed_create.as_ref(),
        &[
            ("keep", OnFailedCreate::Keep),
            ("delete", OnFailedCreate::Delete),
        ],
    );
    if on_failed_create == OnFailedCreate::Delete
        && raw.delete.is_none()
        && let Some(v) = &raw.on_failed_create
    {
        ctx.err(
            "on_failed_create",
            v.span(),
            "`delete` needs a `delete` operation",
        );
    }
    let unique = unique(&mut ctx, raw, &search);
    let protect = protect(&mut ctx, raw);
    if !ctx.errors.is_empty() {
        return Err(ctx.errors);
    }
    let mut schema = build_schema(&ctx, &rules, &unique);
    if kind == ResourceKind::Group && (members.is_some() || roles.is_some()) {
        let display = roles.is_some() || members.as_ref().is_some_and(|m| m.has_display());
        declare_members(&mut schema, display);
    }
    if roles.is_some() {
        declare_role_name(&mut schema);
    }
    let list = ops.iter().find(|o| o.kind() == OpKind::List);
    let warnings = lint(&ctx, &rules, list, &search, &unique);
    let direct = direct_plan(&rules, &schema);
    Ok(ResourceMapping {
        kind,
        core,
        rules,
        ops,
        search,
        errors,
        constants,
        unmapped,
        on_delete,
        on_create_conflict,
        on_failed_create,
        unique,
        members,
        roles,
        protect,
        warnings,
        schema,
        direct,
    })
}

fn default_id_rule() -> AttrRule {
    AttrRule {
        target: ScimPath {
            urn: None,
            attr: "id".into(),
            selector: None,
            sub: None,
        },
        name: "id".into(),
        ty: AttrType::String,
        multi: false,
        mutability: Mutability::ReadOnly,
        source: Source::Path {
            read: ReadPath::Simple(WritePath::of_keys(["id"])),
            write: None,
        },
        map: Vec::new(),
        host_type: None,
        read: Vec::new(),
        write: Vec::new(),
        default: None,
        empty_absent: false,
        fields: Vec::new(),
        write_opts: Default::default(),
    }
}

fn op_field(raw: &ResourceToml, k: OpKind) -> Option<&Spanned<OperationToml>> {
    match k {
        OpKind::List => raw.list.as_ref(),
        OpKind::Get => raw.get.as_ref(),
        OpKind::Create => raw.create.as_ref(),
        OpKind::Update => raw.update.as_ref(),
        OpKind::Replace => raw.replace.as_ref(),
        OpKind::Delete => raw.delete.as_ref(),
        OpKind::Activate => raw.activate.as_ref(),
        OpKind::Deactivate => raw.deactivate.as_ref(),
        OpKind::MembersList => raw.members.as_ref().and_then(|m| m.list.as_ref()),
        OpKind::MemberAdd => raw
            .members
            .as_ref()
            .and_then(|m| m.add.as_ref())
            .or_else(|| raw.roles.as_ref().and_then(|r| r.get_ref().add.as_ref())),
        OpKind::MemberRemove => raw
            .members
            .as_ref()
            .and_then(|m| m.remove.as_ref())
            .or_else(|| raw.roles.as_ref().and_then(|r| r.get_ref().remove.as_ref())),
    }
}

/// Whether a mapping without `get` reads a record through the list
/// filtered by an `'id eq'` search rule's query; `fetch_each` needs a
/// real `get` and is refused then.
fn get_via_list(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> bool {
    let by_id = raw.search.iter().any(|(k, r)| {
        let mut words = k.get_ref().split_whitespace();
        let id_eq = matches!((words.next(), words.next(), words.next()), (Some(a), Some(o), None)
            if a.eq_ignore_ascii_case("id") && o.eq_ignore_ascii_case("eq"));
        id_eq && r.get.is_none() && !r.query.is_empty()
    });
    if !by_id {
        return false;
    }
    if let Some(list) = raw.list.as_ref().filter(|l| l.get_ref().fetch_each) {
        ctx.err(
            "list.fetch_each",
            list.span(),
            "`fetch_each` reads every item with `get`, and this mapping has none (it reads records through the list)",
        );
    }
    true
}

fn required_ops(ctx: &mut Ctx<'_>, kind: ResourceKind, raw: &ResourceToml) {
    if kind == ResourceKind::Group && raw.roles.is_some() {
        if !raw.attributes.is_empty() {
            ctx.errors.push(Diagnostic::key(
                format!("{}.attributes", ctx.key),
                "groups stored as roles have no attributes of their own: a group is its role's name",
            ));
        }
        // Groups as roles live on users: they have no operations of their own.
        let own = OpKind::ALL
            .iter()
            .filter(|k| !matches!(k, OpKind::MemberAdd | OpKind::MemberRemove))
            .find(|&&k| op_field(raw, k).is_some());
        if let Some(k) = own {
            ctx.errors.push(Diagnostic::key(
                format!("{}.{}", ctx.key, k.key()),
                "groups stored as roles are read and written through [users]; remove this operation",
            ));
        }
        return;
    }
    for k in [OpKind::List, OpKind::Get, OpKind::Create] {
        if k == OpKind::Get && op_field(raw, k).is_none() && get_via_list(ctx, raw) {
            continue;
        }
        if k == OpKind::Get && op_field(raw, k).is_none() {
            ctx.errors.push(Diagnostic::key(
                format!("{}.get", ctx.key),
                "missing required operation `get`: declare it, or (for an app without a single-record GET) an `'id eq'` search rule whose `query` filters the list by id",
            ));
            continue;
        }
        if op_field(raw, k).is_none() {
            ctx.errors.push(Diagnostic::key(
                format!("{}.{}", ctx.key, k.key()),
                format!("missing required operation `{}`", k.key()),
            ));
        }
    }
    if raw.update.is_none() && raw.replace.is_none() {
        ctx.errors.push(Diagnostic::key(
            ctx.key.to_owned(),
            "missing operation: declare `update` (changed fields) or `replace` (full body)",
        ));
    }
    if raw.activate.is_some() != raw.deactivate.is_some() {
        let span = raw
            .activate
            .as_ref()
            .or(raw.deactivate.as_ref())
            .map_or(0..0, Spanned::span);
        ctx.err(
            if raw.activate.is_some() {
                "activate"
            } else {
                "deactivate"
            },
            span,
            "declare both `activate` and `deactivate`, or neither",
        );
    }
    if kind == ResourceKind::Group
        && raw
            .attributes
            .keys()
            .any(|k| k.get_ref().eq_ignore_ascii_case("members"))
    {
        ctx.errors.push(Diagnostic::key(
            format!("{}.attributes.members", ctx.key),
            "group members are mapped under [groups.members] or [groups.roles]",
        ));
    }
}
