//! Whether the app is ready for SCIM work, as the admin port's `/readyz`
//! reports it: reachable — a TCP connect, or a GET of `[upstream]
//! health_path` that answers below 500 — and, with `[host] ready_read`,
//! answering one authenticated read of its user list, so credentials the
//! app no longer accepts show as not ready.

use super::{App, HostCtx};
use crate::body::empty;
use crate::mapping::{OpKind, Vars};
use crate::upstream::send;
use http::{Request, Uri};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

/// Ready: the app is reachable and, with `ready_read`, answers an
/// authenticated read; `Err` says why not.
pub async fn ready(app: App<'_>) -> Result<(), String> {
    reachable(app).await?;
    if app.config.host.ready_read {
        authenticated_read(app).await?;
    }
    Ok(())
}

/// One page of one user through the mapping's list call, with the host
/// credentials: an app that refuses them (401, 403) or fails is not ready.
async fn authenticated_read(app: App<'_>) -> Result<(), String> {
    let config = app.config;
    let (Some(mapping), Some(conn)) = (&config.users, config.connections.first()) else {
        return Ok(());
    };
    let host = HostCtx {
        app,
        mapping,
        conn,
        deadline: Instant::now() + Duration::from_secs(5),
        calls: None,
    };
    let first = mapping.plan_pages(1, 1);
    let page = first.first();
    let vars = Vars {
        offset: page.and_then(|p| p.offset),
        limit: Some(1),
        page: page.and_then(|p| p.page),
        ..host.vars()
    };
    match host.read(OpKind::List, &vars).await {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("the app's list answered {}", e.status.as_u16())),
    }
}

/// Reachability: a TCP connect to the app, or a GET of its health path
/// that answers below 500.
async fn reachable(app: App<'_>) -> Result<(), String> {
    let up = &app.config.upstream;
    let deadline = up.connect_timeout.min(Duration::from_secs(2));
    match &up.health_path {
        None => {
            let addr = up.authority.as_str().to_string();
            match timeout(deadline, TcpStream::connect(addr)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("connect timed out".into()),
            }
        }
        Some(path) => {
            let uri = Uri::builder()
                .scheme(up.scheme.clone())
                .authority(up.authority.clone())
                .path_and_query(path.as_str())
                .build()
                .map_err(|e| e.to_string())?;
            let req = Request::get(uri).body(empty()).map_err(|e| e.to_string())?;
            let resp = send(app.client, req, deadline.max(Duration::from_secs(2)))
                .await
                .map_err(|e| e.to_string())?;
            if resp.status().is_server_error() {
                Err(format!("health path answered {}", resp.status()))
            } else {
                Ok(())
            }
        }
    }
}
