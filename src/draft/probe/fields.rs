//! What `draft --probe` reads off the app's records: fields at the simple
//! JSONPaths the drafter writes, each attribute's field confirmed or found
//! under another spelling (`first_name` sent as `firstName`, up to three
//! levels down), timestamps checked on real values (a date-time without a
//! zone gets `naive_utc`, epoch numbers an epoch transform), and which
//! attributes have values in the records read.

use crate::draft::model::{Entry, Resource, Tv};
use crate::draft::schema;
use serde_json::Value;

/// Keys of a simple JSONPath as the drafter writes them (`$.a['b']`).
pub(super) fn keys(path: &str) -> Option<Vec<String>> {
    let mut rest = path.strip_prefix('$')?.trim_end_matches("[*]");
    let mut out = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']")?;
            out.push(r[..end].replace("\\'", "'"));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            out.push(r[..end].to_owned());
            rest = &r[end..];
        } else {
            return None;
        }
    }
    Some(out)
}

/// The value under `v` at `keys`, if every key is there.
pub(super) fn at<'v>(v: &'v Value, keys: &[String]) -> Option<&'v Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

/// Checks each attribute's field on the records, corrects fields spelled
/// differently, and reports which attributes have values.
pub(super) fn attributes(users: &mut Resource, records: &[Value], report: &mut Vec<String>) {
    let n = records.len();
    let mut moved: Vec<(String, String)> = Vec::new();
    let mut with = Vec::new();
    let mut without = Vec::new();
    for e in users.attributes.iter_mut() {
        let Some(path) = crate::draft::groups::rule_path(&e.value).map(str::to_owned) else {
            continue;
        };
        if e.key == "password" {
            continue;
        }
        let Some(k) = keys(&path) else { continue };
        if e.key.starts_with("meta.") && e.key != "meta.version" {
            timestamp(e, records, &k, report);
        }
        let count = records
            .iter()
            .filter(|r| at(r, &k).is_some_and(|v| !v.is_null()))
            .count();
        if count > 0 {
            with.push(format!("{} {count}/{n}", e.key));
            continue;
        }
        let present = records.iter().any(|r| at(r, &k).is_some());
        if !present && let Some(found) = respelled(records, &k) {
            let new = schema::json_path(&found);
            set_path(e, &new);
            moved.push((path.clone(), new.clone()));
            e.comment = format!("corrected by --probe (the document said {path})");
            report.push(format!("probe: {} is at {new}, not {path}", e.key));
            let count = records
                .iter()
                .filter(|r| at(r, &found).is_some_and(|v| !v.is_null()))
                .count();
            with.push(format!("{} {count}/{n}", e.key));
            continue;
        }
        without.push(e.key.clone());
    }
    // Templates composed from corrected fields follow them.
    for e in users.attributes.iter_mut() {
        if let Tv::Table(t) = &mut e.value {
            for (k, v) in t.iter_mut() {
                if let (true, Tv::Str(text)) = (k == "template", v) {
                    for (old, new) in &moved {
                        *text = text.replace(&format!("{{{old}}}"), &format!("{{{new}}}"));
                    }
                }
            }
        }
    }
    report.push(format!(
        "probe: attributes with values: {}",
        if with.is_empty() {
            "none".into()
        } else {
            with.join(", ")
        }
    ));
    if !without.is_empty() {
        report.push(format!(
            "probe: attributes without a value in any record read: {}",
            without.join(", ")
        ));
    }
}

/// A timestamp rule checked on real values: a date-time without a zone
/// (Flask-AppBuilder's `2024-05-01T12:00:00.123456`, though its document
/// says `date-time`) gets `naive_utc`, epoch numbers an epoch transform.
fn timestamp(e: &mut Entry, records: &[Value], k: &[String], report: &mut Vec<String>) {
    let Tv::Str(path) = &e.value else { return };
    let Some(v) = records
        .iter()
        .find_map(|r| at(r, k).filter(|v| !v.is_null()))
    else {
        return;
    };
    let transform = match v {
        Value::String(s) if is_naive(s) => "naive_utc",
        Value::Number(n) if n.as_u64().is_some_and(|n| n > 100_000_000_000) => "epoch_millis",
        Value::Number(_) => "epoch_seconds",
        _ => return,
    };
    e.value = Tv::table([
        ("path", Tv::s(path.clone())),
        ("transform", Tv::Arr(vec![Tv::s(transform)])),
    ]);
    e.comment = format!("{transform}: corrected by --probe (the app sends {v})");
    report.push(format!(
        "probe: {} needs {transform} (the app sends {v})",
        e.key
    ));
}

/// `2024-05-01T12:00:00[.fff]` without `Z` or an offset.
fn is_naive(s: &str) -> bool {
    let b = s.as_bytes();
    let date = b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':';
    let time = s.get(19..).unwrap_or("");
    date && !s.ends_with(['Z', 'z']) && !time.contains(['+', '-'])
}

/// A field of the records with the same words as `k`'s last key, at any
/// depth up to three.
fn respelled(records: &[Value], k: &[String]) -> Option<Vec<String>> {
    let want = schema::snake(k.last()?);
    for r in records {
        let mut stack: Vec<(Vec<String>, &Value)> = vec![(Vec::new(), r)];
        while let Some((prefix, v)) = stack.pop() {
            let Value::Object(m) = v else { continue };
            for (key, child) in m {
                let mut p = prefix.clone();
                p.push(key.clone());
                if schema::snake(key) == want && !child.is_object() && !child.is_array() {
                    return Some(p);
                }
                if child.is_object() && p.len() < 3 {
                    stack.push((p, child));
                }
            }
        }
    }
    None
}

fn set_path(e: &mut Entry, path: &str) {
    match &mut e.value {
        Tv::Str(s) => *s = path.to_owned(),
        Tv::Table(t) => {
            for (k, v) in t.iter_mut() {
                if k == "path" {
                    *v = Tv::s(path);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn naive_timestamps_are_told_from_zoned_ones() {
        assert!(is_naive("2024-05-01T12:00:00.123456"));
        assert!(is_naive("2024-05-01 12:00:00"));
        assert!(!is_naive("2024-05-01T12:00:00Z"));
        assert!(!is_naive("2024-05-01T12:00:00.5+02:00"));
        assert!(!is_naive("2024-05-01T12:00:00-07:00"));
        assert!(!is_naive("yesterday"));
    }

    #[test]
    fn simple_paths_read_back() {
        assert_eq!(keys("$.a.b[*]").unwrap(), vec!["a", "b"]);
        assert_eq!(keys("$['@odata.x'].y").unwrap(), vec!["@odata.x", "y"]);
        assert_eq!(keys("$").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_field_is_found_under_another_spelling() {
        let records = vec![json!({"profile": {"firstName": "Ada"}})];
        assert_eq!(
            respelled(&records, &["first_name".into()]).unwrap(),
            vec!["profile", "firstName"]
        );
    }
}
