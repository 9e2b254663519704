//! The soak harness's traffic and its report: Okta-shaped SCIM workers
//! (AIW: lookup, create, GET, PUT profile update, PUT deactivation, an
//! import page now and then, an OIN PATCH reactivation and deactivation
//! now and then), pass-through workers, the counters they share, and the
//! checks made on the app afterwards.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::Settings;
use super::demo_app::DemoApp;

/// The bearer token of `config/example.toml`.
const TOKEN: &str = "demo-token-for-local-testing-only-change-me";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// Counters shared by every worker.
#[derive(Default)]
pub struct Counts {
    scim: AtomicU64,
    pass: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Counts {
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().unwrap_or_else(|e| e.into_inner());
        if first.len() < 20 {
            first.push(what);
        }
    }
}

/// A user a worker created and then deactivated.
pub struct Made {
    login: String,
    id: String,
}

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// One request; the status and body, or why there is none.
async fn send(
    c: &HttpClient,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<(StatusCode, Bytes), String> {
    let mut b = Request::builder().method(method).uri(url);
    if url.contains("/scim/") {
        b = b.header("authorization", format!("Bearer {TOKEN}"));
    }
    let bytes = match body {
        Some(v) => {
            b = b.header("content-type", "application/scim+json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    let req = b.body(Full::new(bytes)).map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(Duration::from_secs(30), c.request(req))
        .await
        .map_err(|_| "no answer within 30 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok((status, body.to_bytes()))
}

/// A SCIM call that must answer `want`; its JSON body.
async fn scim(
    c: &HttpClient,
    counts: &Counts,
    (method, url): (&str, &str),
    body: Option<&Value>,
    want: StatusCode,
) -> Option<Value> {
    counts.scim.fetch_add(1, Ordering::Relaxed);
    match send(c, method, url, body).await {
        Ok((s, b)) if s == want => Some(serde_json::from_slice(&b).unwrap_or(Value::Null)),
        Ok((s, b)) => {
            counts.error(format!(
                "{method} {url}: {s} {}",
                String::from_utf8_lossy(&b)
            ));
            None
        }
        Err(e) => {
            counts.error(format!("{method} {url}: {e}"));
            None
        }
    }
}

/// One Okta push of a new user and its life until deactivation.
async fn okta_user(
    c: &HttpClient,
    base: &str,
    counts: &Counts,
    w: usize,
    i: usize,
) -> Option<Made> {
    let login = format!("soak-{w}-{i}@example.com");
    let lookup =
        format!("{base}/scim/v2/Users?filter=userName%20eq%20%22soak-{w}-{i}%40example.com%22");
    let found = scim(c, counts, ("GET", &lookup), None, StatusCode::OK).await?;
    if found["totalResults"] != 0 {
        counts.error(format!("{login} found before its create: {found}"));
    }
    let new = json!({"schemas": [USER], "userName": login, "externalId": format!("00u-{w}-{i}"),
        "name": {"givenName": "Soak", "familyName": format!("Worker {w}")},
        "emails": [{"primary": true, "type": "work", "value": login}],
        "password": "Soak-pa55!", "groups": [], "active": true});
    let users = format!("{base}/scim/v2/Users");
    let created = scim(c, counts, ("POST", &users), Some(&new), StatusCode::CREATED).await?;
    let id = created["id"].as_str()?.to_owned();
    let item = format!("{base}/scim/v2/Users/{id}");
    let mut user = scim(c, counts, ("GET", &item), None, StatusCode::OK).await?;
    user["title"] = json!(format!("Title {i}"));
    let mut user = scim(c, counts, ("PUT", &item), Some(&user), StatusCode::OK).await?;
    if i % 7 == 3 {
        for active in [false, true] {
            let p = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": active}}]});
            user = scim(c, counts, ("PATCH", &item), Some(&p), StatusCode::OK).await?;
        }
    }
    user["active"] = json!(false);
    let after = scim(c, counts, ("PUT", &item), Some(&user), StatusCode::OK).await?;
    if after["active"] != false {
        counts.error(format!("{login}: deactivation answered {after}"));
    }
    if i.is_multiple_of(5) {
        let page = format!("{base}/scim/v2/Users?startIndex=1&count=100");
        scim(c, counts, ("GET", &page), None, StatusCode::OK).await?;
    }
    Some(Made { login, id })
}

/// Okta-shaped SCIM traffic until `stop`; the users it made.
pub async fn okta_worker(
    base: String,
    w: usize,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) -> Vec<Made> {
    let c = client();
    let mut made = Vec::new();
    let mut i = 0;
    while !stop.load(Ordering::SeqCst) {
        made.extend(okta_user(&c, &base, &counts, w, i).await);
        i += 1;
    }
    made
}

/// Pass-through traffic until `stop`: the homepage and echoed bodies.
pub async fn pass_worker(
    base: String,
    w: usize,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) -> Vec<Made> {
    let c = client();
    let mut i = 0u64;
    while !stop.load(Ordering::SeqCst) {
        counts.pass.fetch_add(1, Ordering::Relaxed);
        let result = if i.is_multiple_of(2) {
            send(&c, "GET", &format!("{base}/"), None)
                .await
                .map(|(s, b)| s == StatusCode::OK && b.ends_with(b"</html>\n"))
        } else {
            let payload = json!({"worker": w, "n": i});
            send(&c, "POST", &format!("{base}/echo"), Some(&payload))
                .await
                .map(|(s, b)| {
                    s == StatusCode::OK && serde_json::from_slice::<Value>(&b).ok() == Some(payload)
                })
        };
        match result {
            Ok(true) => {}
            Ok(false) => counts.error(format!("pass-through {w}/{i}: unexpected answer")),
            Err(e) => counts.error(format!("pass-through {w}/{i}: {e}")),
        }
        i += 1;
    }
    Vec::new()
}

/// What the run showed.
pub struct Report {
    seconds: f64,
    scim: u64,
    pass: u64,
    errors: u64,
    first_errors: Vec<String>,
    created: usize,
    present_once: usize,
    deactivated: usize,
    rss: Vec<u64>,
    peak_kib: u64,
}

impl Report {
    /// Counts, the app's state and the memory samples.
    pub fn new(
        app: &DemoApp,
        made: &[Made],
        counts: &Counts,
        rss: &[u64],
        peak_kib: u64,
        took: Duration,
    ) -> Self {
        let users = app.users();
        let holders = |login: &str| {
            users
                .iter()
                .filter(|u| u["login"] == login)
                .collect::<Vec<_>>()
        };
        let present_once = made.iter().filter(|m| {
            let h = holders(&m.login);
            h.len() == 1 && h[0]["id"] == m.id.as_str()
        });
        let deactivated = made
            .iter()
            .filter(|m| app.user(&m.id).is_some_and(|u| u["state"] == "SUSPENDED"));
        Self {
            seconds: took.as_secs_f64(),
            scim: counts.scim.load(Ordering::Relaxed),
            pass: counts.pass.load(Ordering::Relaxed),
            errors: counts.errors.load(Ordering::Relaxed),
            first_errors: counts
                .first_errors
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
            created: made.len(),
            present_once: present_once.count(),
            deactivated: deactivated.count(),
            rss: rss.to_vec(),
            // VmHWM is updated lazily by the kernel: a sample can exceed it.
            peak_kib: rss.iter().copied().fold(peak_kib, u64::max),
        }
    }

    /// The largest sample of a third of the run (0, 1, 2).
    fn third_max(&self, k: usize) -> u64 {
        let n = self.rss.len();
        self.rss[n * k / 3..n * (k + 1) / 3]
            .iter()
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// Memory stops growing: the last third's peak is within 10 % (and
    /// 2 MiB) of the middle third's.
    fn memory_flat(&self) -> bool {
        self.rss.len() < 6 || self.third_max(2) <= self.third_max(1) * 11 / 10 + 2048
    }

    /// Whether the run passed.
    pub fn ok(&self) -> bool {
        self.errors == 0
            && self.created > 0
            && self.present_once == self.created
            && self.deactivated == self.created
            && self.memory_flat()
    }

    /// The figures, as `docs/reliability.md` records them.
    pub fn print(&self, s: &Settings, addr: &str) {
        let total = self.scim + self.pass;
        println!(
            "soak against {addr}: {} s, {} SCIM workers, {} pass-through workers",
            s.seconds, s.workers, s.pass
        );
        println!("| figure | value |\n|---|---|");
        println!("| duration | {:.1} s |", self.seconds);
        println!(
            "| requests | {total} ({} SCIM, {} pass-through), {:.0}/s |",
            self.scim,
            self.pass,
            total as f64 / self.seconds
        );
        println!("| unexpected answers and errors | {} |", self.errors);
        println!(
            "| users created / present exactly once / deactivated | {} / {} / {} |",
            self.created, self.present_once, self.deactivated
        );
        let mib = |k: u64| k as f64 / 1024.0;
        println!(
            "| sidecar RSS, peak of each third of the run | {:.1} / {:.1} / {:.1} MiB |",
            mib(self.third_max(0)),
            mib(self.third_max(1)),
            mib(self.third_max(2))
        );
        println!("| sidecar peak RSS | {:.1} MiB |", mib(self.peak_kib));
        println!(
            "| memory stops growing | {} |",
            if self.memory_flat() { "yes" } else { "NO" }
        );
        for e in &self.first_errors {
            println!("error: {e}");
        }
        println!("{}", if self.ok() { "PASS" } else { "FAIL" });
    }
}
