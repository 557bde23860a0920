//! When to send the next request, given what is left of the rate limit: the pure decision
//! behind the octocrab client's throttling (Prow's ghproxy throttles with a fixed token bucket;
//! this spreads whatever budget remains over the time left in the window).

use std::time::Duration;

use crate::types::RateLimit;

/// Requests go out unthrottled while more than this fraction (1/n) of the budget is left.
pub const RESERVE_DIVISOR: u64 = 10;

/// The longest a request waits for budget, or for a secondary limit's `Retry-After`; beyond
/// it the caller gets [`crate::Error::RateLimited`] at once instead of a stalled task.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// What to do before the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Send it now.
    Go,
    /// Wait this long, then send it.
    Wait(Duration),
    /// The budget is spent for longer than [`MAX_WAIT`]: fail until `reset` (Unix seconds).
    GiveUp {
        /// When the window resets.
        reset: u64,
    },
}

/// Decides from the last rate limit GitHub reported and the time now (Unix seconds).
///
/// Above the reserve, requests go at once; within it, the remaining requests are spaced evenly
/// until the reset, so the budget lasts the window instead of running out early.
pub fn decide(limit: &RateLimit, now: u64) -> Throttle {
    if limit.limit == 0 || now >= limit.reset || limit.remaining > limit.limit / RESERVE_DIVISOR {
        return Throttle::Go;
    }
    let window = limit.reset - now;
    let wait = if limit.remaining == 0 {
        Duration::from_secs(window)
    } else {
        Duration::from_secs(window) / u32::try_from(limit.remaining).unwrap_or(u32::MAX)
    };
    if wait.is_zero() {
        Throttle::Go
    } else if wait > MAX_WAIT {
        Throttle::GiveUp { reset: limit.reset }
    } else {
        Throttle::Wait(wait)
    }
}
