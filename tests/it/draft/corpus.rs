//! `scim-sidecar draft` on real published OpenAPI documents: every app of
//! tests/openapi/ (the document or a cut-down subset, its licence and
//! provenance beside it) is drafted and the draft is scored against the
//! hand-written answer key next to it — the operations, paging, lookups
//! and attribute correspondences a careful human would choose from the
//! document. The test fails when an app, or the corpus as a whole, scores
//! below the floor measured for it, so a regression in the drafter shows.
//! Run with `--nocapture` to see the table published in docs/mapping.md.

use scim_sidecar::draft::{Settings, draft_text, validate};
use toml::{Table, Value};

/// The apps, the overall score each must keep (measured, then set a
/// little below) and whether its draft loads as a config unedited.
const FLOORS: &[(&str, f64, bool)] = &[
    ("airflow-fab", 0.95, true),
    ("authentik", 0.90, true),
    ("discourse", 0.65, false),
    ("flask-appbuilder", 0.72, true),
    ("forgejo", 0.95, true),
    ("github-ghes", 0.87, true),
    ("jupyterhub", 0.70, true),
    ("keycloak", 0.95, true),
    ("okta", 0.67, true),
];
/// The mean over the apps (measured 0.87).
const CORPUS_FLOOR: f64 = 0.84;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:";

#[derive(Default, Clone, Copy)]
struct Tally {
    hit: u32,
    of: u32,
}

impl Tally {
    fn add(&mut self, ok: bool) {
        self.of += 1;
        if ok {
            self.hit += 1;
        }
    }

    fn ratio(self) -> f64 {
        if self.of == 0 {
            1.0
        } else {
            f64::from(self.hit) / f64::from(self.of)
        }
    }
}

struct Score {
    app: &'static str,
    users: Tally,
    groups: Tally,
    paging: Tally,
    search: Tally,
    attributes: Tally,
    loads: bool,
    misses: Vec<String>,
}

impl Score {
    fn overall(&self) -> f64 {
        [
            self.users,
            self.groups,
            self.paging,
            self.search,
            self.attributes,
        ]
        .iter()
        .map(|t| t.ratio())
        .sum::<f64>()
            / 5.0
    }
}

fn dir(app: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/openapi")
        .join(app)
}

/// `/a/{x}/b/{conn.y}.json` → `/a/{}/b/{}.json`.
fn norm(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    out.push_str("{}");
                }
                depth += 1;
            }
            '}' => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The accepted answers of a key entry (a string or a list of them).
fn answers(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => vec![String::new()],
    }
}

/// `METHOD path` of a drafted operation table, normalised.
fn drafted_op(t: Option<&Value>) -> String {
    let Some(Value::Table(t)) = t else {
        return String::new();
    };
    for m in ["get", "post", "put", "patch", "delete"] {
        if let Some(Value::String(p)) = t.get(m) {
            return format!("{} {}", m.to_uppercase(), norm(p));
        }
    }
    String::new()
}

fn table<'a>(t: &'a Table, path: &[&str]) -> Option<&'a Table> {
    path.iter()
        .try_fold(t, |t, k| t.get(*k).and_then(Value::as_table))
}

fn ops(
    key: &Table,
    draft: &Table,
    res: &str,
    names: &[&str],
    tally: &mut Tally,
    misses: &mut Vec<String>,
) {
    let want = table(key, &[res]);
    let got = table(draft, &[res]);
    for name in names {
        let expected: Vec<String> = answers(want.and_then(|w| w.get(*name)))
            .iter()
            .map(|a| norm(a))
            .collect();
        let drafted = match (*name, got) {
            ("update", Some(g)) => {
                let u = drafted_op(g.get("update"));
                if u.is_empty() {
                    drafted_op(g.get("replace"))
                } else {
                    u
                }
            }
            (n, Some(g)) if n.starts_with("members_") => {
                drafted_op(table(g, &["members"]).and_then(|m| m.get(&n["members_".len()..])))
            }
            (n, Some(g)) => drafted_op(g.get(n)),
            (_, None) => String::new(),
        };
        let ok = expected.contains(&drafted);
        if !ok {
            misses.push(format!(
                "{res}.{name}: drafted `{drafted}`, key `{}`",
                expected.join("` | `")
            ));
        }
        tally.add(ok);
    }
}

fn paging(key: &Table, draft: &Table, tally: &mut Tally, misses: &mut Vec<String>) {
    let Some(want) = table(key, &["users", "paging"]) else {
        return;
    };
    let list = table(draft, &["users", "list"])
        .cloned()
        .unwrap_or_default();
    let query = list
        .get("query")
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default();
    // A parameter counts when its value, or a member of the document it
    // holds (`q = { json = { page = "{page}" } }`), is the placeholder.
    fn holds(v: &Value, values: &[&str]) -> bool {
        match v {
            Value::String(s) => values.contains(&s.as_str()),
            Value::Table(t) => t.values().any(|v| holds(v, values)),
            Value::Array(a) => a.iter().any(|v| holds(v, values)),
            _ => false,
        }
    }
    let param = |values: &[&str]| {
        query
            .iter()
            .find(|(_, v)| holds(v, values))
            .map(|(k, _)| k.clone())
            .unwrap_or_default()
    };
    let style = match list.get("paging").and_then(Value::as_str) {
        Some(s) => s.to_owned(),
        None if !param(&["{page}"]).is_empty() => "page".into(),
        None if !param(&["{offset}"]).is_empty() => "offset".into(),
        None if !param(&["{cursor}"]).is_empty() || list.contains_key("next") => "cursor".into(),
        None => "none".into(),
    };
    let s = |k: &str| {
        want.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut check = |what: &str, got: String, expected: String| {
        let ok = got == expected;
        if !ok {
            misses.push(format!("paging.{what}: drafted `{got}`, key `{expected}`"));
        }
        tally.add(ok);
    };
    check("style", style.clone(), s("style"));
    check(
        "offset",
        param(&["{offset}", "{page}", "{cursor}"]),
        s("offset"),
    );
    let limit = param(&["{limit}"]);
    let limit = if limit.is_empty() && query.contains_key(&s("limit")) {
        s("limit")
    } else {
        limit
    };
    check("limit", limit, s("limit"));
    if matches!(s("style").as_str(), "offset" | "page") {
        let default = if style == "page" { 1 } else { 0 };
        let base = list
            .get("offset_base")
            .or_else(|| list.get("page_base"))
            .and_then(Value::as_integer)
            .unwrap_or(default);
        let expected = want.get("base").and_then(Value::as_integer).unwrap_or(0);
        check("base", base.to_string(), expected.to_string());
    }
    let path = |k: &str| {
        let p = list.get(k).and_then(Value::as_str).unwrap_or_default();
        if p == "$[*]" {
            String::new()
        } else {
            p.to_owned()
        }
    };
    check("items", path("items"), s("items"));
    check("total", path("total"), s("total"));
}

fn search(key: &Table, draft: &Table, tally: &mut Tally, misses: &mut Vec<String>) {
    let Some(want) = table(key, &["users", "search"]) else {
        return;
    };
    let rules = table(draft, &["users", "search"])
        .cloned()
        .unwrap_or_default();
    for (attr, spec) in want {
        let rule_key = match attr.as_str() {
            "emails" => "emails.value eq".to_owned(),
            a => format!("{a} eq"),
        };
        let rule = rules.get(&rule_key).and_then(Value::as_table);
        let by = spec.get("by").and_then(Value::as_str).unwrap_or_default();
        let drafted_by = match rule {
            None => String::new(),
            Some(r) if r.contains_key("get") => "GET".into(),
            Some(r) => {
                let q = r.get("query").and_then(Value::as_table);
                match q.and_then(|q| q.keys().find(|k| *k == by).or_else(|| q.keys().next())) {
                    Some(k) => k.clone(),
                    None => "?".into(),
                }
            }
        };
        let ok = drafted_by == by;
        if !ok {
            misses.push(format!("search.{attr}: drafted `{drafted_by}`, key `{by}`"));
        }
        tally.add(ok);
        if !by.is_empty() {
            let case = spec
                .get("case")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            let drafted = rule
                .and_then(|r| r.get("case_insensitive"))
                .and_then(Value::as_bool);
            let ok = matches!(
                (case, drafted),
                ("true", Some(true)) | ("false" | "unknown", Some(false))
            );
            if !ok {
                misses.push(format!(
                    "search.{attr}.case: drafted {drafted:?}, key {case}"
                ));
            }
            tally.add(ok);
        }
    }
}

/// The host path of a drafted rule.
fn rule_path(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Table(t) => t.get("path").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The draft's rule keys that stand for a key's attribute name.
fn matches_key(key_attr: &str, drafted: &str) -> bool {
    if let Some(rest) = key_attr.strip_prefix("enterprise:") {
        return drafted == format!("{ENTERPRISE}{rest}");
    }
    match key_attr {
        "emails" => {
            drafted == "emails" || (drafted.starts_with("emails[") && drafted.ends_with(".value"))
        }
        k => drafted == k,
    }
}

fn attributes(key: &Table, draft: &Table, tally: &mut Tally, misses: &mut Vec<String>) {
    for res in ["users", "groups"] {
        let want = table(key, &[res, "attributes"])
            .cloned()
            .unwrap_or_default();
        let got = table(draft, &[res, "attributes"])
            .cloned()
            .unwrap_or_default();
        for (attr, expected) in &want {
            let expected = answers(Some(expected));
            let drafted = got
                .iter()
                .find(|(k, v)| matches_key(attr, k) && rule_path(v).is_some())
                .and_then(|(_, v)| rule_path(v))
                .unwrap_or_default();
            let ok = expected.contains(&drafted);
            if !ok {
                misses.push(format!(
                    "{res}.attributes.{attr}: drafted `{drafted}`, key `{}`",
                    expected.join("` | `")
                ));
            }
            tally.add(ok);
        }
        // A mapped attribute the key does not have is a wrong guess.
        for (k, v) in &got {
            let Some(path) = rule_path(v) else { continue };
            let read_only_copy = v.get("mutability").and_then(Value::as_str) == Some("readOnly")
                && got
                    .iter()
                    .any(|(o, w)| o != k && rule_path(w).as_deref() == Some(path.as_str()));
            if read_only_copy || want.keys().any(|a| matches_key(a, k)) {
                continue;
            }
            misses.push(format!("{res}.attributes: extra `{k}` = `{path}`"));
            tally.add(false);
        }
    }
}

fn score(app: &'static str) -> Score {
    let key_text = std::fs::read_to_string(dir(app).join("key.toml")).unwrap();
    let key: Table = toml::from_str(&key_text).unwrap_or_else(|e| panic!("{app}/key.toml: {e}"));
    let doc = key["document"].as_str().unwrap();
    let text = std::fs::read_to_string(dir(app).join(doc)).unwrap();
    let settings = Settings {
        app_url: key
            .get("app_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
        listen: "127.0.0.1:8080".into(),
        idp: "okta".into(),
    };
    let drafted = draft_text(&text, &settings).unwrap_or_else(|e| panic!("{app}: {e}"));
    let draft: Table = toml::from_str(&drafted)
        .unwrap_or_else(|e| panic!("{app}: the draft is not TOML: {e}\n{drafted}"));
    let mut s = Score {
        app,
        users: Tally::default(),
        groups: Tally::default(),
        paging: Tally::default(),
        search: Tally::default(),
        attributes: Tally::default(),
        loads: validate(&drafted).is_ok(),
        misses: Vec::new(),
    };
    ops(
        &key,
        &draft,
        "users",
        &[
            "list",
            "get",
            "create",
            "update",
            "delete",
            "deactivate",
            "activate",
        ],
        &mut s.users,
        &mut s.misses,
    );
    let group_ops = [
        "list",
        "get",
        "create",
        "update",
        "delete",
        "members_list",
        "members_add",
        "members_remove",
    ];
    ops(
        &key,
        &draft,
        "groups",
        &group_ops,
        &mut s.groups,
        &mut s.misses,
    );
    paging(&key, &draft, &mut s.paging, &mut s.misses);
    search(&key, &draft, &mut s.search, &mut s.misses);
    attributes(&key, &draft, &mut s.attributes, &mut s.misses);
    s
}

fn pct(t: Tally) -> String {
    format!("{}/{}", t.hit, t.of)
}

#[test]
fn every_corpus_draft_scores_at_least_its_floor() {
    let scores: Vec<Score> = FLOORS.iter().map(|(app, _, _)| score(app)).collect();
    eprintln!("| app | user ops | group ops | paging | lookups | attributes | loads | overall |");
    eprintln!("|---|---|---|---|---|---|---|---|");
    for s in &scores {
        eprintln!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.0}% |",
            s.app,
            pct(s.users),
            pct(s.groups),
            pct(s.paging),
            pct(s.search),
            pct(s.attributes),
            if s.loads { "yes" } else { "no" },
            100.0 * s.overall()
        );
    }
    let mean = scores.iter().map(Score::overall).sum::<f64>() / scores.len() as f64;
    eprintln!("| **all** | | | | | | | **{:.0}%** |", 100.0 * mean);
    let mut failed = Vec::new();
    for (s, (_, floor, loads)) in scores.iter().zip(FLOORS) {
        for m in &s.misses {
            eprintln!("  {}: {m}", s.app);
        }
        if s.overall() < *floor {
            failed.push(format!(
                "{} scored {:.3}, below its floor {floor}",
                s.app,
                s.overall()
            ));
        }
        if *loads && !s.loads {
            failed.push(format!(
                "the draft of {} no longer loads as a config",
                s.app
            ));
        }
    }
    if mean < CORPUS_FLOOR {
        failed.push(format!("the corpus scored {mean:.3}, below {CORPUS_FLOOR}"));
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
