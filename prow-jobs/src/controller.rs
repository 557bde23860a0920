//! One driver for every controller loop: plank, horologium, sinker, crier and tide each say
//! what one pass does ([`Controller::reconcile`]) and when they want the next; [`drive`] runs
//! the passes with the configuration in force, wakes them on resync, store changes, nudges and
//! configuration changes, stops on a signal, logs what went wrong and counts every pass.
//!
//! Like kube-runtime's controller driver, the loop is written once; unlike it, a pass here
//! looks at the whole world (Prow's controllers list every ProwJob each pass), and the store
//! changes that woke it are handed over in one batch so a controller can coalesce them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prow_config::ConfigSnapshot;
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tracing::Instrument;

use crate::config::ConfigHandle;
use crate::store::WatchEvent;

/// The most store changes handed to one pass; more wait for the next.
const MAX_BATCH: usize = 1024;

/// Why a pass runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Wake {
    /// The first pass after starting.
    Start,
    /// The resync period passed with nothing else waking the controller.
    Resync,
    /// The store reported these changes (in order, at most a batch).
    Store(Vec<WatchEvent>),
    /// The store's change feed dropped changes or restarted: any job may have changed.
    Lagged,
    /// The controller's own wake-up source fired (plank: a pod changed).
    Nudge,
    /// A new configuration was published.
    Config,
}

/// What a pass did that went wrong without failing the whole pass: each problem names its
/// job, pod or pool and is retried by a later pass.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pass {
    /// One line per problem.
    pub errors: Vec<String>,
}

impl Pass {
    /// A pass with these problems.
    pub fn with_errors(errors: Vec<String>) -> Self {
        Pass { errors }
    }
}

/// `error` and its causes on one line, as a pass reports its problems.
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        line.push_str(": ");
        line.push_str(&cause.to_string());
        source = cause.source();
    }
    line
}

/// Why a whole pass failed (the store could not be listed, GitHub could not be searched).
pub type PassError = Box<dyn std::error::Error + Send + Sync>;

/// One of Prow's controllers, as a pass over the world and the wishes that schedule it.
#[async_trait::async_trait]
pub trait Controller: Send + Sync {
    /// Prow's name for it (`plank`, `horologium`, ...), used in logs and metrics.
    fn name(&self) -> &'static str;

    /// How long to wait for the next pass when nothing wakes the controller earlier.
    fn resync_period(&self, config: &ConfigSnapshot) -> Duration;

    /// The store change feed that wakes the controller, subscribed before its first pass so
    /// that no change falls between a list and the feed.
    fn store_changes(&self) -> Option<broadcast::Receiver<WatchEvent>> {
        None
    }

    /// Another wake-up source (plank's runner reports pod changes here).
    fn nudges(&self) -> Option<Arc<Notify>> {
        None
    }

    /// One pass with `config`, because of `wake`.
    async fn reconcile(&self, config: &ConfigSnapshot, wake: Wake) -> Result<Pass, PassError>;
}

/// Each controller's passes, for `/metrics`.
#[derive(Debug, Default, Clone)]
pub struct ControllerMetrics {
    figures: Arc<Mutex<BTreeMap<&'static str, ControllerFigures>>>,
}

/// One controller's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ControllerFigures {
    /// Passes that completed without a problem.
    pub passes_ok: u64,
    /// Passes that completed with some problems.
    pub passes_with_errors: u64,
    /// Passes that failed as a whole.
    pub passes_failed: u64,
    /// Problems reported by passes that completed.
    pub errors: u64,
    /// How long the last pass took, in seconds.
    pub last_pass_seconds: f64,
}

impl ControllerMetrics {
    /// Every controller's counters, by name.
    pub fn snapshot(&self) -> BTreeMap<&'static str, ControllerFigures> {
        self.figures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn record(&self, name: &'static str, outcome: &Result<Pass, PassError>, took: Duration) {
        let mut figures = self.figures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = figures.entry(name).or_default();
        entry.last_pass_seconds = took.as_secs_f64();
        match outcome {
            Ok(pass) if pass.errors.is_empty() => entry.passes_ok += 1,
            Ok(pass) => {
                entry.passes_with_errors += 1;
                entry.errors += pass.errors.len() as u64;
            }
            Err(_) => entry.passes_failed += 1,
        }
    }
}

/// Runs `controller` until `stop` completes: a pass at once, then one whenever the store,
/// its nudges or a new configuration wake it, and at least every resync period. A pass in
/// progress when `stop` completes finishes first. Every problem is logged at `warn` and a
/// failed pass at `error`, inside a span naming the component.
pub async fn drive(
    controller: &dyn Controller,
    config: ConfigHandle,
    stop: impl Future<Output = ()>,
    metrics: &ControllerMetrics,
) {
    let name = controller.name();
    let span = tracing::info_span!("controller", component = name);
    run(controller, config, stop, metrics)
        .instrument(span)
        .await;
}

async fn run(
    controller: &dyn Controller,
    mut config: ConfigHandle,
    stop: impl Future<Output = ()>,
    metrics: &ControllerMetrics,
) {
    let name = controller.name();
    let mut changes = controller.store_changes();
    let nudges = controller.nudges();
    let mut wake = Wake::Start;
    tokio::pin!(stop);
    loop {
        let snapshot = config.current();
        let started = Instant::now();
        let outcome = controller.reconcile(&snapshot, wake).await;
        metrics.record(name, &outcome, started.elapsed());
        match &outcome {
            Ok(pass) => {
                for error in &pass.errors {
                    tracing::warn!(error = %error, "{name}: {error}");
                }
            }
            Err(e) => {
                let e = error_chain(e.as_ref());
                tracing::error!(error = %e, "{name}: pass failed: {e}");
            }
        }
        let period = controller.resync_period(&snapshot);
        wake = tokio::select! {
            biased;
            () = &mut stop => return,
            () = config.changed() => Wake::Config,
            () = nudged(nudges.as_deref()) => Wake::Nudge,
            woke = next_changes(&mut changes, controller) => woke,
            () = tokio::time::sleep(period) => Wake::Resync,
        };
    }
}

async fn nudged(nudges: Option<&Notify>) {
    match nudges {
        Some(notify) => notify.notified().await,
        None => std::future::pending().await,
    }
}

/// The next batch of store changes: the first to arrive and any already waiting behind it.
async fn next_changes(
    changes: &mut Option<broadcast::Receiver<WatchEvent>>,
    controller: &dyn Controller,
) -> Wake {
    let Some(receiver) = changes else {
        return std::future::pending().await;
    };
    let first = match receiver.recv().await {
        Ok(event) => event,
        Err(RecvError::Lagged(_)) => return Wake::Lagged,
        Err(RecvError::Closed) => {
            // The feed restarted (a store reconnecting): subscribe again and look at everything.
            *changes = controller.store_changes();
            return Wake::Lagged;
        }
    };
    let mut batch = vec![first];
    while batch.len() < MAX_BATCH {
        match receiver.try_recv() {
            Ok(event) => batch.push(event),
            Err(TryRecvError::Lagged(_)) => return Wake::Lagged,
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        }
    }
    Wake::Store(batch)
}
