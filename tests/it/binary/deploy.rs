//! The shipping files agree with each other and with the code: the
//! Dockerfile copies only what exists and what `.dockerignore` lets
//! through, builds and runs the real binary, exposes the ports of the
//! example configs and sets env variables the CLI reads; the Kubernetes
//! example's ConfigMap loads with `Config::from_toml_with` (its `${…}`
//! values taken from the Secret through the container's env, the files it
//! names read from the volumes mounted at their paths), and its ports,
//! probes, mounts, drain and hardening match that config. The pod's life
//! (start order, probes, termination) is played by a model of the
//! kubelet's rules ([`kubelet`]) with the real binary ([`lifecycle`]).
//! The overlay of three replicas sharing a Redis builds on the base and
//! agrees with it ([`replicas`]).

mod kubelet;
mod lifecycle;
mod replicas;

use scim_sidecar::Config;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

// ------------------------------------------------------------ Dockerfile

/// Dockerfile instructions with continuation lines joined.
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('#') || (t.is_empty() && current.is_empty()) {
            continue;
        }
        match t.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(t);
                let (op, args) = current.split_once(' ').unwrap_or((&current, ""));
                out.push((op.to_ascii_uppercase(), args.trim().to_string()));
                current.clear();
            }
        }
    }
    out
}

/// Whether `.dockerignore` lets `path` into the build context (patterns
/// in order, the last match wins, `!` re-includes).
fn in_context(ignore: &str, path: &str) -> bool {
    let mut included = true;
    for p in ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (negate, pat) = match p.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        let pat = pat.trim_end_matches('/');
        let matches = pat == "*" || path == pat || path.starts_with(&format!("{pat}/"));
        if matches {
            included = negate;
        }
    }
    included
}

fn port_of(addr: &SocketAddr) -> u16 {
    addr.port()
}

fn example_config() -> Config {
    let env = |name: &str| (name == "APP_API_KEY").then(|| "k".to_string());
    Config::from_toml(&read("config/example.toml"), &env).expect("config/example.toml loads")
}

#[test]
fn dockerfile_copies_existing_files_and_runs_the_real_binary() {
    let docker = read("Dockerfile");
    let ignore = read(".dockerignore");
    let ins = instructions(&docker);
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let bin = manifest["bin"][0]["name"].as_str().unwrap();

    // Every COPY from the build context names something that exists and
    // that .dockerignore lets through; everything cargo needs is copied.
    let mut copied = BTreeSet::new();
    for (_, args) in ins.iter().filter(|(op, _)| op == "COPY") {
        if args.starts_with("--from") {
            continue;
        }
        let parts: Vec<&str> = args.split_whitespace().collect();
        for src in &parts[..parts.len() - 1] {
            assert!(root().join(src).exists(), "COPY {src}: no such path");
            assert!(
                in_context(&ignore, src),
                "COPY {src}: excluded by .dockerignore"
            );
            copied.insert(src.to_string());
        }
    }
    for needed in ["Cargo.toml", "Cargo.lock", "build.rs", "src", "benches"] {
        assert!(copied.contains(needed), "{needed} is not copied");
    }
    // The build script reads the commit from a build argument (the context
    // has no .git), declared after the dependency layer so that a new
    // commit does not rebuild the dependencies.
    let arg = ins
        .iter()
        .position(|(op, a)| op == "ARG" && a.starts_with("SCIM_SIDECAR_GIT_COMMIT"))
        .expect("ARG SCIM_SIDECAR_GIT_COMMIT");
    let builds: Vec<usize> = ins
        .iter()
        .enumerate()
        .filter(|(_, (op, a))| op == "RUN" && a.contains("cargo build"))
        .map(|(i, _)| i)
        .collect();
    assert!(builds[0] < arg && arg < builds[1], "{builds:?} {arg}");
    assert!(read("build.rs").contains("SCIM_SIDECAR_GIT_COMMIT"));
    // Bench targets named in Cargo.toml must exist for cargo to build.
    for b in manifest["bench"].as_array().unwrap() {
        let name = b["name"].as_str().unwrap();
        assert!(root().join(format!("benches/{name}.rs")).exists());
    }
    assert!(!in_context(&ignore, "target"));
    assert!(!in_context(&ignore, ".git"));

    // The build and the entrypoint are the real binary, built locked and
    // in release.
    let runs: Vec<&String> = ins
        .iter()
        .filter(|(op, _)| op == "RUN")
        .map(|(_, a)| a)
        .collect();
    assert!(
        runs.iter()
            .any(|r| r.contains(&format!("cargo build --release --locked --bin {bin}"))),
        "{runs:?}"
    );
    let entry = ins.iter().find(|(op, _)| op == "ENTRYPOINT").unwrap();
    assert_eq!(entry.1, format!("[\"/usr/local/bin/{bin}\"]"));
    assert!(
        runs.iter()
            .any(|r| r.contains(&format!("target/release/{bin} /out/usr/local/bin/")))
    );
    let profile = &manifest["profile"]["release"];
    assert_eq!(profile["strip"].as_bool(), Some(true));
    assert!(profile["lto"].as_str().is_some_and(|l| l != "off"));

    // A non-root runtime; the ports of the example config are exposed.
    let froms: Vec<&String> = ins
        .iter()
        .filter(|(op, _)| op == "FROM")
        .map(|(_, a)| a)
        .collect();
    assert!(froms.last().unwrap().contains(":nonroot"), "{froms:?}");
    let exposed: BTreeSet<u16> = ins
        .iter()
        .filter(|(op, _)| op == "EXPOSE")
        .flat_map(|(_, a)| a.split_whitespace().map(|p| p.parse::<u16>().unwrap()))
        .collect();
    let example = example_config();
    let expected: BTreeSet<u16> = [
        port_of(&example.server.listen),
        port_of(&example.server.admin_listen),
    ]
    .into();
    assert_eq!(exposed, expected);
    let (k8s, _) = k8s_config();
    assert_eq!(
        exposed,
        [
            port_of(&k8s.server.listen),
            port_of(&k8s.server.admin_listen)
        ]
        .into()
    );
}

/// The runtime image provides glibc (libc, libm, the loader) and the
/// Dockerfile adds libgcc_s; the binary must need nothing else (an OpenSSL
/// or libstdc++ dependency would fail at start in the image).
#[test]
fn the_binary_needs_only_what_the_runtime_image_has() {
    let docker = read("Dockerfile");
    let out = std::process::Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_scim-sidecar"))
        .output()
        .expect("ldd runs");
    let libs = String::from_utf8_lossy(&out.stdout);
    let glibc = [
        "linux-vdso",
        "libc.so",
        "libm.so",
        "ld-linux",
        "libpthread",
        "libdl",
    ];
    for lib in libs.lines().filter_map(|l| l.split_whitespace().next()) {
        let provided = glibc.iter().any(|g| lib.contains(g))
            || docker.contains(&format!("-print-file-name={lib}"));
        assert!(provided, "{lib} is not in the runtime image:\n{libs}");
    }
}

/// The image's user, `uid:gid`, both numeric: with `runAsNonRoot` the
/// kubelet refuses an image whose user is a name ("image has non-numeric
/// user, cannot verify user is non-root"; hadolint DL3066).
fn image_user() -> (u64, u64) {
    let ins = instructions(&read("Dockerfile"));
    let users: Vec<&String> = ins
        .iter()
        .filter(|(op, _)| op == "USER")
        .map(|(_, a)| a)
        .collect();
    let last = users.last().expect("the Dockerfile sets a USER");
    let (uid, gid) = last.split_once(':').unwrap_or((last, last));
    let number = |s: &str| {
        s.parse::<u64>()
            .unwrap_or_else(|_| panic!("USER {last}: not numeric"))
    };
    (number(uid), number(gid))
}

#[test]
fn the_image_user_is_numeric_non_root_and_the_manifests_run_as_it() {
    let (uid, gid) = image_user();
    assert!(uid != 0 && gid != 0, "USER {uid}:{gid}");
    let d = deployment();
    let pod = &d["spec"]["template"]["spec"]["securityContext"];
    let sc = &sidecar_container(&d)["securityContext"];
    // The container's settings override the pod's.
    let setting = |key: &str| sc.get(key).or_else(|| pod.get(key)).and_then(Value::as_u64);
    assert_eq!(setting("runAsUser"), Some(uid), "runAsUser");
    assert_eq!(setting("runAsGroup"), Some(gid), "runAsGroup");
    assert!(sc.get("runAsNonRoot").or_else(|| pod.get("runAsNonRoot")) == Some(&Value::Bool(true)));
}

#[test]
fn dockerfile_env_is_what_the_cli_reads() {
    let ins = instructions(&read("Dockerfile"));
    let env: BTreeMap<String, String> = ins
        .iter()
        .filter(|(op, _)| op == "ENV")
        .flat_map(|(_, a)| {
            a.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_scim-sidecar"))
        .args(["run", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for name in env.keys() {
        assert!(
            help.contains(&format!("env: {name}")),
            "{name} not read by `run`:\n{help}"
        );
    }
    assert!(["json", "text"].contains(&env["SCIM_SIDECAR_LOG_FORMAT"].as_str()));
    // The image's default config path is where the Kubernetes example
    // mounts its ConfigMap.
    let d = deployment();
    let sidecar = sidecar_container(&d);
    assert_eq!(
        Some(env["SCIM_SIDECAR_CONFIG"].as_str()),
        env_value(sidecar, "SCIM_SIDECAR_CONFIG")
    );
}

// ------------------------------------------------------------ Kubernetes

const K8S: &str = "examples/kubernetes";

/// Every document of a YAML file.
fn yaml_docs(rel: &str) -> Vec<Value> {
    let text = read(rel);
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .filter(|v| !v.is_null())
        .collect()
}

fn resource(kind: &str) -> Value {
    let kustomization = &yaml_docs(&format!("{K8S}/kustomization.yaml"))[0];
    kustomization["resources"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| yaml_docs(&format!("{K8S}/{}", f.as_str().unwrap())))
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in the kustomization"))
}

fn deployment() -> Value {
    resource("Deployment")
}

fn sidecar_container(d: &Value) -> &Value {
    d["spec"]["template"]["spec"]["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "scim-sidecar")
        .expect("scim-sidecar is an init container")
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?
        .get("value")?
        .as_str()
}

/// The sidecar's env with Secret references resolved from secret.yaml.
fn resolved_env(container: &Value) -> BTreeMap<String, String> {
    let secrets: Vec<Value> = yaml_docs(&format!("{K8S}/secret.yaml"));
    let mut out = BTreeMap::new();
    for e in container["env"].as_array().unwrap() {
        let name = e["name"].as_str().unwrap().to_string();
        let value = match (e.get("value"), e["valueFrom"].get("secretKeyRef")) {
            (Some(v), _) => v.as_str().unwrap().to_string(),
            (None, Some(r)) => {
                let secret = secrets
                    .iter()
                    .find(|s| s["metadata"]["name"] == r["name"])
                    .unwrap_or_else(|| panic!("no Secret {}", r["name"]));
                secret["stringData"][r["key"].as_str().unwrap()]
                    .as_str()
                    .unwrap_or_else(|| panic!("Secret {} has no key {}", r["name"], r["key"]))
                    .to_string()
            }
            _ => panic!("env {name} has neither a value nor a Secret reference"),
        };
        out.insert(name, value);
    }
    out
}

/// A file as the sidecar container sees it: the key of the ConfigMap or
/// Secret whose volume is mounted at the file's directory.
fn mounted_file(path: &str) -> Result<Vec<u8>, String> {
    let d = deployment();
    let sidecar = sidecar_container(&d);
    let volumes = d["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
    let p = Path::new(path);
    let (dir, key) = (
        p.parent().unwrap(),
        p.file_name().unwrap().to_str().unwrap(),
    );
    let mount = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| Path::new(m["mountPath"].as_str().unwrap()) == dir)
        .ok_or_else(|| format!("{path}: no volume is mounted at {}", dir.display()))?;
    let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
    let value = if let Some(name) = volume["secret"]["secretName"].as_str() {
        let secrets = yaml_docs(&format!("{K8S}/secret.yaml"));
        let secret = secrets
            .iter()
            .find(|s| s["metadata"]["name"] == name)
            .ok_or_else(|| format!("{path}: no Secret {name}"))?;
        secret["stringData"][key].clone()
    } else {
        let cm = resource("ConfigMap");
        assert_eq!(cm["metadata"]["name"], volume["configMap"]["name"]);
        cm["data"][key].clone()
    };
    value
        .as_str()
        .map(|v| v.as_bytes().to_vec())
        .ok_or_else(|| format!("{path}: the mounted volume has no key {key}"))
}

/// The config in the ConfigMap, loaded with the sidecar's env and the
/// files mounted into its container; and the ConfigMap itself.
fn k8s_config() -> (Config, Value) {
    let cm = resource("ConfigMap");
    let text = cm["data"]["config.toml"]
        .as_str()
        .expect("config.toml in the ConfigMap");
    let env = resolved_env(sidecar_container(&deployment()));
    let lookup = |name: &str| env.get(name).cloned();
    let files = |path: &str| {
        assert!(
            path.starts_with('/'),
            "{path}: use absolute paths in the example"
        );
        mounted_file(path).map(|bytes| vec![(path.to_string(), bytes)])
    };
    let config = Config::from_toml_with(text, &lookup, &files)
        .unwrap_or_else(|e| panic!("{}", e.render("configmap.yaml#config.toml", text)));
    (config, cm)
}

fn port_named(container: &Value, name: &str) -> u16 {
    container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["containerPort"].as_u64())
        .unwrap_or_else(|| panic!("no port named {name}")) as u16
}

#[test]
fn kustomization_lists_every_manifest() {
    let k = &yaml_docs(&format!("{K8S}/kustomization.yaml"))[0];
    let listed: BTreeSet<String> = k["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join(K8S))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    assert_eq!(listed, on_disk);
    let images: BTreeSet<&str> = k["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    let d = deployment();
    let spec = &d["spec"]["template"]["spec"];
    for c in spec["initContainers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(spec["containers"].as_array().unwrap())
    {
        assert!(
            images.contains(c["image"].as_str().unwrap()),
            "{} has no image entry",
            c["name"]
        );
    }
}

#[test]
fn the_sidecar_runs_natively_in_front_of_a_loopback_app() {
    let (config, cm) = k8s_config();
    let d = deployment();
    let pod = &d["spec"]["template"];
    let sidecar = sidecar_container(&d);
    assert_eq!(sidecar["restartPolicy"], "Always", "a native sidecar");

    // Ports: the Service targets the sidecar's public port; listeners are
    // on all pod addresses (the Service and the kubelet's probes).
    let http = port_named(sidecar, "http");
    let admin = port_named(sidecar, "admin");
    assert_eq!(config.server.listen, SocketAddr::from(([0, 0, 0, 0], http)));
    assert_eq!(
        config.server.admin_listen,
        SocketAddr::from(([0, 0, 0, 0], admin))
    );
    let svc = resource("Service");
    let targets: Vec<&Value> = svc["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["targetPort"])
        .collect();
    assert!(
        targets
            .iter()
            .all(|t| *t == "http" || t.as_u64() == Some(u64::from(http))),
        "{targets:?}"
    );
    for (k, v) in svc["spec"]["selector"].as_object().unwrap() {
        assert_eq!(&pod["metadata"]["labels"][k], v, "Service selector {k}");
    }
    let ann = &pod["metadata"]["annotations"];
    assert_eq!(ann["prometheus.io/port"], admin.to_string());
    assert_eq!(ann["prometheus.io/path"], "/metrics");

    // The app listens on loopback at the upstream's port and exposes no
    // port of its own.
    let app_port = config.upstream.authority.port_u16().unwrap();
    assert_eq!(config.upstream.authority.host(), "127.0.0.1");
    assert_eq!(config.host.authority, config.upstream.authority);
    let app = &pod["spec"]["containers"][0];
    assert!(app.get("ports").is_none(), "the app must not expose a port");
    let bind = format!("127.0.0.1:{app_port}");
    assert!(
        app["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["value"] == bind.as_str()),
        "the app is not told to listen on {bind}"
    );

    // Probes on the admin port.
    for (probe, path) in [
        ("startupProbe", "/startupz"),
        ("readinessProbe", "/readyz"),
        ("livenessProbe", "/livez"),
    ] {
        let get = &sidecar[probe]["httpGet"];
        assert_eq!(get["path"], path, "{probe}");
        assert!(
            get["port"] == "admin" || get["port"].as_u64() == Some(u64::from(admin)),
            "{probe}"
        );
    }

    // The config: the ConfigMap mounted as a directory, at the path the
    // sidecar is told to read, under the key that holds it.
    let config_path = Path::new(env_value(sidecar, "SCIM_SIDECAR_CONFIG").unwrap());
    let volumes = pod["spec"]["volumes"].as_array().unwrap();
    let mount = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| config_path.parent() == Some(Path::new(m["mountPath"].as_str().unwrap())))
        .expect("the config path's directory is a mount");
    assert!(
        mount.get("subPath").is_none(),
        "a subPath never sees ConfigMap updates"
    );
    let volume = volumes.iter().find(|v| v["name"] == mount["name"]).unwrap();
    assert_eq!(volume["configMap"]["name"], cm["metadata"]["name"]);
    let key = config_path.file_name().unwrap().to_str().unwrap();
    assert!(cm["data"].get(key).is_some());

    // Token hashes come from a Secret (the config loaded above read them
    // through the mount), none from the config text itself.
    assert!(
        config
            .connections
            .iter()
            .all(|c| !c.token_hashes.is_empty())
    );
    let text = cm["data"]["config.toml"].as_str().unwrap();
    let raw: toml::Value = toml::from_str(text).unwrap();
    for c in raw["connections"].as_array().unwrap() {
        assert!(c.get("tokens").is_none(), "token hashes belong in a Secret");
    }
    // TLS: a kubernetes.io/tls Secret mounted as a directory, the one the
    // config's `[server.tls]` names (commented out while an ingress
    // terminates TLS).
    let tls = volumes
        .iter()
        .find(|v| v["secret"]["secretName"] == "scim-sidecar-tls")
        .expect("a volume of the TLS Secret");
    let tls_mount = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == tls["name"])
        .expect("the TLS Secret is mounted");
    assert!(tls_mount.get("subPath").is_none());
    let tls_dir = tls_mount["mountPath"].as_str().unwrap();
    match raw.get("server").and_then(|s| s.get("tls")) {
        Some(t) => {
            for key in ["cert", "key"] {
                let p = t[key].as_str().unwrap();
                assert!(
                    p.starts_with(&format!("{tls_dir}/")),
                    "{key} {p} is outside {tls_dir}"
                );
            }
        }
        None => {
            for file in ["tls.crt", "tls.key"] {
                assert!(text.contains(&format!("\"{tls_dir}/{file}\"")), "{file}");
            }
        }
    }
}

#[test]
fn the_configmap_maps_the_example_app_like_config_example_toml() {
    let (_, cm) = k8s_config();
    let k8s: toml::Table = toml::from_str(cm["data"]["config.toml"].as_str().unwrap()).unwrap();
    let example: toml::Table = toml::from_str(&read("config/example.toml")).unwrap();
    for table in ["users", "groups"] {
        assert_eq!(
            k8s.get(table),
            example.get(table),
            "[{table}] in configmap.yaml differs from config/example.toml"
        );
    }
}

#[test]
fn the_pod_drains_in_time_and_is_hardened() {
    let (config, _) = k8s_config();
    let d = deployment();
    let spec = &d["spec"]["template"]["spec"];
    let grace = Duration::from_secs(spec["terminationGracePeriodSeconds"].as_u64().unwrap());
    let app = &spec["containers"][0];
    let pre_stop = Duration::from_secs(
        app["lifecycle"]["preStop"]["sleep"]["seconds"]
            .as_u64()
            .unwrap_or(0),
    );
    // Shutdown: the app's preStop, then the sidecar's drain and its webhook
    // flush (at most 10 s, never longer than the drain).
    let flush = config.server.drain_timeout.min(Duration::from_secs(10));
    assert!(
        pre_stop + config.server.drain_timeout + flush < grace,
        "{pre_stop:?} + {:?} + {flush:?} does not fit in {grace:?}",
        config.server.drain_timeout
    );

    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        spec["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let sidecar = sidecar_container(&d);
    let sc = &sidecar["securityContext"];
    assert_eq!(sc["runAsNonRoot"], true);
    assert_eq!(sc["readOnlyRootFilesystem"], true);
    assert_eq!(sc["allowPrivilegeEscalation"], false);
    assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert!(sidecar["resources"]["limits"]["memory"].is_string());
    for m in sidecar["volumeMounts"].as_array().unwrap() {
        assert_eq!(m["readOnly"], true, "{m}");
    }

    let pdb = resource("PodDisruptionBudget");
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        d["spec"]["selector"]["matchLabels"]
    );
    assert!(
        d["spec"]["replicas"].as_u64().unwrap() > pdb["spec"]["minAvailable"].as_u64().unwrap()
    );
}
