//! plank's scheduling decisions as pure code (upstream `pkg/plank/reconciler.go` and
//! `pkg/pjutil/abort.go`): whether a triggered ProwJob may start under the concurrency limits,
//! and which presubmits a newer run of the same change supersedes.
//!
//! Only `kubernetes`-agent jobs count, as in Prow's indexes (our local runner takes their
//! place in the embedded default).

use std::collections::BTreeMap;

use prow_core::{ProwJob, ProwJobState, ProwJobType, Refs};

fn state(job: &ProwJob) -> Option<ProwJobState> {
    job.status.as_ref().map(|s| s.state)
}

fn counts(job: &ProwJob) -> bool {
    matches!(job.spec.agent.as_str(), "" | "kubernetes")
}

/// Pending jobs, plus triggered ones created before `job` (they go first: jobs start in
/// creation order), among `others` (Prow's `countPendingOrOlderTriggeredMatchingPJs`).
fn ahead_of<'a>(job: &ProwJob, others: impl Iterator<Item = &'a ProwJob>) -> i64 {
    let created = job.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let mut ahead = 0;
    for other in others {
        if other.metadata.name == job.metadata.name {
            continue;
        }
        match state(other) {
            Some(ProwJobState::Pending) => ahead += 1,
            Some(ProwJobState::Triggered) => {
                let other_created = other.metadata.creation_timestamp.as_ref().map(|t| t.0);
                if other_created.is_some() && created.is_some() && other_created < created {
                    ahead += 1;
                }
            }
            _ => {}
        }
    }
    ahead
}

/// Whether the triggered `job` may start now, given every ProwJob of the namespace
/// (`canExecuteConcurrently`): the global `plank.max_concurrency`, the job's own
/// `max_concurrency`, then its queue in `plank.job_queue_capacities` (0 stops the queue, a
/// negative capacity is unlimited). An unknown queue is an error, as in Prow.
pub fn can_start(
    job: &ProwJob,
    all: &[ProwJob],
    plank: &prow_config::prow::Plank,
) -> Result<bool, String> {
    let counted = || all.iter().filter(|j| counts(j));
    if plank.max_concurrency > 0 {
        let pending = counted()
            .filter(|j| state(j) == Some(ProwJobState::Pending))
            .count();
        if i64::try_from(pending).unwrap_or(i64::MAX) >= plank.max_concurrency {
            return Ok(false);
        }
    }
    let own = job.spec.max_concurrency;
    if own > 0 {
        let same = counted().filter(|j| j.spec.job == job.spec.job);
        if ahead_of(job, same) >= own {
            return Ok(false);
        }
    }
    let queue = &job.spec.job_queue_name;
    if queue.is_empty() {
        return Ok(true);
    }
    let Some(&capacity) = plank.job_queue_capacities.get(queue) else {
        return Err(format!(
            "failed to match queue name '{queue}' with Plank configuration"
        ));
    };
    if capacity == 0 {
        return Ok(false);
    }
    if capacity < 0 {
        return Ok(true);
    }
    let in_queue = counted().filter(|j| &j.spec.job_queue_name == queue);
    Ok(ahead_of(job, in_queue) < capacity)
}

/// What identifies "the same test of the same change": type, job and each ref's
/// org/repo@base with its pull numbers, not the SHAs (Prow's `digestRefs`).
fn identity(job: &ProwJob) -> String {
    let digest = |r: &Refs| {
        let mut pulls: Vec<u64> = r.pulls.iter().map(|p| p.number).collect();
        pulls.sort_unstable();
        format!("{}/{}@{} {pulls:?}", r.org, r.repo, r.base_ref)
    };
    let mut parts = vec![job.spec.job_type.to_string(), job.spec.job.clone()];
    parts.extend(job.spec.refs.iter().map(digest));
    parts.extend(job.spec.extra_refs.iter().map(digest));
    parts.sort();
    parts.join(",")
}

/// Presubmits still running that a newer run of the same job on the same pull request
/// supersedes: each older one is aborted (`TerminateOlderJobs`). The newest, by start time,
/// stays.
pub fn superseded(jobs: &[ProwJob]) -> Vec<&ProwJob> {
    let start = |j: &ProwJob| {
        j.status
            .as_ref()
            .and_then(|s| s.start_time.as_ref())
            .map(|t| t.0)
    };
    let mut newest: BTreeMap<String, &ProwJob> = BTreeMap::new();
    let mut cancel = Vec::new();
    for job in jobs {
        if job.is_complete() || job.spec.job_type != ProwJobType::Presubmit {
            continue;
        }
        match newest.get_mut(&identity(job)) {
            None => {
                newest.insert(identity(job), job);
            }
            Some(kept) if start(kept) < start(job) => {
                cancel.push(*kept);
                *kept = job;
            }
            Some(_) => cancel.push(job),
        }
    }
    cancel
}
