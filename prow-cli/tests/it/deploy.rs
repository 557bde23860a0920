//! The cluster install in `examples/deploy/`: every manifest parses as the Kubernetes object it
//! claims to be, the CRD is exactly what `prow crd` prints, the ConfigMaps hold a configuration
//! Prow loads, the controllers' arguments are ones `prow` accepts, and the RBAC grants what the
//! Kubernetes backend asks for.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use prow_core::k8s_openapi::api::apps::v1::Deployment;
use prow_core::k8s_openapi::api::core::v1::{ConfigMap, Namespace, ServiceAccount};
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
    let mut out = BTreeMap::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
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
}

#[test]
fn the_controllers_run_prow_commands_with_flags_it_accepts() {
    let docs = documents();
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
    assert_eq!(commands, ["crier", "horologium", "plank", "sinker"]);
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
