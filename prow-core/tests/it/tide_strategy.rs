//! Merge-queue strategies driven step by step with scripted CI results.

use std::collections::{BTreeMap, BTreeSet};

use prow_core::tide::{MergeQueue, QueueAction, RunOutcome, StrategyKind, StrategyOptions};

/// A scripted CI: runs containing a broken PR fail with `pull-e2e`; `flaky` lists how many
/// times a run deciding a given PR alone fails before passing.
struct Ci {
    broken: BTreeSet<u64>,
    flaky: BTreeMap<u64, u32>,
}

impl Ci {
    fn outcome(&mut self, tested: &[u64], candidates: &[u64]) -> RunOutcome {
        if tested.iter().any(|p| self.broken.contains(p)) {
            return RunOutcome::fail(["pull-e2e"]);
        }
        if let [only] = candidates
            && let Some(left) = self.flaky.get_mut(only)
            && *left > 0
        {
            *left -= 1;
            return RunOutcome::fail(["pull-unit"]);
        }
        RunOutcome::pass()
    }
}

#[derive(Debug, Default)]
struct Log {
    merged: Vec<u64>,
    ejected: Vec<u64>,
    comments: Vec<String>,
    rounds: u32,
}

/// Runs `prs` through the queue: a run finishes with its scripted result two rounds after it
/// starts, so there is always one decision while it is running (as with a sync period shorter
/// than the CI).
fn drive(options: StrategyOptions, prs: &[u64], mut ci: Ci) -> (Log, MergeQueue) {
    let mut q = MergeQueue::new(options);
    for &pr in prs {
        q.enqueue(pr);
    }
    let mut log = Log::default();
    let mut running: Vec<(u64, RunOutcome, u32)> = Vec::new();
    for round in 0..400 {
        let (done, still): (Vec<_>, Vec<_>) = running.drain(..).partition(|r| r.2 <= round);
        running = still;
        for (run, outcome, _) in done {
            q.run_finished(run, outcome);
        }
        for action in q.step() {
            match action {
                QueueAction::StartRun {
                    run,
                    tested,
                    candidates,
                } => {
                    assert!(q.runs_in_flight() <= options.capacity);
                    running.push((run, ci.outcome(&tested, &candidates), round + 2));
                }
                QueueAction::CancelRun { run } => running.retain(|(r, _, _)| *r != run),
                QueueAction::Merge { prs } => log.merged.extend(prs),
                QueueAction::Eject { pr, comment, .. } => {
                    log.ejected.push(pr);
                    log.comments.push(comment);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        if q.is_empty() && running.is_empty() {
            log.rounds = round;
            return (log, q);
        }
    }
    panic!("queue did not drain: {log:?}");
}

fn ci(broken: &[u64]) -> Ci {
    Ci {
        broken: broken.iter().copied().collect(),
        flaky: BTreeMap::new(),
    }
}

#[test]
fn passing_prs_merge_in_few_runs() {
    for kind in [
        StrategyKind::Bisect,
        StrategyKind::Speculative,
        StrategyKind::Tide,
    ] {
        let opts = StrategyOptions::new(kind, 10, 10);
        let (log, q) = drive(opts, &[1, 2, 3, 4, 5], ci(&[]));
        let mut merged = log.merged.clone();
        merged.sort_unstable();
        assert_eq!(merged, vec![1, 2, 3, 4, 5], "{kind}");
        assert!(log.ejected.is_empty());
        // tide also starts a serial retest of the first PR next to its batch. Speculative
        // starts out expecting one PR in ten to be broken: it stacks two untested PRs and
        // screens the other three on the side before they join the stack.
        let most = if kind == StrategyKind::Speculative {
            3
        } else {
            2
        };
        assert!(q.stats().runs_started <= most, "{kind}: {:?}", q.stats());
    }
}

#[test]
fn bisect_ejects_only_the_culprit_and_merges_the_rest() {
    let opts = StrategyOptions::new(StrategyKind::Bisect, 8, 2).with_flake_retries(1);
    let (log, q) = drive(opts, &[1, 2, 3, 4, 5, 6, 7, 8], ci(&[6]));
    assert_eq!(log.ejected, vec![6]);
    // Parts merge as they pass on the current base, not necessarily in number order.
    assert_eq!(log.merged, vec![1, 2, 3, 4, 7, 8, 5]);
    assert_eq!(
        log.comments[0],
        "Tide removed #6 from the merge pool: it fails on its own on top of the base branch \
         (2 runs). Failing jobs: pull-e2e."
    );
    // 1 batch, halves (2), quarters of the failing half (2), the pair holding 6 split (2),
    // and one retry of #6.
    assert_eq!(q.stats().runs_started, 8, "{:?}", q.stats());
}

#[test]
fn bisect_uses_idle_capacity_to_split_wider() {
    let opts = StrategyOptions::new(StrategyKind::Bisect, 8, 8);
    let (log, q) = drive(opts, &[1, 2, 3, 4, 5, 6, 7, 8], ci(&[3, 6]));
    assert_eq!(log.ejected, vec![3, 6]);
    // The eight singles pass side by side on one base: #1 merges on it, the other passes are
    // stale once it landed, so they are joined and tested once more on the new base.
    assert_eq!(log.merged, vec![1, 2, 4, 5, 7, 8]);
    assert_eq!(q.stats().runs_started, 10);
    assert_eq!(q.stats().stale_results, 5);
}

#[test]
fn a_flaky_job_is_retried_not_blamed() {
    let mut c = ci(&[]);
    c.flaky.insert(2, 1);
    // The batch passes only when #2's flake does not hit: make the batch fail via a flake on a
    // single-PR batch.
    let opts = StrategyOptions::new(StrategyKind::Serial, 1, 1).with_flake_retries(2);
    let (log, q) = drive(opts, &[1, 2, 3], c);
    assert_eq!(log.merged, vec![1, 2, 3]);
    assert!(log.ejected.is_empty());
    assert_eq!(q.stats().flakes, 1);
    assert_eq!(q.flaky_jobs().get("pull-unit"), Some(&1));
}

#[test]
fn without_retries_a_flake_ejects() {
    let mut c = ci(&[]);
    c.flaky.insert(2, 1);
    let opts = StrategyOptions::new(StrategyKind::Serial, 1, 1);
    let (log, _) = drive(opts, &[1, 2, 3], c);
    assert_eq!(log.merged, vec![1, 3]);
    assert_eq!(log.ejected, vec![2]);
}

#[test]
fn speculative_drains_with_culprits() {
    let opts = StrategyOptions::new(StrategyKind::Speculative, 3, 4).with_flake_retries(1);
    let prs: Vec<u64> = (1..=20).collect();
    let (log, _) = drive(opts, &prs, ci(&[4, 11]));
    assert_eq!(log.ejected, vec![4, 11]);
    let want: Vec<u64> = prs
        .iter()
        .copied()
        .filter(|p| *p != 4 && *p != 11)
        .collect();
    // A failed batch's parts are tested again behind the rest, so merges are not in number
    // order.
    let mut merged = log.merged.clone();
    merged.sort_unstable();
    assert_eq!(merged, want);
}

#[test]
fn tide_retests_a_failing_batch_as_a_whole_and_merges_serially() {
    // Prow's behaviour: the batch holding #3 keeps failing; PRs merge one at a time through
    // serial retests until #3 is ejected by its own retest.
    let opts = StrategyOptions::new(StrategyKind::Tide, 5, 10);
    let (log, q) = drive(opts, &[1, 2, 3, 4, 5], ci(&[3]));
    assert_eq!(log.ejected, vec![3]);
    let mut merged = log.merged.clone();
    merged.sort();
    assert_eq!(merged, vec![1, 2, 4, 5]);
    assert_eq!(&log.merged[..2], &[1, 2], "serial merges come first");
    let bisect = drive(
        StrategyOptions::new(StrategyKind::Bisect, 5, 10),
        &[1, 2, 3, 4, 5],
        ci(&[3]),
    );
    assert!(
        bisect.0.rounds < log.rounds,
        "bisect {} vs tide {}",
        bisect.0.rounds,
        log.rounds
    );
    assert!(q.stats().runs_started > 2);
}

#[test]
fn enqueue_is_idempotent_and_sorted_by_number() {
    let mut q = MergeQueue::new(StrategyOptions::new(StrategyKind::Bisect, 10, 1));
    for pr in [5, 3, 5, 4] {
        q.enqueue(pr);
    }
    assert_eq!(q.len(), 3);
    let actions = q.step();
    assert_eq!(
        actions,
        vec![QueueAction::StartRun {
            run: 1,
            tested: vec![3, 4, 5],
            candidates: vec![3, 4, 5]
        }]
    );
    assert_eq!(
        StrategyKind::parse("speculative"),
        Some(StrategyKind::Speculative)
    );
    assert_eq!(StrategyKind::parse("zuul"), None);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever PRs are broken, bisect and speculative eject exactly those and merge every
        /// other PR once.
        #[test]
        fn proptest_queue_ejects_exactly_the_broken_prs(
            n in 1u64..40,
            broken in proptest::collection::btree_set(1u64..40, 0..6),
            batch in 1usize..12,
            capacity in 1usize..12,
            speculative in any::<bool>(),
        ) {
            let kind = if speculative { StrategyKind::Speculative } else { StrategyKind::Bisect };
            let prs: Vec<u64> = (1..=n).collect();
            let broken: Vec<u64> = broken.into_iter().filter(|p| *p <= n).collect();
            let opts = StrategyOptions::new(kind, batch, capacity).with_flake_retries(1);
            let (log, q) = drive(opts, &prs, ci(&broken));
            let mut ejected = log.ejected.clone();
            ejected.sort_unstable();
            prop_assert_eq!(&ejected, &broken);
            let want: Vec<u64> = prs.iter().copied().filter(|p| !broken.contains(p)).collect();
            // Parts merge as they pass, failed ones are retried behind the others.
            let mut merged = log.merged.clone();
            merged.sort_unstable();
            prop_assert_eq!(&merged, &want);
            prop_assert_eq!(q.stats().merged as usize, want.len());
        }
    }
}
