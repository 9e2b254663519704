//! The kubelet model against a model of the sidecar's admin endpoints:
//! the example starts in order and stops in order; a startup probe that
//! waits for the app deadlocks; liveness thresholds count consecutive
//! failures.

use super::*;
use std::collections::BTreeSet;

/// The sidecar's admin endpoints as documented: `/livez` and
/// `/startupz` once its process runs, `/readyz` once the app runs too.
#[derive(Default)]
struct Model {
    running: BTreeSet<String>,
}

impl Runtime for Model {
    async fn start(&mut self, container: &str) {
        self.running.insert(container.to_string());
    }

    async fn get(&mut self, container: &str, _port: u16, path: &str) -> Result<u16, String> {
        if !self.running.contains(container) {
            return Err("connection refused".into());
        }
        Ok(match path {
            "/livez" | "/startupz" => 200,
            "/readyz" if self.running.contains("app") => 200,
            "/readyz" => 503,
            _ => 404,
        })
    }

    async fn serving(&mut self) {}

    async fn stop(&mut self, container: &str) -> i32 {
        self.running.remove(container);
        0
    }
}

/// One manifest second: 2 ms. The model answers at once.
const SECOND: Duration = Duration::from_millis(2);

fn example() -> Value {
    super::super::deployment()
}

fn sidecar_mut(d: &mut Value) -> &mut Value {
    &mut d["spec"]["template"]["spec"]["initContainers"][0]
}

#[tokio::test]
async fn the_example_starts_the_app_after_the_sidecar_and_stops_it_first() {
    let pod = Pod::from_deployment(&example()).unwrap();
    let mut k = Kubelet::new(pod, Model::default(), SECOND);
    k.run(30).await.unwrap_or_else(|f| panic!("{f}"));
    let order: Vec<&Event> = k.events.iter().map(|(_, e)| e).collect();
    let at = |e: Event| order.iter().position(|o| **o == e).unwrap();
    let (sidecar, app) = ("scim-sidecar".to_string(), "app".to_string());
    assert!(at(Event::StartupPassed(sidecar.clone())) < at(Event::Started(app.clone())));
    assert!(at(Event::Started(app.clone())) < at(Event::Ready));
    assert!(at(Event::PreStopDone(app.clone())) < at(Event::Exited(app.clone(), 0)));
    assert!(at(Event::Exited(app, 0)) < at(Event::Exited(sidecar, 0)));
    assert!(k.liveness_runs >= 2, "{}", k.liveness_runs);
}

/// The shape the example once had: the startup probe on `/readyz`,
/// which waits for the app, which waits for the startup probe.
#[tokio::test]
async fn a_startup_probe_that_waits_for_the_app_is_a_deadlock() {
    let mut d = example();
    let probe = &mut sidecar_mut(&mut d)["startupProbe"];
    probe["httpGet"]["path"] = "/readyz".into();
    probe["periodSeconds"] = 2.into();
    probe["failureThreshold"] = 30.into();
    let pod = Pod::from_deployment(&d).unwrap();
    let mut k = Kubelet::new(pod, Model::default(), SECOND);
    let failure = k.run(30).await.expect_err("the pod started");
    assert!(failure.is_deadlock(), "{failure}");
    assert_eq!(
        failure,
        Failure::StartupFailed {
            container: "scim-sidecar".into(),
            path: "/readyz".into(),
            attempts: 30,
            last: "HTTP 503".into(),
            waiting: vec!["app".into()],
        }
    );
}

/// A liveness probe on an endpoint that follows the app restarts the
/// sidecar when the app is down; the thresholds count consecutive
/// failures only.
#[tokio::test]
async fn a_liveness_probe_fails_only_after_its_threshold() {
    let mut d = example();
    sidecar_mut(&mut d)["livenessProbe"]["httpGet"]["path"] = "/metrics".into();
    let pod = Pod::from_deployment(&d).unwrap();
    let mut k = Kubelet::new(pod, Model::default(), SECOND);
    let failure = k.run(30).await.expect_err("a 404 liveness probe passed");
    assert_eq!(
        failure,
        Failure::LivenessFailed {
            container: "scim-sidecar".into(),
            path: "/metrics".into(),
            last: "HTTP 404".into(),
        }
    );
    assert_eq!(k.liveness_runs, 3, "failureThreshold 3");
}
