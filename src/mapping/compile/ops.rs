//! Compiles operation tables (`list`, `get`, `create`, …): method and path
//! template, query and header templates with their placeholders resolved,
//! body wrapping, response JSONPaths, paging style and per-operation error
//! rules.

use http::{HeaderName, Method};
use toml::Spanned;

use crate::mapping::compile::ctx::{Ctx, env_expanded, resolver, seg};
use crate::mapping::compile::error_rules::error_rules;
use crate::mapping::compile::params::query_params;
use crate::mapping::model::ops::OpKind;
use crate::mapping::model::ops::{ListSpec, Operation, Paging};
use crate::mapping::path::{ReadPath, WritePath};
use crate::mapping::raw::{OperationToml, SpStr};
use crate::mapping::render::placeholder::Var;
use crate::mapping::render::query::{QueryParam, Tree};
use crate::mapping::render::template::Template;
use crate::schema;

fn template(
    ctx: &mut Ctx<'_>,
    k: &str,
    s: &SpStr,
    kind: Option<OpKind>,
    conn: &[String],
) -> Option<Template<Var>> {
    let text = env_expanded(ctx, k, s.span(), s.get_ref())?;
    let parsed = Template::parse(&text, resolver(ctx, kind, conn));
    parsed.map_err(|e| ctx.err(k, s.span(), e.join("; "))).ok()
}

fn read_path(ctx: &mut Ctx<'_>, k: &str, s: Option<&SpStr>) -> Option<ReadPath> {
    let s = s?;
    ReadPath::compile(s.get_ref())
        .map_err(|e| ctx.err(k, s.span(), format!("invalid JSONPath: {e}")))
        .ok()
}

pub(crate) fn compile_op(
    ctx: &mut Ctx<'_>,
    kind: OpKind,
    op: &Spanned<OperationToml>,
    conn: &[String],
) -> Option<Operation> {
    let k = kind.key();
    let o = op.get_ref();
    let (method, path_src) = method_and_path(ctx, k, op)?;
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
    let query = query_params(ctx, &format!("{k}.query"), &o.query, Some(kind), conn);
    let body = o.body.as_ref().and_then(|b| {
        let bk = format!("{k}.body");
        if !matches!(kind, OpKind::Activate | OpKind::Deactivate | OpKind::Delete) {
            return ctx.fail(
                &bk,
                b.span(),
                "a body template belongs on activate, deactivate or delete: other calls send the mapped attributes",
            );
        }
        let parsed = Tree::compile(b.get_ref(), &mut resolver(ctx, Some(kind), conn));
        parsed.map_err(|e| ctx.err(&bk, b.span(), e.join("; "))).ok()
    });
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
    let version_field = version_field(ctx, k, kind, o);
    let accepts = accepts(ctx, k, kind, o);
    let batch = batch(ctx, k, kind, o, &path);
    let returns_resource = match o.returns.as_ref().map(|r| (r.get_ref().as_str(), r.span())) {
        None => false,
        Some(("resource", _)) if !kind.is_list() && kind != OpKind::Get => true,
        Some((_, span)) => {
            ctx.err(
                &format!("{k}.returns"),
                span,
                "`returns = \"resource\"` belongs on calls that write a record",
            );
            false
        }
    };
    let before_call = o.before.as_ref().and_then(|b| {
        if !matches!(kind, OpKind::Activate | OpKind::Deactivate) || b.get_ref().before.is_some() {
            return ctx.fail(
                &format!("{k}.before"),
                b.span(),
                "`before` (one call) belongs on activate or deactivate",
            );
        }
        compile_op(ctx, kind, b, conn).map(Box::new)
    });
    let id_field = id_field(ctx, k, kind, o);
    let json_patch = json_patch(ctx, k, kind, &method, o);
    if ctx.errors.len() > before {
        return None;
    }
    Some(Operation {
        kind,
        method,
        path: path?,
        path_source: path_src.get_ref().clone(),
        query,
        headers,
        body,
        wrap,
        item,
        then_get,
        id_path,
        errors,
        list,
        version_field,
        accepts,
        batch,
        before: before_call,
        returns_resource,
        id_field,
        json_patch,
    })
}

/// `id_field`: the body path that carries the record's id, on the calls
/// that send changes (method-URL APIs: `POST /users.update {"userId": …}`).
fn id_field(ctx: &mut Ctx<'_>, k: &str, kind: OpKind, o: &OperationToml) -> Option<WritePath> {
    let f = o.id_field.as_ref()?;
    let key = format!("{k}.id_field");
    if !matches!(kind, OpKind::Update | OpKind::Replace) {
        return ctx.fail(
            &key,
            f.span(),
            "`id_field` belongs on update and replace (an action's `body` takes `{id}` itself)",
        );
    }
    WritePath::parse(f.get_ref())
        .map_err(|e| ctx.err(&key, f.span(), format!("not a writable path: {e}")))
        .ok()
}

/// `body_format = "json-patch"` (update only): the changes go as RFC 6902
/// operations in a `PATCH`.
fn json_patch(
    ctx: &mut Ctx<'_>,
    k: &str,
    kind: OpKind,
    method: &Method,
    o: &OperationToml,
) -> bool {
    let Some(f) = o.body_format.as_ref() else {
        return false;
    };
    let problem = match f.get_ref().as_str() {
        "json" => return false,
        "json-patch" if kind != OpKind::Update => {
            "a JSON Patch body belongs on update: it carries only the changes".to_owned()
        }
        "json-patch" if *method != Method::PATCH => {
            "a JSON Patch is sent with `patch = \"/path\"` (RFC 5789)".to_owned()
        }
        "json-patch" if o.id_field.is_some() => {
            "a JSON Patch body has no `id_field`: the id goes in the path".to_owned()
        }
        "json-patch" => return true,
        other => format!("unknown body_format `{other}`: use \"json\" (default) or \"json-patch\""),
    };
    ctx.err(&format!("{k}.body_format"), f.span(), problem);
    false
}

/// `batch`: member add/remove calls that take many member ids at once, as
/// an array at this path of the body (instead of `{member}` in the path).
fn batch(
    ctx: &mut Ctx<'_>,
    k: &str,
    kind: OpKind,
    o: &OperationToml,
    path: &Option<Template<Var>>,
) -> Option<WritePath> {
    let b = o.batch.as_ref()?;
    let key = format!("{k}.batch");
    if !matches!(kind, OpKind::MemberAdd | OpKind::MemberRemove) {
        return ctx.fail(
            &key,
            b.span(),
            "`batch` belongs on members.add and members.remove",
        );
    }
    if path
        .as_ref()
        .is_some_and(|p| p.vars().any(|v| *v == Var::Member))
    {
        return ctx.fail(&key, b.span(), "a batch call names no single `{member}`");
    }
    WritePath::parse(b.get_ref())
        .map_err(|e| ctx.err(&key, b.span(), format!("not a writable path: {e}")))
        .ok()
}

/// `version_field`: a write path, on calls that change an existing resource.
fn version_field(ctx: &mut Ctx<'_>, k: &str, kind: OpKind, o: &OperationToml) -> Option<WritePath> {
    let f = o.version_field.as_ref()?;
    if matches!(kind, OpKind::List | OpKind::Get | OpKind::Create) {
        return ctx.fail(
            &format!("{k}.version_field"),
            f.span(),
            "a version precondition belongs on calls that change an existing resource",
        );
    }
    WritePath::parse(f.get_ref())
        .map_err(|e| {
            ctx.err(
                &format!("{k}.version_field"),
                f.span(),
                format!("not a writable path: {e}"),
            )
        })
        .ok()
}

/// `accepts` (create only): top-level SCIM attributes, canonicalised.
fn accepts(ctx: &mut Ctx<'_>, k: &str, kind: OpKind, o: &OperationToml) -> Option<Vec<String>> {
    let list = o.accepts.as_ref()?;
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let key = format!("{k}.accepts[{i}]");
        if kind != OpKind::Create {
            ctx.err(&key, a.span(), "`accepts` belongs on `create`");
            continue;
        }
        let (urn, name) = schema::split_urn(a.get_ref());
        let known = match urn {
            None => ctx
                .core
                .attr(name)
                .or_else(|| schema::common(name))
                .is_some(),
            Some(u) => {
                schema::schema_by_urn(u).is_some_and(|s| s.attr(name).is_some())
                    || ctx.extensions.iter().any(|e| {
                        e.urn.eq_ignore_ascii_case(u)
                            && e.attributes
                                .iter()
                                .any(|(n, _)| n.eq_ignore_ascii_case(name))
                    })
            }
        };
        if !known || name.contains('.') {
            ctx.err(
                &key,
                a.span(),
                format!("`{}` is not a top-level SCIM attribute", a.get_ref()),
            );
            continue;
        }
        out.push(a.get_ref().to_ascii_lowercase());
    }
    Some(out)
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
        // RFC 9112 §6: the client sets the message framing and the target
        // host itself; an operation that overrode them would send a
        // request the app reads differently from what was meant.
        if [
            http::header::HOST,
            http::header::CONTENT_LENGTH,
            http::header::TRANSFER_ENCODING,
        ]
        .contains(&hn)
        {
            ctx.err(
                &hk,
                name.span(),
                format!("`{hn}` is set by the sidecar for each call and cannot be configured"),
            );
            continue;
        }
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
    query: &[QueryParam],
) -> Option<ListSpec> {
    let o = op.get_ref();
    let list_only = [
        ("items", o.items.is_some()),
        ("total", o.total.is_some()),
        ("paging", o.paging.is_some()),
        ("next", o.next.is_some()),
        ("max_page_size", o.max_page_size.is_some()),
        ("fetch_each", o.fetch_each),
        ("page_base", o.page_base.is_some()),
        ("offset_base", o.offset_base.is_some()),
    ];
    if !kind.is_list() {
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
        .chain(query.iter().flat_map(QueryParam::vars))
        .collect();
    let has = |v: Var| used.iter().any(|u| **u == v);
    let paging = paging(ctx, o, &has);
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
    let items_source = o.items.as_ref().map_or("$", |s| s.get_ref().as_str());
    let items_container = container_of(items_source).and_then(|c| ReadPath::compile(c).ok());
    let (total, total_header) = body_or_header(ctx, "list.total", o.total.as_ref());
    let (next, next_header) = body_or_header(ctx, "list.next", o.next.as_ref());
    Some(ListSpec {
        items,
        items_source: items_source.to_owned(),
        items_container,
        total,
        next,
        total_header,
        next_header,
        paging,
        max_page_size,
        fetch_each: o.fetch_each,
    })
}

/// `total` and `next`: a JSONPath into the answer's body, or
/// `header:<Name>` for apps that answer them in a response header
/// (`Link`, RFC 8288; `X-Total-Count`; `Content-Range`, RFC 9110 §14.4).
fn body_or_header(
    ctx: &mut Ctx<'_>,
    k: &str,
    s: Option<&SpStr>,
) -> (Option<ReadPath>, Option<HeaderName>) {
    let Some(name) = s.and_then(|s| s.get_ref().strip_prefix("header:")) else {
        return (read_path(ctx, k, s), None);
    };
    let span = s.map_or(0..0, SpStr::span);
    match HeaderName::from_bytes(name.trim().as_bytes()) {
        Ok(h) => (None, Some(h)),
        Err(_) => (
            ctx.fail(
                k,
                span,
                format!("`header:{name}` does not name a valid header"),
            ),
            None,
        ),
    }
}

/// The path of the array a wildcard or filter `items` path selects from
/// (`$.data.items` for `$.data.items[*]`), so an answer whose array is
/// empty can be told apart from one that lacks it.
fn container_of(items: &str) -> Option<&str> {
    let t = items.trim_end();
    if let Some(base) = t.strip_suffix(".*") {
        return Some(base);
    }
    let open = t.strip_suffix(']')?.rfind('[')?;
    let inner = t[open + 1..t.len() - 1].trim();
    (inner == "*" || inner.starts_with('?')).then(|| &t[..open])
}

fn check_paging(
    ctx: &mut Ctx<'_>,
    op: &Spanned<OperationToml>,
    paging: Paging,
    has: &dyn Fn(Var) -> bool,
) {
    let need: &[(Var, &str)] = match paging {
        Paging::Offset { .. } => &[(Var::Offset, "{offset}"), (Var::Limit, "{limit}")],
        Paging::Page { .. } => &[(Var::Page, "{page}")],
        // Without `{cursor}`, `next` must hold a link the sidecar follows.
        Paging::Cursor | Paging::None => &[],
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
            "cursor paging needs `next`: the JSONPath of the next cursor or link, or `header:Link` for a link in the answer's `Link` header (RFC 8288)",
        );
    }
}

/// The single method key of an operation and its path template.
fn method_and_path<'a>(
    ctx: &mut Ctx<'_>,
    k: &str,
    op: &'a Spanned<OperationToml>,
) -> Option<(Method, &'a SpStr)> {
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
    match (given.next(), given.next()) {
        (Some(one), None) => Some(one),
        _ => ctx.fail(
            k,
            op.span(),
            "an operation needs exactly one of get, post, put, patch or delete = \"/path\"",
        ),
    }
}

/// The list's paging style: explicit `paging`, else inferred from the
/// placeholders used.
fn paging(ctx: &mut Ctx<'_>, o: &OperationToml, has: &dyn Fn(Var) -> bool) -> Paging {
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
    // Flask-AppBuilder, Spring Data and others number pages from 0.
    let page_base = o.page_base.as_ref().map_or(1, |b| match *b.get_ref() {
        0 | 1 => *b.get_ref() as u64,
        _ => {
            ctx.err("list.page_base", b.span(), "page_base is 1 or 0");
            1
        }
    });
    let page = Paging::Page { base: page_base };
    match o.paging.as_ref().map(|p| (p.get_ref().as_str(), p.span())) {
        Some(("offset", _)) => Paging::Offset { base },
        Some(("page", _)) => page,
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
        None if has(Var::Page) => page,
        None if has(Var::Offset) => Paging::Offset { base },
        None if o.next.is_some() => Paging::Cursor,
        None => Paging::None,
    }
}
