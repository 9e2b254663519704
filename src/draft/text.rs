//! Reading the prose of a document: whether a description says a match is
//! exact or partial, case-sensitive or not, and numbers such as "at most
//! 100". Plain substring tests on lower-cased text; what prose does not
//! say stays unknown.

/// Whether `text` (any case) contains one of `needles` (lower case).
pub fn has(text: &str, needles: &[&str]) -> bool {
    let t = text.to_lowercase();
    needles.iter().any(|n| t.contains(n))
}

/// What a description says about case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Insensitive,
    Sensitive,
    Unknown,
}

/// Case sensitivity as stated in `text`.
pub fn case(text: &str) -> Case {
    let t = text.to_lowercase().replace(['-', '_'], " ");
    let insensitive = [
        "case insensitive",
        "insensitive",
        "ignoring case",
        "ignores case",
        "ignore case",
        "regardless of case",
        "ilike",
        "icontains",
        "iexact",
        "not case sensitive",
        "any case",
    ];
    if insensitive.iter().any(|n| t.contains(n)) {
        return Case::Insensitive;
    }
    if t.contains("case sensitive") || t.contains("exact case") || t.contains("matches case") {
        return Case::Sensitive;
    }
    Case::Unknown
}

/// Whether a parameter description says it matches partially (a
/// substring, a prefix, a full-text search) rather than exactly.
pub fn partial(text: &str) -> bool {
    let t = text.to_lowercase();
    if t.contains("exact match") || t.contains("exactly") && !t.contains("not exactly") {
        return false;
    }
    [
        "contain",
        "substring",
        "partial",
        " like",
        "prefix",
        "starts with",
        "start with",
        "fuzzy",
        "infix",
        "search",
        "similar",
        "wildcard",
        "matches any",
        "full text",
        "full-text",
    ]
    .iter()
    .any(|n| t.contains(n))
}

/// The first number after one of `prefixes` in `text` (lower case).
pub fn number_after(text: &str, prefixes: &[&str]) -> Option<i64> {
    for p in prefixes {
        let mut from = 0;
        while let Some(i) = text[from..].find(p) {
            let rest = &text[from + i + p.len()..];
            let rest = rest.trim_start_matches(|c: char| {
                c.is_whitespace() || c == ':' || c == '=' || c == '(' || c == '`'
            });
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
            from += i + p.len();
        }
    }
    None
}

/// At most `max` characters of the first sentence of `text`, on one line.
pub fn short(text: &str, max: usize) -> String {
    let one = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let first = one
        .split(". ")
        .next()
        .unwrap_or_default()
        .trim_end_matches('.');
    if first.chars().count() <= max {
        first.to_owned()
    } else {
        let cut: String = first.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_exactness_from_prose() {
        assert_eq!(case("Matches case-insensitively"), Case::Insensitive);
        assert_eq!(case("exact, case sensitive"), Case::Sensitive);
        assert_eq!(case("not case-sensitive"), Case::Insensitive);
        assert_eq!(case("The login"), Case::Unknown);
        assert!(partial(
            "A String contained in username, or the complete username, if param exact is true"
        ));
        assert!(!partial("Exact match on the login"));
        assert!(!partial("The login"));
    }

    #[test]
    fn numbers_and_short_lines() {
        assert_eq!(
            number_after("page size, at most 100 (default 30)", &["at most"]),
            Some(100)
        );
        assert_eq!(number_after("maximum: 50", &["maximum"]), Some(50));
        assert_eq!(number_after("no max here", &["max"]), None);
        assert_eq!(short("Get users. Returns a stream", 80), "Get users");
        assert_eq!(short("abcdefghij", 5), "abcd…");
    }
}
