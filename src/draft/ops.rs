//! The document's operations in one shape, whatever its dialect: method,
//! path, parameters (path-level merged with operation-level), the JSON
//! request body, the responses with their JSON schemas and declared
//! headers, and the security schemes that apply. Swagger 2.0's `body` and
//! `formData` parameters, `produces`/`consumes` and `securityDefinitions`
//! and OpenAPI 3's `requestBody`, `content` and `components` all end up
//! here; nothing after this module looks at the dialect.

use super::spec::{Dialect, Node, Spec};
use serde_json::Value;

/// An HTTP method the mapping can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The mapping's key for it (`get`, `post`, …).
    pub fn key(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }

    /// Upper case, as in messages.
    pub fn upper(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "get" => Self::Get,
            "post" => Self::Post,
            "put" => Self::Put,
            "patch" => Self::Patch,
            "delete" => Self::Delete,
            _ => return None,
        })
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
    Header,
    Other,
}

/// One parameter.
#[derive(Clone)]
pub struct Param<'a> {
    pub name: String,
    pub at: In,
    pub required: bool,
    /// Its schema (Swagger 2.0: the parameter itself, which carries
    /// `type`, `minimum`, `default` …).
    pub schema: Option<Node<'a>>,
    /// The description, as written.
    pub description: String,
    /// The value is a JSON document (an OpenAPI 3 `content` parameter).
    pub json: bool,
}

/// One declared response.
#[derive(Clone)]
pub struct Response<'a> {
    /// `200`, `4XX`, `default` …
    pub status: String,
    pub schema: Option<Node<'a>>,
    /// Declared header names, lower-cased.
    pub headers: Vec<String>,
    pub description: String,
}

/// One operation.
#[derive(Clone)]
pub struct Operation<'a> {
    pub method: Method,
    /// The path as in the document, without the server's base path.
    pub path: String,
    pub operation_id: String,
    /// Summary and description, as written.
    pub summary: String,
    pub description: String,
    pub params: Vec<Param<'a>>,
    /// The JSON request body's schema.
    pub body: Option<Node<'a>>,
    /// The body's media types, when it has no JSON one (form posts,
    /// JSON Patch only).
    pub other_media: Vec<String>,
    pub body_required: bool,
    pub responses: Vec<Response<'a>>,
    /// The security schemes that apply (operation's, else the document's).
    pub security: Vec<String>,
    pub deprecated: bool,
}

impl<'a> Operation<'a> {
    /// Lower-cased summary, description and operation id, for word tests.
    pub fn text(&self) -> String {
        format!(
            "{} {} {}",
            self.summary, self.description, self.operation_id
        )
        .to_lowercase()
    }

    /// The parameter `name` in `at`, if declared.
    pub fn param(&self, name: &str, at: In) -> Option<&Param<'a>> {
        self.params.iter().find(|p| p.at == at && p.name == name)
    }

    /// Query parameters.
    pub fn query(&self) -> impl Iterator<Item = &Param<'a>> {
        self.params.iter().filter(|p| p.at == In::Query)
    }

    /// The first 2xx response (lowest status), if any.
    pub fn success(&self) -> Option<&Response<'a>> {
        let mut ok: Vec<&Response<'a>> = self
            .responses
            .iter()
            .filter(|r| r.status.starts_with('2'))
            .collect();
        ok.sort_by(|a, b| a.status.cmp(&b.status));
        ok.first().copied()
    }

    /// The response declared for exactly `status`.
    pub fn response(&self, status: &str) -> Option<&Response<'a>> {
        self.responses.iter().find(|r| r.status == status)
    }
}

/// Every operation of the document, in path then method order. Path keys
/// that carry a query string (invalid, but published) are skipped.
pub fn operations(spec: &Spec) -> Vec<Operation<'_>> {
    let root = spec.root();
    let global_security = security_names(root.v.get("security"));
    let Some(paths) = spec.get(root, "paths") else {
        return Vec::new();
    };
    let Value::Object(map) = paths.v else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, item) in map {
        if path.contains('?') || !path.starts_with('/') {
            continue;
        }
        let item = spec.deref(Node {
            v: item,
            at: path,
            ..paths
        });
        let Value::Object(methods) = item.v else {
            continue;
        };
        let shared = params(spec, item, item.v.get("parameters"));
        for (m, op) in methods {
            let Some(method) = Method::parse(m) else {
                continue;
            };
            let op = spec.deref(Node {
                v: op,
                at: path,
                ..item
            });
            let mut ps = shared.clone();
            for p in params(spec, op, op.v.get("parameters")) {
                ps.retain(|q| !(q.name == p.name && q.at == p.at));
                ps.push(p);
            }
            let security = match op.v.get("security") {
                Some(s) => security_names(Some(s)),
                None => global_security.clone(),
            };
            let mut operation = Operation {
                method,
                path: path.clone(),
                operation_id: str_of(op.v, "operationId"),
                summary: str_of(op.v, "summary"),
                description: str_of(op.v, "description"),
                params: Vec::new(),
                body: None,
                other_media: Vec::new(),
                body_required: false,
                responses: responses(spec, op),
                security,
                deprecated: op.v.get("deprecated") == Some(&Value::Bool(true)),
            };
            match spec.dialect {
                Dialect::Swagger2 => swagger_body(&mut operation, &ps, spec, op),
                _ => oas3_body(&mut operation, spec, op),
            }
            operation.params = ps
                .into_iter()
                .filter(|p| !matches!(p.at, In::Other))
                .collect();
            out.push(operation);
        }
    }
    out
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn security_names(v: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Value::Array(reqs)) = v {
        for r in reqs {
            if let Value::Object(m) = r {
                out.extend(m.keys().cloned());
            }
        }
    }
    out
}

fn params<'a>(spec: &'a Spec, owner: Node<'a>, list: Option<&'a Value>) -> Vec<Param<'a>> {
    let Some(Value::Array(list)) = list else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in list {
        let p = spec.deref(Node { v: p, ..owner });
        let name = str_of(p.v, "name");
        let at = match p.v.get("in").and_then(Value::as_str) {
            Some("path") => In::Path,
            Some("query") => In::Query,
            Some("header") => In::Header,
            Some("body") => {
                // Swagger 2.0's body parameter: kept aside under a name no
                // real parameter has.
                out.push(Param {
                    name: "\u{0}body".into(),
                    at: In::Other,
                    required: p.v.get("required") == Some(&Value::Bool(true)),
                    schema: spec.get(p, "schema"),
                    description: str_of(p.v, "description"),
                    json: false,
                });
                continue;
            }
            Some("formData") => {
                out.push(Param {
                    name: "\u{0}form".into(),
                    at: In::Other,
                    required: false,
                    schema: None,
                    description: String::new(),
                    json: false,
                });
                continue;
            }
            _ => In::Other,
        };
        let schema = match spec.get(p, "schema") {
            Some(s) => Some(s),
            None if p.v.get("type").is_some() => Some(p),
            // OpenAPI 3 `content` parameters (a JSON document in a query).
            None => spec
                .get(p, "content")
                .and_then(|c| {
                    c.v.as_object()
                        .and_then(|m| m.keys().next().cloned())
                        .and_then(|k| spec.get(c, &k))
                })
                .and_then(|m| spec.get(m, "schema")),
        };
        // FastAPI writes the description into the schema.
        let mut description = str_of(p.v, "description");
        if description.is_empty() {
            description = schema
                .map(|s| str_of(s.v, "description"))
                .unwrap_or_default();
        }
        let json = p.v.get("schema").is_none() && p.v.get("type").is_none() && schema.is_some();
        out.push(Param {
            name,
            at,
            required: p.v.get("required") == Some(&Value::Bool(true)),
            schema,
            description,
            json,
        });
    }
    out
}

fn swagger_body<'a>(op: &mut Operation<'a>, ps: &[Param<'a>], spec: &'a Spec, node: Node<'a>) {
    if let Some(b) = ps.iter().find(|p| p.name == "\u{0}body") {
        let consumes = node
            .v
            .get("consumes")
            .or_else(|| spec.root().v.get("consumes"));
        let media: Vec<String> = match consumes {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => vec!["application/json".into()],
        };
        if media.is_empty() || media.iter().any(|m| is_json(m)) {
            op.body = b.schema;
            op.body_required = b.required;
        } else {
            op.other_media = media;
        }
    } else if ps.iter().any(|p| p.name == "\u{0}form") {
        op.other_media = vec!["application/x-www-form-urlencoded".into()];
    }
}

fn oas3_body<'a>(op: &mut Operation<'a>, spec: &'a Spec, node: Node<'a>) {
    let Some(body) = spec.get(node, "requestBody") else {
        return;
    };
    op.body_required = body.v.get("required") == Some(&Value::Bool(true));
    let Some(content) = spec.get(body, "content") else {
        return;
    };
    match json_media(content.v) {
        Some(media) => op.body = spec.get(content, media).and_then(|m| spec.get(m, "schema")),
        None => {
            op.other_media = content
                .v
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
        }
    }
}

/// Whether a media type carries plain JSON (not RFC 6902 JSON Patch, whose
/// body is a list of operations).
pub fn is_json(media: &str) -> bool {
    let m = media
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    m == "application/json"
        || m == "text/json"
        || m == "*/*"
        || (m.ends_with("+json") && !m.contains('*') && m != "application/json-patch+json")
}

/// The JSON media type of a `content` map: `application/json` first, then
/// other JSON types; never a wildcard such as `application/*+json`.
fn json_media(content: &Value) -> Option<&str> {
    let map = content.as_object()?;
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    let exact = keys.iter().find(|k| {
        k.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    exact.or_else(|| keys.iter().find(|k| is_json(k))).copied()
}

fn responses<'a>(spec: &'a Spec, op: Node<'a>) -> Vec<Response<'a>> {
    let Some(rs) = spec.get(op, "responses") else {
        return Vec::new();
    };
    let Value::Object(map) = rs.v else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (status, r) in map {
        let r = spec.deref(Node {
            v: r,
            at: status,
            ..rs
        });
        let schema = match spec.dialect {
            Dialect::Swagger2 => spec.get(r, "schema"),
            _ => spec.get(r, "content").and_then(|c| {
                let media = json_media(c.v)?;
                spec.get(c, media).and_then(|m| spec.get(m, "schema"))
            }),
        };
        let headers =
            r.v.get("headers")
                .and_then(Value::as_object)
                .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
                .unwrap_or_default();
        out.push(Response {
            status: status.replace('x', "X"),
            schema,
            headers,
            description: str_of(r.v, "description"),
        });
    }
    out
}

/// The path of the first server (OpenAPI 3, variables at their defaults)
/// or `basePath` (Swagger 2.0), without a trailing slash; and the server's
/// absolute URL when it has one.
pub fn base(spec: &Spec) -> (String, Option<String>) {
    let root = spec.root().v;
    let (url, path) = match spec.dialect {
        Dialect::Swagger2 => {
            let base = root.get("basePath").and_then(Value::as_str).unwrap_or("");
            let url = root.get("host").and_then(Value::as_str).map(|h| {
                let scheme = root
                    .get("schemes")
                    .and_then(|s| s.get(0))
                    .and_then(Value::as_str)
                    .unwrap_or("https");
                format!("{scheme}://{h}")
            });
            (url, base.to_owned())
        }
        _ => {
            let server = root.get("servers").and_then(|s| s.get(0));
            let mut url = server
                .and_then(|s| s.get("url"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            if let Some(Value::Object(vars)) = server.and_then(|s| s.get("variables")) {
                for (name, var) in vars {
                    if let Some(d) = var.get("default").and_then(Value::as_str) {
                        url = url.replace(&format!("{{{name}}}"), d);
                    }
                }
            }
            match url.split_once("://") {
                Some((scheme, rest)) => {
                    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
                    (Some(format!("{scheme}://{host}")), format!("/{path}"))
                }
                None => (None, url),
            }
        }
    };
    let path = path.trim_end_matches('/').to_owned();
    let path = if path.is_empty() || path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    (path, url.filter(|u| !u.contains('{')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn swagger_and_oas3_bodies_and_parameters() {
        let s = Spec::from_value(json!({
            "swagger": "2.0", "basePath": "/api/v1/", "host": "h.example", "schemes": ["http"],
            "paths": {"/users/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "string"}],
                "put": {"parameters": [{"name": "body", "in": "body", "schema": {"type": "object"}}],
                        "responses": {"200": {"description": "ok", "schema": {"type": "object"}, "headers": {"X-Total-Count": {"type": "integer"}}}}}
            }, "/x?y=1": {"get": {}}}
        }))
        .unwrap();
        let ops = operations(&s);
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].method, Method::Put);
        assert!(ops[0].body.is_some());
        assert_eq!(ops[0].params.len(), 1);
        assert_eq!(ops[0].responses[0].headers, vec!["x-total-count"]);
        assert_eq!(
            base(&s),
            ("/api/v1".into(), Some("http://h.example".into()))
        );

        let s = Spec::from_value(json!({
            "openapi": "3.0.0", "servers": [{"url": "{scheme}://h/{base}", "variables": {"scheme": {"default": "https"}, "base": {"default": "v2"}}}],
            "paths": {"/users": {"post": {"requestBody": {"content": {
                "application/*+json": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
                "application/json-patch+json": {"schema": {"type": "array"}}
            }}}, "patch": {"requestBody": {"content": {"application/json-patch+json": {"schema": {"type": "array"}}}}}}}
        }))
        .unwrap();
        let ops = operations(&s);
        let post = ops.iter().find(|o| o.method == Method::Post).unwrap();
        assert_eq!(
            post.body.unwrap().v["type"],
            "object",
            "application/json, not the wildcard"
        );
        let patch = ops.iter().find(|o| o.method == Method::Patch).unwrap();
        assert!(patch.body.is_none());
        assert_eq!(patch.other_media, vec!["application/json-patch+json"]);
        assert_eq!(base(&s), ("/v2".into(), Some("https://h".into())));
    }
}
