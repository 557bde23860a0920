//! horologium's loop: on every tick, start the periodics that are due (upstream
//! `cmd/horologium`'s `sync`).
//!
//! Each pass lists the store once, takes the latest run of every periodic from it and asks
//! [`decide`] and [`retry_attempt`] what to do, so the store alone says what has run.
//!
//! The one thing kept in memory is [`FirstSeen`]: for a cron periodic that has never run, when
//! horologium first saw it (its first run waits for the next tick after that, as in Prow). Prow
//! keeps that in memory too; after a restart the count starts again from the restart, so a
//! never-run cron periodic fires at its first tick after the restart. Once a periodic has a run
//! in the store, restarts change nothing: the next start is computed from that run, so a new
//! horologium on the same store neither repeats a tick nor skips one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_config::Periodic;
use prow_core::k8s_openapi;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::labels::RE_RUN;

use super::decide::{Retry, Schedule, Verdict, decide, retry_attempt};
use prow_config::ConfigSnapshot;
use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::controller::{Controller, Pass, PassError, Wake, error_chain};
use crate::pjutil::{new_prowjob, periodic_spec};
use crate::sinker::latest_periodics;
use crate::store::{JobStore, ListParams, StoreError, Write};

/// How often horologium looks at the periodics when `horologium.tick_interval` is unset.
pub const DEFAULT_TICK_INTERVAL: Duration = Duration::from_secs(60);

/// The tick interval of a loaded `horologium` section (default one minute).
pub fn tick_interval(horologium: &prow_config::prow::Horologium) -> Duration {
    horologium
        .tick_interval
        .and_then(|d| d.0.to_std())
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_TICK_INTERVAL)
}

/// When horologium first saw each cron periodic (and with which cron string): the start of
/// the wait for its first run. Kept in memory only; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct FirstSeen {
    seen: BTreeMap<String, (String, Timestamp)>,
}

impl FirstSeen {
    /// No periodic seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// When `periodic` was first seen with its current cron string, if it was.
    pub fn get(&self, periodic: &str) -> Option<Timestamp> {
        self.seen.get(periodic).map(|(_, t)| *t)
    }

    /// When `periodic` was first seen with `cron`, noting `now` if not before. A changed
    /// cron string counts as a new schedule, as Prow replaces the cron entry.
    fn note(&mut self, periodic: &str, cron: &str, now: Timestamp) -> Timestamp {
        match self.seen.get(periodic) {
            Some((c, t)) if c == cron => *t,
            _ => {
                self.seen
                    .insert(periodic.to_owned(), (cron.to_owned(), now));
                now
            }
        }
    }

    /// Forgets periodics no longer configured, so a re-added one waits for a tick again.
    fn retain(&mut self, periodics: &[Periodic]) {
        let configured: BTreeSet<&str> = periodics.iter().map(|p| p.name.as_str()).collect();
        self.seen
            .retain(|name, _| configured.contains(name.as_str()));
    }
}

/// Why horologium started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// The schedule says so.
    Scheduled(Verdict),
    /// The latest run failed and its periodic retries: the re-run's number (from 1).
    Retry(u32),
}

/// A run horologium created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Created {
    /// The periodic's name.
    pub periodic: String,
    /// The new ProwJob's name.
    pub prowjob: String,
    /// Why it was started.
    pub trigger: Trigger,
}

/// What one pass did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct SyncReport {
    /// The time the pass decided with.
    pub now: Timestamp,
    /// The runs it created, in configuration order.
    pub created: Vec<Created>,
    /// The periodics it could not handle, each naming its job; the others went ahead.
    pub errors: Vec<SyncError>,
}

/// Why horologium could not handle a periodic, or a whole pass.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The store could not list the ProwJobs; nothing was started.
    #[error("list prowjobs")]
    List(#[source] StoreError),
    /// The periodic's schedule or retry settings are unusable.
    #[error("{reason}")]
    Config {
        /// The periodic's name.
        job: String,
        /// What is wrong, naming the periodic.
        reason: String,
    },
    /// The periodic's ProwJob could not be made.
    #[error("make prowjob for periodic {job}")]
    Build {
        /// The periodic's name.
        job: String,
        /// The cause.
        #[source]
        source: crate::Error,
    },
    /// The store refused the new ProwJob.
    #[error("create prowjob for periodic {job}")]
    Create {
        /// The periodic's name.
        job: String,
        /// The store's error.
        #[source]
        source: StoreError,
    },
}

impl SyncError {
    /// The periodic the error is about, if it is about one.
    pub fn job(&self) -> Option<&str> {
        match self {
            SyncError::List(_) => None,
            SyncError::Config { job, .. }
            | SyncError::Build { job, .. }
            | SyncError::Create { job, .. } => Some(job),
        }
    }
}

/// What a periodic needs now: nothing, or a run for this reason.
fn plan(
    periodic: &Periodic,
    latest: Option<&prow_core::ProwJob>,
    first_seen: &mut FirstSeen,
    now: Timestamp,
) -> Result<Option<Trigger>, String> {
    let schedule = Schedule::of(periodic)?;
    let retry = Retry::of(periodic)?;
    let seen = match schedule {
        Schedule::Cron(_) => first_seen.note(&periodic.name, periodic.cron.trim(), now),
        _ => now,
    };
    let verdict = decide(&schedule, latest, seen, now);
    if verdict.fires() {
        return Ok(Some(Trigger::Scheduled(verdict)));
    }
    Ok(retry
        .zip(latest)
        .and_then(|(retry, latest)| retry_attempt(&retry, latest, now))
        .map(Trigger::Retry))
}

/// One pass: starts every periodic in `periodics` that is due at `clock`'s time. Only a failed
/// listing fails the pass; a periodic that cannot be handled is reported and the others go
/// ahead.
pub async fn sync_once(
    store: &dyn JobStore,
    periodics: &[Periodic],
    first_seen: &mut FirstSeen,
    clock: &dyn Clock,
) -> Result<SyncReport, SyncError> {
    let jobs = store
        .list_shared(&ListParams::default())
        .await
        .map_err(SyncError::List)?;
    let latest = latest_periodics(&jobs);
    let now = clock.now();
    first_seen.retain(periodics);
    let mut report = SyncReport {
        now,
        ..SyncReport::default()
    };
    let mut due = Vec::new();
    for periodic in periodics {
        let previous = latest.get(periodic.name.as_str()).copied();
        let trigger = match plan(periodic, previous, first_seen, now) {
            Ok(Some(trigger)) => trigger,
            Ok(None) => continue,
            Err(reason) => {
                report.errors.push(SyncError::Config {
                    job: periodic.name.clone(),
                    reason,
                });
                continue;
            }
        };
        let spec = match periodic_spec(periodic) {
            Ok(spec) => spec,
            Err(source) => {
                report.errors.push(SyncError::Build {
                    job: periodic.name.clone(),
                    source,
                });
                continue;
            }
        };
        let mut labels = periodic.labels.clone();
        if let Trigger::Retry(attempt) = trigger {
            labels.insert(RE_RUN.to_owned(), attempt.to_string());
        }
        let job = new_prowjob(spec, &labels, &periodic.annotations, Time(now));
        due.push((periodic.name.clone(), trigger, Write::Create(job)));
    }
    // Every due run in one batch: a pass that starts hundreds of periodics at once (a
    // restart, a new configuration) writes them in one transaction.
    let (runs, writes): (Vec<_>, Vec<_>) = due
        .into_iter()
        .map(|(periodic, trigger, write)| ((periodic, trigger), write))
        .unzip();
    let results = store.write_all(writes).await;
    for ((periodic, trigger), result) in runs.into_iter().zip(results) {
        match result {
            Ok(stored) => report.created.push(Created {
                periodic,
                prowjob: stored.metadata.name.unwrap_or_default(),
                trigger,
            }),
            Err(source) => report.errors.push(SyncError::Create {
                job: periodic,
                source,
            }),
        }
    }
    Ok(report)
}

/// horologium under the controller driver: a pass at once and then every
/// `horologium.tick_interval` (and when the configuration changes), each creating the runs
/// that are due.
pub struct Horologium {
    store: Arc<dyn JobStore>,
    clock: Arc<dyn Clock>,
    first_seen: tokio::sync::Mutex<FirstSeen>,
    reports: Option<mpsc::UnboundedSender<SyncReport>>,
}

impl std::fmt::Debug for Horologium {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Horologium").finish_non_exhaustive()
    }
}

impl Horologium {
    /// horologium creating runs in `store` at `clock`'s times.
    pub fn new(store: Arc<dyn JobStore>, clock: Arc<dyn Clock>) -> Self {
        Horologium {
            store,
            clock,
            first_seen: tokio::sync::Mutex::new(FirstSeen::new()),
            reports: None,
        }
    }

    /// The same horologium, sending each pass's report to `reports` (to watch it in tests or
    /// count it elsewhere).
    pub fn with_reports(mut self, reports: mpsc::UnboundedSender<SyncReport>) -> Self {
        self.reports = Some(reports);
        self
    }
}

#[async_trait::async_trait]
impl Controller for Horologium {
    fn name(&self) -> &'static str {
        "horologium"
    }

    fn resync_period(&self, config: &ConfigSnapshot) -> Duration {
        tick_interval(&config.config.prow.horologium)
    }

    async fn reconcile(&self, config: &ConfigSnapshot, _wake: Wake) -> Result<Pass, PassError> {
        let mut first_seen = self.first_seen.lock().await;
        let report = sync_once(
            self.store.as_ref(),
            &config.config.jobs.periodics,
            &mut first_seen,
            self.clock.as_ref(),
        )
        .await?;
        for created in &report.created {
            tracing::info!(
                job = %created.periodic,
                prowjob = %created.prowjob,
                "started periodic {} ({:?})",
                created.periodic,
                created.trigger
            );
        }
        let errors = report.errors.iter().map(|e| error_chain(e)).collect();
        if let Some(reports) = &self.reports {
            let _ = reports.send(report);
        }
        Ok(Pass::with_errors(errors))
    }
}
