//! prow-core: the vocabulary of prow-rs and Prow's pure decision engines.
//!
//! Owns the `prow.k8s.io/v1` ProwJob API (spec, status, refs, pulls, decoration config, job
//! types, states and agents), the well-known labels and annotations, Go-compatible durations
//! and the CRD; tide's pure merge engine and merge-queue strategies (`tide`). Later: the
//! `/command` parser, OWNERS resolution.
//!
//! Must never know about: tokio, HTTP, files on disk, GitHub or Kubernetes clients. Everything
//! here is a value or a pure function over values, so every other crate can build on it.

pub mod buildid;
pub mod crd;
pub mod cron;
pub mod decoration;
pub mod duration;
pub mod error;
pub mod intern;
pub mod labels;
pub mod load;
pub mod prowjob;
pub mod refs;
pub mod reporting;
mod serde_util;
pub mod tide;
pub mod validate;

pub use crd::prowjob_crd;
pub use decoration::{
    CensoringOptions, DecorationConfig, GcsConfiguration, PathStrategy, Resources,
    SchedulingOptions, SecretKeyRef, UtilityImages,
};
pub use duration::{Duration, DurationError, MetaDuration};
pub use error::{Error, Problem};
pub use intern::{Interner, ProwJobParts};
pub use load::{Loaded, prowjob_from_yaml, prowjob_to_yaml};
pub use prowjob::{
    JenkinsSpec, ProwJob, ProwJobAgent, ProwJobSpec, ProwJobState, ProwJobStatus, ProwJobType,
    TektonPipelineRunSpec,
};
pub use refs::{MergeMethod, Pull, PullRefsError, Refs};
pub use reporting::{
    GitHubTeamSlug, ProwJobDefault, ReporterConfig, RerunAuthConfig, ResultStoreConfig,
    SlackReporterConfig,
};
pub use validate::ValidationContext;

/// Re-exported Kubernetes API types used in the public API, so users need no version match.
pub use k8s_openapi;
