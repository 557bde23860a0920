//! Runners: where a ProwJob's pod runs.
//!
//! A [`Runner`] is to plank what a build cluster's pod API is to Prow's plank: it creates the
//! pod for a job (named after the job), reports what the pod is doing, and deletes it. plank
//! never holds a handle to a running job; it asks the runner about the pod by name on every
//! pass, so a restarted plank picks up exactly where the last one stopped.
//!
//! [`LocalRunner`] is the embedded default: each pod is a directory on disk and a process
//! group on this machine. The Kubernetes backend implements the same trait over real Pods.

use async_trait::async_trait;
use prow_core::ProwJob;
use prow_core::k8s_openapi::jiff::Timestamp;

/// The phase of a pod, as Kubernetes names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PodPhase {
    /// Created, but the test has not started: not yet scheduled, or still setting up (cloning).
    Pending,
    /// The test containers are running.
    Running,
    /// Every container finished and the test passed.
    Succeeded,
    /// Every container finished and the test failed.
    Failed,
    /// The runner cannot tell: the pod's process is gone without a result.
    Unknown,
}

/// Why a pod stopped without finishing (Prow's `PodUnexpectedStopCause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopCause {
    /// The node evicted the pod.
    Evicted,
    /// A container was killed for using too much memory.
    OomKilled,
    /// The node became unreachable while the pod was being deleted.
    Unreachable,
    /// The pod stopped and nothing says why (locally: its process died without a result).
    Unknown,
}

impl StopCause {
    /// Prow's word for the cause, as it appears in job descriptions.
    pub fn as_str(self) -> &'static str {
        match self {
            StopCause::Evicted => "evicted",
            StopCause::OomKilled => "oomkilled",
            StopCause::Unreachable => "unreachable",
            StopCause::Unknown => "unknown",
        }
    }
}

/// What a runner knows about one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PodStatus {
    /// The pod's name: the ProwJob's name.
    pub name: String,
    /// The ProwJob the pod belongs to (the `prow.k8s.io/id` label).
    pub prowjob: String,
    /// The build ID the pod runs.
    pub build_id: String,
    /// Its phase.
    pub phase: PodPhase,
    /// When the pod was created.
    pub created: Timestamp,
    /// When the pod was scheduled and began setting up (Kubernetes' `status.startTime`).
    pub started: Option<Timestamp>,
    /// When its last container finished, for finished pods.
    pub finished: Option<Timestamp>,
    /// Why it stopped unexpectedly, if it did.
    pub stop_cause: Option<StopCause>,
    /// Whether it is being deleted.
    pub deleting: bool,
    /// For [`PodPhase::Succeeded`]: whether every container recorded a result (Prow's
    /// `didPodSucceed`).
    pub all_containers_finished: bool,
    /// Where and how it runs, for people: "on the host", "in docker", a node name.
    pub place: String,
    /// Why it ended as it did, for people (Kubernetes' `status.message`); empty when all is well.
    pub message: String,
}

impl PodStatus {
    /// A pod `name` of job `prowjob` running build `build_id`, in `phase`, created at `created`;
    /// the other fields empty, to be set as needed.
    pub fn new(
        name: impl Into<String>,
        prowjob: impl Into<String>,
        build_id: impl Into<String>,
        phase: PodPhase,
        created: Timestamp,
    ) -> Self {
        PodStatus {
            name: name.into(),
            prowjob: prowjob.into(),
            build_id: build_id.into(),
            phase,
            created,
            started: None,
            finished: None,
            stop_cause: None,
            deleting: false,
            all_containers_finished: false,
            place: String::new(),
            message: String::new(),
        }
    }
}

/// Why a runner call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunnerError {
    /// The pod cannot be made from this job, whatever is retried: plank marks the job `error`
    /// with this reason (Prow's request errors).
    #[error("{0}")]
    Unprocessable(String),
    /// A pod of that name exists already.
    #[error("pod {name:?} already exists")]
    AlreadyExists {
        /// The pod's name.
        name: String,
    },
    /// Something that may pass on a later try: a file, a process, the API server.
    #[error("{0}")]
    Transient(String),
}

/// Creates, inspects and deletes the pods that run ProwJobs.
#[async_trait]
pub trait Runner: Send + Sync {
    /// Creates and starts the pod for `job`, whose `status.build_id` is set. The pod is named
    /// after the job; [`RunnerError::AlreadyExists`] when it exists.
    async fn create(&self, job: &ProwJob) -> Result<PodStatus, RunnerError>;

    /// The pod called `name`, if it exists.
    async fn get(&self, name: &str) -> Result<Option<PodStatus>, RunnerError>;

    /// Deletes the pod called `name`: asks its processes to stop (SIGTERM, then SIGKILL after
    /// the grace period) and removes it. Deleting a missing pod is not an error.
    async fn delete(&self, name: &str) -> Result<(), RunnerError>;

    /// Every pod the runner has.
    async fn list(&self) -> Result<Vec<PodStatus>, RunnerError>;

    /// Notified whenever a pod changes phase, for runners that can tell (plank then looks at
    /// once instead of at its next resync).
    fn changes(&self) -> Option<std::sync::Arc<tokio::sync::Notify>> {
        None
    }
}

mod local;

pub use local::{
    BUILD_LOG_FILE, ContainerRuntime, HOST_PATH, Launch, LocalOptions, LocalRunner, Phase,
    PodResult, run_pod, run_pod_process, run_pod_with_progress,
};
