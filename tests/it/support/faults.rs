//! A fault-injecting, recording proxy for in-test apps: it forwards each
//! request to the app unless a scripted rule matches it, in which case the
//! app's answer is replaced (an error status, `Retry-After`, HTML, JSON of
//! the wrong shape, a redirect, a body without end), garbled after the app
//! did the work (truncated, reset mid-response, answered too late), or the
//! whole app goes away (connections refused). Rules match on method and a
//! fragment of the path and query, may let the first matches through, and
//! fire a set number of times; [`FaultProxy::every`] answers every Nth
//! call. So a test can say "the app fails the second call of a create,
//! once" and watch the IdP's replay converge.

mod answer;

#[allow(unused_imports)] // not every test names them
pub use answer::{Answer, Fault, Reshape};

use super::record::{Recorder, Seen};
use answer::{AppAnswer, BoxError, ProxyBody, faulty, full, respond};
use bytes::Bytes;
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

#[derive(Debug)]
struct Rule {
    method: Method,
    path: String,
    skip: usize,
    times: usize,
    fault: Fault,
}

/// Every `n`th call (of those matching `method`, any when `None`).
#[derive(Debug)]
struct Every {
    n: usize,
    method: Option<Method>,
    seen: usize,
    fault: Fault,
}

/// The `k`th write call (any method but GET and HEAD), once.
#[derive(Debug)]
struct NthWrite {
    k: usize,
    seen: usize,
    fault: Fault,
}

#[derive(Default)]
struct Script {
    rules: Vec<Rule>,
    every: Option<Every>,
    nth_write: Option<NthWrite>,
}

/// The proxy.
#[derive(Clone)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    pub recorder: Recorder,
    control: mpsc::Sender<(bool, oneshot::Sender<()>)>,
    arrivals: watch::Receiver<usize>,
}

impl FaultProxy {
    /// Starts a proxy in front of `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let script: Arc<Mutex<Script>> = Arc::default();
        let recorder = Recorder::default();
        let listener = shared_listener("127.0.0.1:0".parse().unwrap());
        let addr = listener.local_addr().expect("proxy addr");
        let (control, commands) = mpsc::channel(4);
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build(HttpConnector::new());
        let (arrived, arrivals) = watch::channel(0);
        let shared = Shared {
            target,
            script: script.clone(),
            recorder: recorder.clone(),
            client,
            arrived,
        };
        tokio::spawn(serve(listener, addr, Arc::new(shared), commands));
        Self {
            addr,
            script,
            recorder,
            control,
            arrivals,
        }
    }

    /// Answers the next `times` requests matching `method` and a path (and
    /// query) containing `path` with `fault` (`/p$` matches the path `/p`
    /// exactly, `/p$?q=1` that path with `q=1` in its query).
    pub fn fail(&self, method: &str, path: &str, times: usize, fault: Fault) {
        self.fail_after(method, path, 0, times, fault);
    }

    /// Like [`Self::fail`], after letting `skip` matching requests through.
    pub fn fail_after(&self, method: &str, path: &str, skip: usize, times: usize, fault: Fault) {
        self.script.lock().unwrap().rules.push(Rule {
            method: method.parse().unwrap(),
            path: path.into(),
            skip,
            times,
            fault,
        });
    }

    /// Answers every `n`th call, the first one included (counted from now;
    /// of `method` only when given) with `fault`, until [`Self::clear`].
    pub fn every(&self, n: usize, method: Option<&str>, fault: Fault) {
        self.every_from(n, 0, method, fault);
    }

    /// Like [`Self::every`], with the first fault on call `skip + 1`.
    pub fn every_from(&self, n: usize, skip: usize, method: Option<&str>, fault: Fault) {
        assert!(n > 0 && skip < n);
        self.script.lock().unwrap().every = Some(Every {
            n,
            method: method.map(|m| m.parse().unwrap()),
            seen: n - skip,
            fault,
        });
    }

    /// Answers the `k`th write call from now (1-based; any method but GET
    /// and HEAD) with `fault`, once.
    pub fn fail_nth_write(&self, k: usize, fault: Fault) {
        assert!(k > 0);
        self.script.lock().unwrap().nth_write = Some(NthWrite { k, seen: 0, fault });
    }

    /// How many scripted faults have not fired yet.
    pub fn pending(&self) -> usize {
        let script = self.script.lock().unwrap();
        let nth = script.nth_write.as_ref().is_some_and(|n| n.seen < n.k);
        script.rules.iter().map(|r| r.times).sum::<usize>() + usize::from(nth)
    }

    /// Forgets every rule: the app answers for itself again.
    pub fn clear(&self) {
        *self.script.lock().unwrap() = Script::default();
    }

    /// Stops listening and cuts every open connection: connections to the
    /// app are refused until [`Self::up`]. Returns once that holds.
    pub async fn down(&self) {
        self.switch(true).await;
    }

    /// Listens again on the same address. Returns once it does.
    pub async fn up(&self) {
        self.switch(false).await;
    }

    async fn switch(&self, down: bool) {
        let (done, applied) = oneshot::channel();
        self.control.send((down, done)).await.expect("proxy runs");
        applied.await.expect("proxy switched");
    }

    /// The number of requests that have arrived so far (answered or not).
    pub fn arrivals(&self) -> watch::Receiver<usize> {
        self.arrivals.clone()
    }

    /// Every request that reached the proxy, with the status answered.
    pub fn seen(&self) -> Vec<Seen> {
        self.recorder.seen()
    }
}

struct Shared {
    target: SocketAddr,
    script: Arc<Mutex<Script>>,
    recorder: Recorder,
    client: Client<HttpConnector, Full<Bytes>>,
    arrived: watch::Sender<usize>,
}

/// Accepts while up; while down nothing listens on the port (a socket
/// bound without listening keeps it, so connections are refused and no
/// other listener can take it) and no connection lives.
async fn serve(
    mut listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
    mut commands: mpsc::Receiver<(bool, oneshot::Sender<()>)>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { forward(req, &shared).await }
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            command = commands.recv() => match command {
                None => return,
                Some((false, done)) => {
                    let _ = done.send(());
                }
                Some((true, done)) => {
                    let placeholder = shared_socket(addr);
                    drop(listener);
                    conns.abort_all();
                    while conns.join_next().await.is_some() {}
                    let _ = done.send(());
                    listener = wait_for_up(addr, &mut commands).await;
                    drop(placeholder);
                }
            },
        }
    }
}

/// A socket bound to `addr` with `SO_REUSEPORT`, so a listener and a
/// placeholder can hold the port in turn.
fn shared_socket(addr: SocketAddr) -> TcpSocket {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.set_reuseport(true).expect("SO_REUSEPORT");
    socket.bind(addr).expect("bind the proxy's port");
    socket
}

/// A listener on `addr` (port 0: any) that can share its port.
fn shared_listener(addr: SocketAddr) -> TcpListener {
    shared_socket(addr).listen(1024).expect("listen")
}

/// While down: acknowledges further `down`s, listens again on `up`.
async fn wait_for_up(
    addr: SocketAddr,
    commands: &mut mpsc::Receiver<(bool, oneshot::Sender<()>)>,
) -> TcpListener {
    loop {
        let (down, done) = commands.recv().await.expect("proxy handle alive");
        if !down {
            let listener = shared_listener(addr);
            let _ = done.send(());
            return listener;
        }
        let _ = done.send(());
    }
}

/// The fault that fires for this request, if any.
fn fire(script: &Mutex<Script>, method: &Method, target: &str) -> Option<Fault> {
    let mut script = script.lock().unwrap();
    let rule = script
        .rules
        .iter_mut()
        .find(|r| r.times > 0 && r.method == method && matches(&r.path, target));
    if let Some(rule) = rule {
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.times -= 1;
        return Some(rule.fault.clone());
    }
    if let Some(nth) = script.nth_write.as_mut()
        && method != Method::GET
        && method != Method::HEAD
    {
        nth.seen += 1;
        if nth.seen == nth.k {
            return Some(nth.fault.clone());
        }
    }
    let every = script.every.as_mut()?;
    if every.method.as_ref().is_some_and(|m| m != method) {
        return None;
    }
    every.seen += 1;
    ((every.seen - 1) % every.n == 0).then(|| every.fault.clone())
}

/// A rule's path matches a request's path and query when it is contained
/// in them; `path$` must equal the path, and `path$?fragment` must equal
/// the path with `fragment` in the query.
fn matches(pattern: &str, target: &str) -> bool {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match pattern.split_once('$') {
        Some((exact, rest)) => {
            exact == path && rest.strip_prefix('?').is_none_or(|f| query.contains(f))
        }
        None => target.contains(pattern),
    }
}

async fn ask_app(shared: &Shared, parts: &http::request::Parts, bytes: Bytes) -> AppAnswer {
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut b = Request::builder()
        .method(parts.method.clone())
        .uri(format!("http://{}{pq}", shared.target));
    for (k, v) in &parts.headers {
        if k != "host" {
            b = b.header(k, v);
        }
    }
    match shared
        .client
        .request(b.body(Full::new(bytes)).unwrap())
        .await
    {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let headers = ["content-type", "location", "retry-after", "etag"]
                .into_iter()
                .filter_map(|h| {
                    let v = resp.headers().get(h)?.to_str().ok()?;
                    Some((h, v.to_owned()))
                })
                .collect();
            let body = resp.into_body().collect().await.map(|b| b.to_bytes());
            AppAnswer {
                status,
                headers,
                body: body.unwrap_or_default(),
            }
        }
        Err(_) => AppAnswer {
            status: 502,
            headers: Vec::new(),
            body: Bytes::new(),
        },
    }
}

/// The answer to one request; an error cuts the connection instead.
async fn forward(req: Request<Incoming>, shared: &Shared) -> Result<Response<ProxyBody>, BoxError> {
    shared.arrived.send_modify(|n| *n += 1);
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut seen = Seen::new(&parts, &bytes);
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let fault = fire(&shared.script, &parts.method, target);
    if let Some(Fault {
        answer: Answer::Gated(gate),
        ..
    }) = &fault
    {
        let _ = gate.clone().wait_for(|open| *open).await;
    }
    let app = match &fault {
        Some(f) if !f.reaches_app => None,
        _ => Some(ask_app(shared, &parts, bytes).await),
    };
    seen.reached_app = app.is_some();
    let resp = match (fault, app) {
        (None, Some(app)) => Some(respond(app.status, &app.headers, full(app.body))),
        (Some(f), app) => faulty(f.answer, app).await,
        (None, None) => unreachable!("no fault means the app answers"),
    };
    seen.status = resp.as_ref().map(|r| r.status().as_u16());
    shared.recorder.record(seen);
    resp.ok_or_else(|| BoxError::other("connection cut by the fault proxy"))
}
