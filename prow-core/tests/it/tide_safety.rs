//! The merge queue's safety rule under random events: PRs arrive and leave, runs end in any
//! order with any result, the base moves under the queue and merges are refused halfway. An
//! independent `MergeAudit` checks that every merge was tested exactly on its landing base.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::tide_queue_ops::started;
use prow_core::tide::{
    MergeAudit, MergeQueue, QueueAction, RunOutcome, StrategyKind, StrategyOptions,
};

/// One thing that happens between two decisions of the queue.
#[derive(Debug, Clone)]
enum Event {
    /// The next PR becomes ready.
    Arrive,
    /// The run at this index (modulo the runs in flight) ends.
    Finish(usize, bool),
    /// The PR at this index (modulo the PRs seen) leaves the pool.
    Leave(usize),
    /// Someone else pushes to the base branch.
    BasePushed,
    /// The next merge lands only its first `n` PRs (GitHub refuses the next one).
    RefuseMerge(usize),
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        4 => Just(Event::Arrive),
        8 => (any::<usize>(), prop::bool::weighted(0.7)).prop_map(|(i, ok)| Event::Finish(i, ok)),
        1 => any::<usize>().prop_map(Event::Leave),
        1 => Just(Event::BasePushed),
        1 => (0usize..3).prop_map(Event::RefuseMerge),
    ]
}

fn kind() -> impl Strategy<Value = StrategyKind> {
    prop::sample::select(StrategyKind::ALL.to_vec())
}

/// The queue, the audit and the simulated world around them.
struct World {
    queue: MergeQueue,
    audit: MergeAudit,
    in_flight: Vec<u64>,
    next_pr: u64,
    seen: Vec<u64>,
    merged: BTreeSet<u64>,
    left: BTreeSet<u64>,
    refuse_after: Option<usize>,
    partial: u64,
}

impl World {
    fn new(options: StrategyOptions) -> Self {
        World {
            queue: MergeQueue::new(options),
            audit: MergeAudit::new(),
            in_flight: Vec::new(),
            next_pr: 1,
            seen: Vec::new(),
            merged: BTreeSet::new(),
            left: BTreeSet::new(),
            refuse_after: None,
            partial: 0,
        }
    }

    fn apply(&mut self, e: &Event) {
        match *e {
            Event::Arrive => {
                self.queue.enqueue(self.next_pr);
                self.seen.push(self.next_pr);
                self.next_pr += 1;
            }
            Event::Finish(i, ok) if !self.in_flight.is_empty() => {
                let run = self.in_flight.remove(i % self.in_flight.len());
                self.audit.run_finished(run, ok);
                let outcome = if ok {
                    RunOutcome::pass()
                } else {
                    RunOutcome::fail(["e2e"])
                };
                self.queue.run_finished(run, outcome);
            }
            Event::Leave(i) if !self.seen.is_empty() => {
                let pr = self.seen[i % self.seen.len()];
                if !self.merged.contains(&pr) && self.queue.contains(pr) {
                    self.left.insert(pr);
                    for run in self.queue.remove(pr) {
                        self.cancel(run);
                    }
                }
            }
            Event::BasePushed => {
                self.audit.base_moved();
                for run in self.queue.restart_runs() {
                    self.cancel(run);
                }
            }
            Event::RefuseMerge(n) => self.refuse_after = Some(n),
            _ => {}
        }
    }

    fn cancel(&mut self, run: u64) {
        self.in_flight.retain(|r| *r != run);
        self.audit.run_cancelled(run);
    }

    /// One decision of the queue, carried out like the controller does.
    fn step(&mut self) -> Result<(), TestCaseError> {
        let actions = self.queue.step();
        let mut interrupted = false;
        let mut unmerged: Vec<u64> = Vec::new();
        for action in &actions {
            match action {
                QueueAction::StartRun { run, tested, .. } if !interrupted => {
                    self.audit.run_started(*run, tested);
                    self.in_flight.push(*run);
                }
                QueueAction::CancelRun { run } => self.cancel(*run),
                QueueAction::Merge { prs } if interrupted => unmerged.extend(prs),
                QueueAction::Merge { prs } => {
                    for pr in prs {
                        prop_assert!(!self.merged.contains(pr), "#{pr} merged twice");
                        prop_assert!(!self.left.contains(pr), "#{pr} merged after it left");
                    }
                    match self.refuse_after.take() {
                        Some(n) if n < prs.len() => {
                            self.audit.merged_in_part(&prs[..n]);
                            self.merged.extend(prs[..n].iter().copied());
                            unmerged.extend(prs[n..].iter().copied());
                            self.partial += 1;
                            interrupted = true;
                        }
                        refuse => {
                            self.refuse_after = refuse;
                            prop_assert!(
                                self.audit.merged(prs),
                                "{:?} merged without a passing run on its landing base",
                                prs
                            );
                            self.merged.extend(prs.iter().copied());
                        }
                    }
                }
                QueueAction::Eject { pr, .. } => {
                    prop_assert!(!self.merged.contains(pr));
                }
                _ => {}
            }
        }
        if interrupted {
            for run in self.queue.merge_failed(&unmerged) {
                self.cancel(run);
            }
        }
        if self.queue.options().kind != StrategyKind::Tide {
            prop_assert!(self.queue.runs_in_flight() <= self.queue.options().capacity);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever happens, no safe strategy merges a set that no passing run tested exactly on
    /// the base it lands on; and once CI only passes, every PR still in the queue merges.
    #[test]
    fn proptest_every_merge_was_tested_on_its_landing_base(
        kind in kind(),
        batch in 1usize..8,
        capacity in 1usize..8,
        retries in 0u32..3,
        events in prop::collection::vec(event(), 1..160),
    ) {
        let options = StrategyOptions::new(kind, batch, capacity).with_flake_retries(retries);
        let mut w = World::new(options);
        for e in &events {
            w.apply(e);
            w.step()?;
        }
        prop_assert_eq!(w.audit.stats().untested_merges, 0);
        prop_assert_eq!(w.audit.stats().partial_merges, w.partial);
        // From now on every run passes: the queue drains.
        w.refuse_after = None;
        for _ in 0..200 {
            while let Some(&run) = w.in_flight.first() {
                w.in_flight.remove(0);
                w.audit.run_finished(run, true);
                w.queue.run_finished(run, RunOutcome::pass());
            }
            w.step()?;
            if w.queue.is_empty() && w.in_flight.is_empty() {
                break;
            }
        }
        prop_assert!(w.queue.is_empty(), "{} PRs stuck", w.queue.len());
        prop_assert_eq!(w.audit.stats().untested_merges, 0);
    }
}

/// A scripted run of the queue: each run ends with the result `outcome` gives it, `delay`
/// decisions after it started.
fn drive_with(
    options: StrategyOptions,
    prs: &[u64],
    mut outcome: impl FnMut(&[u64]) -> bool,
    mut delay: impl FnMut(u64) -> u32,
) -> (Vec<Vec<u64>>, Vec<u64>, MergeQueue, MergeAudit) {
    let mut q = MergeQueue::new(options);
    for &pr in prs {
        q.enqueue(pr);
    }
    let mut audit = MergeAudit::new();
    let mut merges = Vec::new();
    let mut ejected = Vec::new();
    let mut running: BTreeMap<u64, (bool, u32)> = BTreeMap::new();
    for round in 0..1000u32 {
        let due: Vec<u64> = running
            .iter()
            .filter(|(_, (_, at))| *at <= round)
            .map(|(r, _)| *r)
            .collect();
        for run in due {
            if let Some((ok, _)) = running.remove(&run) {
                audit.run_finished(run, ok);
                let result = if ok {
                    RunOutcome::pass()
                } else {
                    RunOutcome::fail(["e2e"])
                };
                q.run_finished(run, result);
            }
        }
        for action in q.step() {
            assert!(audit.observe(&action), "untested merge: {action:?}");
            match action {
                QueueAction::StartRun { run, tested, .. } => {
                    running.insert(run, (outcome(&tested), round + delay(run)));
                }
                QueueAction::CancelRun { run } => {
                    running.remove(&run);
                }
                QueueAction::Merge { prs } => merges.push(prs),
                QueueAction::Eject { pr, .. } => ejected.push(pr),
                _ => {}
            }
        }
        if q.is_empty() && running.is_empty() {
            return (merges, ejected, q, audit);
        }
    }
    panic!("queue did not drain: merged {merges:?}, ejected {ejected:?}");
}

#[test]
fn strict_bisect_retests_a_part_that_passed_before_the_base_moved() {
    // #1..#4 fail as a batch because of #4; the halves run side by side on the same base.
    // [1, 2] passes first and merges; [3, 4] fails; the quarter [3] passes on the old base
    // while... it was started after the merge, so it merges; nothing lands untested.
    let opts = StrategyOptions::new(StrategyKind::Bisect, 4, 2);
    let (merges, ejected, q, audit) = drive_with(opts, &[1, 2, 3, 4], |t| !t.contains(&4), |_| 2);
    assert_eq!(ejected, vec![4]);
    assert_eq!(merges.concat().len(), 3);
    assert_eq!(audit.stats().untested_merges, 0);
    assert_eq!(q.stats().merged, 3);

    // Two parts pass on the same base at once: only one merges on it, the other is stale and
    // is tested again on the new base before it merges.
    let opts = StrategyOptions::new(StrategyKind::Bisect, 8, 8);
    let (merges, ejected, q, _) =
        drive_with(opts, &[1, 2, 3, 4, 5, 6, 7, 8], |t| !t.contains(&3), |_| 2);
    assert_eq!(ejected, vec![3]);
    let mut all = merges.concat();
    all.sort_unstable();
    assert_eq!(all, vec![1, 2, 4, 5, 6, 7, 8]);
    assert!(q.stats().stale_results > 0, "{:?}", q.stats());
    // The stale passes are joined and tested once more together, not one by one.
    assert!(merges.len() <= 3, "{merges:?}");

    // The unsafe opt-in merges them without retesting, and the audit catches it.
    let opts = StrategyOptions::new(StrategyKind::UnsafeBisect, 8, 8);
    let mut q = MergeQueue::new(opts);
    let mut audit = MergeAudit::new();
    for pr in 1..=4 {
        q.enqueue(pr);
    }
    for a in q.step() {
        audit.observe(&a);
    }
    audit.run_finished(1, false);
    q.run_finished(1, RunOutcome::fail(["e2e"]));
    let parts: Vec<u64> = q
        .step()
        .into_iter()
        .filter_map(|a| {
            audit.observe(&a);
            match a {
                QueueAction::StartRun { run, .. } => Some(run),
                _ => None,
            }
        })
        .collect();
    assert_eq!(parts.len(), 4);
    for run in parts {
        audit.run_finished(run, true);
        q.run_finished(run, RunOutcome::pass());
    }
    let untested = q.step().iter().filter(|a| !audit.observe(a)).count();
    assert_eq!(untested, 3, "every part after the first lands untested");
}

/// Steps the queue, checking every action with the audit; returns the actions.
fn audited_step(q: &mut MergeQueue, audit: &mut MergeAudit) -> Vec<QueueAction> {
    let actions = q.step();
    for a in &actions {
        assert!(audit.observe(a), "untested merge: {a:?}");
    }
    actions
}

fn finish(q: &mut MergeQueue, audit: &mut MergeAudit, run: u64, passed: bool) {
    audit.run_finished(run, passed);
    let outcome = if passed {
        RunOutcome::pass()
    } else {
        RunOutcome::fail(["e2e"])
    };
    q.run_finished(run, outcome);
}

#[test]
fn speculative_drops_a_bad_pr_in_the_middle_and_restarts_only_what_sits_behind_it() {
    let mut q = MergeQueue::new(StrategyOptions::new(StrategyKind::Speculative, 1, 12));
    let mut audit = MergeAudit::new();
    for pr in 1..=4 {
        q.enqueue(pr);
    }
    let first = started(&audited_step(&mut q, &mut audit));
    assert_eq!(
        first,
        vec![(1, vec![1]), (2, vec![1, 2]), (3, vec![1, 2, 3])],
        "each PR stacked on the ones ahead"
    );
    // #2 is bad: its run fails while #1's still runs.
    finish(&mut q, &mut audit, 2, false);
    let actions = audited_step(&mut q, &mut audit);
    assert_eq!(
        actions[0],
        QueueAction::CancelRun { run: 3 },
        "only the run stacked on #2 restarts; #1's keeps going"
    );
    assert_eq!(
        started(&actions),
        vec![(4, vec![1, 3]), (5, vec![1, 3, 4])],
        "#3 and #4 stack on #1 without #2"
    );
    assert_eq!(q.runs_in_flight(), 3);
    // #1 passes: it merges; #2's failure is now its own (it ran on exactly #1): ejected;
    // #3 and #4 merge on the base they were tested on.
    finish(&mut q, &mut audit, 1, true);
    finish(&mut q, &mut audit, 4, true);
    finish(&mut q, &mut audit, 5, true);
    let actions = audited_step(&mut q, &mut audit);
    let merges: Vec<&QueueAction> = actions
        .iter()
        .filter(|a| !matches!(a, QueueAction::Eject { .. }))
        .collect();
    assert_eq!(
        merges,
        vec![
            &QueueAction::Merge { prs: vec![1] },
            &QueueAction::Merge { prs: vec![3] },
            &QueueAction::Merge { prs: vec![4] }
        ]
    );
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, QueueAction::Eject { pr: 2, run: 2, .. }))
    );
    assert!(q.is_empty());
    assert_eq!(q.stats().runs_started, 5);
    assert_eq!(audit.stats().untested_merges, 0);
}

#[test]
fn speculative_retries_a_flaky_pr_on_the_side_and_merges_it_after_all() {
    let opts = StrategyOptions::new(StrategyKind::Speculative, 1, 12).with_flake_retries(1);
    let mut q = MergeQueue::new(opts);
    let mut audit = MergeAudit::new();
    for pr in 1..=2 {
        q.enqueue(pr);
    }
    assert_eq!(
        started(&audited_step(&mut q, &mut audit)),
        vec![(1, vec![1]), (2, vec![1, 2])]
    );
    // #1 flakes: #2 restarts on the base alone, #1 is tried again alone on the side.
    finish(&mut q, &mut audit, 1, false);
    let actions = audited_step(&mut q, &mut audit);
    assert_eq!(actions[0], QueueAction::CancelRun { run: 2 });
    assert_eq!(started(&actions), vec![(3, vec![2]), (4, vec![1])]);
    // Both pass: #2 merges; #1's side run cleared it (it never merges from a side run), so it
    // joins the stack on top of the new base and merges after its own run there.
    finish(&mut q, &mut audit, 3, true);
    finish(&mut q, &mut audit, 4, true);
    let actions = audited_step(&mut q, &mut audit);
    assert_eq!(actions[0], QueueAction::Merge { prs: vec![2] });
    assert_eq!(started(&actions), vec![(5, vec![1])]);
    finish(&mut q, &mut audit, 5, true);
    assert_eq!(
        audited_step(&mut q, &mut audit),
        vec![QueueAction::Merge { prs: vec![1] }]
    );
    assert_eq!(q.stats().flakes, 1);
    assert_eq!(q.stats().ejected, 0);
}

#[test]
fn speculative_screens_new_prs_on_the_side_under_load_and_finds_the_culprit_by_halves() {
    // Twelve PRs at once, one broken: the stack takes what may go in untested, the rest is
    // screened in groups on the side; the failing group is searched half by half and its
    // culprit fails alone before it is blamed.
    let opts = StrategyOptions::new(StrategyKind::Speculative, 10, 10).with_flake_retries(1);
    let (merges, ejected, q, audit) = drive_with(
        opts,
        &(1..=12).collect::<Vec<_>>(),
        |t| !t.contains(&7),
        |_| 2,
    );
    assert_eq!(ejected, vec![7]);
    let mut merged = merges.concat();
    merged.sort_unstable();
    assert_eq!(merged, vec![1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);
    assert_eq!(audit.stats().untested_merges, 0);
    // Far fewer runs than testing every PR alone and retrying the culprit.
    assert!(q.stats().runs_started <= 10, "{:?}", q.stats());
}

#[test]
fn tide_drops_a_pending_batch_when_one_of_its_prs_leaves_the_pool() {
    // Upstream's accumulateBatch: a batch whose PR left the pool is no longer pending, so a new
    // batch starts at once (the old run keeps occupying CI until it ends).
    let mut q = MergeQueue::new(StrategyOptions::new(StrategyKind::Tide, 10, 10));
    for pr in 1..=4 {
        q.enqueue(pr);
    }
    let first = q.step();
    assert_eq!(
        first,
        vec![QueueAction::StartRun {
            run: 1,
            tested: vec![1, 2, 3, 4],
            candidates: vec![1, 2, 3, 4]
        }]
    );
    // While the batch runs, Prow also retests the first PR alone.
    assert_eq!(
        q.step(),
        vec![QueueAction::StartRun {
            run: 2,
            tested: vec![1],
            candidates: vec![1]
        }]
    );
    assert!(q.step().is_empty(), "the batch is pending: nothing new");
    assert_eq!(q.remove(3), Vec::<u64>::new(), "Prow aborts nothing");
    assert_eq!(
        q.step(),
        vec![QueueAction::StartRun {
            run: 3,
            tested: vec![1, 2, 4],
            candidates: vec![1, 2, 4]
        }]
    );
    assert_eq!(q.runs_in_flight(), 3);
    // The dropped batch passing later merges nothing.
    q.run_finished(1, RunOutcome::pass());
    assert!(q.step().is_empty());
    q.run_finished(3, RunOutcome::pass());
    assert_eq!(q.step(), vec![QueueAction::Merge { prs: vec![1, 2, 4] }]);
}

#[test]
fn a_merge_refused_halfway_restarts_everything_and_retests_the_rest() {
    for kind in [
        StrategyKind::Tide,
        StrategyKind::Bisect,
        StrategyKind::Speculative,
    ] {
        let mut q = MergeQueue::new(StrategyOptions::new(kind, 2, 3));
        for pr in 1..=2 {
            q.enqueue(pr);
        }
        let mut runs = Vec::new();
        for _ in 0..3 {
            for a in q.step() {
                if let QueueAction::StartRun { run, tested, .. } = a
                    && tested == vec![1, 2]
                {
                    runs.push(run);
                }
            }
        }
        assert_eq!(runs.len(), 1, "{kind}");
        q.run_finished(runs[0], RunOutcome::pass());
        let merge = q
            .step()
            .into_iter()
            .find(|a| matches!(a, QueueAction::Merge { .. }));
        assert_eq!(
            merge,
            Some(QueueAction::Merge { prs: vec![1, 2] }),
            "{kind}"
        );
        // #1 landed, #2 was refused (its head moved): #2 is tested again on the new base.
        q.merge_failed(&[2]);
        assert_eq!(q.stats().merged, 1, "{kind}");
        assert!(q.contains(2) && !q.contains(1), "{kind}");
        let again: Vec<Vec<u64>> = q
            .step()
            .into_iter()
            .filter_map(|a| match a {
                QueueAction::StartRun { tested, .. } => Some(tested),
                _ => None,
            })
            .collect();
        assert_eq!(again, vec![vec![2]], "{kind}");
    }
}

#[test]
fn adopted_runs_count_after_a_restart() {
    // A restarted controller hands the queue the runs it finds in the store.
    let mut q = MergeQueue::new(StrategyOptions::new(StrategyKind::Speculative, 2, 8));
    for pr in 1..=5 {
        q.enqueue(pr);
    }
    let a = q.adopt_run(&[1, 2], &[1, 2], Some(RunOutcome::pass()));
    let b = q.adopt_run(&[1, 2, 3, 4], &[3, 4], None);
    assert!(a.is_some() && b.is_some());
    // Not stacked on what the queue holds: refused; alone on the base: a side run.
    assert_eq!(q.adopt_run(&[1, 5], &[5], None), None);
    assert_eq!(q.adopt_run(&[2, 5], &[5], None), None);
    assert_eq!(q.adopt_run(&[9], &[9], None), None);
    // The adopted pass merges at once; the adopted run still going is not started again.
    assert_eq!(q.step(), vec![QueueAction::Merge { prs: vec![1, 2] }]);
    q.run_finished(b.unwrap_or_default(), RunOutcome::pass());
    let actions = q.step();
    assert_eq!(actions[0], QueueAction::Merge { prs: vec![3, 4] });
    assert_eq!(
        started(&actions).len(),
        1,
        "only #5 needs a run: {actions:?}"
    );
    assert_eq!(started(&actions)[0].1, vec![5]);
    assert_eq!(
        MergeQueue::new(StrategyOptions::new(StrategyKind::Tide, 2, 4)).adopt_run(&[1], &[1], None),
        None
    );
}
