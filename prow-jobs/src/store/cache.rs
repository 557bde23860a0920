//! [`CachedStore`]: one decoded copy of the store's jobs, shared by every reader in a process.
//!
//! Upstream Prow's controllers read ProwJobs from informer caches: one watch-fed copy per
//! process, so a controller's list costs no API request and no decoding. Every part of `prow
//! serve` (plank, horologium, sinker, crier, tide, deck, the metrics) lists the whole store
//! on each pass; over SQLite each list read every row, inflated it and decoded its JSON, and
//! at start-up several ran at once, each with its own copy. The cache decodes each job once,
//! keeps it behind an `Arc`, and answers [`JobStore::list_shared`] with shared handles.
//!
//! Reads stay exact, not eventually consistent: before answering, a list asks the store for
//! its [version](JobStore::version) (one small query), applies the watch events waiting for
//! it, and lists the store again unless the events lead, one version after another, up to
//! that version. Each write to the SQLite store takes the next version, so a skipped version
//! is a write this process did not see (another process made it), and a watch that fell
//! behind has lost some; both make the cache list again. A write this process made is
//! therefore always seen by the next list, as with the store itself. A store whose versions
//! do not count writes one by one is listed again every time, which is correct but saves
//! nothing; a store that cannot tell its version (the Kubernetes API here) is passed through
//! uncached.
//!
//! Like a controller that waits for its informers to sync, the store is not
//! [ready](JobStore::ready) until the copy is filled: the first readiness probe starts the
//! fill in the background and waits up to [`CACHE_FILL_WAIT`] for it, and later probes answer
//! "unavailable" until it is done. Writes, `get` and `watch` go straight to the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use prow_core::ProwJob;
use tokio::sync::{Mutex, broadcast};

use super::{JobStore, ListParams, StoreError, WatchEvent, Write};

/// How long a readiness probe waits for the first fill of the copy before answering that
/// the store is not ready yet.
pub const CACHE_FILL_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A [`JobStore`] whose lists come from one shared, watch-fed copy of the jobs.
pub struct CachedStore {
    shared: Arc<Shared>,
}

struct Shared {
    inner: Arc<dyn JobStore>,
    state: Mutex<Option<Synced>>,
    /// Whether a first fill was started, and whether it is done.
    fill_started: std::sync::atomic::AtomicBool,
    filled: tokio::sync::watch::Sender<bool>,
}

/// The copy, and how far it reaches.
struct Synced {
    jobs: BTreeMap<String, Arc<ProwJob>>,
    /// The store's version the copy reflects: every write up to it is in the copy.
    version: u64,
    /// A write is missing: an event skipped a version (another process wrote).
    gap: bool,
    /// Every change since the copy was listed, not yet applied.
    events: broadcast::Receiver<WatchEvent>,
}

impl std::fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore")
            .field("namespace", &self.shared.inner.namespace())
            .finish_non_exhaustive()
    }
}

/// A job's `resourceVersion` as a number (the SQLite store's always are).
fn version_of(job: &ProwJob) -> Option<u64> {
    job.metadata.resource_version.as_deref()?.parse().ok()
}

impl Synced {
    /// Applies the waiting events; `false` when some were lost (the watch fell behind) or
    /// never came (another process wrote).
    fn catch_up(&mut self) -> bool {
        loop {
            match self.events.try_recv() {
                Ok(event) => self.apply(event),
                Err(broadcast::error::TryRecvError::Empty) => return !self.gap,
                Err(
                    broadcast::error::TryRecvError::Lagged(_)
                    | broadcast::error::TryRecvError::Closed,
                ) => {
                    return false;
                }
            }
        }
    }

    /// One change, unless the copy already holds the job at that version or later (events
    /// from before the list that made the copy).
    ///
    /// Each write takes the next version, so events follow one another without a hole; a
    /// hole is a write that was not seen here, and the copy can no longer vouch for itself.
    fn apply(&mut self, event: WatchEvent) {
        let Some(version) = version_of(event.job()) else {
            self.gap = true;
            return;
        };
        if version == self.version + 1 {
            self.version = version;
        } else if version > self.version {
            self.gap = true;
            return;
        }
        let name = event.job().metadata.name.clone().unwrap_or_default();
        let newer = self
            .jobs
            .get(&name)
            .is_none_or(|held| version_of(held).is_none_or(|v| v < version));
        if !newer {
            return;
        }
        match event {
            WatchEvent::Added(job) | WatchEvent::Modified(job) => {
                self.jobs.insert(name, Arc::new(*job));
            }
            WatchEvent::Deleted(_) => {
                self.jobs.remove(&name);
            }
        }
    }
}

impl CachedStore {
    /// Caches the lists of `inner`.
    pub fn new(inner: Arc<dyn JobStore>) -> CachedStore {
        CachedStore {
            shared: Arc::new(Shared {
                inner,
                state: Mutex::new(None),
                fill_started: std::sync::atomic::AtomicBool::new(false),
                filled: tokio::sync::watch::Sender::new(false),
            }),
        }
    }

    /// The store underneath.
    pub fn inner(&self) -> &Arc<dyn JobStore> {
        &self.shared.inner
    }

    /// Fills the copy on a task of its own, once; the task outlives a caller that stops
    /// waiting for it.
    fn start_fill(&self) {
        use std::sync::atomic::Ordering;
        if self.shared.fill_started.swap(true, Ordering::SeqCst) {
            return;
        }
        let shared = Arc::clone(&self.shared);
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match shared.current().await {
                Ok(jobs) => {
                    tracing::info!(
                        target: "store",
                        jobs = jobs.map_or(0, |j| j.len()),
                        took_ms = started.elapsed().as_millis() as u64,
                        "the shared job cache is filled"
                    );
                }
                Err(e) => {
                    tracing::warn!(target: "store", error = %e, "filling the shared job cache failed; the next probe tries again");
                    shared.fill_started.store(false, Ordering::SeqCst);
                }
            }
        });
    }
}

impl Shared {
    /// Every job, shared, as of the store's version now; `None` when the store cannot tell
    /// its version and nothing can be cached.
    ///
    /// One caller at a time brings the copy up to date; the others wait for it and share
    /// the result, so readers starting together decode the store once.
    async fn current(&self) -> Result<Option<Vec<Arc<ProwJob>>>, StoreError> {
        let mut state = self.state.lock().await;
        let result = self.bring_up_to_date(&mut state).await;
        // Either the copy is filled or the store is read directly: lists can be answered.
        if result.is_ok() {
            self.filled.send_replace(true);
        }
        result
    }

    async fn bring_up_to_date(
        &self,
        state: &mut Option<Synced>,
    ) -> Result<Option<Vec<Arc<ProwJob>>>, StoreError> {
        let Some(now) = self.inner.version().await? else {
            // Nothing to fill: the store is read directly.
            return Ok(None);
        };
        if let Some(synced) = state.as_mut()
            && synced.catch_up()
            && synced.version >= now
        {
            return Ok(Some(synced.jobs.values().cloned().collect()));
        }
        // Subscribed before the version is read and the store listed, so that no change
        // between the list and the next catch-up is missed.
        let events = self.inner.watch();
        let version = self.inner.version().await?.unwrap_or(now);
        let listed = self.inner.list(&ListParams::default()).await?;
        tracing::debug!(
            target: "store",
            jobs = listed.len(),
            version,
            "listed the store into the shared job cache"
        );
        let mut synced = Synced {
            jobs: listed
                .into_iter()
                .map(|job| (job.metadata.name.clone().unwrap_or_default(), Arc::new(job)))
                .collect(),
            version,
            gap: false,
            events,
        };
        synced.catch_up();
        let jobs = synced.jobs.values().cloned().collect();
        *state = Some(synced);
        Ok(Some(jobs))
    }
}

#[async_trait]
impl JobStore for CachedStore {
    fn namespace(&self) -> &str {
        self.shared.inner.namespace()
    }

    async fn create(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
        self.shared.inner.create(job).await
    }

    async fn get(&self, name: &str) -> Result<Option<ProwJob>, StoreError> {
        self.shared.inner.get(name).await
    }

    async fn list(&self, params: &ListParams) -> Result<Vec<ProwJob>, StoreError> {
        match self.shared.current().await? {
            Some(jobs) => Ok(jobs
                .into_iter()
                .filter(|job| params.matches(job))
                .map(Arc::unwrap_or_clone)
                .collect()),
            None => self.shared.inner.list(params).await,
        }
    }

    async fn list_shared(&self, params: &ListParams) -> Result<Vec<Arc<ProwJob>>, StoreError> {
        match self.shared.current().await? {
            Some(mut jobs) => {
                jobs.retain(|job| params.matches(job));
                Ok(jobs)
            }
            None => self.shared.inner.list_shared(params).await,
        }
    }

    async fn update(&self, job: ProwJob) -> Result<ProwJob, StoreError> {
        self.shared.inner.update(job).await
    }

    async fn delete(
        &self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<ProwJob, StoreError> {
        self.shared.inner.delete(name, resource_version).await
    }

    async fn write_all(&self, writes: Vec<Write>) -> Vec<Result<ProwJob, StoreError>> {
        self.shared.inner.write_all(writes).await
    }

    async fn version(&self) -> Result<Option<u64>, StoreError> {
        self.shared.inner.version().await
    }

    fn watch(&self) -> broadcast::Receiver<WatchEvent> {
        self.shared.inner.watch()
    }

    /// The store's own readiness, and then whether the copy is filled (see the module docs).
    async fn ready(&self) -> Result<(), StoreError> {
        self.shared.inner.ready().await?;
        self.start_fill();
        let mut filled = self.shared.filled.subscribe();
        match tokio::time::timeout(CACHE_FILL_WAIT, filled.wait_for(|done| *done)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(StoreError::Unavailable {
                location: "the shared job cache".to_owned(),
                reason: "still reading the stored jobs".to_owned(),
                source: None,
            }),
        }
    }
}
