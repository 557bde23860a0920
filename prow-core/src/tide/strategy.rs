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

use std::collections::{BTreeMap, BTreeSet, VecDeque};

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
    /// leaves the pool; every merge moves the base and invalidates all results.
    #[default]
    Tide,
    /// One PR at a time, retried on failure up to `flake_retries` times.
    Serial,
    /// Batches of up to `batch_size`; a failed batch is split and the parts are tested in
    /// parallel on the same base; passing parts merge in order; a single PR that keeps failing
    /// after `flake_retries` retries is ejected.
    Bisect,
    /// Cumulative prefixes (batch 1, batches 1+2, ...) tested in parallel up to `capacity` runs;
    /// a failing batch is split like `bisect` and the runs after it are restarted.
    Speculative,
}

impl StrategyKind {
    /// All strategies, in the order reports list them.
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
        }
    }

    /// Parses a strategy name (`tide`, `serial`, `bisect`, `speculative`).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
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
    /// Merge these PRs, in this order.
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
}

#[derive(Debug, Clone)]
struct Group {
    prs: Vec<PrNumber>,
    /// Failed runs of this exact group so far.
    failures: u32,
    /// Jobs that failed for this group (kept for the eject comment and flake counting).
    failed_jobs: Vec<String>,
    run: Option<RunId>,
    result: Option<RunOutcome>,
    /// Formed from waiting PRs (not a part of a failed group).
    fresh: bool,
    /// Speculative only: a part of a failed group, tested on its own to find the culprit and
    /// kept out of the other runs' prefixes.
    suspect: bool,
}

impl Group {
    fn new(prs: Vec<PrNumber>, fresh: bool) -> Self {
        Group {
            prs,
            fresh,
            suspect: false,
            failures: 0,
            failed_jobs: Vec::new(),
            run: None,
            result: None,
        }
    }
}

/// Prow's tide state: one pool, at most one batch run and one serial run, results valid only
/// for the base they ran on.
#[derive(Debug, Clone, Default)]
struct TideState {
    base_version: u64,
    /// Batch run: id, PRs, base version.
    batch: Option<(RunId, Vec<PrNumber>, u64)>,
    batch_result: Option<(Vec<PrNumber>, u64, bool)>,
    /// Serial run: id, PR, base version.
    serial: Option<(RunId, PrNumber, u64)>,
    /// Serial successes: PR -> base version.
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
    next_run: RunId,
    tide: TideState,
    tide_ejected: Vec<(PrNumber, Vec<String>, String)>,
    stats: QueueStats,
    flaky_jobs: BTreeMap<String, u64>,
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
            next_run: 1,
            tide: TideState::default(),
            tide_ejected: Vec::new(),
            stats: QueueStats::default(),
            flaky_jobs: BTreeMap::new(),
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
        self.waiting.len() + self.groups.iter().map(|g| g.prs.len()).sum::<usize>()
    }

    /// Whether the queue holds no PR.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// CI runs the queue is waiting for.
    pub fn runs_in_flight(&self) -> usize {
        match self.options.kind {
            StrategyKind::Tide => self.tide.in_flight.len(),
            _ => self
                .groups
                .iter()
                .filter(|g| g.run.is_some() && g.result.is_none())
                .count(),
        }
    }

    /// Adds a PR that became ready to merge. Adding a PR twice has no effect.
    pub fn enqueue(&mut self, pr: PrNumber) {
        let known = self.waiting.contains(&pr) || self.groups.iter().any(|g| g.prs.contains(&pr));
        if !known {
            // Prow orders candidates by PR number; keep the waiting list sorted the same way.
            let at = self.waiting.partition_point(|&p| p < pr);
            self.waiting.insert(at, pr);
        }
    }

    /// Whether `pr` is waiting or under test.
    pub fn contains(&self, pr: PrNumber) -> bool {
        self.waiting.contains(&pr) || self.groups.iter().any(|g| g.prs.contains(&pr))
    }

    /// Takes a PR out of the queue (it left the pool, or its head changed). The other PRs of
    /// its group wait again; returns the runs whose results no longer matter (the group's, and
    /// with cumulative runs every later run), which the caller aborts.
    pub fn remove(&mut self, pr: PrNumber) -> Vec<RunId> {
        self.waiting.retain(|&p| p != pr);
        self.tide.serial_passed.remove(&pr);
        let Some(at) = self.groups.iter().position(|g| g.prs.contains(&pr)) else {
            return Vec::new();
        };
        let mut cancelled = Vec::new();
        if self.cumulative() {
            for g in self.groups.iter_mut().skip(at + 1).filter(|g| !g.suspect) {
                if let Some(run) = g.run.take()
                    && g.result.take().is_none()
                {
                    cancelled.push(run);
                }
            }
        }
        if let Some(group) = self.groups.remove(at) {
            if let Some(run) = group.run
                && group.result.is_none()
            {
                cancelled.push(run);
            }
            for p in group.prs.into_iter().filter(|&p| p != pr) {
                let at = self.waiting.partition_point(|&w| w < p);
                self.waiting.insert(at, p);
            }
        }
        self.stats.runs_cancelled += cancelled.len() as u64;
        cancelled
    }

    /// Forgets every run and result (the base branch moved under the queue, so they speak for
    /// a base that is gone); the next [`MergeQueue::step`] starts new runs. Returns the runs
    /// still in flight, which the caller aborts.
    pub fn restart_runs(&mut self) -> Vec<RunId> {
        let mut cancelled = Vec::new();
        for g in self.groups.iter_mut() {
            if let Some(run) = g.run.take()
                && g.result.take().is_none()
            {
                cancelled.push(run);
            }
        }
        self.tide.base_version += 1;
        self.tide.batch_result = None;
        cancelled.extend(std::mem::take(&mut self.tide.in_flight));
        self.tide.batch = None;
        self.tide.serial = None;
        cancelled.sort_unstable();
        cancelled.dedup();
        self.stats.runs_cancelled += cancelled.len() as u64;
        cancelled
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
            .find(|g| g.run == Some(run) && g.result.is_none())
        {
            g.result = Some(outcome);
        }
    }

    /// Decides what to do now: merges, ejections, cancellations and new runs.
    pub fn step(&mut self) -> Vec<QueueAction> {
        let mut actions = Vec::new();
        match self.options.kind {
            StrategyKind::Tide => self.tide_step(&mut actions),
            _ => self.queue_step(&mut actions),
        }
        actions
    }

    fn new_run(&mut self) -> RunId {
        let id = self.next_run;
        self.next_run += 1;
        self.stats.runs_started += 1;
        id
    }

    // ----- tide (Prow's behaviour) -----

    fn tide_finished(&mut self, run: RunId, outcome: RunOutcome) {
        if !self.tide.in_flight.remove(&run) {
            return;
        }
        if let Some((id, prs, version)) = self.tide.batch.take() {
            if id == run {
                self.tide.batch_result = Some((prs, version, outcome.passed));
                return;
            }
            self.tide.batch = Some((id, prs, version));
        }
        if let Some((id, pr, version)) = self.tide.serial.take() {
            if id == run {
                if outcome.passed {
                    self.tide.serial_passed.insert(pr, version);
                } else if version == self.tide.base_version {
                    // A failed context removes the PR from the pool until someone retests it.
                    self.waiting.retain(|&p| p != pr);
                    self.stats.ejected += 1;
                    let comment = eject_comment(pr, &outcome.failed_jobs, 1);
                    self.tide_ejected.push((pr, outcome.failed_jobs, comment));
                }
                return;
            }
            self.tide.serial = Some((id, pr, version));
        }
    }

    fn tide_step(&mut self, actions: &mut Vec<QueueAction>) {
        for (pr, failed_jobs, comment) in std::mem::take(&mut self.tide_ejected) {
            actions.push(QueueAction::Eject {
                pr,
                failed_jobs,
                comment,
            });
        }
        let version = self.tide.base_version;
        // Results for an older base do not count: Prow indexes ProwJobs by base SHA.
        let batch_pending = self
            .tide
            .batch
            .as_ref()
            .is_some_and(|(_, _, v)| *v == version);
        let serial_pending = self
            .tide
            .serial
            .as_ref()
            .is_some_and(|(_, _, v)| *v == version);
        // A successful batch whose PRs are all still in the pool merges.
        if let Some((prs, v, passed)) = self.tide.batch_result.take()
            && passed
            && v == version
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
            .find(|p| self.tide.serial_passed.get(p) == Some(&version));
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
                self.tide.batch = Some((run, batch.clone(), version));
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
            self.tide.serial = Some((run, pr, version));
            actions.push(QueueAction::StartRun {
                run,
                tested: vec![pr],
                candidates: vec![pr],
            });
        }
    }

    fn tide_merge(&mut self, prs: Vec<PrNumber>, actions: &mut Vec<QueueAction>) {
        self.waiting.retain(|p| !prs.contains(p));
        for p in &prs {
            self.tide.serial_passed.remove(p);
        }
        self.stats.merged += prs.len() as u64;
        self.tide.base_version += 1;
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
            _ => self.options.batch_size,
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
        if self.groups.len() >= self.max_groups() || self.waiting.is_empty() {
            return false;
        }
        match self.options.kind {
            StrategyKind::Bisect => !self.groups.iter().any(|g| g.fresh && g.result.is_none()),
            _ => true,
        }
    }

    fn queue_step(&mut self, actions: &mut Vec<QueueAction>) {
        let cumulative = self.cumulative();
        let mut i = 0;
        // Whether an earlier group still waits for its result, so later ones may not merge.
        let mut earlier_unresolved = false;
        while i < self.groups.len() {
            let g = &self.groups[i];
            let independent = g.suspect || (g.failures > 0 && g.prs.len() == 1 && !cumulative);
            if g.result.is_none() {
                // Without cumulative runs, a single PR under retry does not hold back the
                // groups behind it: they were tested without it. Suspects never do.
                if independent {
                    i += 1;
                    continue;
                }
                if cumulative {
                    earlier_unresolved = true;
                    i += 1;
                    continue;
                }
                break;
            }
            if earlier_unresolved && !independent {
                i += 1;
                continue;
            }
            let Some(group) = self.groups.remove(i) else {
                break;
            };
            let Some(result) = group.result.clone() else {
                break;
            };
            if result.passed {
                if group.failures > 0 {
                    self.stats.flakes += 1;
                    for job in &group.failed_jobs {
                        *self.flaky_jobs.entry(job.clone()).or_default() += 1;
                    }
                }
                if group.suspect {
                    // Cleared, but not tested on top of the queue: back in line, in order.
                    for pr in group.prs {
                        let at = self.waiting.partition_point(|&p| p < pr);
                        self.waiting.insert(at, pr);
                    }
                    continue;
                }
                self.stats.merged += group.prs.len() as u64;
                actions.push(QueueAction::Merge { prs: group.prs });
                continue;
            }
            let replacement = self.handle_failure(i, group, result, actions);
            for (k, g) in replacement.into_iter().enumerate() {
                self.groups.insert(i + k, g);
            }
        }
        self.fill(actions);
    }

    /// A group failed: retry it, split it or eject its PR; returns the groups that take its
    /// place. Later cumulative runs included the group, so they are cancelled.
    fn handle_failure(
        &mut self,
        at: usize,
        mut group: Group,
        result: RunOutcome,
        actions: &mut Vec<QueueAction>,
    ) -> Vec<Group> {
        group.failures += 1;
        for job in result.failed_jobs {
            if !group.failed_jobs.contains(&job) {
                group.failed_jobs.push(job);
            }
        }
        let cumulative = self.cumulative();
        if cumulative && !group.suspect {
            for g in self.groups.iter_mut().skip(at).filter(|g| !g.suspect) {
                if let Some(run) = g.run.take()
                    && g.result.take().is_none()
                {
                    actions.push(QueueAction::CancelRun { run });
                    self.stats.runs_cancelled += 1;
                }
            }
        }
        if group.prs.len() == 1 {
            if group.failures <= self.options.flake_retries {
                group.run = None;
                group.result = None;
                group.suspect = group.suspect || cumulative;
                return vec![group];
            }
            let pr = group.prs[0];
            self.stats.ejected += 1;
            let comment = eject_comment(pr, &group.failed_jobs, group.failures);
            actions.push(QueueAction::Eject {
                pr,
                failed_jobs: group.failed_jobs,
                comment,
            });
            return Vec::new();
        }
        let parts = self.split_parts(group.prs.len());
        let n = group.prs.len();
        let mut out = Vec::with_capacity(parts);
        let mut start = 0;
        for i in 0..parts {
            let end = start + (n - start) / (parts - i);
            let mut part = Group::new(group.prs[start..end].to_vec(), false);
            part.suspect = cumulative;
            part.failures = 0;
            out.push(part);
            start = end;
        }
        out
    }

    /// Forms new groups from waiting PRs and starts runs for groups without one.
    fn fill(&mut self, actions: &mut Vec<QueueAction>) {
        while self.may_form_group() {
            let take = self.group_size().min(self.waiting.len());
            let prs: Vec<PrNumber> = self.waiting.drain(..take).collect();
            self.groups.push_back(Group::new(prs, true));
        }
        let cumulative = self.cumulative();
        let mut prefix: Vec<PrNumber> = Vec::new();
        for i in 0..self.groups.len() {
            if self.runs_in_flight() >= self.options.capacity {
                break;
            }
            if self.groups[i].run.is_none() {
                let run = self.new_run();
                let candidates = self.groups[i].prs.clone();
                let mut tested = if cumulative && !self.groups[i].suspect {
                    prefix.clone()
                } else {
                    Vec::new()
                };
                tested.extend(candidates.iter().copied());
                self.groups[i].run = Some(run);
                actions.push(QueueAction::StartRun {
                    run,
                    tested,
                    candidates,
                });
            }
            if cumulative && !self.groups[i].suspect {
                prefix.extend(self.groups[i].prs.iter().copied());
            }
        }
    }
}
