//! Build clusters: which Kubernetes cluster runs a job's pod, by its `spec.cluster` alias.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use prow_core::ProwJob;
use prow_core::prowjob::DEFAULT_CLUSTER_ALIAS;

use super::KubeRunner;
use crate::runner::{PodStatus, Runner, RunnerError};

/// The alias of the cluster Prow itself runs in, where the ProwJobs live (upstream's
/// `InClusterContext`).
pub const IN_CLUSTER_ALIAS: &str = "";

/// Why the build clusters could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A kubeconfig file could not be read or one of its contexts used.
    #[error("kubeconfig {path}: {reason}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Two kubeconfig files define the same context.
    #[error("context {context:?} occurs more than once (again in {path})")]
    DuplicateContext {
        /// The context name.
        context: String,
        /// The file defining it a second time.
        path: PathBuf,
    },
    /// Neither an in-cluster service account nor a kubeconfig with a current context.
    #[error("no prow cluster access: run in a cluster or give a kubeconfig with a current context")]
    NoAccess,
}

/// The kubeconfig files to read: `kubeconfig`, then every file of `dir` not starting with
/// `..` (Kubernetes' mounted-secret bookkeeping) and not a directory, sorted.
fn candidates(kubeconfig: Option<&Path>, dir: Option<&Path>) -> Result<Vec<PathBuf>, ClusterError> {
    let mut out: Vec<PathBuf> = kubeconfig.map(Path::to_path_buf).into_iter().collect();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|e| ClusterError::Kubeconfig {
            path: dir.to_path_buf(),
            reason: format!("read directory: {e}"),
        })?;
        let mut files = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with("..");
            if !hidden && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

/// Client configurations by cluster alias, as upstream's `LoadClusterConfigs` makes them:
/// every context of `kubeconfig` and of the files in `kubeconfig_dir` under its own name;
/// [`IN_CLUSTER_ALIAS`] for the in-cluster service account, or, outside a cluster, the last
/// file's current context; and `default` for that same cluster unless a context is called
/// `default`. With neither file nor directory, `$KUBECONFIG` or `~/.kube/config` is read when
/// present.
pub async fn load_cluster_configs(
    kubeconfig: Option<&Path>,
    kubeconfig_dir: Option<&Path>,
) -> Result<BTreeMap<String, kube::Config>, ClusterError> {
    let in_cluster = kube::Config::incluster().ok();
    load_with(kubeconfig, kubeconfig_dir, in_cluster).await
}

/// [`load_cluster_configs`] with the in-cluster configuration given.
async fn load_with(
    kubeconfig: Option<&Path>,
    kubeconfig_dir: Option<&Path>,
    in_cluster: Option<kube::Config>,
) -> Result<BTreeMap<String, kube::Config>, ClusterError> {
    let mut files = candidates(kubeconfig, kubeconfig_dir)?;
    let explicit = !files.is_empty();
    if !explicit {
        let default = std::env::var_os("KUBECONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".kube/config")));
        files.extend(default.filter(|p| p.is_file()));
    }
    let mut configs = BTreeMap::new();
    let mut current = None;
    for path in files {
        let problem = |reason: String| ClusterError::Kubeconfig {
            path: path.clone(),
            reason,
        };
        let file = match kube::config::Kubeconfig::read_from(&path) {
            Ok(file) => file,
            Err(e) if !explicit => {
                tracing::warn!(target: "kube", "cannot load kubeconfig {}: {e}", path.display());
                continue;
            }
            Err(e) => return Err(problem(e.to_string())),
        };
        if file
            .current_context
            .as_deref()
            .is_some_and(|c| !c.is_empty())
        {
            current.clone_from(&file.current_context);
        }
        for context in &file.contexts {
            if configs.contains_key(&context.name) {
                return Err(ClusterError::DuplicateContext {
                    context: context.name.clone(),
                    path: path.clone(),
                });
            }
            let options = kube::config::KubeConfigOptions {
                context: Some(context.name.clone()),
                ..Default::default()
            };
            let config = kube::Config::from_custom_kubeconfig(file.clone(), &options)
                .await
                .map_err(|e| problem(format!("context {:?}: {e}", context.name)))?;
            configs.insert(context.name.clone(), config);
        }
    }
    let home = match (in_cluster, current) {
        (Some(config), _) => config,
        (None, Some(current)) => configs
            .get(&current)
            .cloned()
            .ok_or(ClusterError::NoAccess)?,
        (None, None) => return Err(ClusterError::NoAccess),
    };
    configs
        .entry(DEFAULT_CLUSTER_ALIAS.to_owned())
        .or_insert_with(|| home.clone());
    configs.insert(IN_CLUSTER_ALIAS.to_owned(), home);
    Ok(configs)
}

/// Several build clusters as one [`Runner`]: a job's pod goes to the cluster its
/// `spec.cluster` names (`default` when empty), as upstream plank's `ClusterAlias`.
///
/// Pods are named after their jobs, so [`Runner::get`] and [`Runner::delete`], which know only
/// the name, ask every cluster (in alias order) and take the first that has the pod.
#[derive(Debug)]
pub struct BuildClusters {
    runners: BTreeMap<String, KubeRunner>,
    changes: std::sync::Arc<tokio::sync::Notify>,
}

impl BuildClusters {
    /// One runner per alias.
    pub fn new(runners: impl IntoIterator<Item = KubeRunner>) -> Self {
        BuildClusters {
            runners: runners
                .into_iter()
                .map(|r| (r.alias().to_owned(), r))
                .collect(),
            changes: std::sync::Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Runners for every alias of `configs` but [`IN_CLUSTER_ALIAS`], creating pods in
    /// `pod_namespace`.
    pub fn from_configs(
        configs: &BTreeMap<String, kube::Config>,
        pod_namespace: &str,
    ) -> Result<Self, kube::Error> {
        let mut runners = Vec::new();
        for (alias, config) in configs {
            if alias == IN_CLUSTER_ALIAS {
                continue;
            }
            let client = super::client(config.clone())?;
            runners.push(KubeRunner::new(client, pod_namespace, alias));
        }
        Ok(Self::new(runners))
    }

    /// The aliases known, sorted.
    pub fn aliases(&self) -> Vec<&str> {
        self.runners.keys().map(String::as_str).collect()
    }

    /// The cluster `job` runs on, or why there is none.
    pub fn cluster_of(&self, job: &ProwJob) -> Result<&KubeRunner, RunnerError> {
        let alias = match job.spec.cluster.as_str() {
            "" => DEFAULT_CLUSTER_ALIAS,
            alias => alias,
        };
        self.runners.get(alias).ok_or_else(|| {
            // Not the job's fault alone: a kubeconfig may be missing. The job waits.
            RunnerError::Transient(format!(
                "prowjob {:?}: unknown cluster alias {alias:?} (known: {})",
                job.name(),
                self.aliases().join(", ")
            ))
        })
    }
}

#[async_trait]
impl Runner for BuildClusters {
    async fn create(&self, job: &ProwJob) -> Result<PodStatus, RunnerError> {
        self.cluster_of(job)?.create(job).await
    }

    async fn get(&self, name: &str) -> Result<Option<PodStatus>, RunnerError> {
        for runner in self.runners.values() {
            if let Some(pod) = runner.get(name).await? {
                return Ok(Some(pod));
            }
        }
        Ok(None)
    }

    async fn delete(&self, name: &str) -> Result<(), RunnerError> {
        for runner in self.runners.values() {
            runner.delete(name).await?;
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<PodStatus>, RunnerError> {
        let mut out = Vec::new();
        for runner in self.runners.values() {
            out.extend(runner.list().await?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn changes(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        // One notifier for all clusters: forward each cluster's to it.
        for runner in self.runners.values() {
            if let Some(each) = runner.changes() {
                let all = self.changes.clone();
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        loop {
                            each.notified().await;
                            all.notify_one();
                        }
                    });
                }
            }
        }
        Some(self.changes.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO_CONTEXTS: &str = r#"
apiVersion: v1
kind: Config
current-context: infra
clusters:
- name: infra
  cluster: {server: "http://127.0.0.1:1"}
- name: build
  cluster: {server: "http://127.0.0.1:2"}
contexts:
- name: infra
  context: {cluster: infra, user: u}
- name: build-a
  context: {cluster: build, user: u}
users:
- name: u
  user: {token: t}
"#;

    #[tokio::test]
    async fn contexts_become_aliases_and_current_context_is_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, TWO_CONTEXTS).unwrap();
        let configs = load_with(Some(&path), None, None).await.unwrap();
        let aliases: Vec<&str> = configs.keys().map(String::as_str).collect();
        assert_eq!(aliases, ["", "build-a", "default", "infra"]);
        assert_eq!(configs["default"].cluster_url.port_u16(), Some(1));
        assert_eq!(configs["build-a"].cluster_url.port_u16(), Some(2));
    }

    #[tokio::test]
    async fn a_context_named_default_wins_and_duplicates_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let renamed = TWO_CONTEXTS.replace("name: build-a", "name: default");
        std::fs::write(dir.path().join("a.yaml"), &renamed).unwrap();
        std::fs::write(dir.path().join("..data"), "not read").unwrap();
        let configs = load_with(None, Some(dir.path()), None).await.unwrap();
        assert_eq!(configs["default"].cluster_url.port_u16(), Some(2));
        assert_eq!(configs[""].cluster_url.port_u16(), Some(1));

        std::fs::write(dir.path().join("b.yaml"), &renamed).unwrap();
        let err = load_with(None, Some(dir.path()), None).await.unwrap_err();
        assert!(
            matches!(&err, ClusterError::DuplicateContext { context, path } if context == "infra" && path.ends_with("b.yaml")),
            "{err}"
        );
    }

    #[tokio::test]
    async fn without_current_context_or_cluster_there_is_no_access() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, TWO_CONTEXTS.replace("current-context: infra", "")).unwrap();
        let err = load_with(Some(&path), None, None).await.unwrap_err();
        assert!(matches!(err, ClusterError::NoAccess), "{err}");
    }
}
