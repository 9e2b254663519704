//! Pass-through: every request outside the SCIM base path goes to the app
//! unchanged but for hop-by-hop headers (removed) and `X-Forwarded-*`
//! (set). Bodies stream both ways without buffering; trailers, status codes
//! and methods are preserved; HTTP/1.1 upgrades are relayed. Failures are
//! plain responses (these are not SCIM paths): 502 when the app cannot be
//! reached, 504 when it does not start answering in time, and 400 when it
//! was the client's request body that broke off or was malformed.

pub mod headers;
mod upgrade;

use crate::body::{Body, Watched, Watcher, empty, full};
use crate::client::{HttpClient, PooledBody};
use crate::config::UpstreamConfig;
use crate::telemetry::Metrics;
use crate::telemetry::request::current_id;
use crate::upstream::{UpstreamError, send};
use headers::{ClientInfo, set_forwarded, strip_hop_by_hop};
use http::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderValue, UPGRADE};
use http::uri::PathAndQuery;
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Forwards one request from `client` to the app (`up`, through the
/// pooled `app` client; its bytes counted in `metrics`) and returns the
/// app's response.
pub async fn forward(
    app: &HttpClient,
    up: &UpstreamConfig,
    metrics: &Metrics,
    client: ClientInfo,
    mut req: Request<Incoming>,
) -> Response<Body> {
    let client_upgrade = requested_upgrade(&req).map(|proto| (proto, hyper::upgrade::on(&mut req)));
    let (mut parts, body) = req.into_parts();
    let host = parts.headers.get(HOST).cloned().or_else(|| {
        parts
            .uri
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    });
    // The client's path and query are kept as they arrived (no copy).
    let mut target = std::mem::take(&mut parts.uri).into_parts();
    // For a failure's log line (a refcount, not a copy).
    let request = (parts.method.clone(), target.path_and_query.clone());
    target.scheme = Some(up.scheme.clone());
    target.authority = Some(up.authority.clone());
    if target.path_and_query.is_none() {
        target.path_and_query = Some(PathAndQuery::from_static("/"));
    }
    parts.uri = match Uri::from_parts(target) {
        Ok(u) => u,
        Err(_) => return plain(StatusCode::BAD_REQUEST, "invalid request target\n"),
    };
    parts.version = Version::HTTP_11;
    strip_hop_by_hop(&mut parts.headers);
    set_forwarded(
        &mut parts.headers,
        client,
        host.clone(),
        &up.trusted_proxies,
    );
    if let Some(h) = host {
        parts.headers.insert(HOST, h);
    }
    if let Some((proto, _)) = &client_upgrade {
        parts
            .headers
            .insert(CONNECTION, HeaderValue::from_static("upgrade"));
        parts.headers.insert(UPGRADE, proto.clone());
    }
    // A request without a body (most GETs) has no bytes to count and
    // nothing that can break: it goes out as an empty body, without the
    // watchers' allocations.
    let (body, broken) = if hyper::body::Body::is_end_stream(&body) {
        (empty(), None)
    } else {
        let broken = Arc::new(AtomicBool::new(false));
        let body = Watched::new(body, Broken(broken.clone()));
        (metrics.count_body(body, true), Some(broken))
    };
    let upstream_req = Request::from_parts(parts, body);
    let sent = send(app, upstream_req, up.response_header_timeout).await;
    let mut resp = match sent {
        Ok(r) => r,
        Err(_) if broken.is_some_and(|b| b.load(Ordering::Acquire)) => {
            return failed(&UpstreamError::ClientBody, &request);
        }
        Err(e) => return failed(&e, &request),
    };
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        return switch_protocols(client_upgrade, resp);
    }
    strip_hop_by_hop(resp.headers_mut());
    resp.map(|b| b.boxed())
}

/// The plain answer for a failed forward, logged by whose fault it was,
/// with the request's id, method and path (never its query).
fn failed(e: &UpstreamError, (method, path): &(Method, Option<PathAndQuery>)) -> Response<Body> {
    let request_id = current_id().unwrap_or_default();
    let request_id = request_id.as_str();
    let method = method.as_str();
    let path = path.as_ref().map_or("/", PathAndQuery::path);
    let text = match e {
        UpstreamError::ClientBody => {
            tracing::debug!(error = %e, request_id, method, path, "pass-through: client body failed");
            "400 Bad Request: the request body could not be read\n"
        }
        UpstreamError::Timeout(_) => {
            tracing::warn!(error = %e, request_id, method, path, "pass-through failed");
            "504 Gateway Timeout: the app did not answer in time\n"
        }
        UpstreamError::Unreachable(_) | UpstreamError::TooLarge(_) => {
            tracing::warn!(error = %e, request_id, method, path, "pass-through failed");
            "502 Bad Gateway: the app is unreachable\n"
        }
    };
    plain(e.status(), text)
}

/// Watches the client's request body on its way to the app and remembers
/// whether it failed, so that a broken upload is answered 400 and not
/// blamed on the app.
struct Broken(Arc<AtomicBool>);

impl Watcher for Broken {
    fn error(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The `Upgrade` value of an HTTP/1.1 upgrade request, if it is one.
fn requested_upgrade<B>(req: &Request<B>) -> Option<HeaderValue> {
    if req.version() != Version::HTTP_11 {
        return None;
    }
    let connection_upgrade = req.headers().get_all(CONNECTION).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        })
    });
    connection_upgrade
        .then(|| req.headers().get(UPGRADE).cloned())
        .flatten()
}

/// Relays a `101` from the app and joins both connections.
fn switch_protocols(
    client_upgrade: Option<(HeaderValue, hyper::upgrade::OnUpgrade)>,
    mut resp: Response<PooledBody>,
) -> Response<Body> {
    let Some((_, client_on)) = client_upgrade else {
        // A 101 the client did not ask for cannot be relayed.
        return plain(
            StatusCode::BAD_GATEWAY,
            "502 Bad Gateway: unexpected protocol switch from the app\n",
        );
    };
    let app_on = hyper::upgrade::on(&mut resp);
    upgrade::relay(client_on, app_on);
    let proto = resp.headers().get(UPGRADE).cloned();
    strip_hop_by_hop(resp.headers_mut());
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("upgrade"));
    if let Some(p) = proto {
        resp.headers_mut().insert(UPGRADE, p);
    }
    resp.map(|b| b.boxed())
}

/// A short text response for pass-through failures.
pub fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut resp = Response::new(full(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}
