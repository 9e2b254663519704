//! `scim-sidecar explain`: shows what a SCIM request would do to the app —
//! the reads it makes and the write plan, call by call — without making a
//! single write call (`--offline`: without any call at all). This module
//! resolves the connection and the request path; the SCIM resource layer
//! does the planning exactly as the server would.

use crate::config::Config;
use crate::error::ScimError;
use crate::runtime::State;
use crate::scim::resource::{explain_request, read_request};
use http::Method;
use serde_json::Value;

/// A request to explain.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The connection (`[[connections]] id`); the first one when `None`.
    pub connection: Option<&'a str>,
    /// The SCIM method.
    pub method: Method,
    /// The request path, e.g. `/scim/v2/Users/17?attributes=userName`.
    pub path: &'a str,
    /// The request body, for writes and searches.
    pub body: Option<Value>,
    /// Make no call at all, not even reads.
    pub offline: bool,
}

/// Why a request could not be explained.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The connection or path does not exist in this config.
    #[error("{0}")]
    Usage(String),
    /// The server would answer this SCIM error.
    #[error("the sidecar would answer {} {}", .0.status.as_u16(), .0.detail)]
    Scim(ScimError),
}

/// Explains `req` against the app of `config`.
pub async fn explain(config: Config, req: Request<'_>) -> Result<String, ExplainError> {
    let state = State::new(config);
    let rt = state.runtime();
    let conns = &rt.config.connections;
    let index = match req.connection {
        None if !conns.is_empty() => 0,
        None => {
            return Err(ExplainError::Usage(
                "the config has no [[connections]]".into(),
            ));
        }
        Some(id) => conns
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| ExplainError::Usage(format!("no connection `{id}` in the config")))?,
    };
    let base = conns[index].base_path.clone();
    let (path, query) = match req.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (req.path, None),
    };
    let rest = strip_base(path, &base).ok_or_else(|| {
        ExplainError::Usage(format!(
            "`{path}` is not below the connection's base path `{base}`"
        ))
    })?;
    let scim_url = format!(
        "{}{base}",
        rt.config
            .server
            .public_origin
            .as_deref()
            .unwrap_or_default()
    );
    explain_request(
        state.services(&rt),
        index,
        &req.method,
        rest,
        query,
        req.body,
        req.offline,
        &scim_url,
    )
    .await
    .map_err(ExplainError::Scim)
}

/// `check --probe`: reads one real user (and group) through the mapping,
/// read-only, and shows it as the IdP would see it, naming the mapped
/// attributes that came out empty (a wrong JSONPath, usually).
pub async fn probe(config: Config) -> Result<String, ExplainError> {
    let state = State::new(config);
    let rt = state.runtime();
    let base = match rt.config.connections.first() {
        Some(c) => c.base_path.clone(),
        None => {
            return Err(ExplainError::Usage(
                "the config has no [[connections]]".into(),
            ));
        }
    };
    let read = |rest: String, query: Option<&'static str>| {
        let (state, rt, base) = (&state, &rt, &base);
        async move {
            read_request(state.services(rt), 0, &rest, query, base)
                .await
                .map_err(ExplainError::Scim)
        }
    };
    let mut out = String::new();
    for (endpoint, mapping) in [
        ("Users", rt.config.users.as_deref()),
        ("Groups", rt.config.groups.as_deref()),
    ] {
        let Some(m) = mapping else { continue };
        let listed = read(format!("/{endpoint}"), Some("count=1")).await?;
        let Some(id) = listed.pointer("/Resources/0/id").and_then(Value::as_str) else {
            out.push_str(&format!(
                "{endpoint}: the app lists none; nothing to show\n\n"
            ));
            continue;
        };
        let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC);
        let shown = read(format!("/{endpoint}/{encoded}"), None).await?;
        let pretty = serde_json::to_string_pretty(&shown).unwrap_or_default();
        out.push_str(&format!("{endpoint}: {id}, as the IdP sees it\n{pretty}\n"));
        match empty_attributes(m, &shown).as_slice() {
            [] => out.push_str("every mapped attribute has a value\n\n"),
            empty => out.push_str(&format!(
                "came out empty: {} (check their paths if this record has them)\n\n",
                empty.join(", ")
            )),
        }
    }
    Ok(out)
}

/// The mapped attributes (and sub-attributes of complex ones) a resource
/// has no value for.
fn empty_attributes(m: &crate::mapping::ResourceMapping, r: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for schema in m.schema().schemas() {
        let core = schema.id == m.schema().core.id;
        let container = if core { Some(r) } else { r.get(&schema.id) };
        for a in &schema.attributes {
            if a.returned == crate::schema::Returned::Never {
                continue;
            }
            let name = if core {
                a.name.clone()
            } else {
                format!("{}:{}", schema.id, a.name)
            };
            match container.and_then(|c| crate::schema::get_ci(c, &a.name)) {
                None | Some(Value::Null) => out.push(name),
                Some(Value::Object(o)) if !a.multi_valued => out.extend(
                    a.sub_attributes
                        .iter()
                        .filter(|s| !o.contains_key(&s.name))
                        .map(|s| format!("{name}.{}", s.name)),
                ),
                _ => {}
            }
        }
    }
    out
}

/// `path` below `base` (compared case-insensitively, as requests are).
fn strip_base<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    let head = path.get(..base.len())?;
    let rest = &path[base.len()..];
    (head.eq_ignore_ascii_case(base) && (rest.is_empty() || rest.starts_with('/'))).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_strip_their_base_case_insensitively() {
        assert_eq!(strip_base("/scim/v2/Users/1", "/scim/v2"), Some("/Users/1"));
        assert_eq!(strip_base("/SCIM/v2/Users", "/scim/v2"), Some("/Users"));
        assert_eq!(strip_base("/scim/v22/Users", "/scim/v2"), None);
        assert_eq!(strip_base("/other", "/scim/v2"), None);
    }
}
