//! The example pod's life with the real binary: the [`kubelet`] model
//! reads `deployment.yaml` and runs `scim-sidecar` with the manifest's
//! args, its env (Secret references resolved) and its mounted ConfigMap
//! and Secrets (written to a temporary directory, the config's paths
//! pointed there), on 127.0.0.1 port 0 in place of the pod's ports; the
//! app container is an in-test app on a loopback port, started only when
//! the kubelet starts it. Probes hit the binary's admin port over TCP.
//! Time is scaled down; the binary's own deadlines are not.

use super::kubelet::{Event, Failure, Kubelet, Pod, Runtime};
use super::{K8S, deployment, k8s_config, resolved_env, sidecar_container, yaml_docs};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;

/// Pod containers for the kubelet: the real sidecar and an in-test app.
struct Pods {
    dir: PathBuf,
    /// The manifest's container ports of the sidecar's listeners.
    http_port: u16,
    admin_port: u16,
    /// Where the app listens (the config's upstream points here).
    app_addr: SocketAddr,
    /// The app's port, bound without listening until the app starts: a
    /// connection is refused as in a pod whose app has not started, and no
    /// other listener of the test run (nor the sidecar's own port 0) can
    /// take the port meanwhile and answer the sidecar's health check.
    app_port: Option<TcpSocket>,
    sidecar: Option<Child>,
    /// The sidecar's public and admin addresses, once it logs them.
    listening: Arc<Mutex<Option<(SocketAddr, SocketAddr)>>>,
    /// The sidecar's log lines (for failure messages).
    log: Arc<Mutex<Vec<String>>>,
    app: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
    /// A keep-alive connection through the sidecar, held open while it drains.
    client: Option<TcpStream>,
}

impl Pods {
    async fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("scim-sidecar-pod-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (config, _) = k8s_config();
        let app_port = TcpSocket::new_v4().unwrap();
        app_port.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let app_addr = app_port.local_addr().unwrap();
        Self {
            dir,
            http_port: config.server.listen.port(),
            admin_port: config.server.admin_listen.port(),
            app_addr,
            app_port: Some(app_port),
            sidecar: None,
            listening: Arc::default(),
            log: Arc::default(),
            app: None,
            client: None,
        }
    }

    /// The sidecar's volumes written under the temporary directory; the
    /// pairs (mount path, where it is here).
    fn volumes(&self) -> Vec<(String, PathBuf)> {
        let d = deployment();
        let volumes = d["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
        let secrets = yaml_docs(&format!("{K8S}/secret.yaml"));
        let configmaps = yaml_docs(&format!("{K8S}/configmap.yaml"));
        let mut out = Vec::new();
        for m in sidecar_container(&d)["volumeMounts"].as_array().unwrap() {
            let volume = volumes.iter().find(|v| v["name"] == m["name"]).unwrap();
            let (docs, name, key) = match volume["secret"]["secretName"].as_str() {
                Some(name) => (&secrets, name, "stringData"),
                None => (
                    &configmaps,
                    volume["configMap"]["name"].as_str().unwrap(),
                    "data",
                ),
            };
            let here = self.dir.join(m["name"].as_str().unwrap());
            std::fs::create_dir_all(&here).unwrap();
            // An optional Secret that does not exist mounts as empty.
            if let Some(doc) = docs.iter().find(|d| d["metadata"]["name"] == name) {
                for (file, value) in doc[key].as_object().unwrap() {
                    std::fs::write(here.join(file), value.as_str().unwrap()).unwrap();
                }
            }
            out.push((m["mountPath"].as_str().unwrap().to_string(), here));
        }
        out
    }

    fn spawn_sidecar(&mut self) {
        let d = deployment();
        let container = sidecar_container(&d);
        let (config, _) = k8s_config();
        let mounts = self.volumes();
        let here = |path: &str| {
            mounts.iter().fold(path.to_string(), |p, (mount, dir)| {
                p.replace(&format!("{mount}/"), &format!("{}/", dir.display()))
            })
        };
        let mut env = resolved_env(container);
        for v in env.values_mut() {
            *v = here(v);
        }
        // The config as mounted, with loopback ports and paths of this test.
        let file = PathBuf::from(&env["SCIM_SIDECAR_CONFIG"]);
        let text = std::fs::read_to_string(&file).unwrap();
        let text = here(&text)
            .replace(&format!("\"{}\"", config.server.listen), "\"127.0.0.1:0\"")
            .replace(
                &format!("\"{}\"", config.server.admin_listen),
                "\"127.0.0.1:0\"",
            )
            .replace(
                config.upstream.authority.as_str(),
                &self.app_addr.to_string(),
            );
        std::fs::write(&file, text).unwrap();
        let args: Vec<&str> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
            .args(args)
            .env_clear()
            .envs(&env)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn scim-sidecar");
        let stderr = child.stderr.take().unwrap();
        let (listening, log) = (self.listening.clone(), self.log.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let v: Value = serde_json::from_str(&line).unwrap_or_default();
                if v["message"] == "scim-sidecar listening" {
                    let addr = |k: &str| v[k].as_str().and_then(|a| a.parse().ok());
                    if let (Some(p), Some(a)) = (addr("public"), addr("admin")) {
                        *listening.lock().unwrap() = Some((p, a));
                    }
                }
                log.lock().unwrap().push(line);
            }
        });
        self.sidecar = Some(child);
    }

    /// The address serving the sidecar's container `port`, once it listens.
    fn sidecar_addr(&self, port: u16) -> Result<SocketAddr, String> {
        let (public, admin) =
            (*self.listening.lock().unwrap()).ok_or("connection refused: not listening yet")?;
        match port {
            p if p == self.http_port => Ok(public),
            p if p == self.admin_port => Ok(admin),
            p => Err(format!("connection refused: nothing on port {p}")),
        }
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

/// An app that answers every request 200 and closes; stops on `stop`.
async fn app(listener: TcpListener, stop: oneshot::Receiver<()>) {
    let serve = async {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer =
                    "HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nup\n";
                let _ = s.write_all(answer.as_bytes()).await;
            });
        }
    };
    tokio::select! {
        () = serve => {}
        _ = stop => {}
    }
}

/// One GET on a new connection; the status.
async fn get(addr: SocketAddr, path: &str) -> Result<u16, String> {
    let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    status(&answer)
}

fn status(answer: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(answer);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {text:?}"))
}

impl Runtime for Pods {
    async fn start(&mut self, container: &str) {
        if container == "scim-sidecar" {
            self.spawn_sidecar();
        } else {
            let port = self.app_port.take().expect("the app starts once");
            let listener = port.listen(1024).unwrap();
            let (stop, stopped) = oneshot::channel();
            self.app = Some((stop, tokio::spawn(app(listener, stopped))));
        }
    }

    async fn get(&mut self, container: &str, port: u16, path: &str) -> Result<u16, String> {
        assert_eq!(container, "scim-sidecar", "the app has no probes");
        get(self.sidecar_addr(port)?, path).await
    }

    /// Traffic through the sidecar's public port reaches the app; the
    /// connection is kept open (idle) for the drain.
    async fn serving(&mut self) {
        let addr = self.sidecar_addr(self.http_port).unwrap();
        let mut s = TcpStream::connect(addr).await.unwrap();
        let head = "GET /api/status HTTP/1.1\r\nHost: app.example.com\r\n\r\n";
        s.write_all(head.as_bytes()).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = s.read(&mut buf).await.unwrap();
        assert_eq!(
            status(&buf[..n]),
            Ok(200),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        self.client = Some(s);
    }

    async fn stop(&mut self, container: &str) -> i32 {
        if container != "scim-sidecar" {
            let (stop, task) = self.app.take().unwrap();
            let _ = stop.send(());
            task.await.unwrap();
            return 0;
        }
        let child = self.sidecar.as_mut().unwrap();
        // Only this test's own child, by its id.
        let term = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(term.success());
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Pods {
    fn drop(&mut self) {
        if let Some(child) = &mut self.sidecar {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One manifest second in these runs.
const SECOND: Duration = Duration::from_millis(200);

#[tokio::test]
async fn the_example_pod_starts_serves_and_stops_with_the_real_binary() {
    let pod = Pod::from_deployment(&deployment()).unwrap();
    let liveness_period = pod.sidecars[0].liveness.as_ref().unwrap().period;
    let mut k = Kubelet::new(pod, Pods::new().await, SECOND);
    if let Err(f) = k.run(2 * liveness_period + 1).await {
        panic!(
            "{f}\n{:?}\nsidecar log:\n{}",
            k.events,
            k.runtime.log_text()
        );
    }
    let events: Vec<&Event> = k.events.iter().map(|(_, e)| e).collect();
    let sidecar = "scim-sidecar".to_string();
    let app = "app".to_string();
    assert_eq!(
        events,
        [
            &Event::Started(sidecar.clone()),
            &Event::StartupPassed(sidecar.clone()),
            &Event::Started(app.clone()),
            &Event::StartupPassed(app.clone()),
            &Event::Ready,
            &Event::PreStopDone(app.clone()),
            &Event::Exited(app, 0),
            &Event::Exited(sidecar, 0),
        ],
        "{}",
        k.runtime.log_text()
    );
    assert!(
        k.liveness_runs >= 2,
        "liveness ran {} times",
        k.liveness_runs
    );
    // It drained: the idle keep-alive connection did not hold it for the
    // config's drain_timeout.
    let log = k.runtime.log_text();
    assert!(log.contains("all connections closed"), "{log}");
}

/// The shape the example once had, with the real binary: a startup probe
/// on `/readyz`, which fails while the app is not started, and the app is
/// not started until it passes.
#[tokio::test]
async fn a_startup_probe_on_readyz_deadlocks_with_the_real_binary() {
    let mut d = deployment();
    let probe = &mut d["spec"]["template"]["spec"]["initContainers"][0]["startupProbe"];
    probe["httpGet"]["path"] = "/readyz".into();
    probe["periodSeconds"] = 2.into();
    probe["failureThreshold"] = 30.into();
    let pod = Pod::from_deployment(&d).unwrap();
    // Faster still: only failures are expected.
    let mut k = Kubelet::new(pod, Pods::new().await, Duration::from_millis(20));
    let Err(failure) = k.run(0).await else {
        panic!(
            "the pod started: {:?}\nsidecar log:\n{}",
            k.events,
            k.runtime.log_text()
        );
    };
    assert!(failure.is_deadlock(), "{failure}");
    let Failure::StartupFailed { attempts, .. } = failure else {
        unreachable!()
    };
    assert_eq!(attempts, 30);
    assert!(k.runtime.app.is_none(), "the app was started");
}
