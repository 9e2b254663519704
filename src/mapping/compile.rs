//! Compiles a resource's raw TOML mapping into a [`ResourceMapping`]:
//! operations, filter push-down, error rules, constants and policies (the
//! attribute rules are compiled in `compile_attr`). Every problem becomes a
//! [`ConfigError`] with its dotted key and span; all are collected.

use http::{HeaderName, Method};
use toml::Spanned;

use crate::config::ConfigError;
use crate::mapping::compile_attr::{Ctx, attribute_infos, compile_rule, seg};
use crate::mapping::errors::{ErrorOutcome, ErrorRule, parse_key};
use crate::mapping::ops::{ListSpec, Operation, Paging, PushdownRule};
use crate::mapping::path::{ReadPath, ScimPath, WritePath};
use crate::mapping::raw::{ErrorToml, OperationToml, ResourceToml, SpStr};
use crate::mapping::template::{Template, Var};
use crate::mapping::{
    AttrRule, Extension, OpKind, ResourceKind, ResourceMapping, Source, Unmapped,
};
use crate::scim::schema::{self, AttrType, Mutability};

/// Compiles `raw` (the `[<key>]` table) for `kind`. `known_conn_vars` are
/// the variable names every connection defines (`{conn.<var>}`).
pub fn compile(
    raw: &ResourceToml,
    kind: ResourceKind,
    key: &str,
    known_conn_vars: &[String],
) -> Result<ResourceMapping, Vec<ConfigError>> {
    let core = match kind {
        ResourceKind::User => &schema::USER_SCHEMA,
        ResourceKind::Group => &schema::GROUP_SCHEMA,
    };
    let mut ctx = Ctx {
        key,
        core,
        extensions: Vec::new(),
        errors: Vec::new(),
    };
    ctx.extensions = extensions(&mut ctx, raw);
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
    required_ops(&mut ctx, kind, raw);
    let search = search(&mut ctx, raw, known_conn_vars);
    let errors = error_rules(&mut ctx, "errors", &raw.errors);
    let constants = constants(&mut ctx, raw);
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
    let unique = unique(&mut ctx, raw, &search);
    if !ctx.errors.is_empty() {
        return Err(ctx.errors);
    }
    let attributes = attribute_infos(&ctx, &rules);
    Ok(ResourceMapping {
        kind,
        core,
        rules,
        ops,
        search,
        errors,
        constants,
        unmapped,
        unique,
        extensions: ctx.extensions,
        attributes,
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
        fields: Vec::new(),
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
    }
}

fn required_ops(ctx: &mut Ctx<'_>, kind: ResourceKind, raw: &ResourceToml) {
    for k in [OpKind::List, OpKind::Get, OpKind::Create] {
        if op_field(raw, k).is_none() {
            ctx.errors.push(ConfigError::key(
                format!("{}.{}", ctx.key, k.key()),
                format!("missing required operation `{}`", k.key()),
            ));
        }
    }
    if raw.update.is_none() && raw.replace.is_none() {
        ctx.errors.push(ConfigError::key(
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
    let _ = kind;
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

/// Resolves a request placeholder name.
fn resolver<'a>(
    ctx: &'a Ctx<'_>,
    kind: Option<OpKind>,
    conn: &'a [String],
) -> impl FnMut(&str) -> Result<Var, String> + 'a {
    move |name: &str| {
        let paging = kind.is_none_or(|k| k == OpKind::List);
        match name {
            "id" if kind != Some(OpKind::List) => Ok(Var::Id),
            "value" => Ok(Var::Value),
            "offset" if paging => Ok(Var::Offset),
            "limit" | "count" | "per_page" if paging => Ok(Var::Limit),
            "page" if paging => Ok(Var::Page),
            "cursor" if paging => Ok(Var::Cursor),
            n if n.starts_with("conn.") => {
                let v = &n[5..];
                if conn.iter().any(|c| c == v) {
                    Ok(Var::Conn(v.to_owned()))
                } else {
                    Err(format!("unknown connection variable `{v}`"))
                }
            }
            n => attr_placeholder(ctx, n).ok_or_else(|| format!("unknown placeholder `{{{n}}}`")),
        }
    }
}

fn attr_placeholder(ctx: &Ctx<'_>, n: &str) -> Option<Var> {
    let p = ScimPath::parse(n).ok().filter(|p| p.selector.is_none())?;
    if let Some((urn, def, sub)) =
        schema::lookup_path(ctx.core, n).filter(|(_, d, _)| !d.multi_valued)
    {
        let urn = (urn != ctx.core.id).then(|| urn.to_owned());
        return Some(Var::Attr(ScimPath {
            urn,
            attr: def.name.into(),
            selector: None,
            sub: sub.map(|s| s.name.to_owned()),
        }));
    }
    let ext = ctx.extensions.iter().find(|e| {
        p.urn
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(&e.urn))
    })?;
    let (name, _) = ext
        .attributes
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(&p.attr))?;
    Some(Var::Attr(ScimPath {
        urn: Some(ext.urn.clone()),
        attr: name.clone(),
        selector: None,
        sub: None,
    }))
}

fn template(
    ctx: &mut Ctx<'_>,
    k: &str,
    s: &SpStr,
    kind: Option<OpKind>,
    conn: &[String],
) -> Option<Template<Var>> {
    let parsed = Template::parse(s.get_ref(), resolver(ctx, kind, conn));
    parsed.map_err(|e| ctx.err(k, s.span(), e.join("; "))).ok()
}

fn read_path(ctx: &mut Ctx<'_>, k: &str, s: Option<&SpStr>) -> Option<ReadPath> {
    let s = s?;
    ReadPath::compile(s.get_ref())
        .map_err(|e| ctx.err(k, s.span(), format!("invalid JSONPath: {e}")))
        .ok()
}

fn compile_op(
    ctx: &mut Ctx<'_>,
    kind: OpKind,
    op: &Spanned<OperationToml>,
    conn: &[String],
) -> Option<Operation> {
    let k = kind.key();
    let o = op.get_ref();
    let methods = [
        (Method::GET, &o.get),
        (Method::POST, &o.post),
        (Method::PUT, &o.put),
        (Method::PATCH, &o.patch),
        (Method::DELETE, &o.delete),
    ];
    let mut given = methods
        .into_iter()
        .filter_map(|(m, p)| p.as_ref().map(|p| (m, p)));
    let (method, path_src) = match (given.next(), given.next()) {
        (Some(one), None) => one,
        _ => {
            ctx.err(
                k,
                op.span(),
                "an operation needs exactly one of get, post, put, patch or delete = \"/path\"",
            );
            return None;
        }
    };
    let before = ctx.errors.len();
    let path = template(
        ctx,
        &format!("{k}.{}", method.as_str().to_lowercase()),
        path_src,
        Some(kind),
        conn,
    );
    if !path_src.get_ref().starts_with('/') {
        ctx.err(
            &format!("{k}.{}", method.as_str().to_lowercase()),
            path_src.span(),
            "a path must start with `/`",
        );
    }
    let query: Vec<_> = o
        .query
        .iter()
        .filter_map(|(q, t)| {
            Some((
                q.clone(),
                template(ctx, &format!("{k}.query.{}", seg(q)), t, Some(kind), conn)?,
            ))
        })
        .collect();
    let headers = headers(ctx, k, o, kind, conn);
    let wrap = o.wrap.as_ref().and_then(|w| {
        WritePath::parse(w.get_ref())
            .map_err(|e| {
                ctx.err(
                    &format!("{k}.wrap"),
                    w.span(),
                    format!("not a writable path: {e}"),
                )
            })
            .ok()
    });
    let item = read_path(ctx, &format!("{k}.item"), o.item.as_ref());
    let id_path = read_path(ctx, &format!("{k}.id"), o.id.as_ref());
    let then_get = match &o.then {
        None => false,
        Some(t) if t.get_ref() == "get" && kind == OpKind::Create => true,
        Some(t) => {
            ctx.err(
                &format!("{k}.then"),
                t.span(),
                "only `then = \"get\"` on create is supported",
            );
            false
        }
    };
    let errors = error_rules(ctx, &format!("{k}.errors"), &o.errors);
    let list = list_spec(ctx, kind, op, path.as_ref(), &query);
    if ctx.errors.len() > before {
        return None;
    }
    Some(Operation {
        kind,
        method,
        path: path?,
        query,
        headers,
        wrap,
        item,
        then_get,
        id_path,
        errors,
        list,
    })
}

fn headers(
    ctx: &mut Ctx<'_>,
    k: &str,
    o: &OperationToml,
    kind: OpKind,
    conn: &[String],
) -> Vec<(HeaderName, Template<Var>)> {
    let mut out = Vec::new();
    for (name, t) in &o.headers {
        let hk = format!("{k}.headers.{}", seg(name.get_ref()));
        let Ok(hn) = HeaderName::from_bytes(name.get_ref().as_bytes()) else {
            ctx.err(&hk, name.span(), "not a valid header name");
            continue;
        };
        if let Some(t) = template(ctx, &hk, t, Some(kind), conn) {
            out.push((hn, t));
        }
    }
    out
}

fn list_spec(
    ctx: &mut Ctx<'_>,
    kind: OpKind,
    op: &Spanned<OperationToml>,
    path: Option<&Template<Var>>,
    query: &[(String, Template<Var>)],
) -> Option<ListSpec> {
    let o = op.get_ref();
    let list_only = [
        ("items", o.items.is_some()),
        ("total", o.total.is_some()),
        ("paging", o.paging.is_some()),
        ("next", o.next.is_some()),
        ("max_page_size", o.max_page_size.is_some()),
        ("fetch_each", o.fetch_each),
    ];
    if kind != OpKind::List {
        if let Some((name, _)) = list_only.iter().find(|(_, set)| *set) {
            ctx.err(
                &format!("{}.{name}", kind.key()),
                op.span(),
                format!("`{name}` belongs on the list operation"),
            );
        }
        return None;
    }
    let used: Vec<&Var> = path
        .into_iter()
        .flat_map(|p| p.vars())
        .chain(query.iter().flat_map(|(_, t)| t.vars()))
        .collect();
    let has = |v: Var| used.iter().any(|u| **u == v);
    let base = o
        .offset_base
        .as_ref()
        .map_or(Ok(0), |b| match *b.get_ref() {
            0 | 1 => Ok(*b.get_ref() as u64),
            _ => Err(b.span()),
        });
    let base = base.unwrap_or_else(|span| {
        ctx.err("list.offset_base", span, "offset_base is 0 or 1");
        0
    });
    let paging = match o.paging.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
        Some(("offset", _)) => Paging::Offset { base },
        Some(("page", _)) => Paging::Page,
        Some(("cursor", _)) => Paging::Cursor,
        Some(("none", _)) => Paging::None,
        Some((other, span)) => {
            ctx.err(
                "list.paging",
                span,
                format!("unknown paging `{other}`: use offset, page, cursor or none"),
            );
            Paging::None
        }
        None if has(Var::Cursor) => Paging::Cursor,
        None if has(Var::Page) => Paging::Page,
        None if has(Var::Offset) => Paging::Offset { base },
        None => Paging::None,
    };
    check_paging(ctx, op, paging, &has);
    let max_page_size = o
        .max_page_size
        .as_ref()
        .and_then(|m| match u64::try_from(*m.get_ref()) {
            Ok(n) if n > 0 => Some(n),
            _ => ctx.fail(
                "list.max_page_size",
                m.span(),
                "max_page_size must be a positive integer",
            ),
        });
    let items = read_path(ctx, "list.items", o.items.as_ref())
        .unwrap_or(ReadPath::Simple(WritePath::default()));
    let total = read_path(ctx, "list.total", o.total.as_ref());
    let next = read_path(ctx, "list.next", o.next.as_ref());
    Some(ListSpec {
        items,
        total,
        next,
        paging,
        max_page_size,
        fetch_each: o.fetch_each,
    })
}

fn check_paging(
    ctx: &mut Ctx<'_>,
    op: &Spanned<OperationToml>,
    paging: Paging,
    has: &dyn Fn(Var) -> bool,
) {
    let need: &[(Var, &str)] = match paging {
        Paging::Offset { .. } => &[(Var::Offset, "{offset}"), (Var::Limit, "{limit}")],
        Paging::Page => &[(Var::Page, "{page}")],
        Paging::Cursor => &[(Var::Cursor, "{cursor}")],
        Paging::None => &[],
    };
    for (v, name) in need {
        if !has(v.clone()) {
            ctx.err(
                "list",
                op.span(),
                format!("this paging style needs the placeholder {name} in the path or query"),
            );
        }
    }
    if paging == Paging::Cursor && op.get_ref().next.is_none() {
        ctx.err(
            "list",
            op.span(),
            "cursor paging needs `next`, the JSONPath of the next cursor or link",
        );
    }
}

fn search(ctx: &mut Ctx<'_>, raw: &ResourceToml, conn: &[String]) -> Vec<PushdownRule> {
    const OPS: [&str; 10] = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"];
    let mut out = Vec::new();
    for (key, rule) in &raw.search {
        let k = format!("search.{}", seg(key.get_ref()));
        let (attr, op) = key
            .get_ref()
            .trim()
            .rsplit_once(' ')
            .unwrap_or((key.get_ref(), ""));
        let op = op.to_ascii_lowercase();
        if !OPS.contains(&op.as_str()) {
            ctx.err(
                &k,
                key.span(),
                "a search key is '<attribute> <operator>', e.g. 'userName eq'",
            );
            continue;
        }
        let Some(canonical) = canonical_attr(ctx, attr.trim()) else {
            ctx.err(
                &k,
                key.span(),
                format!("unknown SCIM attribute `{}`", attr.trim()),
            );
            continue;
        };
        let query = rule.query.iter().filter_map(|(q, t)| {
            let tk = format!("{k}.query.{}", seg(q));
            let parsed = Template::parse(t.get_ref(), |n| match n {
                "value" => Ok(Var::Value),
                n if n
                    .strip_prefix("conn.")
                    .is_some_and(|v| conn.iter().any(|c| c == v)) =>
                {
                    Ok(Var::Conn(n[5..].to_owned()))
                }
                n => Err(format!(
                    "unknown placeholder `{{{n}}}`: search rules take {{value}} and {{conn.<var>}}"
                )),
            });
            parsed
                .map_err(|e| ctx.err(&tk, t.span(), e.join("; ")))
                .ok()
                .map(|t| (q.clone(), t))
        });
        let query = query.collect();
        out.push(PushdownRule {
            attr: canonical,
            op,
            query,
            case_insensitive: rule.case_insensitive,
        });
    }
    out
}

/// The canonical spelling of a filterable attribute path (no selectors).
fn canonical_attr(ctx: &Ctx<'_>, attr: &str) -> Option<String> {
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

fn error_rules(
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
        ErrorToml::Word(w) => ctx.fail(
            k,
            val.span(),
            format!("`{w}` is not an outcome: use \"ok\" or {{ status = …, scimType = … }}"),
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
            Some(ErrorOutcome::Scim {
                status,
                scim_type: s.scim_type.clone(),
                detail,
            })
        }
    }
}

fn constants(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> Vec<(WritePath, serde_json::Value)> {
    raw.constants
        .iter()
        .filter_map(|(k, v)| {
            let p = WritePath::parse(k.get_ref()).map_err(|e| {
                ctx.err(
                    &format!("constants.{}", seg(k.get_ref())),
                    k.span(),
                    format!("not a writable path: {e}"),
                )
            });
            Some((p.ok()?, serde_json::to_value(v).ok()?))
        })
        .collect()
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
