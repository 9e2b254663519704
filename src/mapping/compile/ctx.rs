//! The shared state of one compile run ([`Ctx`]), which every compile
//! step takes: the resource's key and core schema, its custom extensions
//! and derived placeholders, and every error found so far (errors are
//! collected, never returned early). With the helpers every step uses on
//! it: TOML key segments for messages, `${NAME}` expansion of mapping
//! strings (once, as each string is compiled), and the resolution of
//! attribute paths and request placeholders against the schema and the
//! extensions.

use crate::diagnostic::Diagnostic;
use crate::mapping::compile::env::{EnvLookup, expand_env};
use crate::mapping::model::ops::OpKind;
use crate::mapping::path::ScimPath;
use crate::mapping::render::encode::Quote;
use crate::mapping::render::placeholder::{Derived, Var};
use crate::schema::{self, AttrType, SchemaDef};

/// A custom schema extension declared in the mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Extension {
    /// Schema URN.
    pub urn: String,
    /// Human-readable name.
    pub name: String,
    /// Attribute names and types.
    pub attributes: Vec<(String, AttrType)>,
}

/// Shared state of one compile run.
pub(crate) struct Ctx<'a> {
    /// Dotted key prefix, e.g. `users`.
    pub key: &'a str,
    pub core: &'static SchemaDef,
    pub extensions: Vec<Extension>,
    pub errors: Vec<Diagnostic>,
    /// `${NAME}` lookups for mapping strings.
    pub env: EnvLookup<'a>,
    /// Derived placeholders, compiled before the operations.
    pub derived: Vec<Derived>,
    /// Whether a search rule is being compiled (derived placeholders are
    /// then fed by `{value}`).
    pub in_search: bool,
    /// The resource's `empty = "absent"`: an app's `""` reads as no value.
    pub empty_absent: bool,
}

impl Ctx<'_> {
    /// Records an error like [`Ctx::err`] and yields `None`.
    pub fn fail<T>(
        &mut self,
        sub: &str,
        span: std::ops::Range<usize>,
        msg: impl Into<String>,
    ) -> Option<T> {
        self.err(sub, span, msg);
        None
    }

    /// Records an error at `sub` (a dotted suffix) and `span`.
    pub fn err(&mut self, sub: &str, span: std::ops::Range<usize>, msg: impl Into<String>) {
        self.errors
            .push(Diagnostic::at(format!("{}.{sub}", self.key), span, msg));
    }
}

/// A TOML key segment, quoted when it is not a bare key.
pub(crate) fn seg(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_owned()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// `text` with `${NAME}` references expanded (`$$` is a literal `$`);
/// an unset variable is an error at `k`.
pub(crate) fn env_expanded(
    ctx: &mut Ctx<'_>,
    k: &str,
    span: std::ops::Range<usize>,
    text: &str,
) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_owned());
    }
    expand_env(text, ctx.env)
        .map_err(|e| ctx.err(k, span, e))
        .ok()
}

/// A TOML value with `${NAME}` expanded in every string.
pub(crate) fn env_value(
    ctx: &mut Ctx<'_>,
    k: &str,
    span: std::ops::Range<usize>,
    v: &toml::Value,
) -> Option<toml::Value> {
    Some(match v {
        toml::Value::String(s) => toml::Value::String(env_expanded(ctx, k, span, s)?),
        toml::Value::Array(a) => toml::Value::Array(
            a.iter()
                .map(|e| env_value(ctx, k, span.clone(), e))
                .collect::<Option<_>>()?,
        ),
        toml::Value::Table(t) => {
            let mut out = toml::Table::new();
            for (key, e) in t {
                out.insert(key.clone(), env_value(ctx, k, span.clone(), e)?);
            }
            toml::Value::Table(out)
        }
        other => other.clone(),
    })
}

/// `empty = "value" | "absent"` at `k`: whether `""` reads as no value.
pub(crate) fn empty_absent(ctx: &mut Ctx<'_>, k: &str, v: &crate::mapping::raw::SpStr) -> bool {
    match v.get_ref().as_str() {
        "absent" => true,
        "value" => false,
        other => {
            let msg = format!("unknown `empty` `{other}`: use value or absent");
            ctx.err(k, v.span(), msg);
            false
        }
    }
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

/// Resolves a request placeholder name.
pub(crate) fn resolver<'a>(
    ctx: &'a Ctx<'_>,
    kind: Option<OpKind>,
    conn: &'a [String],
) -> impl FnMut(&str) -> Result<Var, String> + 'a {
    move |name: &str| {
        if let Some((inner, quote)) = name.rsplit_once('|') {
            let q = Quote::parse(quote).ok_or_else(|| {
                format!(
                    "unknown encoder `{}` in `{{{name}}}`: use one of {}",
                    quote.trim(),
                    Quote::NAMES
                )
            })?;
            return resolver(ctx, kind, conn)(inner.trim()).map(|v| Var::Quoted(Box::new(v), q));
        }
        let paging = kind.is_none_or(OpKind::is_list);
        let member_op = matches!(kind, Some(OpKind::MemberAdd | OpKind::MemberRemove));
        match name {
            "id" if kind != Some(OpKind::List) => Ok(Var::Id),
            "member" if member_op => Ok(Var::Member),
            "role" if member_op => Ok(Var::Role),
            "value" => Ok(Var::Value),
            "offset" if paging => Ok(Var::Offset),
            "limit" | "count" | "per_page" if paging => Ok(Var::Limit),
            "page" if paging => Ok(Var::Page),
            "cursor" if paging => Ok(Var::Cursor),
            "version" if !paging && kind != Some(OpKind::Create) && kind != Some(OpKind::Get) => {
                Ok(Var::Version)
            }
            n if n.starts_with("current.") => {
                let changes = matches!(
                    kind,
                    Some(
                        OpKind::Update
                            | OpKind::Replace
                            | OpKind::Delete
                            | OpKind::Activate
                            | OpKind::Deactivate
                    )
                );
                match attr_placeholder(ctx, &n[8..]) {
                    Some(Var::Attr(p)) if changes && !ctx.in_search => Ok(Var::Current(p)),
                    Some(_) => Err(format!(
                        "`{{{n}}}` is a value of the record as last read: it belongs on calls that change an existing record"
                    )),
                    None => Err(format!("unknown placeholder `{{{n}}}`")),
                }
            }
            n if n.starts_with("conn.") => {
                let v = &n[5..];
                if conn.iter().any(|c| c == v) {
                    Ok(Var::Conn(v.to_owned()))
                } else {
                    Err(format!("unknown connection variable `{v}`"))
                }
            }
            n => match ctx.derived.iter().find(|d| d.name == n) {
                Some(_) if matches!(kind, Some(OpKind::List | OpKind::Get)) && !ctx.in_search => {
                    Err(format!(
                        "placeholder `{{{n}}}` is derived from a SCIM value, which `{}` does not have",
                        kind.map_or("", OpKind::key)
                    ))
                }
                Some(d) => Ok(Var::Derived(Box::new(d.clone()))),
                None => {
                    attr_placeholder(ctx, n).ok_or_else(|| format!("unknown placeholder `{{{n}}}`"))
                }
            },
        }
    }
}

pub(crate) fn attr_placeholder(ctx: &Ctx<'_>, n: &str) -> Option<Var> {
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
