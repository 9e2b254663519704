//! Attribute rules from the record schema: each SCIM attribute is matched
//! to the best field by name (the vocabulary in [`super::names`]), format
//! (`email`, `date-time`) and type; `readOnly` fields and fields neither
//! the create nor the update body carries become read-only rules,
//! `writeOnly`/password fields write-only, integer timestamps epoch
//! transforms, and the account state a boolean, an inverted boolean or an
//! enum with a value map. What no rule covers is listed in a comment.

use super::compound::{addresses, manager, multi_valued};
use super::model::{Entry, Tv};
use super::names;
use super::schema::{self, Field, Kind};
use super::spec::Spec;
use super::state::{active, password};

/// The request and answer bodies of one resource's operations, relative
/// to their envelopes.
pub struct Bodies<'a> {
    /// The record as `get` returns it.
    pub record: Vec<Field<'a>>,
    /// The create body's fields, when the document describes it.
    pub create: Option<Vec<Field<'a>>>,
    /// The update body's fields, when the document describes it.
    pub update: Option<Vec<Field<'a>>>,
}

/// The rules drafted for one resource.
#[derive(Default)]
pub struct Found {
    pub entries: Vec<Entry>,
    pub notes: Vec<String>,
    /// The host path of the SCIM id.
    pub id: Vec<String>,
    /// Host paths of the attributes a lookup may need.
    pub user_name: Option<Vec<String>>,
    pub email: Option<Vec<String>>,
    pub external_id: Option<Vec<String>>,
    /// The account-state field, when there is one.
    pub active: Option<Vec<String>>,
}

pub(super) fn is_scalar(k: Kind) -> bool {
    matches!(
        k,
        Kind::String | Kind::Integer | Kind::Number | Kind::Boolean | Kind::Unknown
    )
}

pub(super) fn parent(f: &Field<'_>) -> String {
    f.path
        .len()
        .checked_sub(2)
        .map(|i| schema::snake(&f.path[i]))
        .unwrap_or_default()
}

/// Whether `path` is an id-like parameter name (`id`, `user-id`, `pk`, `uuid`, `userId`).
pub fn id_like(param: &str) -> bool {
    let w = schema::words(param);
    matches!(
        w.last().map(String::as_str),
        Some("id" | "pk" | "uuid" | "key" | "sid" | "uid")
    )
}

/// The record field a path parameter names (`{username}` → `username`,
/// `{user-id}` → `id`).
fn param_field<'a, 'f>(record: &'f [Field<'a>], param: &str) -> Option<&'f Field<'a>> {
    let snake = schema::snake(param);
    let top = |name: &str| {
        record
            .iter()
            .find(|f| f.path.len() == 1 && schema::snake(f.name()) == name)
    };
    top(&snake).or_else(|| {
        let stripped = ["user_", "group_", "team_", "role_"]
            .iter()
            .find_map(|p| snake.strip_prefix(p))?;
        top(stripped)
    })
}

/// The item path's key parameter: its name and type.
#[derive(Clone, Copy)]
pub struct ItemKey<'k> {
    pub name: &'k str,
    pub kind: Kind,
    pub uuid: bool,
}

/// Parameters that name the login rather than an id.
fn login_like(param: &str) -> bool {
    matches!(
        schema::snake(param).as_str(),
        "username"
            | "user_name"
            | "login"
            | "name"
            | "handle"
            | "user"
            | "login_name"
            | "screen_name"
            | "group_name"
    )
}

/// The record field that is the SCIM id: the field the item path is keyed
/// by (`{username}` → the login), else an id field of the key's type.
fn id_field(
    record: &[Field<'_>],
    key: Option<ItemKey<'_>>,
    login: Option<&Vec<String>>,
) -> (Vec<String>, String) {
    let top = |name: &str| {
        record
            .iter()
            .find(|f| f.path.len() == 1 && schema::snake(f.name()) == name)
    };
    if let Some(k) = key {
        if let Some(f) = param_field(record, k.name) {
            let why = if id_like(k.name) {
                "the record's id".to_owned()
            } else {
                format!("the item path is keyed by {{{}}}", k.name)
            };
            return (f.path.clone(), why);
        }
        if login_like(k.name)
            && let Some(l) = login
        {
            return (
                l.clone(),
                format!("the item path is keyed by {{{}}}, the login", k.name),
            );
        }
        let typed = ["id", "pk", "uuid", "user_id", "key", "slug"]
            .iter()
            .filter_map(|n| top(n))
            .find(|f| {
                let kind_ok = k.kind == Kind::Unknown
                    || f.kind == k.kind
                    || (k.kind == Kind::String && f.kind == Kind::Unknown);
                kind_ok
                    && (!k.uuid
                        || f.format == "uuid"
                        || f.name().contains("uuid")
                        || f.kind == Kind::String)
            });
        if let Some(f) = typed {
            return (
                f.path.clone(),
                format!("the record's id, typed like {{{}}}", k.name),
            );
        }
    }
    let any = ["id", "uuid", "pk", "user_id"].iter().find_map(|n| top(n));
    (
        any.map_or_else(|| vec!["id".to_owned()], |f| f.path.clone()),
        "the record's id".to_owned(),
    )
}

fn push_id(found: &mut Found, why: String) {
    found.entries.insert(
        0,
        Entry::new(
            "id",
            Tv::table([
                ("path", Tv::s(schema::json_path(&found.id))),
                ("mutability", Tv::s("readOnly")),
            ]),
            why,
        ),
    );
}

/// Fields whose description says what they are, whatever their name.
const DESCRIBED: &[(&str, &[&str])] = &[
    (
        "locale",
        &["user locale", "the user's locale", "locale of the user"],
    ),
    ("profileUrl", &["profile page", "profile url"]),
    ("title", &["job title"]),
    ("preferredLanguage", &["preferred language"]),
];

/// Drafts the User rules.
pub fn users(
    spec: &Spec,
    b: &Bodies<'_>,
    key: Option<ItemKey<'_>>,
    actions: bool,
    create_required: &[String],
) -> Found {
    let mut found = Found::default();
    let mut used: Vec<Vec<String>> = Vec::new();
    let keyed = key
        .filter(|k| login_like(k.name))
        .and_then(|k| param_field(&b.record, k.name));
    for (attr, phrases) in DESCRIBED {
        let hit = b.record.iter().find(|f| {
            is_scalar(f.kind)
                && !used.contains(&f.path)
                && phrases
                    .iter()
                    .any(|p| f.description.to_lowercase().contains(p))
        });
        if let Some(f) = hit {
            used.push(f.path.clone());
            let mut rule = Rule::path(f);
            rule.comment.push_str(&format!(
                " (\"{}\")",
                super::text::short(&f.description, 40)
            ));
            writability(b, f, attr, &mut rule);
            found.entries.push(rule.entry(attr));
        }
    }

    for (attr, _) in names::USER {
        if found.entries.iter().any(|e| e.key == *attr) {
            continue;
        }
        let Some(f) = best(b, attr, &used) else {
            continue;
        };
        let mut rule = Rule::path(f);
        if !type_fits(attr, f, &mut rule) {
            continue;
        }
        used.push(f.path.clone());
        match *attr {
            "userName" => found.user_name = Some(f.path.clone()),
            "emails" => found.email = Some(f.path.clone()),
            "externalId" => found.external_id = Some(f.path.clone()),
            _ => {}
        }
        writability(b, f, attr, &mut rule);
        found.entries.push(rule.entry(&names::scim_key(attr)));
    }
    // A record keyed by `name` (or with only `name`) holds the login there.
    if found.user_name.is_none()
        && let Some(f) = keyed
            .filter(|f| f.kind == Kind::String)
            .or_else(|| top_named(b, "name", &used))
    {
        used.push(f.path.clone());
        found.user_name = Some(f.path.clone());
        let mut rule = Rule::path(f);
        rule.comment = format!("field `{}` (the login: no username field)", f.name());
        writability(b, f, "userName", &mut rule);
        found.entries.push(rule.entry("userName"));
    }
    if found.user_name.is_none() && found.email.is_some() {
        // The login is the e-mail address: userName owns the field and
        // the work e-mail reads the same value.
        let email = found.email.clone().unwrap_or_default();
        let key = names::scim_key("emails");
        if let Some(e) = found.entries.iter_mut().find(|e| e.key == key) {
            e.key = "userName".into();
            e.comment = format!(
                "{} (no username field: the login is the e-mail address)",
                e.comment
            );
        }
        found.entries.push(Entry::new(
            key,
            Tv::table([
                ("path", Tv::s(schema::json_path(&email))),
                ("mutability", Tv::s("readOnly")),
            ]),
            "the same field, read-only: userName writes it",
        ));
        found.user_name = Some(email);
    }
    if !found.entries.iter().any(|e| e.key == "displayName")
        && let Some(f) = top_named(b, "name", &used).filter(|f| f.kind == Kind::String)
    {
        used.push(f.path.clone());
        let mut rule = Rule::path(f);
        writability(b, f, "displayName", &mut rule);
        found.entries.push(rule.entry("displayName"));
    }
    formatted(&mut found);
    multi_valued(spec, b, &mut found, &mut used);
    manager(b, &mut found, &mut used);
    addresses(b, &mut found, &mut used);
    active(b, &mut found, &mut used, actions);
    password(b, &mut found, create_required);
    let (id, why) = id_field(&b.record, key, found.user_name.as_ref());
    found.id = id;
    used.push(found.id.clone());
    push_id(&mut found, why);
    let left: Vec<String> = b
        .record
        .iter()
        .filter(|f| {
            is_scalar(f.kind)
                && f.path.len() <= 2
                && !f.write_only
                && !f
                    .path
                    .iter()
                    .any(|k| k.to_ascii_lowercase().contains("password"))
                && !used
                    .iter()
                    .any(|u| f.path.starts_with(u) || u.starts_with(&f.path))
        })
        .map(|f| f.path.join("."))
        .take(12)
        .collect();
    if !left.is_empty() {
        found.notes.push(format!("not mapped: {}", left.join(", ")));
    }
    sort(&mut found.entries);
    found
}

/// Drafts the Group rules.
pub fn groups(b: &Bodies<'_>, key: Option<ItemKey<'_>>) -> Found {
    let mut found = Found::default();
    let mut used: Vec<Vec<String>> = Vec::new();
    for (attr, names) in names::GROUP {
        let Some(f) = b
            .record
            .iter()
            .filter(|f| {
                is_scalar(f.kind)
                    && (f.path.len() == 1 || (f.path.len() == 2 && parent(f) == "profile"))
                    && !used.contains(&f.path)
            })
            .filter_map(|f| {
                names
                    .iter()
                    .position(|n| *n == schema::snake(f.name()))
                    .map(|r| (r, f))
            })
            .min_by_key(|(r, _)| *r)
            .map(|(_, f)| f)
        else {
            continue;
        };
        let mut rule = Rule::path(f);
        if !type_fits(attr, f, &mut rule) {
            continue;
        }
        used.push(f.path.clone());
        if *attr == "displayName" {
            found.user_name = Some(f.path.clone());
        }
        writability(b, f, attr, &mut rule);
        found.entries.push(rule.entry(attr));
    }
    let (id, why) = id_field(&b.record, key, found.user_name.as_ref());
    found.id = id;
    push_id(&mut found, why);
    sort(&mut found.entries);
    found
}

fn top_named<'a, 'f>(b: &'f Bodies<'a>, name: &str, used: &[Vec<String>]) -> Option<&'f Field<'a>> {
    b.record
        .iter()
        .find(|f| f.path.len() == 1 && f.name() == name && !used.contains(&f.path))
}

/// The best unused scalar field for `attr`.
fn best<'a, 'f>(b: &'f Bodies<'a>, attr: &str, used: &[Vec<String>]) -> Option<&'f Field<'a>> {
    let mut scored: Vec<(usize, usize, &Field<'a>)> = b
        .record
        .iter()
        .filter(|f| is_scalar(f.kind) && !used.contains(&f.path))
        .filter(|f| !f.path.iter().any(|k| k.eq_ignore_ascii_case("manager")))
        .filter(|f| {
            attr.starts_with("meta.") || !matches!(f.path[0].as_str(), "meta" | "_links" | "links")
        })
        .filter_map(|f| {
            names::rank(names::USER, attr, &schema::snake(f.name()), &parent(f))
                .map(|r| (r, f.path.len(), f))
        })
        .collect();
    if attr == "emails" && scored.is_empty() {
        scored = b
            .record
            .iter()
            .filter(|f| f.kind == Kind::String && f.format == "email" && !used.contains(&f.path))
            .map(|f| (0, f.path.len(), f))
            .collect();
    }
    scored.sort_by_key(|a| (a.0, a.1));
    scored.first().map(|(_, _, f)| *f)
}

/// A rule being built.
pub(super) struct Rule {
    pairs: Vec<(String, Tv)>,
    pub(super) comment: String,
}

impl Rule {
    pub(super) fn path(f: &Field<'_>) -> Self {
        let mut comment = format!("field `{}`", f.path.join("."));
        if !f.format.is_empty() {
            comment.push_str(&format!(", format {}", f.format));
        }
        Self {
            pairs: vec![("path".into(), Tv::s(f.json_path()))],
            comment,
        }
    }

    pub(super) fn add(&mut self, key: &str, v: Tv) {
        self.pairs.push((key.into(), v));
    }

    pub(super) fn entry(self, key: &str) -> Entry {
        let value = match self.pairs.as_slice() {
            [(k, v)] if k == "path" => v.clone(),
            _ => Tv::Table(self.pairs),
        };
        Entry::new(key, value, self.comment)
    }
}

/// Whether `f`'s type suits `attr`; adds the transform a timestamp needs.
fn type_fits(attr: &str, f: &Field<'_>, rule: &mut Rule) -> bool {
    match attr {
        "meta.created" | "meta.lastModified" => match f.kind {
            Kind::Integer | Kind::Number => {
                let w = schema::words(f.name());
                let millis = f.format == "int64" && !w.iter().any(|x| x == "at" || x == "seconds")
                    || w.iter()
                        .any(|x| x == "ms" || x == "millis" || x == "timestamp")
                    || f.description.to_lowercase().contains("millisecond");
                let t = if millis {
                    "epoch_millis"
                } else {
                    "epoch_seconds"
                };
                rule.add("transform", Tv::Arr(vec![Tv::s(t)]));
                rule.comment.push_str(&format!(", {t}"));
                true
            }
            Kind::String => f.format != "date",
            _ => false,
        },
        "meta.version" => f.path.len() == 1 && matches!(f.kind, Kind::Integer | Kind::String),
        "emails" | "userName" | "externalId" | "displayName" => {
            matches!(f.kind, Kind::String | Kind::Unknown | Kind::Integer)
        }
        _ => f.kind != Kind::Boolean,
    }
}

/// Adds `mutability = "readOnly"` where the app does not take the field.
pub(super) fn writability(b: &Bodies<'_>, f: &Field<'_>, attr: &str, rule: &mut Rule) {
    if attr.starts_with("meta.") {
        return;
    }
    let in_body = |fields: &Option<Vec<Field<'_>>>| {
        fields
            .as_ref()
            .map(|fs| fs.iter().any(|x| x.path == f.path))
    };
    let why = if f.read_only {
        Some("readOnly in the document")
    } else {
        match (in_body(&b.create), in_body(&b.update)) {
            (Some(false), Some(false)) => Some("in neither the create nor the update body"),
            (Some(false), None) => Some("not in the create body"),
            (None, Some(false)) if b.create.is_none() => Some("not in the update body"),
            _ => None,
        }
    };
    if let Some(why) = why {
        rule.add("mutability", Tv::s("readOnly"));
        rule.comment.push_str(&format!("; {why}"));
    }
}

/// `name.formatted` composed from the name parts when the record has none.
fn formatted(found: &mut Found) {
    let path_of = |key: &str| {
        found
            .entries
            .iter()
            .find(|e| e.key == key)
            .and_then(|e| match &e.value {
                Tv::Str(s) => Some(s.clone()),
                Tv::Table(t) => t
                    .iter()
                    .find(|(k, _)| k == "path")
                    .and_then(|(_, v)| v.as_str().map(str::to_owned)),
                _ => None,
            })
    };
    if found.entries.iter().any(|e| e.key == "name.formatted") {
        return;
    }
    if let (Some(g), Some(f)) = (path_of("name.givenName"), path_of("name.familyName")) {
        found.entries.push(Entry::new(
            "name.formatted",
            Tv::table([("template", Tv::s(format!("{{{g}}} {{{f}}}")))]),
            "composed from the name parts (read-only)",
        ));
    }
}

/// id first, then core attributes, then the enterprise extension, then meta.
fn sort(entries: &mut [Entry]) {
    let rank = |k: &str| {
        if k == "id" {
            0
        } else if k.starts_with(names::ENTERPRISE) {
            2
        } else if k.starts_with("meta.") {
            3
        } else {
            1
        }
    };
    entries.sort_by_key(|e| rank(&e.key));
}
