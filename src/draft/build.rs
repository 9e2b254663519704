//! Putting a draft together: the shared context (the base path, the path
//! parameters that become connection variables), the `[users]` table —
//! which family, which operation for each role and why, the record and
//! its envelopes, lookups, paging, actions, errors — and the top of the
//! file (server, upstream, credentials, connection).

use super::actions;
use super::attributes::{self, Bodies};
use super::auth;
use super::error::{DraftError, Hint};
use super::errors;
use super::groups;
use super::model::{Draft, Entry, Op, Resource, Tv};
use super::ops::{self, In, Method, Operation};
use super::paging;
use super::resources::{self, Family, Noun};
use super::schema::{self, Field};
use super::search::{self, ByKey, Target};
use super::spec::{Node, Spec};
use super::text;

/// What the command line decides.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `--app-url`.
    pub app_url: Option<String>,
    /// `--listen`.
    pub listen: String,
    /// `--idp`.
    pub idp: String,
}

/// Shared while drafting: the base path and the connection variables the
/// paths need.
pub struct Ctx<'a> {
    pub spec: &'a Spec,
    pub base: String,
    pub vars: Vec<Entry>,
}

impl Ctx<'_> {
    /// The mapping's path template for a document path: the base path in
    /// front, `subst` parameters replaced, every other parameter a
    /// connection variable.
    pub fn template(&mut self, path: &str, subst: &[(&str, &str)]) -> String {
        let mut out = String::new();
        let mut rest = path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                out.push_str(&rest[open..]);
                rest = "";
                break;
            };
            let name = &rest[open + 1..open + close];
            match subst.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => out.push_str(v),
                None => {
                    let var = schema::snake(name);
                    if !self.vars.iter().any(|e| e.key == var) {
                        self.vars.push(Entry::new(
                            var.clone(),
                            Tv::s(format!("${{APP_{}}}", var.to_ascii_uppercase())),
                            format!("the `{{{name}}}` segment of every path"),
                        ));
                    }
                    out.push_str(&format!("{{conn.{var}}}"));
                }
            }
            rest = &rest[open + close + 1..];
        }
        out.push_str(rest);
        format!("{}{}", self.base, out)
    }
}

/// The whole draft from a document.
pub fn build(spec: &Spec, settings: &Settings, source: &str) -> Result<Draft, DraftError> {
    let all = ops::operations(spec);
    let (base, server) = ops::base(spec);
    let mut ctx = Ctx {
        spec,
        base,
        vars: Vec::new(),
    };
    let user_fams = resources::families(spec, &all, Noun::Users);
    let Some(primary) = user_fams.first().filter(|f| f.score > -40) else {
        return Err(no_users(&all, &user_fams));
    };
    let mut used: Vec<&Operation<'_>> = Vec::new();
    let users = users(&mut ctx, &user_fams, primary, &mut used);
    let group_fams = resources::families(spec, &all, Noun::Groups);
    let groups = groups::groups(&mut ctx, &group_fams, &user_fams, &users, &mut used);
    let scim_note = all
        .iter()
        .find(|o| resources::segments(&o.path).iter().any(|s| s.eq_ignore_ascii_case("scim")))
        .map(|o| format!("the app serves SCIM itself ({} {}): an IdP can be pointed there without the sidecar", o.method.upper(), o.path));
    if let Some(problem) = spec.take_problem() {
        return Err(problem);
    }
    let auth = auth::auth(spec, &used);
    let fam_refs: Vec<&Family<'_>> = user_fams
        .iter()
        .filter(|f| resources::bare(&f.word) == resources::bare(&primary.word))
        .collect();
    let mut footer = actions::shapes(&all, &fam_refs, users.op("get").is_some());
    footer.extend(scim_note);
    let (upstream, upstream_notes) = upstream(settings, server.as_deref(), spec);
    let title = spec
        .root()
        .v
        .pointer("/info/title")
        .and_then(|v| v.as_str())
        .unwrap_or("the app");
    let version = spec
        .root()
        .v
        .pointer("/info/version")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let dialect = match spec.dialect {
        super::spec::Dialect::Swagger2 => "Swagger",
        _ => "OpenAPI",
    };
    let header = vec![
        format!(
            "Drafted by `scim-sidecar draft` from {} {} ({dialect} {}, {source}).",
            text::short(title, 60),
            text::short(version, 20),
            spec.version
        ),
        "Every decision carries its evidence in a comment; review each TODO before".into(),
        "pointing an IdP at it. `scim-sidecar check` validates the file and".into(),
        "docs/mapping.md explains every key.".into(),
    ];
    Ok(Draft {
        header,
        listen: settings.listen.clone(),
        upstream,
        upstream_notes,
        host_headers: auth.headers,
        host_notes: auth.notes,
        idp: settings.idp.clone(),
        vars: ctx.vars,
        users,
        groups,
        footer,
    })
}

fn no_users(all: &[Operation<'_>], fams: &[Family<'_>]) -> DraftError {
    let rpc: Vec<&str> = all
        .iter()
        .map(|o| o.path.as_str())
        .filter(|p| {
            p.starts_with("/users.") || p.starts_with("/admin.users.") || p.contains("/users.")
        })
        .take(3)
        .collect();
    if !rpc.is_empty() {
        return DraftError::NoUsers {
            hint: Hint(Some(format!(
                "the document's user calls are RPC-style method URLs ({}), which the mapping cannot express yet",
                rpc.join(", ")
            ))),
        };
    }
    let hint = match fams.first() {
        Some(f) => Some(format!(
            "the closest is {} ({})",
            f.path,
            f.evidence.join(", ")
        )),
        None if all.is_empty() => Some("the document has no operations".into()),
        None => {
            let mut paths: Vec<&str> = all.iter().map(|o| o.path.as_str()).collect();
            paths.dedup();
            let shown: Vec<&str> = paths.iter().take(5).copied().collect();
            Some(format!("its paths include {}", shown.join(", ")))
        }
    };
    DraftError::NoUsers { hint: Hint(hint) }
}

fn upstream(settings: &Settings, server: Option<&str>, spec: &Spec) -> (String, Vec<String>) {
    if let Some(u) = &settings.app_url {
        return (
            u.trim_end_matches('/').to_owned(),
            vec!["the app: --app-url".into()],
        );
    }
    if let Some(s) = server {
        return (
            s.to_owned(),
            vec!["the app: the document's first server".into()],
        );
    }
    if let super::load::Location::Url(u) = spec.location()
        && let (Some(scheme), Some(auth)) = (u.scheme_str(), u.authority())
    {
        return (
            format!("{scheme}://{auth}"),
            vec!["the app: the origin the document was read from".into()],
        );
    }
    (
        "http://127.0.0.1:3000".into(),
        vec!["TODO: the document names no server; set the app's URL (or pass --app-url)".into()],
    )
}

/// The record, create and update bodies of a family's chosen operations.
pub struct Shapes<'a> {
    pub bodies: Bodies<'a>,
    /// `item` of get/create answers, `wrap` of request bodies.
    pub item: Option<String>,
    pub wrap: Option<String>,
    pub create_required: Vec<String>,
}

pub fn shapes<'a>(
    spec: &'a Spec,
    get: Option<&Operation<'a>>,
    list: Option<&Operation<'a>>,
    create: Option<&Operation<'a>>,
    update: Option<&Operation<'a>>,
) -> Shapes<'a> {
    let mut item = None;
    let mut record: Option<Node<'a>> = None;
    if let Some(s) = get.and_then(|g| g.success()).and_then(|r| r.schema)
        && let Some((env, rec)) = resources::envelope(spec, s)
    {
        item = env.map(|e| schema::json_path(&[e]));
        record = Some(rec);
    }
    if record.is_none()
        && let Some(s) = list.and_then(|l| l.success()).and_then(|r| r.schema)
        && let Some((_, el)) = resources::list_elements(spec, s)
    {
        record = Some(el);
    }
    let mut wrap = None;
    let mut body = |op: Option<&Operation<'a>>| -> Option<Vec<Field<'a>>> {
        let b = op?.body?;
        let (env, rec) = resources::envelope(spec, b)?;
        if let Some(e) = env {
            wrap = Some(schema::json_path(&[e]));
        }
        Some(schema::fields(spec, rec))
    };
    let create_fields = body(create);
    let update_fields = body(update);
    let record = record.or_else(|| {
        create
            .and_then(|c| c.body)
            .and_then(|b| resources::envelope(spec, b))
            .map(|(_, r)| r)
    });
    let create_required = create_fields
        .iter()
        .flatten()
        .filter(|f| f.required && f.path.len() == 1)
        .map(|f| f.path.join("."))
        .collect();
    Shapes {
        bodies: Bodies {
            record: record.map(|r| schema::fields(spec, r)).unwrap_or_default(),
            create: create_fields,
            update: update_fields,
        },
        item,
        wrap,
        create_required,
    }
}

/// The item operation of `fams` with `method`, from the primary family
/// first, then from others keyed by the same parameter.
fn item_op<'a>(fams: &[&Family<'a>], method: Method) -> Option<(&'a Operation<'a>, String)> {
    fams.iter().find_map(|f| {
        f.item(method)
            .map(|o| (o, f.item_param.clone().unwrap_or_default()))
    })
}

fn users<'a>(
    ctx: &mut Ctx<'a>,
    fams: &'a [Family<'a>],
    primary: &'a Family<'a>,
    used: &mut Vec<&'a Operation<'a>>,
) -> Resource {
    let spec = ctx.spec;
    let key = primary.item_param.clone();
    let same: Vec<&Family<'a>> = std::iter::once(primary)
        .chain(fams.iter().filter(|f| {
            !std::ptr::eq(*f, primary)
                && resources::bare(&f.word) == resources::bare(&primary.word)
                && f.score > -40
                && (f.item_param.is_none()
                    || key.is_none()
                    || f.item_param.as_deref().map(schema::snake)
                        == key.as_deref().map(schema::snake))
        }))
        .collect();
    let mut res = Resource {
        name: "users",
        ..Resource::default()
    };
    res.notes.push(format!(
        "chosen: {} ({}{})",
        primary.path,
        primary.offers(),
        evidence_tail(primary)
    ));
    for f in fams
        .iter()
        .filter(|f| !same.iter().any(|s| std::ptr::eq(*s, *f)) && f.score > 0)
        .take(4)
    {
        res.notes.push(f.alternative());
    }
    // A list under a sub-path of the collection (`/admin/users/list/{flag}`)
    // when the collection itself has none.
    let list = same.iter().find_map(|f| f.list).or_else(|| {
        same.iter()
            .flat_map(|f| f.beside.iter())
            .find_map(|(o, rest)| {
                let listy = rest.first().is_some_and(|w| {
                    matches!(resources::bare(w).as_str(), "list" | "all" | "search")
                });
                let records = o
                    .success()
                    .and_then(|r| r.schema)
                    .and_then(|s| resources::list_elements(spec, s))
                    .is_some();
                (o.method == Method::Get && listy && records).then_some(*o)
            })
    });
    let get = item_op(&same, Method::Get);
    let create = same
        .iter()
        .find_map(|f| f.create.filter(|c| !resources::is_bulk(spec, c)));
    let keyed_create = if create.is_none() {
        item_op(&same, Method::Post).or_else(|| {
            item_op(&same, Method::Put).filter(|(o, _)| text::has(&o.text(), &["create"]))
        })
    } else {
        None
    };
    let partial_post = item_op(&same, Method::Post)
        .filter(|(o, _)| keyed_create.is_none() && text::has(&o.text(), &["partial", "update"]));
    let update = item_op(&same, Method::Patch)
        .map(|(o, p)| ("update", o, p))
        .or_else(|| partial_post.map(|(o, p)| ("update", o, p)))
        .or_else(|| item_op(&same, Method::Put).map(|(o, p)| (put_kind(spec, o), o, p)));
    let delete = item_op(&same, Method::Delete);
    let shapes = shapes(
        spec,
        get.as_ref().map(|g| g.0),
        list,
        create.or(keyed_create.as_ref().map(|k| k.0)),
        update.as_ref().map(|u| u.1),
    );
    let pair = actions::pair(&same);
    let ikey = item_key(
        spec,
        get.as_ref().map(|g| g.0).or(update.as_ref().map(|u| u.1)),
        key.as_deref(),
    );
    let found = attributes::users(
        spec,
        &shapes.bodies,
        ikey,
        pair.is_some(),
        &shapes.create_required,
    );
    let user_name = found.user_name.clone();

    if let Some(l) = list {
        used.push(l);
        let mut op = op(ctx, "list", Method::Get, l, &[]);
        let p = paging::paging(spec, l);
        let mut query = p.query;
        query.extend(required_query(l));
        if !query.is_empty() {
            op.keys.push(Entry::new("query", Tv::Table(query), ""));
        }
        op.keys.extend(p.keys);
        op.notes.extend(p.notes);
        res.ops.push(op);
    } else {
        res.notes
            .push("TODO: no list operation found; [users.list] is required".into());
    }
    let id = "{id}";
    if let Some((g, param)) = &get {
        used.push(g);
        let mut op = op(ctx, "get", Method::Get, g, &[(param, id)]);
        if let Some(item) = &shapes.item {
            op.keys.push(Entry::new(
                "item",
                Tv::s(item.clone()),
                "the record inside the answer",
            ));
        }
        res.ops.push(op);
    }
    if let Some(c) = create {
        used.push(c);
        let mut op = op(ctx, "create", Method::Post, c, &[]);
        create_keys(ctx.spec, c, &shapes, &found.id, &mut op);
        if let Some(e) = errors::create(c, "userName") {
            op.keys.push(Entry::new(
                "errors",
                Tv::table([(e.key, e.value)]),
                e.comment,
            ));
        }
        res.ops.push(op);
    } else if let Some((c, param)) = &keyed_create {
        used.push(c);
        let placeholder = "{userName}";
        let mut op = op(ctx, "create", c.method, c, &[(param, placeholder)]);
        op.notes.push(format!("the app takes the new login in the path ({{{param}}}); the collection's POST creates many users at once"));
        create_keys(ctx.spec, c, &shapes, &found.id, &mut op);
        res.ops.push(op);
    } else {
        res.notes
            .push("TODO: no create operation found; [users.create] is required".into());
    }
    if let Some((kind, u, param)) = &update {
        used.push(u);
        let mut op = op(ctx, kind, u.method, u, &[(param, id)]);
        match (*kind, u.method) {
            ("replace", _) => op
                .notes
                .push("PUT of the whole record: every mapped writable field is sent".into()),
            ("update", Method::Put) => op.notes.push(
                "a PUT whose body requires no field (or that says it is partial): only the changed fields are sent"
                    .into(),
            ),
            _ => {}
        }
        if let Some(w) = &shapes.wrap {
            op.keys.push(Entry::new(
                "wrap",
                Tv::s(w.clone()),
                "the app wants the record inside this member",
            ));
        }
        version_header(u, &mut op);
        returns(spec, u, &shapes, &mut op);
        res.ops.push(op);
    } else {
        res.notes.push("TODO: no update (PATCH or PUT of one user) found; [users.update] or [users.replace] is required".into());
    }
    if let Some((d, param)) = &delete {
        used.push(d);
        let mut op = op(ctx, "delete", Method::Delete, d, &[(param, id)]);
        version_header(d, &mut op);
        res.ops.push(op);
    }
    if let Some(pair) = &pair {
        for (kind, o) in [("deactivate", pair.deactivate), ("activate", pair.activate)] {
            used.push(o);
            let param = key.clone().unwrap_or_default();
            let mut op = op(ctx, kind, o.method, o, &[(&param, id)]);
            returns(spec, o, &shapes, &mut op);
            if let Some(e) = errors::already(spec, o, &["409", "422", "400"]) {
                op.keys.push(Entry::new(
                    "errors",
                    Tv::table([(e.key, e.value)]),
                    e.comment,
                ));
            }
            res.ops.push(op);
        }
        if !pair.others.is_empty() {
            res.notes.push(format!(
                "other account-state actions: {}",
                pair.others.join("; ")
            ));
        }
    }
    if pair.is_none() && !found.entries.iter().any(|e| e.key == "active") {
        res.notes.push(
            "TODO: the app has no account state and no deactivate call: an IdP's deactivation is answered but changes nothing in the app; unassigning the user (a SCIM delete) removes it"
                .into(),
        );
    }
    if delete.is_none() {
        let can_deactivate = pair.is_some()
            || found
                .entries
                .iter()
                .any(|e| e.key == "active" && !format!("{:?}", e.value).contains("readOnly"));
        if can_deactivate {
            res.policies.push(Entry::new(
                "on_delete",
                Tv::s("deactivate"),
                "no DELETE of a user: a SCIM delete deactivates",
            ));
        }
    }
    res.policies.insert(
        0,
        Entry::new(
            "unmapped",
            Tv::s("ignore"),
            "Okta always sends password, groups and locale",
        ),
    );
    // Lookups.
    let by_key = get.as_ref().zip(key.as_ref()).and_then(|((g, _), k)| {
        let param = g.param(k, In::Path)?;
        let field = found.user_name.clone().filter(|u| *u == found.id)?;
        Some(ByKey {
            path: ctx.template(&g.path, &[(k.as_str(), "{value}")]),
            param,
            field,
        })
    });
    let empty = Vec::new();
    let targets = [
        Target {
            attr: "userName",
            field: found.user_name.as_ref().unwrap_or(&empty),
            synonyms: &["username", "user_name", "login", "user"],
        },
        Target {
            attr: "emails.value",
            field: found.email.as_ref().unwrap_or(&empty),
            synonyms: &["email", "mail", "email_address"],
        },
        Target {
            attr: "externalId",
            field: found.external_id.as_ref().unwrap_or(&empty),
            synonyms: &["external_id", "externalid"],
        },
    ];
    let targets: Vec<Target<'_>> = targets
        .into_iter()
        .filter(|t| !t.field.is_empty())
        .collect();
    let look = search::lookups(list, &targets, by_key);
    res.search = look.entries;
    res.search_notes = look.notes;
    if user_name.is_some() {
        if res.search.iter().any(|e| e.key == "userName eq") {
            res.policies.insert(
                1,
                Entry::new(
                    "unique",
                    Tv::Arr(vec![Tv::s("userName")]),
                    "checked before every create",
                ),
            );
        } else {
            res.notes.push("no `unique`: it needs a userName lookup, so the app's own answer to a duplicate decides".into());
        }
    }
    if res.search.is_empty() {
        res.search_notes
            .push("no exact lookup: `userName eq` is answered by scanning the list".into());
    }
    // Errors.
    let writes: Vec<&Operation<'_>> = [
        create,
        keyed_create.as_ref().map(|k| k.0),
        update.as_ref().map(|u| u.1),
    ]
    .into_iter()
    .flatten()
    .collect();
    let every: Vec<&Operation<'_>> = used.to_vec();
    res.errors = errors::resource(spec, &writes, &every, "userName");
    res.attributes = found.entries;
    res.attribute_notes = found.notes;
    if !shapes.create_required.is_empty() {
        res.attribute_notes.push(format!(
            "the create requires: {}",
            shapes.create_required.join(", ")
        ));
        for r in &shapes.create_required {
            let covered = res
                .attributes
                .iter()
                .any(|e| super::groups::rule_path(&e.value) == Some(format!("$.{r}").as_str()));
            if covered {
                continue;
            }
            // The create names a field the record spells differently
            // (`username` in, `login` out): write the SCIM value there.
            let attr = match schema::snake(r).as_str() {
                "username" | "user_name" | "login" | "user_login" => Some("userName"),
                "first_name" | "firstname" | "given_name" => Some("name.givenName"),
                "last_name" | "lastname" | "family_name" | "surname" => Some("name.familyName"),
                "full_name" | "display_name" => Some("displayName"),
                _ => None,
            }
            .filter(|a| res.attributes.iter().any(|e| e.key == *a));
            match attr {
                Some(a) => res.constants.push(Entry::new(
                    schema::json_path(std::slice::from_ref(r)),
                    Tv::table([("value", Tv::s(format!("{{{a}}}"))), ("when", Tv::s(a))]),
                    format!("the create takes `{r}` for what the record calls {a}'s field"),
                )),
                None => res.attribute_notes.push(format!(
                    "TODO: the create requires `{r}`, which no SCIM attribute fills; add it under [users.constants] (e.g. \"$.{r}\" = …)"
                )),
            }
        }
    }
    res
}

fn evidence_tail(f: &Family<'_>) -> String {
    let good: Vec<&String> = f
        .evidence
        .iter()
        .filter(|e| e.starts_with("an admin"))
        .collect();
    if good.is_empty() {
        String::new()
    } else {
        format!(
            "; {}",
            good.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// An operation table for document operation `o`.
pub fn op(
    ctx: &mut Ctx<'_>,
    kind: &'static str,
    method: Method,
    o: &Operation<'_>,
    subst: &[(&str, &str)],
) -> Op {
    // Path parameters with a fixed set of values (`{flag}` of
    // `active|new|staff`) take their default, else their first value.
    let mut fixed: Vec<(String, String)> = Vec::new();
    for p in o.params.iter().filter(|p| p.at == In::Path) {
        if subst.iter().any(|(n, _)| *n == p.name) {
            continue;
        }
        let v = p.schema.map(|s| s.v);
        let value = v
            .and_then(|s| {
                s.get("default")
                    .or_else(|| s.get("enum").and_then(|e| e.get(0)))
            })
            .and_then(|d| d.as_str());
        if let Some(value) = value {
            fixed.push((p.name.clone(), value.to_owned()));
        }
    }
    let mut all: Vec<(&str, &str)> = subst.to_vec();
    all.extend(fixed.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let path = ctx.template(&o.path, &all);
    let mut notes = Vec::new();
    let summary = if o.summary.is_empty() {
        &o.description
    } else {
        &o.summary
    };
    let summary = text::short(summary, 70);
    notes.push(if summary.is_empty() {
        format!("{} {}", o.method.upper(), o.path)
    } else {
        format!("{} {}: {summary}", o.method.upper(), o.path)
    });
    let mut op = Op {
        kind,
        method,
        path,
        source: o.path.clone(),
        keys: Vec::new(),
        notes,
    };
    for (n, v) in &fixed {
        op.notes.push(format!(
            "`{{{n}}}` is fixed to `{v}`, its default or first value"
        ));
    }
    if kind != "list" {
        let q = required_query(o);
        if !q.is_empty() {
            op.keys
                .push(Entry::new("query", Tv::Table(q), "required by the app"));
        }
    }
    op
}

/// Required query parameters: their default or only value, else a
/// connection variable.
pub fn required_query(o: &Operation<'_>) -> Vec<(String, Tv)> {
    let mut out = Vec::new();
    for p in o.query().filter(|p| p.required && !paging::is_paging(p)) {
        let v = p.schema.map(|s| s.v);
        let fixed = v
            .and_then(|s| {
                s.get("default")
                    .or_else(|| s.get("enum").and_then(|e| e.get(0)))
            })
            .and_then(|d| match d {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            });
        let value = fixed
            .unwrap_or_else(|| format!("${{APP_{}}}", schema::snake(&p.name).to_ascii_uppercase()));
        out.push((p.name.clone(), Tv::s(value)));
    }
    out
}

/// The item path's key parameter of `op`, with its type.
pub fn item_key<'k>(
    spec: &Spec,
    op: Option<&Operation<'_>>,
    name: Option<&'k str>,
) -> Option<attributes::ItemKey<'k>> {
    let name = name?;
    let p = op.and_then(|o| o.param(name, In::Path));
    let s = p.and_then(|p| p.schema);
    let kind = s.map_or(schema::Kind::Unknown, |s| schema::kind(spec, s));
    let uuid = s.and_then(|s| s.v.get("format")).and_then(|f| f.as_str()) == Some("uuid");
    Some(attributes::ItemKey { name, kind, uuid })
}

/// `update` (the changed fields) for a PUT that says it is partial or
/// whose body requires no field, else `replace` (the whole record).
fn put_kind(spec: &Spec, o: &Operation<'_>) -> &'static str {
    let says = text::has(
        &o.text(),
        &[
            "partial",
            "only the fields",
            "fields given",
            "not provided are left",
        ],
    );
    let optional = o
        .body
        .and_then(|b| resources::envelope(spec, b))
        .is_some_and(|(_, rec)| {
            let props = schema::properties(spec, rec);
            !props.is_empty() && props.iter().all(|(_, _, required)| !required)
        });
    if says || optional {
        "update"
    } else {
        "replace"
    }
}

/// `If-Match` on writes whose document declares it.
fn version_header(o: &Operation<'_>, op: &mut Op) {
    if let Some(p) = o
        .params
        .iter()
        .find(|p| p.at == In::Header && p.name.eq_ignore_ascii_case("if-match"))
    {
        op.keys.push(Entry::new(
            "headers",
            Tv::table([(p.name.clone(), Tv::s("{version}"))]),
            "the app's optimistic lock: it answers 412 when the version is stale",
        ));
    }
}

/// How the new id is read from the create's answer.
fn create_keys(spec: &Spec, c: &Operation<'_>, shapes: &Shapes<'_>, id: &[String], op: &mut Op) {
    if let Some(w) = &shapes.wrap {
        op.keys.push(Entry::new(
            "wrap",
            Tv::s(w.clone()),
            "the app wants the record inside this member",
        ));
    }
    let answer = c.success();
    let record = answer
        .and_then(|r| r.schema)
        .and_then(|s| resources::envelope(spec, s));
    match record {
        Some((env, rec)) => {
            let fields = schema::properties(spec, rec);
            let full = fields.len() >= 4;
            if full {
                if let Some(e) = env {
                    op.keys.push(Entry::new(
                        "item",
                        Tv::s(schema::json_path(&[e])),
                        "the new record inside the answer",
                    ));
                }
            } else {
                let id_path = match &env {
                    Some(e) if !fields.iter().any(|(n, _, _)| Some(n) == id.first()) => {
                        vec![e.clone(), id.join(".")]
                    }
                    _ => id.to_vec(),
                };
                op.keys.push(Entry::new(
                    "then",
                    Tv::s("get"),
                    "the answer is not the whole record",
                ));
                op.keys.push(Entry::new(
                    "id",
                    Tv::s(schema::json_path(&id_path)),
                    "the new id in the answer",
                ));
            }
        }
        None => {
            let status = answer.map_or("no success", |r| r.status.as_str());
            let location = answer.is_some_and(|r| r.headers.iter().any(|h| h == "location"));
            let how = if location {
                "the new id is the last segment of `Location`"
            } else {
                "the document describes no body; the new id is read from `Location` (else the new account is found by its userName)"
            };
            op.keys.push(Entry::new(
                "then",
                Tv::s("get"),
                format!("{status} without a record: {how}"),
            ));
        }
    }
}

/// `returns = "resource"` when a write answers with the whole record (its
/// answer's record has at least four fifths of the get record's fields),
/// so the sidecar need not read it back.
fn returns(spec: &Spec, o: &Operation<'_>, shapes: &Shapes<'_>, op: &mut Op) {
    let Some(answer) = o.success().and_then(|r| r.schema) else {
        return;
    };
    let Some((env, record)) = resources::envelope(spec, answer) else {
        return;
    };
    let fields: Vec<String> = schema::properties(spec, record)
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    let wanted: Vec<&String> = shapes
        .bodies
        .record
        .iter()
        .filter(|f| f.path.len() == 1)
        .map(|f| &f.path[0])
        .collect();
    if wanted.len() < 2 {
        return;
    }
    let shared = wanted.iter().filter(|w| fields.contains(w)).count();
    if shared * 5 >= wanted.len() * 4 {
        if let Some(e) = env {
            op.keys.push(Entry::new(
                "item",
                Tv::s(schema::json_path(&[e])),
                "the record inside the answer",
            ));
        }
        op.keys.push(Entry::new(
            "returns",
            Tv::s("resource"),
            "it answers with the whole record: no read-back",
        ));
    }
}
