//! Reading OpenAPI documents: from a file or an `http(s)` URL (fetched with
//! the sidecar's own client, credentials only to the origins the user
//! named), JSON or YAML, bounded in size, plus every document its `$ref`s
//! name by a relative or absolute location, breadth first and bounded in
//! number. Nothing here interprets the documents.

use super::error::DraftError;
use crate::client::{self, HttpClient};
use bytes::Bytes;
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Largest document read, in bytes (the largest published user-admin
/// documents are about 12 MB).
pub const MAX_DOCUMENT_BYTES: usize = 32 << 20;
/// Most documents read for one draft (the root and those it refers to).
pub const MAX_DOCUMENTS: usize = 32;
/// Deadline for one fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a document came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A file, as given or as resolved against its referrer.
    File(PathBuf),
    /// An `http(s)` URL.
    Url(Uri),
    /// Text handed to the drafter directly (tests, the library API).
    Inline,
}

impl Location {
    /// The location as shown in messages and used as its key.
    pub fn key(&self) -> String {
        match self {
            Self::File(p) => p.display().to_string(),
            Self::Url(u) => u.to_string(),
            Self::Inline => "the document".to_owned(),
        }
    }

    /// Parses a command-line `--openapi` value: a URL when it starts with
    /// `http://` or `https://`, else a file.
    pub fn parse(arg: &str) -> Result<Self, DraftError> {
        if arg.starts_with("http://") || arg.starts_with("https://") {
            let uri: Uri = arg
                .parse()
                .map_err(|e| DraftError::Usage(format!("`{arg}` is not a URL: {e}")))?;
            Ok(Self::Url(uri))
        } else {
            Ok(Self::File(PathBuf::from(arg)))
        }
    }

    /// The location of `reference` (a `$ref` without its `#fragment`)
    /// relative to this one, or why it cannot be read.
    pub fn join(&self, reference: &str) -> Result<Self, String> {
        if reference.starts_with("http://") || reference.starts_with("https://") {
            return reference
                .parse()
                .map(Self::Url)
                .map_err(|e| format!("not a URL: {e}"));
        }
        if reference.contains("://") {
            return Err("only relative references and http(s) URLs are followed".into());
        }
        match self {
            Self::File(p) => {
                let base = p.parent().unwrap_or(Path::new(""));
                Ok(Self::File(normalise(&base.join(reference))))
            }
            Self::Url(u) => join_url(u, reference).map(Self::Url),
            Self::Inline => Err("a document given as text cannot refer to other files".into()),
        }
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// RFC 3986 §5.2 for the cases a `$ref` uses: an absolute path, or a
/// path relative to the referrer's directory (with `..` segments).
fn join_url(base: &Uri, reference: &str) -> Result<Uri, String> {
    let (scheme, authority) = match (base.scheme_str(), base.authority()) {
        (Some(s), Some(a)) => (s, a.as_str()),
        _ => return Err("the referring URL has no origin".into()),
    };
    let path = if reference.starts_with('/') {
        reference.to_owned()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(d, _)| d);
        let mut segments: Vec<&str> = dir.split('/').collect();
        for seg in reference.split('/') {
            match seg {
                "." => {}
                ".." => {
                    if segments.len() > 1 {
                        segments.pop();
                    }
                }
                s => segments.push(s),
            }
        }
        segments.join("/")
    };
    format!("{scheme}://{authority}{path}")
        .parse()
        .map_err(|e| format!("not a URL: {e}"))
}

/// Parses a document: JSON when it looks like JSON, else YAML (a superset).
pub fn parse(bytes: &[u8], what: &str) -> Result<Value, DraftError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(DraftError::TooLarge {
            what: what.to_owned(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| DraftError::Syntax {
        what: what.to_owned(),
        reason: format!("not UTF-8 text ({e})"),
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let first = text.trim_start().chars().next();
    let result = if matches!(first, Some('{' | '[')) {
        serde_json::from_str::<Value>(text).map_err(|e| e.to_string())
    } else {
        serde_norway::from_str::<Value>(text).map_err(|e| e.to_string())
    };
    result.map_err(|reason| DraftError::Syntax {
        what: what.to_owned(),
        reason,
    })
}

/// Fetches documents over HTTP with the sidecar's pooled client. The
/// user's headers (credentials) go only to the origins in `trusted`.
pub struct Fetcher {
    client: HttpClient,
    headers: HeaderMap,
    trusted: Vec<(Scheme, Authority)>,
}

impl Fetcher {
    /// A client sending `headers` to the origins of `trusted` URLs.
    pub fn new(headers: HeaderMap, trusted: &[&Uri]) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = HttpClient::new(client::Settings {
            tls: Arc::new(client::tls_config(client::system_roots(), provider)),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_idle: 2,
        });
        let trusted = trusted
            .iter()
            .filter_map(|u| Some((u.scheme()?.clone(), u.authority()?.clone())))
            .collect();
        Self {
            client,
            headers,
            trusted,
        }
    }

    /// `GET url`: the status, headers and body (at most `limit` bytes).
    pub async fn get(
        &self,
        url: &Uri,
        limit: usize,
    ) -> Result<(StatusCode, HeaderMap, Bytes), DraftError> {
        let fail = |reason: String| DraftError::Fetch {
            what: format!("GET {url}"),
            reason,
        };
        let mut req = Request::get(url.clone())
            .body(crate::body::empty())
            .map_err(|e| fail(e.to_string()))?;
        req.headers_mut().insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json, application/yaml;q=0.9, */*;q=0.1"),
        );
        let origin = (url.scheme().cloned(), url.authority().cloned());
        if self
            .trusted
            .iter()
            .any(|(s, a)| origin == (Some(s.clone()), Some(a.clone())))
        {
            for (name, value) in &self.headers {
                req.headers_mut().insert(name.clone(), value.clone());
            }
        }
        let exchange = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| fail(e.describe()))?;
            let (parts, body) = resp.into_parts();
            let bytes = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        DraftError::TooLarge {
                            what: url.to_string(),
                            limit,
                        }
                    } else {
                        fail(format!("reading the answer failed: {e}"))
                    }
                })?
                .to_bytes();
            Ok((parts.status, parts.headers, bytes))
        };
        match tokio::time::timeout(FETCH_TIMEOUT, exchange).await {
            Ok(result) => result,
            Err(_) => Err(fail(format!("no answer within {FETCH_TIMEOUT:?}"))),
        }
    }
}

/// Parses `Name: value` command-line headers.
pub fn parse_headers(raw: &[String]) -> Result<HeaderMap, DraftError> {
    let mut map = HeaderMap::new();
    for h in raw {
        let Some((name, value)) = h.split_once(':') else {
            return Err(DraftError::Usage(format!(
                "--header `{}` is not `Name: value`",
                h.split(':').next().unwrap_or_default()
            )));
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            DraftError::Usage(format!("--header: `{}` is not a header name", name.trim()))
        })?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| {
            DraftError::Usage(format!(
                "--header {name}: the value has characters a header cannot carry"
            ))
        })?;
        map.append(name, value);
    }
    Ok(map)
}

/// One document read.
pub struct Loaded {
    /// Where it came from.
    pub location: Location,
    /// Its content, or why it could not be read (reported when a `$ref`
    /// into it is followed).
    pub value: Result<Value, String>,
}

/// Reads the document at `root` and every document its `$ref`s name,
/// transitively; the root must be readable, the others are reported when
/// a reference into them is followed.
pub async fn load_all(root: Location, fetcher: &Fetcher) -> Result<Vec<Loaded>, DraftError> {
    let first = read(&root, fetcher).await?;
    let mut docs = vec![Loaded {
        location: root,
        value: Ok(first),
    }];
    let mut next = 0;
    while next < docs.len() {
        let refs = match &docs[next].value {
            Ok(v) => external_refs(v),
            Err(_) => Vec::new(),
        };
        let here = docs[next].location.clone();
        for r in refs {
            let target = match here.join(&r) {
                Ok(t) => t,
                Err(_) => continue, // reported when followed
            };
            if docs.iter().any(|d| d.location == target) {
                continue;
            }
            if docs.len() >= MAX_DOCUMENTS {
                return Err(DraftError::RefLimit(format!(
                    "the document refers to more than {MAX_DOCUMENTS} other documents"
                )));
            }
            let value = read(&target, fetcher).await.map_err(|e| e.to_string());
            docs.push(Loaded {
                location: target,
                value,
            });
        }
        next += 1;
    }
    Ok(docs)
}

async fn read(location: &Location, fetcher: &Fetcher) -> Result<Value, DraftError> {
    let what = location.key();
    let bytes = match location {
        Location::File(p) => read_file(p)?,
        Location::Url(u) => {
            let (status, _, body) = fetcher.get(u, MAX_DOCUMENT_BYTES).await?;
            if !status.is_success() {
                return Err(DraftError::Fetch {
                    what: format!("GET {u}"),
                    reason: format!("answered {status}"),
                });
            }
            body
        }
        Location::Inline => {
            return Err(DraftError::Usage("no document location".into()));
        }
    };
    parse(&bytes, &what)
}

fn read_file(path: &Path) -> Result<Bytes, DraftError> {
    use std::io::Read;
    let what = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| DraftError::Read {
        path: what.clone(),
        reason: e.to_string(),
    })?;
    let mut buf = Vec::new();
    file.take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| DraftError::Read {
            path: what.clone(),
            reason: e.to_string(),
        })?;
    if buf.len() > MAX_DOCUMENT_BYTES {
        return Err(DraftError::TooLarge {
            what,
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(Bytes::from(buf))
}

/// The distinct document parts (before `#`) of the `$ref`s in `value`, in
/// document order.
fn external_refs(value: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let doc = r.split('#').next().unwrap_or_default();
                    if !doc.is_empty() && !out.iter().any(|o| o == doc) {
                        out.push(doc.to_owned());
                    }
                }
                stack.extend(map.values().rev());
            }
            Value::Array(items) => stack.extend(items.iter().rev()),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_with_integer_keys() {
        let v = parse(br#"{"openapi": "3.0.0"}"#, "x").unwrap();
        assert_eq!(v["openapi"], "3.0.0");
        let v = parse(
            b"openapi: 3.1.0\nresponses:\n  200:\n    description: ok\n",
            "x",
        )
        .unwrap();
        assert_eq!(v["responses"]["200"]["description"], "ok");
    }

    #[test]
    fn garbage_and_yaml_bombs_are_syntax_errors() {
        assert!(matches!(
            parse(b"{not json", "x"),
            Err(DraftError::Syntax { .. })
        ));
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            bomb.push_str(&format!(
                "{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
                (b'a' + i) as char,
                (b'a' + i) as char,
                p = (b'a' + i - 1) as char
            ));
        }
        assert!(
            parse(bomb.as_bytes(), "x").is_err(),
            "alias expansion is bounded"
        );
    }

    #[test]
    fn relative_references_resolve_against_their_referrer() {
        let f = Location::File(PathBuf::from("specs/api/openapi.yaml"));
        assert_eq!(
            f.join("../common/user.yaml").unwrap(),
            Location::File(PathBuf::from("specs/common/user.yaml"))
        );
        let u = Location::Url("https://h.example/v1/spec/openapi.json".parse().unwrap());
        assert_eq!(
            u.join("schemas/user.json").unwrap().key(),
            "https://h.example/v1/spec/schemas/user.json"
        );
        assert_eq!(
            u.join("../common.json").unwrap().key(),
            "https://h.example/v1/common.json"
        );
        assert_eq!(u.join("/x.json").unwrap().key(), "https://h.example/x.json");
        assert!(u.join("file:///etc/passwd").is_err());
        assert!(Location::Inline.join("x.json").is_err());
    }

    #[test]
    fn headers_parse_and_refuse_bad_ones() {
        let h = parse_headers(&["X-Api-Key: abc".into(), "Authorization:Bearer t".into()]).unwrap();
        assert_eq!(h["x-api-key"], "abc");
        assert_eq!(h["authorization"], "Bearer t");
        assert!(parse_headers(&["novalue".into()]).is_err());
        assert!(parse_headers(&["bad name: x".into()]).is_err());
    }

    #[test]
    fn external_refs_are_listed_once() {
        let v = serde_json::json!({"a": {"$ref": "u.yaml#/U"}, "b": [{"$ref": "u.yaml#/V"}, {"$ref": "#/c"}]});
        assert_eq!(external_refs(&v), vec!["u.yaml".to_owned()]);
    }
}
