//! horologium's decision: whether a periodic starts now (upstream `cmd/horologium`), as pure
//! code over the periodic, its latest run and the clock.
//!
//! - `interval`: a periodic never run starts at once; otherwise when the last run is complete
//!   and started more than `interval` ago.
//! - `minimum_interval`: the same, measured from the last run's completion.
//! - `cron` (5 or 6 fields, or a descriptor such as `@hourly`, in UTC): when a tick has passed
//!   since the last run ended (or, for a periodic never run, since it was first seen). A tick
//!   that comes while a run is going is skipped, as Prow drops it. Prow keeps its ticks in
//!   memory and loses them on restart; deciding from the stored runs instead means a restart
//!   neither loses a tick nor fires one twice.
//! - `@every <duration>` (robfig's form, which Prow also accepts): like `interval`.
//! - `retry` (attempts, interval, run_all): a failed run is started again, as a numbered re-run,
//!   once `interval` has passed since it started. Prow only looks at retries for periodics that
//!   are not cron-scheduled outside their tick; here a retry applies whatever the schedule.

use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use prow_config::Periodic;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::labels::RE_RUN;
use prow_core::{ProwJob, ProwJobState};

/// When a periodic runs.
#[derive(Debug, Clone)]
pub enum Schedule {
    /// `interval`: between starts.
    Interval(std::time::Duration),
    /// `minimum_interval`: from the end of one run to the start of the next.
    MinimumInterval(std::time::Duration),
    /// `cron`, evaluated in UTC.
    Cron(Box<croner::Cron>),
}

impl Schedule {
    /// The periodic's schedule; the error says why it has none (validation reports the same
    /// problems at load).
    pub fn of(periodic: &Periodic) -> Result<Self, String> {
        let duration = |text: &str| {
            prow_core::Duration::parse(text)
                .ok()
                .and_then(prow_core::Duration::to_std)
                .ok_or_else(|| {
                    format!(
                        "cannot parse duration {text:?} of periodic {}",
                        periodic.name
                    )
                })
        };
        let cron = periodic.cron.trim();
        if let Some(every) = cron.strip_prefix("@every ") {
            return duration(every.trim()).map(Schedule::Interval);
        }
        if !cron.is_empty() {
            // robfig/cron's reading (empty list items dropped), which croner is stricter about.
            return croner::Cron::from_str(&prow_core::cron::normalize(cron))
                .map(|c| Schedule::Cron(Box::new(c)))
                .map_err(|e| {
                    format!(
                        "invalid cron string {cron} in periodic {}: {e}",
                        periodic.name
                    )
                });
        }
        if !periodic.minimum_interval.is_empty() {
            return duration(&periodic.minimum_interval).map(Schedule::MinimumInterval);
        }
        if !periodic.interval.is_empty() {
            return duration(&periodic.interval).map(Schedule::Interval);
        }
        Err(format!(
            "at least one of cron, interval, or minimum_interval must be set in periodic {}",
            periodic.name
        ))
    }
}

/// Why a periodic starts now, or does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// No run has ever been recorded (interval schedules start at once).
    FirstRun,
    /// The interval (or minimum interval) has passed since the last run.
    IntervalElapsed,
    /// A cron tick has passed since the last run started.
    CronTick,
    /// The last run has not finished.
    StillRunning,
    /// Not yet time.
    NotDue,
}

impl Verdict {
    /// Whether the periodic starts now.
    pub fn fires(self) -> bool {
        matches!(
            self,
            Self::FirstRun | Self::IntervalElapsed | Self::CronTick
        )
    }
}

fn chrono_of(t: Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.as_second(), u32::try_from(t.subsec_nanosecond()).ok()?)
}

fn elapsed(since: Timestamp, now: Timestamp) -> std::time::Duration {
    now.duration_since(since).unsigned_abs()
}

/// Whether a periodic with `schedule` starts at `now`, given its latest run (if any) and when
/// horologium first saw it (`first_seen`, used by cron schedules before any run).
pub fn decide(
    schedule: &Schedule,
    latest: Option<&ProwJob>,
    first_seen: Timestamp,
    now: Timestamp,
) -> Verdict {
    let status = latest.and_then(|j| j.status.as_ref());
    let start = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    let completion = status.and_then(|s| s.completion_time.as_ref()).map(|t| t.0);
    if latest.is_some() && completion.is_none() {
        return Verdict::StillRunning;
    }
    match schedule {
        Schedule::Interval(every) => match (latest, start) {
            (None, _) => Verdict::FirstRun,
            (Some(_), Some(start)) if now > start && elapsed(start, now) > *every => {
                Verdict::IntervalElapsed
            }
            _ => Verdict::NotDue,
        },
        Schedule::MinimumInterval(gap) => match (latest, completion) {
            (None, _) => Verdict::FirstRun,
            (Some(_), Some(done)) if now > done && elapsed(done, now) > *gap => {
                Verdict::IntervalElapsed
            }
            _ => Verdict::NotDue,
        },
        Schedule::Cron(cron) => {
            // Ticks while the last run went on do not count: Prow drops them.
            let since = match latest {
                Some(_) => completion.max(start).unwrap_or(first_seen),
                None => first_seen,
            };
            let (Some(since), Some(now)) = (chrono_of(since), chrono_of(now)) else {
                return Verdict::NotDue;
            };
            match cron.find_next_occurrence(&since, false) {
                Ok(tick) if tick <= now => Verdict::CronTick,
                _ => Verdict::NotDue,
            }
        }
    }
}

/// The most re-runs horologium starts for one failed run, whatever `attempts` says (Prow's
/// `maxRetries`).
pub const MAX_RETRIES: u32 = 10;

/// A periodic's `retry` block: failed runs are started again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Retry {
    /// How many re-runs at most (capped at [`MAX_RETRIES`]).
    pub attempts: u32,
    /// How long after the failed run started its re-run starts.
    pub interval: std::time::Duration,
    /// Re-run `attempts` times whatever the results, without waiting for a run to finish.
    pub run_all: bool,
}

impl Retry {
    /// The periodic's retry settings, `None` when it has no `retry` block; the error says what
    /// is wrong with the block.
    pub fn of(periodic: &Periodic) -> Result<Option<Self>, String> {
        let Some(block) = periodic.retry.as_ref().filter(|r| !r.is_null()) else {
            return Ok(None);
        };
        let interval_text = block
            .get("interval")
            .and_then(|i| i.as_str())
            .unwrap_or_default();
        let interval = prow_core::Duration::parse(interval_text)
            .map_err(|e| {
                format!(
                    "cannot parse Retry duration for {}: time: {e}",
                    periodic.name
                )
            })?
            .to_std()
            .unwrap_or_default();
        let attempts = match block.get("attempts") {
            None => 0,
            Some(a) => match a.as_i64() {
                Some(n) => u32::try_from(n.max(0)).unwrap_or(u32::MAX),
                None => {
                    return Err(format!(
                        "retry.attempts of periodic {} is not an integer",
                        periodic.name
                    ));
                }
            },
        };
        let run_all = match block.get("run_all") {
            None => false,
            Some(r) => r.as_bool().ok_or_else(|| {
                format!(
                    "retry.run_all of periodic {} is not a boolean",
                    periodic.name
                )
            })?,
        };
        Ok(Some(Retry {
            attempts,
            interval,
            run_all,
        }))
    }
}

/// The re-run number to start now for a periodic whose latest run is `latest`, or `None` when
/// no re-run is due (Prow's `shouldTriggerFailedRun`). Re-runs carry their number in the
/// `prow.k8s.io/re-run` label; a run without it is the first attempt.
pub fn retry_attempt(retry: &Retry, latest: &ProwJob, now: Timestamp) -> Option<u32> {
    if !latest.is_complete() && !retry.run_all {
        return None;
    }
    let attempt = match latest.metadata.labels.as_ref().and_then(|l| l.get(RE_RUN)) {
        None => 1,
        Some(count) => count.parse::<u32>().ok()?.checked_add(1)?,
    };
    if attempt > retry.attempts.min(MAX_RETRIES) {
        return None;
    }
    let status = latest.status.as_ref();
    let start = status.and_then(|s| s.start_time.as_ref()).map(|t| t.0);
    if start.is_some_and(|s| now <= s || elapsed(s, now) <= retry.interval) {
        return None;
    }
    let succeeded = status.is_some_and(|s| s.state == ProwJobState::Success);
    if !retry.run_all && succeeded {
        return None;
    }
    Some(attempt)
}
