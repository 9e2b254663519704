//! A model of what the kubelet does with a pod whose sidecars are native
//! (init containers with `restartPolicy: Always`, KEP-753; Kubernetes
//! 1.29+), read from a Deployment manifest and played against a
//! [`Runtime`] that runs the containers:
//!
//! - sidecars start first, in order; the next container starts only once a
//!   sidecar's startup probe has passed (at once when it has none);
//! - a probe worker runs at the container's start and every
//!   `periodSeconds` after it, skipping the runs before
//!   `initialDelaySeconds` and, for readiness and liveness, those before
//!   the startup probe passed; a run fails on an HTTP status outside
//!   200-399, a refused connection or no answer within `timeoutSeconds`;
//!   `successThreshold` consecutive successes make the result a success,
//!   `failureThreshold` consecutive failures a failure (defaults 0, 10, 1,
//!   1, 3: the Kubernetes API's);
//! - a failed startup or liveness probe restarts the container; here it
//!   ends the run with a [`Failure`] (a sidecar whose startup probe fails
//!   while the app waits for it is restarted for ever: a deadlock);
//! - on termination the app containers run their `preStop` hooks and get
//!   SIGTERM, and once they have exited the sidecars get SIGTERM in
//!   reverse order, all within one `terminationGracePeriodSeconds`.
//!
//! Time is scaled: one manifest second lasts [`Kubelet::second`].

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// One `httpGet` probe, with the API's defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub path: String,
    /// The container port, names resolved.
    pub port: u16,
    pub initial_delay: u32,
    pub period: u32,
    pub timeout: u32,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

/// One container as the kubelet sees it.
#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub startup: Option<Probe>,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    /// `lifecycle.preStop.sleep.seconds`.
    pub pre_stop: u32,
}

/// The pod template's containers and grace period.
#[derive(Debug, Clone)]
pub struct Pod {
    /// Native sidecars, in start order.
    pub sidecars: Vec<Container>,
    /// The app containers.
    pub containers: Vec<Container>,
    pub grace: u32,
}

fn seconds(v: &Value, key: &str, default: u32) -> Result<u32, String> {
    match v.get(key) {
        None => Ok(default),
        Some(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("{key}: not a number of seconds: {n}")),
    }
}

impl Probe {
    fn read(v: &Value, ports: &BTreeMap<String, u16>, kind: &str) -> Result<Self, String> {
        let get = v
            .get("httpGet")
            .ok_or_else(|| format!("{kind}: only httpGet probes are modelled"))?;
        let port = match &get["port"] {
            Value::String(name) => *ports
                .get(name)
                .ok_or_else(|| format!("{kind}: no container port named {name}"))?,
            n => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| format!("{kind}: bad port {n}"))?,
        };
        let probe = Self {
            path: get["path"].as_str().unwrap_or("/").to_string(),
            port,
            initial_delay: seconds(v, "initialDelaySeconds", 0)?,
            period: seconds(v, "periodSeconds", 10)?,
            timeout: seconds(v, "timeoutSeconds", 1)?,
            success_threshold: seconds(v, "successThreshold", 1)?,
            failure_threshold: seconds(v, "failureThreshold", 3)?,
        };
        // The API server refuses these (a startup or liveness probe's
        // successThreshold must be 1).
        if probe.period == 0 || probe.timeout == 0 || probe.failure_threshold == 0 {
            return Err(format!(
                "{kind}: periods, timeouts and thresholds are at least 1"
            ));
        }
        if kind != "readinessProbe" && probe.success_threshold != 1 {
            return Err(format!("{kind}: successThreshold must be 1"));
        }
        Ok(probe)
    }
}

impl Container {
    fn read(v: &Value) -> Result<Self, String> {
        let name = v["name"].as_str().ok_or("a container without a name")?;
        let ports: BTreeMap<String, u16> = v["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let port = u16::try_from(p["containerPort"].as_u64()?).ok()?;
                Some((p["name"].as_str()?.to_string(), port))
            })
            .collect();
        let probe = |kind: &str| {
            v.get(kind)
                .map(|p| Probe::read(p, &ports, kind).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        Ok(Self {
            name: name.to_string(),
            startup: probe("startupProbe")?,
            readiness: probe("readinessProbe")?,
            liveness: probe("livenessProbe")?,
            pre_stop: seconds(&v["lifecycle"]["preStop"]["sleep"], "seconds", 0)?,
        })
    }
}

impl Pod {
    /// The pod template of a Deployment.
    pub fn from_deployment(d: &Value) -> Result<Self, String> {
        let spec = &d["spec"]["template"]["spec"];
        let mut sidecars = Vec::new();
        for c in spec["initContainers"].as_array().into_iter().flatten() {
            if c["restartPolicy"] != "Always" {
                return Err(format!("{}: only native sidecars are modelled", c["name"]));
            }
            sidecars.push(Container::read(c)?);
        }
        let containers = spec["containers"]
            .as_array()
            .ok_or("no containers")?
            .iter()
            .map(Container::read)
            .collect::<Result<_, _>>()?;
        Ok(Self {
            sidecars,
            containers,
            grace: seconds(spec, "terminationGracePeriodSeconds", 30)?,
        })
    }
}

/// Runs the containers the kubelet asks for.
pub trait Runtime {
    /// Starts `container`; resolves once its process runs (not when it is
    /// listening: probes find that out).
    fn start(&mut self, container: &str) -> impl Future<Output = ()>;
    /// One HTTP GET of `path` on the container's `port`: the status, or
    /// why there was none. The kubelet bounds it by the probe's timeout.
    fn get(
        &mut self,
        container: &str,
        port: u16,
        path: &str,
    ) -> impl Future<Output = Result<u16, String>>;
    /// Called once when the pod is first ready (to send it traffic).
    fn serving(&mut self) -> impl Future<Output = ()>;
    /// SIGTERM; resolves with the exit code once the process exits. The
    /// kubelet bounds the wait by the grace period left.
    fn stop(&mut self, container: &str) -> impl Future<Output = i32>;
}

/// What happened, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Started(String),
    StartupPassed(String),
    Ready,
    PreStopDone(String),
    Exited(String, i32),
}

/// Why the pod did not start, serve and stop as it should.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// A startup probe failed: the container is restarted; `waiting` are
    /// the containers not started yet because of it.
    StartupFailed {
        container: String,
        path: String,
        attempts: u32,
        last: String,
        waiting: Vec<String>,
    },
    /// A liveness probe failed: the container is restarted.
    LivenessFailed {
        container: String,
        path: String,
        last: String,
    },
    /// Not ready within the time its readiness probes allow.
    NeverReady { container: String, last: String },
    /// Still running when the grace period ran out: killed.
    Killed { container: String },
}

impl Failure {
    /// A sidecar restarted for ever because what its startup probe waits
    /// for comes only after it.
    pub fn is_deadlock(&self) -> bool {
        matches!(self, Self::StartupFailed { waiting, .. } if !waiting.is_empty())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StartupFailed {
                container,
                path,
                attempts,
                last,
                waiting,
            } => {
                write!(
                    f,
                    "{container}: startup probe {path} failed {attempts} times (last: {last}); restarted"
                )?;
                if !waiting.is_empty() {
                    write!(f, " while {waiting:?} wait for it to pass: deadlock")?;
                }
                Ok(())
            }
            Self::LivenessFailed {
                container,
                path,
                last,
            } => write!(
                f,
                "{container}: liveness probe {path} failed ({last}); restarted"
            ),
            Self::NeverReady { container, last } => write!(f, "{container} never ready ({last})"),
            Self::Killed { container } => write!(f, "{container} killed at the grace period's end"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Startup,
    Readiness,
    Liveness,
}

/// One probe worker (kubelet's prober worker).
struct Worker {
    container: String,
    kind: Kind,
    probe: Probe,
    /// The container's start, which the ticks count from.
    started: Instant,
    next: Instant,
    successes: u32,
    failures: u32,
    attempts: u32,
    result: Option<bool>,
    last: String,
    /// A startup probe that has passed runs no more.
    retired: bool,
}

/// The kubelet for one pod.
pub struct Kubelet<R> {
    pub pod: Pod,
    pub runtime: R,
    /// How long one manifest second lasts.
    pub second: Duration,
    workers: Vec<Worker>,
    /// Containers whose startup probe passed (or that have none).
    started: Vec<String>,
    epoch: Instant,
    /// What happened, with when.
    pub events: Vec<(Duration, Event)>,
    /// Liveness probe runs, all containers.
    pub liveness_runs: u32,
}

impl<R: Runtime> Kubelet<R> {
    pub fn new(pod: Pod, runtime: R, second: Duration) -> Self {
        Self {
            pod,
            runtime,
            second,
            workers: Vec::new(),
            started: Vec::new(),
            epoch: Instant::now(),
            events: Vec::new(),
            liveness_runs: 0,
        }
    }

    fn secs(&self, n: u32) -> Duration {
        self.second * n
    }

    fn event(&mut self, e: Event) {
        self.events.push((self.epoch.elapsed(), e));
    }

    /// Starts the pod, keeps it serving for `serve` manifest seconds once
    /// ready, then terminates it.
    pub async fn run(&mut self, serve: u32) -> Result<(), Failure> {
        self.epoch = Instant::now();
        for c in self.pod.sidecars.clone() {
            self.start(&c).await?;
        }
        for c in self.pod.containers.clone() {
            self.start(&c).await?;
        }
        self.until_ready().await?;
        self.event(Event::Ready);
        self.runtime.serving().await;
        self.probe_until(Instant::now() + self.secs(serve), |_| false)
            .await?;
        self.terminate().await
    }

    /// Starts one container and, when it has a startup probe, probes until
    /// it passes (the kubelet starts nothing else meanwhile).
    async fn start(&mut self, c: &Container) -> Result<(), Failure> {
        self.runtime.start(&c.name).await;
        self.event(Event::Started(c.name.clone()));
        let now = Instant::now();
        let worker = |kind, probe: &Probe| Worker {
            container: c.name.clone(),
            kind,
            probe: probe.clone(),
            started: now,
            next: now,
            successes: 0,
            failures: 0,
            attempts: 0,
            result: None,
            last: "not run".into(),
            retired: false,
        };
        let kinds = [
            (Kind::Startup, &c.startup),
            (Kind::Readiness, &c.readiness),
            (Kind::Liveness, &c.liveness),
        ];
        for (kind, probe) in kinds {
            if let Some(p) = probe {
                self.workers.push(worker(kind, p));
            }
        }
        if c.startup.is_some() {
            // Ends at the failure threshold at the latest.
            self.probe_until(Instant::now() + Duration::from_secs(86_400), |k| {
                k.started.contains(&c.name)
            })
            .await?;
        } else {
            self.started.push(c.name.clone());
        }
        self.event(Event::StartupPassed(c.name.clone()));
        Ok(())
    }

    fn ready(&self) -> bool {
        let mut all = self.pod.sidecars.iter().chain(&self.pod.containers);
        all.all(|c| self.started.contains(&c.name))
            && self
                .workers
                .iter()
                .filter(|w| w.kind == Kind::Readiness)
                .all(|w| w.result == Some(true))
    }

    /// Probes until every container is ready, within what the readiness
    /// probes allow: their initial delay and enough periods to fail and
    /// then succeed.
    async fn until_ready(&mut self) -> Result<(), Failure> {
        let allowance = self
            .workers
            .iter()
            .filter(|w| w.kind == Kind::Readiness)
            .map(|w| {
                let p = &w.probe;
                p.initial_delay + (p.failure_threshold + p.success_threshold + 1) * p.period
            })
            .max()
            .unwrap_or(0);
        let deadline = Instant::now() + self.secs(allowance);
        if self.probe_until(deadline, Self::ready).await? {
            return Ok(());
        }
        let w = self
            .workers
            .iter()
            .find(|w| w.kind == Kind::Readiness && w.result != Some(true));
        Err(Failure::NeverReady {
            container: w.map_or_else(String::new, |w| w.container.clone()),
            last: w.map_or_else(String::new, |w| w.last.clone()),
        })
    }

    /// Runs the workers as their ticks come until `done` holds (`true`)
    /// or `deadline` passes (`false`).
    async fn probe_until(
        &mut self,
        deadline: Instant,
        done: impl Fn(&Self) -> bool,
    ) -> Result<bool, Failure> {
        loop {
            if done(self) {
                return Ok(true);
            }
            let live = (0..self.workers.len()).filter(|&i| !self.workers[i].retired);
            let Some(i) = live.min_by_key(|&i| self.workers[i].next) else {
                tokio::time::sleep_until(deadline).await;
                return Ok(done(self));
            };
            let due = self.workers[i].next;
            if due > deadline {
                tokio::time::sleep_until(deadline).await;
                return Ok(done(self));
            }
            tokio::time::sleep_until(due).await;
            self.tick(i).await?;
        }
    }

    /// One tick of worker `i`: a probe run unless skipped, then the next
    /// tick (ticks a slow run overlapped are dropped, as a Go ticker does).
    async fn tick(&mut self, i: usize) -> Result<(), Failure> {
        let period = self.secs(self.workers[i].probe.period);
        let w = &self.workers[i];
        let skip = w.started.elapsed() < self.secs(w.probe.initial_delay)
            || (w.kind != Kind::Startup && !self.started.contains(&w.container));
        if !skip {
            self.run_probe(i).await?;
        }
        let now = Instant::now();
        let w = &mut self.workers[i];
        while w.next <= now {
            w.next += period;
        }
        Ok(())
    }

    async fn run_probe(&mut self, i: usize) -> Result<(), Failure> {
        let (container, probe) = (
            self.workers[i].container.clone(),
            self.workers[i].probe.clone(),
        );
        let timeout = self.secs(probe.timeout);
        let answer = tokio::time::timeout(
            timeout,
            self.runtime.get(&container, probe.port, &probe.path),
        )
        .await;
        let (ok, last) = match answer {
            Ok(Ok(status)) => ((200..400).contains(&status), format!("HTTP {status}")),
            Ok(Err(e)) => (false, e),
            Err(_) => (false, format!("no answer within {}s", probe.timeout)),
        };
        let w = &mut self.workers[i];
        w.attempts += 1;
        w.last = last;
        if ok {
            w.failures = 0;
            w.successes += 1;
            if w.successes >= probe.success_threshold {
                w.result = Some(true);
            }
        } else {
            w.successes = 0;
            w.failures += 1;
            if w.failures >= probe.failure_threshold {
                w.result = Some(false);
            }
        }
        if w.kind == Kind::Liveness {
            self.liveness_runs += 1;
        }
        self.settle(i)
    }

    /// What a worker's result does to its container.
    fn settle(&mut self, i: usize) -> Result<(), Failure> {
        let w = &self.workers[i];
        match (w.kind, w.result) {
            (Kind::Startup, Some(true)) => {
                self.started.push(w.container.clone());
                self.workers[i].retired = true;
                Ok(())
            }
            (Kind::Startup, Some(false)) => Err(Failure::StartupFailed {
                container: w.container.clone(),
                path: w.probe.path.clone(),
                attempts: w.attempts,
                last: w.last.clone(),
                waiting: self.not_started(),
            }),
            (Kind::Liveness, Some(false)) => Err(Failure::LivenessFailed {
                container: w.container.clone(),
                path: w.probe.path.clone(),
                last: w.last.clone(),
            }),
            _ => Ok(()),
        }
    }

    fn not_started(&self) -> Vec<String> {
        let started = |n: &String| {
            let e = Event::Started(n.clone());
            self.events.iter().any(|(_, seen)| *seen == e)
        };
        self.pod
            .sidecars
            .iter()
            .chain(&self.pod.containers)
            .map(|c| c.name.clone())
            .filter(|n| !started(n))
            .collect()
    }

    /// Pod deletion: the app containers' preStop hooks (probes go on
    /// meanwhile), SIGTERM to them, then to the sidecars in reverse order,
    /// all within the grace period.
    async fn terminate(&mut self) -> Result<(), Failure> {
        let end = Instant::now() + self.secs(self.pod.grace);
        let apps = self.pod.containers.clone();
        let pre_stop = apps.iter().map(|c| c.pre_stop).max().unwrap_or(0);
        let hooks_done = (Instant::now() + self.secs(pre_stop)).min(end);
        self.probe_until(hooks_done, |_| false).await?;
        for c in &apps {
            self.event(Event::PreStopDone(c.name.clone()));
        }
        self.workers.clear();
        for c in apps.iter().chain(self.pod.sidecars.clone().iter().rev()) {
            let code = tokio::time::timeout_at(end, self.runtime.stop(&c.name))
                .await
                .map_err(|_| Failure::Killed {
                    container: c.name.clone(),
                })?;
            self.event(Event::Exited(c.name.clone(), code));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "kubelet_tests.rs"]
mod tests;
