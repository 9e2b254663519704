//! Finding the user and group collections. Every path is read as a
//! collection (`…/users`), an item of one (`…/users/{id}`) or a call
//! below an item (`…/users/{id}/suspend`, `…/groups/{id}/members/{user}`);
//! the paths of one collection form a [`Family`]. Families are scored on
//! evidence — the operations they offer, whether their records look like
//! users, an admin prefix, a newer API version, nesting under another
//! resource (a membership list, not the directory) — and the best one is
//! chosen; the others are kept to be named as alternatives.

use super::ops::{Method, Operation};
use super::schema::{self, Kind};
use super::spec::{Node, Spec};

/// What a family holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noun {
    Users,
    Groups,
}

const USER_NOUNS: &[&str] = &[
    "users",
    "accounts",
    "people",
    "persons",
    "members",
    "identities",
    "principals",
    "employees",
];
const GROUP_NOUNS: &[&str] = &["groups", "teams", "roles", "usergroups"];
/// Nouns that, with a parameter after them, make what follows a
/// sub-resource (a membership list), not the directory.
const OWNER_NOUNS: &[&str] = &[
    "groups",
    "teams",
    "roles",
    "projects",
    "repos",
    "repositories",
    "channels",
    "lists",
    "rooms",
    "spaces",
    "users",
    "apps",
    "applications",
    "clients",
    "servers",
];

/// One collection and the operations around it.
#[derive(Clone)]
pub struct Family<'a> {
    pub noun: Noun,
    /// The collection path, as in the document.
    pub path: String,
    /// The noun as written (`users`, `teams`, `users.json`).
    pub word: String,
    pub list: Option<&'a Operation<'a>>,
    pub create: Option<&'a Operation<'a>>,
    /// Item operations (`…/{id}`) by method.
    pub items: Vec<&'a Operation<'a>>,
    /// The item parameter's name (`id`, `username`, `user-id`).
    pub item_param: Option<String>,
    /// Operations below an item: the operation and the segments after
    /// the item parameter (`["lifecycle", "deactivate"]`).
    pub below: Vec<(&'a Operation<'a>, Vec<String>)>,
    /// Operations below the collection itself (`/users/search`).
    pub beside: Vec<(&'a Operation<'a>, Vec<String>)>,
    pub score: i32,
    /// Why it scored as it did, for the alternatives' comments.
    pub evidence: Vec<String>,
}

impl<'a> Family<'a> {
    /// The item operation with `method`.
    pub fn item(&self, method: Method) -> Option<&'a Operation<'a>> {
        self.items.iter().copied().find(|o| o.method == method)
    }

    /// A comment line naming the family as a candidate not chosen.
    pub fn alternative(&self) -> String {
        let mut line = format!("alternative: {} ({})", self.path, self.offers());
        if !self.evidence.is_empty() {
            line.push_str(&format!(" — {}", self.evidence.join(", ")));
        }
        line
    }

    /// What the family offers, e.g. `list, create, get, patch, delete`.
    pub fn offers(&self) -> String {
        let mut out = Vec::new();
        if self.list.is_some() {
            out.push("list");
        }
        if self.create.is_some() {
            out.push("create");
        }
        for (m, name) in [
            (Method::Get, "get"),
            (Method::Put, "put"),
            (Method::Patch, "patch"),
            (Method::Delete, "delete"),
        ] {
            if self.item(m).is_some() {
                out.push(name);
            }
        }
        out.join(", ")
    }
}

/// Splits a path into segments (a trailing slash adds none).
pub fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether a segment is a `{param}` (with a suffix such as `.json`).
pub fn is_param(seg: &str) -> bool {
    seg.starts_with('{') && seg.contains('}')
}

/// The parameter name of a `{param}` segment.
pub fn param_name(seg: &str) -> String {
    seg.trim_start_matches('{')
        .split('}')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The noun of a segment, without a `.json` suffix, lower-cased.
pub fn bare(seg: &str) -> String {
    seg.trim_end_matches(".json").to_ascii_lowercase()
}

fn nouns(noun: Noun) -> &'static [&'static str] {
    match noun {
        Noun::Users => USER_NOUNS,
        Noun::Groups => GROUP_NOUNS,
    }
}

/// Every family of `noun`, best first (ties by path).
pub fn families<'a>(spec: &'a Spec, ops: &'a [Operation<'a>], noun: Noun) -> Vec<Family<'a>> {
    let mut fams: Vec<Family<'a>> = Vec::new();
    // Operations below an item, kept until the item parameter is known.
    let mut pending: Vec<(usize, &'a Operation<'a>, Vec<String>)> = Vec::new();
    for op in ops {
        let segs = segments(&op.path);
        let Some(i) = segs
            .iter()
            .rposition(|s| nouns(noun).contains(&bare(s).as_str()))
        else {
            continue;
        };
        let path = format!("/{}", segs[..=i].join("/"));
        let rest: Vec<String> = segs[i + 1..].to_vec();
        let at = match fams.iter().position(|f| f.path == path) {
            Some(p) => p,
            None => {
                fams.push(Family {
                    noun,
                    path: path.clone(),
                    word: segs[i].clone(),
                    list: None,
                    create: None,
                    items: Vec::new(),
                    item_param: None,
                    below: Vec::new(),
                    beside: Vec::new(),
                    score: 0,
                    evidence: Vec::new(),
                });
                fams.len() - 1
            }
        };
        let fam = &mut fams[at];
        match rest.as_slice() {
            [] => match op.method {
                Method::Get => fam.list = Some(op),
                Method::Post => fam.create = Some(op),
                _ => fam.beside.push((op, Vec::new())),
            },
            [p, tail @ ..] if is_param(p) => {
                let mut tail = tail.to_vec();
                tail.insert(0, p.clone());
                pending.push((at, op, tail));
            }
            tail => fam.beside.push((op, tail.to_vec())),
        }
    }
    // The item parameter is the one most operations use, those on the
    // item itself counting most (`/users/{userId}` over a stray
    // `/users/{associatedUserId}/linkedObjects`).
    for (i, f) in fams.iter_mut().enumerate() {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for (_, op, rest) in pending.iter().filter(|(at, _, _)| *at == i) {
            let name = param_name(&rest[0]);
            let weight = if rest.len() == 1 { 10 } else { 1 }
                + usize::from(op.method == Method::Get && rest.len() == 1);
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => *c += weight,
                None => counts.push((name, weight)),
            }
        }
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        f.item_param = counts.first().map(|(n, _)| n.clone());
        for (_, op, rest) in pending.iter().filter(|(at, _, _)| *at == i) {
            if f.item_param.as_deref() != Some(param_name(&rest[0]).as_str()) {
                continue;
            }
            if rest.len() == 1 {
                f.items.push(op);
            } else {
                f.below.push((op, rest[1..].to_vec()));
            }
        }
    }
    for f in &mut fams {
        score(spec, f);
    }
    fams.retain(|f| f.list.is_some() || f.create.is_some() || !f.items.is_empty());
    fams.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.path.cmp(&b.path)));
    fams
}

fn score(spec: &Spec, f: &mut Family<'_>) {
    let mut s = 0;
    let mut ev = Vec::new();
    for (present, points, what) in [
        (f.list.is_some(), 40, "list"),
        (f.create.is_some(), 30, "create"),
        (f.item(Method::Get).is_some(), 30, "get"),
        (
            f.item(Method::Patch).is_some() || f.item(Method::Put).is_some(),
            20,
            "update",
        ),
        (f.item(Method::Delete).is_some(), 10, "delete"),
    ] {
        if present {
            s += points;
        } else {
            ev.push(format!("no {what}"));
        }
    }
    let segs = segments(&f.path);
    if segs.iter().any(|x| x.eq_ignore_ascii_case("admin")) {
        s += 10;
        ev.push("an admin API".into());
    }
    // Nested under another resource's item: a membership list.
    let owners = segs
        .windows(2)
        .filter(|w| is_param(&w[1]) && OWNER_NOUNS.contains(&bare(&w[0]).as_str()))
        .count();
    if owners > 0 {
        s -= 80;
        ev.push("nested under another resource".into());
    }
    // The app's own SCIM server (GitHub's `/scim/v2/…/Users`): not the
    // API to put a SCIM server in front of.
    if segs.iter().any(|x| x.eq_ignore_ascii_case("scim")) {
        s -= 200;
        ev.push("the app's own SCIM endpoint".into());
    }
    // A group API with membership calls is the one the IdP can use.
    if f.noun == Noun::Groups
        && f.below.iter().any(|(_, rest)| {
            rest.first()
                .is_some_and(|w| matches!(bare(w).as_str(), "members" | "users" | "memberships"))
        })
    {
        s += 20;
    }
    let params = segs.iter().filter(|x| is_param(x)).count() as i32;
    s -= 5 * params;
    if let Some(v) = segs.iter().find_map(|x| version_of(x)) {
        s += v.min(9);
    }
    let word = bare(&f.word);
    match (f.noun, word.as_str()) {
        (Noun::Users, "members") | (Noun::Groups, "roles") => s -= 15,
        (Noun::Groups, "usergroups") => s += 5,
        _ => {}
    }
    if [f.list, f.create]
        .iter()
        .flatten()
        .chain(f.items.iter())
        .any(|o| o.deprecated)
    {
        s -= 10;
        ev.push("deprecated operations".into());
    }
    let looks = record_evidence(spec, f);
    if looks > 0 {
        s += 10 * looks.min(4);
    } else {
        ev.push("records without user or group fields".into());
    }
    f.score = s;
    f.evidence = ev;
}

/// `v2` → 2.
fn version_of(seg: &str) -> Option<i32> {
    let n = seg.strip_prefix('v')?;
    n.parse().ok()
}

/// How many typical user (or group) field names the family's record has.
fn record_evidence(spec: &Spec, f: &Family<'_>) -> i32 {
    let Some(record) = record_schema(spec, f) else {
        return 0;
    };
    let names: &[&str] = match f.noun {
        Noun::Users => &[
            "username",
            "user_name",
            "login",
            "email",
            "mail",
            "first_name",
            "firstname",
            "given_name",
            "last_name",
            "lastname",
            "family_name",
            "display_name",
            "full_name",
            "name",
            "active",
            "enabled",
        ],
        Noun::Groups => &[
            "name",
            "display_name",
            "members",
            "users",
            "description",
            "title",
            "slug",
        ],
    };
    let props = schema::properties(spec, record);
    props
        .iter()
        .filter(|(n, _, _)| names.contains(&schema::snake(n).as_str()))
        .count() as i32
}

/// The schema of one record: the get answer's, else a list element's,
/// else the create body's.
pub fn record_schema<'a>(spec: &'a Spec, f: &Family<'a>) -> Option<Node<'a>> {
    if let Some(get) = f.item(Method::Get)
        && let Some(s) = get.success().and_then(|r| r.schema)
        && let Some(rec) = unwrap_record(spec, s)
    {
        return Some(rec);
    }
    if let Some(list) = f.list
        && let Some(s) = list.success().and_then(|r| r.schema)
        && let Some((_, el)) = list_elements(spec, s)
    {
        return Some(el);
    }
    f.create
        .and_then(|c| c.body)
        .and_then(|b| unwrap_record(spec, b))
}

/// The record inside an answer: the object itself, or the one object
/// member that holds it (`{"user": {…}}`, `{"data": {…}}`, `{"result":
/// {…}}`), with the envelope's key.
pub fn envelope<'a>(spec: &'a Spec, node: Node<'a>) -> Option<(Option<String>, Node<'a>)> {
    if schema::kind(spec, node) != Kind::Object {
        return None;
    }
    let props = schema::properties(spec, node);
    let objects: Vec<&(String, Node<'a>, bool)> = props
        .iter()
        .filter(|(_, n, _)| {
            schema::kind(spec, *n) == Kind::Object && !schema::properties(spec, *n).is_empty()
        })
        .collect();
    let scalars = props.len() - objects.len();
    let wrapper_names = [
        "data", "result", "user", "group", "item", "record", "resource", "team", "role", "account",
    ];
    let named: Vec<&&(String, Node<'a>, bool)> = objects
        .iter()
        .filter(|(n, _, _)| wrapper_names.contains(&n.to_ascii_lowercase().as_str()))
        .collect();
    // `{"user": {…}}` alone; a named envelope beside a few scalars
    // (`{"id": 7, "result": {…}}`) or beside other metadata objects
    // (Flask-AppBuilder's `label_columns`).
    let inner = match (objects.as_slice(), named.as_slice()) {
        ([(name, inner, _)], _) if scalars == 0 => Some((name, inner)),
        (_, [(name, inner, _)]) if scalars <= 6 => Some((name, inner)),
        _ => None,
    };
    if let Some((name, inner)) = inner {
        return Some((Some(name.clone()), schema::unwrap(spec, *inner)));
    }
    Some((None, schema::unwrap(spec, node)))
}

fn unwrap_record<'a>(spec: &'a Spec, node: Node<'a>) -> Option<Node<'a>> {
    envelope(spec, node).map(|(_, n)| n)
}

/// The elements of a list answer and the JSONPath keys to them: the body
/// itself when it is an array, else the array member of the envelope
/// (one level of nesting searched: `{"data": {"users": […]}}`).
pub fn list_elements<'a>(spec: &'a Spec, node: Node<'a>) -> Option<(Vec<String>, Node<'a>)> {
    match schema::kind(spec, node) {
        Kind::Array => schema::items(spec, node).map(|el| (Vec::new(), schema::unwrap(spec, el))),
        Kind::Object => {
            let preferred = [
                "items",
                "results",
                "data",
                "users",
                "groups",
                "teams",
                "records",
                "entries",
                "value",
                "resources",
                "members",
                "list",
                "content",
                "rows",
                "result",
                "roles",
                "accounts",
            ];
            let mut best: Option<(i32, Vec<String>, Node<'a>)> = None;
            for (name, child, _) in schema::properties(spec, node) {
                let mut consider = |keys: Vec<String>, n: Node<'a>| {
                    if schema::kind(spec, n) != Kind::Array {
                        return;
                    }
                    let Some(el) = schema::items(spec, n) else {
                        return;
                    };
                    if schema::kind(spec, el) != Kind::Object {
                        return;
                    }
                    let last = keys
                        .last()
                        .map(|k| k.to_ascii_lowercase())
                        .unwrap_or_default();
                    let rank = preferred
                        .iter()
                        .position(|p| *p == last)
                        .map_or(0, |p| 40 - p as i32)
                        + schema::properties(spec, el).len().min(20) as i32
                        - 10 * (keys.len() as i32 - 1);
                    if best.as_ref().is_none_or(|(r, _, _)| rank > *r) {
                        best = Some((rank, keys, schema::unwrap(spec, el)));
                    }
                };
                consider(vec![name.clone()], child);
                if schema::kind(spec, child) == Kind::Object {
                    for (inner, grandchild, _) in schema::properties(spec, child) {
                        consider(vec![name.clone(), inner], grandchild);
                    }
                }
            }
            best.map(|(_, k, n)| (k, n))
        }
        _ => None,
    }
}

/// Whether a collection POST creates many records at once (a body that is
/// an array, or whose only user fields are lists such as `usernames`).
pub fn is_bulk(spec: &Spec, op: &Operation<'_>) -> bool {
    let Some(body) = op.body else { return false };
    match schema::kind(spec, body) {
        Kind::Array => true,
        Kind::Object => {
            let props = schema::properties(spec, body);
            let lists = props
                .iter()
                .filter(|(n, p, _)| {
                    schema::kind(spec, *p) == Kind::Array
                        && ["usernames", "users", "emails", "names", "logins"]
                            .contains(&n.to_ascii_lowercase().as_str())
                })
                .count();
            lists > 0
                && !props.iter().any(|(n, _, _)| {
                    ["username", "login", "email", "name"]
                        .contains(&n.to_ascii_lowercase().as_str())
                })
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::ops;
    use serde_json::json;

    #[test]
    fn the_admin_directory_beats_a_membership_list() {
        let user = json!({"type": "object", "properties": {"id": {"type": "string"}, "username": {"type": "string"}, "email": {"type": "string"}}});
        let list = json!({"responses": {"200": {"description": "", "content": {"application/json": {"schema": {"type": "array", "items": user}}}}}});
        let s = Spec::from_value(json!({
            "openapi": "3.0.0",
            "paths": {
                "/admin/users": {"get": list, "post": {"responses": {}}},
                "/admin/users/{username}": {"patch": {"responses": {}}, "delete": {"responses": {}}},
                "/admin/users/{username}/suspend": {"post": {"responses": {}}},
                "/groups/{id}/users": {"get": list},
                "/users/search": {"get": list}
            }
        }))
        .unwrap();
        let ops = ops::operations(&s);
        let fams = families(&s, &ops, Noun::Users);
        assert_eq!(fams[0].path, "/admin/users");
        assert_eq!(fams[0].item_param.as_deref(), Some("username"));
        assert_eq!(fams[0].below[0].1, vec!["suspend"]);
        assert_eq!(fams[0].offers(), "list, create, patch, delete");
        let nested = fams
            .iter()
            .find(|f| f.path == "/groups/{id}/users")
            .unwrap();
        assert!(nested.score < fams[0].score);
        assert!(nested.evidence.iter().any(|e| e.contains("nested")));
    }
}
