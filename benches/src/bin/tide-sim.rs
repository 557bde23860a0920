//! tide-sim: drives the real merge-queue strategies of `prow_core::tide` with a simulated clock
//! and simulated CI, and compares Prow's tide with serial, bisect and speculative merging.
//!
//! Model: PRs become ready to merge as a Poisson process. Each PR is truly broken with
//! probability `p_bad`; a run fails when it contains a broken PR, and otherwise fails by flake
//! with probability `p_flake`. A run takes `ci_minutes`. The queue is asked what to do once a
//! simulated minute (Prow's default `sync_period`). A good PR that is ejected (a flake blamed on
//! it) comes back after one more CI run, as if its author typed `/retest`; its time to merge
//! counts from when it first became ready.
//!
//! `cargo run --release -p prow-benches --bin tide-sim -- --output json` prints one JSON object
//! per (strategy, scenario) over the standard grid.

use std::collections::{BTreeMap, BTreeSet};

use prow_core::tide::{MergeQueue, QueueAction, RunOutcome, StrategyKind, StrategyOptions};

/// Jobs a simulated repository requires; a broken PR always breaks the same one.
const JOBS: [&str; 3] = ["pull-unit", "pull-integration", "pull-e2e"];
/// Retries of a single PR's failure before it is blamed (our strategies; tide never retries).
const FLAKE_RETRIES: u32 = 2;
/// Minutes between queue decisions (Prow's default `sync_period` is one minute).
const SYNC_MINUTES: u64 = 1;

/// One scenario of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scenario {
    arrivals_per_hour: f64,
    p_bad: f64,
    p_flake: f64,
    ci_minutes: u64,
    batch_size: usize,
    capacity: usize,
}

/// The measured behaviour of one strategy in one scenario.
#[derive(Debug, Clone, PartialEq)]
struct Report {
    strategy: StrategyKind,
    scenario: Scenario,
    merged_per_hour: f64,
    p50_minutes_to_merge: f64,
    p95_minutes_to_merge: f64,
    ci_runs_per_merge: f64,
    saturated: bool,
    /// PRs ejected while truly broken, and good PRs wrongly ejected.
    ejected_bad: BTreeSet<u64>,
    ejected_good: u64,
    bad: BTreeSet<u64>,
    merged: u64,
}

/// SplitMix64: small, seedable, good enough for a simulation.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponentially distributed with the given mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Runs one strategy through one scenario for `minutes` simulated minutes.
fn simulate(kind: StrategyKind, s: Scenario, minutes: u64, seed: u64) -> Report {
    // Separate streams, so strategies see the same PRs and the CI's coin flips differ only by use.
    let mut arrivals_rng = Rng(seed);
    let mut ci_rng = Rng(seed ^ 0x5EED_C1C1_0000_0001);
    let options =
        StrategyOptions::new(kind, s.batch_size, s.capacity).with_flake_retries(FLAKE_RETRIES);
    let mut queue = MergeQueue::new(options);

    // Pre-draw arrivals: (minute, pr, bad).
    let mean_gap = 60.0 / s.arrivals_per_hour;
    let mut arrivals = Vec::new();
    let mut t = arrivals_rng.exp(mean_gap);
    let mut number = 0u64;
    while (t as u64) < minutes {
        number += 1;
        arrivals.push((t as u64, number, arrivals_rng.chance(s.p_bad)));
        t += arrivals_rng.exp(mean_gap);
    }
    let bad: BTreeSet<u64> = arrivals.iter().filter(|a| a.2).map(|a| a.1).collect();
    let ready_at: BTreeMap<u64, u64> = arrivals.iter().map(|a| (a.1, a.0)).collect();

    // Pending events keyed by minute.
    let mut finishing: BTreeMap<u64, Vec<(u64, RunOutcome)>> = BTreeMap::new();
    let mut run_end: BTreeMap<u64, u64> = BTreeMap::new();
    let mut returning: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut merged_at: BTreeMap<u64, u64> = BTreeMap::new();
    let mut ejected_bad = BTreeSet::new();
    let mut ejected_good = 0u64;
    let warmup = (minutes / 10).min(24 * 60);
    let mut next_arrival = 0usize;

    let mut now = 0;
    while now < minutes {
        while next_arrival < arrivals.len() && arrivals[next_arrival].0 <= now {
            queue.enqueue(arrivals[next_arrival].1);
            next_arrival += 1;
        }
        if let Some(prs) = returning.remove(&now) {
            for pr in prs {
                queue.enqueue(pr);
            }
        }
        if let Some(done) = finishing.remove(&now) {
            for (run, outcome) in done {
                run_end.remove(&run);
                queue.run_finished(run, outcome);
            }
        }
        for action in queue.step() {
            match action {
                QueueAction::StartRun { run, tested, .. } => {
                    let culprit = tested.iter().find(|p| bad.contains(p));
                    let outcome = match culprit {
                        Some(pr) => RunOutcome::fail([JOBS[(*pr as usize) % JOBS.len()]]),
                        None if ci_rng.chance(s.p_flake) => {
                            let job = JOBS[(ci_rng.next_u64() as usize) % JOBS.len()];
                            RunOutcome::fail([job])
                        }
                        None => RunOutcome::pass(),
                    };
                    let end = now + s.ci_minutes;
                    finishing.entry(end).or_default().push((run, outcome));
                    run_end.insert(run, end);
                }
                QueueAction::CancelRun { run } => {
                    if let Some(end) = run_end.remove(&run)
                        && let Some(list) = finishing.get_mut(&end)
                    {
                        list.retain(|(r, _)| *r != run);
                    }
                }
                QueueAction::Merge { prs } => {
                    for pr in prs {
                        merged_at.insert(pr, now);
                    }
                }
                QueueAction::Eject { pr, .. } => {
                    if bad.contains(&pr) {
                        ejected_bad.insert(pr);
                    } else {
                        ejected_good += 1;
                        returning.entry(now + s.ci_minutes).or_default().push(pr);
                    }
                }
                _ => {}
            }
        }
        now += SYNC_MINUTES;
    }

    // Throughput over the measured window; time to merge for good PRs that became ready in it,
    // counting PRs still waiting at the end as waiting until the end (a lower bound).
    let measured_hours = (minutes - warmup) as f64 / 60.0;
    let merged_in_window = merged_at.values().filter(|&&t| t >= warmup).count() as f64;
    let mut waits: Vec<f64> = ready_at
        .iter()
        .filter(|(pr, ready)| **ready >= warmup && !bad.contains(pr))
        .map(|(pr, ready)| (merged_at.get(pr).copied().unwrap_or(minutes) - ready) as f64)
        .collect();
    waits.sort_by(f64::total_cmp);
    let merged_per_hour = merged_in_window / measured_hours;
    let good_per_hour = s.arrivals_per_hour * (1.0 - s.p_bad);
    let stats = queue.stats();
    // Good PRs still waiting at the end: a queue that keeps up holds about one CI duration's
    // arrivals plus a batch; a saturated one grows for the whole simulation.
    let backlog = ready_at
        .keys()
        .filter(|pr| !bad.contains(pr) && !merged_at.contains_key(pr))
        .count() as f64;
    let steady = s.arrivals_per_hour * s.ci_minutes as f64 / 60.0 + s.batch_size as f64;
    Report {
        strategy: kind,
        scenario: s,
        merged_per_hour,
        p50_minutes_to_merge: percentile(&waits, 0.50),
        p95_minutes_to_merge: percentile(&waits, 0.95),
        ci_runs_per_merge: stats.runs_started as f64 / (stats.merged.max(1)) as f64,
        // Saturated: it merges good PRs slower than they arrive and the backlog keeps growing.
        saturated: merged_per_hour < 0.95 * good_per_hour && backlog > 2.0 * steady,
        ejected_bad,
        ejected_good,
        bad,
        merged: stats.merged,
    }
}

/// The standard grid; the first scenario is the headline one of issue #11.
fn grid() -> Vec<Scenario> {
    let headline = Scenario {
        arrivals_per_hour: 10.0,
        p_bad: 0.1,
        p_flake: 0.05,
        ci_minutes: 30,
        batch_size: 10,
        capacity: 10,
    };
    let mut out = vec![headline];
    for arrivals_per_hour in [2.0, 5.0, 10.0, 20.0, 40.0] {
        for p_bad in [0.02, 0.1, 0.2] {
            for p_flake in [0.0, 0.05] {
                for (ci_minutes, batch_size, capacity) in
                    [(30, 10, 10), (30, 5, 10), (60, 10, 10), (30, 10, 3)]
                {
                    let s = Scenario {
                        arrivals_per_hour,
                        p_bad,
                        p_flake,
                        ci_minutes,
                        batch_size,
                        capacity,
                    };
                    if s != headline {
                        out.push(s);
                    }
                }
            }
        }
    }
    out
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

fn to_json(r: &Report) -> serde_json::Value {
    serde_json::json!({
        "strategy": r.strategy.as_str(),
        "arrivals_per_hour": r.scenario.arrivals_per_hour,
        "p_bad": r.scenario.p_bad,
        "p_flake": r.scenario.p_flake,
        "ci_minutes": r.scenario.ci_minutes,
        "batch_size": r.scenario.batch_size,
        "capacity": r.scenario.capacity,
        "merged_per_hour": round(r.merged_per_hour, 2),
        "p50_minutes_to_merge": round(r.p50_minutes_to_merge, 1),
        "p95_minutes_to_merge": round(r.p95_minutes_to_merge, 1),
        "ci_runs_per_merge": round(r.ci_runs_per_merge, 3),
        "saturated": r.saturated,
    })
}

fn usage() -> ! {
    eprintln!("usage: tide-sim [--output json|table] [--seed N] [--weeks N] [--headline]");
    std::process::exit(2)
}

fn main() {
    let mut output = "table".to_string();
    let mut seed = 11u64;
    let mut weeks = 3u64;
    let mut headline_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--output" => output = args.next().unwrap_or_else(|| usage()),
            "--seed" => {
                seed = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--weeks" => {
                weeks = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--headline" => headline_only = true,
            _ => usage(),
        }
    }
    if output != "json" && output != "table" {
        usage();
    }
    let minutes = weeks * 7 * 24 * 60;
    let mut scenarios = grid();
    if headline_only {
        scenarios.truncate(1);
    }
    if output == "table" {
        println!(
            "{:<12} {:>6} {:>5} {:>6} {:>4} {:>5} {:>4} | {:>8} {:>8} {:>8} {:>9} {:>5}",
            "strategy",
            "arr/h",
            "p_bad",
            "flake",
            "ci",
            "batch",
            "cap",
            "merged/h",
            "p50 min",
            "p95 min",
            "runs/merge",
            "sat"
        );
    }
    for s in scenarios {
        for kind in StrategyKind::ALL {
            let r = simulate(kind, s, minutes, seed);
            if output == "json" {
                println!("{}", to_json(&r));
            } else {
                println!(
                    "{:<12} {:>6} {:>5} {:>6} {:>4} {:>5} {:>4} | {:>8.2} {:>8.1} {:>8.1} {:>9.3} {:>5}",
                    kind.as_str(),
                    s.arrivals_per_hour,
                    s.p_bad,
                    s.p_flake,
                    s.ci_minutes,
                    s.batch_size,
                    s.capacity,
                    r.merged_per_hour,
                    r.p50_minutes_to_merge,
                    r.p95_minutes_to_merge,
                    r.ci_runs_per_merge,
                    r.saturated
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small(p_flake: f64) -> Scenario {
        Scenario {
            arrivals_per_hour: 10.0,
            p_bad: 0.1,
            p_flake,
            ci_minutes: 30,
            batch_size: 10,
            capacity: 10,
        }
    }

    const TWO_DAYS: u64 = 2 * 24 * 60;

    #[test]
    fn seeded_simulation_is_deterministic() {
        for kind in StrategyKind::ALL {
            let a = simulate(kind, small(0.05), TWO_DAYS, 7);
            let b = simulate(kind, small(0.05), TWO_DAYS, 7);
            assert_eq!(a, b, "{kind}");
            assert!(a.merged > 0, "{kind} merged nothing");
        }
        let other = simulate(StrategyKind::Bisect, small(0.05), TWO_DAYS, 8);
        assert_ne!(
            other.bad,
            simulate(StrategyKind::Bisect, small(0.05), TWO_DAYS, 7).bad
        );
    }

    #[test]
    fn bisect_ejects_exactly_the_broken_prs() {
        // Without flakes, every ejection must be a broken PR, and every broken PR that reached
        // the front of the queue well before the end must have been ejected.
        let r = simulate(StrategyKind::Bisect, small(0.0), TWO_DAYS, 3);
        assert!(!r.bad.is_empty());
        assert_eq!(r.ejected_good, 0);
        let early_bad: BTreeSet<u64> = r.bad.iter().copied().filter(|&pr| pr <= 400).collect();
        assert!(
            early_bad.is_subset(&r.ejected_bad),
            "{early_bad:?} vs {:?}",
            r.ejected_bad
        );
        assert!(r.ejected_bad.is_subset(&r.bad));
    }

    #[test]
    fn bisect_with_flakes_still_blames_only_broken_prs() {
        let r = simulate(StrategyKind::Bisect, small(0.05), TWO_DAYS, 3);
        assert!(r.ejected_bad.is_subset(&r.bad));
        assert_eq!(r.ejected_good, 0, "a flake was blamed on a good PR");
    }
}
