//! Merge-queue strategies as pure step functions: Prow's tide, serial, bisect and speculative.
//!
//! A [`MergeQueue`] holds pull requests that are ready to merge and the CI runs that test them.
//! The caller (the tide controller, or the `tide-sim` simulator) feeds it events
//! ([`MergeQueue::enqueue`], [`MergeQueue::run_finished`]) and asks it what to do next
//! ([`MergeQueue::step`]); the queue never performs I/O and never looks at a clock.
//!
//! Every run tests a set of pull requests on top of the base branch as it is when the run starts.
//! [`QueueAction::StartRun`] lists the full set under test, so a runner (or a simulator) can
//! tell which changes a result speaks for.
//!
//! # The safety rule
//!
//! Every strategy except the explicitly named [`StrategyKind::UnsafeBisect`] merges a set of PRs
//! only when a passing run tested exactly that set on exactly the base it lands on. For
//! `speculative` that base includes the PRs stacked ahead of the set, which merge first. The
//! queue keeps the history of its base (its own merges, and [`MergeQueue::restart_runs`] when
//! the base moved otherwise); after any merge, every passing result on an older base is stale
//! and the set is tested again. [`super::audit::MergeAudit`] checks the rule from outside.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::base::BaseLog;

/// A pull request number.
pub type PrNumber = u64;

/// The identity of one CI run started by the queue.
pub type RunId = u64;

/// How the queue tests and merges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum StrategyKind {
    /// Prow's tide: merge a single passing PR when no batch is pending, otherwise test a batch of
    /// up to `batch_size`; a failing batch is retried as a whole; a PR whose serial retest fails
    /// leaves the pool (and a pending batch holding it is dropped); every merge moves the base
    /// and invalidates all results.
    #[default]
    Tide,
    /// One PR at a time, retried on failure up to `flake_retries` times.
    Serial,
    /// Batches of up to `batch_size`; a failed batch is split (in halves, or wider when CI
    /// capacity is idle) and the parts are tested in parallel on the current base. A passing
    /// part merges only if the base has not moved since it was tested, otherwise it is tested
    /// again; a single PR that keeps failing after `flake_retries` retries is ejected.
    Bisect,
    /// Zuul-style: batches stacked in a queue, each tested on top of the base and every batch
    /// ahead of it; the head merges when it passes, and the batch behind it was tested on
    /// exactly its landing base. A failing batch leaves the stack (only the runs stacked on it
    /// restart); once everything it was stacked on passed, its PRs are searched on the side,
    /// half by half, and a single PR is retried `flake_retries` times before it is blamed; the
    /// PRs cleared that way join the stack in batches of their own. New PRs go into the stack
    /// untested only as many as fail together with at most 25% probability (estimated from the
    /// PRs ejected lately); beyond that, CI the stack leaves idle screens them on the side first
    /// in batches sized to cost the fewest runs, so the stack's batches seldom fail. One batch
    /// is untested at a time (it fills up while CI runs), up to three when they are full.
    Speculative,
    /// `bisect` without the safety rule: passing parts merge even when the base moved since
    /// they were tested. Faster, and it merges combinations nobody tested; never a default.
    UnsafeBisect,
}

impl StrategyKind {
    /// The strategies that keep the safety rule, in the order reports list them.
    pub const ALL: [StrategyKind; 4] = [
        StrategyKind::Tide,
        StrategyKind::Serial,
        StrategyKind::Bisect,
        StrategyKind::Speculative,
    ];

    /// The strategy's configuration and report name.
    pub fn as_str(self) -> &'static str {
        match self {
            StrategyKind::Tide => "tide",
            StrategyKind::Serial => "serial",
            StrategyKind::Bisect => "bisect",
            StrategyKind::Speculative => "speculative",
            StrategyKind::UnsafeBisect => "unsafe-bisect",
        }
    }

    /// Parses a strategy name (`tide`, `serial`, `bisect`, `speculative`, or the explicit opt-in
    /// `unsafe-bisect`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([StrategyKind::UnsafeBisect])
            .find(|k| k.as_str() == name)
    }

    /// Whether the strategy keeps the safety rule (see the module docs).
    pub fn is_safe(self) -> bool {
        self != StrategyKind::UnsafeBisect
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of a [`MergeQueue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StrategyOptions {
    /// The strategy.
    pub kind: StrategyKind,
    /// The most PRs tested together in one batch (at least 1).
    pub batch_size: usize,
    /// The most CI runs the queue keeps in flight at once (at least 1).
    pub capacity: usize,
    /// How many times a single PR's failed run is repeated before the PR is blamed (not used by
    /// `tide`, which, like Prow, never retries on its own).
    pub flake_retries: u32,
}

impl StrategyOptions {
    /// Options for `kind` with the given batch size and CI capacity, and no flake retries.
    pub fn new(kind: StrategyKind, batch_size: usize, capacity: usize) -> Self {
        StrategyOptions {
            kind,
            batch_size: batch_size.max(1),
            capacity: capacity.max(1),
            flake_retries: 0,
        }
    }

    /// Sets how often a single PR's failure is retried before the PR is ejected.
    pub fn with_flake_retries(mut self, retries: u32) -> Self {
        self.flake_retries = retries;
        self
    }
}

/// The result of one CI run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RunOutcome {
    /// Whether every required job passed.
    pub passed: bool,
    /// The jobs that failed (empty when `passed`).
    pub failed_jobs: Vec<String>,
}

impl RunOutcome {
    /// A passing run.
    pub fn pass() -> Self {
        RunOutcome {
            passed: true,
            failed_jobs: Vec::new(),
        }
    }

    /// A run in which `jobs` failed.
    pub fn fail<S: Into<String>>(jobs: impl IntoIterator<Item = S>) -> Self {
        RunOutcome {
            passed: false,
            failed_jobs: jobs.into_iter().map(Into::into).collect(),
        }
    }
}

/// What the queue asks its caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueAction {
    /// Start a CI run testing `tested` (in merge order) on top of the current base.
    StartRun {
        /// The run's identity, to be passed back to [`MergeQueue::run_finished`].
        run: RunId,
        /// Every PR applied on top of the base for this run, in merge order.
        tested: Vec<PrNumber>,
        /// The PRs this run decides about (a suffix of `tested`).
        candidates: Vec<PrNumber>,
    },
    /// Abort a run whose result can no longer matter.
    CancelRun {
        /// The run to abort.
        run: RunId,
    },
    /// Merge these PRs, in this order. If some of them cannot be merged, the caller stops
    /// there and tells the queue with [`MergeQueue::merge_failed`].
    Merge {
        /// The PRs to merge.
        prs: Vec<PrNumber>,
    },
    /// Take a PR out of the queue and tell its author why.
    Eject {
        /// The PR.
        pr: PrNumber,
        /// The jobs that failed for it.
        failed_jobs: Vec<String>,
        /// The comment to post on the PR.
        comment: String,
        /// The last run that failed for it.
        run: RunId,
    },
}

/// The comment posted on a PR the queue ejects.
pub fn eject_comment(pr: PrNumber, failed_jobs: &[String], attempts: u32) -> String {
    let jobs = if failed_jobs.is_empty() {
        "unknown jobs".to_string()
    } else {
        failed_jobs.join(", ")
    };
    let runs = if attempts == 1 {
        "1 run".to_string()
    } else {
        format!("{attempts} runs")
    };
    format!(
        "Tide removed #{pr} from the merge pool: it fails on its own on top of the base branch \
         ({runs}). Failing jobs: {jobs}."
    )
}

/// Counters a queue keeps about its own work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct QueueStats {
    /// CI runs started.
    pub runs_started: u64,
    /// CI runs cancelled.
    pub runs_cancelled: u64,
    /// PRs merged.
    pub merged: u64,
    /// PRs ejected.
    pub ejected: u64,
    /// Failures that passed on retry (flakes).
    pub flakes: u64,
    /// Passing results not used because the base moved since their run started: the PRs were
    /// tested again on the new base.
    pub stale_results: u64,
}

/// How many verdicts (PRs merged or ejected) the broken-PR estimate remembers, roughly.
const VERDICT_WINDOW: f64 = 200.0;
/// Speculative: the most untested batches in the stack at once (beyond the first, only full
/// batches join).
const STACK_DEPTH: usize = 3;
/// Speculative: the chance of failing a batch of PRs nobody tested yet may have when it goes
/// straight into the stack; more new PRs are screened on the side first.
const STACK_RISK: f64 = 0.25;
/// The estimate's prior: one broken PR in ten, worth ten verdicts.
const PRIOR_BAD: f64 = 1.0;
const PRIOR_WEIGHT: f64 = 10.0;

/// A run the queue started (or adopted) for a group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Run {
    id: RunId,
    /// The base's position when the run started.
    base_at: u64,
    /// The PRs applied before the group's own (speculative only).
    prefix: Vec<PrNumber>,
}

#[derive(Debug, Clone)]
struct Group {
    prs: Vec<PrNumber>,
    run: Option<Run>,
    result: Option<RunOutcome>,
    /// Speculative: this failure was seen and the runs stacked on it restarted.
    failure_noticed: bool,
    /// Failed runs attributed to this exact group so far.
    failures: u32,
    /// Jobs that failed for this group (kept for the eject comment and flake counting).
    failed_jobs: Vec<String>,
    /// Formed from waiting PRs (not a part of a failed group, not a retry).
    fresh: bool,
    /// Bisect: formed by joining groups whose passes went stale; its parts are never joined
    /// again (so two PRs that fail only together cannot cycle).
    joined: bool,
    /// Bisect: may be joined with other stale passes.
    joinable: bool,
    /// Bisect: how often it passed and another group merged first.
    stale: u32,
    /// Speculative suspects: the other half of a failed group, held back; when this group
    /// passes the culprit is in there, when it fails they go back to waiting untested.
    deferred: Vec<PrNumber>,
    /// Speculative suspects: the jobs that failed for the group this one was split from.
    parent_jobs: Vec<String>,
}

impl Group {
    fn new(prs: Vec<PrNumber>, fresh: bool) -> Self {
        Group {
            prs,
            run: None,
            result: None,
            failure_noticed: false,
            failures: 0,
            failed_jobs: Vec::new(),
            fresh,
            joined: false,
            joinable: true,
            stale: 0,
            deferred: Vec::new(),
            parent_jobs: Vec::new(),
        }
    }

    fn testing(&self) -> bool {
        self.run.is_some() && self.result.is_none()
    }

    fn passed(&self) -> bool {
        self.result.as_ref().is_some_and(|r| r.passed)
    }

    fn failed(&self) -> bool {
        self.result.as_ref().is_some_and(|r| !r.passed)
    }

    /// Forgets the group's run and result; returns the run when it was still in flight, for
    /// the caller to cancel.
    fn reset(&mut self) -> Option<RunId> {
        let in_flight = self.testing();
        let run = self.run.take();
        self.result = None;
        self.failure_noticed = false;
        run.filter(|_| in_flight).map(|r| r.id)
    }

    fn includes(&self, prs: &[PrNumber]) -> bool {
        self.run
            .as_ref()
            .is_some_and(|r| r.prefix.iter().any(|p| prs.contains(p)))
    }
}

/// Prow's tide state: one pool, at most one batch run and one serial run, results valid only
/// for the base they ran on.
#[derive(Debug, Clone, Default)]
struct TideState {
    /// Batch run: id, PRs, base position.
    batch: Option<(RunId, Vec<PrNumber>, u64)>,
    batch_result: Option<(Vec<PrNumber>, u64, bool)>,
    /// Serial run: id, PR, base position.
    serial: Option<(RunId, PrNumber, u64)>,
    /// Serial successes: PR -> base position.
    serial_passed: BTreeMap<PrNumber, u64>,
    /// Runs still occupying CI (Prow does not abort stale runs).
    in_flight: BTreeSet<RunId>,
}

/// A merge queue for one org/repo/branch, driven by events; see the module docs.
#[derive(Debug, Clone)]
pub struct MergeQueue {
    options: StrategyOptions,
    waiting: VecDeque<PrNumber>,
    groups: VecDeque<Group>,
    /// Speculative: groups tested on the side (alone on the base, never merged from) to find
    /// which PRs of a failed batch are to blame.
    suspects: Vec<Group>,
    /// Speculative: PRs a suspect run cleared; they form batches of their own, ahead of new
    /// PRs, so a new PR's failure cannot send them through the search again.
    cleared: VecDeque<PrNumber>,
    next_run: RunId,
    base: BaseLog,
    tide: TideState,
    tide_ejected: Vec<QueueAction>,
    stats: QueueStats,
    flaky_jobs: BTreeMap<String, u64>,
    /// Recent verdicts, decayed: PRs merged and PRs ejected (the estimate of how many PRs are
    /// broken, which sizes speculative batches).
    verdicts: (f64, f64),
}

fn insert_sorted(waiting: &mut VecDeque<PrNumber>, pr: PrNumber) {
    if !waiting.contains(&pr) {
        let at = waiting.partition_point(|&p| p < pr);
        waiting.insert(at, pr);
    }
}

impl MergeQueue {
    /// An empty queue.
    pub fn new(options: StrategyOptions) -> Self {
        MergeQueue {
            options: StrategyOptions {
                batch_size: options.batch_size.max(1),
                capacity: options.capacity.max(1),
                ..options
            },
            waiting: VecDeque::new(),
            groups: VecDeque::new(),
            suspects: Vec::new(),
            cleared: VecDeque::new(),
            next_run: 1,
            base: BaseLog::default(),
            tide: TideState::default(),
            tide_ejected: Vec::new(),
            stats: QueueStats::default(),
            flaky_jobs: BTreeMap::new(),
            verdicts: (0.0, 0.0),
        }
    }

    /// The queue's options.
    pub fn options(&self) -> StrategyOptions {
        self.options
    }

    /// Counters of the queue's work so far.
    pub fn stats(&self) -> QueueStats {
        self.stats
    }

    /// How often each job failed and then passed on retry.
    pub fn flaky_jobs(&self) -> &BTreeMap<String, u64> {
        &self.flaky_jobs
    }

    /// PRs in the queue (waiting or under test), in merge order.
    pub fn len(&self) -> usize {
        self.waiting.len()
            + self.cleared.len()
            + self
                .all_groups()
                .map(|g| g.prs.len() + g.deferred.len())
                .sum::<usize>()
    }

    fn all_groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().chain(&self.suspects)
    }

    /// Whether the queue holds no PR.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// CI runs the queue is waiting for.
    pub fn runs_in_flight(&self) -> usize {
        match self.options.kind {
            StrategyKind::Tide => self.tide.in_flight.len(),
            _ => self.all_groups().filter(|g| g.testing()).count(),
        }
    }

    /// Adds a PR that became ready to merge. Adding a PR twice has no effect.
    pub fn enqueue(&mut self, pr: PrNumber) {
        if !self.contains(pr) {
            // Prow orders candidates by PR number; keep the waiting list sorted the same way.
            insert_sorted(&mut self.waiting, pr);
        }
    }

    /// Whether `pr` is waiting or under test.
    pub fn contains(&self, pr: PrNumber) -> bool {
        self.waiting.contains(&pr)
            || self.cleared.contains(&pr)
            || self
                .all_groups()
                .any(|g| g.prs.contains(&pr) || g.deferred.contains(&pr))
    }

    /// Takes a PR out of the queue (it left the pool, or its head changed); returns the runs
    /// whose results no longer matter, which the caller aborts. With `speculative` the rest of
    /// its batch keeps its place and every run stacked on the PR restarts; otherwise the rest of
    /// its batch waits again. With `tide`, a pending batch holding the PR is dropped (its run
    /// keeps going, as in Prow) and a new one may start.
    pub fn remove(&mut self, pr: PrNumber) -> Vec<RunId> {
        self.waiting.retain(|&p| p != pr);
        self.cleared.retain(|&p| p != pr);
        self.tide_forget(pr);
        let mut cancelled = Vec::new();
        for g in &mut self.suspects {
            g.deferred.retain(|&p| p != pr);
        }
        if let Some(at) = self.suspects.iter().position(|g| g.prs.contains(&pr)) {
            let mut group = self.suspects.remove(at);
            cancelled.extend(group.reset());
            group.prs.retain(|&p| p != pr);
            if !group.prs.is_empty() {
                self.suspects.push(group);
            } else {
                for p in group.deferred {
                    insert_sorted(&mut self.waiting, p);
                }
            }
        }
        let Some(at) = self.groups.iter().position(|g| g.prs.contains(&pr)) else {
            self.stats.runs_cancelled += cancelled.len() as u64;
            return cancelled;
        };
        if self.cumulative() {
            for g in self.groups.iter_mut().skip(at + 1) {
                if g.includes(&[pr]) {
                    cancelled.extend(g.reset());
                }
            }
            let group = &mut self.groups[at];
            group.prs.retain(|&p| p != pr);
            cancelled.extend(group.reset());
            if group.prs.is_empty() {
                self.groups.remove(at);
            }
        } else if let Some(mut group) = self.groups.remove(at) {
            cancelled.extend(group.reset());
            for p in group.prs.into_iter().filter(|&p| p != pr) {
                insert_sorted(&mut self.waiting, p);
            }
        }
        self.stats.runs_cancelled += cancelled.len() as u64;
        cancelled
    }

    /// The base branch moved under the queue (not by its own merges): every result speaks for a
    /// base that is gone, and the next [`MergeQueue::step`] starts new runs. Returns the runs
    /// still in flight, which the caller aborts.
    pub fn restart_runs(&mut self) -> Vec<RunId> {
        self.base.moved();
        let mut cancelled: Vec<RunId> = self
            .groups
            .iter_mut()
            .chain(self.suspects.iter_mut())
            .filter_map(Group::reset)
            .collect();
        self.tide.batch_result = None;
        cancelled.extend(std::mem::take(&mut self.tide.in_flight));
        self.tide.batch = None;
        self.tide.serial = None;
        cancelled.sort_unstable();
        cancelled.dedup();
        self.stats.runs_cancelled += cancelled.len() as u64;
        cancelled
    }

    /// The caller merged only part of this step's [`QueueAction::Merge`]s: `unmerged` did not
    /// land (a head moved, GitHub refused). The base is now one nobody tested, so every result
    /// is stale: the unmerged PRs wait again and every run restarts. Returns the runs to abort,
    /// including runs this step asked to start (the caller skips the rest of the step's
    /// `StartRun` and `Merge` actions).
    pub fn merge_failed(&mut self, unmerged: &[PrNumber]) -> Vec<RunId> {
        self.stats.merged = self.stats.merged.saturating_sub(unmerged.len() as u64);
        for &pr in unmerged {
            insert_sorted(&mut self.waiting, pr);
        }
        self.restart_runs()
    }

    /// Adopts a run that an earlier instance of the queue started on the current base (the
    /// controller restarted), so its result counts instead of testing the PRs again.
    /// `candidates` must be waiting and `tested` must end with them; the PRs before them must
    /// be exactly the batches already in the stack (`speculative`), or none. A `speculative`
    /// run of PRs alone on the base that does not fit the stack is kept as a side run (it
    /// never merges anything). Returns the run's new identity, or `None` when the run does not
    /// fit (the caller aborts it).
    pub fn adopt_run(
        &mut self,
        tested: &[PrNumber],
        candidates: &[PrNumber],
        outcome: Option<RunOutcome>,
    ) -> Option<RunId> {
        if self.options.kind == StrategyKind::Tide
            || candidates.is_empty()
            || !tested.ends_with(candidates)
            || !candidates
                .iter()
                .all(|p| self.waiting.contains(p) || self.cleared.contains(p))
            || self.groups.len() >= self.max_groups()
        {
            return None;
        }
        let prefix = &tested[..tested.len() - candidates.len()];
        let expected: Vec<PrNumber> = if self.cumulative() {
            self.groups
                .iter()
                .filter(|g| !g.failed())
                .flat_map(|g| g.prs.iter().copied())
                .collect()
        } else {
            Vec::new()
        };
        // A speculative run on the base alone that is not the stack's next is a side run: it
        // never merges anything, so it is safe to keep whatever it was for.
        let side = prefix != expected.as_slice();
        if side && !(self.cumulative() && prefix.is_empty()) {
            return None;
        }
        self.waiting.retain(|p| !candidates.contains(p));
        self.cleared.retain(|p| !candidates.contains(p));
        let id = self.next_run;
        self.next_run += 1;
        let mut group = Group::new(candidates.to_vec(), !side);
        group.run = Some(Run {
            id,
            base_at: self.base.position(),
            prefix: prefix.to_vec(),
        });
        group.result = outcome;
        if side {
            self.suspects.push(group);
        } else {
            self.groups.push_back(group);
        }
        Some(id)
    }

    /// Records the result of a run; results of unknown or cancelled runs are ignored.
    pub fn run_finished(&mut self, run: RunId, outcome: RunOutcome) {
        if self.options.kind == StrategyKind::Tide {
            self.tide_finished(run, outcome);
            return;
        }
        if let Some(g) = self
            .groups
            .iter_mut()
            .chain(self.suspects.iter_mut())
            .find(|g| g.testing() && g.run.as_ref().is_some_and(|r| r.id == run))
        {
            g.result = Some(outcome);
        }
    }

    /// Decides what to do now: merges, ejections, cancellations and new runs (in that order).
    pub fn step(&mut self) -> Vec<QueueAction> {
        let mut actions = Vec::new();
        match self.options.kind {
            StrategyKind::Tide => self.tide_step(&mut actions),
            StrategyKind::Speculative => {
                self.speculative_resolve(&mut actions);
                self.fill(&mut actions);
            }
            _ => {
                self.independent_resolve(&mut actions);
                self.fill(&mut actions);
            }
        }
        actions
    }

    fn new_run(&mut self) -> RunId {
        let id = self.next_run;
        self.next_run += 1;
        self.stats.runs_started += 1;
        id
    }

    fn eject(
        &mut self,
        pr: PrNumber,
        failed_jobs: Vec<String>,
        attempts: u32,
        run: RunId,
    ) -> QueueAction {
        self.stats.ejected += 1;
        self.verdict(0, 1);
        let comment = eject_comment(pr, &failed_jobs, attempts);
        QueueAction::Eject {
            pr,
            failed_jobs,
            comment,
            run,
        }
    }

    // ----- tide (Prow's behaviour) -----

    /// Forgets what tide knew about `pr`: like Prow's `accumulateBatch`, a batch holding a PR
    /// that left the pool is no longer pending (its run keeps occupying CI until it ends).
    fn tide_forget(&mut self, pr: PrNumber) {
        self.tide.serial_passed.remove(&pr);
        if self
            .tide
            .batch
            .as_ref()
            .is_some_and(|(_, prs, _)| prs.contains(&pr))
        {
            self.tide.batch = None;
        }
        if self
            .tide
            .batch_result
            .as_ref()
            .is_some_and(|(prs, _, _)| prs.contains(&pr))
        {
            self.tide.batch_result = None;
        }
        if self.tide.serial.as_ref().is_some_and(|(_, p, _)| *p == pr) {
            self.tide.serial = None;
        }
    }

    fn tide_finished(&mut self, run: RunId, outcome: RunOutcome) {
        if !self.tide.in_flight.remove(&run) {
            return;
        }
        if let Some((id, prs, at)) = self.tide.batch.take() {
            if id == run {
                self.tide.batch_result = Some((prs, at, outcome.passed));
                return;
            }
            self.tide.batch = Some((id, prs, at));
        }
        if let Some((id, pr, at)) = self.tide.serial.take() {
            if id == run {
                if outcome.passed {
                    self.tide.serial_passed.insert(pr, at);
                } else if at == self.base.position() && self.waiting.contains(&pr) {
                    // A failed context removes the PR from the pool until someone retests it.
                    self.waiting.retain(|&p| p != pr);
                    self.tide_forget(pr);
                    let eject = self.eject(pr, outcome.failed_jobs, 1, run);
                    self.tide_ejected.push(eject);
                }
                return;
            }
            self.tide.serial = Some((id, pr, at));
        }
    }

    fn tide_step(&mut self, actions: &mut Vec<QueueAction>) {
        actions.append(&mut self.tide_ejected);
        let now = self.base.position();
        // Results for an older base do not count: Prow indexes ProwJobs by base SHA.
        let batch_pending = self
            .tide
            .batch
            .as_ref()
            .is_some_and(|(_, _, at)| *at == now);
        let serial_pending = self
            .tide
            .serial
            .as_ref()
            .is_some_and(|(_, _, at)| *at == now);
        // A successful batch whose PRs are all still in the pool merges.
        if let Some((prs, at, passed)) = self.tide.batch_result.take()
            && passed
            && at == now
            && prs.iter().all(|p| self.waiting.contains(p))
        {
            self.tide_merge(prs, actions);
            return;
        }
        // Otherwise one passing PR merges, unless a batch is pending.
        let passing = self
            .waiting
            .iter()
            .copied()
            .find(|p| self.tide.serial_passed.get(p) == Some(&now));
        if let Some(pr) = passing
            && !batch_pending
        {
            self.tide_merge(vec![pr], actions);
            return;
        }
        let capacity_left = |s: &Self| s.tide.in_flight.len() < s.options.capacity;
        if self.waiting.len() > 1 && !batch_pending && capacity_left(self) {
            let batch: Vec<PrNumber> = self
                .waiting
                .iter()
                .copied()
                .take(self.options.batch_size)
                .collect();
            if batch.len() > 1 {
                let run = self.new_run();
                self.tide.in_flight.insert(run);
                self.tide.batch = Some((run, batch.clone(), now));
                actions.push(QueueAction::StartRun {
                    run,
                    tested: batch.clone(),
                    candidates: batch,
                });
                return;
            }
        }
        if !serial_pending
            && passing.is_none()
            && capacity_left(self)
            && let Some(&pr) = self.waiting.front()
        {
            let run = self.new_run();
            self.tide.in_flight.insert(run);
            self.tide.serial = Some((run, pr, now));
            actions.push(QueueAction::StartRun {
                run,
                tested: vec![pr],
                candidates: vec![pr],
            });
        }
    }

    fn tide_merge(&mut self, prs: Vec<PrNumber>, actions: &mut Vec<QueueAction>) {
        self.waiting.retain(|p| !prs.contains(p));
        for &p in &prs {
            self.tide.serial_passed.remove(&p);
            self.base.merged(p);
        }
        self.stats.merged += prs.len() as u64;
        actions.push(QueueAction::Merge { prs });
    }

    // ----- serial, bisect, speculative -----

    fn cumulative(&self) -> bool {
        self.options.kind == StrategyKind::Speculative
    }

    fn max_groups(&self) -> usize {
        match self.options.kind {
            StrategyKind::Serial => 1,
            _ => self.options.capacity,
        }
    }

    fn group_size(&self) -> usize {
        match self.options.kind {
            StrategyKind::Serial => 1,
            StrategyKind::Speculative => self.unscreened_batch_size(),
            _ => self.options.batch_size,
        }
    }

    /// Records merged and ejected PRs; older verdicts fade so the estimate follows the repo.
    fn verdict(&mut self, good: usize, bad: usize) {
        self.verdicts.0 += good as f64;
        self.verdicts.1 += bad as f64;
        if self.verdicts.0 + self.verdicts.1 > VERDICT_WINDOW {
            self.verdicts.0 /= 2.0;
            self.verdicts.1 /= 2.0;
        }
    }

    /// The share of PRs that turn out broken, from recent verdicts with a prior of one in ten.
    fn bad_rate(&self) -> f64 {
        (self.verdicts.1 + PRIOR_BAD) / (self.verdicts.0 + self.verdicts.1 + PRIOR_WEIGHT)
    }

    /// Speculative: the largest batch of PRs nobody tested yet that fails with probability at
    /// most [`STACK_RISK`], given the share of broken PRs seen lately (at least 1, at most
    /// `batch_size`). Larger batches of new PRs are screened on the side first.
    fn unscreened_batch_size(&self) -> usize {
        let p = self.bad_rate().clamp(1e-4, 0.9);
        let g = ((1.0 - STACK_RISK).ln() / (1.0 - p).ln()).floor();
        (g.max(1.0) as usize).min(self.options.batch_size)
    }

    /// Speculative: the screening batch that costs the fewest runs per PR when a share `p` of
    /// PRs is broken. A batch of `g` takes one run; when it fails (probability `1 - (1-p)^g`)
    /// the culprit is found half by half (about `log2 g` runs) and then fails alone
    /// `flake_retries + 1` times; so `g` minimises `(1 + fail × (log2 g + retries + 1)) / g`
    /// (at most `batch_size`).
    fn screen_batch_size(&self) -> usize {
        let p = self.bad_rate().clamp(1e-4, 0.9);
        let confirm = f64::from(self.options.flake_retries) + 1.0;
        let cost = |g: usize| {
            let fail = 1.0 - (1.0 - p).powi(g as i32);
            (1.0 + fail * ((g as f64).log2().ceil() + confirm)) / g as f64
        };
        (1..=self.options.batch_size.min(64))
            .min_by(|a, b| cost(*a).total_cmp(&cost(*b)))
            .unwrap_or(1)
    }

    /// Speculative under load: more PRs wait than the next batch of the stack takes, so CI
    /// capacity the stack leaves idle screens the oldest of them in small groups on the side;
    /// the PRs they clear join the stack in full batches that seldom fail.
    fn screen(&mut self) {
        let size = self.screen_batch_size();
        loop {
            let unstarted = self.suspects.iter().filter(|g| g.run.is_none()).count();
            let busy = self.runs_in_flight() + unstarted;
            // One run stays free for the stack's next batch.
            if self.waiting.len() <= self.unscreened_batch_size()
                || busy + 1 >= self.options.capacity
            {
                break;
            }
            let take = size.min(self.waiting.len());
            let prs: Vec<PrNumber> = self.waiting.drain(..take).collect();
            self.suspects.push(Group::new(prs, false));
        }
    }

    /// How many parts a failed group of `n` PRs is split into: halves, or more when CI capacity
    /// is idle (every part gets its own run at once).
    fn split_parts(&self, n: usize) -> usize {
        let busy = self.runs_in_flight();
        let free = self.options.capacity.saturating_sub(busy).max(2);
        free.min(n)
    }

    /// Whether a new batch may be formed from waiting PRs now. Bisect keeps one fresh batch
    /// in flight and forms the next one when its result is in, so batches fill up while CI
    /// runs; failed batches being bisected do not hold it back.
    fn may_form_group(&self) -> bool {
        if self.groups.len() >= self.max_groups()
            || (self.waiting.is_empty() && self.cleared.is_empty())
            || self.runs_in_flight() >= self.options.capacity
        {
            return false;
        }
        let untested_fresh = self
            .groups
            .iter()
            .filter(|g| g.fresh && g.result.is_none())
            .count();
        match self.options.kind {
            StrategyKind::Bisect | StrategyKind::UnsafeBisect => untested_fresh == 0,
            StrategyKind::Speculative => {
                // One batch at a time, so batches fill up while CI runs; a deeper stack only
                // for full batches, which keep the runs per PR low under load.
                let batch = self.options.batch_size;
                let full = self.cleared.len() >= batch
                    || (self.cleared.is_empty()
                        && self.unscreened_batch_size() >= batch
                        && self.waiting.len() >= batch);
                untested_fresh == 0 || (full && untested_fresh < STACK_DEPTH)
            }
            _ => true,
        }
    }

    /// The group passed and its run tested it on the current base: merge it.
    fn merge_group(&mut self, group: Group, actions: &mut Vec<QueueAction>) {
        if group.failures > 0 {
            self.count_flake(&group);
        }
        for &pr in &group.prs {
            self.base.merged(pr);
        }
        self.verdict(group.prs.len(), 0);
        self.stats.merged += group.prs.len() as u64;
        actions.push(QueueAction::Merge { prs: group.prs });
    }

    /// A group that failed before passed: its failed jobs were flakes.
    fn count_flake(&mut self, group: &Group) {
        self.stats.flakes += 1;
        for job in &group.failed_jobs {
            *self.flaky_jobs.entry(job.clone()).or_default() += 1;
        }
    }

    /// Counts a failure against `group` (its run is over); returns the groups taking its
    /// place: itself for a retry, its parts, or nothing when its single PR is ejected.
    fn blame(&mut self, mut group: Group, actions: &mut Vec<QueueAction>) -> Vec<Group> {
        let run = group.run.as_ref().map_or(0, |r| r.id);
        let result = group.result.take().unwrap_or_default();
        group.run = None;
        group.failure_noticed = false;
        group.failures += 1;
        for job in result.failed_jobs {
            if !group.failed_jobs.contains(&job) {
                group.failed_jobs.push(job);
            }
        }
        if group.joined && group.failures == 1 {
            // Every PR of a joined group passed alone: its first failure is most likely a
            // flake, so it runs once more as a whole before it is split.
            return vec![group];
        }
        if let [pr] = group.prs[..] {
            if group.failures <= self.options.flake_retries {
                return vec![group];
            }
            let eject = self.eject(pr, group.failed_jobs, group.failures, run);
            actions.push(eject);
            return Vec::new();
        }
        let n = group.prs.len();
        if self.cumulative() {
            // Test the first half alone; the rest waits for its verdict.
            let mut part = Group::new(group.prs[..n / 2].to_vec(), false);
            part.deferred = group.prs[n / 2..].to_vec();
            part.parent_jobs = group.failed_jobs;
            return vec![part];
        }
        let parts = self.split_parts(group.prs.len());
        let mut out = Vec::with_capacity(parts);
        let mut start = 0;
        for i in 0..parts {
            let end = start + (n - start) / (parts - i);
            let mut part = Group::new(group.prs[start..end].to_vec(), false);
            part.joinable = group.joinable && !group.joined;
            out.push(part);
            start = end;
        }
        out
    }

    /// Serial and bisect: groups are tested side by side on the base. Of those that passed on
    /// the current base one merges (the one that lost that race most often, so none starves);
    /// every other pass is then stale, and those are joined into one group tested again on the
    /// new base (each passed alone, so together they most likely pass in one run). A group that
    /// failed is retried, split or ejected.
    fn independent_resolve(&mut self, actions: &mut Vec<QueueAction>) {
        if self.options.kind == StrategyKind::UnsafeBisect {
            let mut i = 0;
            while i < self.groups.len() {
                if self.groups[i].passed()
                    && let Some(group) = self.groups.remove(i)
                {
                    self.merge_group(group, actions);
                } else {
                    i += 1;
                }
            }
        } else {
            let best = (0..self.groups.len())
                .filter(|&i| {
                    let g = &self.groups[i];
                    g.passed()
                        && g.run
                            .as_ref()
                            .is_some_and(|r| self.base.is(r.base_at, &r.prefix))
                })
                .max_by_key(|&i| (self.groups[i].stale, std::cmp::Reverse(i)));
            if let Some(group) = best.and_then(|i| self.groups.remove(i)) {
                self.merge_group(group, actions);
            }
            let mut stale: Vec<Group> = Vec::new();
            let mut i = 0;
            while i < self.groups.len() {
                if !self.groups[i].passed() {
                    i += 1;
                    continue;
                }
                self.stats.stale_results += 1;
                let g = &mut self.groups[i];
                g.reset();
                g.stale += 1;
                if g.failures > 0 {
                    // It failed before and passed now: that failure was a flake.
                    let passed = g.clone();
                    self.count_flake(&passed);
                    let g = &mut self.groups[i];
                    g.failures = 0;
                    g.failed_jobs.clear();
                }
                if self.groups[i].joinable
                    && let Some(group) = self.groups.remove(i)
                {
                    stale.push(group);
                } else {
                    i += 1;
                }
            }
            if !stale.is_empty() {
                let mut joined = Group::new(Vec::new(), false);
                joined.joined = stale.len() > 1 || stale[0].joined;
                joined.stale = stale.iter().map(|g| g.stale).max().unwrap_or(0);
                for g in stale {
                    joined.prs.extend(g.prs);
                }
                joined.prs.sort_unstable();
                self.groups.push_front(joined);
            }
        }
        let mut i = 0;
        while i < self.groups.len() {
            if !self.groups[i].failed() {
                i += 1;
                continue;
            }
            if let Some(group) = self.groups.remove(i) {
                let replacement = self.blame(group, actions);
                let n = replacement.len();
                for (k, g) in replacement.into_iter().enumerate() {
                    self.groups.insert(i + k, g);
                }
                i += n;
            }
        }
    }

    /// Speculative: runs stacked on a failed group restart without it; the head merges while
    /// it passed on its landing base; a failed group whose run was stacked only on groups that
    /// passed is to blame, and is split or retried at the back of the stack.
    fn speculative_resolve(&mut self, actions: &mut Vec<QueueAction>) {
        loop {
            let mut changed = false;
            for i in 0..self.groups.len() {
                if !self.groups[i].failed() || self.groups[i].failure_noticed {
                    continue;
                }
                self.groups[i].failure_noticed = true;
                let prs = self.groups[i].prs.clone();
                for j in i + 1..self.groups.len() {
                    if self.groups[j].includes(&prs)
                        && let Some(run) = self.groups[j].reset()
                    {
                        self.stats.runs_cancelled += 1;
                        actions.push(QueueAction::CancelRun { run });
                    }
                }
                changed = true;
            }
            while let Some(head) = self.groups.front()
                && head.passed()
            {
                let current = head
                    .run
                    .as_ref()
                    .is_some_and(|r| self.base.is(r.base_at, &r.prefix));
                if !current {
                    self.stats.stale_results += 1;
                    if let Some(head) = self.groups.front_mut() {
                        head.reset();
                    }
                    break;
                }
                if let Some(group) = self.groups.pop_front() {
                    self.merge_group(group, actions);
                    changed = true;
                }
            }
            if let Some(i) = self.attributable_failure() {
                if let Some(group) = self.groups.remove(i) {
                    let replacement = self.blame(group, actions);
                    self.suspects.extend(replacement);
                }
                changed = true;
            }
            changed |= self.resolve_suspects(actions);
            if !changed {
                break;
            }
        }
    }

    /// Speculative: a suspect that passed is cleared (its PRs join the next batch); one that
    /// failed is retried, split or ejected.
    fn resolve_suspects(&mut self, actions: &mut Vec<QueueAction>) -> bool {
        let mut changed = false;
        let mut i = 0;
        while i < self.suspects.len() {
            if self.suspects[i].result.is_none() {
                i += 1;
                continue;
            }
            changed = true;
            let mut group = self.suspects.remove(i);
            let deferred = std::mem::take(&mut group.deferred);
            if group.passed() {
                if group.failures > 0 && group.prs.len() == 1 {
                    self.count_flake(&group);
                }
                for pr in group.prs {
                    insert_sorted(&mut self.cleared, pr);
                }
                // The failure is in the half held back (or was a flake): search it.
                if !deferred.is_empty() {
                    let n = deferred.len();
                    let mut next = Group::new(deferred, false);
                    if n > 1 {
                        next.deferred = next.prs.split_off(n / 2);
                        next.parent_jobs = group.parent_jobs;
                    } else {
                        // Everything else in the failed run passed: that failure was its.
                        next.failures = 1;
                        next.failed_jobs = group.parent_jobs;
                    }
                    self.suspects.insert(i, next);
                    i += 1;
                }
            } else {
                for pr in deferred {
                    insert_sorted(&mut self.waiting, pr);
                }
                let replacement = self.blame(group, actions);
                let n = replacement.len();
                for (k, g) in replacement.into_iter().enumerate() {
                    self.suspects.insert(i + k, g);
                }
                i += n;
            }
        }
        changed
    }

    /// The first failed group whose run was stacked exactly on what merged since and on groups
    /// ahead that all passed, so the failure is its own. A failed group whose run no longer
    /// matches the stack ahead of it is reset to be tested again.
    fn attributable_failure(&mut self) -> Option<usize> {
        for i in 0..self.groups.len() {
            if !self.groups[i].failed() {
                continue;
            }
            let Some(run) = self.groups[i].run.as_ref() else {
                continue;
            };
            let Some(mut stack) = self.base.since(run.base_at) else {
                self.groups[i].reset();
                continue;
            };
            let mut ahead_passed = true;
            for g in self.groups.range(..i).filter(|g| !g.failed()) {
                if !g.passed() {
                    ahead_passed = false;
                    break;
                }
                stack.extend(g.prs.iter().copied());
            }
            if !ahead_passed {
                continue;
            }
            if stack == run.prefix {
                return Some(i);
            }
            self.groups[i].reset();
        }
        None
    }

    /// Forms new groups from waiting PRs and starts runs for groups without one, in order.
    fn fill(&mut self, actions: &mut Vec<QueueAction>) {
        while self.may_form_group() {
            let prs: Vec<PrNumber> = if self.cleared.is_empty() {
                let take = self.group_size().min(self.waiting.len());
                self.waiting.drain(..take).collect()
            } else {
                let take = self.options.batch_size.min(self.cleared.len());
                self.cleared.drain(..take).collect()
            };
            self.groups.push_back(Group::new(prs, true));
        }
        if self.cumulative() {
            self.screen();
        }
        let cumulative = self.cumulative();
        let mut in_flight = self.runs_in_flight();
        let mut prefix: Vec<PrNumber> = Vec::new();
        for i in 0..self.groups.len() {
            if self.groups[i].run.is_none() {
                if in_flight >= self.options.capacity {
                    break;
                }
                let id = self.new_run();
                in_flight += 1;
                let candidates = self.groups[i].prs.clone();
                let run = Run {
                    id,
                    base_at: self.base.position(),
                    prefix: if cumulative {
                        prefix.clone()
                    } else {
                        Vec::new()
                    },
                };
                let mut tested = run.prefix.clone();
                tested.extend(candidates.iter().copied());
                self.groups[i].run = Some(run);
                actions.push(QueueAction::StartRun {
                    run: id,
                    tested,
                    candidates,
                });
            }
            if cumulative && !self.groups[i].failed() {
                prefix.extend(self.groups[i].prs.iter().copied());
            }
        }
        for i in 0..self.suspects.len() {
            if self.suspects[i].run.is_some() {
                continue;
            }
            if in_flight >= self.options.capacity {
                break;
            }
            let id = self.new_run();
            in_flight += 1;
            let candidates = self.suspects[i].prs.clone();
            self.suspects[i].run = Some(Run {
                id,
                base_at: self.base.position(),
                prefix: Vec::new(),
            });
            actions.push(QueueAction::StartRun {
                run: id,
                tested: candidates.clone(),
                candidates,
            });
        }
    }
}
