//! The queue operations the tide controller uses beyond the strategies' own steps: taking a
//! PR out (it left the pool or was pushed to) and restarting runs when the base moved.

use prow_core::tide::{MergeQueue, QueueAction, RunOutcome, StrategyKind, StrategyOptions};

/// `(run, tested)` of every run `actions` start.
pub(crate) fn started(actions: &[QueueAction]) -> Vec<(u64, Vec<u64>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            QueueAction::StartRun { run, tested, .. } => Some((*run, tested.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn removing_a_pr_under_test_cancels_its_run_and_requeues_the_rest() {
    let mut q = MergeQueue::new(StrategyOptions::new(StrategyKind::Bisect, 3, 2));
    for pr in [1, 2, 3] {
        q.enqueue(pr);
    }
    let runs = started(&q.step());
    assert_eq!(runs, vec![(1, vec![1, 2, 3])]);
    assert!(q.contains(2));
    assert_eq!(q.remove(2), vec![1]);
    assert!(!q.contains(2));
    assert_eq!(q.len(), 2);
    // The cancelled run's result no longer counts; the rest are retested without #2.
    q.run_finished(1, RunOutcome::pass());
    let actions = q.step();
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, QueueAction::Merge { .. }))
    );
    assert_eq!(started(&actions), vec![(2, vec![1, 3])]);
    assert_eq!(q.remove(9), Vec::<u64>::new());
}

#[test]
fn restarting_runs_forgets_results_and_tests_again() {
    let mut q = MergeQueue::new(StrategyOptions::new(StrategyKind::Bisect, 2, 2));
    q.enqueue(1);
    q.enqueue(2);
    assert_eq!(started(&q.step()), vec![(1, vec![1, 2])]);
    assert_eq!(q.restart_runs(), vec![1]);
    q.run_finished(1, RunOutcome::pass());
    let actions = q.step();
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, QueueAction::Merge { .. }))
    );
    assert_eq!(started(&actions), vec![(2, vec![1, 2])]);
    q.run_finished(2, RunOutcome::pass());
    assert_eq!(q.step(), vec![QueueAction::Merge { prs: vec![1, 2] }]);
}
