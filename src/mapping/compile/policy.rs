//! Compiles a mapping's policies: the choice keys (`on_delete`,
//! `on_create_conflict`, `on_failed_create`), the `unique` attributes
//! checked before a create (each needs an `eq` search rule for its
//! lookup), and the `protect` filters naming app accounts the IdP may
//! never see or change.

use toml::Spanned;

use crate::mapping::compile::ctx::{Ctx, env_expanded};
use crate::mapping::model::mapping::OnDelete;
use crate::mapping::model::search::PushdownRule;
use crate::mapping::raw::ResourceToml;

/// `protect`: SCIM filters (with `${ENV}`), e.g. `'userName eq "${APP_USER}"'`.
pub(crate) fn protect(
    ctx: &mut Ctx<'_>,
    raw: &ResourceToml,
) -> Vec<crate::protocol::filter::Filter> {
    let mut out = Vec::new();
    for (i, p) in raw.protect.iter().enumerate() {
        let k = format!("protect[{i}]");
        let Some(text) = env_expanded(ctx, &k, p.span(), p.get_ref()) else {
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
pub(crate) fn policy<T: Copy>(
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
pub(crate) fn on_delete(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> OnDelete {
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

pub(crate) fn unique(
    ctx: &mut Ctx<'_>,
    raw: &ResourceToml,
    search: &[PushdownRule],
) -> Vec<String> {
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
