//! Error translation: rules keyed by `'<status> [<condition>]'` that turn
//! an app error (status + JSON body) into a SCIM error or into success
//! ("already done"). The condition is a JSONPath, optionally compared with
//! `==`/`!=` to a JSON literal, compiled once.

use serde_json::Value;

use crate::mapping::path::ReadPath;

/// What the handler should answer for an app error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorOutcome {
    /// The error means "already done": treat the call as successful.
    Success,
    /// The call's precondition failed: the resource changed since it was
    /// read (a stale version). The sidecar re-reads and re-applies.
    Conflict,
    /// Answer this SCIM error.
    Scim {
        /// SCIM status.
        status: u16,
        /// SCIM `scimType`.
        scim_type: Option<crate::error::ScimType>,
        /// Error detail.
        detail: String,
    },
    /// No rule matched: apply the defaults (404→404, 409→409 uniqueness,
    /// 400/422→400 invalidValue, 5xx→502).
    Default,
}

/// A status pattern: exact, or a class such as `4xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatusPat {
    Exact(u16),
    Class(u16),
}

/// A compiled condition on the response body.
#[derive(Debug, Clone)]
pub(crate) enum Cond {
    /// The path matches a non-null value.
    Exists(ReadPath),
    /// The first match equals (or, when `negate`, differs from) the literal.
    Cmp {
        path: ReadPath,
        value: Value,
        negate: bool,
    },
}

/// A compiled error rule.
#[derive(Debug, Clone)]
pub struct ErrorRule {
    pub(crate) status: StatusPat,
    pub(crate) cond: Option<Cond>,
    pub(crate) outcome: ErrorOutcome,
}

/// Parses `'422 $.error.code == "taken"'`, `'409'`, `'4xx $.error'`.
pub(crate) fn parse_key(key: &str) -> Result<(StatusPat, Option<Cond>), String> {
    let key = key.trim();
    let (status, rest) = key.split_once(char::is_whitespace).unwrap_or((key, ""));
    let status = match status.as_bytes() {
        [d @ b'1'..=b'5', b'x' | b'X', b'x' | b'X'] => StatusPat::Class(u16::from(d - b'0')),
        _ => match status.parse::<u16>() {
            Ok(n) if (100..=599).contains(&n) => StatusPat::Exact(n),
            _ => {
                return Err(format!(
                    "`{status}` is not an HTTP status or class like 4xx"
                ));
            }
        },
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Ok((status, None));
    }
    let split = rest
        .find("==")
        .map(|i| (i, false))
        .or_else(|| rest.find("!=").map(|i| (i, true)));
    let cond = match split {
        None => {
            Cond::Exists(ReadPath::compile(rest).map_err(|e| format!("invalid JSONPath: {e}"))?)
        }
        Some((i, negate)) => {
            let path = ReadPath::compile(rest[..i].trim())
                .map_err(|e| format!("invalid JSONPath: {e}"))?;
            let lit = rest[i + 2..].trim();
            let value = serde_json::from_str(lit)
                .map_err(|_| format!("`{lit}` is not a JSON literal (quote strings with \")"))?;
            Cond::Cmp {
                path,
                value,
                negate,
            }
        }
    };
    Ok((status, Some(cond)))
}

impl ErrorRule {
    /// The app's error code under this rule's condition path, when the
    /// status matches and the code is a short string or a number.
    pub(crate) fn code(&self, status: u16, body: &Value) -> Option<String> {
        let path = match &self.cond {
            Some(Cond::Exists(p)) | Some(Cond::Cmp { path: p, .. }) => p,
            None => return None,
        };
        if !self.status_matches(status) {
            return None;
        }
        match path.one(body)? {
            Value::String(s) if s.len() <= 64 => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn status_matches(&self, status: u16) -> bool {
        match self.status {
            StatusPat::Exact(s) => s == status,
            StatusPat::Class(c) => status / 100 == c,
        }
    }

    pub(crate) fn matches(&self, status: u16, body: Option<&Value>) -> bool {
        let status_ok = match self.status {
            StatusPat::Exact(s) => s == status,
            StatusPat::Class(c) => status / 100 == c,
        };
        status_ok
            && match &self.cond {
                None => true,
                Some(Cond::Exists(p)) => body.and_then(|b| p.one(b)).is_some(),
                Some(Cond::Cmp {
                    path,
                    value,
                    negate,
                }) => {
                    let found = body.and_then(|b| path.one(b));
                    (found == Some(value)) != *negate
                }
            }
    }

    /// Sort key: exact statuses before classes, conditions before bare statuses.
    pub(crate) fn specificity(&self) -> u8 {
        u8::from(matches!(self.status, StatusPat::Class(_))) * 2 + u8::from(self.cond.is_none())
    }
}
