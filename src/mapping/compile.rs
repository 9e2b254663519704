//! Compiles a resource's raw TOML mapping into a [`ResourceMapping`]:
//! operations, filter push-down, error rules, constants and policies (the
//! attribute rules are compiled in `compile_attr`). Every problem becomes a
//! [`CompileError`] with its dotted key and span; all are collected.

use toml::Spanned;

use crate::mapping::compile_attr::{Ctx, compile_rule, seg};
use crate::mapping::compile_groups::membership;
use crate::mapping::compile_ops::{compile_op, error_rules};
use crate::mapping::compile_params::{placeholders, search};
use crate::mapping::compile_schema::{build_schema, declare_members, declare_role_name};
use crate::mapping::compile_write::constants;
use crate::mapping::model::diagnostic::CompileError;

use crate::mapping::compile_attr::Extension;
use crate::mapping::model::mapping::{
    OnCreateConflict, OnDelete, OnFailedCreate, ResourceKind, ResourceMapping, Unmapped,
};
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::ops::Operation;
use crate::mapping::model::rule::{AttrRule, Source};
use crate::mapping::model::search::PushdownRule;
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
) -> Result<ResourceMapping, Vec<CompileError>> {
    compile_with(raw, kind, key, known_conn_vars, &|_| None)
}

/// [`compile`] with `${NAME}` in mapping strings (templates, constants,
/// defaults) expanded from `env`.
pub fn compile_with(
    raw: &ResourceToml,
    kind: ResourceKind,
    key: &str,
    known_conn_vars: &[String],
    env: crate::mapping::env::EnvLookup<'_>,
) -> Result<ResourceMapping, Vec<CompileError>> {
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
    };
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
    let warnings = crate::mapping::lints::lint(&ctx, &rules, list, &search, &unique);
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
    })
}

/// `protect`: SCIM filters (with `${ENV}`), e.g. `'userName eq "${APP_USER}"'`.
fn protect(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> Vec<crate::protocol::filter::Filter> {
    let mut out = Vec::new();
    for (i, p) in raw.protect.iter().enumerate() {
        let k = format!("protect[{i}]");
        let Some(text) =
            crate::mapping::compile_params::env_expanded(ctx, &k, p.span(), p.get_ref())
        else {
            continue;
        };
        match crate::protocol::filter::parse(&text) {
            Ok(f) => out.push(f),
            Err(e) => ctx.err(&k, p.span(), format!("not a SCIM filter: {e}")),
        }
    }
    out
}

/// A policy key: one of `choices` (the first is the default).
fn policy<T: Copy>(
    ctx: &mut Ctx<'_>,
    key: &str,
    value: Option<&Spanned<String>>,
    choices: &[(&str, T)],
) -> T {
    let Some(v) = value else {
        return choices[0].1;
    };
    match choices.iter().find(|(name, _)| *name == v.get_ref()) {
        Some((_, t)) => *t,
        None => {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            ctx.err(
                key,
                v.span(),
                format!(
                    "unknown value `{}`: use {}",
                    v.get_ref(),
                    names.join(" or ")
                ),
            );
            choices[0].1
        }
    }
}

/// `on_delete`: only meaningful without a `delete` operation; `deactivate`
/// needs a way to deactivate (an action endpoint or a mapped `active`).
fn on_delete(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> OnDelete {
    let Some(v) = &raw.on_delete else {
        return OnDelete::Refuse;
    };
    match v.get_ref().as_str() {
        "refuse" => OnDelete::Refuse,
        "deactivate" => {
            let has_active = raw
                .attributes
                .keys()
                .any(|k| k.get_ref().eq_ignore_ascii_case("active"));
            if raw.deactivate.is_none() && !has_active {
                ctx.err(
                    "on_delete",
                    v.span(),
                    "`deactivate` needs a `deactivate` operation or a mapped `active` attribute",
                );
            }
            OnDelete::Deactivate
        }
        other => {
            ctx.err(
                "on_delete",
                v.span(),
                format!("unknown value `{other}`: use refuse or deactivate"),
            );
            OnDelete::Refuse
        }
    }
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

fn required_ops(ctx: &mut Ctx<'_>, kind: ResourceKind, raw: &ResourceToml) {
    if kind == ResourceKind::Group && raw.roles.is_some() {
        if !raw.attributes.is_empty() {
            ctx.errors.push(CompileError::key(
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
            ctx.errors.push(CompileError::key(
                format!("{}.{}", ctx.key, k.key()),
                "groups stored as roles are read and written through [users]; remove this operation",
            ));
        }
        return;
    }
    for k in [OpKind::List, OpKind::Get, OpKind::Create] {
        if op_field(raw, k).is_none() {
            ctx.errors.push(CompileError::key(
                format!("{}.{}", ctx.key, k.key()),
                format!("missing required operation `{}`", k.key()),
            ));
        }
    }
    if raw.update.is_none() && raw.replace.is_none() {
        ctx.errors.push(CompileError::key(
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
        ctx.errors.push(CompileError::key(
            format!("{}.attributes.members", ctx.key),
            "group members are mapped under [groups.members] or [groups.roles]",
        ));
    }
}

fn extensions(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> Vec<Extension> {
    let mut out = Vec::new();
    for (i, e) in raw.extensions.iter().enumerate() {
        let k = format!("extensions[{i}]");
        let urn = e.urn.get_ref();
        if !urn.to_ascii_lowercase().starts_with("urn:") || schema::schema_by_urn(urn).is_some() {
            ctx.err(
                &format!("{k}.urn"),
                e.urn.span(),
                "a custom extension needs its own `urn:` schema id",
            );
            continue;
        }
        let mut attributes = Vec::new();
        for (name, ty) in &e.attributes {
            let t = match ty.get_ref().as_str() {
                "string" => AttrType::String,
                "boolean" => AttrType::Boolean,
                "integer" => AttrType::Integer,
                "decimal" => AttrType::Decimal,
                "dateTime" => AttrType::DateTime,
                "reference" => AttrType::Reference,
                other => {
                    ctx.err(
                        &format!("{k}.attributes.{}", seg(name.get_ref())),
                        ty.span(),
                        format!("unknown type `{other}`"),
                    );
                    continue;
                }
            };
            attributes.push((name.get_ref().clone(), t));
        }
        let name = e
            .name
            .clone()
            .unwrap_or_else(|| urn.rsplit(':').next().unwrap_or(urn).to_owned());
        out.push(Extension {
            urn: urn.clone(),
            name,
            attributes,
        });
    }
    out
}

/// The canonical spelling of a filterable attribute path (no selectors).
pub(crate) fn canonical_attr(ctx: &Ctx<'_>, attr: &str) -> Option<String> {
    if let Some((urn, def, sub)) = schema::lookup_path(ctx.core, attr) {
        let base = if urn == ctx.core.id {
            def.name.to_owned()
        } else {
            format!("{urn}:{}", def.name)
        };
        return Some(sub.map_or(base.clone(), |s| format!("{base}.{}", s.name)));
    }
    let (urn, name) = schema::split_urn(attr);
    let ext = ctx
        .extensions
        .iter()
        .find(|e| urn.is_some_and(|u| u.eq_ignore_ascii_case(&e.urn)))?;
    let (n, _) = ext
        .attributes
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(name))?;
    Some(format!("{}:{n}", ext.urn))
}

fn unique(ctx: &mut Ctx<'_>, raw: &ResourceToml, search: &[PushdownRule]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, u) in raw.unique.iter().enumerate() {
        match search
            .iter()
            .find(|r| r.op == "eq" && r.attr.eq_ignore_ascii_case(u.get_ref()))
        {
            Some(r) => out.push(r.attr.clone()),
            None => ctx.err(
                &format!("unique[{i}]"),
                u.span(),
                format!(
                    "`{}` needs a search rule '{} eq' for the pre-create lookup",
                    u.get_ref(),
                    u.get_ref()
                ),
            ),
        }
    }
    out
}
