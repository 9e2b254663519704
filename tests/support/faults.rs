//! A fault-injecting, recording proxy for in-test apps: it forwards each
//! request to the app unless a scripted rule matches it, in which case it
//! answers for the app (an error status, `Retry-After`, a body of the
//! wrong shape) or cuts the connection. Rules match on method and a path
//! fragment, may let the first matches through, and fire a set number of
//! times, so a test can say "the app fails the second call of a create,
//! once" and watch the IdP's replay converge.

use super::record::{Recorder, Seen};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use scim_sidecar::body::Body;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What the proxy answers instead of the app.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Fault {
    /// A status with a small JSON error body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: format!(r#"{{"error": {{"code": "injected_{status}"}}}}"#),
        }
    }

    /// 429 with `Retry-After: secs`.
    pub fn busy(secs: u64) -> Self {
        let mut f = Self::status(429);
        f.headers.push(("retry-after", secs.to_string()));
        f
    }

    /// A 200 with this JSON body.
    pub fn ok_json(body: &str) -> Self {
        Self {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body: body.into(),
        }
    }
}

#[derive(Debug)]
struct Rule {
    method: Method,
    path: String,
    skip: usize,
    times: usize,
    fault: Fault,
}

/// The proxy.
#[derive(Clone)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    rules: Arc<Mutex<Vec<Rule>>>,
    pub recorder: Recorder,
}

impl FaultProxy {
    /// Starts a proxy in front of `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let rules: Arc<Mutex<Vec<Rule>>> = Arc::default();
        let recorder = Recorder::default();
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        let (r, rec) = (rules.clone(), recorder.clone());
        let addr = super::upstream(move |req: Request<Incoming>| {
            let (rules, rec, client) = (r.clone(), rec.clone(), client.clone());
            async move { forward(req, target, &rules, &rec, &client).await }
        })
        .await;
        Self {
            addr,
            rules,
            recorder,
        }
    }

    /// Answers the next `times` requests matching `method` and a path
    /// containing `path` with `fault`.
    pub fn fail(&self, method: &str, path: &str, times: usize, fault: Fault) {
        self.fail_after(method, path, 0, times, fault);
    }

    /// Like [`Self::fail`], after letting `skip` matching requests through.
    pub fn fail_after(&self, method: &str, path: &str, skip: usize, times: usize, fault: Fault) {
        self.rules.lock().unwrap().push(Rule {
            method: method.parse().unwrap(),
            path: path.into(),
            skip,
            times,
            fault,
        });
    }

    /// Every request that reached the proxy, with the status answered.
    pub fn seen(&self) -> Vec<Seen> {
        self.recorder.seen()
    }
}

/// The fault of the first rule that fires for this request, if any.
fn fire(rules: &Mutex<Vec<Rule>>, method: &Method, path: &str) -> Option<Fault> {
    let mut rules = rules.lock().unwrap();
    let rule = rules
        .iter_mut()
        .find(|r| r.times > 0 && r.method == method && path.contains(&r.path))?;
    if rule.skip > 0 {
        rule.skip -= 1;
        return None;
    }
    rule.times -= 1;
    Some(rule.fault.clone())
}

async fn forward(
    req: Request<Incoming>,
    target: SocketAddr,
    rules: &Mutex<Vec<Rule>>,
    rec: &Recorder,
    client: &Client<HttpConnector, Full<Bytes>>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut seen = Seen::new(&parts, &bytes);
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let (status, headers, out) = match fire(rules, &parts.method, parts.uri.path()) {
        Some(f) => (f.status, f.headers, Bytes::from(f.body)),
        None => {
            let mut b = Request::builder()
                .method(parts.method.clone())
                .uri(format!("http://{target}{pq}"));
            for (k, v) in &parts.headers {
                if k != "host" {
                    b = b.header(k, v);
                }
            }
            let resp = client.request(b.body(Full::new(bytes)).unwrap()).await;
            match resp {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers: Vec<(&'static str, String)> =
                        ["content-type", "location", "retry-after"]
                            .into_iter()
                            .filter_map(|h| {
                                resp.headers()
                                    .get(h)
                                    .and_then(|v| v.to_str().ok())
                                    .map(|v| (h, v.to_owned()))
                            })
                            .collect();
                    let body = resp.into_body().collect().await.map(|b| b.to_bytes());
                    (status, headers, body.unwrap_or_default())
                }
                Err(_) => (502, Vec::new(), Bytes::new()),
            }
        }
    };
    seen.status = Some(status);
    rec.record(seen);
    let mut resp = Response::builder().status(StatusCode::from_u16(status).unwrap());
    for (k, v) in headers {
        resp = resp.header(k, v);
    }
    resp.body(super::body(out)).unwrap()
}
