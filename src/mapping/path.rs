//! Paths into JSON documents. [`WritePath`] is the restricted write-side
//! language (`$.a.b`, `$.a[0]`, `$['odd key']`) with set-with-create;
//! [`ReadPath`] is a compiled read-side JSONPath that takes a fast pointer
//! walk when the path is in the restricted language; [`ScimPath`] is the
//! SCIM side of a rule (`name.givenName`, `emails[type eq "work"].value`,
//! URN-qualified extension paths). It does not know about rules or schemas.

use jsonpath_rust::parser::model::JpQuery;
use serde_json::{Map, Value};

/// One step of a write path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// A restricted, writable JSON path: keys and indexes only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WritePath {
    segments: Vec<Segment>,
}

impl WritePath {
    /// Parses `$`, `$.a.b`, `$.a[0]`, `$['odd key']`, `$["k"]`; returns a
    /// lowercase reason when the path uses anything else (filters, wildcards,
    /// recursive descent, slices).
    pub fn parse(src: &str) -> Result<Self, String> {
        let rest = src
            .strip_prefix('$')
            .ok_or_else(|| "a path must start with `$`".to_owned())?;
        let mut segments = Vec::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((_, c)) = chars.next() {
            match c {
                '.' => {
                    let mut key = String::new();
                    while let Some(&(_, c)) = chars.peek() {
                        if c == '.' || c == '[' {
                            break;
                        }
                        key.push(c);
                        chars.next();
                    }
                    if key.is_empty() || key == "*" || key.starts_with('.') {
                        return Err(
                            "wildcards, recursive descent and empty keys are not writable".into(),
                        );
                    }
                    segments.push(Segment::Key(key));
                }
                '[' => {
                    let mut inner = String::new();
                    let mut closed = false;
                    let quoted = matches!(chars.peek(), Some((_, '\'' | '"')));
                    for (_, c) in chars.by_ref() {
                        if c == ']' && (!quoted || inner.len() >= 2 && ends_quoted(&inner)) {
                            closed = true;
                            break;
                        }
                        inner.push(c);
                    }
                    if !closed {
                        return Err("unclosed `[`".into());
                    }
                    segments.push(bracket(&inner)?);
                }
                _ => return Err(format!("unexpected `{c}`")),
            }
        }
        Ok(Self { segments })
    }

    /// A path of plain keys (used for wrapping bodies and tests).
    pub fn of_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            segments: keys
                .into_iter()
                .map(|k| Segment::Key(k.to_owned()))
                .collect(),
        }
    }

    /// A path of these segments.
    pub fn from_segments(segments: Vec<Segment>) -> Self {
        Self { segments }
    }

    /// The segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Reads the value at this path, if every step exists.
    pub fn get<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        self.segments.iter().try_fold(doc, |v, s| match s {
            Segment::Key(k) => v.get(k.as_str()),
            Segment::Index(i) => v.get(*i),
        })
    }

    /// The value at this path, mutably, if every step exists.
    pub fn get_mut<'a>(&self, doc: &'a mut Value) -> Option<&'a mut Value> {
        self.segments.iter().try_fold(doc, |v, s| match s {
            Segment::Key(k) => v.get_mut(k.as_str()),
            Segment::Index(i) => v.get_mut(*i),
        })
    }

    /// Writes `value` at this path, creating missing objects and arrays (and
    /// replacing scalars that are in the way). Arrays are padded with nulls.
    pub fn set(&self, doc: &mut Value, value: Value) {
        let mut cur = doc;
        for seg in &self.segments {
            cur = match seg {
                Segment::Key(k) => {
                    if !cur.is_object() {
                        *cur = Value::Object(Map::new());
                    }
                    match cur {
                        Value::Object(m) => m.entry(k.clone()).or_insert(Value::Null),
                        _ => return,
                    }
                }
                Segment::Index(i) => {
                    if !cur.is_array() {
                        *cur = Value::Array(Vec::new());
                    }
                    match cur {
                        Value::Array(a) => {
                            if a.len() <= *i {
                                a.resize(*i + 1, Value::Null);
                            }
                            match a.get_mut(*i) {
                                Some(slot) => slot,
                                None => return,
                            }
                        }
                        _ => return,
                    }
                }
            };
        }
        *cur = value;
    }
}

fn ends_quoted(inner: &str) -> bool {
    let first = inner.chars().next();
    let last = inner.chars().last();
    first == last && !inner.ends_with("\\'") && !inner.ends_with("\\\"")
}

fn bracket(inner: &str) -> Result<Segment, String> {
    let t = inner.trim();
    for q in ['\'', '"'] {
        if let Some(body) = t.strip_prefix(q).and_then(|b| b.strip_suffix(q)) {
            return Ok(Segment::Key(
                body.replace(&format!("\\{q}"), &q.to_string()),
            ));
        }
    }
    t.parse::<usize>()
        .map(Segment::Index)
        .map_err(|_| format!("`[{inner}]` is not writable: use a key, a quoted key or an index"))
}

/// A compiled read-side path: a pointer walk when the path is in the
/// restricted language (or is one followed by a final `[*]`, the usual
/// `$.items[*]` of a list answer), a precompiled JSONPath otherwise.
#[derive(Debug, Clone)]
pub enum ReadPath {
    /// Restricted path, read by walking keys and indexes.
    Simple(WritePath),
    /// A restricted path and a final wildcard: every member of the array
    /// or object there, as JSONPath's `[*]` selects them (RFC 9535 §2.3.2).
    Each(WritePath),
    /// Full JSONPath, compiled once.
    Query(Box<JpQuery>),
}

impl ReadPath {
    /// Compiles a JSONPath; the error is jsonpath-rust's message.
    pub fn compile(src: &str) -> Result<Self, String> {
        if let Ok(p) = WritePath::parse(src) {
            return Ok(Self::Simple(p));
        }
        if let Some(Ok(p)) = src.strip_suffix("[*]").map(WritePath::parse) {
            return Ok(Self::Each(p));
        }
        jsonpath_rust::parser::parse_json_path(src)
            .map(|q| Self::Query(Box::new(q)))
            .map_err(|e| compact_error(&e.to_string()))
    }

    /// Every match, in document order.
    pub fn all<'a>(&self, doc: &'a Value) -> Vec<&'a Value> {
        match self {
            Self::Simple(p) => p.get(doc).into_iter().collect(),
            Self::Each(p) => match p.get(doc) {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(Value::Object(members)) => members.values().collect(),
                _ => Vec::new(),
            },
            Self::Query(q) => jsonpath_rust::query::js_path_process(q, doc)
                .map(|v| v.into_iter().map(|r| r.val()).collect())
                .unwrap_or_default(),
        }
    }

    /// Every match, as [`ReadPath::all`] finds them, moved out of `doc`
    /// (left `null` or emptied there) when the path is a pointer walk and
    /// copied for a full JSONPath: a list answer's items are kept without a
    /// deep copy of each.
    pub fn take_all(&self, doc: &mut Value) -> Vec<Value> {
        match self {
            Self::Simple(p) => p.get_mut(doc).map(Value::take).into_iter().collect(),
            Self::Each(p) => match p.get_mut(doc) {
                Some(Value::Array(items)) => std::mem::take(items),
                Some(Value::Object(members)) => std::mem::take(members)
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect(),
                _ => Vec::new(),
            },
            Self::Query(_) => self.all(doc).into_iter().cloned().collect(),
        }
    }

    /// The restricted path, when this is one (it can then be written).
    pub fn as_write_path(&self) -> Option<&WritePath> {
        match self {
            Self::Simple(p) => Some(p),
            Self::Each(_) | Self::Query(_) => None,
        }
    }

    /// The first non-null match.
    pub fn one<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        match self {
            Self::Simple(p) => p.get(doc).filter(|v| !v.is_null()),
            Self::Each(_) | Self::Query(_) => self.all(doc).into_iter().find(|v| !v.is_null()),
        }
    }
}

/// Folds jsonpath-rust's multi-line pest report into one lowercase line:
/// `expected selector at 1:9`.
fn compact_error(msg: &str) -> String {
    let pos = msg
        .find("--> ")
        .and_then(|i| msg[i + 4..].split_whitespace().next());
    let what = msg
        .lines()
        .find_map(|l| l.trim().strip_prefix("= "))
        .map(str::trim);
    match (what, pos) {
        (Some(w), Some(p)) => format!("{} at {p}", w.to_lowercase()),
        _ => msg.lines().next().unwrap_or(msg).to_lowercase(),
    }
}

/// The SCIM side of an attribute rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimPath {
    /// Extension schema URN, `None` for the core schema.
    pub urn: Option<String>,
    /// Attribute name as written.
    pub attr: String,
    /// Value selector on a multi-valued attribute: (sub-attribute, value).
    pub selector: Option<(String, String)>,
    /// Sub-attribute.
    pub sub: Option<String>,
}

impl ScimPath {
    /// Parses `attr`, `attr.sub`, `attr[type eq "work"].sub` and their
    /// `urn:…:attr…` forms.
    pub fn parse(src: &str) -> Result<Self, String> {
        let head_end = src.find('[').unwrap_or(src.len());
        let (urn, attr_start) = match crate::schema::split_urn(&src[..head_end]) {
            (Some(u), _) => (Some(u.to_owned()), u.len() + 1),
            (None, _) => (None, 0),
        };
        let rest = &src[attr_start..];
        let (head, selector, tail) = match rest.find('[') {
            Some(i) => {
                let close = rest.find(']').ok_or("unclosed `[`")?;
                let sel = selector(rest.get(i + 1..close).ok_or("bad selector")?)?;
                (&rest[..i], Some(sel), &rest[close + 1..])
            }
            None => (rest, None, ""),
        };
        let (attr, sub) = match (selector.is_some(), head.split_once('.')) {
            (false, Some((a, s))) => (a, Some(s.to_owned())),
            (false, None) => (head, None),
            (true, _) => (head, tail.strip_prefix('.').map(str::to_owned)),
        };
        if selector.is_some() && sub.is_none() {
            return Err("a value selector must be followed by `.subAttribute`".into());
        }
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '-')
        };
        if !valid(attr) || sub.as_deref().is_some_and(|s| !valid(s)) {
            return Err(format!("`{src}` is not a SCIM attribute path"));
        }
        Ok(Self {
            urn,
            attr: attr.to_owned(),
            selector,
            sub,
        })
    }
}

fn selector(inner: &str) -> Result<(String, String), String> {
    let mut parts = inner.trim().splitn(3, ' ');
    let (attr, op, value) = (parts.next(), parts.next(), parts.next());
    match (attr, op, value) {
        (Some(a), Some(op), Some(v)) if op.eq_ignore_ascii_case("eq") => {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or("selector value must be a quoted string")?;
            Ok((a.to_owned(), v.to_owned()))
        }
        _ => Err("a value selector must look like `[type eq \"work\"]`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn write_paths_parse_and_reject() {
        let p = WritePath::parse("$.a['odd key'][1].b").unwrap();
        assert_eq!(
            p.segments(),
            &[
                Segment::Key("a".into()),
                Segment::Key("odd key".into()),
                Segment::Index(1),
                Segment::Key("b".into())
            ]
        );
        assert!(WritePath::parse("$.a[*]").is_err());
        assert!(WritePath::parse("$..a").is_err());
        assert!(WritePath::parse("$.a[?(@.x == 1)]").is_err());
        assert!(WritePath::parse("a.b").is_err());
        assert_eq!(WritePath::parse("$").unwrap().segments(), &[]);
    }

    /// A final `[*]` after a restricted path is walked directly and
    /// selects what jsonpath-rust selects, in the same order.
    #[test]
    fn a_final_wildcard_matches_the_jsonpath_engine() {
        let docs = [
            json!({"items": [{"id": 1}, null, {"id": 2}], "total": 2}),
            json!({"items": {"b": 1, "a": [2], "c": null}}),
            json!({"items": []}),
            json!({"items": "text"}),
            json!({"data": {"users": [1, 2]}}),
            json!([3, 4]),
            json!({}),
        ];
        for src in ["$.items[*]", "$.data.users[*]", "$[*]", "$['items'][*]"] {
            let fast = ReadPath::compile(src).unwrap();
            assert!(matches!(fast, ReadPath::Each(_)), "{src}");
            let engine = ReadPath::Query(Box::new(
                jsonpath_rust::parser::parse_json_path(src).unwrap(),
            ));
            for doc in &docs {
                assert_eq!(fast.all(doc), engine.all(doc), "{src} on {doc}");
                assert_eq!(fast.one(doc), engine.one(doc), "{src} on {doc}");
                let copied: Vec<Value> = engine.all(doc).into_iter().cloned().collect();
                assert_eq!(fast.take_all(&mut doc.clone()), copied, "{src} on {doc}");
                assert_eq!(engine.take_all(&mut doc.clone()), copied, "{src} on {doc}");
            }
        }
        assert!(matches!(
            ReadPath::compile("$.items[*].id").unwrap(),
            ReadPath::Query(_)
        ));
        assert!(matches!(
            ReadPath::compile("$..items[*]").unwrap(),
            ReadPath::Query(_)
        ));
    }

    #[test]
    fn set_creates_missing_objects_and_arrays() {
        let mut doc = json!({"a": 1});
        WritePath::parse("$.b.c[1].d")
            .unwrap()
            .set(&mut doc, json!("x"));
        WritePath::parse("$.a").unwrap().set(&mut doc, json!(2));
        assert_eq!(doc, json!({"a": 2, "b": {"c": [null, {"d": "x"}]}}));
    }

    #[test]
    fn read_paths_use_jsonpath_for_filters() {
        let doc = json!({"p": [{"k": "m", "n": "1"}, {"k": "w", "n": "2"}]});
        let p = ReadPath::compile("$.p[?(@.k == 'w')].n").unwrap();
        assert_eq!(p.one(&doc), Some(&json!("2")));
        assert!(matches!(
            ReadPath::compile("$.p[0].n").unwrap(),
            ReadPath::Simple(_)
        ));
        assert!(ReadPath::compile("$.p[").is_err());
    }

    #[test]
    fn scim_paths_parse() {
        let p = ScimPath::parse("emails[type eq \"work\"].value").unwrap();
        assert_eq!(p.attr, "emails");
        assert_eq!(p.selector, Some(("type".into(), "work".into())));
        assert_eq!(p.sub.as_deref(), Some("value"));
        let p = ScimPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            p.urn.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            (p.attr.as_str(), p.sub.as_deref()),
            ("manager", Some("value"))
        );
        assert!(ScimPath::parse("emails[type eq \"work\"]").is_err());
        assert!(ScimPath::parse("na me").is_err());
    }
}
