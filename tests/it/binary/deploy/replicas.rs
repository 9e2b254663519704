//! The replicas overlay (`examples/kubernetes/replicas/`): three pods and a
//! small Redis they share. Its ConfigMap is the base's config word for word
//! with `[coordination]` added, and it loads with the sidecar's env (the
//! base's, plus the Redis URL the overlay sets); that URL names the Redis
//! Service and its port, which lead to the Redis container; the
//! PodDisruptionBudget leaves two of the three pods serving; Redis keeps
//! nothing on disk and runs hardened.

use super::{resolved_env, resource, sidecar_container, yaml_docs};
use scim_sidecar::Config;
use serde_json::Value;
use std::collections::BTreeSet;

const OVERLAY: &str = "examples/kubernetes/replicas";

fn overlay_file(name: &str) -> Vec<Value> {
    yaml_docs(&format!("{OVERLAY}/{name}"))
}

fn of_kind(docs: &[Value], kind: &str) -> Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn names(list: &Value, field: Option<&str>) -> BTreeSet<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| field.map_or(v, |f| &v[f]).as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_overlay_lists_every_file_and_builds_on_the_base() {
    let k = &overlay_file("kustomization.yaml")[0];
    let resources = names(&k["resources"], None);
    let patches = names(&k["patches"], Some("path"));
    assert!(resources.contains("../"), "the overlay builds on the base");
    let on_disk: BTreeSet<String> = std::fs::read_dir(super::root().join(OVERLAY))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
        .collect();
    let listed: BTreeSet<String> = resources.union(&patches).cloned().collect();
    assert_eq!(
        listed
            .into_iter()
            .filter(|n| n != "../")
            .collect::<BTreeSet<_>>(),
        on_disk
    );
    let images = names(&k["images"], Some("name"));
    let redis = of_kind(&overlay_file("redis.yaml"), "Deployment");
    for c in redis["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
    {
        assert!(
            images.contains(c["image"].as_str().unwrap()),
            "{}",
            c["name"]
        );
    }
}

#[test]
fn three_replicas_share_the_redis_service_and_keep_two_through_a_drain() {
    // The config: the base's text with [coordination] appended.
    let base = resource("ConfigMap");
    let patch = of_kind(&overlay_file("configmap-patch.yaml"), "ConfigMap");
    assert_eq!(patch["metadata"]["name"], base["metadata"]["name"]);
    let base_text = base["data"]["config.toml"].as_str().unwrap();
    let text = patch["data"]["config.toml"].as_str().unwrap();
    let added = text
        .strip_prefix(base_text)
        .expect("the overlay's config.toml is the base's with a table added");
    assert!(added.contains("[coordination]"), "{added}");

    // It loads with the sidecar's env: the base's and the overlay's.
    let d = super::deployment();
    let dp = &overlay_file("deployment-patch.yaml")[0];
    assert_eq!(dp["metadata"]["name"], d["metadata"]["name"]);
    let mut env = resolved_env(sidecar_container(&d));
    for e in dp["spec"]["template"]["spec"]["initContainers"][0]["env"]
        .as_array()
        .unwrap()
    {
        env.insert(
            e["name"].as_str().unwrap().to_owned(),
            e["value"].as_str().unwrap().to_owned(),
        );
    }
    assert_eq!(
        dp["spec"]["template"]["spec"]["initContainers"][0]["name"],
        "scim-sidecar"
    );
    let lookup = |name: &str| env.get(name).cloned();
    let files = |path: &str| {
        let bytes = super::mounted_file(path)?;
        Ok(vec![(path.to_owned(), bytes)])
    };
    let config = Config::from_toml_with(text, &lookup, &files)
        .unwrap_or_else(|e| panic!("{}", e.render("replicas/configmap-patch.yaml", text)));
    let url = config.coordination.redis.expect("[coordination] redis").url;

    // The URL names the Service, whose port leads to the Redis container.
    let docs = overlay_file("redis.yaml");
    let (svc, redis) = (of_kind(&docs, "Service"), of_kind(&docs, "Deployment"));
    let port = &svc["spec"]["ports"][0];
    assert_eq!(
        url,
        format!(
            "redis://{}:{}",
            svc["metadata"]["name"].as_str().unwrap(),
            port["port"]
        )
    );
    let pod = &redis["spec"]["template"];
    assert_eq!(svc["spec"]["selector"], pod["metadata"]["labels"]);
    let container = &pod["spec"]["containers"][0];
    let target = container["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == port["targetPort"])
        .expect("the Service's targetPort is a port of the Redis container");
    assert_eq!(target["containerPort"], 6379);

    // Nothing on disk, hardened.
    let args: Vec<&str> = container["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.windows(2).any(|w| w == ["--save", ""]), "{args:?}");
    assert!(
        args.windows(2).any(|w| w == ["--appendonly", "no"]),
        "{args:?}"
    );
    assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(
        container["securityContext"]["allowPrivilegeEscalation"],
        false
    );

    // Three pods; a drain keeps two serving.
    let pdb = &overlay_file("pdb-patch.yaml")[0];
    assert_eq!(
        pdb["metadata"]["name"],
        resource("PodDisruptionBudget")["metadata"]["name"]
    );
    let replicas = dp["spec"]["replicas"].as_u64().unwrap();
    let min = pdb["spec"]["minAvailable"].as_u64().unwrap();
    assert_eq!(replicas, 3);
    assert!(min >= 2 && min < replicas, "{min} of {replicas}");
}
