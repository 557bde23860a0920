//! sinker's loop: every resync period, delete the ProwJobs and pods the policy lets go
//! (upstream `cmd/sinker`'s `clean`).
//!
//! A ProwJob is deleted only at the `resourceVersion` it was listed at, so a job someone
//! changed in the meantime (a rerun, a late report) stays until the next pass looks at it
//! again. A pod whose ProwJob is missing from the listing is read once more from the store
//! before it is called orphaned, since the listing may be stale by then.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use prow_config::Periodic;
use prow_core::ProwJob;
use prow_core::k8s_openapi::jiff::Timestamp;

use super::policy::{JobReason, PodInfo, PodReason, Policy, pod_verdict, prowjobs_to_delete};
use prow_config::ConfigSnapshot;

use crate::clock::Clock;
use crate::controller::{Controller, Pass, PassError, Wake, error_chain};
use crate::runner::{Runner, RunnerError};
use crate::store::{JobStore, ListParams, StoreError};

/// How often sinker cleans when `sinker.resync_period` is unset.
pub const DEFAULT_RESYNC_PERIOD: Duration = Duration::from_secs(3600);

/// sinker's settings: the `sinker` section of config.yaml, with Prow's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// What is old enough to delete.
    pub policy: Policy,
    /// How long to wait between passes (`resync_period`, default one hour).
    pub resync_period: Duration,
    /// Build clusters whose pods sinker leaves alone (`exclude_clusters`).
    pub exclude_clusters: Vec<String>,
}

impl Settings {
    /// The settings of a loaded `sinker` section.
    pub fn of(sinker: &prow_config::prow::Sinker) -> Self {
        Settings {
            policy: Policy::of(sinker),
            resync_period: sinker
                .resync_period
                .and_then(|d| d.0.to_std())
                .filter(|d| !d.is_zero())
                .unwrap_or(DEFAULT_RESYNC_PERIOD),
            exclude_clusters: sinker.exclude_clusters.clone(),
        }
    }
}

/// A build cluster: its name in the configuration and the runner of its pods.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Cluster<'a> {
    /// The cluster's name (`default` for the embedded runner).
    pub name: &'a str,
    /// Its pods.
    pub runner: &'a dyn Runner,
}

impl<'a> Cluster<'a> {
    /// The cluster called `name` whose pods `runner` holds.
    pub fn new(name: &'a str, runner: &'a dyn Runner) -> Self {
        Cluster { name, runner }
    }
}

impl std::fmt::Debug for Cluster<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("name", &self.name).finish()
    }
}

/// Why sinker could not clean something, or a whole pass.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CleanError {
    /// The store could not list the ProwJobs; nothing was deleted.
    #[error("list prowjobs")]
    List(#[source] StoreError),
    /// A ProwJob could not be deleted; a [`StoreError::Conflict`] means it changed since the
    /// listing and was kept.
    #[error("delete prowjob {name}")]
    DeleteProwJob {
        /// The ProwJob's name.
        name: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The store could not say whether a pod's ProwJob still exists; the pod was kept.
    #[error("look up prowjob {name} of pod {pod}")]
    GetProwJob {
        /// The ProwJob's name.
        name: String,
        /// The pod's name.
        pod: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// A cluster's pods could not be listed; its pods were left alone this pass.
    #[error("list pods of cluster {cluster}")]
    ListPods {
        /// The cluster's name.
        cluster: String,
        /// The runner's error.
        #[source]
        source: RunnerError,
    },
    /// A pod could not be deleted.
    #[error("delete pod {name} in cluster {cluster}")]
    DeletePod {
        /// The cluster's name.
        cluster: String,
        /// The pod's name.
        name: String,
        /// The runner's error.
        #[source]
        source: RunnerError,
    },
}

/// What one pass did: counts by reason, as Prow's sinker metrics report them, and what failed.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct CleanReport {
    /// ProwJobs in the store at the start of the pass (`sinker_prow_jobs_existing`).
    pub prowjobs_existing: usize,
    /// ProwJobs deleted, by reason (`sinker_prow_jobs_cleaned`).
    pub prowjobs_cleaned: BTreeMap<JobReason, usize>,
    /// ProwJob deletions that failed, by Kubernetes reason such as `Conflict`
    /// (`sinker_prow_jobs_cleaning_errors`).
    pub prowjob_cleaning_errors: BTreeMap<&'static str, usize>,
    /// Pods in the clusters looked at (`sinker_pods_existing`).
    pub pods_existing: usize,
    /// Pods deleted, by reason (`sinker_pods_removed`).
    pub pods_removed: BTreeMap<PodReason, usize>,
    /// Pod deletions that failed, by reason (`sinker_pod_removal_errors`).
    pub pod_removal_errors: BTreeMap<&'static str, usize>,
    /// Everything that failed, each naming its job, pod or cluster.
    pub errors: Vec<CleanError>,
}

/// The Kubernetes status reason matching a store error (Prow counts failures by it).
fn store_reason(error: &StoreError) -> &'static str {
    match error {
        StoreError::NotFound { .. } => "NotFound",
        StoreError::AlreadyExists { .. } => "AlreadyExists",
        StoreError::Conflict { .. } => "Conflict",
        StoreError::Invalid { .. } => "Invalid",
        _ => "InternalError",
    }
}

fn runner_reason(error: &RunnerError) -> &'static str {
    match error {
        RunnerError::Unprocessable(_) => "Invalid",
        RunnerError::AlreadyExists { .. } => "AlreadyExists",
        _ => "InternalError",
    }
}

fn name_of(job: &ProwJob) -> &str {
    job.metadata.name.as_deref().unwrap_or_default()
}

/// One pass: deletes the finished ProwJobs the policy lets go (keeping the newest run of each
/// periodic in `periodics`), then the pods of every cluster not excluded that are aged, past
/// their TTL or orphaned. Only a failed listing of ProwJobs fails the pass; every other
/// failure is reported and the pass goes on.
pub async fn sync_once(
    store: &dyn JobStore,
    clusters: &[Cluster<'_>],
    periodics: &[Periodic],
    settings: &Settings,
    clock: &dyn Clock,
) -> Result<CleanReport, CleanError> {
    let jobs = store
        .list_shared(&ListParams::default())
        .await
        .map_err(CleanError::List)?;
    let now = clock.now();
    let mut report = CleanReport {
        prowjobs_existing: jobs.len(),
        ..CleanReport::default()
    };
    let active: BTreeSet<&str> = periodics.iter().map(|p| p.name.as_str()).collect();
    let mut deleted = BTreeSet::new();
    for job in prowjobs_to_delete(&jobs, &active, &settings.policy, now) {
        let name = name_of(job);
        match store
            .delete(name, job.metadata.resource_version.as_deref())
            .await
        {
            Ok(_) => {
                *report
                    .prowjobs_cleaned
                    .entry(JobReason::of(job))
                    .or_default() += 1;
                deleted.insert(name);
            }
            Err(source) => {
                *report
                    .prowjob_cleaning_errors
                    .entry(store_reason(&source))
                    .or_default() += 1;
                report.errors.push(CleanError::DeleteProwJob {
                    name: name.to_owned(),
                    source,
                });
            }
        }
    }
    // Jobs deleted above no longer count: their pods are orphans now.
    let remaining: BTreeMap<&str, &ProwJob> = jobs
        .iter()
        .map(|j| (name_of(j), &**j))
        .filter(|(name, _)| !deleted.contains(name))
        .collect();
    for cluster in clusters {
        if settings
            .exclude_clusters
            .iter()
            .any(|c| c.as_str() == cluster.name)
        {
            continue;
        }
        clean_pods(store, cluster, &remaining, settings, now, &mut report).await;
    }
    Ok(report)
}

async fn clean_pods(
    store: &dyn JobStore,
    cluster: &Cluster<'_>,
    jobs: &BTreeMap<&str, &ProwJob>,
    settings: &Settings,
    now: Timestamp,
    report: &mut CleanReport,
) {
    let pods = match cluster.runner.list().await {
        Ok(pods) => pods,
        Err(source) => {
            report.errors.push(CleanError::ListPods {
                cluster: cluster.name.to_owned(),
                source,
            });
            return;
        }
    };
    report.pods_existing += pods.len();
    for pod in &pods {
        let info = PodInfo::from(pod);
        let Some(reason) = pod_verdict(&info, jobs, &settings.policy, now) else {
            continue;
        };
        if reason == PodReason::Orphaned {
            match store.get(&info.prowjob).await {
                Ok(None) => {}
                Ok(Some(_)) => continue,
                Err(source) => {
                    report.errors.push(CleanError::GetProwJob {
                        name: info.prowjob.clone(),
                        pod: info.name.clone(),
                        source,
                    });
                    continue;
                }
            }
        }
        match cluster.runner.delete(&pod.name).await {
            Ok(()) => *report.pods_removed.entry(reason).or_default() += 1,
            Err(source) => {
                *report
                    .pod_removal_errors
                    .entry(runner_reason(&source))
                    .or_default() += 1;
                report.errors.push(CleanError::DeletePod {
                    cluster: cluster.name.to_owned(),
                    name: pod.name.clone(),
                    source,
                });
            }
        }
    }
}

/// sinker under the controller driver: a pass at once, then one every resync period (and
/// when the configuration changes), over the store and every build cluster's pods.
pub struct Sinker {
    store: Arc<dyn JobStore>,
    clusters: Vec<(String, Arc<dyn Runner>)>,
    clock: Arc<dyn Clock>,
    reports: Option<tokio::sync::mpsc::UnboundedSender<CleanReport>>,
}

impl std::fmt::Debug for Sinker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sinker").finish_non_exhaustive()
    }
}

impl Sinker {
    /// sinker over `store` and the pods of `clusters` (by name).
    pub fn new(
        store: Arc<dyn JobStore>,
        clusters: Vec<(String, Arc<dyn Runner>)>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Sinker {
            store,
            clusters,
            clock,
            reports: None,
        }
    }

    /// The same sinker, sending what each pass did to `reports`.
    pub fn with_reports(
        mut self,
        reports: tokio::sync::mpsc::UnboundedSender<CleanReport>,
    ) -> Self {
        self.reports = Some(reports);
        self
    }
}

#[async_trait::async_trait]
impl Controller for Sinker {
    fn name(&self) -> &'static str {
        "sinker"
    }

    fn resync_period(&self, config: &ConfigSnapshot) -> Duration {
        Settings::of(&config.config.prow.sinker).resync_period
    }

    async fn reconcile(&self, config: &ConfigSnapshot, _wake: Wake) -> Result<Pass, PassError> {
        let clusters: Vec<Cluster<'_>> = self
            .clusters
            .iter()
            .map(|(name, runner)| Cluster::new(name, runner.as_ref()))
            .collect();
        let settings = Settings::of(&config.config.prow.sinker);
        let report = sync_once(
            self.store.as_ref(),
            &clusters,
            &config.config.jobs.periodics,
            &settings,
            self.clock.as_ref(),
        )
        .await?;
        let deleted: usize = report.prowjobs_cleaned.values().sum();
        let removed: usize = report.pods_removed.values().sum();
        if deleted + removed > 0 {
            tracing::info!(
                prowjobs_deleted = deleted,
                pods_removed = removed,
                "deleted {deleted} prowjobs and {removed} pods"
            );
        }
        let errors = report.errors.iter().map(|e| error_chain(e)).collect();
        if let Some(reports) = &self.reports {
            let _ = reports.send(report);
        }
        Ok(Pass::with_errors(errors))
    }
}
