//! Pools and sync decisions: PRs grouped per org/repo/branch, their ProwJob results accumulated
//! per PR and per batch, and the action a sync takes (upstream `pkg/tide/tide.go`).

use std::collections::{BTreeMap, BTreeSet};

use super::context::{ContextPolicy, ContextState, PullRequest};
use crate::{ProwJob, ProwJobState, ProwJobType};

/// The PRs and ProwJobs of one org/repo/branch.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Subpool {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The base branch.
    pub branch: String,
    /// The base branch's current SHA.
    pub base_sha: String,
    /// PRs in the pool, by number.
    pub prs: Vec<PullRequest>,
    /// Presubmit and batch ProwJobs of this branch that ran on `base_sha`.
    pub prowjobs: Vec<ProwJob>,
    /// The required presubmit contexts of each PR (by PR number).
    pub presubmits: BTreeMap<u64, Vec<String>>,
}

impl Subpool {
    /// The key Prow logs and shows for the pool: `org/repo:branch`.
    pub fn key(&self) -> String {
        format!("{}/{}:{}", self.org, self.repo, self.branch)
    }
}

/// Groups PRs into subpools by org/repo/branch, attaching the ProwJobs that ran on each
/// branch's current base SHA (`base_shas` maps `org/repo:branch` to the SHA). Pools are sorted
/// by key and their PRs by number.
pub fn divide_pool<J: std::borrow::Borrow<ProwJob>>(
    prs: Vec<PullRequest>,
    prowjobs: &[J],
    base_shas: &BTreeMap<String, String>,
) -> Vec<Subpool> {
    let mut pools: BTreeMap<String, Subpool> = BTreeMap::new();
    for pr in prs {
        let key = format!("{}/{}:{}", pr.org, pr.repo, pr.base_ref);
        let pool = pools.entry(key.clone()).or_insert_with(|| Subpool {
            org: pr.org.clone(),
            repo: pr.repo.clone(),
            branch: pr.base_ref.clone(),
            base_sha: base_shas.get(&key).cloned().unwrap_or_default(),
            ..Subpool::default()
        });
        pool.prs.push(pr);
    }
    for pool in pools.values_mut() {
        pool.prs.sort_by_key(|p| p.number);
        pool.prowjobs = prowjobs
            .iter()
            .map(J::borrow)
            .filter(|pj| {
                matches!(
                    pj.spec.job_type,
                    ProwJobType::Presubmit | ProwJobType::Batch
                ) && pj.spec.refs.as_ref().is_some_and(|r| {
                    r.org == pool.org
                        && r.repo == pool.repo
                        && r.base_ref == pool.branch
                        && r.base_sha == pool.base_sha
                })
            })
            .cloned()
            .collect();
    }
    pools.into_values().collect()
}

/// A ProwJob state reduced to what tide needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SimpleState {
    /// Failed, aborted or errored.
    Failure,
    /// Triggered or running.
    Pending,
    /// Passed.
    Success,
}

/// Reduces a ProwJob state (Prow's `toSimpleState`).
pub fn simple_state(state: ProwJobState) -> SimpleState {
    match state {
        ProwJobState::Scheduling | ProwJobState::Triggered | ProwJobState::Pending => {
            SimpleState::Pending
        }
        ProwJobState::Success => SimpleState::Success,
        _ => SimpleState::Failure,
    }
}

/// The better of two results for the same context (success > pending > failure; Prow's
/// `getBetterSimpleState`).
pub fn better_state(a: Option<SimpleState>, b: SimpleState) -> SimpleState {
    match a {
        None | Some(SimpleState::Failure) => b,
        Some(_) if b == SimpleState::Success => b,
        Some(a) => a,
    }
}

fn job_state(pj: &ProwJob) -> ProwJobState {
    pj.status.as_ref().map(|s| s.state).unwrap_or_default()
}

/// PRs sorted by the state of their required presubmits on the current base.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accumulated {
    /// PRs whose required jobs all passed.
    pub successes: Vec<u64>,
    /// PRs with running jobs and none missing or failed.
    pub pendings: Vec<u64>,
    /// PRs with a required job missing or failed.
    pub missings: Vec<u64>,
    /// Per PR, the required contexts that are missing or failed.
    pub missing_tests: BTreeMap<u64, Vec<String>>,
}

/// Sorts the subpool's PRs into successes, pendings and missings from their presubmit ProwJobs
/// for the current head (Prow's `accumulate`).
pub fn accumulate(sp: &Subpool) -> Accumulated {
    let mut acc = Accumulated::default();
    for pr in &sp.prs {
        let mut states: BTreeMap<&str, SimpleState> = BTreeMap::new();
        for pj in &sp.prowjobs {
            if pj.spec.job_type != ProwJobType::Presubmit {
                continue;
            }
            let Some(first) = pj.spec.refs.as_ref().and_then(|r| r.pulls.first()) else {
                continue;
            };
            if first.number != pr.number || first.sha != pr.head_sha {
                continue;
            }
            let name = pj.spec.context.as_str();
            let s = better_state(states.get(name).copied(), simple_state(job_state(pj)));
            states.insert(name, s);
        }
        // Successful head contexts marked as valid for this base (or never needing a retest)
        // count like passing ProwJobs.
        for c in &pr.contexts {
            if c.state == ContextState::Success
                && (is_skip_retest(&c.description)
                    || base_sha_from_description(&c.description)
                        .is_some_and(|sha| !sp.base_sha.is_empty() && sha == sp.base_sha))
            {
                states.insert(c.name.as_str(), SimpleState::Success);
            }
        }
        let mut overall = SimpleState::Success;
        let mut missing = Vec::new();
        for ctx in sp.presubmits.get(&pr.number).into_iter().flatten() {
            match states.get(ctx.as_str()) {
                None | Some(SimpleState::Failure) => missing.push(ctx.clone()),
                Some(SimpleState::Pending) => overall = SimpleState::Pending,
                Some(SimpleState::Success) => {}
            }
        }
        if !missing.is_empty() {
            acc.missing_tests.insert(pr.number, missing);
            acc.missings.push(pr.number);
        } else if overall == SimpleState::Pending {
            acc.pendings.push(pr.number);
        } else {
            acc.successes.push(pr.number);
        }
    }
    acc
}

/// The marker after which a context description carries the base SHA it passed on.
pub const BASE_SHA_MARKER: &str = " BaseSHA:";
/// The marker of contexts that never need a retest.
pub const SKIP_RETEST_MARKER: &str = "[prow:skip-retest]";

/// Whether a context description says the result never needs a retest.
pub fn is_skip_retest(description: &str) -> bool {
    description.contains(SKIP_RETEST_MARKER)
}

/// The base SHA recorded in a context description, if any.
pub fn base_sha_from_description(description: &str) -> Option<&str> {
    let (_, rest) = description.rsplit_once(BASE_SHA_MARKER)?;
    let sha = rest.split_whitespace().next()?;
    (!sha.is_empty()).then_some(sha)
}

/// A context description with the base SHA appended, shortened so it fits GitHub's limit.
pub fn description_with_base_sha(description: &str, base_sha: &str) -> String {
    let suffix = format!("{BASE_SHA_MARKER}{base_sha}");
    let max = super::status::MAX_STATUS_DESCRIPTION_LENGTH;
    if description.len() + suffix.len() <= max {
        return format!("{description}{suffix}");
    }
    let mut keep = max.saturating_sub(suffix.len() + 1);
    while keep > 0 && !description.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}…{suffix}", &description[..keep])
}

/// The successful and the pending batch whose pulls still match the PRs' heads and whose
/// required jobs are all passing, respectively none failed (Prow's `accumulateBatch`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchState {
    /// PR numbers of a batch whose required jobs all passed.
    pub success: Vec<u64>,
    /// PR numbers of a batch still running.
    pub pending: Vec<u64>,
}

/// Accumulates batch ProwJobs; `required` lists the contexts a batch of these PRs needs.
pub fn accumulate_batch(sp: &Subpool, required: impl Fn(&[u64]) -> Vec<String>) -> BatchState {
    let heads: BTreeMap<u64, &str> = sp
        .prs
        .iter()
        .map(|p| (p.number, p.head_sha.as_str()))
        .collect();
    // Pulls (number, sha) -> (pulls still match heads, best state per context).
    type PerBatch = (bool, BTreeMap<String, SimpleState>);
    let mut batches: BTreeMap<Vec<(u64, String)>, PerBatch> = BTreeMap::new();
    for pj in &sp.prowjobs {
        if pj.spec.job_type != ProwJobType::Batch {
            continue;
        }
        let Some(refs) = pj.spec.refs.as_ref() else {
            continue;
        };
        let key: Vec<(u64, String)> = refs
            .pulls
            .iter()
            .map(|p| (p.number, p.sha.clone()))
            .collect();
        let entry = batches.entry(key.clone()).or_insert_with(|| {
            let valid = key
                .iter()
                .all(|(n, sha)| heads.get(n).is_some_and(|h| *h == sha));
            (valid, BTreeMap::new())
        });
        if !entry.0 {
            continue;
        }
        let s = better_state(
            entry.1.get(&pj.spec.context).copied(),
            simple_state(job_state(pj)),
        );
        entry.1.insert(pj.spec.context.clone(), s);
    }
    let mut out = BatchState::default();
    for (key, (valid, states)) in batches {
        if !valid {
            continue;
        }
        let prs: Vec<u64> = key.iter().map(|(n, _)| *n).collect();
        let mut overall = SimpleState::Success;
        for ctx in required(&prs) {
            match states.get(&ctx) {
                None | Some(SimpleState::Failure) => {
                    overall = SimpleState::Failure;
                    break;
                }
                Some(SimpleState::Pending) => overall = SimpleState::Pending,
                Some(SimpleState::Success) => {}
            }
        }
        match overall {
            SimpleState::Pending => out.pending = prs,
            SimpleState::Success => out.success = prs,
            SimpleState::Failure => {}
        }
    }
    out
}

/// The first PR (lowest number) among `prs` that passes `passes`, trying each priority label
/// set in order and then all PRs (Prow's `pickHighestPriorityPR`).
pub fn pick_highest_priority<'a>(
    prs: &'a [PullRequest],
    priorities: &[Vec<String>],
    passes: impl Fn(&PullRequest) -> bool,
) -> Option<&'a PullRequest> {
    let everyone: Vec<String> = Vec::new();
    for labels in priorities.iter().chain(std::iter::once(&everyone)) {
        let best = prs
            .iter()
            .filter(|pr| {
                labels
                    .iter()
                    .all(|l| l.split(',').any(|alt| pr.has_label(alt)))
            })
            .filter(|pr| passes(pr))
            .min_by_key(|pr| pr.number);
        if best.is_some() {
            return best;
        }
    }
    None
}

/// Whether a PR may join a batch: every required context present, and each non-optional one
/// successful, or pending with a ProwJob tide started for this head (Prow's
/// `isRetestEligible`).
pub fn is_retest_eligible(pr: &PullRequest, policy: &ContextPolicy, sp: &Subpool) -> bool {
    let names: Vec<&str> = pr.contexts.iter().map(|c| c.name.as_str()).collect();
    if !policy.missing_required_contexts(&names).is_empty() {
        return false;
    }
    pr.contexts.iter().all(|c| {
        if c.name == super::context::STATUS_CONTEXT || policy.is_optional(&c.name) {
            return true;
        }
        match c.state {
            ContextState::Success => true,
            ContextState::Pending => sp.prowjobs.iter().any(|pj| {
                pj.spec.job_type == ProwJobType::Presubmit
                    && pj.spec.context == c.name
                    && pj.metadata.labels.as_ref().is_some_and(|l| {
                        l.get(crate::labels::CREATED_BY_TIDE).map(String::as_str) == Some("true")
                    })
                    && pj
                        .spec
                        .refs
                        .as_ref()
                        .and_then(|r| r.pulls.first())
                        .is_some_and(|p| p.number == pr.number && p.sha == pr.head_sha)
            }),
            _ => false,
        }
    })
}

/// The existing batch (successful first, else pending) among the candidates with the most
/// ProwJobs, within `max_size` (0 unlimited) (Prow's `pickBatchWithPreexistingTests`).
pub fn pick_batch_with_preexisting_tests(
    sp: &Subpool,
    candidates: &[u64],
    max_size: usize,
) -> Vec<u64> {
    let candidates: BTreeSet<(u64, &str)> = sp
        .prs
        .iter()
        .filter(|p| candidates.contains(&p.number))
        .map(|p| (p.number, p.head_sha.as_str()))
        .collect();
    let mut success: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    let mut pending: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    for pj in &sp.prowjobs {
        let state = job_state(pj);
        let Some(refs) = pj.spec.refs.as_ref() else {
            continue;
        };
        if pj.spec.job_type != ProwJobType::Batch
            || (max_size != 0 && refs.pulls.len() > max_size)
            || !matches!(state, ProwJobState::Success | ProwJobState::Pending)
        {
            continue;
        }
        if !refs
            .pulls
            .iter()
            .all(|p| candidates.contains(&(p.number, p.sha.as_str())))
        {
            continue;
        }
        let key: Vec<u64> = refs.pulls.iter().map(|p| p.number).collect();
        let map = if state == ProwJobState::Success {
            &mut success
        } else {
            &mut pending
        };
        *map.entry(key).or_default() += 1;
    }
    let best = |m: BTreeMap<Vec<u64>, usize>| {
        m.into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
            .map(|(k, _)| k)
    };
    best(success).or_else(|| best(pending)).unwrap_or_default()
}

/// What one sync does with a subpool.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Nothing to do now.
    Wait,
    /// Merging is blocked by issues.
    Blocked,
    /// Merge one PR.
    Merge(u64),
    /// Merge a batch that passed.
    MergeBatch(Vec<u64>),
    /// Retest one PR's missing jobs.
    Trigger(u64),
    /// Start batch jobs for these PRs.
    TriggerBatch(Vec<u64>),
}

impl Action {
    /// Prow's name of the action, as shown on the tide dashboard.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Wait => "WAIT",
            Action::Blocked => "BLOCKED",
            Action::Merge(_) => "MERGE",
            Action::MergeBatch(_) => "MERGE_BATCH",
            Action::Trigger(_) => "TRIGGER",
            Action::TriggerBatch(_) => "TRIGGER_BATCH",
        }
    }
}

/// What [`take_action`] knows about a subpool beyond its accumulated states.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ActionInput<'a> {
    /// The subpool.
    pub subpool: &'a Subpool,
    /// Per-PR accumulated states.
    pub accumulated: &'a Accumulated,
    /// Batch states.
    pub batch: &'a BatchState,
    /// Whether blocking issues apply to the branch.
    pub blocked: bool,
    /// Priority label sets, highest first.
    pub priorities: &'a [Vec<String>],
    /// The batch to test next when one is due (from `pick_batch_with_preexisting_tests` or a
    /// new pick; PR numbers).
    pub next_batch: Vec<u64>,
    /// Whether each PR's head contexts pass (Prow's `isPassingTests`), by number.
    pub passing: &'a BTreeSet<u64>,
    /// Whether each PR may be retested (`is_retest_eligible`), by number.
    pub retest_eligible: &'a BTreeSet<u64>,
}

impl<'a> ActionInput<'a> {
    /// Input with no blockers, no priorities and no batch picked.
    pub fn new(
        subpool: &'a Subpool,
        accumulated: &'a Accumulated,
        batch: &'a BatchState,
        passing: &'a BTreeSet<u64>,
        retest_eligible: &'a BTreeSet<u64>,
    ) -> Self {
        ActionInput {
            subpool,
            accumulated,
            batch,
            blocked: false,
            priorities: &[],
            next_batch: Vec::new(),
            passing,
            retest_eligible,
        }
    }
}

/// The action of one sync for a subpool (Prow's `takeAction`, with blockers checked first).
pub fn take_action(input: &ActionInput<'_>) -> Action {
    let sp = input.subpool;
    let acc = input.accumulated;
    if input.blocked {
        return Action::Blocked;
    }
    if !input.batch.success.is_empty() {
        return Action::MergeBatch(input.batch.success.clone());
    }
    let pick = |numbers: &[u64], ok: &BTreeSet<u64>| {
        let prs: Vec<PullRequest> = sp
            .prs
            .iter()
            .filter(|p| numbers.contains(&p.number))
            .cloned()
            .collect();
        pick_highest_priority(&prs, input.priorities, |p| ok.contains(&p.number)).map(|p| p.number)
    };
    if !acc.successes.is_empty()
        && input.batch.pending.is_empty()
        && let Some(n) = pick(&acc.successes, input.passing)
    {
        return Action::Merge(n);
    }
    if sp.presubmits.values().all(Vec::is_empty) {
        return Action::Wait;
    }
    if sp.prs.len() > 1 && input.batch.pending.is_empty() && input.next_batch.len() > 1 {
        return Action::TriggerBatch(input.next_batch.clone());
    }
    if !acc.missings.is_empty()
        && acc.pendings.is_empty()
        && acc.successes.is_empty()
        && let Some(n) = pick(&acc.missings, input.retest_eligible)
    {
        return Action::Trigger(n);
    }
    Action::Wait
}

/// The batch size limit that applies to `org/repo` from a `batch_size_limit` map (`org/repo`,
/// then `org`, then `*`; 0 unlimited, negative disables batches).
pub fn batch_size_limit(limits: &BTreeMap<String, i64>, org: &str, repo: &str) -> i64 {
    limits
        .get(&format!("{org}/{repo}"))
        .or_else(|| limits.get(org))
        .or_else(|| limits.get("*"))
        .copied()
        .unwrap_or(0)
}

/// The first `limit` candidates by number (all when `limit` is 0, none when negative): a new
/// batch when no merge check is available (Prow additionally drops PRs that do not merge cleanly
/// in order; the controller does that with git).
pub fn pick_new_batch(candidates: &[u64], limit: i64) -> Vec<u64> {
    if limit < 0 {
        return Vec::new();
    }
    let mut sorted = candidates.to_vec();
    sorted.sort_unstable();
    if limit > 0 {
        sorted.truncate(limit as usize);
    }
    sorted
}
