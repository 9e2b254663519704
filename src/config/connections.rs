//! `[[connections]]`: one entry per IdP tenant, from the config file and
//! from `[scim] connections_from` (a file or a directory of files, for
//! deployments with hundreds of customer organisations). Each connection
//! has its token hashes (inline and from files, for Secret mounts), its
//! dialect, its variables and its SCIM base path. A token hash may belong
//! to one connection only, so a token never authenticates another.

use super::collect::{Errors, base_path};
use super::raw::{RawConfig, RawConnection, RawConnectionsFile, SpStr};
use super::{Connection, EnvLookup, FileLookup, Idp};
use crate::auth::{TokenHash, parse_token_hash, token_digest};
use crate::diagnostic::{Diagnostic, line_col};
use std::collections::{BTreeMap, HashSet};
use toml::Spanned;

/// Validates every connection of the file and of `connections_from`.
pub(super) fn connections(
    raw: &RawConfig,
    default_base: &str,
    env: EnvLookup<'_>,
    files: FileLookup<'_>,
    errs: &mut Errors,
) -> Vec<Connection> {
    let mut seen = Seen::default();
    let mut out = Vec::new();
    for (i, c) in raw.connections.iter().enumerate() {
        out.push(checked(i, c, default_base, env, files, &mut seen, errs));
    }
    if let Some(from) = &raw.scim.connections_from {
        included(from, default_base, env, files, &mut seen, &mut out, errs);
    }
    if out.is_empty() {
        errs.0.push(Diagnostic::key(
            "connections",
            "at least one [[connections]] entry with a token is required to serve SCIM",
        ));
    }
    out
}

/// Ids and token digests already taken.
#[derive(Default)]
struct Seen {
    ids: HashSet<String>,
    hashes: HashSet<TokenHash>,
}

fn checked(
    i: usize,
    c: &Spanned<RawConnection>,
    default_base: &str,
    env: EnvLookup<'_>,
    files: FileLookup<'_>,
    seen: &mut Seen,
    errs: &mut Errors,
) -> Connection {
    let raw = c.get_ref();
    let conn = connection(i, raw, default_base, env, files, errs);
    if !seen.ids.insert(conn.id.clone()) {
        errs.at(
            &format!("connections[{i}].id"),
            &raw.id,
            "duplicate connection id",
        );
    }
    for (j, h) in conn.token_hashes.iter().enumerate() {
        if !seen.hashes.insert(*h) {
            let at = match j.checked_sub(raw.tokens.len()) {
                None => raw.tokens.get(j),
                Some(k) => raw.token_files.get(k),
            };
            let key = format!("connections[{i}].tokens");
            let msg = "this token is already used by another entry";
            match at {
                Some(v) => errs.at(&key, v, msg),
                None => errs.0.push(Diagnostic::key(key, msg)),
            }
        }
    }
    conn
}

/// The entries of `[scim] connections_from`; their problems are reported
/// with their own file, line and column.
fn included(
    from: &SpStr,
    default_base: &str,
    env: EnvLookup<'_>,
    files: FileLookup<'_>,
    seen: &mut Seen,
    out: &mut Vec<Connection>,
    errs: &mut Errors,
) {
    let texts = match files(from.get_ref()) {
        Ok(t) => t,
        Err(e) => return errs.at("scim.connections_from", from, e),
    };
    for (name, bytes) in texts {
        let text = String::from_utf8_lossy(&bytes);
        let mut local = Errors(Vec::new());
        match toml::from_str::<RawConnectionsFile>(&text) {
            Ok(file) => {
                for (i, c) in file.connections.iter().enumerate() {
                    let conn = checked(i, c, default_base, env, files, seen, &mut local);
                    out.push(conn);
                }
            }
            Err(e) => local.0.push(Diagnostic {
                key: String::new(),
                span: e.span(),
                message: e.message().trim_end().to_string(),
            }),
        }
        for e in local.0 {
            let at = e.span.as_ref().map_or(String::new(), |s| {
                let (l, c) = line_col(&text, s.start);
                format!(":{l}:{c}")
            });
            let what = if e.key.is_empty() {
                e.message
            } else {
                format!("`{}`: {}", e.key, e.message)
            };
            errs.0
                .push(Diagnostic::key("", format!("{name}{at}: {what}")));
        }
    }
}

fn connection(
    i: usize,
    c: &RawConnection,
    default_base: &str,
    env: EnvLookup<'_>,
    files: FileLookup<'_>,
    errs: &mut Errors,
) -> Connection {
    let prefix = format!("connections[{i}]");
    let id = c.id.get_ref().clone();
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        errs.at(
            &format!("{prefix}.id"),
            &c.id,
            "must be 1-64 characters of letters, digits, `-` or `_`",
        );
    }
    let mut vars = BTreeMap::new();
    for (name, v) in &c.vars {
        if let Some(value) = errs.expanded(&format!("{prefix}.vars.{name}"), v, env) {
            vars.insert(name.clone(), value);
        }
    }
    Connection {
        id,
        idp: idp(&prefix, c.idp.as_ref(), errs),
        token_hashes: token_hashes(&prefix, c, env, files, errs),
        vars,
        base_path: c.base_path.as_ref().map_or_else(
            || default_base.to_string(),
            |p| base_path(&format!("{prefix}.base_path"), p, errs),
        ),
        rate_limit: c
            .rate_limit
            .as_ref()
            .map(|r| errs.rate_limit(&format!("{prefix}.rate_limit"), r)),
    }
}

fn idp(prefix: &str, value: Option<&SpStr>, errs: &mut Errors) -> Idp {
    match value.map(|s| s.get_ref().as_str()) {
        None | Some("generic") => Idp::Generic,
        Some("okta") => Idp::Okta,
        Some("entra") => Idp::Entra,
        Some("onelogin") => Idp::OneLogin,
        Some("jumpcloud") => Idp::JumpCloud,
        Some("pingone") => Idp::PingOne,
        Some(other) => {
            if let Some(v) = value {
                errs.at(
                    &format!("{prefix}.idp"),
                    v,
                    format!("unknown idp `{other}`, expected `okta`, `entra`, `onelogin`, `jumpcloud`, `pingone` or `generic`"),
                );
            }
            Idp::Generic
        }
    }
}

/// Inline hashes first, then one per token file, in order: the index of a
/// token in this list is what logs name.
fn token_hashes(
    prefix: &str,
    c: &RawConnection,
    env: EnvLookup<'_>,
    files: FileLookup<'_>,
    errs: &mut Errors,
) -> Vec<TokenHash> {
    if c.tokens.is_empty() && c.token_files.is_empty() {
        errs.0.push(Diagnostic::key(
            format!("{prefix}.tokens"),
            "at least one token hash (`tokens`) or token file (`token_files`) is required",
        ));
    }
    let mut out = Vec::new();
    for (j, t) in c.tokens.iter().enumerate() {
        let key = format!("{prefix}.tokens[{j}]");
        let Some(text) = errs.expanded(&key, t, env) else {
            continue;
        };
        match parse_token_hash(&text) {
            Ok(h) => out.push(h),
            Err(e) => errs.at(&key, t, e),
        }
    }
    for (j, f) in c.token_files.iter().enumerate() {
        let key = format!("{prefix}.token_files[{j}]");
        match files(f.get_ref()).map(|mut v| v.pop()) {
            Ok(Some((_, bytes))) => match token_file(&bytes) {
                Ok(h) => out.push(h),
                Err(e) => errs.at(&key, f, e),
            },
            Ok(None) => errs.at(&key, f, "must be a file, not a directory"),
            Err(e) => errs.at(&key, f, e),
        }
    }
    out
}

/// A token file holds either the `sha256:<hex>` form or the token itself
/// (as a Kubernetes Secret shared with the IdP's setup would); surrounding
/// whitespace is ignored. The token is hashed at once and never kept.
fn token_file(bytes: &[u8]) -> Result<TokenHash, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "a token file must be UTF-8 text".to_string())?
        .trim();
    if text.starts_with("sha256:") {
        return parse_token_hash(text);
    }
    if text.len() < 16 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("a token file must hold a `sha256:<hex>` hash or a token of at least 16 printable characters".into());
    }
    Ok(token_digest(text.as_bytes()))
}

/// The `{conn.<var>}` names every connection defines: a mapping may use
/// only those, so no connection can render a template with a hole in it.
pub(super) fn common_vars(connections: &[Connection]) -> Vec<String> {
    let Some((first, rest)) = connections.split_first() else {
        return Vec::new();
    };
    first
        .vars
        .keys()
        .filter(|k| rest.iter().all(|c| c.vars.contains_key(*k)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::token_hash_string;

    #[test]
    fn token_files_hold_a_hash_or_the_token() {
        let t = "a-token-of-forty-characters-0123456789ab";
        let from_hash = token_file(format!("{}\n", token_hash_string(t)).as_bytes()).unwrap();
        let from_token = token_file(format!("  {t}\n").as_bytes()).unwrap();
        assert_eq!(from_hash, from_token);
        assert_eq!(from_token, token_digest(t.as_bytes()));
        assert!(token_file(b"short").is_err());
        assert!(token_file(b"sha256:zz").is_err());
    }
}
