//! The error type of prow-jobs.

use std::path::PathBuf;

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
    /// A pod utility's options are not usable.
    #[error("load {utility} options: {reason}")]
    InvalidOptions {
        /// The pod utility: entrypoint, clonerefs, initupload or sidecar.
        utility: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A file or directory could not be created, read or written.
    #[error("{action} {}", path.display())]
    Io {
        /// What was being done, such as `create process log`.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A bucket setting names no usable storage.
    #[error("open bucket {bucket:?}: {reason}")]
    InvalidBucket {
        /// The bucket as configured.
        bucket: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// Object storage failed a read or a listing.
    #[error("read {path}")]
    Download {
        /// The object's (or listed folder's) path.
        path: String,
        /// The storage backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A path to read named something outside the store (`..`, an absolute path).
    #[error("read {path}: not a plain relative path")]
    BadArtifactPath {
        /// The refused path.
        path: String,
    },
    /// Object storage refused or failed a write.
    #[error("upload {path}")]
    Upload {
        /// The object's path.
        path: String,
        /// The storage backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Clone records could not be read.
    #[error("read clone records {}: {reason}", path.display())]
    CloneRecords {
        /// The records file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Cloning failed for some refs (clonerefs with `fail`, and initupload, report this).
    #[error("clone refs: {failed} clone records failed")]
    CloneFailed {
        /// How many records failed.
        failed: usize,
    },
}

/// An [`Error::Io`] maker for `map_err`.
pub(crate) fn io_error(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}
