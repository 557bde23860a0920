//! horologium: starts periodic jobs on their schedules.
//!
//! [`decide`] and [`retry_attempt`] are the pure decisions (is a periodic due, is a failed run
//! started again); [`sync_once`] acts on them against a [`JobStore`](crate::store::JobStore),
//! and [`Horologium`] does that once per tick under the controller driver.

mod decide;
mod sync;

pub use decide::{MAX_RETRIES, Retry, Schedule, Verdict, decide, retry_attempt};
pub use sync::{
    Created, DEFAULT_TICK_INTERVAL, FirstSeen, Horologium, SyncError, SyncReport, Trigger,
    sync_once, tick_interval,
};
