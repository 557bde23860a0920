//! prow-jobs: making, decorating, running and tracking ProwJobs.
//!
//! Owns ProwJob construction from configuration plus an event (mkpj), pod decoration (mkpod),
//! the pod utilities, artifact storage, the job store and runners, and the lifecycle
//! controllers: plank, horologium, sinker and crier.
//!
//! Must never know about: HTTP servers, webhooks' wire format, command-line parsing. It sees
//! GitHub only through the prow-github trait.
//!
//! Today: [`decorate`] turns a ProwJob into its pod exactly as Prow does, with the
//! [`downwardapi`] environment, the [`labels`] and the [`podutils`] options.

pub mod abort;
pub mod branchprotector;
pub mod clock;
pub mod clonerefs;
pub mod config;
pub mod controller;
pub mod crier;
pub mod decorate;
pub mod downwardapi;
pub mod entrypoint;
mod error;
pub mod gcsupload;
mod gojson;
pub mod horologium;
pub mod initupload;
pub mod inrepo;
pub mod kube;
pub mod labels;
pub mod metadata;
pub mod mkpod;
mod paths;
pub mod pjutil;
pub mod plank;
pub mod podutils;
mod quantity;
pub mod runner;
pub mod sidecar;
pub mod sinker;
pub mod storage;
pub mod store;
pub mod template;

pub use decorate::{decorate_pod_spec, prow_job_to_pod, prow_job_to_pod_local, sidecar};
pub use downwardapi::JobSpec;
pub use error::Error;
