//! The fault matrix: every way the app can misbehave on a call (refused
//! connections, resets, slowness, 5xx, push-back with and without
//! `Retry-After`, HTML, broken or misshapen JSON, redirects, bodies without
//! end) against every SCIM operation an IdP sends, on the bundled example
//! app behind a fault-injecting proxy. For each cell the test records the
//! SCIM status, `scimType` and `Retry-After` the IdP gets, what the app was
//! left with, and what the IdP's replay of the same request gets; it checks
//! that the answer came within its deadline (and after a `Retry-After` it
//! honoured), that the fault really fired, that `/readyz` and pass-through
//! follow the app, and that the replay leaves every write applied exactly
//! once. The expected table is the one published in `docs/reliability.md`:
//! a cell that differs fails the test, which prints the table it saw.

use crate::support;

mod ops;
mod rows;

use futures_util::future::join_all;
use http::Request;
use ops::{Effect, Op};
use rows::{How, Row};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::*;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reliability.md");
const BEGIN: &str = "<!-- fault-matrix:begin -->";
const END: &str = "<!-- fault-matrix:end -->";

/// The example config with short deadlines and a small answer limit.
fn edit(text: String) -> String {
    let key = "headers = { \"X-Api-Key\" = \"${APP_API_KEY}\" }";
    assert!(text.contains(key));
    let host = format!(
        "{key}\ntimeout = \"{}\"\nmax_response_bytes = {}",
        rows::HOST_TIMEOUT,
        rows::MAX_RESPONSE_BYTES
    );
    text.replace(key, &host) + "\n[scim]\nrequest_timeout = \"10s\"\n"
}

/// What one cell observed.
struct Cell {
    text: String,
    problems: Vec<String>,
}

async fn run_case(row: &Row, op: Op) -> Cell {
    let (sc, app, proxy) = start_example_faulty(edit).await;
    let req = op.prepare(&sc).await;
    let (method, target) = op.target();
    match &row.how {
        How::Down => proxy.down().await,
        How::Once(f) => proxy.fail(method, target, 1, f.clone()),
        How::Every(n, f) => proxy.every(*n, None, f.clone()),
    }
    let mut problems = Vec::new();
    let started = Instant::now();
    let reply = call_with(&sc, req.method, &req.path, req.body.clone(), &[]).await;
    let took = started.elapsed();
    if took > row.max {
        problems.push(format!("answered after {took:?}, beyond {:?}", row.max));
    }
    if let Some(min) = row.min_success.filter(|_| reply.status.is_success())
        && took < min
    {
        problems.push(format!(
            "succeeded after {took:?}: Retry-After not honoured"
        ));
    }
    match &row.how {
        How::Once(_) if proxy.pending() > 0 => problems.push("the fault never fired".into()),
        How::Every(..) if !proxy.seen().iter().any(|s| s.status == Some(429)) => {
            problems.push("the fault never fired".into())
        }
        _ => {}
    }
    let effect = op.effect(&app);
    proxy.clear();
    if matches!(row.how, How::Down) {
        health(&sc, 503, 502, &mut problems).await;
        proxy.up().await;
    }
    health(&sc, 200, 200, &mut problems).await;
    let replay = call_with(&sc, req.method, &req.path, req.body.clone(), &[]).await;
    if op.writes() && op.effect(&app) != Effect::Applied {
        problems.push(format!("after the replay: {:?}", op.effect(&app)));
    }
    if !op.writes() && replay.status != 200 {
        problems.push(format!("the repeated read got {}", replay.status));
    }
    let text = describe(
        &reply,
        effect,
        op.writes().then_some(replay.status.as_u16()),
    );
    Cell { text, problems }
}

/// `/readyz` and pass-through answer as the app's state says.
async fn health(sc: &Sidecar, ready: u16, pass: u16, problems: &mut Vec<String>) {
    let c = client();
    let get = |url: String| Request::get(url).body(body("")).unwrap();
    let (r, _) = send(&c, get(format!("http://{}/readyz", sc.admin))).await;
    if r.status != ready {
        problems.push(format!(
            "/readyz answered {} (app state wants {ready})",
            r.status
        ));
    }
    let (p, _) = send(&c, get(sc.url("/"))).await;
    if p.status != pass {
        problems.push(format!(
            "pass-through answered {} (wanted {pass})",
            p.status
        ));
    }
}

/// `502`, `409 uniqueness`, `429 ra=1 · ⟳201`: status, scimType,
/// Retry-After, what the app was left with, the replay's status.
fn describe(r: &Reply, effect: Effect, replay: Option<u16>) -> String {
    let mut s = r.status.as_u16().to_string();
    if let Some(t) = r.body.get("scimType").and_then(|t| t.as_str()) {
        s.push(' ');
        s.push_str(t);
    }
    if let Some(ra) = r.headers.get("retry-after") {
        s.push_str(&format!(" ra={}", ra.to_str().unwrap_or("?")));
    }
    s.push_str(effect.mark());
    if let Some(replay) = replay {
        s.push_str(&format!(" ⟳{replay}"));
    }
    s
}

/// The table as published: one row per fault, one column per operation.
fn render(rows: &[Row], cells: &[Vec<String>]) -> String {
    let mut out = String::from("| fault |");
    for op in Op::ALL {
        out.push_str(&format!(" {} |", op.name()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Op::ALL.len()));
    for (row, cells) in rows.iter().zip(cells) {
        out.push_str(&format!("\n| {} |", row.name));
        for c in cells {
            out.push_str(&format!(" {c} |"));
        }
    }
    out.push('\n');
    out
}

/// The published table, between the markers of `docs/reliability.md`.
fn published() -> String {
    let doc = std::fs::read_to_string(DOC).unwrap_or_default();
    let start = doc.find(BEGIN).map(|i| i + BEGIN.len());
    let end = doc.find(END);
    match (start, end) {
        (Some(s), Some(e)) if s <= e => doc[s..e].trim().to_owned() + "\n",
        _ => String::new(),
    }
}

fn differences(published: &str, seen: &str) -> Vec<String> {
    let rows = |t: &str| -> Vec<Vec<String>> {
        t.lines()
            .map(|l| l.split('|').map(|c| c.trim().to_owned()).collect())
            .collect()
    };
    let (want, got) = (rows(published), rows(seen));
    let header = got.first().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for (i, g) in got.iter().enumerate().skip(2) {
        let w = want.get(i).cloned().unwrap_or_default();
        for (j, cell) in g.iter().enumerate().skip(2) {
            let expected = w.get(j).map(String::as_str).unwrap_or("(none)");
            if expected != cell && j + 1 < g.len() {
                out.push(format!(
                    "{} × {}: published `{expected}`, seen `{cell}`",
                    g[1], header[j]
                ));
            }
        }
    }
    if want.len() != got.len() {
        out.push(format!(
            "published {} lines, seen {}",
            want.len(),
            got.len()
        ));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_against_every_operation() {
    let _apart = crate::support::apart().await;
    let rows = rows::all();
    let gate = Arc::new(tokio::sync::Semaphore::new(8));
    let cases = rows.iter().flat_map(|row| {
        let gate = gate.clone();
        Op::ALL.into_iter().map(move |op| {
            let gate = gate.clone();
            async move {
                let _slot = gate.acquire().await.unwrap();
                let cell = tokio::time::timeout(Duration::from_secs(30), run_case(row, op))
                    .await
                    .unwrap_or_else(|_| Cell {
                        text: "hung".into(),
                        problems: vec!["no outcome within 30 s".into()],
                    });
                (row.name, op, cell)
            }
        })
    });
    let results = join_all(cases).await;
    let mut problems = Vec::new();
    let mut cells = vec![Vec::new(); rows.len()];
    for (i, (name, op, cell)) in results.into_iter().enumerate() {
        for p in &cell.problems {
            problems.push(format!("{name} × {}: {p}", op.name()));
        }
        cells[i / Op::ALL.len()].push(cell.text);
    }
    let seen = render(&rows, &cells);
    let diff = differences(&published(), &seen);
    assert!(
        problems.is_empty() && diff.is_empty(),
        "{}\n{}\n\nthe matrix as seen:\n\n{seen}",
        problems.join("\n"),
        diff.join("\n"),
    );
}
