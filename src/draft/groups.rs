//! The `[groups]` table: the group collection (groups, then teams, then
//! roles), its operations, attributes and lookup, and membership —
//! per-member `PUT`/`DELETE` below the group (`…/groups/{id}/members/{user}`),
//! one call with a list of ids, or the same calls from the user's side
//! (`…/users/{user}/groups/{group}`). A group API without create or get,
//! or membership without list, add and remove, is left out with a `TODO`
//! rather than drafted half.

use super::attributes;
use super::build::{self, Ctx};
use super::errors;
use super::model::{Entry, Members, Op, Resource, Tv};
use super::ops::{Method, Operation};
use super::paging;
use super::resources::{self, Family};
use super::schema::{self, Kind};
use super::search::{self, Target};
use super::tables;

const MEMBER_WORDS: &[&str] = &["members", "users", "memberships", "member", "user"];

/// Drafts `[groups]`, or `None` (with the reason in the users' notes).
pub fn groups<'a>(
    ctx: &mut Ctx<'a>,
    fams: &'a [Family<'a>],
    user_fams: &'a [Family<'a>],
    users: &Resource,
    used: &mut Vec<&'a Operation<'a>>,
) -> Option<Resource> {
    let spec = ctx.spec;
    // The best-scored collection that can be drafted whole (with an
    // update), else the best one.
    let complete = |f: &Family<'_>| {
        f.item(Method::Patch).is_some()
            || f.item(Method::Put).is_some()
            || fams.iter().any(|o| {
                !std::ptr::eq(o, f)
                    && resources::bare(&o.word) == resources::bare(&f.word)
                    && (o.item(Method::Patch).is_some() || o.item(Method::Put).is_some())
                    && o.score > -40
            })
    };
    let primary = fams
        .iter()
        .filter(|f| f.score > -40)
        .find(|f| complete(f))
        .or_else(|| fams.iter().find(|f| f.score > -40))?;
    let key = primary.item_param.clone().unwrap_or_default();
    // The same collection may be spread over paths (`/orgs/{org}/teams`
    // lists and creates, `/teams/{id}` reads and edits).
    let same: Vec<&Family<'a>> = std::iter::once(primary)
        .chain(fams.iter().filter(|f| {
            !std::ptr::eq(*f, primary)
                && resources::bare(&f.word) == resources::bare(&primary.word)
                && f.score > -40
        }))
        .collect();
    let key_of = |o: &Operation<'_>| {
        same.iter()
            .find(|f| f.items.iter().any(|i| std::ptr::eq(*i, o)))
            .and_then(|f| f.item_param.clone())
            .unwrap_or_else(|| key.clone())
    };
    let item = |m: Method| same.iter().find_map(|f| f.item(m));
    let list = same.iter().find_map(|f| f.list);
    let get = item(Method::Get);
    let create = same
        .iter()
        .find_map(|f| f.create.filter(|c| !resources::is_bulk(spec, c)));
    let keyed_create = if create.is_none() {
        item(Method::Post).or_else(|| item(Method::Put))
    } else {
        None
    };
    let mut res = Resource {
        name: "groups",
        ..Resource::default()
    };
    let (Some(list), Some(get), Some(create)) = (list, get, create.or(keyed_create)) else {
        return None;
    };
    res.notes
        .push(format!("chosen: {} ({})", primary.path, primary.offers()));
    for f in fams
        .iter()
        .filter(|f| !same.iter().any(|s| std::ptr::eq(*s, *f)) && f.score > 0)
        .take(3)
    {
        res.notes.push(f.alternative());
    }
    let update = item(Method::Patch).map(|o| ("update", o)).or_else(|| {
        item(Method::Put)
            .filter(|o| keyed_create.is_none_or(|k| !std::ptr::eq(k, *o)))
            .map(|o| ("replace", o))
    });
    let delete = item(Method::Delete);
    let shapes = build::shapes(
        spec,
        Some(get),
        Some(list),
        Some(create),
        update.map(|u| u.1),
    );
    let get_key = key_of(get);
    let ikey = tables::item_key(spec, Some(get), Some(&get_key));
    let found = attributes::groups(&shapes.bodies, ikey);
    let id = "{id}";

    used.push(list);
    let mut l = tables::op(ctx, "list", Method::Get, list, &[]);
    let p = paging::paging(spec, list);
    let mut query = p.query;
    query.extend(tables::required_query(list));
    if !query.is_empty() {
        l.keys.push(Entry::new("query", Tv::Table(query), ""));
    }
    l.keys.extend(p.keys);
    l.notes.extend(p.notes);
    res.ops.push(l);
    used.push(get);
    let mut g = tables::op(ctx, "get", Method::Get, get, &[(&key_of(get), id)]);
    if let Some(item) = &shapes.item {
        g.keys.push(Entry::new(
            "item",
            Tv::s(item.clone()),
            "the record inside the answer",
        ));
    }
    res.ops.push(g);
    used.push(create);
    let mut c = if keyed_create.is_some() {
        let param = key_of(create);
        let mut c = tables::op(
            ctx,
            "create",
            create.method,
            create,
            &[(&param, "{displayName}")],
        );
        c.notes.push(format!(
            "the app takes the new group's name in the path ({{{param}}})"
        ));
        c
    } else {
        tables::op(ctx, "create", Method::Post, create, &[])
    };
    if let Some(w) = &shapes.wrap {
        c.keys.push(Entry::new(
            "wrap",
            Tv::s(w.clone()),
            "the app wants the record inside this member",
        ));
    }
    if let Some(e) = errors::create(create, "displayName") {
        c.keys.push(Entry::new(
            "errors",
            Tv::table([(e.key, e.value)]),
            e.comment,
        ));
    }
    let answer_is_record = create
        .success()
        .and_then(|r| r.schema)
        .and_then(|s| resources::envelope(spec, s))
        .is_some_and(|(_, r)| schema::properties(spec, r).len() >= 2);
    if !answer_is_record {
        c.keys.push(Entry::new(
            "then",
            Tv::s("get"),
            "the answer is not the record",
        ));
    }
    res.ops.push(c);
    if let Some((kind, u)) = update {
        used.push(u);
        let mut op = tables::op(ctx, kind, u.method, u, &[(&key_of(u), id)]);
        if let Some(w) = &shapes.wrap {
            op.keys.push(Entry::new("wrap", Tv::s(w.clone()), ""));
        }
        res.ops.push(op);
    } else {
        res.disabled = Some("the document has no update (PATCH or PUT of one group), and the mapping requires [groups.update] or [groups.replace]".into());
    }
    if let Some(d) = delete {
        used.push(d);
        res.ops.push(tables::op(
            ctx,
            "delete",
            Method::Delete,
            d,
            &[(&key_of(d), id)],
        ));
    }
    let empty = Vec::new();
    let name_field = found.user_name.as_ref().unwrap_or(&empty);
    let targets = [Target {
        attr: "displayName",
        field: name_field,
        synonyms: &["name", "display_name", "title"],
    }];
    let look = search::lookups(
        Some(list),
        if name_field.is_empty() { &[] } else { &targets },
        None,
    );
    res.search = look.entries;
    if res.search.iter().any(|e| e.key == "displayName eq") {
        res.policies.push(Entry::new(
            "unique",
            Tv::Arr(vec![Tv::s("displayName")]),
            "checked before every create",
        ));
    }
    res.attributes = found.entries;
    res.members = members(
        ctx,
        &same,
        Some(get),
        user_fams,
        users,
        used,
        &mut res.notes,
    );
    res.errors = errors::resource(spec, &[create], used, "displayName");
    Some(res)
}

fn members<'a>(
    ctx: &mut Ctx<'a>,
    group: &[&'a Family<'a>],
    group_get: Option<&'a Operation<'a>>,
    user_fams: &'a [Family<'a>],
    users: &Resource,
    used: &mut Vec<&'a Operation<'a>>,
    notes: &mut Vec<String>,
) -> Option<Members> {
    let spec = ctx.spec;
    let gkeys: Vec<String> = group.iter().filter_map(|g| g.item_param.clone()).collect();
    let word = group
        .first()
        .map(|g| resources::bare(&g.word))
        .unwrap_or_default();
    let mut list: Option<&'a Operation<'a>> = None;
    let mut add: Option<(&'a Operation<'a>, Option<String>, Option<String>)> = None;
    let mut remove: Option<(&'a Operation<'a>, Option<String>, Option<String>)> = None;
    for (op, rest) in group.iter().flat_map(|g| g.below.iter()) {
        let Some(first) = rest.first() else { continue };
        if !MEMBER_WORDS.contains(&resources::bare(first).as_str()) {
            continue;
        }
        match (rest.len(), op.method) {
            (1, Method::Get) => list = list.or(Some(*op)),
            (1, Method::Post | Method::Put) => {
                add = add.or_else(|| batch(ctx, op).map(|b| (*op, None, Some(b))))
            }
            (1, Method::Delete) => {
                remove = remove.or_else(|| batch(ctx, op).map(|b| (*op, None, Some(b))))
            }
            (2, Method::Put | Method::Post) if resources::is_param(&rest[1]) => {
                add = add.or(Some((*op, Some(unbrace(&rest[1])), None)))
            }
            (2, Method::Delete) if resources::is_param(&rest[1]) => {
                remove = remove.or(Some((*op, Some(unbrace(&rest[1])), None)))
            }
            _ => {}
        }
    }
    // Membership written from the user's side: …/users/{u}/groups/{g}.
    let word_of_group = word.clone();
    for f in user_fams.iter().filter(|f| f.score > -40) {
        let ukey = f.item_param.clone().unwrap_or_default();
        for (op, rest) in &f.below {
            let [word, g] = rest.as_slice() else { continue };
            if resources::bare(word) != word_of_group || !resources::is_param(g) {
                continue;
            }
            let slot = match op.method {
                Method::Put | Method::Post => &mut add,
                Method::Delete => &mut remove,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some((
                    *op,
                    Some(ukey.clone()),
                    Some(format!("\u{0}{}", unbrace(g))),
                ));
            }
        }
    }
    // No member list of its own: the group's record may list its members
    // (`{"name": "eng", "users": ["alice", "bob"]}`); read it as one page.
    let mut embedded: Option<(String, bool)> = None;
    if list.is_none()
        && add.is_some()
        && remove.is_some()
        && let Some(g) = group_get
        && let Some((env, rec)) = g
            .success()
            .and_then(|r| r.schema)
            .and_then(|s| resources::envelope(spec, s))
    {
        for (name, node, _) in schema::properties(spec, rec) {
            let snake = schema::snake(&name);
            if !matches!(
                snake.as_str(),
                "users" | "members" | "user_ids" | "member_ids"
            ) || schema::kind(spec, node) != Kind::Array
            {
                continue;
            }
            let strings =
                schema::items(spec, node).is_some_and(|el| schema::kind(spec, el) == Kind::String);
            let keys: Vec<String> = env.into_iter().chain([name]).collect();
            embedded = Some((format!("{}[*]", schema::json_path(&keys)), strings));
            list = Some(g);
            break;
        }
    }
    let (Some(l), Some(a), Some(r)) = (list, add.clone(), remove.clone()) else {
        let mut have = Vec::new();
        if let Some(l) = list {
            have.push(format!("list {}", l.path));
        }
        if let Some((a, _, _)) = add {
            have.push(format!("add {} {}", a.method.upper(), a.path));
        }
        if let Some((r, _, _)) = remove {
            have.push(format!("remove {} {}", r.method.upper(), r.path));
        }
        notes.push(format!(
            "TODO: membership needs a member list, an add and a remove call; the document has {}",
            if have.is_empty() {
                "none of them".to_owned()
            } else {
                have.join(", ")
            }
        ));
        return None;
    };
    used.extend([l, a.0, r.0]);
    let member_param = a.1.clone().unwrap_or_default();
    let mut m = Members::default();
    let group_subst: Vec<(&str, &str)> = gkeys.iter().map(|k| (k.as_str(), "{id}")).collect();
    let mut lop = tables::op(ctx, "list", Method::Get, l, &group_subst);
    match &embedded {
        Some((items, _)) => {
            lop.keys.push(Entry::new(
                "items",
                Tv::s(items.clone()),
                "the members listed in the group's own record",
            ));
            lop.keys
                .push(Entry::new("paging", Tv::s("none"), "one read of the group"));
        }
        None => {
            let p = paging::paging(spec, l);
            if !p.query.is_empty() {
                lop.keys.push(Entry::new("query", Tv::Table(p.query), ""));
            }
            lop.keys.extend(p.keys);
            lop.notes.extend(p.notes);
        }
    }
    m.list = Some(lop);
    let element = l
        .success()
        .and_then(|r| r.schema)
        .and_then(|s| resources::list_elements(spec, s))
        .map(|(_, el)| schema::properties(spec, el))
        .unwrap_or_default();
    let user_id = users
        .attribute("id")
        .and_then(|e| rule_path(&e.value))
        .unwrap_or("$.id")
        .to_owned();
    let user_login = users
        .attribute("userName")
        .and_then(|e| rule_path(&e.value))
        .map(str::to_owned);
    let has = |path: &str| element.iter().any(|(n, _, _)| format!("$.{n}") == path);
    let by_param =
        a.1.as_deref()
            .map(schema::snake)
            .and_then(|p| element.iter().find(|(n, _, _)| schema::snake(n) == p))
            .map(|(n, _, _)| format!("$.{n}"));
    let id_like = element
        .iter()
        .find(|(n, _, _)| attributes::id_like(n))
        .map(|(n, _, _)| format!("$.{n}"));
    m.value = if embedded.as_ref().is_some_and(|(_, strings)| *strings) {
        "$".into()
    } else if element.is_empty() || has(&user_id) {
        user_id
    } else {
        by_param.or(id_like).unwrap_or_else(|| "$.id".into())
    };
    m.display = user_login.filter(|p| has(p) && *p != m.value);
    for (slot, (op, member, extra)) in [("add", a), ("remove", r)] {
        let mut subst: Vec<(&str, &str)> = group_subst.clone();
        let member_name = member.clone().unwrap_or_default();
        let group_name;
        if let Some(x) = extra.as_deref().and_then(|e| e.strip_prefix('\u{0}')) {
            // From the user's side: the user parameter is the member,
            // the group parameter the group.
            group_name = x.to_owned();
            subst = vec![
                (member_name.as_str(), "{member}"),
                (group_name.as_str(), "{id}"),
            ];
        } else if member.is_some() {
            subst.push((member_name.as_str(), "{member}"));
        }
        let mut o = tables::op(ctx, slot, op.method, op, &subst);
        if let Some(b) = extra.as_deref().filter(|e| !e.starts_with('\u{0}')) {
            o.keys.push(Entry::new(
                "batch",
                Tv::s(b.to_owned()),
                "one call with the list of user ids",
            ));
        }
        let statuses: &[&str] = if slot == "remove" {
            &["404", "409", "422"]
        } else {
            &["409", "422", "400"]
        };
        if let Some(e) = errors::already(spec, op, statuses) {
            o.keys.push(Entry::new(
                "errors",
                Tv::table([(e.key, e.value)]),
                e.comment,
            ));
        }
        if slot == "add" {
            m.add = Some(o);
        } else {
            m.remove = Some(o);
        }
    }
    if !member_param.is_empty()
        && !attributes::id_like(&member_param)
        && users.attribute("id").and_then(|e| rule_path(&e.value)) == Some("$.id")
    {
        m.notes.push(format!(
            "TODO: the member calls take {{{member_param}}}, while user ids are `$.id`; check that they are the same value"
        ));
    }
    Some(m)
}

fn unbrace(s: &str) -> String {
    resources::param_name(s)
}

/// The array member of a body that lists user ids, as a JSONPath.
fn batch(ctx: &Ctx<'_>, op: &Operation<'_>) -> Option<String> {
    let body = op.body?;
    let spec = ctx.spec;
    schema::properties(spec, body)
        .into_iter()
        .find(|(_, p, _)| schema::kind(spec, *p) == Kind::Array)
        .map(|(n, _, _)| schema::json_path(&[n]))
}

/// The path of a rule (`"$.x"` or `{ path = "$.x", … }`).
pub fn rule_path(v: &Tv) -> Option<&str> {
    match v {
        Tv::Str(s) => Some(s),
        Tv::Table(t) => t
            .iter()
            .find(|(k, _)| k == "path")
            .and_then(|(_, v)| v.as_str()),
        _ => None,
    }
}

impl Members {
    /// The operations, in table order.
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.list
            .iter()
            .chain(self.add.iter())
            .chain(self.remove.iter())
    }
}
