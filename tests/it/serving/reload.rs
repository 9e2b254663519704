//! Hot reload: a changed config file is compiled off the request path and
//! swapped in; an invalid one is refused and the old one keeps serving;
//! connection files and token files (Secret mounts) are reloaded like the
//! config, so tenants are added and tokens rotated without a restart.

use crate::support;

use http::{Request, StatusCode};
use scim_sidecar::runtime::Reloader;
use std::path::Path;
use support::*;

const OLD: &str = "old-token-0123456789abcdefghijklmnopqrstuv";
const NEW: &str = "new-token-0123456789abcdefghijklmnopqrstuv";

fn hash(t: &str) -> String {
    scim_sidecar::auth::token_hash_string(t)
}

async fn status(sc: &Sidecar, path: &str, token: &str) -> StatusCode {
    let req = Request::get(sc.url(path))
        .header("authorization", format!("Bearer {token}"))
        .body(body(""))
        .unwrap();
    send(&client(), req).await.0.status
}

/// Starts a sidecar from `path` with a reloader watching it.
async fn start_file(path: &Path) -> (Sidecar, Reloader, std::sync::Arc<scim_sidecar::State>) {
    let config = scim_sidecar::Config::from_file(path).unwrap_or_else(|e| panic!("{e}"));
    let server = scim_sidecar::Server::bind(scim_sidecar::State::new(config))
        .await
        .unwrap();
    let certs = server.certs();
    let (sc, state) = start_server(server).await;
    let reloader = Reloader::spawn(path.to_path_buf(), state.clone(), certs);
    (sc, reloader, state)
}

fn with_token(up: std::net::SocketAddr, token: &str) -> String {
    config_text(up, "").replace(&hash(TOKEN), &hash(token))
}

/// Replaces a file atomically, as editors and volume updates do.
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test]
async fn a_valid_config_is_swapped_in_and_an_invalid_one_refused() {
    let up = closed_port().await;
    let dir = temp_dir("reload");
    let path = dir.join("sidecar.toml");
    std::fs::write(&path, with_token(up, OLD)).unwrap();
    let (sc, reloader, state) = start_file(&path).await;
    let mut reloads = state.reloads();
    let spc = "/scim/v2/ServiceProviderConfig";
    assert_eq!(status(&sc, spc, OLD).await, StatusCode::OK);

    replace(&path, &with_token(up, NEW));
    reloaded(&mut reloads, |s| s.applied == 1).await;
    assert_eq!(status(&sc, spc, NEW).await, StatusCode::OK);
    assert_eq!(status(&sc, spc, OLD).await, StatusCode::UNAUTHORIZED);

    let broken = with_token(up, OLD).replace("drain_timeout = \"5s\"", "drain_timeout = \"soon\"");
    replace(&path, &broken);
    reloaded(&mut reloads, |s| s.rejected == 1).await;
    assert_eq!(
        status(&sc, spc, NEW).await,
        StatusCode::OK,
        "the old config stays"
    );
    assert_eq!(status(&sc, spc, OLD).await, StatusCode::UNAUTHORIZED);

    // A change made while nothing watched is taken on the operator's
    // explicit request (what SIGHUP does in the binary).
    drop(reloader);
    replace(&path, &with_token(up, OLD));
    let reloader = Reloader::spawn(path.clone(), state.clone(), None);
    reloader.trigger();
    reloaded(&mut reloads, |s| s.applied == 2).await;
    assert_eq!(status(&sc, spc, OLD).await, StatusCode::OK);
    assert_eq!(reloads.borrow().rejected, 1);
}

#[tokio::test]
async fn connection_and_token_files_are_reloaded() {
    let up = closed_port().await;
    let dir = temp_dir("reload-conns");
    std::fs::create_dir(dir.join("conns.d")).unwrap();
    std::fs::create_dir(dir.join("secrets")).unwrap();
    // The main file's own connection stays; tenants come from conns.d.
    let text = config_text(up, "").replace(
        "[upstream]",
        "[scim]\nconnections_from = \"conns.d\"\n\n[upstream]",
    );
    std::fs::write(dir.join("sidecar.toml"), &text).unwrap();
    let tenant = |id: &str| {
        format!(
            "[[connections]]\nid = \"{id}\"\nidp = \"okta\"\nbase_path = \"/scim/v2/{id}\"\ntoken_files = [\"secrets/{id}\"]\n"
        )
    };
    std::fs::write(dir.join("conns.d/acme.toml"), tenant("acme")).unwrap();
    std::fs::write(dir.join("secrets/acme"), format!("{OLD}\n")).unwrap();
    let (sc, _reloader, state) = start_file(&dir.join("sidecar.toml")).await;
    let mut reloads = state.reloads();
    let acme = "/scim/v2/acme/ServiceProviderConfig";
    assert_eq!(status(&sc, acme, OLD).await, StatusCode::OK);

    // Rotation: the Secret's token changes; the new one works, the old not.
    replace(&dir.join("secrets/acme"), NEW);
    reloaded(&mut reloads, |s| s.applied == 1).await;
    assert_eq!(status(&sc, acme, NEW).await, StatusCode::OK);
    assert_eq!(status(&sc, acme, OLD).await, StatusCode::UNAUTHORIZED);

    // A new tenant file, with its token as a hash.
    std::fs::write(dir.join("secrets/globex"), hash(OLD)).unwrap();
    replace(&dir.join("conns.d/globex.toml"), &tenant("globex"));
    reloaded(&mut reloads, |s| s.applied >= 2).await;
    let globex = "/scim/v2/globex/ServiceProviderConfig";
    // Both files may land in one reload or two; wait for the token's.
    while status(&sc, globex, OLD).await != StatusCode::OK {
        reloaded(&mut reloads, |s| s.applied >= 3).await;
    }
    assert_eq!(status(&sc, globex, NEW).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        status(&sc, "/scim/v2/ServiceProviderConfig", TOKEN).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn connection_file_errors_name_their_file_line_and_column() {
    let up = closed_port().await;
    let dir = temp_dir("conn-errors");
    std::fs::create_dir(dir.join("conns.d")).unwrap();
    let text = config_text(up, "").replace(
        "[upstream]",
        "[scim]\nconnections_from = \"conns.d\"\n\n[upstream]",
    );
    std::fs::write(dir.join("sidecar.toml"), &text).unwrap();
    std::fs::write(
        dir.join("conns.d/bad.toml"),
        "[[connections]]\nid = \"bad id\"\ntokens = [\"sha256:00\"]\n",
    )
    .unwrap();
    let err = scim_sidecar::Config::from_file(&dir.join("sidecar.toml")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("bad.toml:2:6: `connections[0].id`"), "{text}");
    assert!(
        text.contains("bad.toml:3:11: `connections[0].tokens[0]`"),
        "{text}"
    );
}
