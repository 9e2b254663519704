//! The context of one request, from its arrival to its response: the
//! request id (the client's `X-Request-Id` when it is sane, else a fresh
//! one), the authenticated connection and the number of calls made on the
//! app. It is scoped to the request's task (a tokio task-local), so the
//! layers far below the front door — the app-call path in `host` — can
//! count themselves and forward the request id without a parameter
//! threaded through every SCIM layer. Outside a request scope every
//! accessor is a no-op.

use crate::config::Connection;
use http::{HeaderMap, HeaderName, HeaderValue};
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

/// `X-Request-Id`: read from clients, returned on responses, sent to the app.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-supplied request id that is honoured.
const MAX_ID_LEN: usize = 128;

/// The authenticated connection of a request, for logs, metrics and audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// The connection's `id`.
    pub id: String,
    /// Its IdP dialect (`okta`, `entra`, `generic`).
    pub idp: &'static str,
}

/// What is known about the request in flight.
#[derive(Debug)]
pub struct RequestCtx {
    id: String,
    header: HeaderValue,
    app_calls: AtomicU32,
    connection: OnceLock<ConnInfo>,
}

tokio::task_local! {
    static CURRENT: Arc<RequestCtx>;
}

impl RequestCtx {
    /// A context whose id is the client's sane `X-Request-Id`, or
    /// `generate()` otherwise.
    pub fn new(headers: &HeaderMap, generate: impl FnOnce() -> String) -> Arc<Self> {
        let (id, header) = match incoming_id(headers) {
            Some(v) => (v.to_str().unwrap_or_default().to_string(), v.clone()),
            None => {
                let id = generate();
                let header = HeaderValue::from_str(&id)
                    .unwrap_or_else(|_| HeaderValue::from_static("invalid"));
                (id, header)
            }
        };
        Arc::new(Self {
            id,
            header,
            app_calls: AtomicU32::new(0),
            connection: OnceLock::new(),
        })
    }

    /// The request id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The request id as a header value.
    pub fn header(&self) -> HeaderValue {
        self.header.clone()
    }

    /// Calls made on the app so far.
    pub fn app_calls(&self) -> u32 {
        self.app_calls.load(Ordering::Relaxed)
    }

    /// The authenticated connection, once known.
    pub fn connection(&self) -> Option<&ConnInfo> {
        self.connection.get()
    }

    /// Runs `fut` with this context as the current one.
    pub async fn scope<F: Future>(self: Arc<Self>, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }
}

/// The client's `X-Request-Id`, if there is exactly one and it is 1–128
/// visible ASCII characters from a conservative set (letters, digits and
/// `-_.:=+/@`). Anything else is replaced, so log lines and app calls
/// never carry a client's arbitrary bytes.
fn incoming_id(headers: &HeaderMap) -> Option<&HeaderValue> {
    let mut all = headers.get_all(&X_REQUEST_ID).iter();
    let v = all.next()?;
    if all.next().is_some() {
        return None;
    }
    let b = v.as_bytes();
    let sane = !b.is_empty()
        && b.len() <= MAX_ID_LEN
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.:=+/@".contains(c));
    sane.then_some(v)
}

/// Records the authenticated connection of the current request.
pub fn set_connection(conn: &Connection) {
    let _ = CURRENT.try_with(|c| {
        let _ = c.connection.set(ConnInfo {
            id: conn.id.clone(),
            idp: conn.idp.as_str(),
        });
    });
}

/// Counts one app call for the current request.
pub fn count_app_call() {
    let _ = CURRENT.try_with(|c| c.app_calls.fetch_add(1, Ordering::Relaxed));
}

/// The current request id, as a header value for calls on the app.
pub fn current_header() -> Option<HeaderValue> {
    CURRENT.try_with(|c| c.header()).ok()
}

/// The current request id.
pub fn current_id() -> Option<String> {
    CURRENT.try_with(|c| c.id.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_with(value: Option<&'static str>) -> Arc<RequestCtx> {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(X_REQUEST_ID, HeaderValue::from_static(v));
        }
        RequestCtx::new(&h, || "generated".into())
    }

    #[test]
    fn sane_client_ids_are_kept_others_replaced() {
        assert_eq!(
            ctx_with(Some("7f3a-9c1e_okta:42")).id(),
            "7f3a-9c1e_okta:42"
        );
        assert_eq!(ctx_with(None).id(), "generated");
        assert_eq!(ctx_with(Some("has space")).id(), "generated");
        assert_eq!(ctx_with(Some("quote\"")).id(), "generated");
        let long: &'static str = Box::leak("a".repeat(129).into_boxed_str());
        assert_eq!(ctx_with(Some(long)).id(), "generated");
        let mut two = HeaderMap::new();
        two.append(X_REQUEST_ID, HeaderValue::from_static("a"));
        two.append(X_REQUEST_ID, HeaderValue::from_static("b"));
        assert_eq!(RequestCtx::new(&two, || "g".into()).id(), "g");
    }

    #[tokio::test]
    async fn scoped_context_counts_calls_and_exposes_the_id() {
        let ctx = ctx_with(Some("req-1"));
        assert_eq!(current_id(), None);
        count_app_call();
        ctx.clone()
            .scope(async {
                count_app_call();
                count_app_call();
                assert_eq!(current_id().as_deref(), Some("req-1"));
                assert_eq!(current_header().unwrap(), "req-1");
            })
            .await;
        assert_eq!(ctx.app_calls(), 2);
    }
}
