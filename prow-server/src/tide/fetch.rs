//! Reading what tide needs from GitHub, reusing what has not changed since the last sync.
//!
//! Every sync runs the tide queries (the search answers carry each PR's labels and its
//! `updated_at`). A PR's details (head SHA, base branch, mergeability) are fetched again only
//! when its `updated_at` moved (a push, a label or a comment moves it) or its base branch moved
//! (mergeability depends on the base). Its head's status contexts and check runs are reused
//! for the same head SHA while they are all final (none pending) and the PR did not change;
//! every [`FULL_REFRESH_EVERY`]th sync refetches everything, so a status added late to a
//! finished head is seen within that many syncs.

use std::collections::BTreeMap;

use prow_core::tide::context::{CheckRunConclusion, check_run_state, deduplicate_contexts};
use prow_core::tide::{Context, ContextState, Mergeable, PullRequest};
use prow_github::types::{CheckRun, CombinedStatus, Issue, StatusState};
use prow_github::{Error as GitHubError, GitHubClient};

/// How often (in syncs) cached PR data is refetched regardless of `updated_at`.
pub const FULL_REFRESH_EVERY: u64 = 10;

/// `(org, repo, number)`.
pub(crate) type PrKey = (String, String, u64);

/// What the cache remembers of one PR.
#[derive(Debug, Clone)]
pub(crate) struct CachedPr {
    /// The search answer's `updated_at` when the details were fetched.
    updated_at: String,
    /// The base SHA the details were fetched against.
    base_sha: String,
    /// The PR without labels (they come from each search) and its contexts.
    pub(crate) pr: PullRequest,
    /// The head SHA the contexts belong to, when they were fetched.
    contexts_sha: Option<String>,
    /// Whether the PR's details were fetched during the current sync.
    fresh: bool,
}

/// The per-PR cache the controller keeps between syncs.
#[derive(Debug, Default)]
pub(crate) struct PrCache {
    pub(crate) prs: BTreeMap<PrKey, CachedPr>,
}

/// `org` and `repo` from a search answer's `repository_url`.
pub(crate) fn org_repo_of(issue: &Issue) -> Option<(String, String)> {
    let mut parts = issue.repository_url.trim_end_matches('/').rsplit('/');
    let repo = parts.next()?.to_owned();
    let org = parts.next()?.to_owned();
    (!org.is_empty() && !repo.is_empty()).then_some((org, repo))
}

fn engine_pr(org: &str, repo: &str, pr: &prow_github::types::PullRequest) -> PullRequest {
    let mut out = PullRequest::new(org, repo, pr.number);
    out.author.clone_from(&pr.user.login);
    out.base_ref.clone_from(&pr.base.git_ref);
    out.head_sha.clone_from(&pr.head.sha);
    out.head_ref.clone_from(&pr.head.git_ref);
    out.title.clone_from(&pr.title);
    out.body = pr.body.clone().unwrap_or_default();
    out.mergeable = match pr.mergeable {
        Some(true) => Mergeable::Mergeable,
        Some(false) => Mergeable::Conflicting,
        None => Mergeable::Unknown,
    };
    out
}

/// The contexts of a head: its latest statuses and its check runs, one per name.
pub(crate) fn contexts_of(status: &CombinedStatus, checks: &[CheckRun]) -> Vec<Context> {
    let mut out: Vec<Context> = status
        .statuses
        .iter()
        .map(|s| {
            let state = match s.state {
                StatusState::Pending => ContextState::Pending,
                StatusState::Success => ContextState::Success,
                StatusState::Failure => ContextState::Failure,
                StatusState::Error => ContextState::Error,
            };
            let mut c = Context::new(s.context.clone(), state);
            c.description = s.description.clone().unwrap_or_default();
            c
        })
        .collect();
    for run in checks {
        let conclusion = if run.status != "completed" {
            CheckRunConclusion::InProgress
        } else {
            match run.conclusion.as_deref() {
                Some("success") => CheckRunConclusion::Success,
                Some("neutral") => CheckRunConclusion::Neutral,
                Some("skipped") => CheckRunConclusion::Skipped,
                _ => CheckRunConclusion::Failed,
            }
        };
        out.push(Context::new(run.name.clone(), check_run_state(conclusion)));
    }
    deduplicate_contexts(&out)
}

impl PrCache {
    /// Drops PRs no query returned any more.
    pub(crate) fn retain(&mut self, keep: impl Fn(&PrKey) -> bool) {
        self.prs.retain(|k, _| keep(k));
    }

    /// Makes sure the details of the PR behind `issue` are current, fetching them when the
    /// PR changed (or `full` is set); returns its base branch.
    pub(crate) async fn details(
        &mut self,
        github: &dyn GitHubClient,
        key: &PrKey,
        issue: &Issue,
        full: bool,
    ) -> Result<String, GitHubError> {
        let reusable = !full
            && !issue.updated_at.is_empty()
            && self
                .prs
                .get(key)
                .is_some_and(|c| c.updated_at == issue.updated_at);
        if let Some(c) = self.prs.get_mut(key)
            && reusable
        {
            c.fresh = false;
            return Ok(c.pr.base_ref.clone());
        }
        self.refetch(github, key, issue).await
    }

    async fn refetch(
        &mut self,
        github: &dyn GitHubClient,
        key: &PrKey,
        issue: &Issue,
    ) -> Result<String, GitHubError> {
        let (org, repo, number) = key;
        let pr = github.pull_request(org, repo, *number).await?;
        let engine = engine_pr(org, repo, &pr);
        let base = engine.base_ref.clone();
        let previous = self.prs.remove(key);
        let keep_contexts = previous
            .as_ref()
            .is_some_and(|p| p.pr.head_sha == engine.head_sha);
        let mut entry = CachedPr {
            updated_at: issue.updated_at.clone(),
            base_sha: String::new(),
            pr: engine,
            contexts_sha: None,
            fresh: true,
        };
        if let Some(p) = previous.filter(|_| keep_contexts) {
            entry.pr.contexts = p.pr.contexts;
            entry.contexts_sha = p.contexts_sha;
        }
        self.prs.insert(key.clone(), entry);
        Ok(base)
    }

    /// Makes sure the PR's details were fetched against `base_sha` and its contexts are
    /// current; returns the PR with `labels` (from the search answer).
    pub(crate) async fn complete(
        &mut self,
        github: &dyn GitHubClient,
        key: &PrKey,
        issue: &Issue,
        base_sha: &str,
        full: bool,
    ) -> Result<PullRequest, GitHubError> {
        let stale_base = self
            .prs
            .get(key)
            .is_some_and(|c| !c.fresh && c.base_sha != base_sha);
        if stale_base {
            self.refetch(github, key, issue).await?;
        }
        let Some(entry) = self.prs.get_mut(key) else {
            return Err(GitHubError::NotFound {
                what: format!("pull request {}/{}#{} in tide's cache", key.0, key.1, key.2),
            });
        };
        entry.base_sha = base_sha.to_owned();
        let contexts_final = entry.contexts_sha.as_deref() == Some(entry.pr.head_sha.as_str())
            && entry
                .pr
                .contexts
                .iter()
                .filter(|c| c.name != prow_core::tide::STATUS_CONTEXT)
                .all(|c| c.state != ContextState::Pending);
        if full || entry.fresh || !contexts_final {
            let (org, repo, _) = key;
            let sha = entry.pr.head_sha.clone();
            let status = github.combined_status(org, repo, &sha).await?;
            let checks = github.check_runs(org, repo, &sha).await?;
            entry.pr.contexts = contexts_of(&status, &checks);
            entry.contexts_sha = Some(sha);
        }
        let mut pr = entry.pr.clone();
        pr.labels = issue.labels.iter().map(|l| l.name.clone()).collect();
        pr.milestone = issue.milestone.as_ref().map(|m| m.title.clone());
        Ok(pr)
    }

    /// Records the `tide` context tide just wrote, so the next comparison sees it.
    pub(crate) fn note_tide_status(&mut self, key: &PrKey, sha: &str, context: Context) {
        if let Some(entry) = self.prs.get_mut(key)
            && entry.pr.head_sha == sha
        {
            entry.pr.contexts.retain(|c| c.name != context.name);
            entry.pr.contexts.push(context);
        }
    }
}
