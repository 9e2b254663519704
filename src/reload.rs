//! Hot reload: the config file and every file it refers to (connection
//! files, token files, the CA file) and the TLS certificate pair are
//! re-read when their directories change and when the operator asks (the
//! binary forwards SIGHUP). Directories are watched, not files: Kubernetes
//! ConfigMap and Secret volumes update by swapping a `..data` symlink,
//! which file watches miss. Events are debounced; a new config is loaded
//! and compiled on a blocking thread, off the request path, and swapped in
//! atomically only when valid — an invalid one is logged with every error
//! and the old one stays. Unchanged sources (same fingerprint) are skipped.

use crate::config::{Config, LoadError};
use crate::http::tls::CertStore;
use crate::state::State;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Quiet time after a file event before reloading: editors and volume
/// updates touch several files in a burst.
const DEBOUNCE: Duration = Duration::from_millis(250);

/// A running reloader; dropping it stops watching.
pub struct Reloader {
    trigger: mpsc::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Reloader {
    /// Watches `path` (the config file), its sources and the certificate
    /// files; the watches are in place when this returns.
    pub fn spawn(path: PathBuf, state: Arc<State>, certs: Option<Arc<CertStore>>) -> Self {
        let (trigger, rx) = mpsc::channel(1);
        let events = trigger.clone();
        let mut watcher =
            match notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
                if r.is_ok() {
                    let _ = events.try_send(());
                }
            }) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch files; reload on SIGHUP only");
                    None
                }
            };
        let mut watched = BTreeSet::new();
        let sources = state.runtime().config.sources.clone();
        rewatch(
            &mut watcher,
            &mut watched,
            &path,
            &sources,
            certs.as_deref(),
        );
        let task = tokio::spawn(run(path, state, certs, rx, (watcher, watched)));
        Self { trigger, task }
    }

    /// Asks for a reload now (what SIGHUP does).
    pub fn trigger(&self) {
        let _ = self.trigger.try_send(());
    }

    /// A handle that asks for reloads.
    pub fn trigger_handle(&self) -> mpsc::Sender<()> {
        self.trigger.clone()
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The watcher and the directories it watches.
type Watches = (Option<RecommendedWatcher>, BTreeSet<PathBuf>);

async fn run(
    path: PathBuf,
    state: Arc<State>,
    certs: Option<Arc<CertStore>>,
    mut rx: mpsc::Receiver<()>,
    (mut watcher, mut watched): Watches,
) {
    while rx.recv().await.is_some() {
        // Debounce: wait for a quiet period, swallowing further events.
        while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
        if let Some(c) = &certs {
            reload_certs(&state, c);
        }
        let (p, st) = (path.clone(), state.clone());
        let sources = tokio::task::spawn_blocking(move || reload_config(&p, &st))
            .await
            .unwrap_or_default();
        if let Some(sources) = sources {
            rewatch(
                &mut watcher,
                &mut watched,
                &path,
                &sources,
                certs.as_deref(),
            );
        }
    }
}

/// Loads the config; on success swaps it in and returns its sources.
fn reload_config(path: &Path, state: &State) -> Option<Vec<PathBuf>> {
    let current = state.runtime();
    match Config::from_file(path) {
        Ok(config) if config.fingerprint == current.config.fingerprint => None,
        Ok(config) => {
            let sources = config.sources.clone();
            state.apply(config);
            tracing::info!(config = %path.display(), "config reloaded");
            Some(sources)
        }
        Err(LoadError::Read { path, source }) => {
            state.reject_reload();
            tracing::error!(config = %path, error = %source, "config reload failed; the old config stays");
            None
        }
        Err(LoadError::Invalid { rendered, errors }) => {
            state.reject_reload();
            tracing::error!(
                config = %path.display(),
                errors = errors.0.len(),
                details = %rendered,
                "config reload refused; the old config stays"
            );
            None
        }
    }
}

fn reload_certs(state: &State, certs: &CertStore) {
    match certs.reload() {
        Ok(false) => {}
        Ok(true) => {
            state.record_cert_reload(true);
            tracing::info!("TLS certificate reloaded");
        }
        Err(e) => {
            state.record_cert_reload(false);
            tracing::error!(error = %e, "TLS certificate reload refused; the old certificate stays");
        }
    }
}

/// Watches the directories of the config, its sources and the
/// certificate pair (a source that is a directory is watched itself).
fn rewatch(
    watcher: &mut Option<RecommendedWatcher>,
    watched: &mut BTreeSet<PathBuf>,
    config: &Path,
    sources: &[PathBuf],
    certs: Option<&CertStore>,
) {
    let Some(w) = watcher else { return };
    let files = std::iter::once(config.to_path_buf())
        .chain(sources.iter().cloned())
        .chain(certs.map(CertStore::watched).unwrap_or_default());
    let wanted: BTreeSet<PathBuf> = files
        .filter_map(|p| {
            if p.is_dir() {
                Some(p)
            } else {
                p.parent().map(|d| {
                    if d.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        d.to_path_buf()
                    }
                })
            }
        })
        .collect();
    for gone in watched.difference(&wanted) {
        let _ = w.unwatch(gone);
    }
    for dir in wanted.difference(watched) {
        if let Err(e) = w.watch(dir, RecursiveMode::NonRecursive) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch directory");
        }
    }
    *watched = wanted;
}
