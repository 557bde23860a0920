//! horologium: starts periodic jobs on their schedules.
//!
//! [`decide`] and [`retry_attempt`] are the pure decisions (is a periodic due, is a failed run
//! started again); [`sync_once`] acts on them against a [`JobStore`](crate::store::JobStore),
//! and [`run`] does that once per tick.

mod decide;
mod sync;

pub use decide::{MAX_RETRIES, Retry, Schedule, Verdict, decide, retry_attempt};
pub use sync::{
    Created, DEFAULT_TICK_INTERVAL, FirstSeen, Settings, SyncError, SyncReport, Trigger, run,
    sync_once, tick_interval,
};
