//! plank's scheduling decisions as pure code (upstream `pkg/plank/reconciler.go` and
//! `pkg/pjutil/abort.go`): whether a triggered ProwJob may start under the concurrency limits,
//! and which presubmits a newer run of the same change supersedes.
//!
//! Only `kubernetes`-agent jobs count, as in Prow's indexes (our local runner takes their
//! place in the embedded default).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::{ProwJob, ProwJobState, ProwJobType, Refs};

use crate::clock::Clock;
use crate::runner::{PodPhase, PodStatus, Runner, RunnerError, StopCause};
use crate::store::{JobStore, ListParams, StoreError, Write};

/// The states of the jobs plank reads on a pass: every state a job may be in before it
/// finishes.
const LIVE_STATES: [ProwJobState; 4] = [
    ProwJobState::Scheduling,
    ProwJobState::Triggered,
    ProwJobState::Pending,
    ProwJobState::Aborted,
];

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

/// How long a pod may stay unscheduled, pending and running before plank gives up on it: the
/// job's decoration config first, then `plank` in config.yaml, then Prow's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `pod_pending_timeout` (default 10 minutes): scheduled but not yet running.
    pub pending: std::time::Duration,
    /// `pod_running_timeout` (default 48 hours).
    pub running: std::time::Duration,
    /// `pod_unscheduled_timeout` (default 5 minutes): created but never scheduled.
    pub unscheduled: std::time::Duration,
}

impl Timeouts {
    /// The timeouts for `job` under `plank`.
    pub fn of(job: &ProwJob, plank: &prow_config::prow::Plank) -> Self {
        let decoration = job.spec.decoration_config.as_ref();
        let pick = |own: Option<&prow_core::MetaDuration>,
                    global: Option<&prow_core::MetaDuration>,
                    default: std::time::Duration| {
            own.or(global).and_then(|d| d.0.to_std()).unwrap_or(default)
        };
        Timeouts {
            pending: pick(
                decoration.and_then(|d| d.pod_pending_timeout.as_ref()),
                plank.pod_pending_timeout.as_ref(),
                std::time::Duration::from_secs(10 * 60),
            ),
            running: pick(
                decoration.and_then(|d| d.pod_running_timeout.as_ref()),
                plank.pod_running_timeout.as_ref(),
                std::time::Duration::from_secs(48 * 3600),
            ),
            unscheduled: pick(
                decoration.and_then(|d| d.pod_unscheduled_timeout.as_ref()),
                plank.pod_unscheduled_timeout.as_ref(),
                std::time::Duration::from_secs(5 * 60),
            ),
        }
    }
}

/// What plank does about a pending job, given its pod (Prow's `syncPendingJob`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PendingAction {
    /// The pod is missing: start a new one.
    StartPod,
    /// The job is over: complete it in `state` with `description`, deleting the pod first
    /// when `delete_pod`.
    Complete {
        /// The final state.
        state: ProwJobState,
        /// Prow's description for it.
        description: String,
        /// Whether the pod must be deleted.
        delete_pod: bool,
    },
    /// The pod stopped unexpectedly and revivals remain: count one and delete the pod, so the
    /// next pass starts a new one.
    Revive,
    /// Nothing changes but the description (the pod started running).
    Describe(String),
    /// Nothing to do yet.
    Wait,
}

fn complete(
    state: ProwJobState,
    description: impl Into<String>,
    delete_pod: bool,
) -> PendingAction {
    PendingAction::Complete {
        state,
        description: description.into(),
        delete_pod,
    }
}

fn at_least(since: Timestamp, limit: std::time::Duration, now: Timestamp) -> bool {
    now.duration_since(since).as_secs_f64() >= limit.as_secs_f64()
}

/// What to do about the pending `job` whose pod is `pod` (`None`: missing), at `now`.
pub fn pending_action(
    job: &ProwJob,
    pod: Option<&PodStatus>,
    timeouts: &Timeouts,
    max_revivals: i64,
    now: Timestamp,
) -> PendingAction {
    let Some(pod) = pod else {
        return PendingAction::StartPod;
    };
    let revivals = job.status.as_ref().map_or(0, |s| s.pod_revival_count);
    if let Some(cause) = pod.stop_cause {
        return match cause {
            StopCause::OomKilled => complete(
                ProwJobState::Error,
                "Job pod was OOM killed by the cluster.",
                false,
            ),
            StopCause::Evicted if job.spec.error_on_eviction => complete(
                ProwJobState::Error,
                "Job pod was evicted by the cluster.",
                false,
            ),
            _ if revivals >= max_revivals => complete(
                ProwJobState::Error,
                format!(
                    "Job pod reached max revivals ({revivals}) after being stopped unexpectedly ({})",
                    cause.as_str()
                ),
                false,
            ),
            _ => PendingAction::Revive,
        };
    }
    let action = match pod.phase {
        PodPhase::Succeeded if pod.all_containers_finished => {
            complete(ProwJobState::Success, "Job succeeded.", false)
        }
        PodPhase::Succeeded => complete(
            ProwJobState::Error,
            "Pod was in succeeded phase but some containers didn't finish",
            false,
        ),
        PodPhase::Failed => complete(ProwJobState::Failure, "Job failed.", false),
        PodPhase::Pending => match pod.started {
            None if at_least(pod.created, timeouts.unscheduled, now) => {
                complete(ProwJobState::Error, "Pod scheduling timeout.", true)
            }
            Some(started) if at_least(started, timeouts.pending, now) => {
                complete(ProwJobState::Error, "Pod pending timeout.", true)
            }
            _ => PendingAction::Wait,
        },
        PodPhase::Running if pod.deleting => PendingAction::Wait,
        PodPhase::Running => match pod.started {
            Some(started) if at_least(started, timeouts.running, now) => {
                complete(ProwJobState::Aborted, "Pod running timeout.", true)
            }
            _ => {
                let running = format!("Job running {}.", pod.place);
                let current = job.status.as_ref().map(|s| s.description.as_str());
                if pod.place.is_empty() || current == Some(running.as_str()) {
                    PendingAction::Wait
                } else {
                    PendingAction::Describe(running)
                }
            }
        },
        PodPhase::Unknown => PendingAction::Wait,
    };
    match action {
        PendingAction::Wait | PendingAction::Describe(_) if pod.deleting => {
            complete(ProwJobState::Error, "Pod got deleted unexpectedly", false)
        }
        other => other,
    }
}

/// The URL of a job's results, as Prow's `pjutil.JobURL` builds it: for a decorated job whose
/// repository has a `job_url_prefix_config` prefix, the prefix, the storage provider and
/// bucket, and the job's path in storage; otherwise `job_url_template` rendered over the job
/// (empty when there is none or it fails, which is logged).
pub fn job_url(plank: &prow_config::prow::Plank, job: &ProwJob) -> String {
    let prefixed = job_url_from_prefix(plank, job);
    if !prefixed.is_empty() || plank.job_url_template.is_empty() {
        return prefixed;
    }
    match crate::template::render("JobURL", &plank.job_url_template, job) {
        Ok(url) => url,
        Err(error) => {
            tracing::error!(prowjob = %job.name(), %error, "error executing URL template");
            String::new()
        }
    }
}

/// [`job_url`]'s `job_url_prefix_config` form; empty when it does not apply.
fn job_url_from_prefix(plank: &prow_config::prow::Plank, job: &ProwJob) -> String {
    let Some(decoration) = &job.spec.decoration_config else {
        return String::new();
    };
    let (org, repo) = job
        .spec
        .refs
        .as_ref()
        .or(job.spec.extra_refs.first())
        .map_or(("", ""), |r| (r.org.as_str(), r.repo.as_str()));
    let prefix = plank.job_url_prefix_for(org, repo);
    if prefix.is_empty() {
        return String::new();
    }
    let gcs = decoration.gcs_configuration.clone().unwrap_or_default();
    let build_id = job.status.as_ref().map_or("", |s| s.build_id.as_str());
    let spec = crate::JobSpec::new(&job.spec, build_id, job.name());
    let path = crate::gcsupload::path_for_spec(&spec, &gcs);
    let mut bucket = gcs.bucket.clone();
    if !plank.job_url_prefix_disable_append_storage_provider {
        bucket = match bucket.split_once("://") {
            Some((provider, rest)) => format!("{provider}/{rest}"),
            None => format!("gs/{bucket}"),
        };
    }
    let prefix = prefix.trim_end_matches('/');
    format!(
        "{prefix}/{}",
        crate::paths::join(&[bucket.as_str(), path.as_str()]).trim_start_matches('/')
    )
}

/// What one pass of plank did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// Pods started for triggered jobs (and restarted for pending ones).
    pub started: usize,
    /// Jobs completed (success, failure, error, aborted).
    pub completed: usize,
    /// Pods deleted to be revived.
    pub revived: usize,
    /// Presubmits aborted because a newer run superseded them.
    pub superseded: usize,
    /// Triggered jobs held back by a concurrency limit.
    pub held: usize,
    /// Problems, each naming its job; the jobs are retried on the next pass.
    pub errors: Vec<String>,
}

/// plank's loop: moves ProwJobs from `triggered` through `pending` to a final state, running
/// their pods on a [`Runner`].
pub struct Controller {
    store: Arc<dyn JobStore>,
    runner: Arc<dyn Runner>,
    clock: Arc<dyn Clock>,
    build_ids: Mutex<prow_core::buildid::Snowflake>,
    resync: std::time::Duration,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").finish_non_exhaustive()
    }
}

fn status_mut(job: &mut ProwJob) -> &mut prow_core::ProwJobStatus {
    job.status.get_or_insert_default()
}

fn creation(job: &ProwJob) -> Option<Timestamp> {
    job.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

impl Controller {
    /// plank over `store` and `runner`, passing every [`DEFAULT_RESYNC`] at least.
    pub fn new(store: Arc<dyn JobStore>, runner: Arc<dyn Runner>, clock: Arc<dyn Clock>) -> Self {
        Controller {
            store,
            runner,
            clock,
            build_ids: Mutex::new(prow_core::buildid::Snowflake::new(1)),
            resync: DEFAULT_RESYNC,
        }
    }

    /// The same plank, looking at every job at least every `resync` (`--resync-period`).
    pub fn with_resync(mut self, resync: std::time::Duration) -> Self {
        self.resync = resync;
        self
    }

    fn next_build_id(&self) -> String {
        self.build_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_build_id()
    }

    /// One pass over every job, as Prow's reconciler does per job: abort superseded presubmits,
    /// follow pending jobs' pods, finish aborted jobs, and start triggered jobs in creation
    /// order as the limits allow.
    pub async fn sync_once(
        &self,
        plank: &prow_config::prow::Plank,
    ) -> Result<SyncReport, StoreError> {
        let mut report = SyncReport::default();
        // Only the states plank acts on: finished jobs, however many the store keeps, are
        // never read (the store answers through its state index).
        let mut jobs: Vec<ProwJob> = self
            .store
            .list(&ListParams::default().in_states(&LIVE_STATES))
            .await?
            .into_iter()
            .filter(counts)
            .collect();

        let stale: Vec<String> = superseded(&jobs)
            .into_iter()
            .map(|j| j.name().to_owned())
            .collect();
        for name in stale {
            let Some(index) = jobs.iter().position(|j| j.name() == name) else {
                continue;
            };
            let options = crate::abort::AbortOptions::describe(SUPERSEDED).quiet();
            match crate::abort::abort(self.store.as_ref(), &name, options).await {
                Ok(crate::abort::Aborted::Now(stored)) => {
                    jobs[index] = *stored;
                    report.superseded += 1;
                }
                Ok(_) => {}
                Err(e) => report.errors.push(format!("prowjob {name}: {e}")),
            }
        }

        // Writes that can wait for the end of the pass, stored then in one batch: a job whose
        // pod was started but not yet recorded is adopted by the next pass. A write that
        // follows a pod's deletion is made at once.
        let mut later = Vec::new();
        for job in &mut jobs {
            if job.is_complete() {
                continue;
            }
            let updated = match job.state() {
                Some(ProwJobState::Pending) => {
                    self.sync_pending(job, plank, &mut later, &mut report).await
                }
                Some(ProwJobState::Aborted) => self.sync_aborted(job, &mut report).await,
                _ => None,
            };
            if let Some(updated) = updated {
                *job = updated;
            }
        }

        let mut triggered: Vec<usize> = (0..jobs.len())
            .filter(|&i| !jobs[i].is_complete() && jobs[i].state() == Some(ProwJobState::Triggered))
            .collect();
        triggered.sort_by_key(|&i| (creation(&jobs[i]), jobs[i].name().to_owned()));
        for index in triggered {
            if let Some(updated) = self
                .sync_triggered(&jobs[index], &jobs, plank, &mut later, &mut report)
                .await
            {
                jobs[index] = updated;
            }
        }
        self.save_all(later, &mut report).await;
        Ok(report)
    }

    /// Writes the pass's deferred jobs in one batch; each failure is reported and the job
    /// retried next pass.
    async fn save_all(&self, jobs: Vec<ProwJob>, report: &mut SyncReport) {
        if jobs.is_empty() {
            return;
        }
        let names: Vec<String> = jobs.iter().map(|j| j.name().to_owned()).collect();
        let results = self
            .store
            .write_all(jobs.into_iter().map(Write::Update).collect())
            .await;
        for (name, result) in names.into_iter().zip(results) {
            match result {
                Ok(stored) => log_transition(&stored),
                Err(e) => report.errors.push(format!("prowjob {name}: {e}")),
            }
        }
    }

    /// Writes `job`; a conflict or other failure is reported and the job retried next pass.
    async fn save(&self, job: ProwJob, report: &mut SyncReport) -> Option<ProwJob> {
        let name = job.name().to_owned();
        match self.store.update(job).await {
            Ok(stored) => {
                log_transition(&stored);
                Some(stored)
            }
            Err(e) => {
                report.errors.push(format!("prowjob {name}: {e}"));
                None
            }
        }
    }

    fn finish(&self, job: &mut ProwJob, state: ProwJobState, description: String) {
        let now = self.clock.now();
        let status = status_mut(job);
        status.state = state;
        status.description = description;
        status.completion_time = Some(Time(now));
    }

    async fn start_pod(
        &self,
        job: &ProwJob,
        plank: &prow_config::prow::Plank,
        report: &mut SyncReport,
    ) -> Result<ProwJob, ()> {
        let mut next = job.clone();
        let build_id = self.next_build_id();
        status_mut(&mut next).build_id = build_id;
        match self.runner.create(&next).await {
            Ok(pod) => {
                let status = status_mut(&mut next);
                status.pod_name = pod.name;
                report.started += 1;
            }
            Err(RunnerError::AlreadyExists { .. }) => {
                // A pod made by a pass that could not record it: adopt it.
                if let Ok(Some(pod)) = self.runner.get(job.name()).await {
                    let status = status_mut(&mut next);
                    status.build_id = pod.build_id;
                    status.pod_name = pod.name;
                }
            }
            Err(RunnerError::Unprocessable(reason)) => {
                self.finish(
                    &mut next,
                    ProwJobState::Error,
                    format!("Pod can not be created: {reason}"),
                );
                report.completed += 1;
            }
            Err(e) => {
                report
                    .errors
                    .push(format!("prowjob {}: start pod: {e}", job.name()));
                return Err(());
            }
        }
        let url = job_url(plank, &next);
        status_mut(&mut next).url = url;
        Ok(next)
    }

    /// The job's pod (`Some(None)` when it has none); `None` when the runner could not say,
    /// with the problem reported.
    async fn pod_of(&self, job: &ProwJob, report: &mut SyncReport) -> Option<Option<PodStatus>> {
        match self.runner.get(job.name()).await {
            Ok(pod) => Some(pod),
            Err(e) => {
                report
                    .errors
                    .push(format!("prowjob {}: get pod: {e}", job.name()));
                None
            }
        }
    }

    async fn sync_pending(
        &self,
        job: &ProwJob,
        plank: &prow_config::prow::Plank,
        later: &mut Vec<ProwJob>,
        report: &mut SyncReport,
    ) -> Option<ProwJob> {
        let pod = self.pod_of(job, report).await?;
        let timeouts = Timeouts::of(job, plank);
        let max_revivals = plank.max_revivals.unwrap_or(3);
        let action = pending_action(job, pod.as_ref(), &timeouts, max_revivals, self.clock.now());
        let mut next = job.clone();
        let mut deleted_pod = false;
        match action {
            PendingAction::Wait => return None,
            PendingAction::StartPod => {
                next = self.start_pod(job, plank, report).await.ok()?;
            }
            PendingAction::Describe(description) => {
                status_mut(&mut next).description = description;
            }
            PendingAction::Revive => {
                if let Err(e) = self.runner.delete(job.name()).await {
                    report
                        .errors
                        .push(format!("prowjob {}: delete pod: {e}", job.name()));
                    return None;
                }
                status_mut(&mut next).pod_revival_count += 1;
                report.revived += 1;
                deleted_pod = true;
            }
            PendingAction::Complete {
                state,
                description,
                delete_pod,
            } => {
                if delete_pod && let Err(e) = self.runner.delete(job.name()).await {
                    report
                        .errors
                        .push(format!("prowjob {}: delete pod: {e}", job.name()));
                    return None;
                }
                deleted_pod = delete_pod;
                self.finish(&mut next, state, description);
                let url = job_url(plank, &next);
                status_mut(&mut next).url = url;
                report.completed += 1;
            }
        }
        if deleted_pod {
            return self.save(next, report).await;
        }
        later.push(next.clone());
        Some(next)
    }

    async fn sync_aborted(&self, job: &ProwJob, report: &mut SyncReport) -> Option<ProwJob> {
        if let Err(e) = self.runner.delete(job.name()).await {
            report
                .errors
                .push(format!("prowjob {}: delete pod: {e}", job.name()));
            return None;
        }
        let mut next = job.clone();
        status_mut(&mut next).completion_time = Some(Time(self.clock.now()));
        report.completed += 1;
        self.save(next, report).await
    }

    async fn sync_triggered(
        &self,
        job: &ProwJob,
        all: &[ProwJob],
        plank: &prow_config::prow::Plank,
        later: &mut Vec<ProwJob>,
        report: &mut SyncReport,
    ) -> Option<ProwJob> {
        let existing = self.pod_of(job, report).await?;
        let mut next = match existing {
            Some(pod) => {
                let mut next = job.clone();
                let status = status_mut(&mut next);
                status.build_id = pod.build_id;
                status.pod_name = pod.name;
                next
            }
            None => {
                match can_start(job, all, plank) {
                    Ok(true) => {}
                    Ok(false) => {
                        report.held += 1;
                        return None;
                    }
                    Err(e) => {
                        report.errors.push(format!("prowjob {}: {e}", job.name()));
                        return None;
                    }
                }
                self.start_pod(job, plank, report).await.ok()?
            }
        };
        if next.state() == Some(ProwJobState::Triggered) {
            let now = self.clock.now();
            let status = status_mut(&mut next);
            status.state = ProwJobState::Pending;
            status.pending_time = Some(Time(now));
            status.description = "Job triggered.".to_owned();
            let url = job_url(plank, &next);
            status_mut(&mut next).url = url;
        }
        later.push(next.clone());
        Some(next)
    }
}

/// Logs where a job plank just wrote stands: its state, and its description when it finished.
fn log_transition(job: &ProwJob) {
    let Some(status) = &job.status else { return };
    tracing::info!(
        prowjob = job.name(),
        job = %job.spec.job,
        "build-id" = %status.build_id,
        state = %status.state,
        "prowjob {} of {} is {}{}",
        job.name(),
        job.spec.job,
        status.state,
        if job.is_complete() {
            format!(": {}", status.description)
        } else {
            String::new()
        }
    );
}

/// The description of a presubmit a newer run of the same job superseded (upstream's).
pub const SUPERSEDED: &str = "Aborted as the newer version of this job is running.";

/// How often plank looks at every job when nothing woke it.
pub const DEFAULT_RESYNC: std::time::Duration = std::time::Duration::from_secs(1);

/// plank under the controller driver: a pass at once, whenever the store or the runner reports
/// a change, and at least every resync period. Pods keep running when it stops; the next plank
/// picks them up.
#[async_trait::async_trait]
impl crate::controller::Controller for Controller {
    fn name(&self) -> &'static str {
        "plank"
    }

    fn resync_period(&self, _config: &prow_config::ConfigSnapshot) -> std::time::Duration {
        self.resync
    }

    fn store_changes(&self) -> Option<tokio::sync::broadcast::Receiver<crate::store::WatchEvent>> {
        Some(self.store.watch())
    }

    fn nudges(&self) -> Option<Arc<tokio::sync::Notify>> {
        self.runner.changes()
    }

    async fn reconcile(
        &self,
        config: &prow_config::ConfigSnapshot,
        _wake: crate::controller::Wake,
    ) -> Result<crate::controller::Pass, crate::controller::PassError> {
        // Every change is seen by a whole pass, so a batch of them costs one.
        let report = self.sync_once(&config.config.prow.plank).await?;
        Ok(crate::controller::Pass::with_errors(report.errors))
    }
}
