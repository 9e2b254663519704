//! What makes a running sidecar reload, and what never does, on the real
//! server wired as the binary wires it (`serve_with_reload`, SIGHUP as its
//! `reload` channel) over real files: reads of the files prompt nothing; a
//! refused config is logged and counted once per content; a neighbour
//! written every 100 ms delays neither a file change nor SIGHUP; Kubernetes
//! volume updates (a `..data` symlink swap) are applied once each; and a
//! removed token is refused from the moment the reload is logged.

use crate::support;

mod harness;

use harness::*;
use http::StatusCode;
use std::time::Duration;
use support::{LogBuf, closed_port, metric, temp_dir};

const OLD: &str = "old-token-0123456789abcdefghijklmnopqrstuv";
const NEW: &str = "new-token-0123456789abcdefghijklmnopqrstuv";
const THIRD: &str = "third-token-0123456789abcdefghijklmnopqrstu";
const ACME_OLD: &str = "acme-old-token-0123456789abcdefghijklmnopq";
const ACME_NEW: &str = "acme-new-token-0123456789abcdefghijklmnopq";
const ROOT: &str = "/scim/v2";

/// How soon a change on disk must be in force.
const SOON: Duration = Duration::from_secs(1);

const RELOADED: &str = "config reloaded";
const REFUSED: &str = "config reload refused; the old config stays";
const UNCHANGED: &str = "config unchanged; nothing to reload";

/// Reads `paths` every 50 ms for a second, as `cat` in a loop would.
async fn cat_for_a_second(paths: &[&std::path::Path]) {
    for _ in 0..20 {
        for p in paths {
            std::fs::read(p).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn reading_the_files_prompts_no_reload_and_no_log_line() {
    let logs = LogBuf::default();
    let _g = logs.capture("scim_sidecar::reload=debug,scim_sidecar::state=debug");
    let dir = temp_dir("reload-reads");
    let (path, token) = (dir.join("config.toml"), dir.join("okta.token"));
    std::fs::write(&token, OLD).unwrap();
    let text = config(closed_port().await, r#"token_files = ["okta.token"]"#, "");
    std::fs::write(&path, text).unwrap();
    let spy = Spy::new(&dir);
    let r = Running::start(&path, &logs).await;
    // SIGHUP loads at once and says so: past this line the sidecar has
    // done everything it does at start.
    r.hup().await;
    r.wait_lines(UNCHANGED, 1).await;
    let (lines, stats) = (logs.json_lines().len(), r.stats());

    spy.mark();
    cat_for_a_second(&[&path, &token]).await;
    let ours = spy.mark();
    assert!(
        ours.len() <= 40,
        "the spy saw only the test's reads: {ours:?}"
    );
    // An observation window of several debounce periods, in which nobody
    // may open the files again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let theirs = spy.mark();
    assert!(
        !theirs.iter().any(|p| *p == path || *p == token),
        "the sidecar re-read its files after being read: {theirs:?}"
    );
    assert_eq!(r.stats(), stats);
    assert_eq!(logs.json_lines().len(), lines, "{:?}", r.all_lines());
    assert_eq!(r.status(ROOT, OLD).await, StatusCode::OK);
}

#[tokio::test]
async fn a_refused_config_is_logged_and_counted_once_per_content() {
    let logs = LogBuf::default();
    let _g = logs.capture("scim_sidecar::reload=debug");
    let dir = temp_dir("reload-refused");
    let path = dir.join("config.toml");
    let good = config(
        closed_port().await,
        &format!("tokens = [\"{}\"]", hash(OLD)),
        "",
    );
    std::fs::write(&path, &good).unwrap();
    let r = Running::start(&path, &logs).await;
    let rejected = |text: &str| {
        metric(
            text,
            "scim_sidecar_config_reloads_total{result=\"rejected\"}",
        )
    };
    assert_eq!(r.status(ROOT, OLD).await, StatusCode::OK);

    replace(
        &path,
        &good.replace("drain_timeout = \"5s\"", "drain_timeout = \"soon\""),
    );
    r.wait_lines(REFUSED, 1).await;
    // However long it stays and however often it is read.
    cat_for_a_second(&[&path]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(r.lines(REFUSED).len(), 1, "{:?}", r.all_lines());
    assert_eq!(r.stats().rejected, 1);
    assert_eq!(rejected(&r.metrics().await), Some(1.0));

    // Another invalid content is another refusal, logged once too.
    replace(
        &path,
        &good.replace("drain_timeout = \"5s\"", "drain_timeout = \"later\""),
    );
    r.wait_lines(REFUSED, 2).await;
    cat_for_a_second(&[&path]).await;
    assert_eq!(r.lines(REFUSED).len(), 2, "{:?}", r.all_lines());
    assert_eq!(r.stats().rejected, 2);

    // SIGHUP answers the operator again, without counting it twice.
    r.hup().await;
    r.wait_lines(REFUSED, 3).await;
    assert_eq!(r.lines(REFUSED)[2]["trigger"], "signal");
    assert_eq!(rejected(&r.metrics().await), Some(2.0));
    assert_eq!(
        r.status(ROOT, OLD).await,
        StatusCode::OK,
        "the old config stays"
    );

    // Back to the config in force: nothing to apply, and the log says the
    // refusal is over.
    replace(&path, &good);
    r.wait_lines("config files match the config in force again", 1)
        .await;
    assert_eq!(r.stats().applied, 0);

    // A new valid config: applied, not refused.
    replace(&path, &good.replace(&hash(OLD), &hash(NEW)));
    r.wait_status(ROOT, NEW, StatusCode::OK).await;
    assert_eq!(r.stats().applied, 1);
    assert_eq!(r.lines(REFUSED).len(), 3);
}

#[tokio::test]
async fn a_busy_neighbour_delays_no_token_removal() {
    let logs = LogBuf::default();
    let _g = logs.capture("scim_sidecar::reload=debug");
    let dir = temp_dir("reload-neighbour");
    let (path, token) = (dir.join("config.toml"), dir.join("okta.token"));
    std::fs::write(&token, OLD).unwrap();
    let text = config(closed_port().await, r#"token_files = ["okta.token"]"#, "");
    std::fs::write(&path, text).unwrap();
    let mut log_file = Neighbour::start(dir.join("sidecar.log"));
    let r = Running::start(&path, &logs).await;
    assert_eq!(r.status(ROOT, OLD).await, StatusCode::OK);
    log_file.wait_writes(5).await;

    replace(&token, NEW);
    let took = r.wait_status(ROOT, OLD, StatusCode::UNAUTHORIZED).await;
    println!("token removal refused after {took:?} with a busy neighbour");
    assert!(took < SOON, "the removed token was refused after {took:?}");
    assert_eq!(r.status(ROOT, NEW).await, StatusCode::OK);
    assert_eq!(r.lines(RELOADED)[0]["trigger"], "file");
}

#[tokio::test]
async fn kubernetes_volume_updates_are_applied_once_each() {
    let logs = LogBuf::default();
    let _g = logs.capture("scim_sidecar::reload=debug");
    let up = closed_port().await;
    let root = temp_dir("reload-volumes");
    let mut secret = Volume::new(root.join("tokens"), &[("okta", OLD)]);
    let acme = |token: &str| {
        format!(
            "[[connections]]\nid = \"acme\"\nidp = \"okta\"\nbase_path = \"/scim/v2/acme\"\ntokens = [\"{}\"]\n",
            hash(token)
        )
    };
    let mut conns = Volume::new(root.join("connections"), &[("acme.toml", &acme(ACME_OLD))]);
    let (okta, conns_dir) = (secret.path("okta"), conns.dir.clone());
    let main = |extra: &str| {
        config(
            up,
            &format!("token_files = [\"{}\"]\n{extra}", okta.display()),
            &format!("connections_from = \"{}\"", conns_dir.display()),
        )
    };
    let mut cfg = Volume::new(root.join("config"), &[("config.toml", &main(""))]);
    let r = Running::start(&cfg.path("config.toml"), &logs).await;
    let acme_base = "/scim/v2/acme";
    assert_eq!(r.status(ROOT, OLD).await, StatusCode::OK);
    assert_eq!(r.status(acme_base, ACME_OLD).await, StatusCode::OK);

    // The token Secret: rotated.
    secret.publish(&[("okta", NEW)]);
    let took = r.wait_status(ROOT, OLD, StatusCode::UNAUTHORIZED).await;
    println!("token Secret swap applied after {took:?}");
    assert!(took < SOON, "token file swap applied after {took:?}");
    assert_eq!(r.status(ROOT, NEW).await, StatusCode::OK);

    // The connections ConfigMap.
    conns.publish(&[("acme.toml", &acme(ACME_NEW))]);
    let took = r
        .wait_status(acme_base, ACME_OLD, StatusCode::UNAUTHORIZED)
        .await;
    println!("connections ConfigMap swap applied after {took:?}");
    assert!(took < SOON, "connection file swap applied after {took:?}");
    assert_eq!(r.status(acme_base, ACME_NEW).await, StatusCode::OK);

    // The config ConfigMap.
    let third = format!("tokens = [\"{}\"]", hash(THIRD));
    cfg.publish(&[("config.toml", &main(&third))]);
    let took = r.wait_status(ROOT, THIRD, StatusCode::OK).await;
    println!("config ConfigMap swap applied after {took:?}");
    assert!(took < SOON, "config swap applied after {took:?}");

    // Each update once: SIGHUP finds nothing left to do.
    r.hup().await;
    r.wait_lines(UNCHANGED, 1).await;
    assert_eq!(r.lines(RELOADED).len(), 3, "{:?}", r.all_lines());
    assert_eq!(r.stats().applied, 3);
    assert_eq!(r.stats().rejected, 0);
}

#[tokio::test]
async fn a_removed_token_is_never_accepted_once_the_reload_is_logged() {
    // At the very moment the line is written, a request with the old
    // token is made and must already be refused.
    let probe = LineProbe::new(RELOADED, OLD);
    let _g = probe.capture("scim_sidecar::reload=debug");
    let dir = temp_dir("reload-order");
    let (path, token) = (dir.join("config.toml"), dir.join("okta.token"));
    std::fs::write(&token, OLD).unwrap();
    let tokens = format!(
        "tokens = [\"{}\"]\ntoken_files = [\"okta.token\"]",
        hash(NEW)
    );
    std::fs::write(&path, config(closed_port().await, &tokens, "")).unwrap();
    let r = Running::start(&path, &probe.logs).await;
    probe.addr.set(r.addr).unwrap();
    assert_eq!(r.status(ROOT, OLD).await, StatusCode::OK);

    replace(&token, &hash(THIRD));
    // Clients polling with the old token: each looks at the log before
    // sending, and a request sent after the line was seen must fail.
    let r = &r;
    let client = move |_| async move {
        let (mut before, mut after) = (0, 0);
        let start = tokio::time::Instant::now();
        while after < 100 {
            let logged = !r.lines(RELOADED).is_empty();
            let status = r.status(ROOT, OLD).await;
            if logged {
                assert!(
                    !status.is_success(),
                    "{status} for a removed token after `{RELOADED}`"
                );
                after += 1;
            } else {
                before += 1;
            }
            assert!(
                start.elapsed() < harness::PATIENCE,
                "no reload: {:?}",
                r.all_lines()
            );
        }
        before
    };
    let before = futures_util::future::join_all((0..4).map(client)).await;
    println!("requests sent before the reload line: {before:?}");
    assert_eq!(
        *probe.statuses.lock().unwrap(),
        [401],
        "while the line was written"
    );
    assert_eq!(r.status(ROOT, NEW).await, StatusCode::OK);
    assert_eq!(r.stats().applied, 1);
}

#[tokio::test]
async fn sighup_applies_at_once_while_a_neighbour_is_busy() {
    let logs = LogBuf::default();
    let _g = logs.capture("scim_sidecar::reload=debug");
    let dir = temp_dir("reload-hup");
    let (path, token) = (dir.join("config.toml"), dir.join("okta.token"));
    std::fs::write(&token, OLD).unwrap();
    let text = config(closed_port().await, r#"token_files = ["okta.token"]"#, "");
    std::fs::write(&path, text).unwrap();
    // A second name for the token file, outside the watched directory: a
    // write through it reaches the file without an event the sidecar sees,
    // so only SIGHUP can notice it.
    let elsewhere = temp_dir("reload-hup-elsewhere");
    std::fs::hard_link(&token, elsewhere.join("okta.token")).unwrap();
    let mut log_file = Neighbour::start(dir.join("sidecar.log"));
    let r = Running::start(&path, &logs).await;
    assert_eq!(r.status(ROOT, OLD).await, StatusCode::OK);
    log_file.wait_writes(3).await;

    std::fs::write(elsewhere.join("okta.token"), NEW).unwrap();
    r.hup().await;
    let took = r.wait_status(ROOT, OLD, StatusCode::UNAUTHORIZED).await;
    println!("SIGHUP applied after {took:?} with a busy neighbour");
    assert!(took < SOON, "SIGHUP applied after {took:?}");
    assert_eq!(r.status(ROOT, NEW).await, StatusCode::OK);
    let reloaded = r.lines(RELOADED);
    assert_eq!(reloaded.len(), 1, "{:?}", r.all_lines());
    assert_eq!(reloaded[0]["trigger"], "signal");

    // Nothing changed: SIGHUP re-validates and says so.
    r.hup().await;
    r.wait_lines(UNCHANGED, 1).await;
    assert_eq!(r.stats().applied, 1);
}
