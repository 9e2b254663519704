//! Encoders: how a placeholder's value is written where it lands, so that
//! no value can change which app endpoint is called or the shape of what
//! is sent. A value is percent-encoded for its [`Context`] (one path
//! segment, one query component, or a raw header value); structured query
//! parameters are written as one Rison or JSON document by an [`Encoder`]
//! (some frameworks take the whole query — filters, ordering, paging — as
//! one parameter, e.g. Flask-AppBuilder and Superset:
//! `q=(filters:!((col:email,opr:eq,value:'a@b.c')),page:0,page_size:100)`),
//! where a placeholder's value is always one string (or number) of the
//! document, so it cannot close a quote, open a list or add a key; the
//! document is then percent-encoded as one query component. A
//! placeholder written into a string literal of the app's own query
//! language (`filter=username='{value|sql}'`) is escaped first by a
//! [`Quote`], so it stays one literal whatever it holds.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// Everything except RFC 3986 unreserved characters is encoded, so a
/// placeholder can never introduce `/`, `?`, `#`, `%`, `&`, `=` or controls.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where a rendered value goes, which decides its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// One path segment: everything but unreserved characters encoded, and
    /// `.`/`..` encoded as `%2E` so they cannot walk up the path.
    PathSegment,
    /// A query name or value component.
    Query,
    /// A header value: passed raw (control characters are rejected later).
    Raw,
}

/// Encodes one placeholder value for its context.
pub fn encode(value: &str, ctx: Context) -> String {
    let mut out = String::with_capacity(value.len());
    encode_into(&mut out, value, ctx);
    out
}

/// [`encode`], appending to `out` (no string of its own per value).
pub fn encode_into(out: &mut String, value: &str, ctx: Context) {
    match ctx {
        Context::Raw => out.push_str(value),
        Context::PathSegment if !value.is_empty() && value.bytes().all(|b| b == b'.') => {
            for _ in 0..value.len() {
                out.push_str("%2E");
            }
        }
        Context::Query | Context::PathSegment => {
            out.extend(utf8_percent_encode(value, COMPONENT));
        }
    }
}

/// How a structured query parameter is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// Rison (<https://github.com/Nanonid/rison>): `(a:1,b:'x y',c:!(1,2))`.
    Rison,
    /// JSON text.
    Json,
}

impl Encoder {
    /// The config spelling, for test messages.
    #[cfg(test)]
    pub fn name(self) -> &'static str {
        match self {
            Self::Rison => "rison",
            Self::Json => "json",
        }
    }

    /// Encodes a document.
    pub fn encode(self, v: &Value) -> String {
        match self {
            Self::Json => v.to_string(),
            Self::Rison => {
                let mut out = String::new();
                rison(v, &mut out);
                out
            }
        }
    }
}

/// Characters Rison allows in a bare identifier besides alphanumerics
/// (the reference implementation's `not_idchar` is ` '!:(),*@$`).
const ID_EXTRA: &[char] = &['-', '_', '.', '/', '~'];

fn rison(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("!n"),
        Value::Bool(true) => out.push_str("!t"),
        Value::Bool(false) => out.push_str("!f"),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => rison_str(s, out, false),
        Value::Array(a) => {
            out.push_str("!(");
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                rison(e, out);
            }
            out.push(')');
        }
        Value::Object(m) => {
            out.push('(');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                rison_str(k, out, true);
                out.push(':');
                rison(e, out);
            }
            out.push(')');
        }
    }
}

/// A string: bare when it is an identifier (keys only: values are always
/// quoted, so `'true'` or `'12'` can never read as another type), else
/// quoted with `!` escaping `'` and `!`.
fn rison_str(s: &str, out: &mut String, key: bool) {
    let bare = key
        && s.chars()
            .next()
            .is_some_and(|c| !c.is_ascii_digit() && c != '-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ID_EXTRA.contains(&c));
    if bare {
        out.push_str(s);
        return;
    }
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '!' {
            out.push('!');
        }
        out.push(c);
    }
    out.push('\'');
}

/// How a placeholder's value is escaped for a string literal of the app's
/// own query language, before it is encoded for where it lands
/// (`{value|sql}`). The value then stays one literal: it cannot close the
/// quote, add a term or turn into a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    /// A quote is doubled, as in SQL and OData (ISO/IEC 9075, OData ABNF
    /// `SQUOTE-in-string`): `O'Brien` → `O''Brien`. For literals in `'…'`.
    Sql,
    /// A backslash escapes `\`, `'` and `"`, as in JavaScript, Go and
    /// PocketBase string literals (`'…'` or `"…"`).
    Backslash,
    /// RFC 4515 §3 LDAP filter value: `*`, `(`, `)`, `\` and NUL written
    /// as `\2a`, `\28`, `\29`, `\5c`, `\00`.
    Ldap,
    /// Lucene / Elasticsearch `query_string` syntax: each reserved
    /// character (`+ - = & | > < ! ( ) { } [ ] ^ " ~ * ? : \ /` and space)
    /// is preceded by a backslash, so the value is one exact term.
    Lucene,
}

impl Quote {
    /// The encoder named after `|` in a placeholder (`odata` is `sql`).
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "sql" | "odata" => Some(Self::Sql),
            "backslash" => Some(Self::Backslash),
            "ldap" => Some(Self::Ldap),
            "lucene" | "elasticsearch" => Some(Self::Lucene),
            _ => None,
        }
    }

    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sql => "sql",
            Self::Backslash => "backslash",
            Self::Ldap => "ldap",
            Self::Lucene => "lucene",
        }
    }

    /// Every spelling `parse` takes, for messages.
    pub const NAMES: &'static str = "sql, odata, backslash, ldap, lucene, elasticsearch";

    /// `value` escaped for a literal of this convention.
    pub fn apply(self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 2);
        for c in value.chars() {
            match (self, c) {
                (Self::Sql, '\'') => out.push_str("''"),
                (Self::Backslash, '\\' | '\'' | '"') => {
                    out.push('\\');
                    out.push(c);
                }
                (Self::Ldap, '*') => out.push_str("\\2a"),
                (Self::Ldap, '(') => out.push_str("\\28"),
                (Self::Ldap, ')') => out.push_str("\\29"),
                (Self::Ldap, '\\') => out.push_str("\\5c"),
                (Self::Ldap, '\0') => out.push_str("\\00"),
                (Self::Lucene, c) if LUCENE_RESERVED.contains(c) => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        out
    }
}

/// Characters with a meaning in Lucene's classic query parser and
/// Elasticsearch's `query_string` (`&` and `|` only doubled, escaped alone
/// anyway), and the space that separates terms.
const LUCENE_RESERVED: &str = "+-=&|><!(){}[]^\"~*?:\\/ ";

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A minimal Rison reader, for round trips.
    pub(crate) fn rison_decode(s: &str) -> Option<Value> {
        let chars: Vec<char> = s.chars().collect();
        let mut i = 0;
        let v = value(&chars, &mut i)?;
        (i == chars.len()).then_some(v)
    }

    fn value(c: &[char], i: &mut usize) -> Option<Value> {
        match c.get(*i)? {
            '\'' => quoted(c, i).map(Value::String),
            '(' => {
                *i += 1;
                let mut m = serde_json::Map::new();
                while *c.get(*i)? != ')' {
                    let k = match c.get(*i)? {
                        '\'' => quoted(c, i)?,
                        _ => ident(c, i),
                    };
                    (c.get(*i)? == &':').then_some(())?;
                    *i += 1;
                    m.insert(k, value(c, i)?);
                    if c.get(*i)? == &',' {
                        *i += 1;
                    }
                }
                *i += 1;
                Some(Value::Object(m))
            }
            '!' => {
                *i += 1;
                let t = *c.get(*i)?;
                *i += 1;
                match t {
                    'n' => Some(Value::Null),
                    't' => Some(Value::Bool(true)),
                    'f' => Some(Value::Bool(false)),
                    '(' => {
                        let mut a = Vec::new();
                        while *c.get(*i)? != ')' {
                            a.push(value(c, i)?);
                            if c.get(*i)? == &',' {
                                *i += 1;
                            }
                        }
                        *i += 1;
                        Some(Value::Array(a))
                    }
                    _ => None,
                }
            }
            _ => {
                let t = ident(c, i);
                serde_json::from_str::<serde_json::Number>(&t)
                    .map(Value::Number)
                    .ok()
                    .or(Some(Value::String(t)))
            }
        }
    }

    fn ident(c: &[char], i: &mut usize) -> String {
        let start = *i;
        while c.get(*i).is_some_and(|ch| !" '!:(),*@$".contains(*ch)) {
            *i += 1;
        }
        c[start..*i].iter().collect()
    }

    fn quoted(c: &[char], i: &mut usize) -> Option<String> {
        *i += 1;
        let mut s = String::new();
        loop {
            match *c.get(*i)? {
                '\'' => {
                    *i += 1;
                    return Some(s);
                }
                '!' => {
                    s.push(*c.get(*i + 1)?);
                    *i += 2;
                }
                ch => {
                    s.push(ch);
                    *i += 1;
                }
            }
        }
    }

    /// Every character with a meaning in Rison, JSON or a query string.
    pub(crate) const HOSTILE: &str =
        "a'b!c(d)e,f:g*h@i$j k\"l\\m{n}o[p]q&r=s+t%u#v?w/x;y\ny\u{0}z\u{2028}ü-1";

    #[test]
    fn hostile_values_round_trip_and_stay_strings() {
        for enc in [Encoder::Rison, Encoder::Json] {
            let doc = json!({"filters": [{"col": "email", "opr": "eq", "value": HOSTILE}],
                             "page": 0, "x y": "12", "t": "true", "e": ""});
            let text = enc.encode(&doc);
            let back = match enc {
                Encoder::Rison => rison_decode(&text).expect(&text),
                Encoder::Json => serde_json::from_str(&text).unwrap(),
            };
            assert_eq!(back, doc, "{}: {text}", enc.name());
        }
    }

    #[test]
    fn rison_shapes() {
        let doc = json!({"filters": [{"col": "email", "opr": "eq", "value": "a@b.c"}],
                         "page": 0, "page_size": 100, "on": true, "none": null});
        assert_eq!(
            Encoder::Rison.encode(&doc),
            "(filters:!((col:'email',opr:'eq',value:'a@b.c')),none:!n,on:!t,page:0,page_size:100)"
        );
        assert_eq!(Encoder::Rison.encode(&json!("it's!")), "'it!'s!!'");
    }

    #[test]
    fn quotes_keep_hostile_values_one_literal() {
        let q = |n: &str, v: &str| Quote::parse(n).expect(n).apply(v);
        assert_eq!(q("sql", "x' || username != '"), "x'' || username != ''");
        assert_eq!(q("odata", "O'Brien"), "O''Brien");
        assert_eq!(q("backslash", r#"a'b"c\d"#), r#"a\'b\"c\\d"#);
        assert_eq!(q("ldap", "a*(b)\\c\0"), r"a\2a\28b\29\5cc\00");
        assert_eq!(
            q("lucene", "a+b (c) OR d:e/f \"g\""),
            r#"a\+b\ \(c\)\ OR\ d\:e\/f\ \"g\""#
        );
        assert_eq!(q("elasticsearch", "plain"), "plain");
        assert!(Quote::parse("rison").is_none());
        for quote in [Quote::Sql, Quote::Backslash, Quote::Ldap, Quote::Lucene] {
            assert_eq!(Quote::parse(quote.name()), Some(quote));
        }
    }
}
