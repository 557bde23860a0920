//! The throttle's decision: go, wait or give up, from the last rate limit and the time.

use std::time::Duration;

use proptest::prelude::*;
use prow_github::throttle::{MAX_WAIT, Throttle, decide};
use prow_github::types::RateLimit;

fn check(limit: u64, remaining: u64, seconds_to_reset: i64, expected: Throttle) {
    let now: u64 = 1_000_000;
    let reset = now.checked_add_signed(seconds_to_reset).unwrap();
    let rate = RateLimit {
        limit,
        remaining,
        reset,
    };
    assert_eq!(decide(&rate, now), expected, "{rate:?}");
}

#[test]
fn the_budget_is_spread_only_within_the_reserve() {
    check(5000, 5000, 3600, Throttle::Go);
    check(5000, 501, 3600, Throttle::Go);
    // 500 left for an hour: one every 7.2 seconds.
    check(5000, 500, 3600, Throttle::Wait(Duration::from_millis(7200)));
    check(5000, 60, 60, Throttle::Wait(Duration::from_secs(1)));
    // Nothing left and the reset far off: fail now rather than stall.
    check(5000, 0, 3600, Throttle::GiveUp { reset: 1_003_600 });
    check(5000, 1, 61, Throttle::GiveUp { reset: 1_000_061 });
    // Nothing left but the reset is near: wait for it.
    check(5000, 0, 30, Throttle::Wait(Duration::from_secs(30)));
    // A past reset or an unknown limit never throttles.
    check(5000, 0, -5, Throttle::Go);
    check(0, 0, 3600, Throttle::Go);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A wait never exceeds the cap nor the time to the reset, and giving up only happens when
    /// the spread wait would exceed the cap.
    #[test]
    fn proptest_waits_are_bounded(
        limit in 1_u64..20_000,
        spent in 0.0_f64..=1.0,
        to_reset in 0_u64..7200,
    ) {
        let remaining = (limit as f64 * (1.0 - spent)) as u64;
        let now = 1_700_000_000;
        let rate = RateLimit { limit, remaining, reset: now + to_reset };
        let decision = decide(&rate, now);
        prop_assert_eq!(decision == Throttle::Go, remaining > limit / 10 || to_reset == 0);
        match decision {
            Throttle::Go => {}
            Throttle::Wait(wait) => {
                prop_assert!(wait <= MAX_WAIT);
                prop_assert!(wait <= Duration::from_secs(to_reset));
            }
            Throttle::GiveUp { reset } => {
                prop_assert_eq!(reset, now + to_reset);
                let spread = Duration::from_secs(to_reset) / u32::try_from(remaining.max(1)).unwrap();
                prop_assert!(spread > MAX_WAIT);
            }
        }
    }
}
