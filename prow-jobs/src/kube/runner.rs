//! [`KubeRunner`]: ProwJobs' Pods in one build cluster.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::watcher;
use prow_core::ProwJob;
use prow_core::k8s_openapi;
use prow_core::labels::{CREATED_BY_PROW, PLANK_VERSION};
use tokio::sync::Notify;

use super::{api_code, pod_status};
use crate::runner::{PodStatus, Runner, RunnerError};

/// Creates decorated Pods for ProwJobs in one namespace of a build cluster, reads them back as
/// plank does, and deletes them.
///
/// Pods are made by [`crate::prow_job_to_pod`], named after their job and labelled as Prow
/// labels them (`created-by-prow`, `prow.k8s.io/id`, ...), so sinker and a real Prow
/// recognise them. [`Runner::changes`] watches the Pods carrying `created-by-prow`.
pub struct KubeRunner {
    api: Api<Pod>,
    namespace: String,
    alias: String,
    changes: Arc<Notify>,
    watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for KubeRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeRunner")
            .field("alias", &self.alias)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Drop for KubeRunner {
    fn drop(&mut self) {
        let task = self.watcher.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = task.take() {
            task.abort();
        }
    }
}

/// The `prow.k8s.io/plank-version` our plank writes on the pods it creates.
pub const PLANK_VERSION_VALUE: &str = concat!("prow-rs-", env!("CARGO_PKG_VERSION"));

fn created_by_prow() -> String {
    format!("{CREATED_BY_PROW}=true")
}

impl KubeRunner {
    /// Pods in `namespace` (Prow's `pod_namespace`) of the cluster `client` talks to, the
    /// build cluster called `alias`.
    pub fn new(client: kube::Client, namespace: &str, alias: &str) -> Self {
        KubeRunner {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            alias: alias.to_owned(),
            changes: Arc::new(Notify::new()),
            watcher: Mutex::new(None),
        }
    }

    /// The build cluster's alias.
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// The namespace the pods go in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn failed(&self, action: &str, name: &str, error: &kube::Error) -> String {
        format!(
            "{action} pod {name:?} in namespace {:?} of build cluster {:?}: {error}",
            self.namespace, self.alias
        )
    }

    fn status_of(&self, pod: &Pod) -> Result<PodStatus, RunnerError> {
        pod_status(pod).ok_or_else(|| {
            RunnerError::Transient(format!(
                "pod {:?} in build cluster {:?} has no name or creation time",
                pod.metadata.name.as_deref().unwrap_or(""),
                self.alias
            ))
        })
    }

    fn start_watcher(&self) {
        let mut task = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let config = watcher::Config::default().labels(&created_by_prow());
        let stream = watcher(self.api.clone(), config);
        let changes = self.changes.clone();
        let alias = self.alias.clone();
        *task = Some(runtime.spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(event) = stream.next().await {
                match event {
                    Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => {
                        changes.notify_one();
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(target: "kube", "watch pods in build cluster {alias:?}: {e}");
                    }
                }
            }
        }));
    }
}

#[async_trait]
impl Runner for KubeRunner {
    async fn create(&self, job: &ProwJob) -> Result<PodStatus, RunnerError> {
        let build_id = job
            .status
            .as_ref()
            .map(|s| s.build_id.as_str())
            .unwrap_or_default();
        let mut pod = crate::prow_job_to_pod(job, build_id)
            .map_err(|e| RunnerError::Unprocessable(e.to_string()))?;
        pod.metadata.namespace = Some(self.namespace.clone());
        // As upstream plank does, for debugging: which plank made the pod.
        pod.metadata
            .labels
            .get_or_insert_default()
            .insert(PLANK_VERSION.to_owned(), PLANK_VERSION_VALUE.to_owned());
        let name = job.name();
        match self.api.create(&PostParams::default(), &pod).await {
            Ok(created) => self.status_of(&created),
            Err(e) if api_code(&e) == 409 => Err(RunnerError::AlreadyExists {
                name: name.to_owned(),
            }),
            // Any other 4xx is one of Prow's request errors: the job ends in `error`.
            Err(e) if (400..500).contains(&api_code(&e)) => {
                Err(RunnerError::Unprocessable(self.failed("create", name, &e)))
            }
            Err(e) => Err(RunnerError::Transient(self.failed("create", name, &e))),
        }
    }

    async fn get(&self, name: &str) -> Result<Option<PodStatus>, RunnerError> {
        match self.api.get_opt(name).await {
            Ok(Some(pod)) => self.status_of(&pod).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(RunnerError::Transient(self.failed("get", name, &e))),
        }
    }

    async fn delete(&self, name: &str) -> Result<(), RunnerError> {
        match self.api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(()),
            Err(e) if api_code(&e) == 404 => Ok(()),
            Err(e) => Err(RunnerError::Transient(self.failed("delete", name, &e))),
        }
    }

    async fn list(&self) -> Result<Vec<PodStatus>, RunnerError> {
        let params = ListParams::default().labels(&created_by_prow());
        let pods = self
            .api
            .list(&params)
            .await
            .map_err(|e| RunnerError::Transient(self.failed("list", "", &e)))?;
        let mut out: Vec<PodStatus> = pods.items.iter().filter_map(pod_status).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn changes(&self) -> Option<Arc<Notify>> {
        self.start_watcher();
        Some(self.changes.clone())
    }
}
