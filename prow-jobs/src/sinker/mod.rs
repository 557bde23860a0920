//! sinker: deletes finished ProwJobs and their pods once they are old enough.
//!
//! [`prowjobs_to_delete`] and [`pod_verdict`] are the pure decisions (which jobs and pods go,
//! and why); [`sync_once`] acts on them against a [`JobStore`](crate::store::JobStore) and the
//! build clusters' [`Runner`](crate::runner::Runner)s, and [`run`] does that once per resync
//! period.

mod clean;
mod policy;

pub use clean::{
    CleanError, CleanReport, Cluster, DEFAULT_RESYNC_PERIOD, Settings, Sinker, sync_once,
};
pub use policy::{
    JobReason, ORPHAN_GRACE, PodInfo, PodReason, Policy, latest_periodics, pod_verdict,
    prowjobs_to_delete,
};
