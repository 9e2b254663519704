//! One look at the files: whether their bytes changed since the last
//! load, and if so the load itself — swapped in when valid, refused when
//! not — and the same for the TLS certificate pair. Content decides, not
//! events: the files are read again and hashed, and nothing is parsed,
//! logged or counted while the hash is the one already seen. A refused
//! config is logged and counted once per distinct content; SIGHUP always
//! loads and always logs its outcome. Runs on a blocking thread.

use crate::config::files;
use crate::config::{Config, LoadError};
use crate::http::tls::CertStore;
use crate::runtime::state::State;
use std::path::PathBuf;
use std::sync::Arc;

/// The log target of reload lines: stable, whichever file writes them,
/// for `RUST_LOG` filters such as `info,scim_sidecar::reload=debug`.
pub const RELOAD_LOG: &str = "scim_sidecar::reload";

/// What prompted a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A file event (after its debounce).
    File,
    /// The periodic check (and the first look at start).
    Poll,
    /// The operator (SIGHUP): load even when nothing changed.
    Signal,
}

impl Trigger {
    /// The `trigger` field of reload log lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Poll => "poll",
            Self::Signal => "signal",
        }
    }
}

/// What the last look saw.
pub struct Checker {
    path: PathBuf,
    state: Arc<State>,
    certs: Option<Arc<CertStore>>,
    /// Fingerprint of what the last load read, applied or refused.
    seen: [u8; 32],
    /// The files and directories that load looked up.
    sources: Vec<PathBuf>,
    /// Whether that load was refused.
    refused: bool,
    /// Fingerprint of the certificate pair as last read (none before the
    /// first look).
    cert_seen: Option<[u8; 32]>,
}

impl Checker {
    /// Starts from the config in force.
    pub fn new(path: PathBuf, state: Arc<State>, certs: Option<Arc<CertStore>>) -> Self {
        let rt = state.runtime();
        Self {
            path,
            seen: rt.config.fingerprint,
            sources: rt.config.sources.clone(),
            refused: false,
            state,
            certs,
            cert_seen: None,
        }
    }

    /// Every file the config depends on: itself, what it looked up, and
    /// the certificate pair.
    pub fn watched(&self) -> Vec<PathBuf> {
        std::iter::once(self.path.clone())
            .chain(self.sources.iter().cloned())
            .chain(
                self.certs
                    .as_deref()
                    .map(CertStore::watched)
                    .unwrap_or_default(),
            )
            .collect()
    }

    /// Looks at the certificate pair and the config.
    pub fn look(&mut self, trigger: Trigger) {
        self.look_certs(trigger);
        self.look_config(trigger);
    }

    fn look_config(&mut self, trigger: Trigger) {
        let forced = trigger == Trigger::Signal;
        if !forced && Config::fingerprint_files(&self.path, &self.sources) == self.seen {
            return;
        }
        let attempt = Config::attempt_file(&self.path);
        let new = attempt.fingerprint != self.seen;
        self.seen = attempt.fingerprint;
        self.sources = attempt.sources;
        let was_refused = std::mem::replace(&mut self.refused, attempt.result.is_err());
        let config = match attempt.result {
            Ok(config) => config,
            Err(e) => {
                if new {
                    self.state.reject_reload();
                }
                if new || forced {
                    log_refusal(&self.path, &e, trigger);
                }
                return;
            }
        };
        let shown = self.path.display();
        if config.fingerprint == self.state.runtime().config.fingerprint {
            if forced {
                tracing::info!(target: RELOAD_LOG, config = %shown, trigger = trigger.as_str(), "config unchanged; nothing to reload");
            } else if was_refused {
                tracing::info!(target: RELOAD_LOG, config = %shown, trigger = trigger.as_str(), "config files match the config in force again");
            }
            return;
        }
        // In force first, then said: once this line is written, every
        // request authenticates against the new tokens.
        self.state.apply(config);
        tracing::info!(target: RELOAD_LOG, config = %shown, trigger = trigger.as_str(), "config reloaded");
    }

    fn look_certs(&mut self, trigger: Trigger) {
        let Some(certs) = &self.certs else { return };
        let reads: Vec<_> = certs
            .watched()
            .into_iter()
            .map(|p| files::whole_file(&p, &std::fs::read(&p)))
            .collect();
        let digest = Some(files::fingerprint(&reads));
        let forced = trigger == Trigger::Signal;
        let new = digest != self.cert_seen;
        if !new && !forced {
            return;
        }
        self.cert_seen = digest;
        match certs.reload() {
            Ok(false) => {}
            Ok(true) => {
                self.state.record_cert_reload(true);
                tracing::info!(target: RELOAD_LOG, trigger = trigger.as_str(), "TLS certificate reloaded");
            }
            Err(e) => {
                if new {
                    self.state.record_cert_reload(false);
                }
                tracing::error!(target: RELOAD_LOG, error = %e, trigger = trigger.as_str(), "TLS certificate reload refused; the old certificate stays");
            }
        }
    }
}

fn log_refusal(path: &std::path::Path, e: &LoadError, trigger: Trigger) {
    match e {
        LoadError::Read { path, source } => {
            tracing::error!(target: RELOAD_LOG, config = %path, error = %source, trigger = trigger.as_str(), "config reload failed; the old config stays");
        }
        LoadError::Invalid { rendered, errors } => {
            tracing::error!(target: RELOAD_LOG,
                config = %path.display(),
                errors = errors.0.len(),
                details = %rendered,
                trigger = trigger.as_str(),
                "config reload refused; the old config stays"
            );
        }
    }
}
