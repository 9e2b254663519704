//! `draft --probe`: one page of the user list and one user, read from the
//! live app with the given headers (GET only), checked against the draft.
//! The items, total and id paths and each attribute's field are confirmed
//! or corrected from the real records (a field the document spells
//! `first_name` that the app sends as `firstName` is found by its words),
//! and the report says which SCIM attributes have values in the app's data.

mod fields;

use super::error::DraftError;
use super::load::Fetcher;
use super::model::{Draft, Entry, Op, Resource, Tv};
use super::schema;
use fields::{at, attributes, keys};
use http::Uri;
use serde_json::{Map, Value};

/// Everything but RFC 3986 unreserved characters is percent-encoded.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Records read from one page.
const PAGE: i64 = 20;
/// Largest answer read.
const MAX_ANSWER: usize = 8 << 20;

/// Probes the app and corrects `draft`; returns the report lines.
pub async fn probe(
    draft: &mut Draft,
    fetcher: &Fetcher,
    app: &Uri,
) -> Result<Vec<String>, DraftError> {
    let mut report = Vec::new();
    let vars = draft.vars.clone();
    let users = &mut draft.users;
    let Some(list) = users.op("list").cloned() else {
        report.push("probe: no list operation to read".into());
        return Ok(report);
    };
    let mut url = op_url(app, &list, &vars, None)?;
    let mut body = fetch(fetcher, &url).await?;
    let Some((mut items_keys, mut records)) =
        find_records(&body, list.get("items").and_then(Tv::as_str))
    else {
        report.push(format!(
            "probe: GET {} answered no list of records; nothing checked",
            show(&url)
        ));
        return Ok(report);
    };
    // An empty first page while the total says there are records: the
    // pages count from 0, not from the 1 the draft assumed.
    let total_now = list
        .get("total")
        .and_then(Tv::as_str)
        .and_then(keys)
        .and_then(|k| at(&body, &k).and_then(Value::as_u64));
    if records.is_empty()
        && total_now.is_some_and(|t| t > 0)
        && list.get("page_base") == Some(&Tv::Int(1))
    {
        let mut zero = list.clone();
        zero.set("page_base", Tv::Int(0), "");
        let url0 = op_url(app, &zero, &vars, None)?;
        let body0 = fetch(fetcher, &url0).await?;
        if let Some((k0, r0)) = find_records(&body0, list.get("items").and_then(Tv::as_str))
            .filter(|(_, r)| !r.is_empty())
        {
            if let Some(op) = users.op_mut("list") {
                op.set(
                    "page_base",
                    Tv::Int(0),
                    "corrected by --probe: page 1 was empty, page 0 held the records",
                );
            }
            report.push(
                "probe: pages count from 0 (page 1 was empty while the total was not)".into(),
            );
            (url, body, items_keys, records) = (url0, body0, k0, r0);
        }
    }
    let items_path = if items_keys.is_empty() {
        None
    } else {
        Some(format!("{}[*]", schema::json_path(&items_keys)))
    };
    let said = list.get("items").and_then(Tv::as_str).map(str::to_owned);
    if let Some(op) = users.op_mut("list") {
        match (&said, &items_path) {
            (a, b) if a == b => {}
            (_, Some(p)) => {
                op.set(
                    "items",
                    Tv::s(p.clone()),
                    format!(
                        "corrected by --probe (the document said {})",
                        said.as_deref().unwrap_or("a bare array")
                    ),
                );
                report.push(format!(
                    "probe: the records are at {p}, not {}",
                    said.as_deref().unwrap_or("the top level")
                ));
            }
            (_, None) => {
                op.unset("items");
                report.push("probe: the list answer is a bare array".into());
            }
        }
        total(op, &body, &items_keys, &mut report);
    }
    report.push(format!(
        "probe: GET {} → {} record(s)",
        show(&url),
        records.len()
    ));
    let Some(first) = records.first().and_then(Value::as_object).cloned() else {
        report.push("probe: the app has no users yet; attributes not checked".into());
        return Ok(report);
    };
    let id = fix_id(users, &first, &mut report);
    if let (Some(get), Some(id)) = (users.op("get").cloned(), id) {
        let url = op_url(app, &get, &vars, Some(&id))?;
        match fetch(fetcher, &url).await {
            Ok(answer) => fix_item(users, &answer, &first, &mut report),
            Err(e) => report.push(format!("probe: GET of one user failed: {e}")),
        }
    }
    attributes(users, &records, &mut report);
    Ok(report)
}

fn show(u: &Uri) -> String {
    u.path_and_query()
        .map_or_else(|| u.to_string(), |p| p.to_string())
}

/// The URL of an operation with its placeholders filled for a read.
fn op_url(app: &Uri, op: &Op, vars: &[Entry], id: Option<&str>) -> Result<Uri, DraftError> {
    let fill = |t: &str| -> Result<String, DraftError> {
        let mut s = t
            .replace("{offset}", "0")
            .replace("{limit}", &PAGE.to_string())
            .replace("{count}", &PAGE.to_string())
            .replace("{per_page}", &PAGE.to_string());
        let base = op
            .get("page_base")
            .and_then(|v| if let Tv::Int(n) = v { Some(*n) } else { None })
            .unwrap_or(1);
        s = s.replace("{page}", &base.to_string());
        if let Some(id) = id {
            s = s.replace(
                "{id}",
                &percent_encoding::utf8_percent_encode(id, UNRESERVED).to_string(),
            );
        }
        for v in vars {
            let name = format!("{{conn.{}}}", v.key);
            if s.contains(&name) {
                let env = v
                    .value
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches("${")
                    .trim_end_matches('}')
                    .to_owned();
                let value = std::env::var(&env).map_err(|_| {
                    DraftError::Usage(format!("--probe: set {env} (the `{}` path segment)", v.key))
                })?;
                s = s.replace(&name, &value);
            }
        }
        Ok(s)
    };
    let path = fill(&op.path)?;
    let mut query = Vec::new();
    if let Some(Tv::Table(q)) = op.get("query") {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string();
        for (k, v) in q {
            match v {
                Tv::Str(t) if !t.contains("{cursor}") => {
                    query.push(format!("{}={}", enc(k), enc(&fill(t)?)));
                }
                // A JSON document (`q = { json = { page = "{page}" } }`):
                // numbers where the placeholder stands alone.
                Tv::Table(t) => {
                    if let Some((_, doc)) = t.iter().find(|(e, _)| e == "json") {
                        let value = json_doc(doc, &fill)?;
                        query.push(format!("{}={}", enc(k), enc(&value.to_string())));
                    }
                }
                _ => {}
            }
        }
    }
    let base = app.to_string();
    let mut full = format!("{}{}", base.trim_end_matches('/'), path);
    if !query.is_empty() {
        full.push('?');
        full.push_str(&query.join("&"));
    }
    full.parse()
        .map_err(|e| DraftError::Usage(format!("--probe: `{full}` is not a URL: {e}")))
}

/// A drafted JSON query document with its placeholders filled.
fn json_doc(
    v: &Tv,
    fill: &dyn Fn(&str) -> Result<String, DraftError>,
) -> Result<Value, DraftError> {
    Ok(match v {
        Tv::Str(s) if matches!(s.as_str(), "{page}" | "{offset}" | "{limit}") => {
            let n = fill(s)?;
            n.parse::<i64>().map_or(Value::String(n), Value::from)
        }
        Tv::Str(s) => Value::String(fill(s)?),
        Tv::Int(n) => Value::from(*n),
        Tv::Bool(b) => Value::Bool(*b),
        Tv::Arr(items) => Value::Array(
            items
                .iter()
                .map(|i| json_doc(i, fill))
                .collect::<Result<_, _>>()?,
        ),
        Tv::Table(pairs) => {
            let mut m = Map::new();
            for (k, v) in pairs {
                m.insert(k.clone(), json_doc(v, fill)?);
            }
            Value::Object(m)
        }
    })
}

async fn fetch(fetcher: &Fetcher, url: &Uri) -> Result<Value, DraftError> {
    let (status, _, body) = fetcher.get(url, MAX_ANSWER).await?;
    if !status.is_success() {
        return Err(DraftError::Fetch {
            what: format!("--probe: GET {}", show(url)),
            reason: format!("answered {status} (are the --header credentials right?)"),
        });
    }
    serde_json::from_slice(&body).map_err(|e| DraftError::Fetch {
        what: format!("--probe: GET {}", show(url)),
        reason: format!("the answer is not JSON: {e}"),
    })
}

/// The records of a list answer: at `said` when it holds an array of
/// objects, else the body itself, else the largest array of objects one
/// or two levels down.
fn find_records(body: &Value, said: Option<&str>) -> Option<(Vec<String>, Vec<Value>)> {
    let objects = |v: &Value| matches!(v, Value::Array(a) if a.iter().all(Value::is_object));
    if let Some(k) = said.and_then(keys)
        && let Some(v) = at(body, &k).filter(|v| objects(v))
    {
        return Some((k, v.as_array().cloned().unwrap_or_default()));
    }
    if objects(body) {
        return Some((Vec::new(), body.as_array().cloned().unwrap_or_default()));
    }
    let mut best: Option<(usize, Vec<String>)> = None;
    if let Value::Object(m) = body {
        for (k, v) in m {
            let mut consider = |keys: Vec<String>, v: &Value| {
                if let Value::Array(a) = v
                    && objects(v)
                    && best.as_ref().is_none_or(|(n, _)| a.len() > *n)
                {
                    best = Some((a.len(), keys));
                }
            };
            consider(vec![k.clone()], v);
            if let Value::Object(inner) = v {
                for (k2, v2) in inner {
                    consider(vec![k.clone(), k2.clone()], v2);
                }
            }
        }
    }
    let (_, k) = best?;
    let v = at(body, &k)?.as_array()?.clone();
    Some((k, v))
}

fn total(op: &mut Op, body: &Value, items: &[String], report: &mut Vec<String>) {
    let said = op.get("total").and_then(Tv::as_str).and_then(keys);
    if let Some(k) = &said
        && at(body, k)
            .is_some_and(|v| v.is_number() || v.as_str().is_some_and(|s| s.parse::<u64>().is_ok()))
    {
        return;
    }
    let names = [
        "total",
        "total_count",
        "count",
        "total_results",
        "total_entries",
        "total_items",
        "total_size",
    ];
    let mut found = None;
    if let Value::Object(m) = body {
        for (k, v) in m {
            if items.first() == Some(k) {
                continue;
            }
            if v.is_number() && names.contains(&schema::snake(k).as_str()) {
                found = Some(vec![k.clone()]);
                break;
            }
            if let Value::Object(inner) = v {
                for (k2, v2) in inner {
                    if v2.is_number() && names.contains(&schema::snake(k2).as_str()) {
                        found = Some(vec![k.clone(), k2.clone()]);
                    }
                }
            }
        }
    }
    match (said, found) {
        (_, Some(k)) => {
            let p = schema::json_path(&k);
            op.set("total", Tv::s(p.clone()), "found by --probe");
            report.push(format!("probe: the total is at {p}"));
        }
        (Some(_), None) => {
            op.unset("total");
            report.push(
                "probe: the list answer has no total where the document said; `total` removed"
                    .into(),
            );
        }
        (None, None) => {}
    }
}

/// Confirms the id path on a real record; returns the first record's id.
fn fix_id(
    users: &mut Resource,
    first: &Map<String, Value>,
    report: &mut Vec<String>,
) -> Option<String> {
    let record = Value::Object(first.clone());
    let said = users
        .attribute("id")
        .and_then(|e| super::groups::rule_path(&e.value))
        .and_then(keys)
        .unwrap_or_else(|| vec!["id".into()]);
    let id_of = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let Some(id) = at(&record, &said).and_then(id_of) {
        return Some(id);
    }
    let candidate = first.keys().find(|k| {
        matches!(
            schema::snake(k).as_str(),
            "id" | "uid" | "uuid" | "pk" | "user_id" | "key"
        )
    })?;
    let path = schema::json_path(std::slice::from_ref(candidate));
    if let Some(e) = users.attributes.iter_mut().find(|e| e.key == "id") {
        e.value = Tv::table([
            ("path", Tv::s(path.clone())),
            ("mutability", Tv::s("readOnly")),
        ]);
        e.comment = "corrected by --probe".into();
    }
    report.push(format!("probe: the id is at {path}"));
    id_of(&first[candidate])
}

/// Where the record is in the get answer.
fn fix_item(
    users: &mut Resource,
    answer: &Value,
    first: &Map<String, Value>,
    report: &mut Vec<String>,
) {
    let Some(op) = users.op_mut("get") else {
        return;
    };
    let said = op
        .get("item")
        .and_then(Tv::as_str)
        .and_then(keys)
        .unwrap_or_default();
    let shares = |v: &Value| {
        v.as_object().is_some_and(|m| {
            first.keys().filter(|k| m.contains_key(*k)).count() * 2 >= first.len().min(6)
        })
    };
    if at(answer, &said).is_some_and(shares) {
        report.push("probe: GET of one user answers the record where the draft reads it".into());
        return;
    }
    if shares(answer) {
        op.unset("item");
        report.push("probe: GET of one user answers the bare record; `item` removed".into());
        return;
    }
    if let Value::Object(m) = answer
        && let Some((k, _)) = m.iter().find(|(_, v)| shares(v))
    {
        let p = schema::json_path(std::slice::from_ref(k));
        op.set("item", Tv::s(p.clone()), "found by --probe");
        report.push(format!("probe: GET of one user answers the record at {p}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_are_found_where_the_answer_has_them() {
        let body = json!({"data": {"people": [{"id": 1}, {"id": 2}]}, "meta": {"count": 2}});
        let (k, r) = find_records(&body, Some("$.users[*]")).unwrap();
        assert_eq!(
            (k, r.len()),
            (vec!["data".to_owned(), "people".to_owned()], 2)
        );
    }
}
