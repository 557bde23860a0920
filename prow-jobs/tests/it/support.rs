//! Test support: locating fixtures and the corpus, building ProwJobs, comparing documents.

use std::path::{Path, PathBuf};

use prow_core::ProwJob;
use serde_json::{Map, Value, json};

/// The committed fixture directory `prow-jobs/tests/data/<relative>`.
pub(crate) fn data_dir(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(relative)
}

include!("../../../build-support/corpus.rs");

/// The files under `dir` (relative, sorted), found without following links; a link there fails
/// the test (uploads write plain files).
pub(crate) fn files_in(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            assert!(!kind.is_symlink(), "{} is a link", path.display());
            if kind.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Reads a file, naming it when that fails.
pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()))
}

/// A ProwJob named `name` with `labels` and `spec` (written as Prow's JSON).
pub(crate) fn prowjob(name: &str, labels: Value, spec: Value) -> ProwJob {
    let doc = json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
    });
    serde_json::from_value(doc).unwrap_or_else(|e| panic!("bad ProwJob for {name}: {e}"))
}

/// `base` with the top-level keys of `patch` set over it.
pub(crate) fn merged(base: &Value, patch: Value) -> Value {
    let mut out = base.clone();
    let object = out.as_object_mut().expect("base is an object");
    for (k, v) in patch.as_object().expect("patch is an object") {
        object.insert(k.clone(), v.clone());
    }
    out
}

/// Removes what Go's YAML shows but a Kubernetes API server treats as absent: `null` fields
/// (`creationTimestamp: null`) and empty `resources` and `status` objects, which Go writes
/// because they are value structs. Everything else, list order included, stays significant.
pub(crate) fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, v| {
                !(v.is_null()
                    || (matches!(key.as_str(), "resources" | "status") && is_empty_object(v)))
            });
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// The first place where `actual` differs from `expected`, as a path and both values.
pub(crate) fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let here = format!("{path}.{k}");
                match a.get(k) {
                    None => return Some(format!("{here}: missing, expected {ev}")),
                    Some(av) => {
                        if let Some(d) = first_difference(ev, av, &here) {
                            return Some(d);
                        }
                    }
                }
            }
            a.keys()
                .find(|k| !e.contains_key(*k))
                .map(|k| format!("{path}.{k}: unexpected {}", a[k]))
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                if let Some(d) = first_difference(ev, av, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (e.len() != a.len()).then(|| {
                format!(
                    "{path}: expected {} items, got {}: {}",
                    e.len(),
                    a.len(),
                    Value::Array(a.clone())
                )
            })
        }
        _ => (expected != actual)
            .then(|| format!("{path}:\n  expected {expected}\n  actual   {actual}")),
    }
}

/// Compares `actual` with a YAML golden after [`normalise`]-ing both; `Err` says where they
/// first differ.
pub(crate) fn check_against_yaml(golden_yaml: &str, mut actual: Value) -> Result<(), String> {
    let mut expected: Value =
        serde_yaml::from_str(golden_yaml).map_err(|e| format!("golden is not YAML: {e}"))?;
    normalise(&mut expected);
    normalise(&mut actual);
    match first_difference(&expected, &actual, "") {
        None => Ok(()),
        Some(d) => Err(d),
    }
}

/// A ProwJob run of `job` (a `job_type` such as `periodic`) named `name`, started at `start` and,
/// when given, completed at `end` (RFC 3339 times).
pub(crate) fn run_of(
    job_type: &str,
    job: &str,
    name: &str,
    start: &str,
    end: Option<&str>,
) -> ProwJob {
    let mut status = json!({"state": "pending", "startTime": start});
    if let Some(end) = end {
        status["completionTime"] = end.into();
        status["state"] = "success".into();
    }
    serde_json::from_value(json!({
        "apiVersion": "prow.k8s.io/v1",
        "kind": "ProwJob",
        "metadata": {"name": name},
        "spec": {"type": job_type, "job": job},
        "status": status,
    }))
    .expect("prowjob")
}

/// A configuration snapshot whose only settings are `plank`'s (and `edit`'s changes).
pub(crate) fn snapshot_with(
    edit: impl FnOnce(&mut prow_config::Config),
) -> prow_config::ConfigSnapshot {
    let mut config = prow_config::Config::default();
    edit(&mut config);
    prow_config::ConfigSnapshot::new(config, prow_config::PluginConfig::default())
}

/// A test's plank: the controller and the settings its passes use.
pub(crate) struct TestPlank {
    pub(crate) controller: prow_jobs::plank::Controller,
    pub(crate) config: std::sync::Arc<prow_config::prow::Plank>,
}

impl TestPlank {
    pub(crate) fn new(
        store: std::sync::Arc<dyn prow_jobs::store::JobStore>,
        runner: std::sync::Arc<dyn prow_jobs::runner::Runner>,
        config: std::sync::Arc<prow_config::prow::Plank>,
        clock: std::sync::Arc<dyn prow_jobs::clock::Clock>,
    ) -> Self {
        TestPlank {
            controller: prow_jobs::plank::Controller::new(store, runner, clock),
            config,
        }
    }

    /// One pass with the test's settings.
    pub(crate) async fn sync_once(
        &self,
    ) -> Result<prow_jobs::plank::SyncReport, prow_jobs::store::StoreError> {
        self.controller.sync_once(&self.config).await
    }

    /// plank under the controller driver, resyncing every `resync`, until `stop`.
    pub(crate) async fn run(
        self,
        resync: std::time::Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        let controller = self.controller.with_resync(resync);
        let plank = (*self.config).clone();
        let config =
            prow_jobs::config::ConfigHandle::fixed(snapshot_with(|c| c.prow.plank = plank));
        prow_jobs::controller::drive(
            &controller,
            config,
            stop,
            &prow_jobs::controller::ControllerMetrics::default(),
        )
        .await;
    }
}
