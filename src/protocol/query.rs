//! List parameters (RFC 7644 §3.4.2): `filter`, `startIndex`, `count`,
//! `attributes`, `excludedAttributes`, `sortBy`, `sortOrder`, read from a
//! query string (`+` and `%20` both decode to a space: Okta's older samples
//! and Entra send `filter=userName+eq+%22…%22`) or from a SearchRequest
//! body (RFC 7644 §3.4.3).

use super::SEARCH_URN;
use super::filter::{self, Filter, FilterLimits};
use crate::error::{ScimError, ScimType};
use serde_json::Value;
use std::borrow::Cow;

/// Parsed list parameters.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// The parsed filter.
    pub filter: Option<Filter>,
    /// 1-based start (values below 1 are read as 1, RFC 7644 §3.4.2.4).
    pub start_index: u64,
    /// Requested page size, already capped; `None` = server default.
    pub count: Option<u64>,
    /// Attribute projection.
    pub projection: Projection,
    /// `sortBy` attribute path, if any.
    pub sort_by: Option<filter::AttrPath>,
    /// Descending order.
    pub descending: bool,
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    /// Only these (plus `returned: always`), lowercased.
    pub attributes: Vec<String>,
    /// All but these, lowercased.
    pub excluded: Vec<String>,
}

/// Parses a query string of a GET on a collection or item.
pub fn from_query(
    query: Option<&str>,
    max_count: u64,
    limits: &FilterLimits,
) -> Result<ListQuery, ScimError> {
    let mut q = ListQuery {
        start_index: 1,
        ..ListQuery::default()
    };
    for (k, v) in form_pairs(query.unwrap_or("")) {
        apply(&mut q, &k, Param::Str(&v), max_count, limits)?;
    }
    Ok(q)
}

/// The name/value pairs of an `application/x-www-form-urlencoded` query
/// (WHATWG URL, "application/x-www-form-urlencoded parsing"): split at
/// `&`, empty pieces skipped, each piece split at its first `=`, then
/// `+` read as a space, `%XX` decoded, and invalid UTF-8 replaced by
/// U+FFFD. A name or value with nothing to decode is borrowed.
fn form_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (form_decode(k), form_decode(v))
    })
}

/// One name or value of a form-encoded query, decoded (see [`form_pairs`]).
fn form_decode(raw: &str) -> Cow<'_, str> {
    let bytes = raw.as_bytes();
    if !bytes.iter().any(|&b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'+' => out.push(b' '),
            b'%' => match (bytes.get(i).and_then(hex), bytes.get(i + 1).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// The value of one hexadecimal digit.
fn hex(b: &u8) -> Option<u8> {
    char::from(*b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Parses a SearchRequest body (`POST …/.search`).
pub fn from_search_body(
    body: &Value,
    max_count: u64,
    limits: &FilterLimits,
) -> Result<ListQuery, ScimError> {
    let obj = body.as_object().ok_or_else(|| {
        ScimError::bad_request(
            ScimType::InvalidSyntax,
            "a SearchRequest must be a JSON object",
        )
    })?;
    let has_schema = obj
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(SEARCH_URN))
            })
        });
    if !has_schema {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("`schemas` must contain {SEARCH_URN}"),
        ));
    }
    let mut q = ListQuery {
        start_index: 1,
        ..ListQuery::default()
    };
    for (k, v) in obj {
        if k == "schemas" {
            continue;
        }
        apply(&mut q, k, Param::Json(v), max_count, limits)?;
    }
    Ok(q)
}

enum Param<'a> {
    Str(&'a str),
    Json(&'a Value),
}

impl<'a> Param<'a> {
    fn text(&self, name: &str) -> Result<Cow<'a, str>, ScimError> {
        match *self {
            Param::Str(s) => Ok(Cow::Borrowed(s)),
            Param::Json(Value::String(s)) => Ok(Cow::Borrowed(s)),
            Param::Json(Value::Number(n)) => Ok(Cow::Owned(n.to_string())),
            Param::Json(Value::Array(a)) => Ok(Cow::Owned(
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Param::Json(_) => Err(ScimError::bad_request(
                ScimType::InvalidValue,
                format!("`{name}` has the wrong type"),
            )),
        }
    }

    fn integer(&self, name: &str) -> Result<i64, ScimError> {
        let text = self.text(name)?;
        text.trim().parse::<i64>().map_err(|_| {
            ScimError::bad_request(
                ScimType::InvalidValue,
                format!("`{name}` must be an integer"),
            )
        })
    }
}

/// The list parameters, lowercased; names match case-insensitively.
const PARAMETERS: [&str; 7] = [
    "filter",
    "startindex",
    "count",
    "attributes",
    "excludedattributes",
    "sortby",
    "sortorder",
];

fn apply(
    q: &mut ListQuery,
    key: &str,
    v: Param<'_>,
    max_count: u64,
    limits: &FilterLimits,
) -> Result<(), ScimError> {
    let known = PARAMETERS
        .into_iter()
        .find(|p| p.eq_ignore_ascii_case(key))
        .unwrap_or_default();
    match known {
        "filter" => {
            let text = v.text("filter")?;
            let parsed = filter::parse_with(&text, limits).map_err(|e| {
                ScimError::bad_request(ScimType::InvalidFilter, format!("invalid filter {e}"))
            })?;
            q.filter = Some(parsed);
        }
        "startindex" => q.start_index = v.integer("startIndex")?.max(1).unsigned_abs(),
        // RFC 7644 §3.4.2.4: a negative count is read as 0.
        "count" => q.count = Some(v.integer("count")?.max(0).unsigned_abs().min(max_count)),
        "attributes" => q.projection.attributes = names(&v.text("attributes")?),
        "excludedattributes" => q.projection.excluded = names(&v.text("excludedAttributes")?),
        "sortby" => {
            let text = v.text("sortBy")?;
            let path = filter::parser::parse_attr_path(text.trim(), 0).map_err(|e| {
                ScimError::bad_request(ScimType::InvalidValue, format!("invalid sortBy {e}"))
            })?;
            q.sort_by = Some(path);
        }
        "sortorder" => {
            q.descending = match v.text("sortOrder")?.to_ascii_lowercase().as_str() {
                "ascending" => false,
                "descending" => true,
                _ => {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidValue,
                        "sortOrder must be `ascending` or `descending`",
                    ));
                }
            }
        }
        // Unknown parameters are ignored, as HTTP APIs conventionally do
        // (e.g. Entra's Tenant URL flag `aadOptscim062020`).
        _ => {}
    }
    Ok(())
}

/// Splits a comma-separated attribute list into lowercased names.
fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Result<ListQuery, ScimError> {
        from_query(Some(s), 200, &FilterLimits::default())
    }

    #[test]
    fn plus_and_percent_twenty_both_decode_to_spaces() {
        let a = q("filter=userName+eq+%22a%40x.com%22&startIndex=1&count=100").unwrap();
        let b = q("filter=userName%20eq%20%22a%40x.com%22").unwrap();
        assert_eq!(a.filter, b.filter);
        assert_eq!(a.filter.unwrap().to_string(), r#"userName eq "a@x.com""#);
        assert_eq!(a.count, Some(100));
    }

    /// The query decoder reads what `form_urlencoded` reads.
    #[test]
    fn form_pairs_decode_as_form_urlencoded_does() {
        let cases = [
            "",
            "&&",
            "filter=userName%20eq%20%22a%40x.com%22",
            "filter=userName+eq+%22a%40x.com%22&count=1",
            "a=%&b=%4&c=%zz&d=%41%4a%6b&e=1%2B1+2",
            "=v&k=&k2&x==y",
            "name%3D=%26value",
            "bad=%FF%FE&mixed=%C3%A9%C3&ok=%E2%82%AC",
            "plain=abc&UPPER=%2f%2F",
        ];
        for case in cases {
            let ours: Vec<(String, String)> = form_pairs(case)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let theirs: Vec<(String, String)> = form_urlencoded::parse(case.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(ours, theirs, "{case}");
        }
    }

    #[test]
    fn parameter_names_are_case_insensitive() {
        let p = q("FILTER=userName+eq+%22a%22&StartIndex=3&COUNT=2&sortorder=DESCENDING").unwrap();
        assert!(p.filter.is_some());
        assert_eq!((p.start_index, p.count, p.descending), (3, Some(2), true));
    }

    #[test]
    fn paging_bounds_follow_rfc() {
        let p = q("startIndex=0&count=-5").unwrap();
        assert_eq!((p.start_index, p.count), (1, Some(0)));
        assert_eq!(q("count=5000").unwrap().count, Some(200));
        assert!(q("count=abc").is_err());
    }

    #[test]
    fn malformed_filter_is_invalid_filter_with_position() {
        let e = q("filter=RANDOMUSERNAMECAPS").unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
        assert!(e.detail.contains("position"), "{}", e.detail);
    }

    #[test]
    fn projection_and_sort() {
        let p =
            q("attributes=userName,name.givenName&sortBy=meta.lastModified&sortOrder=descending")
                .unwrap();
        assert_eq!(p.projection.attributes, vec!["username", "name.givenname"]);
        assert!(p.descending);
        assert!(p.sort_by.is_some());
        assert!(q("sortOrder=sideways").is_err());
    }

    #[test]
    fn search_body() {
        let body = serde_json::json!({
            "schemas": [SEARCH_URN], "filter": "userName sw \"a\"", "startIndex": 3, "count": 10,
            "excludedAttributes": ["emails"]
        });
        let p = from_search_body(&body, 200, &FilterLimits::default()).unwrap();
        assert_eq!((p.start_index, p.count), (3, Some(10)));
        assert_eq!(p.projection.excluded, vec!["emails"]);
        assert!(
            from_search_body(
                &serde_json::json!({"filter": "x pr"}),
                200,
                &FilterLimits::default()
            )
            .is_err()
        );
    }
}
