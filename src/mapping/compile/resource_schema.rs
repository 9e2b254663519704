//! Builds a resource type's compiled [`ResourceSchema`] from its compiled
//! attribute rules: exactly the attributes and sub-attributes a response
//! can carry, with RFC 7643's characteristics overridden by the mapping
//! (mutability, custom extension types), `canonicalValues` narrowed to the
//! values the mapping can store, `primary` declared wherever the sidecar
//! marks one, `uniqueness: server` for attributes it checks before
//! writing, and `returned: never` for attributes it never returns.

use crate::mapping::compile::ctx::{Ctx, Extension, seg};
use crate::mapping::model::rule::{AttrRule, Source};
use crate::mapping::raw::ResourceToml;
use crate::schema::{
    self, AttrDef, AttrType, Attribute, ENTERPRISE_USER_URN, Mutability, ResourceSchema, Returned,
    Uniqueness,
};

/// The schema of the resource mapped by `rules`; `unique` lists the
/// canonical attribute paths checked for uniqueness before writes.
pub(crate) fn build_schema(ctx: &Ctx<'_>, rules: &[AttrRule], unique: &[String]) -> ResourceSchema {
    let mut s = ResourceSchema::empty(ctx.core);
    let mut selector_seen: Vec<(Option<String>, String, String)> = Vec::new();
    for r in rules {
        let t = &r.target;
        if t.urn.is_none() && (t.attr == "id" || t.attr == "meta") {
            continue; // common attributes (RFC 7643 §3.1), declared by `empty`
        }
        let def = static_def(ctx, t.urn.as_deref(), &t.attr);
        let top = top_attribute(&mut s, ctx, t.urn.as_deref(), &t.attr, def, r.ty);
        match (&t.selector, &t.sub, r.multi) {
            (_, _, true) => declare_whole(top, def, r),
            (Some((sel, want)), sub, _) => {
                let key = (t.urn.clone(), t.attr.clone(), sel.clone());
                let first = !selector_seen.contains(&key);
                if first {
                    selector_seen.push(key);
                }
                declare_selected(top, def, sel, want, sub.as_deref(), r, first);
            }
            (None, Some(sub), false) => {
                let sd = def.and_then(|d| d.sub(sub));
                let a = top.ensure_sub(sub, sd);
                a.mutability = r.mutability;
                narrow_canonical(a, r);
                // One host field read as the primary element.
                if r.write_opts.pick_primary
                    && let Some(p) = def.and_then(|d| d.sub("primary"))
                {
                    top.ensure_sub("primary", Some(p));
                }
            }
            (None, None, false) => {
                top.mutability = r.mutability;
                if def.is_none() {
                    top.ty = r.ty;
                }
                narrow_canonical(top, r);
            }
        }
    }
    settle_parents(&mut s);
    never_return_write_only(&mut s);
    for u in unique {
        mark_unique(&mut s, u);
    }
    s
}

/// The RFC 7643 definition of a top-level attribute, if it has one.
fn static_def(ctx: &Ctx<'_>, urn: Option<&str>, name: &str) -> Option<&'static AttrDef> {
    match urn {
        None => ctx.core.attr(name).or_else(|| schema::common(name)),
        Some(u) => schema::schema_by_urn(u).and_then(|sd| sd.attr(name)),
    }
}

/// The top-level attribute `name`, declared (from `def`, else as a custom
/// attribute of type `ty`) in its schema when missing.
fn top_attribute<'s>(
    s: &'s mut ResourceSchema,
    ctx: &Ctx<'_>,
    urn: Option<&str>,
    name: &str,
    def: Option<&'static AttrDef>,
    ty: AttrType,
) -> &'s mut Attribute {
    let (schema_id, sname, desc) = match urn {
        None => (
            ctx.core.id.to_owned(),
            ctx.core.name.to_owned(),
            String::new(),
        ),
        Some(u) if u.eq_ignore_ascii_case(ENTERPRISE_USER_URN) => (
            ENTERPRISE_USER_URN.to_owned(),
            "EnterpriseUser".to_owned(),
            "Enterprise User".to_owned(),
        ),
        Some(u) => {
            let ext = ctx
                .extensions
                .iter()
                .find(|e| e.urn.eq_ignore_ascii_case(u));
            let n = ext.map_or_else(|| "Extension".to_owned(), |e| e.name.clone());
            (u.to_owned(), n.clone(), n)
        }
    };
    let schema = s.schema_mut(&schema_id, &sname, &desc);
    let pos = schema
        .attributes
        .iter()
        .position(|a| a.name.eq_ignore_ascii_case(name));
    let i = match pos {
        Some(i) => i,
        None => {
            schema.attributes.push(match def {
                Some(d) => Attribute::from_def(d),
                None => Attribute::custom(name, ty),
            });
            schema.attributes.len() - 1
        }
    };
    &mut schema.attributes[i]
}

/// A whole multi-valued rule with per-element `fields`.
fn declare_whole(top: &mut Attribute, def: Option<&'static AttrDef>, r: &AttrRule) {
    top.mutability = r.mutability;
    if r.write_opts.primary_first
        && let Some(p) = def.and_then(|d| d.sub("primary"))
    {
        top.ensure_sub("primary", Some(p));
    }
    for f in &r.fields {
        let name = &f.target.attr;
        let a = top.ensure_sub(name, def.and_then(|d| d.sub(name)));
        a.mutability = f.mutability;
        narrow_canonical(a, f);
    }
}

/// A selector rule such as `emails[type eq "work"].value`: the selected
/// sub-attribute, the selector (whose canonical values are exactly the
/// selectors mapped) and `primary`, which the sidecar sets on a value that
/// is the only one of its attribute.
fn declare_selected(
    top: &mut Attribute,
    def: Option<&'static AttrDef>,
    sel: &str,
    want: &str,
    sub: Option<&str>,
    r: &AttrRule,
    first: bool,
) {
    if let Some(sub) = sub {
        let a = top.ensure_sub(sub, def.and_then(|d| d.sub(sub)));
        a.mutability = r.mutability;
        narrow_canonical(a, r);
    }
    let s = top.ensure_sub(sel, def.and_then(|d| d.sub(sel)));
    if first {
        s.canonical_values.clear();
    }
    if !s.canonical_values.iter().any(|v| v == want) {
        s.canonical_values.push(want.to_owned());
    }
    if let Some(p) = def.and_then(|d| d.sub("primary")) {
        top.ensure_sub("primary", Some(p));
    }
}

/// A value map closes the set of values a string attribute can hold: its
/// SCIM keys become the `canonicalValues`; a constant is its own one value.
fn narrow_canonical(a: &mut Attribute, r: &AttrRule) {
    if a.ty != AttrType::String {
        return;
    }
    if !r.map.is_empty() {
        a.canonical_values = r.map.iter().map(|(k, _)| k.clone()).collect();
    } else if let Source::Const(serde_json::Value::String(c)) = &r.source {
        a.canonical_values = vec![c.clone()];
    }
}

/// A complex attribute whose mapped sub-attributes are all readOnly is
/// readOnly itself; one whose sub-attributes are all immutable is
/// immutable.
fn settle_parents(s: &mut ResourceSchema) {
    let schemas = std::iter::once(&mut s.core).chain(s.extensions.iter_mut());
    for schema in schemas {
        for a in &mut schema.attributes {
            if a.ty != AttrType::Complex || a.sub_attributes.is_empty() {
                continue;
            }
            let writable =
                |m: Mutability| matches!(m, Mutability::ReadWrite | Mutability::WriteOnly);
            if !a
                .sub_attributes
                .iter()
                .any(|x| x.mutability != Mutability::ReadOnly)
            {
                a.mutability = Mutability::ReadOnly;
            } else if !a.multi_valued && !a.sub_attributes.iter().any(|x| writable(x.mutability)) {
                a.mutability = Mutability::Immutable;
            }
        }
    }
}

/// Declares `members` (RFC 7643 §4.2) as the group handlers return it:
/// `value`, `$ref`, `type` (always `User` here) and, when the app names
/// members, `display`.
pub(crate) fn declare_members(s: &mut ResourceSchema, display: bool) {
    let Some(def) = schema::GROUP_SCHEMA.attr("members") else {
        return;
    };
    let mut members = Attribute::from_def(def);
    members.mutability = Mutability::ReadWrite;
    for name in ["value", "$ref", "type"] {
        members.ensure_sub(name, def.sub(name));
    }
    if display {
        members.ensure_sub("display", def.sub("display"));
    }
    if let Some(t) = members.sub_attributes.iter_mut().find(|a| a.name == "type") {
        t.canonical_values = vec!["User".into()];
    }
    s.core.attributes.retain(|a| a.name != "members");
    s.core.attributes.push(members);
}

/// Groups as roles: `displayName` names a role, so it is declared (the
/// group has no attribute rules) and immutable.
pub(crate) fn declare_role_name(s: &mut ResourceSchema) {
    let Some(def) = schema::GROUP_SCHEMA.attr("displayName") else {
        return;
    };
    let mut name = Attribute::from_def(def);
    name.mutability = Mutability::Immutable;
    name.uniqueness = Uniqueness::Server;
    s.core.attributes.retain(|a| a.name != "displayName");
    s.core.attributes.insert(0, name);
}

/// RFC 7643 §2.2: the values of a `writeOnly` attribute "SHALL NOT be
/// returned", so one made writeOnly by the mapping is `returned: never`
/// (never `default`, which would promise it in every answer).
fn never_return_write_only(s: &mut ResourceSchema) {
    fn walk(attrs: &mut [Attribute]) {
        for a in attrs {
            if a.mutability == Mutability::WriteOnly {
                a.returned = Returned::Never;
            }
            walk(&mut a.sub_attributes);
        }
    }
    walk(&mut s.core.attributes);
    for e in &mut s.extensions {
        walk(&mut e.attributes);
    }
}

/// `uniqueness: server` for an attribute the sidecar checks before writes.
fn mark_unique(s: &mut ResourceSchema, path: &str) {
    let (urn, rest) = schema::split_urn(path);
    let (name, sub) = match rest.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    let Some(attr) = s.attribute_mut(urn, name) else {
        return;
    };
    let target = match sub {
        Some(sub) => attr
            .sub_attributes
            .iter_mut()
            .find(|x| x.name.eq_ignore_ascii_case(sub)),
        None => Some(attr),
    };
    if let Some(t) = target
        && t.uniqueness == Uniqueness::None
    {
        t.uniqueness = Uniqueness::Server;
    }
}

/// `[[<resource>.extensions]]`: custom schema extensions with their own
/// `urn:` ids and typed attributes.
pub(crate) fn extensions(ctx: &mut Ctx<'_>, raw: &ResourceToml) -> Vec<Extension> {
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
