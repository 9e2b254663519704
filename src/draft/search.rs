//! Lookups for the filters IdPs send (`userName eq`, `emails.value eq`,
//! `externalId eq`, and `displayName eq` for groups): the list
//! operation's query parameter that matches the attribute's field
//! exactly (a partial-match parameter only with its `exact` switch), or a
//! GET of the item when the path is keyed by that field; with the case
//! sensitivity the document states, else marked unknown and drafted as
//! case-sensitive, which keeps lookups correct (the sidecar then scans).

use super::model::{Entry, Tv};
use super::ops::{Operation, Param};
use super::paging;
use super::schema;
use super::text::{self, Case};

/// The search rules and their comment lines.
#[derive(Default)]
pub struct Lookups {
    pub entries: Vec<Entry>,
    pub notes: Vec<String>,
}

/// One attribute to look up: its SCIM key, the host field and other
/// parameter names that mean it.
pub struct Target<'s> {
    pub attr: &'static str,
    pub field: &'s [String],
    pub synonyms: &'static [&'static str],
}

/// The get-by-key alternative: the item path template with `{value}`
/// for the key and the key parameter.
pub struct ByKey<'a, 'o> {
    pub path: String,
    pub param: &'o Param<'a>,
    pub field: Vec<String>,
}

/// Drafts lookups for `targets` on `list`.
pub fn lookups(
    list: Option<&Operation<'_>>,
    targets: &[Target<'_>],
    by_key: Option<ByKey<'_, '_>>,
) -> Lookups {
    let mut out = Lookups::default();
    let mut skipped: Vec<String> = Vec::new();
    for t in targets {
        let leaf = t.field.last().map(|k| schema::snake(k)).unwrap_or_default();
        let mut names: Vec<&str> = vec![leaf.as_str()];
        names.extend(t.synonyms.iter().copied());
        let cands: Vec<&Param<'_>> = list
            .map(|l| {
                let mut c: Vec<&Param<'_>> = l
                    .query()
                    .filter(|p| !paging::is_paging(p))
                    .filter(|p| names.contains(&schema::snake(&p.name).as_str()))
                    .collect();
                c.sort_by_key(|p| names.iter().position(|n| *n == schema::snake(&p.name)));
                c
            })
            .unwrap_or_default();
        let mut done = false;
        for p in cands {
            let exact_switch = list.and_then(|l| {
                l.query().find(|q| {
                    schema::snake(&q.name) == "exact"
                        && q.schema.is_some_and(|s| {
                            s.v.get("type").and_then(|t| t.as_str()) == Some("boolean")
                        })
                })
            });
            let mut query = vec![(p.name.clone(), Tv::s("{value}"))];
            let mut how = format!("`{}` on the list", p.name);
            if text::partial(&p.description) {
                match exact_switch {
                    Some(x) => {
                        query.push((x.name.clone(), Tv::s("true")));
                        how = format!(
                            "`{}` with `{}=true` (without it the match is partial)",
                            p.name, x.name
                        );
                    }
                    None => {
                        skipped.push(format!(
                            "`{}` matches partially ({})",
                            p.name,
                            text::short(&p.description, 60)
                        ));
                        continue;
                    }
                }
            }
            out.entries.push(rule(
                t.attr,
                Tv::table([("query", Tv::Table(query))]),
                &p.description,
                how,
            ));
            done = true;
            break;
        }
        if done {
            continue;
        }
        if let Some(k) = &by_key
            && k.field == t.field
        {
            let how = format!(
                "GET of the item keyed by {{{}}} (404: no match)",
                k.param.name
            );
            out.entries.push(rule(
                t.attr,
                Tv::table([("get", Tv::s(k.path.clone()))]),
                &k.param.description,
                how,
            ));
        }
    }
    if let Some(l) = list {
        let generic: Vec<String> = l
            .query()
            .filter(|p| {
                matches!(
                    schema::snake(&p.name).as_str(),
                    "q" | "search" | "query" | "filter" | "term" | "keyword" | "name_filter"
                )
            })
            .map(|p| format!("`{}` ({})", p.name, text::short(&p.description, 60)))
            .collect();
        skipped.extend(generic);
    }
    if !skipped.is_empty() {
        out.notes.push(format!(
            "not used for lookups (they do not match exactly or their syntax is the app's own): {}",
            skipped.join("; ")
        ));
    }
    out
}

fn rule(attr: &str, how: Tv, description: &str, evidence: String) -> Entry {
    let Tv::Table(mut pairs) = how else {
        return Entry::new(format!("{attr} eq"), how, evidence);
    };
    let (flag, note) = match text::case(description) {
        Case::Insensitive => (true, "the document says it ignores case".to_owned()),
        Case::Sensitive => (false, "the document says it is case-sensitive".to_owned()),
        Case::Unknown => (
            false,
            "TODO: case sensitivity not stated; `false` keeps lookups correct (the sidecar re-checks and scans); set `true` if the app matches regardless of case".to_owned(),
        ),
    };
    pairs.push(("case_insensitive".into(), Tv::Bool(flag)));
    Entry::new(
        format!("{attr} eq"),
        Tv::Table(pairs),
        format!("{evidence}; {note}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::ops;
    use crate::draft::spec::Spec;
    use serde_json::json;

    #[test]
    fn exact_switches_partial_parameters_and_unknown_case() {
        let s = Spec::from_value(json!({"openapi": "3.0.0", "paths": {"/users": {"get": {"parameters": [
            {"name": "username", "in": "query", "description": "A String contained in username, or the complete username, if param exact is true", "schema": {"type": "string"}},
            {"name": "exact", "in": "query", "schema": {"type": "boolean"}},
            {"name": "email", "in": "query", "description": "Matches case-insensitively", "schema": {"type": "string"}},
            {"name": "q", "in": "query", "description": "Free text", "schema": {"type": "string"}}
        ]}}}}))
        .unwrap();
        let ops = ops::operations(&s);
        let login = vec!["username".to_owned()];
        let mail = vec!["email".to_owned()];
        let l = lookups(
            Some(&ops[0]),
            &[
                Target {
                    attr: "userName",
                    field: &login,
                    synonyms: &[],
                },
                Target {
                    attr: "emails.value",
                    field: &mail,
                    synonyms: &[],
                },
            ],
            None,
        );
        assert_eq!(l.entries.len(), 2);
        assert_eq!(
            l.entries[0].value,
            Tv::table([
                (
                    "query",
                    Tv::table([("username", Tv::s("{value}")), ("exact", Tv::s("true"))])
                ),
                ("case_insensitive", Tv::Bool(false))
            ])
        );
        assert!(l.entries[0].comment.contains("TODO"));
        assert_eq!(
            l.entries[1].value,
            Tv::table([
                ("query", Tv::table([("email", Tv::s("{value}"))])),
                ("case_insensitive", Tv::Bool(true))
            ])
        );
        assert!(l.notes[0].contains("`q`"));
    }
}
