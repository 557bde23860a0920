//! The cluster install in `examples/deploy/`: every manifest parses as the Kubernetes object it
//! claims to be, the CRD is exactly what `prow crd` prints, the ConfigMaps hold a configuration
//! Prow loads, the controllers' arguments are ones `prow` accepts, and the RBAC grants what the
//! Kubernetes backend asks for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use prow_core::k8s_openapi::api::apps::v1::Deployment;
use prow_core::k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service, ServiceAccount};
use prow_core::k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use prow_core::k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Deserialize;
use serde_json::Value;

use crate::stdout_of;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/deploy")
}

/// Every document of every YAML file, by `kind/namespace/name`.
fn documents() -> BTreeMap<String, Value> {
    documents_in(&deploy_dir())
}

/// Every document of every YAML file in `dir` (not below it), by `kind/namespace/name`.
fn documents_in(dir: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/deploy exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: not YAML: {e}", file.display()));
            let kind = value["kind"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: a document without kind", file.display()));
            let name = value["metadata"]["name"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: a {kind} without name", file.display()));
            let ns = value["metadata"]["namespace"].as_str().unwrap_or("");
            let key = format!("{kind}/{ns}/{name}");
            assert!(out.insert(key.clone(), value).is_none(), "{key} twice");
        }
    }
    out
}

fn typed<T: serde::de::DeserializeOwned>(key: &str, value: &Value) -> T {
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{key}: {e}"))
}

#[test]
fn every_manifest_parses_as_its_kind() {
    let docs = documents();
    for (key, value) in &docs {
        let api_version = value["apiVersion"].as_str().unwrap_or_default();
        match (api_version, value["kind"].as_str().unwrap_or_default()) {
            ("v1", "Namespace") => drop(typed::<Namespace>(key, value)),
            ("v1", "ServiceAccount") => drop(typed::<ServiceAccount>(key, value)),
            ("v1", "ConfigMap") => drop(typed::<ConfigMap>(key, value)),
            ("v1", "Service") => drop(typed::<Service>(key, value)),
            ("apps/v1", "Deployment") => drop(typed::<Deployment>(key, value)),
            ("rbac.authorization.k8s.io/v1", "Role") => drop(typed::<Role>(key, value)),
            ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
                drop(typed::<RoleBinding>(key, value))
            }
            ("apiextensions.k8s.io/v1", "CustomResourceDefinition") => {
                drop(typed::<CustomResourceDefinition>(key, value));
            }
            other => panic!("{key}: unexpected {other:?}"),
        }
    }
    let kinds: Vec<&str> = docs.keys().map(|k| k.split('/').next().unwrap()).collect();
    for kind in [
        "Namespace",
        "CustomResourceDefinition",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Deployment",
    ] {
        assert!(kinds.contains(&kind), "no {kind} in examples/deploy");
    }
    // Everything namespaced lives in a namespace the manifests create.
    for (key, value) in &docs {
        if let Some(ns) = value["metadata"]["namespace"].as_str() {
            assert!(
                docs.contains_key(&format!("Namespace//{ns}")),
                "{key}: namespace {ns} is not created"
            );
        }
    }
}

#[test]
fn the_crd_is_what_prow_crd_prints() {
    let printed = stdout_of(Command::new(env!("CARGO_BIN_EXE_prow")).arg("crd"));
    let file = std::fs::read(deploy_dir().join("prowjob-crd.yaml")).unwrap();
    assert!(
        file == printed,
        "examples/deploy/prowjob-crd.yaml differs from `prow crd`; regenerate it with \
         `cargo run -p prow-cli --bin prow -- crd > examples/deploy/prowjob-crd.yaml`"
    );
    let docs = documents();
    let crd: CustomResourceDefinition = typed(
        "crd",
        &docs["CustomResourceDefinition//prowjobs.prow.k8s.io"],
    );
    assert_eq!(crd, prow_core::prowjob_crd());
}

#[test]
fn the_config_maps_hold_a_configuration_prow_loads_with_the_namespaces_used() {
    let docs = documents();
    let config: ConfigMap = typed("config", &docs["ConfigMap/prow/config"]);
    let jobs: ConfigMap = typed("job-config", &docs["ConfigMap/prow/job-config"]);
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.yaml");
    std::fs::write(&config_path, &config.data.as_ref().unwrap()["config.yaml"]).unwrap();
    let job_dir = dir.path().join("jobs");
    std::fs::create_dir(&job_dir).unwrap();
    for (file, text) in jobs.data.as_ref().unwrap() {
        std::fs::write(job_dir.join(file), text).unwrap();
    }
    let loaded = prow_config::load(&prow_config::LoadOptions::new(&config_path, Some(job_dir)))
        .unwrap_or_else(|e| panic!("the deploy configuration loads: {e}"));
    assert_eq!(loaded.prow.prowjob_namespace, "prow");
    assert_eq!(loaded.prow.pod_namespace, "test-pods");
    assert!(!loaded.jobs.periodics.is_empty());
    assert!(docs.contains_key("Namespace//test-pods"));
    crate::diagnostics::checkconfig_strict_passes(&config_path, &dir.path().join("jobs"), None);
}

#[test]
fn every_prow_rs_image_the_manifests_and_examples_name_is_one_the_dockerfile_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    // `FROM prow AS <utility>`: the pod utilities' targets; the default target is `prow`.
    let mut built: Vec<String> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM prow AS "))
        .map(|t| format!("ghcr.io/prow-rs/{}:latest", t.trim()))
        .collect();
    built.push("ghcr.io/prow-rs/prow:latest".to_owned());
    assert_eq!(built.len(), 5, "prow and the four pod utilities: {built:?}");
    let mut named = Vec::new();
    for file in [
        "examples/deploy/serve.yaml",
        "examples/deploy/split/controllers.yaml",
        "examples/deploy/config.yaml",
        "examples/prow/config.yaml",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        for word in text.split_whitespace() {
            if word.starts_with("ghcr.io/prow-rs/") {
                assert!(
                    built.iter().any(|b| b == word),
                    "{file} names {word}, not built by the Dockerfile ({built:?})"
                );
                named.push(word.to_owned());
            }
        }
    }
    for image in &built {
        assert!(named.contains(image), "nothing names {image}");
    }
    // The build script builds every target the Dockerfile has.
    let script = std::fs::read_to_string(root.join(".ci/build-image")).unwrap();
    assert!(script.contains("FROM prow AS"), "{script}");
}

#[test]
fn the_controllers_run_prow_commands_with_flags_it_accepts() {
    assert_eq!(commands_in(documents()), ["serve"]);
    assert_eq!(
        commands_in(documents_in(&deploy_dir().join("split"))),
        ["crier", "horologium", "plank", "sinker"]
    );
}

/// The `prow` commands the Deployments in `docs` run, each checked against `prow CMD --help`.
fn commands_in(docs: BTreeMap<String, Value>) -> Vec<String> {
    let mut commands = Vec::new();
    for (key, value) in docs.iter().filter(|(k, _)| k.starts_with("Deployment/")) {
        let deployment: Deployment = typed(key, value);
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        assert_eq!(
            pod.service_account_name.as_deref(),
            Some("prow-controllers"),
            "{key}"
        );
        for container in pod.containers {
            let args = container.args.unwrap_or_default();
            let help = String::from_utf8(stdout_of(
                Command::new(env!("CARGO_BIN_EXE_prow")).args([&args[0], "--help"]),
            ))
            .unwrap();
            for flag in &args[1..] {
                let name = flag.split('=').next().unwrap();
                assert!(
                    help.contains(&format!("{name} ")) || help.contains(&format!("{name}\n")),
                    "{key}: `prow {}` has no {name}",
                    args[0]
                );
            }
            assert!(
                args.iter().any(|a| a == "--in-cluster"),
                "{key}: uses the Kubernetes backend"
            );
            commands.push(args[0].clone());
        }
    }
    commands.sort();
    commands
}

#[test]
fn rbac_grants_what_the_kubernetes_backend_asks_for() {
    let docs = documents();
    let grants = |key: &str| -> Vec<(String, String)> {
        let role: Role = typed(key, &docs[key]);
        role.rules
            .unwrap_or_default()
            .into_iter()
            .flat_map(|r| {
                let resources = r.resources.unwrap_or_default();
                r.verbs.into_iter().flat_map(move |v| {
                    resources
                        .clone()
                        .into_iter()
                        .map(move |res| (res, v.clone()))
                })
            })
            .collect()
    };
    let jobs = grants("Role/prow/prow-controllers");
    for verb in ["get", "list", "watch", "create", "update", "delete"] {
        assert!(
            jobs.contains(&("prowjobs".into(), verb.into())),
            "prowjobs {verb}"
        );
    }
    let pods = grants("Role/test-pods/prow-controllers");
    for verb in ["get", "list", "watch", "create", "delete"] {
        assert!(pods.contains(&("pods".into(), verb.into())), "pods {verb}");
    }
    for ns in ["prow", "test-pods"] {
        let binding: RoleBinding = typed(
            "binding",
            &docs[&format!("RoleBinding/{ns}/prow-controllers")],
        );
        let subject = &binding.subjects.unwrap()[0];
        assert_eq!(
            (
                subject.kind.as_str(),
                subject.name.as_str(),
                subject.namespace.as_deref()
            ),
            ("ServiceAccount", "prow-controllers", Some("prow"))
        );
    }
}

/// Kills the child when dropped, so a failed assertion leaves no controller running.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A kubeconfig whose one context, `default`, is the fake API server.
fn kubeconfig_for(fake: &prow_jobs::kube::fake::FakeApiServer) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: default\n\
         clusters: [{{name: fake, cluster: {{server: \"{}\"}}}}]\n\
         contexts: [{{name: default, context: {{cluster: fake, user: u}}}}]\n\
         users: [{{name: u, user: {{token: t}}}}]\n",
        fake.url()
    )
}

async fn until_state(
    events: &mut tokio::sync::broadcast::Receiver<prow_jobs::store::WatchEvent>,
    want: prow_core::ProwJobState,
) -> prow_core::ProwJob {
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(60), events.recv())
            .await
            .expect("a watch event within 60s")
            .expect("the watch is open");
        if let prow_jobs::store::WatchEvent::Modified(job) = event
            && job.state() == Some(want)
        {
            return *job;
        }
    }
}

#[tokio::test]
async fn prow_plank_with_a_kubeconfig_runs_jobs_on_the_cluster() {
    use prow_core::ProwJobState;
    use prow_jobs::kube::KubeStore;
    use prow_jobs::kube::fake::{FakeApiServer, Resource};
    use prow_jobs::store::JobStore;

    let fake = FakeApiServer::start().expect("fake API server");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, kubeconfig_for(&fake)).unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "prowjob_namespace: prow\npod_namespace: test-pods\n",
    )
    .unwrap();

    let _plank = Child(
        Command::new(env!("CARGO_BIN_EXE_prow"))
            .args(["plank", "--resync-period=1h", "--config-path"])
            .arg(&config)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--data-dir")
            .arg(dir.path().join("unused"))
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT")
            .spawn()
            .expect("prow plank starts"),
    );

    let store = KubeStore::new(fake.client(), "prow");
    let mut events = store.watch();
    store.watching().await;
    let job: prow_core::ProwJob = serde_json::from_value(serde_json::json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": "from-a-real-prow"},
        "spec": {"type": "periodic", "agent": "kubernetes", "job": "unit",
                 "pod_spec": {"containers": [{"image": "alpine", "command": ["true"]}]}},
        "status": {"state": "triggered", "startTime": "2026-01-01T00:00:00Z"},
    }))
    .unwrap();
    store.create(job).await.expect("create the job");

    until_state(&mut events, ProwJobState::Pending).await;
    let pod = fake
        .get(Resource::Pods, "test-pods", "from-a-real-prow")
        .expect("plank created the pod in pod_namespace");
    assert_eq!(pod["metadata"]["labels"]["created-by-prow"], "true");
    assert!(
        !dir.path().join("unused").exists(),
        "nothing of the embedded default is used"
    );

    // The kubelet finishes it; plank hears of it through its pod watch.
    fake.modify(Resource::Pods, "test-pods", "from-a-real-prow", |p| {
        p["status"] = serde_json::json!({"phase": "Succeeded", "containerStatuses": [{
            "name": "test", "image": "alpine", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": "2026-01-01T00:01:00Z"}}}]});
    })
    .unwrap();
    let done = until_state(&mut events, ProwJobState::Success).await;
    assert_eq!(done.status.unwrap().description, "Job succeeded.");
}

#[test]
fn prow_hook_with_a_kubeconfig_has_config_updater_write_configmaps_on_the_cluster() {
    use prow_jobs::kube::fake::{FakeApiServer, Resource};

    use crate::demo_support::{free_port, wait_for};

    let fake = FakeApiServer::start().expect("fake API server");
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let kubeconfig = write("kubeconfig", kubeconfig_for(&fake));
    let merge_sha = "3333333333333333333333333333333333333333";
    let config = write("config.yaml", "prowjob_namespace: prow\n".to_owned());
    let plugins = write(
        "plugins.yaml",
        "plugins:\n  acme/infra:\n    plugins: [config-updater]\n\
         config_updater:\n  maps:\n    prow/config.yaml: {name: config}\n"
            .to_owned(),
    );
    let secret = write("hmac", "kube-secret".to_owned());
    let seed = write(
        "github.yaml",
        format!(
            "bot: ci-robot\n\
             repos:\n  acme/infra:\n    branches: {{main: 1111111111111111111111111111111111111111}}\n\
             \x20   files:\n      \"{merge_sha}\": {{prow/config.yaml: \"prowjob_namespace: merged\\n\"}}\n\
             pulls:\n- repo: acme/infra\n  number: 7\n  title: Change the config\n  author: alice\n\
             \x20 head: {{ref: change, sha: 2222222222222222222222222222222222222222}}\n\
             \x20 base: main\n  files: [prow/config.yaml]\n"
        ),
    );
    let payload = write(
        "merged.json",
        serde_json::json!({
            "action": "closed",
            "number": 7,
            "pull_request": {
                "number": 7, "state": "closed", "merged": true,
                "merge_commit_sha": merge_sha,
                "user": {"login": "alice"},
                "head": {"ref": "change", "sha": "2222222222222222222222222222222222222222"},
                "base": {"ref": "main", "sha": "1111111111111111111111111111111111111111"},
            },
            "repository": {"name": "infra", "full_name": "acme/infra", "owner": {"login": "acme"},
                           "default_branch": "main"},
            "sender": {"login": "alice"},
        })
        .to_string(),
    );
    let port = free_port();
    let _hook = Child(
        Command::new(env!("CARGO_BIN_EXE_prow"))
            .args(["hook", "--port", &port.to_string(), "--config-path"])
            .arg(&config)
            .arg("--plugin-config")
            .arg(&plugins)
            .arg("--hmac-secret-file")
            .arg(&secret)
            .arg("--github-fake")
            .arg(&seed)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--data-dir")
            .arg(dir.path().join("unused"))
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT")
            .spawn()
            .expect("prow hook starts"),
    );
    wait_for("hook to listen", std::time::Duration::from_secs(60), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let sent = Command::new(env!("CARGO_BIN_EXE_phony"))
        .args(["--address", &format!("http://127.0.0.1:{port}/hook")])
        .args([
            "--hmac",
            "kube-secret",
            "--event",
            "pull_request",
            "--payload",
        ])
        .arg(&payload)
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    wait_for(
        "the config ConfigMap",
        std::time::Duration::from_secs(60),
        || fake.get(Resource::ConfigMaps, "prow", "config").is_some(),
    );
    let map = fake.get(Resource::ConfigMaps, "prow", "config").unwrap();
    assert_eq!(map["data"]["config.yaml"], "prowjob_namespace: merged\n");
    assert!(
        !dir.path().join("unused").exists(),
        "nothing of the embedded default is used"
    );
}
