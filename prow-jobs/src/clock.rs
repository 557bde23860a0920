//! Wall-clock time for the controllers, replaceable in tests.
//!
//! Controllers decide with timestamps (ProwJob times are wall-clock) but wait with tokio. A
//! [`TokioClock`] ties the two together: its wall-clock time moves with tokio's clock, so a
//! test that pauses and advances tokio's time moves the controllers' "now" as well.

use std::fmt::Debug;

use prow_core::k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Where controllers read the time.
pub trait Clock: Send + Sync + Debug {
    /// The current wall-clock time.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Wall-clock time that advances with tokio's clock, from a fixed starting point; under
/// `tokio::time::pause` it moves only when the test advances time.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    base: Timestamp,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `base` now.
    pub fn starting_at(base: Timestamp) -> Self {
        TokioClock {
            base,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed =
            SignedDuration::try_from(self.origin.elapsed()).unwrap_or(SignedDuration::MAX);
        self.base.saturating_add(elapsed).unwrap_or(self.base)
    }
}
