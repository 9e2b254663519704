//! Which requests are SCIM: the base paths in use (`[scim] base_path` and
//! each connection's own), matched the way an app behind the sidecar might
//! read a path. A path that equals a base path case-insensitively once
//! repeated slashes are collapsed (`/SCIM/v2/Users`, `//scim/v2/Users`) is
//! SCIM and served. A path that reaches a base path only after decoding
//! percent-escapes or resolving dot segments (RFC 3986 §6.2.2.2, §5.2.4:
//! `/%73cim/v2/Users`, `/x/../scim/v2/Users`) is refused. Neither is ever
//! passed through, so an IdP's bearer token never reaches the app.

use crate::config::Config;
use percent_encoding::percent_decode_str;

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
    /// The default base path and every connection's.
    pub fn new(config: &Config) -> Self {
        let mut paths: Vec<String> = std::iter::once(config.scim.base_path.clone())
            .chain(config.connections.iter().map(|c| c.base_path.clone()))
            .collect();
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
        let plain = !path.contains(['%', '\\', ';']) && !path.contains("/.");
        if plain {
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
fn collapse_slashes(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.contains("//") {
        return std::borrow::Cow::Borrowed(path);
    }
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What a lenient app might make of a path: percent-escapes decoded,
/// backslashes as slashes, `;` parameters dropped from segments, dot
/// segments resolved, slashes collapsed.
fn normalise(path: &str) -> String {
    let decoded = percent_decode_str(path)
        .decode_utf8_lossy()
        .replace('\\', "/");
    let mut segments: Vec<&str> = Vec::new();
    for seg in decoded.split('/') {
        let seg = seg.split(';').next().unwrap_or("");
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    format!("/{}", segments.join("/"))
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
        ] {
            assert_eq!(p.classify(path), PathMatch::Refused, "{path}");
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
        ] {
            assert_eq!(p.classify(path), PathMatch::NotScim, "{path}");
        }
    }
}
