//! Compiles `[<resource>.attributes]` rules: resolves each SCIM path
//! against the static schema (or a declared custom extension), checks
//! JSONPaths, write paths, value maps, transforms and mutability. Errors
//! are collected, never returned early.

use serde_json::Value;
use toml::Spanned;

use crate::mapping::compile::ctx::{Ctx, env_value, seg};
use crate::mapping::compile::write::{Shape, literal, no_placeholder, write_opts};
use crate::mapping::model::rule::{AttrRule, HostType, Source};
use crate::mapping::path::{ReadPath, ScimPath, WritePath};
use crate::mapping::raw::{RuleTable, RuleToml, SpStr};
use crate::mapping::render::template::Template;
use crate::mapping::render::transform::Transform;
use crate::schema::{self, AttrDef, AttrType, Mutability, SchemaDef};

/// What a SCIM path resolved to.
#[derive(Clone, Copy)]
struct Resolved {
    attr: Def,
    sub: Option<Def>,
}

/// A static definition or a custom extension attribute.
#[derive(Clone, Copy)]
enum Def {
    Static(&'static AttrDef),
    Custom(AttrType),
}

impl Def {
    fn ty(self) -> AttrType {
        match self {
            Self::Static(d) => d.ty,
            Self::Custom(t) => t,
        }
    }
    fn multi(self) -> bool {
        matches!(self, Self::Static(d) if d.multi_valued)
    }
    fn mutability(self) -> Mutability {
        match self {
            Self::Static(d) => d.mutability,
            Self::Custom(_) => Mutability::ReadWrite,
        }
    }
    fn sub(self, name: &str) -> Option<&'static AttrDef> {
        match self {
            Self::Static(d) => d.sub(name),
            Self::Custom(_) => None,
        }
    }
    fn name(self, fallback: &str) -> String {
        match self {
            Self::Static(d) => d.name.to_owned(),
            Self::Custom(_) => fallback.to_owned(),
        }
    }
}

/// Resolves and canonicalizes a SCIM path; a lowercase reason on failure.
fn resolve(ctx: &Ctx<'_>, p: &mut ScimPath) -> Result<Resolved, String> {
    let attr = match &p.urn {
        None => ctx
            .core
            .attr(&p.attr)
            .or_else(|| schema::common(&p.attr))
            .map(Def::Static),
        Some(urn) => match schema::schema_by_urn(urn) {
            Some(s) if s.id != ctx.core.id && is_extension_of(ctx.core, s) => {
                p.urn = Some(s.id.to_owned());
                s.attr(&p.attr).map(Def::Static)
            }
            _ => {
                let ext = ctx
                    .extensions
                    .iter()
                    .find(|e| e.urn.eq_ignore_ascii_case(urn));
                let ext = ext.ok_or_else(|| {
                    format!("unknown schema `{urn}`: declare it under extensions")
                })?;
                p.urn = Some(ext.urn.clone());
                ext.attributes
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&p.attr))
                    .map(|(n, t)| {
                        p.attr = n.clone();
                        Def::Custom(*t)
                    })
            }
        },
    };
    let attr = attr.ok_or_else(|| format!("unknown SCIM attribute `{}`", p.attr))?;
    p.attr = attr.name(&p.attr);
    if let Some((sel, _)) = &mut p.selector {
        if !attr.multi() {
            return Err(format!(
                "`{}` is not multi-valued: a selector needs a multi-valued attribute",
                p.attr
            ));
        }
        *sel = attr
            .sub(sel)
            .ok_or_else(|| format!("unknown sub-attribute `{sel}`"))?
            .name
            .to_owned();
    }
    let sub = match &mut p.sub {
        Some(s) => {
            let d = attr
                .sub(s)
                .ok_or_else(|| format!("unknown sub-attribute `{}.{s}`", p.attr))?;
            *s = d.name.to_owned();
            Some(Def::Static(d))
        }
        None => None,
    };
    Ok(Resolved { attr, sub })
}

fn is_extension_of(core: &SchemaDef, ext: &SchemaDef) -> bool {
    core.id == schema::USER_URN && ext.id == schema::ENTERPRISE_USER_URN
}

/// Compiles one top-level attribute rule; `None` after recording errors.
pub(crate) fn compile_rule(
    ctx: &mut Ctx<'_>,
    key: &SpStr,
    rule: &Spanned<RuleToml>,
) -> Option<AttrRule> {
    let k = format!("attributes.{}", seg(key.get_ref()));
    let mut target = match ScimPath::parse(key.get_ref()) {
        Ok(p) => p,
        Err(e) => return ctx.fail(&k, key.span(), e),
    };
    let res = match resolve(ctx, &mut target) {
        Ok(r) => r,
        Err(e) => return ctx.fail(&k, key.span(), e),
    };
    let leaf = res.sub.unwrap_or(res.attr);
    let picks = matches!(rule.get_ref(), RuleToml::Table(t) if t.select.is_some());
    let shape = match (
        res.attr.multi(),
        target.selector.is_some(),
        target.sub.is_some(),
        res.attr.ty(),
    ) {
        (true, false, true, _) if picks => Ok(false),
        (true, false, true, _) => Err(
            "map a multi-valued sub-attribute with a selector such as `emails[type eq \"work\"].value`, or map the whole attribute with `fields`",
        ),
        (true, false, false, _) => Ok(true),
        (false, _, false, AttrType::Complex) => {
            Err("map the sub-attributes of a complex attribute, e.g. `name.givenName`")
        }
        _ => Ok(false),
    };
    let whole = match shape {
        Ok(w) => w,
        Err(e) => return ctx.fail(&k, key.span(), e),
    };
    let name = key.get_ref().clone();
    let default_mut = if target.attr == "meta" {
        Mutability::ReadOnly
    } else {
        leaf.mutability().min_with(res.attr.mutability())
    };
    let shape = match (whole, picks, target.selector.is_some()) {
        (true, _, _) => Shape::Whole,
        (false, _, true) => Shape::Selected,
        (false, true, false) => Shape::MultiSub,
        _ => Shape::Single,
    };
    let mut r = compile_body(ctx, &k, rule, name, leaf.ty(), default_mut, shape)?;
    r.target = target;
    r.multi = whole;
    if whole {
        r.fields = compile_fields(ctx, &k, rule, res.attr, r.mutability)?;
    }
    Some(r)
}

trait MinWith {
    fn min_with(self, parent: Mutability) -> Mutability;
}
impl MinWith for Mutability {
    /// A sub-attribute of a read-only attribute is read-only.
    fn min_with(self, parent: Mutability) -> Mutability {
        if parent == Mutability::ReadOnly {
            parent
        } else {
            self
        }
    }
}

/// Compiles the element rules of a whole multi-valued attribute.
fn compile_fields(
    ctx: &mut Ctx<'_>,
    k: &str,
    rule: &Spanned<RuleToml>,
    attr: Def,
    mutability: Mutability,
) -> Option<Vec<AttrRule>> {
    let RuleToml::Table(t) = rule.get_ref() else {
        return ctx.fail(
            k,
            rule.span(),
            "a multi-valued attribute needs `fields`, e.g. fields = { value = \"$.addr\" }",
        );
    };
    let Some(fields) = &t.fields else {
        return ctx.fail(
            k,
            rule.span(),
            "a multi-valued attribute needs `fields`, e.g. fields = { value = \"$.addr\" }",
        );
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (fk, fr) in fields {
        let kk = format!("{k}.fields.{}", seg(fk.get_ref()));
        let Some(def) = attr.sub(fk.get_ref()) else {
            ctx.err(
                &kk,
                fk.span(),
                format!("unknown sub-attribute `{}`", fk.get_ref()),
            );
            ok = false;
            continue;
        };
        let m = if mutability == Mutability::ReadOnly {
            mutability
        } else {
            def.mutability
        };
        match compile_body(ctx, &kk, fr, def.name.to_owned(), def.ty, m, Shape::Field) {
            Some(mut r) => {
                r.target = ScimPath {
                    urn: None,
                    attr: def.name.to_owned(),
                    selector: None,
                    sub: None,
                };
                out.push(r);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Compiles the parts of a rule that do not depend on its SCIM shape.
fn compile_body(
    ctx: &mut Ctx<'_>,
    k: &str,
    rule: &Spanned<RuleToml>,
    name: String,
    ty: AttrType,
    default_mut: Mutability,
    shape: Shape,
) -> Option<AttrRule> {
    let table;
    let t: &RuleTable = match rule.get_ref() {
        RuleToml::Path(p) => {
            table = RuleTable {
                path: Some(Spanned::new(rule.span(), p.clone())),
                ..RuleTable::default()
            };
            &table
        }
        RuleToml::Table(t) => t,
    };
    let before = ctx.errors.len();
    let computed =
        t.template.is_some() || t.constant.is_some() || (t.read.is_some() && t.write.is_none());
    let mutability = mutability(ctx, k, t, default_mut, computed);
    let (read, write) = transforms(ctx, k, t);
    if read.iter().any(|t| matches!(t, Transform::Split(_))) {
        // RFC 7643 §2.4: only multi-valued attributes hold arrays, and theirs
        // are of objects; a split string could never be declared in /Schemas.
        ctx.err(
            k,
            rule.span(),
            "`split` would read the app's string as an array, which a single SCIM value cannot hold; use `join` where the app keeps a list and SCIM a string",
        );
    }
    let path_key = if matches!(rule.get_ref(), RuleToml::Path(_)) {
        k.to_owned()
    } else {
        format!("{k}.path")
    };
    let source = source(ctx, k, &path_key, rule.span(), t, mutability);
    let map = value_map(ctx, k, t, ty);
    let host_type = t.ty.as_ref().and_then(|s| match s.get_ref().as_str() {
        "string" => Some(HostType::String),
        "number" => Some(HostType::Number),
        "integer" => Some(HostType::Integer),
        "bool" | "boolean" => Some(HostType::Bool),
        other => ctx.fail(
            &format!("{k}.type"),
            s.span(),
            format!("unknown type `{other}`: use string, number, integer or bool"),
        ),
    });
    let default = t
        .default
        .as_ref()
        .and_then(|d| literal(ctx, &format!("{k}.default"), rule.span(), d));
    let default = match default {
        // A whole multi-valued attribute's default is not checked here.
        Some(d) if ty != AttrType::Complex => match scim_default(ty, &map, d) {
            Ok(v) => Some(v),
            Err(e) => ctx.fail(&format!("{k}.default"), rule.span(), e),
        },
        d => d,
    };
    let write_opts = write_opts(ctx, k, t, shape);
    let empty_absent = match &t.empty {
        Some(e) => crate::mapping::compile::ctx::empty_absent(ctx, &format!("{k}.empty"), e),
        None => ctx.empty_absent,
    };
    if ctx.errors.len() > before {
        return None;
    }
    Some(AttrRule {
        target: ScimPath {
            urn: None,
            attr: String::new(),
            selector: None,
            sub: None,
        },
        name,
        ty,
        multi: false,
        mutability,
        source: source?,
        map,
        host_type,
        read,
        write,
        default,
        empty_absent,
        fields: Vec::new(),
        write_opts,
    })
}

/// A rule's `default` is a SCIM value (read when the app has none, written
/// when the client sends none), so it must be one the attribute can hold:
/// of its type (RFC 7643 §2.3) and, with a value map, one of the map's
/// keys, which are the attribute's `canonicalValues`. It is kept in its
/// SCIM form (`"true"` for a boolean becomes `true`).
fn scim_default(ty: AttrType, map: &[(String, Value)], d: Value) -> Result<Value, String> {
    if !map.is_empty() {
        let key = match &d {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let hit = map
            .iter()
            .find(|(k, _)| *k == key)
            .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)));
        let Some((k, _)) = hit else {
            let keys: Vec<&str> = map.iter().map(|(k, _)| k.as_str()).collect();
            return Err(format!(
                "the default {d} is not one of the map's keys ({})",
                keys.join(", ")
            ));
        };
        let v = match ty {
            AttrType::Integer | AttrType::Decimal => serde_json::from_str(k)
                .map(Value::Number)
                .unwrap_or_else(|_| Value::String(k.clone())),
            _ => Value::String(k.clone()),
        };
        return scim_default(ty, &[], v);
    }
    let ok = match (ty, &d) {
        (AttrType::Boolean, Value::Bool(_)) => return Ok(d),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            return Ok(Value::Bool(true));
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            return Ok(Value::Bool(false));
        }
        (AttrType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (AttrType::Decimal, Value::Number(_)) => true,
        (AttrType::DateTime, Value::String(s)) => {
            schema::datetime::parse_rfc3339_nanos(s).is_some()
        }
        (AttrType::String | AttrType::Reference | AttrType::Binary, Value::String(_)) => true,
        _ => false,
    };
    if ok {
        Ok(d)
    } else {
        Err(format!(
            "the default {d} is not a SCIM {} value",
            ty.as_str()
        ))
    }
}

fn mutability(
    ctx: &mut Ctx<'_>,
    k: &str,
    t: &RuleTable,
    default: Mutability,
    computed: bool,
) -> Mutability {
    let Some(m) = &t.mutability else {
        return if computed {
            Mutability::ReadOnly
        } else {
            default
        };
    };
    let parsed = match m.get_ref().as_str() {
        "readOnly" => Mutability::ReadOnly,
        "readWrite" => Mutability::ReadWrite,
        "writeOnly" => Mutability::WriteOnly,
        "immutable" => Mutability::Immutable,
        other => {
            ctx.err(
                &format!("{k}.mutability"),
                m.span(),
                format!(
                    "unknown mutability `{other}`: use readOnly, readWrite, writeOnly or immutable"
                ),
            );
            return default;
        }
    };
    if parsed.is_writable() && computed {
        ctx.err(&format!("{k}.mutability"), m.span(), "a template, constant or read-only transform cannot be inverted: the attribute must be readOnly");
    } else if parsed.is_writable() && default == Mutability::ReadOnly {
        ctx.err(
            &format!("{k}.mutability"),
            m.span(),
            "this attribute is readOnly in the SCIM schema",
        );
    }
    parsed
}

fn transforms(ctx: &mut Ctx<'_>, k: &str, t: &RuleTable) -> (Vec<Transform>, Vec<Transform>) {
    let mut list = |name: &str, items: &[Spanned<toml::Value>]| -> Vec<Transform> {
        items
            .iter()
            .filter_map(|it| {
                let key = format!("{k}.{name}");
                let v = env_value(ctx, &key, it.span(), it.get_ref())?;
                let v = no_placeholder(ctx, &key, it.span(), v, "transform arguments")?;
                Transform::parse(&v)
                    .map_err(|e| ctx.err(&key, it.span(), e))
                    .ok()
            })
            .collect()
    };
    let both = list("transform", &t.transform);
    let mut read = both.clone();
    let mut write: Vec<Transform> = both.into_iter().rev().collect();
    if let Some(r) = &t.read {
        read.extend(list("read", r));
    }
    if let Some(w) = &t.write {
        let mut w = list("write", w);
        w.extend(write);
        write = w;
    }
    (read, write)
}

fn source(
    ctx: &mut Ctx<'_>,
    k: &str,
    pk: &str,
    span: std::ops::Range<usize>,
    t: &RuleTable,
    m: Mutability,
) -> Option<Source> {
    match (&t.path, &t.template, &t.constant) {
        (Some(p), None, None) => {
            let read = ReadPath::compile(p.get_ref())
                .map_err(|e| ctx.err(pk, p.span(), format!("invalid JSONPath: {e}")))
                .ok()?;
            let write = if m.is_writable() {
                let w = WritePath::parse(p.get_ref());
                let w = w.map_err(|e| ctx.err(pk, p.span(), format!("not a writable path ({e}): use `$.a.b`, `$.a[0]` or `$['key']`, or make the rule readOnly")));
                Some(w.ok()?)
            } else {
                None
            };
            Some(Source::Path { read, write })
        }
        (None, Some(tpl), None) => Template::parse(tpl.get_ref(), ReadPath::compile)
            .map(Source::Template)
            .map_err(|e| {
                ctx.err(
                    &format!("{k}.template"),
                    tpl.span(),
                    format!("invalid template: {}", e.join("; ")),
                )
            })
            .ok(),
        (None, None, Some(c)) => {
            literal(ctx, &format!("{k}.const"), span.clone(), c).map(Source::Const)
        }
        _ => ctx.fail(
            k,
            span,
            "a rule needs exactly one of `path`, `template` or `const`",
        ),
    }
}

fn value_map(ctx: &mut Ctx<'_>, k: &str, t: &RuleTable, ty: AttrType) -> Vec<(String, Value)> {
    let Some(m) = &t.map else { return Vec::new() };
    let mut out: Vec<(String, Value)> = Vec::new();
    for (scim, host) in m.get_ref() {
        if ty == AttrType::Boolean && scim != "true" && scim != "false" {
            ctx.err(
                &format!("{k}.map"),
                m.span(),
                format!("`{scim}` is not a boolean: the keys of a boolean map are true and false"),
            );
        }
        // An array lists several host values read as this SCIM value; the
        // first is the one written (a third account state: `false =
        // ["suspended", "locked"]`).
        let what = "`map` values";
        let Some(host) = no_placeholder(ctx, &format!("{k}.map"), m.span(), host.clone(), what)
        else {
            continue;
        };
        let hosts: Vec<Value> = match serde_json::to_value(host).unwrap_or(Value::Null) {
            Value::Array(a) if !a.is_empty() => a,
            v => vec![v],
        };
        for host in hosts {
            if out.iter().any(|(s, h)| *h == host && s == scim) {
                ctx.err(
                    &format!("{k}.map"),
                    m.span(),
                    format!("host value {host} is listed twice for `{scim}`"),
                );
            }
            out.push((scim.clone(), host));
        }
    }
    // Several SCIM values may share a host value (home, work, other →
    // "email") when the rule's default names the one to read back.
    let default = t.default.as_ref().and_then(toml::Value::as_str);
    for (i, (scim, host)) in out.iter().enumerate() {
        let shared = out[..i].iter().any(|(s, h)| h == host && s != scim);
        let readable = default.is_some_and(|d| out.iter().any(|(s, h)| h == host && s == d));
        if shared && !readable {
            ctx.err(
                &format!("{k}.map"),
                m.span(),
                format!("host value {host} is mapped twice, so reading it back is ambiguous: set `default` to the SCIM value it reads as"),
            );
            break;
        }
    }
    out
}
