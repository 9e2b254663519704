//! List settings an app answers in response headers rather than in the
//! body: the next page in a `Link` header (RFC 8288 §3, `rel="next"`) or
//! in a header of its own, and the total count in a header such as
//! `X-Total-Count` or as the complete length of a `Content-Range`
//! (`items 0-24/319`, RFC 9110 §14.4).

use http::header::{CONTENT_RANGE, HeaderMap, HeaderName, LINK};

/// The next page named by `name`: for `Link`, the target of the first
/// link whose relation types include `next` (compared case-insensitively,
/// RFC 8288 §2.1.1) across every `Link` field line; for any other header,
/// its value. `None` when there is none (the last page).
pub(crate) fn next_of(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter().filter_map(|v| v.to_str().ok());
    if name != LINK {
        return values
            .next()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
    }
    values.find_map(|v| {
        links(v)
            .find(|(_, rels)| has_rel(rels, "next"))
            .map(|(t, _)| t)
    })
}

/// The total count in the header `name`: a number, or the complete length
/// after the `/` of a `Content-Range` (`*`, unknown, is none).
pub(crate) fn total_of(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    let v = headers.get(name)?.to_str().ok()?.trim();
    let count = match (name == CONTENT_RANGE, v.rsplit_once('/')) {
        (true, Some((_, len))) => len.trim(),
        (true, None) => return None,
        (false, _) => v,
    };
    count.parse().ok()
}

/// The links of one `Link` field value: each target with its `rel`
/// parameter's value (unquoted; empty when absent).
fn links(value: &str) -> impl Iterator<Item = (String, String)> + '_ {
    split_outside_quotes(value, ',').filter_map(|link| {
        let link = link.trim();
        let rest = link.strip_prefix('<')?;
        let (target, params) = rest.split_once('>')?;
        let rel = split_outside_quotes(params, ';')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("rel"))
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
            .unwrap_or_default();
        Some((target.trim().to_owned(), rel))
    })
}

/// Whether a space-separated list of relation types holds `want`.
fn has_rel(rels: &str, want: &str) -> bool {
    rels.split_ascii_whitespace()
        .any(|r| r.eq_ignore_ascii_case(want))
}

/// Splits at `sep` where it is not inside a quoted string (a `title`
/// parameter may hold commas and semicolons) or a `<…>` target.
fn split_outside_quotes(s: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut angled, mut escaped) = (0, false, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' if !angled => quoted = !quoted,
            '<' if !quoted => angled = true,
            '>' if !quoted => angled = false,
            c if c == sep && !quoted && !angled => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_next_link_is_found_among_others_in_any_order_and_case() {
        let h = headers(&[(
            "link",
            r#"<https://api.example.com/users?page=1>; rel="prev first", <https://api.example.com/users?page=3>; title="a, b; c"; REL="last  Next""#,
        )]);
        assert_eq!(
            next_of(&h, &LINK).as_deref(),
            Some("https://api.example.com/users?page=3")
        );
        let split = headers(&[
            ("link", "</users?page=9>; rel=last"),
            ("link", "</users?page=2>; rel=next"),
        ]);
        assert_eq!(next_of(&split, &LINK).as_deref(), Some("/users?page=2"));
    }

    #[test]
    fn a_link_header_without_next_is_the_last_page() {
        for h in [
            headers(&[("link", r#"<https://a/users?page=1>; rel="prev""#)]),
            headers(&[("link", r#"<https://a/users?page=1>; rel="nextish""#)]),
            headers(&[]),
        ] {
            assert_eq!(next_of(&h, &LINK), None, "{h:?}");
        }
    }

    #[test]
    fn another_header_is_the_cursor_itself() {
        let name = HeaderName::from_static("x-next-cursor");
        assert_eq!(
            next_of(&headers(&[("x-next-cursor", " abc ")]), &name).as_deref(),
            Some("abc")
        );
        assert_eq!(next_of(&headers(&[("x-next-cursor", "")]), &name), None);
    }

    #[test]
    fn totals_are_counts_or_a_content_range_length() {
        let x = HeaderName::from_static("x-total-count");
        assert_eq!(total_of(&headers(&[("x-total-count", "42")]), &x), Some(42));
        assert_eq!(total_of(&headers(&[("x-total-count", "many")]), &x), None);
        let cr = CONTENT_RANGE;
        assert_eq!(
            total_of(&headers(&[("content-range", "items 0-24/319")]), &cr),
            Some(319)
        );
        assert_eq!(
            total_of(&headers(&[("content-range", "0-24/*")]), &cr),
            None
        );
        assert_eq!(total_of(&headers(&[("content-range", "0-24")]), &cr), None);
    }
}
