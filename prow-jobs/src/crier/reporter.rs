//! crier's other reporters (Slack, the GCS job-state upload) under one loop: each reports a
//! job once per state and records it under its own name in `status.prev_report_states`, as
//! upstream runs one crier controller per reporter.

use std::sync::Arc;
use std::time::Duration;

use prow_config::ConfigSnapshot;
use prow_config::prow::ProwConfig;
use prow_core::{ProwJob, ProwJobState};
use tokio::sync::{broadcast, mpsc};

use super::CrierError;
use super::controller::{DEFAULT_RESYNC_PERIOD, MAX_UPDATE_ATTEMPTS};
use crate::controller::{Controller, Pass, PassError, Wake, error_chain};
use crate::store::{JobStore, ListParams, StoreError, WatchEvent};

/// A crier reporter: decides whether a job is reported and reports it.
#[async_trait::async_trait]
pub trait JobReporter: Send + Sync {
    /// Its key in `status.prev_report_states` (upstream's reporter names: `slackreporter`,
    /// `gcsreporter`).
    fn name(&self) -> &'static str;

    /// Whether `job`, in its present state, is reported under `config`.
    fn should_report(&self, job: &ProwJob, config: &ProwConfig) -> bool;

    /// Reports `job`, saying what was done (for the log).
    async fn report(&self, job: &ProwJob, config: &ProwConfig) -> Result<String, CrierError>;
}

/// A job one pass reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReportedBy {
    /// The ProwJob's name.
    pub job: String,
    /// The state reported.
    pub state: ProwJobState,
    /// What the reporter did.
    pub detail: String,
}

/// What one pass of a reporter did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ReporterPass {
    /// The jobs reported.
    pub reported: Vec<ReportedBy>,
    /// Failures: the job is reported again on the next pass.
    pub errors: Vec<CrierError>,
}

/// Reports `job` through `reporter` unless its state was reported already or the reporter
/// declines, then records the state.
pub async fn report_job(
    store: &dyn JobStore,
    reporter: &dyn JobReporter,
    config: &ProwConfig,
    job: &ProwJob,
    pass: &mut ReporterPass,
) {
    let Some(state) = job.state() else {
        return;
    };
    let done = job
        .status
        .as_ref()
        .and_then(|s| s.prev_report_states.get(reporter.name()));
    if done == Some(&state) || !reporter.should_report(job, config) {
        return;
    }
    let detail = match reporter.report(job, config).await {
        Ok(detail) => detail,
        Err(e) => {
            pass.errors.push(e);
            return;
        }
    };
    match mark_reported_by(store, reporter.name(), job.name(), state).await {
        Ok(()) => pass.reported.push(ReportedBy {
            job: job.name().to_owned(),
            state,
            detail,
        }),
        Err(e) => pass.errors.push(e),
    }
}

/// Records that `reporter` reported `state` for the job `name`, re-reading the job on a
/// conflict. A job deleted meanwhile, or already marked with `state`, needs nothing.
pub async fn mark_reported_by(
    store: &dyn JobStore,
    reporter: &str,
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
        if status.prev_report_states.get(reporter) == Some(&state) {
            return Ok(());
        }
        status.prev_report_states.insert(reporter.to_owned(), state);
        match store.update(job).await {
            Ok(_) | Err(StoreError::NotFound { .. }) => return Ok(()),
            Err(StoreError::Conflict { .. }) if attempt < MAX_UPDATE_ATTEMPTS => {}
            Err(e) => return Err(store_error("record the reported state", e)),
        }
    }
}

/// A [`JobReporter`] under the controller driver: a full pass at once and every resync
/// period, and each changed job as the store reports it.
pub struct ReporterLoop {
    store: Arc<dyn JobStore>,
    reporter: Arc<dyn JobReporter>,
    resync: Duration,
    passes: Option<mpsc::UnboundedSender<ReporterPass>>,
}

impl std::fmt::Debug for ReporterLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReporterLoop")
            .field("reporter", &self.reporter.name())
            .finish_non_exhaustive()
    }
}

impl ReporterLoop {
    /// `reporter` over the jobs of `store`, resyncing every [`DEFAULT_RESYNC_PERIOD`].
    pub fn new(store: Arc<dyn JobStore>, reporter: Arc<dyn JobReporter>) -> Self {
        ReporterLoop {
            store,
            reporter,
            resync: DEFAULT_RESYNC_PERIOD,
            passes: None,
        }
    }

    /// The same loop, sending what each pass did to `passes`.
    pub fn with_passes(mut self, passes: mpsc::UnboundedSender<ReporterPass>) -> Self {
        self.passes = Some(passes);
        self
    }

    /// One pass over every stored job.
    pub async fn sync_once(&self, config: &ProwConfig) -> ReporterPass {
        let mut pass = ReporterPass::default();
        match self.store.list_shared(&ListParams::default()).await {
            Ok(jobs) => {
                for job in &jobs {
                    report_job(
                        self.store.as_ref(),
                        self.reporter.as_ref(),
                        config,
                        job,
                        &mut pass,
                    )
                    .await;
                }
            }
            Err(source) => pass.errors.push(CrierError::Store {
                job: String::new(),
                action: "list prowjobs",
                source,
            }),
        }
        pass
    }
}

#[async_trait::async_trait]
impl Controller for ReporterLoop {
    fn name(&self) -> &'static str {
        self.reporter.name()
    }

    fn resync_period(&self, _config: &ConfigSnapshot) -> Duration {
        self.resync
    }

    fn store_changes(&self) -> Option<broadcast::Receiver<WatchEvent>> {
        Some(self.store.watch())
    }

    async fn reconcile(&self, config: &ConfigSnapshot, wake: Wake) -> Result<Pass, PassError> {
        let prow = &config.config.prow;
        let pass = match wake {
            Wake::Store(events) => {
                let mut pass = ReporterPass::default();
                for event in events {
                    if let WatchEvent::Added(job) | WatchEvent::Modified(job) = event {
                        // The event's copy may be stale: report the stored one.
                        match self.store.get(job.name()).await {
                            Ok(Some(job)) => {
                                report_job(
                                    self.store.as_ref(),
                                    self.reporter.as_ref(),
                                    prow,
                                    &job,
                                    &mut pass,
                                )
                                .await;
                            }
                            Ok(None) => {}
                            Err(source) => pass.errors.push(CrierError::Store {
                                job: job.name().to_owned(),
                                action: "get prowjob",
                                source,
                            }),
                        }
                    }
                }
                pass
            }
            _ => self.sync_once(prow).await,
        };
        for reported in &pass.reported {
            tracing::info!(reporter = self.reporter.name(), prowjob = %reported.job, state = %reported.state, detail = %reported.detail, "reported prowjob {} as {}", reported.job, reported.state);
        }
        let errors = pass.errors.iter().map(|e| error_chain(e)).collect();
        if let Some(passes) = &self.passes {
            let _ = passes.send(pass);
        }
        Ok(Pass::with_errors(errors))
    }
}
