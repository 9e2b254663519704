//! Compiles error translation rules (`[<resource>.errors]` and each
//! operation's `errors`): keys `'<status> [<condition>]'` with their
//! outcome (`"ok"`, `"conflict"` or a SCIM error), most specific first.

use toml::Spanned;

use crate::mapping::compile::ctx::{Ctx, seg};
use crate::mapping::model::error_rules::{ErrorOutcome, ErrorRule, parse_key};
use crate::mapping::raw::{ErrorToml, SpStr};

pub(crate) fn error_rules(
    ctx: &mut Ctx<'_>,
    k: &str,
    raw: &std::collections::BTreeMap<SpStr, Spanned<ErrorToml>>,
) -> Vec<ErrorRule> {
    let mut out = Vec::new();
    for (key, val) in raw {
        let ek = format!("{k}.{}", seg(key.get_ref()));
        let parsed = parse_key(key.get_ref()).map_err(|e| ctx.err(&ek, key.span(), e));
        let outcome = outcome(ctx, &ek, val);
        if let (Ok((status, cond)), Some(outcome)) = (parsed, outcome) {
            out.push(ErrorRule {
                status,
                cond,
                outcome,
            });
        }
    }
    out.sort_by_key(ErrorRule::specificity);
    out
}

fn outcome(ctx: &mut Ctx<'_>, k: &str, val: &Spanned<ErrorToml>) -> Option<ErrorOutcome> {
    match val.get_ref() {
        ErrorToml::Word(w) if w == "ok" => Some(ErrorOutcome::Success),
        ErrorToml::Word(w) if w == "conflict" => Some(ErrorOutcome::Conflict),
        ErrorToml::Word(w) => ctx.fail(
            k,
            val.span(),
            format!("`{w}` is not an outcome: use \"ok\", \"conflict\" or {{ status = …, scimType = … }}"),
        ),
        ErrorToml::Scim(s) => {
            let status = u16::try_from(*s.status.get_ref())
                .ok()
                .filter(|n| (400..=599).contains(n));
            let Some(status) = status else {
                return ctx.fail(
                    &format!("{k}.status"),
                    s.status.span(),
                    "status must be a 4xx or 5xx code",
                );
            };
            let detail = s
                .detail
                .clone()
                .unwrap_or_else(|| format!("the app rejected the request ({status})"));
            let scim_type = match &s.scim_type {
                None => None,
                Some(t) => match crate::error::ScimType::parse(t.get_ref()) {
                    Some(parsed) => Some(parsed),
                    None => {
                        return ctx.fail(
                            &format!("{k}.scimType"),
                            t.span(),
                            format!("unknown scimType `{}` (RFC 7644 §3.12: e.g. uniqueness, invalidValue, mutability)", t.get_ref()),
                        );
                    }
                },
            };
            Some(ErrorOutcome::Scim {
                status,
                scim_type,
                detail,
            })
        }
    }
}
