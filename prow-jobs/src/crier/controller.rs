//! crier's loop: reports every job that should be, then records the reported state on the job
//! so it is reported once.

use std::sync::Arc;
use std::time::Duration;

use prow_config::ConfigSnapshot;
use prow_config::prow::{GitHubReporter as ReporterConfig, Plank};
use prow_core::{ProwJob, ProwJobState};
use tokio::sync::{broadcast, mpsc};

use super::CrierError;
use super::github::{GitHubReporter, ReportOutcome, in_repos};
use super::status::{REPORTER_NAME, should_report};
use crate::controller::{Controller, Pass, PassError, Wake, error_chain};
use crate::store::{JobStore, ListParams, WatchEvent};

/// How often [`Crier`] lists every job by default, to retry failed reports and catch missed
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

/// Reports every stored job that should be reported, once; `plank` holds the report
/// templates.
pub async fn sync_once(
    store: &dyn JobStore,
    reporter: &GitHubReporter,
    config: &ReporterConfig,
    plank: &Plank,
) -> SyncReport {
    let mut report = SyncReport::default();
    let jobs = match store.list_shared(&ListParams::default()).await {
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
        sync_job(store, reporter, config, plank, job, &jobs, &mut report).await;
    }
    report
}

/// Reports one job if it should be, recording the outcome in `report`; `jobs` are the stored
/// jobs, for summary comments.
pub async fn sync_job(
    store: &dyn JobStore,
    reporter: &GitHubReporter,
    config: &ReporterConfig,
    plank: &Plank,
    job: &ProwJob,
    jobs: &[Arc<ProwJob>],
    report: &mut SyncReport,
) {
    if !should_report(job, config) {
        return;
    }
    let Some(state) = job.state() else {
        return;
    };
    let outcome = match reporter.report(job, config, plank, jobs).await {
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
    plank: &Plank,
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
        match store.list_shared(&ListParams::default()).await {
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
    sync_job(store, reporter, config, plank, &job, &jobs, &mut report).await;
    report
}

/// Records that `state` was reported for the job `name`, re-reading the job on a conflict. A
/// job deleted meanwhile, or already marked with `state`, needs nothing.
pub async fn mark_reported(
    store: &dyn JobStore,
    name: &str,
    state: ProwJobState,
) -> Result<(), CrierError> {
    super::reporter::mark_reported_by(store, REPORTER_NAME, name, state).await
}

/// crier under the controller driver: a full pass at once and every resync period (to
/// retry failed reports and catch missed events), and each job again whenever the store reports
/// a change to it. The settings are `github_reporter` of the configuration in force. Jobs are
/// reported one at a time, so two reports never race on one pull request's comment.
pub struct Crier {
    store: Arc<dyn JobStore>,
    reporter: GitHubReporter,
    resync: Duration,
    reports: Option<mpsc::UnboundedSender<SyncReport>>,
}

impl std::fmt::Debug for Crier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crier").finish_non_exhaustive()
    }
}

impl Crier {
    /// crier reporting the jobs of `store` through `reporter`, resyncing every
    /// [`DEFAULT_RESYNC_PERIOD`].
    pub fn new(store: Arc<dyn JobStore>, reporter: GitHubReporter) -> Self {
        Crier {
            store,
            reporter,
            resync: DEFAULT_RESYNC_PERIOD,
            reports: None,
        }
    }

    /// The same crier listing every job every `period` (a zero period counts as one second).
    pub fn with_resync_period(mut self, period: Duration) -> Self {
        self.resync = if period.is_zero() {
            Duration::from_secs(1)
        } else {
            period
        };
        self
    }

    /// The same crier, sending what each pass did to `reports`.
    pub fn with_reports(mut self, reports: mpsc::UnboundedSender<SyncReport>) -> Self {
        self.reports = Some(reports);
        self
    }
}

#[async_trait::async_trait]
impl Controller for Crier {
    fn name(&self) -> &'static str {
        "crier"
    }

    fn resync_period(&self, _config: &ConfigSnapshot) -> Duration {
        self.resync
    }

    fn store_changes(&self) -> Option<broadcast::Receiver<WatchEvent>> {
        Some(self.store.watch())
    }

    async fn reconcile(&self, config: &ConfigSnapshot, wake: Wake) -> Result<Pass, PassError> {
        let settings = &config.config.prow.github_reporter;
        let plank = &config.config.prow.plank;
        let store = self.store.as_ref();
        let report = match wake {
            Wake::Store(events) => {
                let mut report = SyncReport::default();
                for event in events {
                    if let WatchEvent::Added(job) | WatchEvent::Modified(job) = event {
                        let one =
                            sync_name(store, &self.reporter, settings, plank, job.name()).await;
                        report.reported.extend(one.reported);
                        report.errors.extend(one.errors);
                    }
                }
                report
            }
            _ => sync_once(store, &self.reporter, settings, plank).await,
        };
        for reported in &report.reported {
            tracing::info!(prowjob = %reported.job, state = %reported.state, "reported prowjob {} as {}", reported.job, reported.state);
        }
        let errors = report.errors.iter().map(|e| error_chain(e)).collect();
        if let Some(reports) = &self.reports {
            let _ = reports.send(report);
        }
        Ok(Pass::with_errors(errors))
    }
}
