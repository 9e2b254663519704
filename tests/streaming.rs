//! Large bodies stream through the proxy both ways in bounded memory: the
//! process's peak resident set may not grow by anything near the body size.
//! This file holds one test and is a test binary of its own (not a module
//! of `tests/it`) so that nothing else shares its process; it borrows the
//! shared test support of `tests/it/support`.

#[path = "it/support/mod.rs"]
mod support;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use support::*;

const MIB: u64 = 1024 * 1024;
const TOTAL: u64 = 1024 * MIB;
const CHUNK: usize = 256 * 1024;

/// Peak resident set size of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// A lazily generated body of `total` bytes.
fn generated(total: u64) -> scim_sidecar::body::Body {
    let chunk = Bytes::from(vec![0x5au8; CHUNK]);
    let stream = futures_util::stream::unfold(0u64, move |sent| {
        let chunk = chunk.clone();
        async move {
            (sent < total).then(|| {
                let n = (total - sent).min(CHUNK as u64) as usize;
                (
                    Ok::<_, hyper::Error>(Frame::data(chunk.slice(..n))),
                    sent + n as u64,
                )
            })
        }
    });
    BodyExt::boxed(StreamBody::new(stream))
}

/// Counts the bytes of a body without keeping them.
async fn count(mut b: Incoming) -> u64 {
    let mut n = 0;
    while let Some(frame) = b.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            n += data.len() as u64;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_gib_up_and_down_in_bounded_memory() {
    let up = upstream(|req: Request<Incoming>| async move {
        if req.uri().path() == "/upload" {
            let n = count(req.into_body()).await;
            Response::new(body(n.to_string()))
        } else {
            Response::new(generated(TOTAL))
        }
    })
    .await;
    let sc = start(load(&config_text(up, ""))).await;
    let c = client();
    let before = peak_rss();

    let req = Request::post(sc.url("/upload"))
        .body(generated(TOTAL))
        .unwrap();
    let (parts, bytes) = send(&c, req).await;
    assert_eq!(parts.status, StatusCode::OK);
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        TOTAL.to_string(),
        "upload arrived whole"
    );

    let resp = c
        .request(Request::get(sc.url("/download")).body(body("")).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        count(resp.into_body()).await,
        TOTAL,
        "download arrived whole"
    );

    let growth = peak_rss().saturating_sub(before);
    assert!(
        growth < 64 * MIB,
        "peak RSS grew by {} MiB while streaming 1 GiB each way",
        growth / MIB
    );
}
