//! The tide controller: Prow's merge automation over GitHub and the job store.
//!
//! [`Controller::sync_once`] runs every `tide.queries` query, reads each PR's head, mergeability
//! and contexts (reusing unchanged PRs' data, see [Caching](#caching)), divides them into
//! pools per org/repo/branch, reads the ProwJobs that ran on each pool's base, decides with the
//! pure engine in `prow_core::tide` and acts: merges guarded by the tested head SHA, batch and
//! retest ProwJobs created in the store for plank, ejections with a label and a comment naming
//! the failed run. The strategy comes from `tide.merge_queue.strategy`: `tide` (Prow's, the
//! default) is stateless like Prow; `serial`, `bisect` and `speculative` keep a `MergeQueue` per
//! pool (see `queue.rs`): its runs are annotated ProwJobs, so a restarted controller adopts the
//! ones still valid on the current base, and it merges a set only after a run tested exactly
//! that set on the base it lands on (an audit counts any exception in
//! [`TideStats::untested_merges`]).
//!
//! [`Controller::status_once`] sets the `tide` context on every open PR of the queried
//! repositories, writing only when the state or description changes. [`Controller::run`]
//! drives both on `tide.sync_period` and `tide.status_update_period`; [`router`] serves the
//! pools and history as deck reads them, and [`Controller::stats`] the counters for metrics.
//!
//! Where `in_repo_config.enabled` applies and the controller has an in-repo cache
//! ([`Controller::with_inrepo`]), each PR's required contexts come from the central presubmits
//! plus its `.prow.yaml` at the pool's base merged with its head; batches and the merge queue
//! use the central jobs plus every pooled PR's in-repo jobs (upstream merges all the batch's
//! heads for that).
//!
//! With `from-branch-protection`, a branch's required contexts include those of its configured
//! `branch-protection:` policy, jobs included, as Prow's `GetTideContextPolicy` reads them
//! (from the configuration, not from GitHub).
//!
//! Differences from Prow: a policy's `require_manually_triggered_jobs` makes their contexts
//! required but does not make batches run them; presubmits with `run_if_changed` count as required
//! when they reported on the PR's head; a new batch is not trial-merged with git first (a PR
//! that does not merge cleanly fails the batch instead); merging a batch stops at the first PR
//! GitHub refuses (Prow merges the rest, which were tested on top of the refused one).
//!
//! # Caching
//!
//! A PR's details are refetched only when its search `updated_at` or its base branch moved;
//! its contexts only while some are pending (or the head changed); every
//! [`FULL_REFRESH_EVERY`]th sync refetches everything.

mod fetch;
mod jobs;
mod queue;
pub mod view;

use crate::metrics::PoolFigures;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prow_config::{Config, Presubmit};
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::tide::context::{not_allowed_to_merge_reason, pr_merge_method};
use prow_core::tide::pool::{
    ActionInput, SimpleState, accumulate, accumulate_batch, divide_pool, is_retest_eligible,
    pick_batch_with_preexisting_tests, pick_new_batch, simple_state, take_action,
};
use prow_core::tide::status::{StatusInput, expected_status, truncate_description};
use prow_core::tide::strategy::StrategyKind;
use prow_core::tide::{
    AllowedMergeMethods, Blocker, Context, ContextPolicy, ContextState, MergeTemplate, PullRequest,
    STATUS_CONTEXT, StatusState, Subpool,
};
use prow_core::{ProwJob, ProwJobType, Pull};
use prow_github::types::{MergeRequest, Status};
use prow_github::{Error as GitHubError, GitHubClient};
use prow_jobs::clock::Clock;
use prow_jobs::config::ConfigHandle;
use prow_jobs::store::{JobStore, ListParams};
use serde::Serialize;

pub use fetch::FULL_REFRESH_EVERY;
use fetch::{PrCache, PrKey, org_repo_of};
use queue::QueueState;
pub use queue::{CANDIDATES_ANNOTATION, ORDER_ANNOTATION, RUN_ANNOTATION};
pub use view::{
    BlockerView, HISTORY_PER_POOL, History, PoolView, PrView, Record, TideHistory, TidePools,
    router,
};

/// Why a sync or status pass failed as a whole (problems with one pool or PR are recorded in
/// the pool's `Error` and the history instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TideError {
    /// A GitHub request failed.
    #[error("tide: {what}: {source}")]
    GitHub {
        /// What tide was doing.
        what: String,
        /// GitHub's error.
        #[source]
        source: GitHubError,
    },
    /// The job store failed.
    #[error("tide: {what}: {reason}")]
    Store {
        /// What tide was doing.
        what: String,
        /// The store's error.
        reason: String,
    },
    /// A ProwJob could not be built from its presubmit.
    #[error("tide: build ProwJob for presubmit {job}: {reason}")]
    Job {
        /// The presubmit.
        job: String,
        /// Why.
        reason: String,
    },
    /// The configuration is unusable for a pool.
    #[error("tide: configuration of {what}: {reason}")]
    Config {
        /// The pool or setting.
        what: String,
        /// Why.
        reason: String,
    },
}

fn gh(what: impl Into<String>) -> impl FnOnce(GitHubError) -> TideError {
    let what = what.into();
    move |source| TideError::GitHub { what, source }
}

/// The sizes of one pool after the last sync.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PoolSize {
    /// PRs in the pool.
    pub prs: usize,
    /// PRs whose jobs passed.
    pub success: usize,
    /// PRs with jobs running.
    pub pending: usize,
    /// PRs with jobs missing or failed.
    pub missing: usize,
}

/// Counters and gauges of the controller, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TideStats {
    /// Pool sizes by pool key (`org/repo:branch`), as of the last sync.
    pub pools: BTreeMap<String, PoolSize>,
    /// Syncs run.
    pub syncs: u64,
    /// PRs merged.
    pub merges_total: u64,
    /// Merges refused because the PR's head moved since it was tested.
    pub merges_head_changed: u64,
    /// Batches started (runs testing more than one PR).
    pub batches_started: u64,
    /// Batches whose jobs all passed.
    pub batches_passed: u64,
    /// Batches with a failed job.
    pub batches_failed: u64,
    /// PRs ejected from a merge queue.
    pub ejections: u64,
    /// Failures that passed when retried (flakes), so nobody was blamed.
    pub flakes_retried: u64,
    /// Passing queue runs not used because the base moved since they started (their PRs were
    /// tested again on the new base).
    pub stale_results: u64,
    /// Merges no passing run tested exactly on their landing base (the queue's own check;
    /// anything but 0 is a bug).
    pub untested_merges: u64,
    /// Queue runs found in the store after a restart and carried on.
    pub runs_adopted: u64,
    /// `tide` statuses written.
    pub statuses_written: u64,
}

/// What the status pass needs to know about a PR from the last sync.
#[derive(Debug, Clone)]
struct StatusFacts {
    in_pool: bool,
    passing: Vec<String>,
    /// The PR's own context policy when in-repo jobs made it differ from its branch's.
    policy: Option<ContextPolicy>,
}

#[derive(Default)]
struct State {
    cache: PrCache,
    queues: BTreeMap<String, QueueState>,
    facts: BTreeMap<PrKey, StatusFacts>,
    /// The `tide` status last written per `(org, repo, sha)`.
    written: BTreeMap<(String, String, String), (StatusState, String)>,
    /// Failed batches already counted, by pool, base and pulls.
    failed_batches: BTreeSet<String>,
    /// Open issues carrying `tide.blocker_label`, as of the last sync.
    blockers: Vec<Blocker>,
    syncs: u64,
}

/// What the HTTP views and metrics read.
struct Published {
    pools: Vec<PoolView>,
    history: History,
    stats: TideStats,
}

/// The tide controller; see the module docs.
pub struct Controller {
    github: Arc<dyn GitHubClient>,
    store: Arc<dyn JobStore>,
    config: ConfigHandle,
    clock: Arc<dyn Clock>,
    state: tokio::sync::Mutex<State>,
    published: Mutex<Published>,
    inrepo: Option<Arc<prow_jobs::inrepo::InRepoConfigCache>>,
    reuse: bool,
    figures: Option<crate::metrics::TideFiguresCell>,
}

impl std::fmt::Debug for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controller").finish_non_exhaustive()
    }
}

fn presubmits_of<'a>(cfg: &'a Config, org: &str, repo: &str) -> &'a [Presubmit] {
    cfg.jobs
        .presubmits
        .get(&format!("{org}/{repo}"))
        .map_or(&[], Vec::as_slice)
}

/// The context policy of a branch: `tide.context_options` plus the presubmits' contexts.
fn context_policy(
    cfg: &Config,
    org: &str,
    repo: &str,
    branch: &str,
) -> Result<ContextPolicy, TideError> {
    context_policy_of(cfg, presubmits_of(cfg, org, repo), (org, repo), branch)
}

/// The context policy of a branch for the presubmits `jobs` (Prow's `GetTideContextPolicy`):
/// `tide.context_options`, with `from-branch-protection` the required contexts of the
/// branch's configured protection policy (as branchprotector would apply it, jobs included),
/// and the jobs' contexts, classified with the policy's `require_manually_triggered_jobs`.
fn context_policy_of(
    cfg: &Config,
    jobs: &[Presubmit],
    (org, repo): (&str, &str),
    branch: &str,
) -> Result<ContextPolicy, TideError> {
    // checkconfig's `tide-context-policy` warning computes the very same policy; an invalid
    // one is refused below with the engine's reason.
    let merged = prow_config::warnings::tide_context_policy(&cfg.prow, org, repo, branch, jobs)
        .unwrap_or_else(|invalid| *invalid.policy);
    prow_config::prow::engine_context_policy(&merged).map_err(|reason| TideError::Config {
        what: format!("tide.context_options for {org}/{repo}:{branch}"),
        reason,
    })
}

fn github_method(m: prow_core::MergeMethod) -> prow_github::types::MergeMethod {
    match m {
        prow_core::MergeMethod::Merge => prow_github::types::MergeMethod::Merge,
        prow_core::MergeMethod::Squash => prow_github::types::MergeMethod::Squash,
        prow_core::MergeMethod::Rebase => prow_github::types::MergeMethod::Rebase,
    }
}

fn pull_of(pr: &PullRequest) -> Pull {
    Pull {
        number: pr.number,
        author: pr.author.clone(),
        sha: pr.head_sha.clone(),
        title: pr.title.clone(),
        ..Pull::default()
    }
}

/// The contexts of `pr` that passed for the pool's base and the PR's head: its presubmit
/// ProwJobs, and successful head contexts no tide job produces.
fn passing_up_to_date(sp: &Subpool, pr: &PullRequest, job_contexts: &[String]) -> Vec<String> {
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
        let state = simple_state(pj.status.as_ref().map(|s| s.state).unwrap_or_default());
        let best = prow_core::tide::pool::better_state(
            states.get(pj.spec.context.as_str()).copied(),
            state,
        );
        states.insert(pj.spec.context.as_str(), best);
    }
    let mut out: Vec<String> = states
        .into_iter()
        .filter(|(_, s)| *s == SimpleState::Success)
        .map(|(c, _)| c.to_owned())
        .collect();
    out.extend(
        pr.contexts
            .iter()
            .filter(|c| c.state == ContextState::Success && !job_contexts.contains(&c.name))
            .map(|c| c.name.clone()),
    );
    out.sort();
    out.dedup();
    out
}

/// What acting on a pool produced, for its view and history.
#[derive(Default)]
struct Outcome {
    action: String,
    target: Vec<u64>,
    errors: Vec<String>,
    /// Action, target PRs, error and the base SHA acted on, per history record.
    records: Vec<(String, Vec<u64>, String, String)>,
    batch_pending: Vec<u64>,
}

impl Controller {
    /// A controller over `github` and `store`, reading configuration from `config` and the
    /// time from `clock`.
    pub fn new(
        github: Arc<dyn GitHubClient>,
        store: Arc<dyn JobStore>,
        config: ConfigHandle,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Controller {
            github,
            store,
            config,
            clock,
            state: tokio::sync::Mutex::new(State::default()),
            published: Mutex::new(Published {
                pools: Vec::new(),
                history: History::new(HISTORY_PER_POOL),
                stats: TideStats::default(),
            }),
            inrepo: None,
            reuse: true,
            figures: None,
        }
    }

    /// Reads the in-repo jobs (`.prow.yaml`, `.prow/`) of repositories where
    /// `in_repo_config.enabled` applies through `cache`: each PR then needs the contexts of
    /// the jobs at its base merged with its head.
    pub fn with_inrepo(mut self, cache: Arc<prow_jobs::inrepo::InRepoConfigCache>) -> Self {
        self.inrepo = Some(cache);
        self
    }

    /// The presubmits of `org/repo` for a PR with head `head_sha` on base `base_sha`: the
    /// central ones, plus the in-repo ones where enabled. `Ok(None)` when they are the central
    /// ones only.
    async fn in_repo_presubmits(
        &self,
        cfg: &Config,
        (org, repo): (&str, &str),
        base_sha: &str,
        head_sha: &str,
    ) -> Result<Option<Vec<Presubmit>>, String> {
        let Some(cache) = self
            .inrepo
            .as_ref()
            .filter(|_| cfg.prow.in_repo_config.enabled_for(org, repo))
        else {
            return Ok(None);
        };
        cache
            .presubmits(
                cfg,
                self.github.as_ref(),
                (org, repo),
                base_sha,
                &[head_sha],
            )
            .await
            .map(Some)
            .map_err(|e| e.to_string())
    }

    /// The configuration handle the controller reads.
    pub fn config(&self) -> ConfigHandle {
        self.config.clone()
    }

    /// Keeps `figures` (what `/metrics` exports of tide) up to date: pool sizes, merges,
    /// batch outcomes, errors and syncs, per pool.
    pub fn with_figures(mut self, figures: crate::metrics::TideFiguresCell) -> Self {
        self.figures = Some(figures);
        self
    }

    /// Changes the metrics figures of pool `org/repo:branch`, when metrics read them.
    fn figure(&self, org: &str, repo: &str, branch: &str, f: impl FnOnce(&mut PoolFigures)) {
        if let Some(figures) = &self.figures {
            figures.update(|all| f(all.pool(org, repo, branch)));
        }
    }

    /// Turns the reuse of unchanged PRs' details and contexts off (every sync then refetches
    /// every PR, as Prow does) or back on (the default).
    pub fn with_pr_reuse(mut self, reuse: bool) -> Self {
        self.reuse = reuse;
        self
    }

    fn published(&self) -> std::sync::MutexGuard<'_, Published> {
        self.published.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counters and pool sizes so far.
    pub fn stats(&self) -> TideStats {
        self.published().stats.clone()
    }

    /// The body of `/tide.js`: the queries and the pools of the last sync.
    pub fn pools(&self) -> TidePools {
        let cfg = self.config.current().config.clone();
        TidePools {
            queries: cfg
                .prow
                .tide
                .queries
                .iter()
                .map(|q| q.query_string())
                .collect(),
            tide_queries: cfg.prow.tide.queries.clone(),
            pools: self.published().pools.clone(),
        }
    }

    /// The body of `/tide-history.js`.
    pub fn history(&self) -> TideHistory {
        TideHistory {
            history: self.published().history.all(),
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn bump(&self, f: impl FnOnce(&mut TideStats)) {
        f(&mut self.published().stats);
    }

    /// One sync: query, read, decide and act on every pool; see the module docs.
    pub async fn sync_once(&self) -> Result<(), TideError> {
        let mut st = self.state.lock().await;
        let cfg = self.config.current().config.clone();
        st.syncs += 1;
        let full = !self.reuse || st.syncs % FULL_REFRESH_EVERY == 0;
        let github = self.github.as_ref();

        let mut issues: BTreeMap<PrKey, prow_github::types::Issue> = BTreeMap::new();
        let mut approved: BTreeSet<PrKey> = BTreeSet::new();
        for q in &cfg.prow.tide.queries {
            let query = q.query_string();
            let found = github
                .search_issues(&query)
                .await
                .map_err(gh(format!("search {query:?}")))?;
            for issue in found.into_iter().filter(|i| i.is_pull_request()) {
                let Some((org, repo)) = org_repo_of(&issue) else {
                    continue;
                };
                let key = (org, repo, issue.number);
                if q.review_approved_required {
                    approved.insert(key.clone());
                }
                issues.insert(key, issue);
            }
        }
        st.cache.retain(|k| issues.contains_key(k));
        st.blockers = self.find_blockers(&cfg).await?;

        let mut branch_of: BTreeMap<PrKey, String> = BTreeMap::new();
        for (key, issue) in &issues {
            match st.cache.details(github, key, issue, full).await {
                Ok(branch) => {
                    branch_of.insert(key.clone(), branch);
                }
                Err(e) => tracing::warn!(pr = ?key, error = %e, "tide: read pull request"),
            }
        }
        let mut base_shas: BTreeMap<String, String> = BTreeMap::new();
        let mut pool_errors: BTreeMap<String, String> = BTreeMap::new();
        for ((org, repo, _), branch) in &branch_of {
            let pool = format!("{org}/{repo}:{branch}");
            if base_shas.contains_key(&pool) || pool_errors.contains_key(&pool) {
                continue;
            }
            match github.ref_sha(org, repo, &format!("heads/{branch}")).await {
                Ok(sha) => {
                    base_shas.insert(pool, sha);
                }
                Err(e) => {
                    pool_errors.insert(pool, format!("read base branch: {e}"));
                }
            }
        }
        let mut prs = Vec::new();
        for (key, branch) in &branch_of {
            let pool = format!("{}/{}:{branch}", key.0, key.1);
            let (Some(base), Some(issue)) = (base_shas.get(&pool), issues.get(key)) else {
                continue;
            };
            match st.cache.complete(github, key, issue, base, full).await {
                Ok(mut pr) => {
                    pr.review_approved = approved.contains(key);
                    prs.push(pr);
                }
                Err(e) => tracing::warn!(pr = ?key, error = %e, "tide: read pull request"),
            }
        }
        let prowjobs = self.all_jobs().await?;

        st.facts.clear();
        let mut views = Vec::new();
        let mut sizes = BTreeMap::new();
        for sp in divide_pool(prs, &prowjobs, &base_shas) {
            let key = sp.key();
            let (view, size) = self.sync_pool(&mut st, &cfg, sp).await;
            sizes.insert(key, size);
            views.push(view);
        }
        if let Some(figures) = &self.figures {
            figures.update(|all| {
                all.syncs += 1;
                for p in all.pools.values_mut() {
                    p.prs = 0;
                }
                for view in &views {
                    let pool = all.pool(&view.org, &view.repo, &view.branch);
                    pool.prs = sizes
                        .get(&format!("{}/{}:{}", view.org, view.repo, view.branch))
                        .map_or(0, |s: &PoolSize| s.prs as u64);
                    if !view.error.is_empty() {
                        pool.errors += 1;
                    }
                }
            });
        }
        for (pool, error) in pool_errors {
            let (org_repo, branch) = pool.split_once(':').unwrap_or((pool.as_str(), ""));
            let (org, repo) = org_repo.split_once('/').unwrap_or((org_repo, ""));
            self.figure(org, repo, branch, |p| p.errors += 1);
            views.push(PoolView {
                org: org.to_owned(),
                repo: repo.to_owned(),
                branch: branch.to_owned(),
                action: "WAIT".to_owned(),
                error,
                ..PoolView::default()
            });
        }
        views.sort_by(|a, b| (&a.org, &a.repo, &a.branch).cmp(&(&b.org, &b.repo, &b.branch)));
        let mut published = self.published();
        published.pools = views;
        published.stats.pools = sizes;
        published.stats.syncs += 1;
        Ok(())
    }

    /// Every ProwJob in the store.
    async fn all_jobs(&self) -> Result<Vec<Arc<ProwJob>>, TideError> {
        self.store
            .list_shared(&ListParams::default())
            .await
            .map_err(|e| TideError::Store {
                what: "list ProwJobs".to_owned(),
                reason: e.to_string(),
            })
    }

    /// The open issues labelled `tide.blocker_label` in the queried orgs and repositories
    /// (none when no label is configured), like Prow's `blockers.FindAll`.
    async fn find_blockers(&self, cfg: &Config) -> Result<Vec<Blocker>, TideError> {
        let label = &cfg.prow.tide.blocker_label;
        if label.is_empty() {
            return Ok(Vec::new());
        }
        let mut scopes: BTreeSet<String> = BTreeSet::new();
        for q in &cfg.prow.tide.queries {
            scopes.extend(q.orgs.iter().map(|o| format!("org:\"{o}\"")));
            scopes.extend(q.repos.iter().map(|r| format!("repo:\"{r}\"")));
        }
        if scopes.is_empty() {
            return Ok(Vec::new());
        }
        let query = format!(
            "-is:pr state:open label:\"{label}\" {}",
            scopes.into_iter().collect::<Vec<_>>().join(" ")
        );
        let found = self
            .github
            .search_issues(&query)
            .await
            .map_err(gh(format!("search blockers {query:?}")))?;
        Ok(found
            .into_iter()
            .filter(|i| !i.is_pull_request())
            .filter_map(|i| {
                let (org, repo) = org_repo_of(&i)?;
                let mut b = Blocker::new(&org, &repo, i.number, &i.title);
                b.url = i.html_url.clone();
                Some(b)
            })
            .collect())
    }

    /// Decides and acts on one pool; returns its view and sizes.
    async fn sync_pool(
        &self,
        st: &mut State,
        cfg: &Config,
        mut sp: Subpool,
    ) -> (PoolView, PoolSize) {
        let (org, repo, branch) = (sp.org.clone(), sp.repo.clone(), sp.branch.clone());
        let key = sp.key();
        let tide = &cfg.prow.tide;
        let mut view = PoolView {
            org: org.clone(),
            repo: repo.clone(),
            branch: branch.clone(),
            action: "WAIT".to_owned(),
            ..PoolView::default()
        };
        let policy = match context_policy(cfg, &org, &repo, &branch) {
            Ok(p) => p,
            Err(e) => {
                view.error = e.to_string();
                return (view, PoolSize::default());
            }
        };
        let central_jobs = presubmits_of(cfg, &org, &repo);
        let method = tide.merge_method(&org, &repo, &branch);
        let labels = tide.merge_labels();
        let blocks = tide.merge_blocks_policy_for(&org, &repo);

        // Each PR's presubmits: the central ones, and its in-repo ones where enabled. The
        // pool's jobs (batches, the queue) are all of them, each name once.
        let mut pool_jobs: Vec<Presubmit> = Vec::new();
        let mut pr_jobs: BTreeMap<u64, Result<Option<Vec<Presubmit>>, String>> = BTreeMap::new();
        for pr in &sp.prs {
            let found = self
                .in_repo_presubmits(cfg, (&org, &repo), &sp.base_sha, &pr.head_sha)
                .await;
            if let Ok(Some(found)) = &found {
                for job in found {
                    if !central_jobs.iter().any(|j| j.name == job.name)
                        && !pool_jobs.iter().any(|j| j.name == job.name)
                    {
                        pool_jobs.push(job.clone());
                    }
                }
            }
            pr_jobs.insert(pr.number, found);
        }
        let repo_jobs: Vec<Presubmit> = if pool_jobs.is_empty() {
            Vec::new()
        } else {
            central_jobs.iter().cloned().chain(pool_jobs).collect()
        };
        let repo_jobs: &[Presubmit] = if repo_jobs.is_empty() {
            central_jobs
        } else {
            &repo_jobs
        };
        let jobs = jobs::branch_presubmits(repo_jobs, &branch);
        let all_job_contexts: Vec<String> = jobs.iter().map(|j| j.context.clone()).collect();

        let mut in_pool = Vec::new();
        let mut policies: BTreeMap<u64, ContextPolicy> = BTreeMap::new();
        for pr in std::mem::take(&mut sp.prs) {
            let own_jobs = match pr_jobs.remove(&pr.number) {
                Some(Err(e)) => {
                    // As upstream: a PR whose in-repo config cannot be read does not merge.
                    tracing::warn!(org = %org, repo = %repo, pr = pr.number, error = %e, "cannot read the presubmits of the PR; it stays out of the pool");
                    st.facts.insert(
                        (org.clone(), repo.clone(), pr.number),
                        StatusFacts {
                            in_pool: false,
                            passing: Vec::new(),
                            policy: None,
                        },
                    );
                    continue;
                }
                Some(Ok(own)) => own,
                None => None,
            };
            let own_policy = match &own_jobs {
                Some(own) => match context_policy_of(cfg, own, (&org, &repo), &branch) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::warn!(org = %org, repo = %repo, pr = pr.number, error = %e, "tide");
                        continue;
                    }
                },
                None => None,
            };
            let pr_policy = own_policy.as_ref().unwrap_or(&policy);
            let required = match &own_jobs {
                Some(own) => {
                    jobs::required_contexts(&jobs::branch_presubmits(own, &branch), &pr.contexts)
                }
                None => jobs::required_contexts(&jobs, &pr.contexts),
            };
            let reason = not_allowed_to_merge_reason(
                &pr,
                pr_merge_method(method, &pr.labels, &labels),
                AllowedMergeMethods::default(),
                blocks,
            );
            // Contexts tide cannot fix by retesting keep the PR out of the pool.
            let blocked_by_contexts = pr_policy
                .unsuccessful_contexts(&pr.contexts)
                .iter()
                .any(|c| !required.contains(&c.name));
            let ok = reason.is_none() && !blocked_by_contexts;
            st.facts.insert(
                (org.clone(), repo.clone(), pr.number),
                StatusFacts {
                    in_pool: ok,
                    passing: Vec::new(),
                    policy: own_policy.clone(),
                },
            );
            if let Some(own) = own_policy {
                policies.insert(pr.number, own);
            }
            if ok {
                sp.presubmits.insert(pr.number, required);
                in_pool.push(pr);
            }
        }
        sp.prs = in_pool;
        for pr in &sp.prs {
            let passing = passing_up_to_date(&sp, pr, &all_job_contexts);
            if let Some(f) = st.facts.get_mut(&(org.clone(), repo.clone(), pr.number)) {
                f.passing = passing;
            }
        }
        let acc = accumulate(&sp);
        let size = PoolSize {
            prs: sp.prs.len(),
            success: acc.successes.len(),
            pending: acc.pendings.len(),
            missing: acc.missings.len(),
        };
        let by_number = |ns: &[u64]| -> Vec<PrView> {
            ns.iter()
                .filter_map(|n| sp.prs.iter().find(|p| p.number == *n))
                .map(PrView::of)
                .collect()
        };
        view.success_prs = by_number(&acc.successes);
        view.pending_prs = by_number(&acc.pendings);
        view.missing_prs = by_number(&acc.missings);

        let blockers: Vec<Blocker> =
            prow_core::tide::blockers::applicable(&st.blockers, &org, &repo, &branch)
                .into_iter()
                .cloned()
                .collect();
        view.blockers = blockers
            .iter()
            .map(|b| BlockerView {
                number: b.number,
                title: b.title.clone(),
                url: b.url.clone(),
            })
            .collect();
        let blocked = !blockers.is_empty();
        let options = match tide.strategy_options_for(&org, &repo) {
            Ok(o) => o,
            Err(reason) => {
                view.error = reason;
                return (view, size);
            }
        };
        let outcome = if options.kind == StrategyKind::Tide {
            st.queues.remove(&key);
            self.count_failed_batches(st, &sp);
            self.tide_pool(cfg, &sp, &acc, (&policy, &policies), &jobs, blocked)
                .await
        } else if blocked {
            // Nothing merges or starts while blocking issues are open; the queue keeps its
            // state and resumes when they close.
            Outcome {
                action: "BLOCKED".to_owned(),
                ..Outcome::default()
            }
        } else {
            self.queue_pool(st, cfg, &sp, options, &jobs).await
        };
        view.action = outcome.action.clone();
        view.target = by_number(&outcome.target);
        view.batch_pending = by_number(&outcome.batch_pending);
        view.error = outcome.errors.join("; ");
        let now = self.now().to_string();
        let mut published = self.published();
        for (action, target, error, base_sha) in outcome.records {
            let target = target
                .iter()
                .filter_map(|n| sp.prs.iter().find(|p| p.number == *n))
                .map(pull_of)
                .collect();
            published.history.record(
                &key,
                Record {
                    time: now.clone(),
                    action,
                    base_sha,
                    target,
                    error,
                    tenant_ids: Vec::new(),
                },
            );
        }
        (view, size)
    }

    /// Prow's behaviour: one stateless decision per sync from the ProwJobs on the base.
    async fn tide_pool(
        &self,
        cfg: &Config,
        sp: &Subpool,
        acc: &prow_core::tide::Accumulated,
        (policy, policies): (&ContextPolicy, &BTreeMap<u64, ContextPolicy>),
        jobs: &[&Presubmit],
        blocked: bool,
    ) -> Outcome {
        let policy_of = |n: u64| policies.get(&n).unwrap_or(policy);
        let tide = &cfg.prow.tide;
        let (org, repo) = (sp.org.as_str(), sp.repo.as_str());
        let required_for = |prs: &[u64]| -> Vec<String> {
            let mut out: Vec<String> = prs
                .iter()
                .filter_map(|n| sp.presubmits.get(n))
                .flatten()
                .cloned()
                .collect();
            out.sort();
            out.dedup();
            out
        };
        let batch = accumulate_batch(sp, required_for);
        let passing: BTreeSet<u64> = sp
            .prs
            .iter()
            .filter(|p| {
                policy_of(p.number)
                    .unsuccessful_contexts(&p.contexts)
                    .is_empty()
            })
            .map(|p| p.number)
            .collect();
        let eligible: BTreeSet<u64> = sp
            .prs
            .iter()
            .filter(|p| is_retest_eligible(p, policy_of(p.number), sp))
            .map(|p| p.number)
            .collect();
        let candidates: Vec<u64> = eligible.iter().copied().collect();
        let limit = tide.batch_size_limit_for(org, repo);
        let mut next_batch = Vec::new();
        if limit >= 0 && tide.prioritize_existing_batches_for(org, repo) {
            next_batch = pick_batch_with_preexisting_tests(sp, &candidates, limit as usize);
        }
        if next_batch.is_empty() {
            next_batch = pick_new_batch(&candidates, limit);
        }
        let priorities = tide.priority_label_sets();
        let mut input = ActionInput::new(sp, acc, &batch, &passing, &eligible);
        input.priorities = &priorities;
        input.next_batch = next_batch;
        input.blocked = blocked;
        let action = take_action(&input);
        let mut out = Outcome {
            action: action.as_str().to_owned(),
            batch_pending: batch.pending.clone(),
            ..Outcome::default()
        };
        use prow_core::tide::Action as A;
        match &action {
            A::Merge(n) => {
                out.target = vec![*n];
                let errors = self.merge_prs(cfg, sp, &[*n]).await.1;
                out.records.push((
                    out.action.clone(),
                    vec![*n],
                    errors.join("; "),
                    sp.base_sha.clone(),
                ));
                out.errors = errors;
            }
            A::MergeBatch(prs) => {
                out.target = prs.clone();
                self.bump(|s| s.batches_passed += 1);
                self.figure(&sp.org, &sp.repo, &sp.branch, |p| {
                    *p.batches.entry("success".to_owned()).or_default() += 1;
                });
                let errors = self.merge_prs(cfg, sp, prs).await.1;
                out.records.push((
                    out.action.clone(),
                    prs.clone(),
                    errors.join("; "),
                    sp.base_sha.clone(),
                ));
                out.errors = errors;
            }
            A::Trigger(n) => {
                out.target = vec![*n];
                let contexts = acc.missing_tests.get(n).cloned().unwrap_or_default();
                let result = self.start_run(sp, &[*n], &contexts, jobs).await;
                let error = result.err().map(|e| e.to_string()).unwrap_or_default();
                out.records.push((
                    out.action.clone(),
                    vec![*n],
                    error.clone(),
                    sp.base_sha.clone(),
                ));
                out.errors.extend((!error.is_empty()).then_some(error));
            }
            A::TriggerBatch(prs) => {
                out.target = prs.clone();
                let contexts = required_for(prs);
                let result = self.start_run(sp, prs, &contexts, jobs).await;
                if result.is_ok() {
                    self.bump(|s| s.batches_started += 1);
                }
                let error = result.err().map(|e| e.to_string()).unwrap_or_default();
                out.records.push((
                    out.action.clone(),
                    prs.clone(),
                    error.clone(),
                    sp.base_sha.clone(),
                ));
                out.errors.extend((!error.is_empty()).then_some(error));
            }
            _ => {}
        }
        out
    }

    /// Counts each failed batch on the pool's base once.
    fn count_failed_batches(&self, st: &mut State, sp: &Subpool) {
        let mut batches: BTreeMap<String, Vec<&ProwJob>> = BTreeMap::new();
        for pj in sp
            .prowjobs
            .iter()
            .filter(|j| j.spec.job_type == ProwJobType::Batch)
        {
            let Some(refs) = pj.spec.refs.as_ref() else {
                continue;
            };
            let pulls: Vec<String> = refs
                .pulls
                .iter()
                .map(|p| format!("{}@{}", p.number, p.sha))
                .collect();
            let id = format!("{}|{}|{}", sp.key(), refs.base_sha, pulls.join(","));
            batches.entry(id).or_default().push(pj);
        }
        for (id, pjs) in batches {
            let states: Vec<SimpleState> = pjs
                .iter()
                .map(|j| simple_state(j.status.as_ref().map(|s| s.state).unwrap_or_default()))
                .collect();
            let failed =
                states.contains(&SimpleState::Failure) && !states.contains(&SimpleState::Pending);
            if failed && st.failed_batches.insert(id) {
                self.bump(|s| s.batches_failed += 1);
                self.figure(&sp.org, &sp.repo, &sp.branch, |p| {
                    *p.batches.entry("failure".to_owned()).or_default() += 1;
                });
            }
        }
    }

    /// Creates the ProwJobs testing `prs` (in order) on the pool's base; returns their names.
    async fn start_run(
        &self,
        sp: &Subpool,
        prs: &[u64],
        contexts: &[String],
        jobs: &[&Presubmit],
    ) -> Result<Vec<String>, TideError> {
        self.start_run_annotated(sp, &sp.base_sha, prs, contexts, jobs, |_| {})
            .await
    }

    /// Creates the ProwJobs testing `prs` (in order) on `base_sha`, after `annotate` had its
    /// say on them; returns their names.
    async fn start_run_annotated(
        &self,
        sp: &Subpool,
        base_sha: &str,
        prs: &[u64],
        contexts: &[String],
        jobs: &[&Presubmit],
        annotate: impl FnOnce(&mut Vec<ProwJob>),
    ) -> Result<Vec<String>, TideError> {
        let tested: Vec<&PullRequest> = prs
            .iter()
            .filter_map(|n| sp.prs.iter().find(|p| p.number == *n))
            .collect();
        let Some(refs) = jobs::refs_for(&sp.org, &sp.repo, &sp.branch, base_sha, &tested) else {
            return Ok(Vec::new());
        };
        let mut built = jobs::build_run(jobs, contexts, &refs, self.now())?;
        annotate(&mut built);
        jobs::create_all(self.store.as_ref(), built).await
    }

    /// Merges `prs` in order, each guarded by the head SHA it was tested with, and stops at the
    /// first PR that does not merge (its head moved, GitHub refused): what would land after it
    /// was tested with it underneath, so it waits for a run on the new base (Prow merges the
    /// rest anyway and calls it "a possible source of incorrect behavior"). Nobody is blamed for
    /// a refused merge. Returns the merged PRs (a prefix of `prs`) and what went wrong.
    async fn merge_prs(&self, cfg: &Config, sp: &Subpool, prs: &[u64]) -> (Vec<u64>, Vec<String>) {
        let tide = &cfg.prow.tide;
        let method = tide.merge_method(&sp.org, &sp.repo, &sp.branch);
        let labels = tide.merge_labels();
        let template = tide.merge_commit_template_for(&sp.org, &sp.repo);
        let title = MergeTemplate::parse(&template.title).ok();
        let body = MergeTemplate::parse(&template.body).ok();
        let mut merged = Vec::new();
        let mut errors = Vec::new();
        for n in prs {
            let Some(pr) = sp.prs.iter().find(|p| p.number == *n) else {
                errors.push(format!("#{n}: no longer in the pool; not merged"));
                break;
            };
            let m = pr_merge_method(method, &pr.labels, &labels).unwrap_or(method);
            let mut request = MergeRequest {
                sha: Some(pr.head_sha.clone()),
                method: github_method(m),
                ..MergeRequest::default()
            };
            request.commit_title = title
                .as_ref()
                .filter(|t| !t.is_empty())
                .map(|t| t.render(pr));
            request.commit_message = body
                .as_ref()
                .filter(|t| !t.is_empty())
                .map(|t| t.render(pr));
            match self.github.merge(&sp.org, &sp.repo, *n, &request).await {
                Ok(()) => {
                    merged.push(*n);
                    self.bump(|s| s.merges_total += 1);
                    // Each PR is its own merge on GitHub, batch or not.
                    self.figure(&sp.org, &sp.repo, &sp.branch, |p| {
                        p.merges += 1;
                        p.merged_prs += 1;
                    });
                }
                Err(GitHubError::HeadChanged { .. }) => {
                    self.bump(|s| s.merges_head_changed += 1);
                    errors.push(format!(
                        "#{n}: head moved since {} was tested; not merged",
                        pr.head_sha
                    ));
                    break;
                }
                Err(e) => {
                    errors.push(format!("#{n}: {e}"));
                    break;
                }
            }
        }
        if merged.len() + 1 < prs.len() {
            let rest: Vec<String> = prs[merged.len() + 1..]
                .iter()
                .map(|n| format!("#{n}"))
                .collect();
            errors.push(format!(
                "{} not merged: tested on top of a PR that did not land",
                rest.join(", ")
            ));
        }
        (merged, errors)
    }

    /// One status pass: the `tide` context of every open PR in the queried repositories, set
    /// only where it differs from what the PR shows.
    pub async fn status_once(&self) -> Result<(), TideError> {
        let mut st = self.state.lock().await;
        let cfg = self.config.current().config.clone();
        let tide = &cfg.prow.tide;
        let github = self.github.as_ref();
        // Every open PR of the repositories and orgs the queries cover.
        let mut scopes: BTreeSet<String> = BTreeSet::new();
        for q in &tide.queries {
            scopes.extend(q.orgs.iter().map(|o| format!("org:\"{o}\"")));
            scopes.extend(q.repos.iter().map(|r| format!("repo:\"{r}\"")));
        }
        let mut issues: BTreeMap<PrKey, prow_github::types::Issue> = BTreeMap::new();
        for scope in scopes {
            let query = format!("is:pr state:open archived:false {scope}");
            let found = github
                .search_issues(&query)
                .await
                .map_err(gh(format!("search {query:?}")))?;
            for issue in found.into_iter().filter(|i| i.is_pull_request()) {
                if let Some((org, repo)) = org_repo_of(&issue) {
                    issues.insert((org, repo, issue.number), issue);
                }
            }
        }
        let mut written = 0;
        for (key, issue) in &issues {
            let (org, repo, _) = key;
            let queries: Vec<_> = tide
                .queries
                .iter()
                .filter(|q| q.for_repo(org, repo))
                .map(|q| q.requirements())
                .collect();
            if queries.is_empty() {
                continue;
            }
            let pr = match st.cache.prs.get(key).filter(|_| st.facts.contains_key(key)) {
                Some(cached) => {
                    let mut pr = cached.pr.clone();
                    pr.labels = issue.labels.iter().map(|l| l.name.clone()).collect();
                    pr.milestone = issue.milestone.as_ref().map(|m| m.title.clone());
                    pr
                }
                None => {
                    // Not in any pool: read it like the sync does (its base for mergeability).
                    let branch = st
                        .cache
                        .details(github, key, issue, false)
                        .await
                        .map_err(gh(format!("read {org}/{repo}#{}", key.2)))?;
                    let base_sha = github
                        .ref_sha(org, repo, &format!("heads/{branch}"))
                        .await
                        .map_err(gh(format!("read {org}/{repo} branch {branch}")))?;
                    st.cache
                        .complete(github, key, issue, &base_sha, false)
                        .await
                        .map_err(gh(format!("read {org}/{repo}#{}", key.2)))?
                }
            };
            let own = st.facts.get(key).and_then(|f| f.policy.clone());
            let policy = match own.map_or_else(|| context_policy(&cfg, org, repo, &pr.base_ref), Ok)
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "tide status");
                    continue;
                }
            };
            let method = tide.merge_method(org, repo, &pr.base_ref);
            let reason = not_allowed_to_merge_reason(
                &pr,
                pr_merge_method(method, &pr.labels, &tide.merge_labels()),
                AllowedMergeMethods::default(),
                tide.merge_blocks_policy_for(org, repo),
            );
            let blockers: Vec<Blocker> =
                prow_core::tide::blockers::applicable(&st.blockers, org, repo, &pr.base_ref)
                    .into_iter()
                    .cloned()
                    .collect();
            let facts = st.facts.get(key);
            let mut input = StatusInput::new(&pr, &policy);
            input.blockers = &blockers;
            input.not_allowed_reason = reason.as_deref();
            input.in_pool = facts.is_some_and(|f| f.in_pool);
            input.queries = &queries;
            input.blocks_policy = tide.merge_blocks_policy_for(org, repo);
            input.display_all_queries = tide.display_all_queries_in_status;
            let passing = facts.map(|f| f.passing.clone()).unwrap_or_default();
            input.passing_up_to_date = &passing;
            let (state, desc) = expected_status(&input);
            let desc = truncate_description(&desc);
            let memo = (org.clone(), repo.clone(), pr.head_sha.clone());
            let current = st.written.get(&memo).cloned().or_else(|| {
                pr.contexts
                    .iter()
                    .find(|c| c.name == STATUS_CONTEXT)
                    .map(|c| (status_state_of(c.state), c.description.clone()))
            });
            if current.as_ref() == Some(&(state, desc.clone())) {
                continue;
            }
            let target = tide.target_url_for(org, repo);
            let status = Status {
                state: match state {
                    StatusState::Success => prow_github::types::StatusState::Success,
                    StatusState::Error => prow_github::types::StatusState::Error,
                    _ => prow_github::types::StatusState::Pending,
                },
                target_url: (!target.is_empty()).then(|| target.to_owned()),
                description: Some(desc.clone()),
                context: STATUS_CONTEXT.to_owned(),
            };
            github
                .create_status(org, repo, &pr.head_sha, &status)
                .await
                .map_err(gh(format!("set tide status on {org}/{repo}#{}", key.2)))?;
            written += 1;
            let mut ctx = Context::new(
                STATUS_CONTEXT,
                match state {
                    StatusState::Success => ContextState::Success,
                    StatusState::Error => ContextState::Error,
                    _ => ContextState::Pending,
                },
            );
            ctx.description = desc.clone();
            st.cache.note_tide_status(key, &pr.head_sha, ctx);
            st.written.insert(memo, (state, desc));
        }
        self.bump(|s| s.statuses_written += written);
        Ok(())
    }
}

fn status_state_of(state: ContextState) -> StatusState {
    match state {
        ContextState::Success => StatusState::Success,
        ContextState::Error | ContextState::Failure => StatusState::Error,
        _ => StatusState::Pending,
    }
}

/// `tide.sync_period`, default one minute.
fn sync_period(cfg: &Config) -> Duration {
    cfg.prow
        .tide
        .sync_period
        .and_then(|d| d.0.to_std())
        .unwrap_or(Duration::from_secs(60))
        .max(Duration::from_millis(1))
}

/// `tide.status_update_period`, default the sync period.
fn status_period(cfg: &Config) -> Duration {
    cfg.prow
        .tide
        .status_update_period
        .and_then(|d| d.0.to_std())
        .unwrap_or_else(|| sync_period(cfg))
        .max(Duration::from_millis(1))
}

/// tide's sync pass under the controller driver: at start, then every `tide.sync_period`.
#[derive(Debug, Clone)]
pub struct SyncController(pub Arc<Controller>);

/// tide's status pass under the controller driver: at start, then every
/// `tide.status_update_period`.
#[derive(Debug, Clone)]
pub struct StatusController(pub Arc<Controller>);

#[async_trait::async_trait]
impl prow_jobs::controller::Controller for SyncController {
    fn name(&self) -> &'static str {
        "tide"
    }

    fn resync_period(&self, config: &prow_config::ConfigSnapshot) -> Duration {
        sync_period(&config.config)
    }

    async fn reconcile(
        &self,
        _config: &prow_config::ConfigSnapshot,
        _wake: prow_jobs::controller::Wake,
    ) -> Result<prow_jobs::controller::Pass, prow_jobs::controller::PassError> {
        self.0.sync_once().await?;
        Ok(prow_jobs::controller::Pass::default())
    }
}

#[async_trait::async_trait]
impl prow_jobs::controller::Controller for StatusController {
    fn name(&self) -> &'static str {
        "tide-status"
    }

    fn resync_period(&self, config: &prow_config::ConfigSnapshot) -> Duration {
        status_period(&config.config)
    }

    async fn reconcile(
        &self,
        _config: &prow_config::ConfigSnapshot,
        _wake: prow_jobs::controller::Wake,
    ) -> Result<prow_jobs::controller::Pass, prow_jobs::controller::PassError> {
        self.0.status_once().await?;
        Ok(prow_jobs::controller::Pass::default())
    }
}
