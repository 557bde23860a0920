//! The merge-queue strategies in the controller: a `MergeQueue` per pool, fed with the pool's
//! PRs and the results of the ProwJobs it started, acting through GitHub and the job store.
//!
//! Every ProwJob of a queue run carries the run's identity, the PRs it decides about and its
//! place in the pool's order as annotations, so a restarted controller adopts the runs it finds
//! on the current base instead of starting them again (and aborts the ones that no longer fit).
//! An ejected PR gets `tide.merge_queue.eject_label` and a comment naming the failed run; the
//! label keeps it out of the queue until its head changes, across restarts too (the failed run
//! in the store says which head was ejected).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use prow_config::{Config, Presubmit};
use prow_core::tide::strategy::{MergeQueue, QueueAction, RunId, RunOutcome, StrategyOptions};
use prow_core::tide::{MergeAudit, Subpool};
use prow_core::{ProwJob, ProwJobState};

use super::{Controller, Outcome, State, TideError, jobs};

/// Annotation naming the queue run a ProwJob belongs to (the same on every job of the run).
pub const RUN_ANNOTATION: &str = "tide.prow-rs.dev/run";
/// Annotation listing the PRs a queue run decides about, comma-separated in merge order (the
/// ProwJob's pulls are every PR the run applies).
pub const CANDIDATES_ANNOTATION: &str = "tide.prow-rs.dev/candidates";
/// Annotation with a queue run's place in its pool's order (increasing).
pub const ORDER_ANNOTATION: &str = "tide.prow-rs.dev/order";

/// Finished runs kept for the links of an ejection comment.
const KEEP_FINISHED: usize = 64;

/// One run of a pool's queue: the PRs it applies and its ProwJobs.
#[derive(Debug, Clone)]
pub(super) struct RunInfo {
    pub(super) prs: Vec<u64>,
    jobs: Vec<String>,
}

/// A pool's merge queue (strategies other than `tide`).
#[derive(Debug)]
pub(super) struct QueueState {
    options: StrategyOptions,
    queue: MergeQueue,
    /// Runs in flight.
    pub(super) runs: BTreeMap<RunId, RunInfo>,
    /// Runs that ended recently (for ejection comments).
    finished: BTreeMap<RunId, RunInfo>,
    /// The head SHA each queued PR was enqueued with.
    heads: BTreeMap<u64, String>,
    /// Ejected PRs and the head they were ejected with; a new push lets them back in.
    ejected: BTreeMap<u64, String>,
    /// The base SHA the queue's runs test on.
    base_sha: String,
    /// The order annotation of the next run.
    next_order: u64,
    /// An outside check of every merge (see `prow_core::tide::audit`).
    audit: MergeAudit,
}

impl QueueState {
    pub(super) fn new(options: StrategyOptions) -> Self {
        QueueState {
            options,
            queue: MergeQueue::new(options),
            runs: BTreeMap::new(),
            finished: BTreeMap::new(),
            heads: BTreeMap::new(),
            ejected: BTreeMap::new(),
            base_sha: String::new(),
            next_order: 1,
            audit: MergeAudit::new(),
        }
    }

    fn run_ended(&mut self, id: RunId) {
        if let Some(info) = self.runs.remove(&id) {
            self.finished.insert(id, info);
            while self.finished.len() > KEEP_FINISHED {
                self.finished.pop_first();
            }
        }
    }
}

fn annotation<'a>(job: &'a ProwJob, key: &str) -> Option<&'a str> {
    job.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

fn state_of(job: &ProwJob) -> ProwJobState {
    job.status.as_ref().map(|s| s.state).unwrap_or_default()
}

fn finished(state: ProwJobState) -> bool {
    matches!(
        state,
        ProwJobState::Success | ProwJobState::Failure | ProwJobState::Aborted | ProwJobState::Error
    )
}

/// A queue run found in the store.
struct StoredRun {
    order: u64,
    base_sha: String,
    /// `(number, sha)` of every PR applied, in order.
    pulls: Vec<(u64, String)>,
    candidates: Vec<u64>,
    jobs: Vec<ProwJob>,
}

impl StoredRun {
    fn tested(&self) -> Vec<u64> {
        self.pulls.iter().map(|(n, _)| *n).collect()
    }

    fn aborted(&self) -> bool {
        self.jobs
            .iter()
            .any(|j| state_of(j) == ProwJobState::Aborted)
    }

    /// The run's result once every job ended.
    fn outcome(&self) -> Option<RunOutcome> {
        if !self.jobs.iter().all(|j| finished(state_of(j))) {
            return None;
        }
        let mut failed: Vec<String> = self
            .jobs
            .iter()
            .filter(|j| state_of(j) != ProwJobState::Success)
            .map(|j| j.spec.job.clone())
            .collect();
        failed.sort();
        failed.dedup();
        Some(if failed.is_empty() {
            RunOutcome::pass()
        } else {
            RunOutcome::fail(failed)
        })
    }

    fn names(&self) -> Vec<String> {
        self.jobs
            .iter()
            .filter_map(|j| j.metadata.name.clone())
            .collect()
    }
}

/// The queue runs of pool `sp` among `jobs`, oldest first.
fn stored_runs(sp: &Subpool, jobs: &[Arc<ProwJob>]) -> Vec<StoredRun> {
    let mut runs: BTreeMap<String, StoredRun> = BTreeMap::new();
    for job in jobs {
        let (Some(run), Some(refs)) = (annotation(job, RUN_ANNOTATION), job.spec.refs.as_ref())
        else {
            continue;
        };
        if refs.org != sp.org || refs.repo != sp.repo || refs.base_ref != sp.branch {
            continue;
        }
        let entry = runs.entry(run.to_owned()).or_insert_with(|| StoredRun {
            order: annotation(job, ORDER_ANNOTATION)
                .and_then(|o| o.parse().ok())
                .unwrap_or(0),
            base_sha: refs.base_sha.clone(),
            pulls: refs
                .pulls
                .iter()
                .map(|p| (p.number, p.sha.clone()))
                .collect(),
            candidates: annotation(job, CANDIDATES_ANNOTATION)
                .unwrap_or_default()
                .split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect(),
            jobs: Vec::new(),
        });
        entry.jobs.push(ProwJob::clone(job));
    }
    let mut out: Vec<StoredRun> = runs.into_values().collect();
    out.sort_by_key(|r| r.order);
    out
}

impl Controller {
    /// After a restart: hands the queue the runs of this pool that are still worth their
    /// result (on the current base, every PR at the head it was tested with, the newest run of
    /// each PR) and aborts the unfinished rest.
    async fn adopt_runs(
        &self,
        qs: &mut QueueState,
        sp: &Subpool,
        all: &[Arc<ProwJob>],
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let heads: BTreeMap<u64, &str> = sp
            .prs
            .iter()
            .map(|p| (p.number, p.head_sha.as_str()))
            .collect();
        let runs = stored_runs(sp, all);
        qs.next_order = runs.iter().map(|r| r.order + 1).max().unwrap_or(1);
        // The newest run deciding about a PR is the one that counts.
        let mut seen: BTreeSet<u64> = BTreeSet::new();
        let mut newest: BTreeSet<usize> = BTreeSet::new();
        for (i, run) in runs.iter().enumerate().rev() {
            if run.aborted() {
                continue;
            }
            if run.candidates.iter().all(|c| !seen.contains(c)) {
                newest.insert(i);
            }
            seen.extend(run.candidates.iter().copied());
        }
        let mut adopted = 0;
        for (i, run) in runs.iter().enumerate() {
            if run.aborted() {
                continue;
            }
            let outcome = run.outcome();
            let fits = newest.contains(&i)
                && run.base_sha == sp.base_sha
                && run
                    .pulls
                    .iter()
                    .all(|(n, sha)| heads.get(n).is_some_and(|h| *h == sha));
            let id = if fits {
                qs.queue
                    .adopt_run(&run.tested(), &run.candidates, outcome.clone())
            } else {
                None
            };
            let info = RunInfo {
                prs: run.tested(),
                jobs: run.names(),
            };
            match id {
                Some(id) => {
                    adopted += 1;
                    qs.audit.run_started(id, &info.prs);
                    if let Some(o) = &outcome {
                        qs.audit.run_finished(id, o.passed);
                        qs.finished.insert(id, info);
                    } else {
                        qs.runs.insert(id, info);
                    }
                }
                None if outcome.is_none() => {
                    if let Err(e) =
                        jobs::abort_all(self.store.as_ref(), &info.jobs, "tide: restarted").await
                    {
                        errors.push(e.to_string());
                    }
                }
                None => {}
            }
        }
        if adopted > 0 {
            tracing::info!(pool = %sp.key(), adopted, "tide: adopted queue runs after a restart");
            self.bump(|s| s.runs_adopted += adopted);
        }
        errors
    }

    /// Keeps ejected PRs out of the queue until their head changes (or someone removes the
    /// label), and takes the label off when they come back.
    async fn sync_ejections(
        &self,
        qs: &mut QueueState,
        sp: &Subpool,
        label: &str,
        all: &mut Option<Vec<Arc<ProwJob>>>,
    ) -> Result<Vec<String>, TideError> {
        let mut errors = Vec::new();
        // `(number, head)` of PRs a queue run in the store failed alone, read when a labelled
        // PR is not known to be ejected (after a restart, or labelled by hand).
        let mut failed_alone: Option<BTreeSet<(u64, String)>> = None;
        for pr in &sp.prs {
            let labelled = pr.has_label(label);
            let keep_out = match qs.ejected.get(&pr.number) {
                Some(head) => labelled && *head == pr.head_sha,
                None if labelled => {
                    if failed_alone.is_none() {
                        if all.is_none() {
                            *all = Some(self.all_jobs().await?);
                        }
                        let runs = stored_runs(sp, all.as_deref().unwrap_or_default());
                        failed_alone = Some(
                            runs.iter()
                                .filter(|r| r.outcome().is_some_and(|o| !o.passed))
                                .filter_map(|r| match r.candidates[..] {
                                    [n] => r
                                        .pulls
                                        .iter()
                                        .find(|(p, _)| *p == n)
                                        .map(|(_, sha)| (n, sha.clone())),
                                    _ => None,
                                })
                                .collect(),
                        );
                    }
                    let evidence = failed_alone
                        .as_ref()
                        .is_some_and(|f| f.contains(&(pr.number, pr.head_sha.clone())));
                    if evidence {
                        qs.ejected.insert(pr.number, pr.head_sha.clone());
                    }
                    evidence
                }
                None => false,
            };
            if keep_out {
                continue;
            }
            qs.ejected.remove(&pr.number);
            if labelled
                && let Err(e) = self
                    .github
                    .remove_label(&sp.org, &sp.repo, pr.number, label)
                    .await
            {
                errors.push(format!("remove label {label:?} from #{}: {e}", pr.number));
            }
        }
        let in_pool: BTreeSet<u64> = sp.prs.iter().map(|p| p.number).collect();
        qs.ejected.retain(|n, _| in_pool.contains(n));
        Ok(errors)
    }

    /// The merge-queue strategies: a `MergeQueue` per pool, fed with the pool's PRs and the
    /// results of the runs it started; see the module docs.
    pub(super) async fn queue_pool(
        &self,
        st: &mut State,
        cfg: &Config,
        sp: &Subpool,
        options: StrategyOptions,
        jobs: &[&Presubmit],
    ) -> Outcome {
        let key = sp.key();
        let store = self.store.as_ref();
        let label = cfg.prow.tide.merge_queue.eject_label();
        let mut out = Outcome {
            action: "WAIT".to_owned(),
            ..Outcome::default()
        };
        let restored = !st.queues.contains_key(&key);
        let State { queues, facts, .. } = st;
        let qs = queues
            .entry(key.clone())
            .or_insert_with(|| QueueState::new(options));
        let mut to_abort: Vec<RunInfo> = Vec::new();
        if qs.options != options {
            to_abort.extend(qs.runs.values().cloned());
            *qs = QueueState::new(options);
        }
        // The base moved under the queue (not by its own merges): every result is stale.
        if !qs.base_sha.is_empty() && qs.base_sha != sp.base_sha {
            qs.audit.base_moved();
            for run in qs.queue.restart_runs() {
                qs.audit.run_cancelled(run);
                to_abort.extend(qs.runs.remove(&run));
            }
            out.records.push((
                "RETEST_ON_NEW_BASE".to_owned(),
                Vec::new(),
                String::new(),
                sp.base_sha.clone(),
            ));
        }
        qs.base_sha = sp.base_sha.clone();
        let heads: BTreeMap<u64, &str> = sp
            .prs
            .iter()
            .map(|p| (p.number, p.head_sha.as_str()))
            .collect();
        for (n, sha) in qs.heads.clone() {
            if heads.get(&n).copied() != Some(sha.as_str()) {
                for run in qs.queue.remove(n) {
                    qs.audit.run_cancelled(run);
                    to_abort.extend(qs.runs.remove(&run));
                }
                qs.heads.remove(&n);
            }
        }
        let mut all: Option<Vec<Arc<ProwJob>>> = None;
        match self.sync_ejections(qs, sp, label, &mut all).await {
            Ok(errors) => out.errors.extend(errors),
            Err(e) => {
                out.errors.push(e.to_string());
                return out;
            }
        }
        for pr in &sp.prs {
            if qs.ejected.contains_key(&pr.number) {
                // Its `tide` status says it is not in the pool, as the label does.
                if let Some(f) = facts.get_mut(&(sp.org.clone(), sp.repo.clone(), pr.number)) {
                    f.in_pool = false;
                }
            } else if !qs.queue.contains(pr.number) {
                qs.queue.enqueue(pr.number);
                qs.heads.insert(pr.number, pr.head_sha.clone());
            }
        }
        if restored {
            if all.is_none() {
                match self.all_jobs().await {
                    Ok(jobs) => all = Some(jobs),
                    Err(e) => out.errors.push(e.to_string()),
                }
            }
            if let Some(all) = &all {
                let errors = self.adopt_runs(qs, sp, all).await;
                out.errors.extend(errors);
            }
        }
        for info in to_abort {
            if let Err(e) = jobs::abort_all(store, &info.jobs, "tide: no longer needed").await {
                out.errors.push(e.to_string());
            }
        }
        for (id, info) in qs.runs.clone() {
            match jobs::run_outcome(store, &info.jobs).await {
                Ok(Some(outcome)) => {
                    if info.prs.len() > 1 {
                        let passed = outcome.passed;
                        self.bump(|s| {
                            if passed {
                                s.batches_passed += 1
                            } else {
                                s.batches_failed += 1
                            }
                        });
                        let outcome = if passed { "success" } else { "failure" };
                        self.figure(&sp.org, &sp.repo, &sp.branch, |p| {
                            *p.batches.entry(outcome.to_owned()).or_default() += 1;
                        });
                    }
                    qs.audit.run_finished(id, outcome.passed);
                    qs.queue.run_finished(id, outcome);
                    qs.run_ended(id);
                }
                Ok(None) => {}
                Err(e) => out.errors.push(e.to_string()),
            }
        }
        let before = qs.queue.stats();
        let actions = qs.queue.step();
        let after = qs.queue.stats();
        self.bump(|s| {
            s.flakes_retried += after.flakes - before.flakes;
            s.stale_results += after.stale_results - before.stale_results;
        });
        let mut base_sha = sp.base_sha.clone();
        // Set once a merge stopped halfway (or the new base could not be read): the rest of
        // this step assumed it landed, so it is dropped and the queue restarts its runs.
        let mut interrupted = false;
        let mut unmerged: Vec<u64> = Vec::new();
        for action in actions {
            match action {
                QueueAction::CancelRun { run } => {
                    qs.audit.run_cancelled(run);
                    if let Some(info) = qs.runs.remove(&run)
                        && let Err(e) = jobs::abort_all(store, &info.jobs, "tide: superseded").await
                    {
                        out.errors.push(e.to_string());
                    }
                }
                QueueAction::Merge { prs } if interrupted => unmerged.extend(prs),
                QueueAction::Merge { prs } => {
                    let name = if prs.len() > 1 {
                        "MERGE_BATCH"
                    } else {
                        "MERGE"
                    };
                    let merged_on = base_sha.clone();
                    let (merged, errors) = self.merge_prs(cfg, sp, &prs).await;
                    for n in &merged {
                        qs.heads.remove(n);
                    }
                    if merged.len() == prs.len() {
                        if !qs.audit.merged(&prs) {
                            tracing::error!(pool = %key, ?prs, "tide: merged a set no run tested on its landing base");
                            self.bump(|s| s.untested_merges += 1);
                        }
                    } else {
                        qs.audit.merged_in_part(&merged);
                        unmerged.extend(prs[merged.len()..].iter().copied());
                        interrupted = true;
                    }
                    if !merged.is_empty() {
                        match self
                            .github
                            .ref_sha(&sp.org, &sp.repo, &format!("heads/{}", sp.branch))
                            .await
                        {
                            Ok(sha) => base_sha = sha,
                            Err(e) => {
                                out.errors.push(format!("read base after merge: {e}"));
                                interrupted = true;
                            }
                        }
                        qs.base_sha = base_sha.clone();
                    }
                    out.action = name.to_owned();
                    out.target = prs.clone();
                    out.records
                        .push((name.to_owned(), prs, errors.join("; "), merged_on));
                    out.errors.extend(errors);
                }
                QueueAction::Eject {
                    pr, comment, run, ..
                } => {
                    let error = self.eject(qs, sp, pr, &comment, run, label).await;
                    out.action = "EJECT".to_owned();
                    out.target = vec![pr];
                    out.records.push((
                        "EJECT".to_owned(),
                        vec![pr],
                        error.clone(),
                        base_sha.clone(),
                    ));
                    out.errors.extend((!error.is_empty()).then_some(error));
                }
                QueueAction::StartRun { .. } if interrupted => {}
                QueueAction::StartRun {
                    run,
                    tested,
                    candidates,
                } => {
                    let error = self
                        .start_queue_run(qs, sp, &base_sha, run, &tested, &candidates, jobs)
                        .await;
                    let name = if tested.len() > 1 {
                        "TRIGGER_BATCH"
                    } else {
                        "TRIGGER"
                    };
                    if out.action == "WAIT" {
                        out.action = name.to_owned();
                        out.target = tested.clone();
                    }
                    out.records
                        .push((name.to_owned(), tested, error.clone(), base_sha.clone()));
                    out.errors.extend((!error.is_empty()).then_some(error));
                }
                _ => {}
            }
        }
        if interrupted {
            // The base is now one nobody tested: read it afresh next sync and retest.
            for run in qs.queue.merge_failed(&unmerged) {
                qs.audit.run_cancelled(run);
                if let Some(info) = qs.runs.remove(&run)
                    && let Err(e) = jobs::abort_all(store, &info.jobs, "tide: base moved").await
                {
                    out.errors.push(e.to_string());
                }
            }
            qs.base_sha = String::new();
        }
        out.batch_pending = qs
            .runs
            .values()
            .filter(|r| r.prs.len() > 1)
            .flat_map(|r| r.prs.iter().copied())
            .collect();
        out
    }

    /// Creates the ProwJobs of queue run `run` on `base_sha`, annotated so that a restarted
    /// controller can adopt them; a run that needs no job passes at once. Returns the error.
    #[allow(clippy::too_many_arguments)]
    async fn start_queue_run(
        &self,
        qs: &mut QueueState,
        sp: &Subpool,
        base_sha: &str,
        run: RunId,
        tested: &[u64],
        candidates: &[u64],
        jobs: &[&Presubmit],
    ) -> String {
        let mut contexts: Vec<String> = tested
            .iter()
            .filter_map(|n| sp.presubmits.get(n))
            .flatten()
            .cloned()
            .collect();
        contexts.sort();
        contexts.dedup();
        let order = qs.next_order;
        qs.next_order += 1;
        let candidates_text = candidates
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let annotate = |built: &mut Vec<ProwJob>| {
            let run_key = built
                .first()
                .and_then(|j| j.metadata.name.clone())
                .unwrap_or_default();
            for job in built.iter_mut() {
                let a = job
                    .metadata
                    .annotations
                    .get_or_insert_with(Default::default);
                a.insert(RUN_ANNOTATION.to_owned(), run_key.clone());
                a.insert(CANDIDATES_ANNOTATION.to_owned(), candidates_text.clone());
                a.insert(ORDER_ANNOTATION.to_owned(), order.to_string());
            }
        };
        let result = self
            .start_run_annotated(sp, base_sha, tested, &contexts, jobs, annotate)
            .await;
        match result {
            Ok(names) if names.is_empty() => {
                // Nothing to run: the PRs need no job, so the run passed.
                qs.audit.run_started(run, tested);
                qs.audit.run_finished(run, true);
                qs.queue.run_finished(run, RunOutcome::pass());
                String::new()
            }
            Ok(names) => {
                if tested.len() > 1 {
                    self.bump(|s| s.batches_started += 1);
                }
                qs.audit.run_started(run, tested);
                qs.runs.insert(
                    run,
                    RunInfo {
                        prs: tested.to_vec(),
                        jobs: names,
                    },
                );
                String::new()
            }
            Err(e) => {
                qs.queue
                    .run_finished(run, RunOutcome::fail([e.to_string()]));
                e.to_string()
            }
        }
    }

    /// Labels and comments on an ejected PR, naming the run that failed and its jobs' links.
    /// Returns what went wrong.
    async fn eject(
        &self,
        qs: &mut QueueState,
        sp: &Subpool,
        pr: u64,
        comment: &str,
        run: RunId,
        label: &str,
    ) -> String {
        if let Some(head) = sp.prs.iter().find(|p| p.number == pr).map(|p| &p.head_sha) {
            qs.ejected.insert(pr, head.clone());
        }
        qs.heads.remove(&pr);
        self.bump(|s| s.ejections += 1);
        let mut body = comment.to_owned();
        if let Some(info) = qs.finished.get(&run).or_else(|| qs.runs.get(&run)) {
            let ahead: Vec<String> = info
                .prs
                .iter()
                .filter(|n| **n != pr)
                .map(|n| format!("#{n}"))
                .collect();
            body.push_str("\n\nThe run that failed tested it");
            if !ahead.is_empty() {
                body.push_str(&format!(" on top of {}", ahead.join(", ")));
            }
            body.push_str(" on the base branch:\n");
            for name in &info.jobs {
                match self.store.get(name).await {
                    Ok(Some(job)) => {
                        let state = state_of(&job);
                        let url = job.status.as_ref().map(|s| s.url.as_str()).unwrap_or("");
                        let link = if url.is_empty() {
                            format!("ProwJob `{name}`")
                        } else {
                            url.to_owned()
                        };
                        body.push_str(&format!(
                            "- `{}` {}: {link}\n",
                            job.spec.job,
                            serde_json::to_value(state)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default()
                        ));
                    }
                    _ => body.push_str(&format!("- ProwJob `{name}`\n")),
                }
            }
        }
        body.push_str(&format!(
            "\nIt carries the `{label}` label until its head changes: push a fix (or remove the \
             label to try again as it is)."
        ));
        let mut errors = Vec::new();
        if let Err(e) = self
            .github
            .add_labels(&sp.org, &sp.repo, pr, &[label.to_owned()])
            .await
        {
            errors.push(format!("label #{pr}: {e}"));
        }
        if let Err(e) = self
            .github
            .create_comment(&sp.org, &sp.repo, pr, &body)
            .await
        {
            errors.push(format!("comment on #{pr}: {e}"));
        }
        errors.join("; ")
    }
}
