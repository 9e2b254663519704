//! Quickstart: starts the bundled example app and scim-sidecar in front of
//! it, configured by `config/example.toml`, and prints what to try,
//! including how to draft a config from the app's own OpenAPI document.
//!
//! ```text
//! cargo run --release --example quickstart
//! cargo run --release --example quickstart -- --port 18080 --app-port 13000 --admin-port 19090
//! ```
//!
//! A default port that is already taken is replaced by a free one.

#[path = "demo_app/mod.rs"]
mod demo_app;

use scim_sidecar::Config;
use scim_sidecar::telemetry::{self, LogFormat};
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// The bearer token whose hash `config/example.toml` holds. For local
/// testing only; generate your own with `scim-sidecar token`.
const DEMO_TOKEN: &str = "demo-token-for-local-testing-only-change-me";
/// The API key the example app expects from the sidecar.
const DEMO_API_KEY: &str = "demo-app-key";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _logs = telemetry::init(LogFormat::Text)?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = |flag: &str, default: u16| -> Result<(u16, bool), String> {
        match args.iter().position(|a| a == flag) {
            Some(i) => args
                .get(i + 1)
                .and_then(|p| p.parse().ok())
                .map(|p| (p, true))
                .ok_or_else(|| format!("{flag} needs a port number")),
            None => Ok((default, false)),
        }
    };
    let (app_port, app_fixed) = port("--app-port", 3000)?;
    let (sidecar_port, sidecar_fixed) = port("--port", 8080)?;
    let (admin_port, admin_fixed) = port("--admin-port", 9090)?;

    let config_path = concat!(env!("CARGO_MANIFEST_DIR"), "/config/example.toml");
    let text = std::fs::read_to_string(config_path)?;
    let env = |name: &str| match name {
        "APP_API_KEY" => Some(DEMO_API_KEY.to_string()),
        other => std::env::var(other).ok(),
    };
    let mut config = Config::from_toml(&text, &env).map_err(|e| e.render(config_path, &text))?;

    let app_listener = bind(app_port, app_fixed).await?;
    let app_addr = app_listener.local_addr()?;
    let app = demo_app::DemoApp::new(DEMO_API_KEY);
    app.seed();
    tokio::spawn(app.serve(app_listener, std::future::pending()));

    let authority: http::uri::Authority = app_addr.to_string().parse()?;
    config.upstream.authority = authority.clone();
    config.host.authority = authority;
    let public = bind(sidecar_port, sidecar_fixed).await?;
    let admin = bind(admin_port, admin_fixed).await?;
    let server =
        scim_sidecar::Server::with_listeners(scim_sidecar::State::new(config), public, admin)?;
    let addr = server.local_addr();
    let admin = server.admin_addr();
    print_banner(addr, admin, app_addr);
    server
        .serve(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

/// Binds `port`, or a free port when the default is taken.
async fn bind(port: u16, fixed: bool) -> std::io::Result<TcpListener> {
    match TcpListener::bind(("127.0.0.1", port)).await {
        Ok(l) => Ok(l),
        Err(e) if fixed => Err(e),
        Err(_) => TcpListener::bind(("127.0.0.1", 0)).await,
    }
}

fn print_banner(addr: SocketAddr, admin: SocketAddr, app: SocketAddr) {
    let base = format!("http://{addr}/scim/v2");
    println!();
    println!("example app (direct):     http://{app}/");
    println!("example app via sidecar:  http://{addr}/");
    println!("SCIM base URL:            {base}");
    println!("bearer token:             {DEMO_TOKEN}");
    println!("admin:                    http://{admin}/readyz");
    println!("metrics:                  http://{admin}/metrics");
    println!();
    println!("try:");
    println!("curl -s http://{addr}/api/status");
    println!("curl -s -H 'Authorization: Bearer {DEMO_TOKEN}' '{base}/Users?startIndex=1&count=2'");
    println!(
        "curl -s -H 'Authorization: Bearer {DEMO_TOKEN}' '{base}/Users?filter=userName%20eq%20%22ada.lovelace@example.com%22'"
    );
    println!(
        "curl -s -H 'Authorization: Bearer {DEMO_TOKEN}' -H 'Content-Type: application/scim+json' -d '{{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"new.user@example.com\",\"name\":{{\"givenName\":\"New\",\"familyName\":\"User\"}},\"emails\":[{{\"type\":\"work\",\"value\":\"new.user@example.com\",\"primary\":true}}],\"active\":true}}' {base}/Users"
    );
    println!("curl -s -H 'Authorization: Bearer {DEMO_TOKEN}' {base}/ServiceProviderConfig");
    println!("curl -s http://{admin}/metrics | grep scim_requests_total");
    println!();
    println!("draft a config from the app's own OpenAPI document (compare config/example.toml):");
    println!(
        "cargo run -- draft --openapi http://{app}/openapi.json --app-url http://{app} --out draft.toml"
    );
    println!(
        "APP_API_KEY={DEMO_API_KEY} SCIM_TOKEN_SHA256=$(cargo run -q -- token | sed -n 's/^config: //p') cargo run -- check --config draft.toml"
    );
    println!();
    println!("Ctrl-C stops both.");
}
