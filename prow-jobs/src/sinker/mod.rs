//! sinker: deletes finished ProwJobs and their pods once they are old enough.
//!
//! The policy half holds the pure decisions (which jobs and pods go, and why);
//! the clean half acts on them against a [`JobStore`](crate::store::JobStore) and the
//! build clusters' [`Runner`](crate::runner::Runner)s, once per resync period.

mod clean;
mod policy;

pub use clean::{
    CleanError, CleanReport, Cluster, DEFAULT_RESYNC_PERIOD, Settings, run, sync_once,
};
pub use policy::{
    JobReason, ORPHAN_GRACE, PodInfo, PodReason, Policy, latest_periodics, pod_verdict,
    prowjobs_to_delete,
};
