//! The error type of prow-jobs.

use prow_core::ProwJobType;

/// Everything that can go wrong in prow-jobs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A ProwJob run by the kubernetes agent has no `pod_spec` to turn into a pod.
    #[error("build pod for prowjob {name:?}: it lacks a pod spec")]
    MissingPodSpec {
        /// The ProwJob's name.
        name: String,
    },
    /// A job type that tests a repository has no `refs`.
    #[error("build environment for {job_type} job {job:?}: it has no refs")]
    MissingRefs {
        /// The job's type.
        job_type: ProwJobType,
        /// The job's name.
        job: String,
    },
    /// A presubmit's refs name no pull request.
    #[error("build environment for presubmit job {job:?}: its refs have no pulls")]
    MissingPull {
        /// The job's name.
        job: String,
    },
    /// A decorated job's decoration config names no utility images.
    #[error("decorate job {job:?}: decoration config has no utility_images")]
    MissingUtilityImages {
        /// The job's name.
        job: String,
    },
    /// A value could not be encoded as the JSON a pod utility reads.
    #[error("encode {what} as JSON")]
    Encode {
        /// What was being encoded, such as `CLONEREFS_OPTIONS`.
        what: &'static str,
        /// The serialiser's complaint.
        #[source]
        source: serde_json::Error,
    },
}
