//! The `[users]` table: which collection, which operation for each role
//! and why (the alternatives named), the record's envelopes and attribute
//! rules, lookups, paging, the account-state actions, uniqueness and the
//! error rules.

use super::actions;
use super::attributes;
use super::errors;
use super::model::{Entry, Resource, Tv};
use super::ops::{In, Method, Operation};
use super::paging;
use super::resources::{self, Family};
use super::schema;
use super::search::{self, ByKey, Target};
use super::shapes::{Ctx, shapes};
use super::tables::{create_keys, item_key, op, put_kind, required_query, returns, version_header};
use super::text;

/// The item operation of `fams` with `method`, from the primary family
/// first, then from others keyed by the same parameter.
fn item_op<'a>(fams: &[&Family<'a>], method: Method) -> Option<(&'a Operation<'a>, String)> {
    fams.iter().find_map(|f| {
        f.item(method)
            .map(|o| (o, f.item_param.clone().unwrap_or_default()))
    })
}

pub(super) fn users<'a>(
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
        if u.method == Method::Patch && u.other_media.iter().any(|m| m.contains("json-patch")) {
            op.keys.push(Entry::new(
                "body_format",
                Tv::s("json-patch"),
                "the PATCH takes only RFC 6902 JSON Patch (application/json-patch+json): the changes go as operations",
            ));
        }
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
