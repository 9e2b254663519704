//! A sidecar bound and ready to serve ([`Server`]): both listeners bound,
//! the TLS certificate loaded, and on [`Server::serve`] the admin port
//! started, webhook delivery started, the public listener served until
//! shutdown, queued webhook events flushed within the drain deadline, and
//! the admin port closed last. Public connections run on the worker
//! runtimes given by [`Server::spread_over`], or on the serving runtime.

use super::state::State;
use crate::http::accept::Spread;
use crate::http::server::{self, ServeError};
use crate::http::tls::CertStore;
use crate::http::{Sidecar, admin};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Longest wait for queued webhook events on shutdown.
const WEBHOOK_FLUSH: Duration = Duration::from_secs(10);

/// A bound, not yet serving sidecar.
pub struct Server {
    state: Arc<State>,
    public: TcpListener,
    admin: TcpListener,
    certs: Option<Arc<CertStore>>,
    spread: Spread,
}

impl Server {
    /// Binds both listeners (with port 0 the OS picks free ports) and loads
    /// the TLS certificate when `[server.tls]` is set.
    pub async fn bind(state: State) -> Result<Self, ServeError> {
        let bind = |addr: SocketAddr| async move {
            TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Bind { addr, source })
        };
        let server = state.server();
        let public = bind(server.listen).await?;
        let admin = bind(server.admin_listen).await?;
        Self::with_listeners(state, public, admin)
    }

    /// Uses listeners bound by the caller (the config's addresses are then
    /// only defaults for reporting).
    pub fn with_listeners(
        state: State,
        public: TcpListener,
        admin: TcpListener,
    ) -> Result<Self, ServeError> {
        let certs = match &state.runtime().config.server.tls {
            Some(tls) => Some(CertStore::load(tls, state.crypto.clone())?),
            None => None,
        };
        Ok(Self {
            state: Arc::new(state),
            public,
            admin,
            certs,
            spread: Spread::default(),
        })
    }

    /// Serves public connections on the runtimes of `spread` (see
    /// [`Spread`]) instead of the runtime that calls [`Server::serve`].
    #[must_use]
    pub fn spread_over(mut self, spread: Spread) -> Self {
        self.spread = spread;
        self
    }

    /// The shared state (for reloads).
    pub fn state(&self) -> Arc<State> {
        self.state.clone()
    }

    /// The certificate store, when TLS is on (for reloads).
    pub fn certs(&self) -> Option<Arc<CertStore>> {
        self.certs.clone()
    }

    /// The bound public address.
    pub fn local_addr(&self) -> SocketAddr {
        self.public
            .local_addr()
            .unwrap_or(self.state.runtime().config.server.listen)
    }

    /// The bound admin address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .unwrap_or(self.state.runtime().config.server.admin_listen)
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let public_addr = self.local_addr();
        let admin_addr = self.admin_addr();
        let (stop_admin, admin_stopped) = oneshot::channel::<()>();
        let started = Arc::new(AtomicBool::new(false));
        let admin = tokio::spawn(admin::serve(
            self.admin,
            self.state.clone(),
            started.clone(),
            async move {
                let _ = admin_stopped.await;
            },
        ));
        tracing::info!(public = %public_addr, admin = %admin_addr, tls = self.certs.is_some(), workers = self.spread.len(), "scim-sidecar listening");
        self.state.audit.webhooks().start();
        let acceptor = self.certs.as_ref().map(CertStore::acceptor);
        // The accept loop starts right below: from here on, /startupz passes.
        started.store(true, Ordering::Release);
        server::serve(
            self.public,
            self.state.clone(),
            acceptor,
            self.spread.clone(),
            shutdown,
        )
        .await;
        let drain = self.state.server().drain_timeout;
        self.state
            .audit
            .webhooks()
            .shutdown(drain.min(WEBHOOK_FLUSH))
            .await;
        let _ = stop_admin.send(());
        let _ = admin.await;
        Ok(())
    }
}
