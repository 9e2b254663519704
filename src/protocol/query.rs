//! List parameters (RFC 7644 §3.4.2): `filter`, `startIndex`, `count`,
//! `attributes`, `excludedAttributes`, `sortBy`, `sortOrder`, read from a
//! query string (`+` and `%20` both decode to a space: Okta's older samples
//! and Entra send `filter=userName+eq+%22…%22`) or from a SearchRequest
//! body (RFC 7644 §3.4.3).

use super::SEARCH_URN;
use super::filter::{self, Filter, FilterLimits};
use crate::error::{ScimError, ScimType};
use serde_json::Value;

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
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        apply(&mut q, &k, Param::Str(&v), max_count, limits)?;
    }
    Ok(q)
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

impl Param<'_> {
    fn text(&self, name: &str) -> Result<String, ScimError> {
        match self {
            Param::Str(s) => Ok((*s).to_string()),
            Param::Json(Value::String(s)) => Ok(s.clone()),
            Param::Json(Value::Number(n)) => Ok(n.to_string()),
            Param::Json(Value::Array(a)) => Ok(a
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")),
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

fn apply(
    q: &mut ListQuery,
    key: &str,
    v: Param<'_>,
    max_count: u64,
    limits: &FilterLimits,
) -> Result<(), ScimError> {
    match key.to_ascii_lowercase().as_str() {
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
