//! How an app call's failure becomes the SCIM error the IdP sees
//! ([`CallError`] → [`ScimError`]): push-back (429/503) as 429 or 503 with
//! `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3), a resource that kept
//! changing as 503, app data that does not fit the mapping as 502, and the
//! defaults for an app status no error rule matched (404 → 404, 409 to a
//! write of values → 409 uniqueness, 400/422 → 400 invalidValue, anything
//! else → 502). App bodies never reach an error's detail.

use crate::error::{ScimError, ScimType};
use crate::mapping::{MapError, OpKind};
use crate::upstream::UpstreamError;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use std::time::Duration;

/// Why an app call did not succeed.
#[derive(Debug)]
pub enum CallError {
    /// The call's precondition failed: the resource changed since it was
    /// read (the app's 412, or an answer the mapping marks `"conflict"`).
    Conflict,
    /// The app pushed back (429 or 503), possibly with `Retry-After`.
    Busy {
        /// The app's status.
        status: StatusCode,
        /// The app's `Retry-After`, when it sent one.
        retry_after: Option<Duration>,
    },
    /// Any other failure, as the SCIM error to answer.
    Failed(ScimError),
}

impl From<ScimError> for CallError {
    fn from(e: ScimError) -> Self {
        Self::Failed(e)
    }
}

impl From<CallError> for ScimError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Failed(e) => e,
            // RFC 6585 §4 / RFC 9110 §15.6.4: tell the IdP when to come back.
            CallError::Busy {
                status,
                retry_after,
            } => {
                let secs = retry_after.map_or(1, |d| d.as_secs_f64().ceil() as u64);
                let status = if status == StatusCode::TOO_MANY_REQUESTS {
                    status
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                ScimError::client(
                    status,
                    None,
                    format!("the app is busy ({}); retry later", status.as_u16()),
                )
                .with_retry_after(secs)
            }
            CallError::Conflict => ScimError::upstream(
                StatusCode::SERVICE_UNAVAILABLE,
                "the resource kept changing in the app while it was written; retry",
            )
            .with_retry_after(1),
        }
    }
}

impl From<MapError> for ScimError {
    /// Bad client values are 400 `invalidValue`; app data that does not fit
    /// the mapping is 502.
    fn from(e: MapError) -> Self {
        match &e {
            MapError::InvalidValue { .. } | MapError::MissingVar(_) | MapError::BadHeader(_) => {
                ScimError::bad_request(ScimType::InvalidValue, e.to_string())
            }
            MapError::HostValue { .. } | MapError::MissingId | MapError::BadResponse(_) => {
                tracing::warn!(error = %e, "the app's answer does not fit the mapping");
                ScimError::upstream(
                    StatusCode::BAD_GATEWAY,
                    format!("the app's answer does not fit the mapping: {e}"),
                )
            }
        }
    }
}

/// An app answer without the JSON the mapping expects (for operation
/// `op`) → 502.
pub fn bad_answer(op: &str) -> ScimError {
    tracing::warn!(op, "the app's answer is not the JSON the mapping expects");
    ScimError::upstream(
        StatusCode::BAD_GATEWAY,
        format!("the app's answer to `{op}` is not the JSON the mapping expects"),
    )
}

pub(super) fn bad_link(detail: &str) -> ScimError {
    tracing::warn!(detail, "next-page link not followed");
    ScimError::upstream(StatusCode::BAD_GATEWAY, detail)
}

/// A failed exchange with the app → 502 or 504.
pub fn upstream_error(e: &UpstreamError) -> ScimError {
    tracing::warn!(error = %e, "app call failed");
    let detail = match e {
        UpstreamError::Timeout(_) => "the app did not answer in time".to_string(),
        UpstreamError::Unreachable(_) => "the app is unreachable".to_string(),
        UpstreamError::TooLarge(_) | UpstreamError::ClientBody => e.to_string(),
    };
    ScimError::upstream(e.status(), detail)
}

/// Whether an answer's `Content-Type` is HTML.
pub(super) fn is_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/html"))
}

/// The default SCIM error for an app status no rule matched. A 409 means
/// a taken value only for a call that writes values; to a read or an
/// action it is an answer the mapping does not explain.
pub(super) fn default_error(kind: OpKind, status: StatusCode) -> ScimError {
    let code = status.as_u16();
    let writes_values = matches!(kind, OpKind::Create | OpKind::Update | OpKind::Replace);
    match code {
        404 if !kind.is_list() => ScimError::not_found("resource not found"),
        409 if writes_values => ScimError::client(
            StatusCode::CONFLICT,
            Some(ScimType::Uniqueness),
            "the app reports a conflict: a unique value is already in use",
        ),
        400 | 422 => ScimError::bad_request(
            ScimType::InvalidValue,
            format!("the app rejected the values ({code})"),
        ),
        _ => {
            tracing::warn!(
                status = code,
                op = kind.key(),
                "the app answered with an error"
            );
            ScimError::upstream(
                StatusCode::BAD_GATEWAY,
                format!("the app answered {code} to `{}`", kind.key()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::HeaderValue;

    #[test]
    fn html_answers_are_recognised_by_their_media_type() {
        let mut h = http::HeaderMap::new();
        assert!(!is_html(&h));
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("Text/HTML; charset=utf-8"),
        );
        assert!(is_html(&h));
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert!(!is_html(&h));
    }

    #[test]
    fn a_409_is_uniqueness_only_for_calls_that_write_values() {
        for kind in [OpKind::Create, OpKind::Update, OpKind::Replace] {
            let e = default_error(kind, StatusCode::CONFLICT);
            assert_eq!(
                (e.status, e.scim_type),
                (StatusCode::CONFLICT, Some(ScimType::Uniqueness))
            );
        }
        for kind in [
            OpKind::Get,
            OpKind::List,
            OpKind::Deactivate,
            OpKind::MemberAdd,
        ] {
            let e = default_error(kind, StatusCode::CONFLICT);
            assert_eq!((e.status, e.scim_type), (StatusCode::BAD_GATEWAY, None));
        }
    }
}
