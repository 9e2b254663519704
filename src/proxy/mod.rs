//! Pass-through: every request outside the SCIM base path goes to the app
//! unchanged but for hop-by-hop headers (removed) and `X-Forwarded-*`
//! (set). Bodies stream both ways without buffering; trailers, status codes
//! and methods are preserved; HTTP/1.1 upgrades are relayed. Failures are
//! plain responses (these are not SCIM paths): 502 when the app cannot be
//! reached, 504 when it does not start answering in time.

pub mod headers;
mod upgrade;

use crate::body::{Body, full};
use crate::state::State;
use headers::{ClientInfo, set_forwarded, strip_hop_by_hop};
use http::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderValue, UPGRADE};
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Forwards one request to the app and returns its response.
pub async fn forward(
    state: &State,
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
    let up = &state.config.upstream;
    let uri = match Uri::builder()
        .scheme(up.scheme.clone())
        .authority(up.authority.clone())
        .path_and_query(parts.uri.path_and_query().map_or("/", |pq| pq.as_str()))
        .build()
    {
        Ok(u) => u,
        Err(_) => return plain(StatusCode::BAD_REQUEST, "invalid request target\n"),
    };
    parts.uri = uri;
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
    let upstream_req = Request::from_parts(parts, body.boxed());
    let mut resp = match crate::upstream::send(
        &state.client,
        upstream_req,
        up.response_header_timeout,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "pass-through failed");
            let text = if e.status() == StatusCode::GATEWAY_TIMEOUT {
                "504 Gateway Timeout: the app did not answer in time\n"
            } else {
                "502 Bad Gateway: the app is unreachable\n"
            };
            return plain(e.status(), text);
        }
    };
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS {
        return switch_protocols(client_upgrade, resp);
    }
    strip_hop_by_hop(resp.headers_mut());
    resp.map(|b| b.boxed())
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
    mut resp: Response<Incoming>,
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
