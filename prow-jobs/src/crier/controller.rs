//! crier's loop: reports every job that should be, then records the reported state on the job
//! so it is reported once.

use std::future::Future;
use std::time::Duration;

use prow_config::prow::GitHubReporter as ReporterConfig;
use prow_core::{ProwJob, ProwJobState};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;

use super::CrierError;
use super::github::{GitHubReporter, ReportOutcome, in_repos};
use super::status::{REPORTER_NAME, should_report};
use crate::store::{JobStore, ListParams, StoreError, WatchEvent};

/// How often [`run`] lists every job by default, to retry failed reports and catch missed
/// events.
pub const DEFAULT_RESYNC_PERIOD: Duration = Duration::from_secs(60);

/// How many times the reported state is written back before giving up on conflicts.
pub const MAX_UPDATE_ATTEMPTS: usize = 5;

/// A job crier reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reported {
    /// The ProwJob's name.
    pub job: String,
    /// The state reported.
    pub state: ProwJobState,
    /// What was done on GitHub.
    pub outcome: ReportOutcome,
}

/// What one pass of crier did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct SyncReport {
    /// The jobs reported, in the order they were.
    pub reported: Vec<Reported>,
    /// Failures: the job is reported again on the next pass.
    pub errors: Vec<CrierError>,
}

/// Reports every stored job that should be reported, once.
pub async fn sync_once(
    store: &dyn JobStore,
    reporter: &GitHubReporter,
    config: &ReporterConfig,
) -> SyncReport {
    let mut report = SyncReport::default();
    let jobs = match store.list(&ListParams::default()).await {
        Ok(jobs) => jobs,
        Err(source) => {
            report.errors.push(CrierError::Store {
                job: String::new(),
                action: "list prowjobs",
                source,
            });
            return report;
        }
    };
    for job in &jobs {
        sync_job(store, reporter, config, job, &jobs, &mut report).await;
    }
    report
}

/// Reports one job if it should be, recording the outcome in `report`; `jobs` are the stored
/// jobs, for summary comments.
pub async fn sync_job(
    store: &dyn JobStore,
    reporter: &GitHubReporter,
    config: &ReporterConfig,
    job: &ProwJob,
    jobs: &[ProwJob],
    report: &mut SyncReport,
) {
    if !should_report(job, config) {
        return;
    }
    let Some(state) = job.state() else {
        return;
    };
    let outcome = match reporter.report(job, config, jobs).await {
        Ok(outcome) => outcome,
        Err(e) => {
            report.errors.push(e);
            return;
        }
    };
    match mark_reported(store, job.name(), state).await {
        Ok(()) => report.reported.push(Reported {
            job: job.name().to_owned(),
            state,
            outcome,
        }),
        Err(e) => report.errors.push(e),
    }
}

/// Reports the job called `name` as it is stored now (an event's copy may be stale).
async fn sync_name(
    store: &dyn JobStore,
    reporter: &GitHubReporter,
    config: &ReporterConfig,
    name: &str,
) -> SyncReport {
    let mut report = SyncReport::default();
    let job = match store.get(name).await {
        Ok(Some(job)) => job,
        Ok(None) => return report,
        Err(source) => {
            report.errors.push(CrierError::Store {
                job: name.to_owned(),
                action: "get prowjob",
                source,
            });
            return report;
        }
    };
    // Only summary comments need the other jobs of the pull request.
    let jobs = if should_report(&job, config) && in_repos(&job, &config.summary_comment_repos) {
        match store.list(&ListParams::default()).await {
            Ok(jobs) => jobs,
            Err(source) => {
                report.errors.push(CrierError::Store {
                    job: name.to_owned(),
                    action: "list prowjobs",
                    source,
                });
                return report;
            }
        }
    } else {
        Vec::new()
    };
    sync_job(store, reporter, config, &job, &jobs, &mut report).await;
    report
}

/// Records that `state` was reported for the job `name`, re-reading the job on a conflict. A
/// job deleted meanwhile, or already marked with `state`, needs nothing.
pub async fn mark_reported(
    store: &dyn JobStore,
    name: &str,
    state: ProwJobState,
) -> Result<(), CrierError> {
    let store_error = |action, source| CrierError::Store {
        job: name.to_owned(),
        action,
        source,
    };
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some(mut job) = store
            .get(name)
            .await
            .map_err(|e| store_error("get prowjob", e))?
        else {
            return Ok(());
        };
        let status = job.status.get_or_insert_with(Default::default);
        if status.prev_report_states.get(REPORTER_NAME) == Some(&state) {
            return Ok(());
        }
        status
            .prev_report_states
            .insert(REPORTER_NAME.to_owned(), state);
        match store.update(job).await {
            Ok(_) | Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(StoreError::Conflict { .. }) if attempt < MAX_UPDATE_ATTEMPTS => {}
            Err(e) => return Err(store_error("record the reported state", e)),
        }
    }
}

/// How [`run`] paces itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// How often every job is listed again.
    pub resync_period: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            resync_period: DEFAULT_RESYNC_PERIOD,
        }
    }
}

impl RunOptions {
    /// Options that resync every `period`.
    pub fn with_resync_period(period: Duration) -> Self {
        RunOptions {
            resync_period: period,
        }
    }
}

/// Runs crier until `shutdown` completes: a full pass at once and every
/// `options.resync_period` (a zero period counts as one second), and each job again whenever
/// the store reports a change to it. The configuration is read afresh from `config` for every
/// pass and every event. `on_pass` sees what each did (for logging, metrics and tests). Jobs
/// are reported one at a time, so two reports never race on one pull request's comment.
pub async fn run<F>(
    store: std::sync::Arc<dyn JobStore>,
    reporter: GitHubReporter,
    config: watch::Receiver<ReporterConfig>,
    options: RunOptions,
    shutdown: impl Future<Output = ()>,
    mut on_pass: F,
) where
    F: FnMut(SyncReport) + Send,
{
    // Subscribe before the first list so that no change falls between the two.
    let mut events = store.watch();
    let period = if options.resync_period.is_zero() {
        Duration::from_secs(1)
    } else {
        options.resync_period
    };
    let mut resync = tokio::time::interval(period);
    resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => return,
            _ = resync.tick() => {
                let config = config.borrow().clone();
                on_pass(sync_once(store.as_ref(), &reporter, &config).await);
            }
            event = events.recv() => match event {
                Ok(WatchEvent::Added(job) | WatchEvent::Modified(job)) => {
                    let config = config.borrow().clone();
                    on_pass(sync_name(store.as_ref(), &reporter, &config, job.name()).await);
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    let config = config.borrow().clone();
                    on_pass(sync_once(store.as_ref(), &reporter, &config).await);
                }
                Err(RecvError::Closed) => return,
            },
        }
    }
}
