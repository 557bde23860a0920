//! [`KubeStore`]: the job store over a cluster's `prow.k8s.io/v1` ProwJobs.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use futures::StreamExt;
use kube::api::{Api, DeleteParams, ListParams as KubeListParams, PostParams, Preconditions};
use kube::runtime::watcher;
use prow_core::ProwJob;
use tokio::sync::broadcast;

use super::api_code;
use crate::store::{JobStore, ListParams, StoreError, WatchEvent};

/// How many watch events a slow receiver may fall behind before it lags.
const WATCH_CAPACITY: usize = 1024;

/// How long [`JobStore::ready`] waits for the API server.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// ProwJobs kept as custom resources in one namespace of a Kubernetes cluster.
///
/// Every call is one API request (two for a conflict, to name the stored version). The watch
/// runs kube-runtime's watcher from the first [`JobStore::watch`] call until the store is
/// dropped, relisting after errors with its backoff.
pub struct KubeStore {
    api: Api<ProwJob>,
    namespace: String,
    events: broadcast::Sender<WatchEvent>,
    watcher: Mutex<Option<tokio::task::JoinHandle<()>>>,
    synced: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for KubeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeStore")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl Drop for KubeStore {
    fn drop(&mut self) {
        let task = self.watcher.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = task.take() {
            task.abort();
        }
    }
}

impl KubeStore {
    /// The ProwJobs in `namespace` of the cluster `client` talks to.
    pub fn new(client: kube::Client, namespace: &str) -> Self {
        let (events, _) = broadcast::channel(WATCH_CAPACITY);
        KubeStore {
            api: Api::namespaced(client, namespace),
            namespace: namespace.to_owned(),
            events,
            watcher: Mutex::new(None),
            synced: tokio::sync::watch::Sender::new(false),
        }
    }

    /// Waits until the watch started by [`JobStore::watch`] has listed the namespace once:
    /// from then on every change is reported. (Changes between the `watch` call and the end of
    /// that first listing are not; a controller's first pass lists them anyway.)
    pub async fn watching(&self) {
        let mut synced = self.synced.subscribe();
        // The sender lives as long as `self`, so this only ends when synced.
        let _ = synced.wait_for(|s| *s).await;
    }

    /// A failed request: [`StoreError::Unavailable`] when asking again may work (no answer,
    /// or 429 or 5xx from an overloaded or restarting API server), else
    /// [`StoreError::Backend`].
    fn backend(&self, action: &str, name: &str, error: kube::Error) -> StoreError {
        let location = format!("prowjobs in namespace {:?}", self.namespace);
        let reason = format!("{action} {name:?}: {error}");
        let transient = match &error {
            kube::Error::Api(_) => matches!(api_code(&error), 429 | 500 | 502 | 503 | 504),
            kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => {
                true
            }
            _ => false,
        };
        let source = Some(Box::new(error) as Box<dyn std::error::Error + Send + Sync>);
        if transient {
            StoreError::Unavailable {
                location,
                reason,
                source,
            }
        } else {
            StoreError::Backend {
                location,
                reason,
                source,
            }
        }
    }

    /// Maps the API server's refusals onto the store's errors; anything else is a backend
    /// failure.
    fn refusal(&self, action: &str, name: &str, error: kube::Error) -> StoreError {
        let message = super::api_status(&error).map(|s| s.message.clone());
        match (api_code(&error), message) {
            (404, _) => StoreError::NotFound {
                name: name.to_owned(),
            },
            (409, _) if action == "create" => StoreError::AlreadyExists {
                name: name.to_owned(),
            },
            (400 | 422, Some(message)) => StoreError::Invalid {
                name: name.to_owned(),
                reason: message,
            },
            _ => self.backend(action, name, error),
        }
    }

    /// A conflict on `name`, naming the version stored now when it can be read.
    async fn conflict(&self, name: &str, expected: &str) -> StoreError {
        let actual = match self.api.get_opt(name).await {
            Ok(Some(job)) => job.metadata.resource_version.unwrap_or_default(),
            Ok(None) => "none: the job is gone".to_owned(),
            Err(e) => format!("unknown: {e}"),
        };
        StoreError::Conflict {
            name: name.to_owned(),
            expected: expected.to_owned(),
            actual,
        }
    }

    fn check_namespace(&self, job: &ProwJob) -> Result<(), StoreError> {
        match job.metadata.namespace.as_deref() {
            Some(ns) if !ns.is_empty() && ns != self.namespace => Err(StoreError::Invalid {
                name: job.name().to_owned(),
                reason: format!(
                    "metadata.namespace: Invalid value: {ns:?}: the store keeps jobs in {:?}",
                    self.namespace
                ),
            }),
            _ => Ok(()),
        }
    }

    fn start_watcher(&self) {
        let mut task = self.watcher.lock().unwrap_or_else(|e| e.into_inner());
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(target: "kube", "no tokio runtime: the prowjob watch cannot start");
            return;
        };
        let stream = watcher(self.api.clone(), watcher::Config::default());
        let events = self.events.clone();
        let namespace = self.namespace.clone();
        let synced = self.synced.clone();
        *task = Some(runtime.spawn(forward(stream, events, synced, namespace)));
    }
}

/// Turns the watcher's stream into store events: `Added` for jobs not seen before, `Modified`
/// for known ones, `Deleted` for deletions and for jobs a relist no longer shows. The first
/// listing only learns what exists: a watch reports changes from now on.
async fn forward(
    stream: impl futures::Stream<Item = Result<watcher::Event<ProwJob>, watcher::Error>> + Send,
    events: broadcast::Sender<WatchEvent>,
    synced: tokio::sync::watch::Sender<bool>,
    namespace: String,
) {
    let mut tracker = Tracker::default();
    let mut stream = std::pin::pin!(stream);
    while let Some(event) = stream.next().await {
        match event {
            Ok(event) => {
                for out in tracker.apply(event) {
                    // No receiver is not an error: nobody watches right now.
                    let _ = events.send(out);
                }
                if tracker.synced {
                    synced.send_if_modified(|s| !std::mem::replace(s, true));
                }
            }
            Err(e) => {
                tracing::warn!(target: "kube", "watch prowjobs in namespace {namespace:?}: {e}");
            }
        }
    }
}

/// What the watch knows exists, to tell additions from modifications across relists.
#[derive(Default)]
struct Tracker {
    known: HashMap<String, ProwJob>,
    relist: Option<HashMap<String, ProwJob>>,
    synced: bool,
}

impl Tracker {
    fn upsert(&mut self, job: ProwJob) -> Option<WatchEvent> {
        let name = job.name().to_owned();
        let previous = self.known.insert(name, job.clone());
        match previous {
            None => Some(WatchEvent::Added(Box::new(job))),
            Some(old) if old.metadata.resource_version == job.metadata.resource_version => None,
            Some(_) => Some(WatchEvent::Modified(Box::new(job))),
        }
    }

    fn apply(&mut self, event: watcher::Event<ProwJob>) -> Vec<WatchEvent> {
        match event {
            watcher::Event::Init => {
                self.relist = Some(HashMap::new());
                Vec::new()
            }
            watcher::Event::InitApply(job) => {
                if let Some(seen) = &mut self.relist {
                    seen.insert(job.name().to_owned(), job);
                }
                Vec::new()
            }
            watcher::Event::InitDone => {
                let seen = self.relist.take().unwrap_or_default();
                if !self.synced {
                    self.synced = true;
                    self.known = seen;
                    return Vec::new();
                }
                let mut out: Vec<WatchEvent> = Vec::new();
                let gone: Vec<String> = self
                    .known
                    .keys()
                    .filter(|name| !seen.contains_key(*name))
                    .cloned()
                    .collect();
                for name in gone {
                    if let Some(job) = self.known.remove(&name) {
                        out.push(WatchEvent::Deleted(Box::new(job)));
                    }
                }
                let mut seen: Vec<ProwJob> = seen.into_values().collect();
                seen.sort_by(|a, b| a.name().cmp(b.name()));
                out.extend(seen.into_iter().filter_map(|job| self.upsert(job)));
                out
            }
            watcher::Event::Apply(job) => self.upsert(job).into_iter().collect(),
            watcher::Event::Delete(job) => {
                self.known.remove(job.name());
                vec![WatchEvent::Deleted(Box::new(job))]
            }
        }
    }
}

#[async_trait]
impl JobStore for KubeStore {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    async fn create(&self, mut job: ProwJob) -> Result<ProwJob, StoreError> {
        let name = job.name().to_owned();
        if let Some(rv) = job.metadata.resource_version.as_deref() {
            return Err(StoreError::Invalid {
                name,
                reason: format!(
                    "metadata.resourceVersion: Invalid value: {rv:?}: must not be set on create"
                ),
            });
        }
        self.check_namespace(&job)?;
        job.metadata.namespace = Some(self.namespace.clone());
        self.api
            .create(&PostParams::default(), &job)
            .await
            .map_err(|e| self.refusal("create", &name, e))
    }

    /// Whether the API server answers a list of at most one ProwJob in the namespace.
    async fn ready(&self) -> Result<(), StoreError> {
        let params = KubeListParams::default().limit(1);
        let probe = self.api.list(&params);
        match tokio::time::timeout(READY_TIMEOUT, probe).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(self.backend("list", "", e)),
            Err(_) => Err(StoreError::Unavailable {
                location: format!("prowjobs in namespace {:?}", self.namespace),
                reason: format!(
                    "the API server did not answer within {}s",
                    READY_TIMEOUT.as_secs()
                ),
                source: None,
            }),
        }
    }

    async fn get(&self, name: &str) -> Result<Option<ProwJob>, StoreError> {
        self.api
            .get_opt(name)
            .await
            .map_err(|e| self.backend("get", name, e))
    }

    async fn list(&self, params: &ListParams) -> Result<Vec<ProwJob>, StoreError> {
        let mut kube_params = KubeListParams::default();
        if let Some(selector) = &params.label_selector {
            kube_params = kube_params.labels(&selector.to_string());
        }
        let mut jobs = self
            .api
            .list(&kube_params)
            .await
            .map_err(|e| self.backend("list", "", e))?
            .items;
        // The API server cannot select on `status.state` for a custom resource.
        jobs.retain(|j| params.matches(j));
        jobs.sort_by(|a, b| a.name().cmp(b.name()));
        Ok(jobs)
    }

    async fn update(&self, mut job: ProwJob) -> Result<ProwJob, StoreError> {
        let name = job.name().to_owned();
        self.check_namespace(&job)?;
        job.metadata.namespace = Some(self.namespace.clone());
        let expected = job.metadata.resource_version.clone().unwrap_or_default();
        match self.api.replace(&name, &PostParams::default(), &job).await {
            Ok(stored) => Ok(stored),
            Err(e) if api_code(&e) == 409 => Err(self.conflict(&name, &expected).await),
            Err(e) => Err(self.refusal("update", &name, e)),
        }
    }

    async fn delete(
        &self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<ProwJob, StoreError> {
        let Some(current) = self.get(name).await? else {
            return Err(StoreError::NotFound {
                name: name.to_owned(),
            });
        };
        // Delete exactly the job read, so what is returned is what was deleted.
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: Some(
                    resource_version
                        .map(str::to_owned)
                        .or_else(|| current.metadata.resource_version.clone())
                        .unwrap_or_default(),
                ),
                uid: current.metadata.uid.clone(),
            }),
            ..DeleteParams::default()
        };
        match self.api.delete(name, &params).await {
            Ok(_) => Ok(current),
            Err(e) if api_code(&e) == 409 => {
                let expected = resource_version.unwrap_or_default();
                if resource_version.is_none() {
                    // Changed between the read and the delete: a caller without a precondition
                    // does not care, so try once more with what is stored now.
                    return Box::pin(self.delete_unconditionally(name)).await;
                }
                Err(self.conflict(name, expected).await)
            }
            Err(e) => Err(self.refusal("delete", name, e)),
        }
    }

    fn watch(&self) -> broadcast::Receiver<WatchEvent> {
        let receiver = self.events.subscribe();
        self.start_watcher();
        receiver
    }
}

impl KubeStore {
    async fn delete_unconditionally(&self, name: &str) -> Result<ProwJob, StoreError> {
        let current = self.get(name).await?.ok_or_else(|| StoreError::NotFound {
            name: name.to_owned(),
        })?;
        match self.api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(current),
            Err(e) => Err(self.refusal("delete", name, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(name: &str, version: &str) -> ProwJob {
        let mut job = ProwJob::new(
            name,
            serde_json::from_value(serde_json::json!({"type": "periodic", "job": name})).unwrap(),
        );
        job.metadata.resource_version = Some(version.to_owned());
        job
    }

    fn names(events: &[WatchEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| {
                let kind = match e {
                    WatchEvent::Added(_) => "added",
                    WatchEvent::Modified(_) => "modified",
                    WatchEvent::Deleted(_) => "deleted",
                };
                format!(
                    "{kind} {}@{}",
                    e.job().name(),
                    e.job().metadata.resource_version.as_deref().unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn relists_report_what_changed_while_the_watch_was_down() {
        let mut tracker = Tracker::default();
        let mut feed = |event| names(&tracker.apply(event));
        // The first listing only learns what exists.
        assert!(feed(watcher::Event::Init).is_empty());
        assert!(feed(watcher::Event::InitApply(job("a", "1"))).is_empty());
        assert!(feed(watcher::Event::InitApply(job("b", "2"))).is_empty());
        assert!(feed(watcher::Event::InitDone).is_empty());
        assert_eq!(feed(watcher::Event::Apply(job("c", "3"))), ["added c@3"]);
        assert_eq!(feed(watcher::Event::Apply(job("a", "4"))), ["modified a@4"]);
        assert!(
            feed(watcher::Event::Apply(job("a", "4"))).is_empty(),
            "the same version twice"
        );
        // The watch broke; meanwhile b was deleted, c changed and d created.
        assert!(feed(watcher::Event::Init).is_empty());
        for j in [job("a", "4"), job("c", "6"), job("d", "7")] {
            assert!(feed(watcher::Event::InitApply(j)).is_empty());
        }
        assert_eq!(
            feed(watcher::Event::InitDone),
            ["deleted b@2", "modified c@6", "added d@7"]
        );
        assert_eq!(feed(watcher::Event::Delete(job("d", "8"))), ["deleted d@8"]);
    }
}
