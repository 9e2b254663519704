//! Keep-alive connections to a server (the app, a webhook receiver) over
//! HTTP/1.1, plain or TLS, reused last-in first-out per origin. A request
//! takes an idle connection of its origin, or opens one within the connect
//! deadline; its connection goes back to the pool when the response body
//! has been read to its end, and is closed instead when the body is
//! dropped early, the server closes it, it sat idle past the idle timeout,
//! or the pool already holds `max_idle` of that origin. A request that a
//! reused connection could not even start (the server closed it
//! meanwhile) is sent once more on a fresh one. Connections are driven
//! with upgrades, so a `101` relays.
//!
//! Connections are pooled per runtime as well as per origin: with worker
//! runtimes (`--worker-threads`), a connection is driven by the runtime
//! that opened it, and a request on another runtime would hand every
//! exchange across threads.
//!
//! The request is sent in origin form with a `Host` header (the URL's host
//! and port unless the caller set one), as RFC 9112 §3.2 asks.

use crate::body::{Body, Watched, Watcher};
use http::uri::{Authority, Scheme};
use http::{HeaderValue, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;

/// How the pool connects and how many it keeps.
pub struct Settings {
    /// TLS for `https://` URLs (see [`super::tls_config`]).
    pub tls: Arc<rustls::ClientConfig>,
    /// Deadline for the TCP connect.
    pub connect_timeout: Duration,
    /// Idle connections older than this are closed, not reused.
    pub idle_timeout: Duration,
    /// Idle connections kept per origin.
    pub max_idle: usize,
}

/// The shared client: cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    tls: tokio_rustls::TlsConnector,
    origins: Mutex<Vec<OriginPool>>,
}

/// Where a connection goes, and the runtime that drives it.
#[derive(Debug, Clone, Eq)]
struct Origin {
    https: bool,
    authority: Authority,
    runtime: Option<tokio::runtime::Id>,
}

/// Authorities compare without regard to case (RFC 3986 §6.2.2.1); a
/// request's is nearly always spelled as the pooled one, which one byte
/// comparison settles before the case-blind one runs.
impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        self.https == other.https
            && self.runtime == other.runtime
            && (self.authority.as_str() == other.authority.as_str()
                || self.authority == other.authority)
    }
}

struct OriginPool {
    origin: Origin,
    idle: Vec<(SendRequest<Body>, Instant)>,
}

/// Why a request could not be sent or answered.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The URI has no `http`/`https` origin.
    #[error("the app URL has no http or https origin")]
    NoOrigin,
    /// Connecting failed or timed out.
    #[error("connecting to {0} failed: {1}")]
    Connect(Authority, String),
    /// The exchange failed.
    #[error(transparent)]
    Http(#[from] hyper::Error),
}

impl PoolError {
    /// The error and its causes on one line, for logs (no request data in
    /// it).
    pub fn describe(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }
}

impl HttpClient {
    /// A client with no connection yet.
    pub fn new(settings: Settings) -> Self {
        let tls = tokio_rustls::TlsConnector::from(settings.tls.clone());
        Self {
            inner: Arc::new(Inner {
                settings,
                tls,
                origins: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Sends `req` (absolute URI) and returns the response head; the body
    /// streams from the connection, which returns to the pool at its end.
    pub async fn request(&self, req: Request<Body>) -> Result<Response<PooledBody>, PoolError> {
        let (origin, mut req) = origin_form(req)?;
        loop {
            let (mut sender, reused) = match self.checkout(&origin).await {
                Some(s) => (s, true),
                // Boxed: the TLS handshake's state is large, and it would
                // otherwise be carried (and moved) by every request.
                None => (Box::pin(self.connect(&origin)).await?, false),
            };
            match sender.try_send_request(req).await {
                Ok(resp) => return Ok(self.pooled(origin, sender, resp)),
                Err(mut e) => match (reused, e.take_message()) {
                    // Never started on a connection the app had closed.
                    (true, Some(back)) => req = back,
                    _ => return Err(e.into_error().into()),
                },
            }
        }
    }

    fn origins(&self) -> MutexGuard<'_, Vec<OriginPool>> {
        self.inner.origins.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The most recently used live idle connection of `origin`.
    async fn checkout(&self, origin: &Origin) -> Option<SendRequest<Body>> {
        let oldest = Instant::now()
            .checked_sub(self.inner.settings.idle_timeout)
            .unwrap_or_else(Instant::now);
        loop {
            let (mut sender, since) = {
                let mut origins = self.origins();
                let pool = origins.iter_mut().find(|p| p.origin == *origin)?;
                pool.idle.pop()?
            };
            if since < oldest || sender.is_closed() {
                continue;
            }
            // Ready at once, or as soon as the connection has finished
            // with the previous response.
            if sender.ready().await.is_ok() {
                return Some(sender);
            }
        }
    }

    fn checkin(&self, origin: Origin, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let max = self.inner.settings.max_idle;
        let mut origins = self.origins();
        let at = match origins.iter().position(|p| p.origin == origin) {
            Some(i) => i,
            None => {
                origins.push(OriginPool {
                    origin,
                    idle: Vec::new(),
                });
                origins.len() - 1
            }
        };
        let idle = &mut origins[at].idle;
        if idle.len() < max {
            idle.push((sender, Instant::now()));
        }
    }

    async fn connect(&self, origin: &Origin) -> Result<SendRequest<Body>, PoolError> {
        let failed = |e: String| PoolError::Connect(origin.authority.clone(), e);
        let host = origin.authority.host();
        let port = origin
            .authority
            .port_u16()
            .unwrap_or(if origin.https { 443 } else { 80 });
        // `[::1]` is the URI spelling; the socket wants the bare address.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let tcp = tokio::time::timeout(
            self.inner.settings.connect_timeout,
            TcpStream::connect((bare, port)),
        )
        .await
        .map_err(|_| failed("timed out".into()))?
        .map_err(|e| failed(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let keepalive = socket2::TcpKeepalive::new().with_time(Duration::from_secs(60));
        let _ = socket2::SockRef::from(&tcp).set_tcp_keepalive(&keepalive);
        if !origin.https {
            return handshake(TokioIo::new(tcp)).await;
        }
        let name = rustls_pki_types::ServerName::try_from(bare.to_owned())
            .map_err(|e| failed(e.to_string()))?;
        let tls = self
            .inner
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| failed(e.to_string()))?;
        handshake(TokioIo::new(tls)).await
    }

    fn pooled(
        &self,
        origin: Origin,
        sender: SendRequest<Body>,
        resp: Response<Incoming>,
    ) -> Response<PooledBody> {
        // An upgraded connection belongs to the two ends it joins now.
        let keep = resp.status() != StatusCode::SWITCHING_PROTOCOLS;
        let back = Checkin(keep.then(|| (self.clone(), origin, sender)));
        resp.map(|inner| Watched::new(inner, back))
    }
}

async fn handshake<T>(io: TokioIo<T>) -> Result<SendRequest<Body>, PoolError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // The read buffer of an app connection grows with the answers it
    // reads and is kept while the connection is pooled; hyper's default
    // cap is about 400 KiB per connection. 128 KiB still takes a 100 KiB
    // answer in one read, at the same CPU (docs/benchmarks.md).
    let (sender, conn) = http1::Builder::new()
        .max_buf_size(128 * 1024)
        .handshake(io)
        .await?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "app connection ended with an error");
        }
    });
    Ok(sender)
}

/// Splits an absolute URI into the origin and the origin-form request, and
/// sets `Host` when the caller did not.
fn origin_form(req: Request<Body>) -> Result<(Origin, Request<Body>), PoolError> {
    let (mut parts, body) = req.into_parts();
    let mut uri = std::mem::take(&mut parts.uri).into_parts();
    let https = match uri.scheme.take() {
        Some(s) if s == Scheme::HTTPS => true,
        Some(s) if s == Scheme::HTTP => false,
        _ => return Err(PoolError::NoOrigin),
    };
    let authority = uri.authority.take().ok_or(PoolError::NoOrigin)?;
    // Host and port only: credentials in the URL never go on the wire
    // (RFC 9110 §7.2).
    let host = authority
        .as_str()
        .rsplit_once('@')
        .map_or(authority.as_str(), |(_, host)| host);
    if !parts.headers.contains_key(http::header::HOST)
        && let Ok(v) = HeaderValue::from_str(host)
    {
        parts.headers.insert(http::header::HOST, v);
    }
    if uri.path_and_query.is_none() {
        uri.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    parts.uri = Uri::from_parts(uri).map_err(|_| PoolError::NoOrigin)?;
    let runtime = tokio::runtime::Handle::try_current().ok().map(|h| h.id());
    Ok((
        Origin {
            https,
            authority,
            runtime,
        },
        Request::from_parts(parts, body),
    ))
}

/// A response body from the app; its end returns the connection.
pub type PooledBody = Watched<Incoming, Checkin>;

/// Puts a connection back in the pool when the response body on it has
/// been read to its end (and closes it, by dropping it, when the body is
/// dropped before).
pub struct Checkin(Option<(HttpClient, Origin, SendRequest<Body>)>);

impl Watcher for Checkin {
    fn end(&mut self) {
        if let Some((client, origin, sender)) = self.0.take() {
            client.checkin(origin, sender);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::empty;

    #[test]
    fn requests_go_out_in_origin_form_with_a_host() {
        let req = Request::get("http://127.0.0.1:3000/api/users?x=1")
            .body(empty())
            .unwrap();
        let (origin, req) = origin_form(req).unwrap();
        assert_eq!(
            origin,
            Origin {
                https: false,
                authority: Authority::from_static("127.0.0.1:3000"),
                runtime: None,
            }
        );
        assert_eq!(req.uri(), "/api/users?x=1");
        assert_eq!(req.headers()["host"], "127.0.0.1:3000");
        let mut req = Request::get("https://app.example/").body(empty()).unwrap();
        req.headers_mut()
            .insert("host", HeaderValue::from_static("public.example"));
        let (origin, req) = origin_form(req).unwrap();
        assert!(origin.https);
        assert_eq!(req.headers()["host"], "public.example");
        let relative = Request::get("/x").body(empty()).unwrap();
        assert!(matches!(origin_form(relative), Err(PoolError::NoOrigin)));
    }

    #[test]
    fn credentials_in_the_url_stay_off_the_host_header() {
        let req = Request::post("https://user:secret@hooks.example:8443/in")
            .body(empty())
            .unwrap();
        let (origin, req) = origin_form(req).unwrap();
        assert_eq!(origin.authority.host(), "hooks.example");
        assert_eq!(req.headers()["host"], "hooks.example:8443");
        assert_eq!(req.uri(), "/in");
    }
}
