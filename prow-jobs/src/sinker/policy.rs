//! sinker's decisions as pure code (upstream `cmd/sinker`): which finished ProwJobs and which
//! pods (or, in the embedded default, local run directories) to delete.
//!
//! - A finished ProwJob is deleted once it started more than `max_prowjob_age` ago, except the
//!   newest run of each periodic still in the configuration, which is always kept.
//! - A pod is deleted once it started more than `max_pod_age` ago, or its job finished more
//!   than `terminated_pod_ttl` ago, but only when its job has finished; a pod whose ProwJob no
//!   longer exists is deleted once it is 30 seconds old (the store may lag).

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, ProwJobType};

use crate::runner::PodStatus;

/// How long sinker keeps things (`sinker` in config.yaml, after Prow's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `max_prowjob_age` (default 7 days).
    pub max_prowjob_age: Duration,
    /// `max_pod_age` (default 24 hours).
    pub max_pod_age: Duration,
    /// `terminated_pod_ttl` (default `max_pod_age`).
    pub terminated_pod_ttl: Duration,
}

/// How long a pod may miss its ProwJob before it counts as orphaned.
pub const ORPHAN_GRACE: Duration = Duration::from_secs(30);

impl Policy {
    /// The policy of a loaded configuration; unset values take Prow's defaults.
    pub fn of(sinker: &prow_config::prow::Sinker) -> Self {
        let get = |d: &Option<prow_core::MetaDuration>| d.and_then(|d| d.0.to_std());
        let max_pod_age = get(&sinker.max_pod_age).unwrap_or(Duration::from_secs(24 * 3600));
        Policy {
            max_prowjob_age: get(&sinker.max_prowjob_age)
                .unwrap_or(Duration::from_secs(7 * 24 * 3600)),
            max_pod_age,
            terminated_pod_ttl: get(&sinker.terminated_pod_ttl).unwrap_or(max_pod_age),
        }
    }
}

fn older_than(t: Timestamp, age: Duration, now: Timestamp) -> bool {
    now > t && now.duration_since(t).unsigned_abs() > age
}

fn start(job: &ProwJob) -> Option<Timestamp> {
    job.status.as_ref()?.start_time.as_ref().map(|t| t.0)
}

fn completion(job: &ProwJob) -> Option<Timestamp> {
    job.status.as_ref()?.completion_time.as_ref().map(|t| t.0)
}

/// The newest run (latest start) of each periodic, by job name (Prow's `GetLatestProwJobs`).
pub fn latest_periodics<J: Borrow<ProwJob>>(jobs: &[J]) -> BTreeMap<&str, &ProwJob> {
    let mut latest: BTreeMap<&str, &ProwJob> = BTreeMap::new();
    for job in jobs
        .iter()
        .map(J::borrow)
        .filter(|j| j.spec.job_type == ProwJobType::Periodic)
    {
        let newer = latest
            .get(job.spec.job.as_str())
            .is_none_or(|l| start(job) > start(l));
        if newer {
            latest.insert(&job.spec.job, job);
        }
    }
    latest
}

/// The ProwJobs sinker deletes now. `active_periodics` are the periodic names in the current
/// configuration.
pub fn prowjobs_to_delete<'a, J: Borrow<ProwJob>>(
    jobs: &'a [J],
    active_periodics: &BTreeSet<&str>,
    policy: &Policy,
    now: Timestamp,
) -> Vec<&'a ProwJob> {
    let latest = latest_periodics(jobs);
    jobs.iter()
        .map(J::borrow)
        .filter(|job| job.is_complete())
        .filter(|job| {
            let keep_latest = job.spec.job_type == ProwJobType::Periodic
                && active_periodics.contains(job.spec.job.as_str())
                && latest
                    .get(job.spec.job.as_str())
                    .is_some_and(|l| l.metadata.name == job.metadata.name);
            !keep_latest
        })
        .filter(|job| start(job).is_some_and(|s| older_than(s, policy.max_prowjob_age, now)))
        .collect()
}

/// Why sinker deletes a ProwJob (Prow's reasons, as its metrics label them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum JobReason {
    /// A finished job that started more than `max_prowjob_age` ago.
    Aged,
    /// The same, for a periodic's run that is not the newest of a configured periodic.
    AgedPeriodic,
}

impl JobReason {
    /// The reason sinker deletes `job` when [`prowjobs_to_delete`] selects it.
    pub fn of(job: &ProwJob) -> Self {
        if job.spec.job_type == ProwJobType::Periodic {
            JobReason::AgedPeriodic
        } else {
            JobReason::Aged
        }
    }

    /// Prow's name for the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aged => "aged",
            Self::AgedPeriodic => "aged-periodic",
        }
    }
}

/// What sinker knows of a pod (or a local run directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    /// The pod's name.
    pub name: String,
    /// Its ProwJob (the `prow.k8s.io/id` label; the pod name when absent).
    pub prowjob: String,
    /// When it was created.
    pub created: Timestamp,
    /// When it started, if it has.
    pub started: Option<Timestamp>,
}

impl From<&PodStatus> for PodInfo {
    fn from(pod: &PodStatus) -> Self {
        let prowjob = if pod.prowjob.is_empty() {
            &pod.name
        } else {
            &pod.prowjob
        };
        PodInfo {
            name: pod.name.clone(),
            prowjob: prowjob.clone(),
            created: pod.created,
            started: pod.started,
        }
    }
}

/// Why sinker deletes a pod (Prow's reasons, as its metrics label them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PodReason {
    /// Started more than `max_pod_age` ago.
    Aged,
    /// Its job finished more than `terminated_pod_ttl` ago.
    Ttled,
    /// Its ProwJob no longer exists.
    Orphaned,
}

impl PodReason {
    /// Prow's name for the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aged => "aged",
            Self::Ttled => "ttled",
            Self::Orphaned => "orphaned",
        }
    }
}

/// Whether sinker deletes `pod` now, and why; `jobs` are all ProwJobs by name.
pub fn pod_verdict(
    pod: &PodInfo,
    jobs: &BTreeMap<&str, &ProwJob>,
    policy: &Policy,
    now: Timestamp,
) -> Option<PodReason> {
    let Some(job) = jobs.get(pod.prowjob.as_str()) else {
        return older_than(pod.created, ORPHAN_GRACE, now).then_some(PodReason::Orphaned);
    };
    if !job.is_complete() {
        return None;
    }
    if pod
        .started
        .is_some_and(|s| older_than(s, policy.max_pod_age, now))
    {
        return Some(PodReason::Aged);
    }
    completion(job)
        .is_some_and(|c| older_than(c, policy.terminated_pod_ttl, now))
        .then_some(PodReason::Ttled)
}
