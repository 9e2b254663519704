//! Back-pressure from the app: a 429 (RFC 6585 §4) or 503 (RFC 9110
//! §15.6.4) refuses a call before doing it, so a call that is safe to
//! repeat is sent again — after the app's `Retry-After` (RFC 9110 §10.2.3,
//! seconds or an HTTP date) or a short exponential backoff — as long as
//! the SCIM request's deadline allows. Otherwise the push-back is handed
//! to the IdP with a `Retry-After` of its own.

use std::future::Future;
use std::time::Duration;

use http::HeaderMap;
use http::header::HeaderName;
use tokio::time::Instant;

use super::{CallError, HostCtx, HostReply};
use crate::plan::Repeat;
use crate::schema::datetime::parse_http_date;

/// Attempts per call, the first included.
const MAX_ATTEMPTS: u32 = 4;
/// First backoff without `Retry-After`; doubled per attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest `Retry-After` honoured (longer values are passed on, not waited).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

impl HostCtx<'_> {
    /// Runs `attempt` until it succeeds, fails for good, or — for a call
    /// that is safe to repeat — the app keeps pushing back beyond the
    /// attempts or the deadline.
    pub(super) async fn with_retries<F, Fut>(
        &self,
        repeat: Repeat,
        mut attempt: F,
    ) -> Result<HostReply, CallError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<HostReply, CallError>>,
    {
        let mut n = 0;
        loop {
            let result = attempt().await;
            let Err(CallError::Busy { retry_after, .. }) = &result else {
                return result;
            };
            n += 1;
            if repeat == Repeat::Once || n >= MAX_ATTEMPTS {
                return result;
            }
            let wait = retry_after.unwrap_or(FIRST_BACKOFF * 2u32.pow(n - 1));
            if Instant::now() + wait >= self.deadline {
                return result;
            }
            tracing::debug!(
                attempt = n,
                wait_ms = wait.as_millis() as u64,
                "the app pushed back; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// The `Retry-After` of an answer: delta-seconds or an HTTP date, capped.
pub(super) fn retry_after(headers: &HeaderMap, name: HeaderName) -> Option<Duration> {
    let v = headers.get(name)?.to_str().ok()?.trim();
    let d = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = parse_http_date(v)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs();
            Duration::from_secs(u64::try_from(at).ok()?.saturating_sub(now))
        }
    };
    Some(d.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::RETRY_AFTER;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, RETRY_AFTER), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        assert_eq!(retry_after(&h, RETRY_AFTER), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("99999999"));
        assert_eq!(retry_after(&h, RETRY_AFTER), Some(MAX_RETRY_AFTER));
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
        assert_eq!(retry_after(&h, RETRY_AFTER), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("later"));
        assert_eq!(retry_after(&h, RETRY_AFTER), None);
    }
}
