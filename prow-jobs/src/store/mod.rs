//! The job store: where ProwJobs live, with the Kubernetes API's semantics.
//!
//! [`JobStore`] is written so that a store over a cluster's `prow.k8s.io/v1` custom resources
//! implements it call for call: names are unique in the store's namespace, every write bumps
//! `metadata.resourceVersion`, updates and deletes can be made conditional on it, and a watch
//! reports every committed change in order. [`SqliteStore`] is the embedded default: the very
//! same objects, as JSON, in one SQLite file.

mod cache;
mod selector;
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use prow_core::{ProwJob, ProwJobState};
use tokio::sync::broadcast;

pub use cache::{CACHE_FILL_WAIT, CachedStore};
pub use selector::{
    Operator, Requirement, Selector, SelectorError, label_key_errors, label_value_errors, parse,
};
pub use sqlite::{SCHEMA_VERSION, SqliteOptions, SqliteStore};

/// The namespace a store puts jobs in when none is given; Prow's `prowjob_namespace` default.
pub const DEFAULT_NAMESPACE: &str = "default";

/// The Kubernetes resource name the store's messages use, as the API server words them.
const RESOURCE: &str = "prowjobs.prow.k8s.io";

/// What [`JobStore::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// Only jobs whose labels match; `None` lists every job.
    pub label_selector: Option<Selector>,
    /// Only jobs whose `status.state` is one of these (a job without a status has none);
    /// empty lists jobs in any state. The SQLite store answers through an index; a store
    /// over the Kubernetes API filters what the API server returns.
    pub states: Vec<ProwJobState>,
}

impl ListParams {
    /// Lists jobs matching `selector`.
    pub fn labels(selector: Selector) -> Self {
        ListParams {
            label_selector: Some(selector),
            states: Vec::new(),
        }
    }

    /// These parameters, listing only jobs in one of `states`.
    pub fn in_states(mut self, states: &[ProwJobState]) -> Self {
        self.states = states.to_vec();
        self
    }

    /// Whether `job` is one these parameters list.
    pub fn matches(&self, job: &ProwJob) -> bool {
        if !self.states.is_empty() {
            let Some(status) = &job.status else {
                return false;
            };
            if !self.states.contains(&status.state) {
                return false;
            }
        }
        match &self.label_selector {
            Some(selector) => {
                let empty = BTreeMap::new();
                selector.matches(job.metadata.labels.as_ref().unwrap_or(&empty))
            }
            None => true,
        }
    }

    /// Lists jobs matching the selector written as `selector` (Kubernetes syntax).
    pub fn parse_labels(selector: &str) -> Result<Self, SelectorError> {
        Ok(Self::labels(selector.parse()?))
    }
}

/// One write of a batch given to [`JobStore::write_all`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Write {
    /// Create the job, as [`JobStore::create`].
    Create(ProwJob),
    /// Replace the stored job, as [`JobStore::update`].
    Update(ProwJob),
}

impl Write {
    /// The job the write is about.
    pub fn job(&self) -> &ProwJob {
        match self {
            Write::Create(j) | Write::Update(j) => j,
        }
    }
}

/// A committed change to the store, sent to every watcher in commit order.
///
/// The job is boxed: a watch channel keeps a ring of events for slow watchers, and an inline
/// `ProwJob` (about 4 KB) made an idle store's ring of 1,024 cost 4 MB.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum WatchEvent {
    /// A job was created; the job as stored.
    Added(Box<ProwJob>),
    /// A job was updated; the job as stored after the update.
    Modified(Box<ProwJob>),
    /// A job was deleted; the job as it was last stored.
    Deleted(Box<ProwJob>),
}

impl WatchEvent {
    /// The job the event is about.
    pub fn job(&self) -> &ProwJob {
        match self {
            WatchEvent::Added(j) | WatchEvent::Modified(j) | WatchEvent::Deleted(j) => j,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No job of that name exists.
    #[error("{RESOURCE} {name:?} not found")]
    NotFound {
        /// The job's name.
        name: String,
    },
    /// A job of that name exists already.
    #[error("{RESOURCE} {name:?} already exists")]
    AlreadyExists {
        /// The job's name.
        name: String,
    },
    /// The caller's `resourceVersion` is not the stored one: someone else changed the job.
    #[error(
        "operation cannot be fulfilled on {RESOURCE} {name:?}: the object has been modified \
         (resourceVersion {expected:?} given, {actual:?} stored); apply your changes to the \
         latest version and try again"
    )]
    Conflict {
        /// The job's name.
        name: String,
        /// The resource version the caller expected.
        expected: String,
        /// The resource version in the store.
        actual: String,
    },
    /// The request is not acceptable, whatever the store holds.
    #[error("{RESOURCE} {name:?} is invalid: {reason}")]
    Invalid {
        /// The job's name (empty when the job has none).
        name: String,
        /// What is wrong, with the field path.
        reason: String,
    },
    /// The storage underneath is out of space: the disk, or the store's size limit.
    #[error("job store {location} is full: {reason}")]
    Full {
        /// Where the store is: a file path, or `:memory:`.
        location: String,
        /// What failed.
        reason: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The storage underneath cannot serve the request now but may later: it is locked or busy,
    /// an I/O operation failed, or the API server is unreachable or overloaded.
    #[error("job store {location} is unavailable: {reason}")]
    Unavailable {
        /// Where the store is: a file path, `:memory:`, or a cluster's namespace.
        location: String,
        /// What failed.
        reason: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The storage underneath failed: the file, the database or the task running it.
    #[error("job store {location}: {reason}")]
    Backend {
        /// Where the store is: a file path, or `:memory:`.
        location: String,
        /// What went wrong.
        reason: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl StoreError {
    /// Whether trying the same request again later can succeed: the store was full, busy,
    /// locked or unreachable. A conflict, a missing or existing job, an invalid request or a
    /// broken store answer the same until something else changes.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            StoreError::Full { .. } | StoreError::Unavailable { .. }
        )
    }
}

/// Where ProwJobs are kept: create, read, list, update, delete and watch, with Kubernetes'
/// semantics, in one namespace.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// The namespace the store's jobs live in.
    fn namespace(&self) -> &str;

    /// Stores a new job and returns it as stored: with `resourceVersion`, `uid`,
    /// `creationTimestamp` and the store's namespace set. The job must have a name, no
    /// `resourceVersion`, and no namespace other than the store's.
    async fn create(&self, job: ProwJob) -> Result<ProwJob, StoreError>;

    /// The job called `name`, if there is one.
    async fn get(&self, name: &str) -> Result<Option<ProwJob>, StoreError>;

    /// The jobs matching `params`, sorted by name.
    async fn list(&self, params: &ListParams) -> Result<Vec<ProwJob>, StoreError>;

    /// [`list`](Self::list), as shared handles for readers that only read: a store that
    /// keeps its jobs decoded ([`CachedStore`]) hands out its own copies instead of new
    /// ones. The default wraps what `list` returns.
    async fn list_shared(&self, params: &ListParams) -> Result<Vec<Arc<ProwJob>>, StoreError> {
        Ok(self.list(params).await?.into_iter().map(Arc::new).collect())
    }

    /// Replaces a stored job. Its `resourceVersion` must equal the stored one, else
    /// [`StoreError::Conflict`]; returns the job as stored, with its new version. `uid` and
    /// `creationTimestamp` stay those of the stored job.
    async fn update(&self, job: ProwJob) -> Result<ProwJob, StoreError>;

    /// Deletes the job called `name`, only if its version is `resource_version` when one is
    /// given; returns the job as it was.
    async fn delete(
        &self,
        name: &str,
        resource_version: Option<&str>,
    ) -> Result<ProwJob, StoreError>;

    /// Carries out `writes` in order, each exactly as [`create`](Self::create) or
    /// [`update`](Self::update) would, and returns each one's result in the same order: one
    /// write refused (a conflict, an existing job, an invalid job) leaves the others to
    /// proceed, and watchers see one event per stored write, in order. A store may commit the
    /// whole batch at once (the SQLite store does, in one transaction); then a failure of the
    /// storage itself fails every write of the batch and stores none. The default writes one
    /// at a time.
    async fn write_all(&self, writes: Vec<Write>) -> Vec<Result<ProwJob, StoreError>> {
        let mut results = Vec::with_capacity(writes.len());
        for write in writes {
            results.push(match write {
                Write::Create(job) => self.create(job).await,
                Write::Update(job) => self.update(job).await,
            });
        }
        results
    }

    /// A number that changes whenever the store's jobs change (made by this process or any
    /// other), when the store can tell cheaply; `None` when it cannot. Readers that cache what
    /// they built from a list (deck's `/prowjobs.js`) rebuild when it moves.
    async fn version(&self) -> Result<Option<u64>, StoreError> {
        Ok(None)
    }

    /// Every change committed from now on, in commit order. A receiver that falls behind
    /// gets `RecvError::Lagged` and should list again.
    fn watch(&self) -> broadcast::Receiver<WatchEvent>;

    /// Whether the store can be written now: `Ok` when a cheap real request succeeds, else
    /// why not (for readiness endpoints; [`StoreError::is_transient`] tells whether waiting
    /// may help). Answers within a few seconds.
    async fn ready(&self) -> Result<(), StoreError>;
}
