//! Which requests are SCIM: the base paths in use (`[scim] base_path` and
//! each connection's own), matched the way an app behind the sidecar might
//! read a path. A path that equals a base path case-insensitively once
//! repeated slashes are collapsed (`/SCIM/v2/Users`, `//scim/v2/Users`) is
//! SCIM and served. A path that reaches a base path only once a lenient
//! server has had its way with it is refused with a SCIM 400: after
//! decoding percent-escapes (also twice: `%252e`), resolving dot segments
//! (RFC 3986 §6.2.2.2, §5.2.4: `/%73cim/v2/Users`, `/x/../scim/v2/Users`),
//! reading `\` as `/`, dropping `;` path parameters (Servlet containers),
//! trimming trailing dots, spaces and control characters from a segment
//! (Windows and IIS: `/scim/v2./Users`, `/scim/v2%20/`), or folding
//! compatibility forms to ASCII the way Unicode NFKC and case mapping do
//! (fullwidth `ｖ`, mathematical and circled letters, superscript digits,
//! the Kelvin sign and long s). Neither is ever passed through, so an
//! IdP's bearer token never reaches the app.

use percent_encoding::percent_decode_str;
use std::borrow::Cow;

/// The SCIM base paths of a config, longest first.
#[derive(Debug, Clone, Default)]
pub struct BasePaths {
    paths: Vec<String>,
}

/// How a request path relates to the SCIM base paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// Not SCIM: passed through to the app.
    NotScim,
    /// Below base path `base` (as configured); `rest` is the remainder,
    /// empty or starting with `/`.
    Scim {
        /// The configured base path.
        base: String,
        /// The path after it.
        rest: String,
    },
    /// Reaches a base path only through encoding or dot segments.
    Refused,
}

impl BasePaths {
    /// The base paths in use (`[scim] base_path` and every connection's);
    /// spellings that differ only in case are one.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        let mut paths: Vec<String> = paths.into_iter().map(str::to_owned).collect();
        paths.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        paths.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        Self { paths }
    }

    /// Classifies a request path.
    pub fn classify(&self, path: &str) -> PathMatch {
        let collapsed = collapse_slashes(path);
        if let Some((base, rest)) = self.prefix_of(&collapsed) {
            return PathMatch::Scim {
                base: base.to_string(),
                rest: rest.to_string(),
            };
        }
        // Most pass-through paths have nothing to normalise: no allocation.
        if is_plain(path) {
            return PathMatch::NotScim;
        }
        match self.prefix_of(&normalise(path)) {
            Some(_) => PathMatch::Refused,
            None => PathMatch::NotScim,
        }
    }

    /// The longest base path `path` is below (segment-wise, ASCII
    /// case-insensitively), with the remainder.
    fn prefix_of<'p>(&self, path: &'p str) -> Option<(&str, &'p str)> {
        self.paths.iter().find_map(|base| {
            let head = path.get(..base.len())?;
            let rest = &path[base.len()..];
            (head.eq_ignore_ascii_case(base) && (rest.is_empty() || rest.starts_with('/')))
                .then_some((base.as_str(), rest))
        })
    }
}

/// `//a///b` → `/a/b`; borrowed when there is nothing to collapse.
fn collapse_slashes(path: &str) -> Cow<'_, str> {
    if !path.contains("//") {
        return Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path no normalisation below can change the meaning of: ASCII, no
/// escapes, backslashes or parameters, no segment starting or ending in a
/// dot.
fn is_plain(path: &str) -> bool {
    path.is_ascii()
        && !path.contains(['%', '\\', ';'])
        && !path.contains("/.")
        && !path.contains("./")
        && !path.ends_with('.')
}

/// Percent-decodings applied at most: a path encoded twice (`%252e`) is
/// still decoded by apps that decode once more than they should.
const DECODE_ROUNDS: usize = 3;

/// What a lenient app might make of a path: percent-escapes decoded,
/// compatibility characters folded to ASCII, backslashes as slashes, `;`
/// parameters dropped from segments, trailing dots, spaces and control
/// characters trimmed from segments, dot segments resolved, slashes
/// collapsed.
fn normalise(path: &str) -> String {
    let mut decoded = path.to_owned();
    for _ in 0..DECODE_ROUNDS {
        if !decoded.contains('%') {
            break;
        }
        let next = percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
    }
    let folded: String = decoded
        .chars()
        .map(|c| match fold_char(c) {
            '\\' => '/',
            c => c,
        })
        .collect();
    let mut segments: Vec<&str> = Vec::new();
    for seg in folded.split('/') {
        let seg = seg.split(';').next().unwrap_or("");
        let trimmed =
            seg.trim_end_matches(|c: char| c == '.' || c.is_whitespace() || c.is_control());
        match trimmed {
            // `..` and what trims to it (`.. `, `...`) go up; `.`, `. `
            // and empty segments vanish.
            "" if seg.starts_with("..") => {
                segments.pop();
            }
            "" => {}
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
}

/// The ASCII character a compatibility character stands for under NFKC
/// (and simple case mapping), or the character itself. Covers the forms
/// that spell paths: fullwidth ASCII, the ideographic space, mathematical
/// alphanumerics, circled letters, super- and subscript digits, small and
/// leader forms of `.` and `\`, and letters whose case mapping is ASCII
/// (`K` Kelvin sign → `k`, `ſ` long s → `S`, `ı` dotless i → `I`).
fn fold_char(c: char) -> char {
    let cp = u32::from(c);
    let ascii = |offset: u32| char::from_u32(offset).unwrap_or(c);
    match cp {
        0..=0x7f => c,
        // Fullwidth forms: U+FF01..U+FF5E are U+0021..U+007E.
        0xff01..=0xff5e => ascii(cp - 0xfee0),
        0x3000 => ' ',
        // Mathematical alphanumeric symbols: 13 alphabets of A–Z a–z, then
        // 5 sets of 0–9.
        0x1d400..=0x1d6a3 => letter((cp - 0x1d400) % 52),
        0x1d7ce..=0x1d7ff => ascii(u32::from(b'0') + (cp - 0x1d7ce) % 10),
        // Circled Latin letters.
        0x24b6..=0x24cf => ascii(u32::from(b'A') + cp - 0x24b6),
        0x24d0..=0x24e9 => ascii(u32::from(b'a') + cp - 0x24d0),
        // Super- and subscript digits.
        0x2070 => '0',
        0xb9 => '1',
        0xb2 => '2',
        0xb3 => '3',
        0x2074..=0x2079 => ascii(u32::from(b'4') + cp - 0x2074),
        0x2080..=0x2089 => ascii(u32::from(b'0') + cp - 0x2080),
        // Small full stop, one dot leader, small reverse solidus.
        0xfe52 | 0x2024 => '.',
        0xfe68 => '\\',
        _ => ascii_case(c).unwrap_or(c),
    }
}

/// Letter `i` of the 52 in a mathematical alphabet (A–Z then a–z).
fn letter(i: u32) -> char {
    let base = if i < 26 { b'A' } else { b'a' - 26 };
    char::from_u32(u32::from(base) + i).unwrap_or('?')
}

/// The ASCII letter a non-ASCII letter maps to by lower- or upper-casing,
/// if it does.
fn ascii_case(c: char) -> Option<char> {
    single_ascii(c.to_lowercase()).or_else(|| single_ascii(c.to_uppercase()))
}

/// The one character of `chars`, if there is exactly one and it is ASCII.
fn single_ascii(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let first = chars.next()?;
    (chars.next().is_none() && first.is_ascii()).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> BasePaths {
        let mut paths: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        paths.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        BasePaths { paths }
    }

    fn scim(base: &str, rest: &str) -> PathMatch {
        PathMatch::Scim {
            base: base.into(),
            rest: rest.into(),
        }
    }

    #[test]
    fn spellings_of_a_base_path_are_scim() {
        let p = paths(&["/scim/v2", "/scim/v2/acme"]);
        assert_eq!(p.classify("/scim/v2/Users"), scim("/scim/v2", "/Users"));
        assert_eq!(p.classify("/SCIM/v2/Users"), scim("/scim/v2", "/Users"));
        assert_eq!(p.classify("//scim/v2/Users"), scim("/scim/v2", "/Users"));
        assert_eq!(p.classify("/scim//V2//Users"), scim("/scim/v2", "/Users"));
        assert_eq!(p.classify("/scim/v2"), scim("/scim/v2", ""));
        assert_eq!(
            p.classify("/scim/v2/ACME/Users/7"),
            scim("/scim/v2/acme", "/Users/7")
        );
    }

    #[test]
    fn encoded_and_dotted_spellings_are_refused() {
        let p = paths(&["/scim/v2"]);
        for path in [
            "/%73cim/v2/Users",
            "/scim%2Fv2/Users",
            "/x/../scim/v2/Users",
            "/./scim/v2",
            "/scim;x=1/v2/Users",
            "/scim\\v2/Users",
            "/scim/v2./Users",
            "/scim/v2../Users",
            "/scim/v2.",
            "/scim/v2%2e/Users",
            "/scim/v2%2E%2E",
            "/scim/v2%20/Users",
            "/scim/v2%09/Users",
            "/scim/v2%00/Users",
            "/scim/v2%2FUsers",
            "/scim/v2;x/Users",
            "/scim/v2%3Bx/Users",
            "/scim/v2%252e/Users",
            "/%2573cim/v2/Users",
            "/scim/%EF%BD%962/Users",
            "/%EF%BD%93%EF%BD%83%EF%BD%89%EF%BD%8D/v2/Users",
            "/scim/v%C2%B2/Users",
            "/scim%EF%BC%8Fv2/Users",
            "/%F0%9D%90%AC%F0%9D%90%9C%F0%9D%90%A2%F0%9D%90%A6/v2",
            "/%E2%93%A2cim/v2",
            "/%C5%BFcim/v2/Users",
            "/x/..%2Fscim/v2/Users",
            "/x/.. /scim/v2/Users",
        ] {
            assert_eq!(p.classify(path), PathMatch::Refused, "{path}");
        }
    }

    #[test]
    fn compatibility_characters_fold_to_ascii() {
        for (c, want) in [
            ('ｖ', 'v'),
            ('Ｓ', 'S'),
            ('／', '/'),
            ('　', ' '),
            ('𝐬', 's'),
            ('𝐒', 'S'),
            ('𝟐', '2'),
            ('ⓢ', 's'),
            ('²', '2'),
            ('₂', '2'),
            ('\u{212a}', 'k'),
            ('ſ', 'S'),
            ('é', 'é'),
            ('ß', 'ß'),
        ] {
            assert_eq!(fold_char(c), want, "{c}");
        }
    }

    #[test]
    fn other_paths_pass() {
        let p = paths(&["/scim/v2"]);
        for path in [
            "/",
            "/scim",
            "/scim/v22/Users",
            "/api/scim/v2",
            "/scim/v1/Users",
            "/scim/v2x/Users",
            "/scimfoo",
            "/scim/v2.1/Users",
            "/scim/v2-beta/Users",
            "/scim/v2x%20/Users",
            "/scim/%EF%BD%963/Users",
            "/static/app.js",
            "/scim/v2.json",
        ] {
            assert_eq!(p.classify(path), PathMatch::NotScim, "{path}");
        }
    }
}
