//! HTTP/1.1 protocol upgrades (WebSocket and others, RFC 9110 §7.8) through
//! the proxy: once the app answers `101 Switching Protocols`, both upgraded
//! connections are joined and bytes are copied both ways until either side
//! closes.

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

/// Joins the client's and the app's upgraded connections in a background task.
pub fn relay(client: OnUpgrade, app: OnUpgrade) {
    tokio::spawn(async move {
        let (client, app) = match tokio::try_join!(client, app) {
            Ok(pair) => pair,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade did not complete");
                return;
            }
        };
        let mut client = TokioIo::new(client);
        let mut app = TokioIo::new(app);
        match tokio::io::copy_bidirectional(&mut client, &mut app).await {
            Ok((up, down)) => tracing::debug!(
                bytes_to_app = up,
                bytes_to_client = down,
                "upgraded connection closed"
            ),
            Err(e) => tracing::debug!(error = %e, "upgraded connection ended with an error"),
        }
    });
}
