//! The app's credentials for `[host] headers`: the security scheme the
//! user operations declare (an API key header, a bearer token, OAuth2 or
//! OpenID Connect tokens, HTTP Basic), or credential headers the
//! operations declare as parameters; each value is a `${APP_…}`
//! environment variable named in a comment. Keys that travel in the
//! query or a cookie are left as `TODO`s.

use super::model::{Entry, Tv};
use super::ops::{In, Operation};
use super::schema;
use super::spec::{Dialect, Spec};
use super::text;
use serde_json::Value;

/// `[host] headers` and the comment lines about them.
#[derive(Default)]
pub struct Auth {
    pub headers: Vec<Entry>,
    pub notes: Vec<String>,
}

/// Headers that are about the request, not credentials.
const NOT_CREDENTIALS: &[&str] = &[
    "if-match",
    "if-none-match",
    "content-type",
    "accept",
    "accept-language",
    "user-agent",
    "x-request-id",
    "idempotency-key",
    "prefer",
    "x-correlation-id",
    "if-modified-since",
    "if-unmodified-since",
];

/// The environment variable for a header: `X-Api-Key` → `APP_API_KEY`.
pub fn env_name(header: &str) -> String {
    let mut w = schema::words(header);
    if w.first().is_some_and(|f| f == "x") && w.len() > 1 {
        w.remove(0);
    }
    format!("APP_{}", w.join("_").to_ascii_uppercase())
}

/// Drafts the credentials for the operations `used`.
pub fn auth(spec: &Spec, used: &[&Operation<'_>]) -> Auth {
    let root = spec.root();
    let schemes = match spec.dialect {
        Dialect::Swagger2 => spec.get(root, "securityDefinitions"),
        _ => spec
            .get(root, "components")
            .and_then(|c| spec.get(c, "securitySchemes")),
    };
    let mut names: Vec<String> = used
        .iter()
        .flat_map(|o| o.security.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    let mut candidates: Vec<(u8, String, &Value)> = Vec::new();
    if let Some(Value::Object(map)) = schemes.map(|s| s.v) {
        for (name, raw) in map {
            if !names.is_empty() && !names.contains(name) {
                continue;
            }
            let v = spec
                .deref(super::spec::Node {
                    v: raw,
                    at: name,
                    ..root
                })
                .v;
            candidates.push((rank(v), name.clone(), v));
        }
    }
    candidates.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut out = Auth::default();
    match candidates.first() {
        Some((_, name, v)) => scheme(name, v, &mut out),
        None => header_params(used, &mut out),
    }
    for (_, name, v) in candidates.iter().skip(1) {
        out.notes
            .push(format!("also accepted: `{name}` ({})", kind(v)));
    }
    if out.headers.is_empty() && out.notes.is_empty() {
        out.notes.push(
            "TODO: the document declares no credentials; add the header the app expects, e.g. headers = { Authorization = \"Bearer ${APP_TOKEN}\" }"
                .into(),
        );
    }
    out
}

fn kind(v: &Value) -> String {
    let t = v.get("type").and_then(Value::as_str).unwrap_or("?");
    match (
        t,
        v.get("scheme").and_then(Value::as_str),
        v.get("in").and_then(Value::as_str),
    ) {
        ("http", Some(s), _) => format!("HTTP {s}"),
        ("apiKey", _, Some(at)) => format!("an API key in the {at}"),
        (t, _, _) => t.to_owned(),
    }
}

/// A security scheme's HTTP scheme (`bearer`, `basic`), lower-cased.
fn http_scheme(v: &Value) -> String {
    v.get("scheme")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase()
}

fn rank(v: &Value) -> u8 {
    let t = v.get("type").and_then(Value::as_str).unwrap_or_default();
    let scheme = http_scheme(v);
    match (t, scheme.as_str(), v.get("in").and_then(Value::as_str)) {
        ("apiKey", _, Some("header")) => 0,
        ("http", "bearer", _) => 1,
        ("oauth2" | "openIdConnect", _, _) => 2,
        ("http", "basic", _) | ("basic", _, _) => 3,
        ("apiKey", _, Some("query")) => 4,
        _ => 5,
    }
}

fn scheme(name: &str, v: &Value, out: &mut Auth) {
    let t = v.get("type").and_then(Value::as_str).unwrap_or_default();
    let description = v
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let scheme = http_scheme(v);
    match (t, scheme.as_str(), v.get("in").and_then(Value::as_str)) {
        ("apiKey", _, Some("header")) => {
            let header = v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("Authorization");
            let var = if header.eq_ignore_ascii_case("authorization") {
                "APP_API_TOKEN".to_owned()
            } else {
                env_name(header)
            };
            let prefix = prefix(description);
            out.headers.push(Entry::new(
                header,
                Tv::s(format!("{prefix}${{{var}}}")),
                String::new(),
            ));
            out.notes.push(format!("the security scheme `{name}`: an API key in the `{header}` header, read from ${{{var}}}"));
            if !description.is_empty() {
                out.notes.push(format!(
                    "(the document: \"{}\")",
                    text::short(description, 100)
                ));
            }
        }
        ("http", "bearer", _) | ("oauth2" | "openIdConnect", _, _) => {
            out.headers.push(Entry::new(
                "Authorization",
                Tv::s("Bearer ${APP_TOKEN}"),
                String::new(),
            ));
            out.notes.push(format!(
                "the security scheme `{name}` ({}): a bearer token read from ${{APP_TOKEN}}",
                kind(v)
            ));
            if t != "http" {
                out.notes.push(
                    "TODO: OAuth2 and OpenID Connect tokens expire; give the sidecar a long-lived token (a service account's) and renew it with a reload"
                        .into(),
                );
            }
        }
        ("http", "basic", _) | ("basic", _, _) => {
            out.headers.push(Entry::new(
                "Authorization",
                Tv::s("Basic ${APP_BASIC_CREDENTIALS}"),
                String::new(),
            ));
            out.notes.push(format!(
                "the security scheme `{name}`: HTTP Basic; ${{APP_BASIC_CREDENTIALS}} is base64 of `user:password`"
            ));
        }
        (_, _, Some(at)) => {
            let param = v.get("name").and_then(Value::as_str).unwrap_or("?");
            out.notes.push(format!(
                "TODO: the security scheme `{name}` sends the key as the {at} parameter `{param}`, which [host] cannot add to every call; send it as a header if the app accepts one, or add it to each operation's `query`"
            ));
        }
        _ => out.notes.push(format!(
            "TODO: the security scheme `{name}` ({t}) needs a credential header in [host] headers"
        )),
    }
}

/// `SSWS ` or `token ` when the description says the key is prefixed.
fn prefix(description: &str) -> String {
    let d = description.to_lowercase();
    for p in ["ssws", "token", "bearer", "apikey", "api-key", "key"] {
        for pattern in [
            format!("\"{p} "),
            format!("'{p} "),
            format!("`{p} "),
            format!("{p} {{"),
            format!("{p} <"),
        ] {
            if let Some(i) = d.find(&pattern) {
                let start = i + usize::from(pattern.starts_with(['"', '\'', '`']));
                let original = description.get(start..start + p.len()).unwrap_or(p);
                return format!("{original} ");
            }
        }
        if d.contains(&format!("prepended with \"{p}\""))
            || d.contains(&format!("prefixed with \"{p}\""))
        {
            return format!("{p} ");
        }
    }
    String::new()
}

/// Credential headers declared as required parameters of every operation.
fn header_params(used: &[&Operation<'_>], out: &mut Auth) {
    let Some(first) = used.first() else { return };
    for p in first.params.iter().filter(|p| p.at == In::Header) {
        let lower = p.name.to_ascii_lowercase();
        if NOT_CREDENTIALS.contains(&lower.as_str()) {
            continue;
        }
        let everywhere = used.iter().all(|o| o.param(&p.name, In::Header).is_some());
        if !everywhere {
            continue;
        }
        let var = env_name(&p.name);
        out.headers.push(Entry::new(
            p.name.clone(),
            Tv::s(format!("${{{var}}}")),
            String::new(),
        ));
        out.notes.push(format!(
            "`{}` is a header parameter of every user operation; read from ${{{var}}}",
            p.name
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_and_prefixes() {
        assert_eq!(env_name("X-Api-Key"), "APP_API_KEY");
        assert_eq!(env_name("Api-Username"), "APP_API_USERNAME");
        assert_eq!(prefix("Use \"SSWS {apiKey}\" as the value"), "SSWS ");
        assert_eq!(
            prefix("must be prepended with \"token\" followed by a space."),
            "token "
        );
        assert_eq!(prefix("the key"), "");
    }
}
