//! Pull requests as tide sees them, their status contexts, and the context policy.

use std::collections::BTreeSet;

use regex::Regex;

use crate::MergeMethod;

/// The name of tide's own status context, which tide never counts as a requirement.
pub const STATUS_CONTEXT: &str = "tide";

/// The state of a status context (GitHub's `StatusState`, plus check runs mapped onto it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ContextState {
    /// Required but not reported yet.
    Expected,
    /// The job errored.
    Error,
    /// The job failed.
    Failure,
    /// The job is running.
    #[default]
    Pending,
    /// The job passed.
    Success,
}

/// One status context on a PR's head commit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Context {
    /// The context name.
    pub name: String,
    /// Its state.
    pub state: ContextState,
    /// Its description.
    pub description: String,
}

impl Context {
    /// A context with an empty description.
    pub fn new(name: impl Into<String>, state: ContextState) -> Self {
        Context {
            name: name.into(),
            state,
            description: String::new(),
        }
    }
}

/// The state of a GitHub check run, as tide maps it onto contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CheckRunConclusion {
    /// Not completed yet.
    #[default]
    InProgress,
    /// Completed successfully.
    Success,
    /// Completed as neutral.
    Neutral,
    /// Skipped.
    Skipped,
    /// Any other completed conclusion (failure, cancelled, timed out, action required, stale).
    Failed,
}

/// Maps a check run onto a status context state like Prow's `checkRunToContext`.
pub fn check_run_state(conclusion: CheckRunConclusion) -> ContextState {
    match conclusion {
        CheckRunConclusion::InProgress => ContextState::Pending,
        CheckRunConclusion::Success | CheckRunConclusion::Neutral | CheckRunConclusion::Skipped => {
            ContextState::Success
        }
        CheckRunConclusion::Failed => ContextState::Failure,
    }
}

/// Keeps one context per name, the best state winning (success over pending over the rest),
/// in first-seen order, like Prow's `deduplicateContexts`.
pub fn deduplicate_contexts(contexts: &[Context]) -> Vec<Context> {
    fn rank(s: ContextState) -> u8 {
        match s {
            ContextState::Success => 2,
            ContextState::Pending => 1,
            _ => 0,
        }
    }
    let mut out: Vec<Context> = Vec::new();
    for c in contexts {
        match out.iter_mut().find(|o| o.name == c.name) {
            Some(existing) if rank(c.state) > rank(existing.state) => *existing = c.clone(),
            Some(_) => {}
            None => out.push(c.clone()),
        }
    }
    out
}

/// GitHub's view of whether a PR merges cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mergeable {
    /// It merges cleanly.
    Mergeable,
    /// It has a conflict.
    Conflicting,
    /// GitHub has not computed it yet.
    #[default]
    Unknown,
}

/// GitHub's merge state status, as far as tide cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MergeStateStatus {
    /// Anything but `BLOCKED`.
    #[default]
    Clean,
    /// `BLOCKED`: branch protection or rulesets forbid the merge.
    Blocked,
}

/// How tide treats GitHub's `BLOCKED` merge state (`github_merge_blocks_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MergeBlocksPolicy {
    /// Ignore it entirely.
    Ignore,
    /// Keep the PR in the pool but say so in the status (Prow's default).
    #[default]
    Permit,
    /// Keep the PR out of the pool.
    Block,
}

/// A pull request as tide's queries return it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PullRequest {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The PR number.
    pub number: u64,
    /// The author's login.
    pub author: String,
    /// The base branch name.
    pub base_ref: String,
    /// The head commit SHA.
    pub head_sha: String,
    /// The head branch name.
    pub head_ref: String,
    /// The title.
    pub title: String,
    /// The body.
    pub body: String,
    /// Label names.
    pub labels: Vec<String>,
    /// The milestone title, if any.
    pub milestone: Option<String>,
    /// Whether it merges cleanly.
    pub mergeable: Mergeable,
    /// GitHub's merge state.
    pub merge_state: MergeStateStatus,
    /// Whether GitHub's review decision is `APPROVED`.
    pub review_approved: bool,
    /// Whether GitHub can rebase it.
    pub can_be_rebased: bool,
    /// Status contexts (and check runs) on the head commit.
    pub contexts: Vec<Context>,
}

impl PullRequest {
    /// A PR with the given identity and everything else empty.
    pub fn new(org: &str, repo: &str, number: u64) -> Self {
        PullRequest {
            org: org.to_string(),
            repo: repo.to_string(),
            number,
            mergeable: Mergeable::Mergeable,
            can_be_rebased: true,
            ..PullRequest::default()
        }
    }

    /// Whether the PR carries `label`.
    pub fn has_label(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l == label)
    }
}

/// Which status contexts a PR needs before it can merge (Prow's `TideContextPolicy` after
/// merging the configured options, branch protection and the jobs' own contexts).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ContextPolicy {
    /// Contexts that must be present and successful.
    pub required: Vec<String>,
    /// Contexts that must be successful when present.
    pub required_if_present: Vec<String>,
    /// Contexts that never block.
    pub optional: Vec<String>,
    /// Patterns of contexts that never block.
    pub optional_regex: Vec<Regex>,
    /// Whether contexts nobody declared are ignored.
    pub skip_unknown: bool,
}

impl ContextPolicy {
    /// Whether `context` may fail or be absent without keeping the PR out of the pool.
    pub fn is_optional(&self, context: &str) -> bool {
        if self.optional.iter().any(|c| c == context)
            || self.optional_regex.iter().any(|re| re.is_match(context))
        {
            return true;
        }
        if self.required.iter().any(|c| c == context)
            || self.required_if_present.iter().any(|c| c == context)
        {
            return false;
        }
        self.skip_unknown
    }

    /// Required contexts absent from `present`, sorted.
    pub fn missing_required_contexts(&self, present: &[&str]) -> Vec<String> {
        let present: BTreeSet<&str> = present.iter().copied().collect();
        let missing: BTreeSet<&str> = self
            .required
            .iter()
            .map(String::as_str)
            .filter(|c| !present.contains(c))
            .collect();
        missing.into_iter().map(str::to_string).collect()
    }

    /// Contexts keeping a PR out of the pool: non-optional contexts that are not successful
    /// (tide's own ignored), then required contexts that are missing (as `Expected`).
    pub fn unsuccessful_contexts(&self, contexts: &[Context]) -> Vec<Context> {
        let mut failed: Vec<Context> = contexts
            .iter()
            .filter(|c| c.name != STATUS_CONTEXT && !self.is_optional(&c.name))
            .filter(|c| c.state != ContextState::Success)
            .cloned()
            .collect();
        let present: Vec<&str> = contexts.iter().map(|c| c.name.as_str()).collect();
        failed.extend(
            self.missing_required_contexts(&present)
                .into_iter()
                .map(|name| Context::new(name, ContextState::Expected)),
        );
        failed
    }
}

/// The labels that override the merge method (`squash_label`, `rebase_label`, `merge_label`;
/// empty means unset).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MergeLabels {
    /// The label asking for a squash merge.
    pub squash: String,
    /// The label asking for a rebase merge.
    pub rebase: String,
    /// The label asking for a merge commit.
    pub merge: String,
}

impl MergeLabels {
    /// Merge labels with the given names (empty strings for unset ones).
    pub fn new(squash: &str, rebase: &str, merge: &str) -> Self {
        MergeLabels {
            squash: squash.to_string(),
            rebase: rebase.to_string(),
            merge: merge.to_string(),
        }
    }
}

/// The merge method of a PR: the configured one, overridden by a merge-method label; `None` when
/// the PR carries more than one such label (Prow's `prMergeMethod`).
pub fn pr_merge_method(
    configured: MergeMethod,
    labels: &[String],
    merge_labels: &MergeLabels,
) -> Option<MergeMethod> {
    let mut method = configured;
    let mut count = 0;
    for label in labels.iter().filter(|l| !l.is_empty()) {
        let chosen = if *label == merge_labels.squash {
            MergeMethod::Squash
        } else if *label == merge_labels.rebase {
            MergeMethod::Rebase
        } else if *label == merge_labels.merge {
            MergeMethod::Merge
        } else {
            continue;
        };
        method = chosen;
        count += 1;
        if count > 1 {
            return None;
        }
    }
    Some(method)
}

/// Which merge methods the repository's settings allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AllowedMergeMethods {
    /// Merge commits allowed.
    pub merge: bool,
    /// Squash merges allowed.
    pub squash: bool,
    /// Rebase merges allowed.
    pub rebase: bool,
}

impl Default for AllowedMergeMethods {
    fn default() -> Self {
        AllowedMergeMethods {
            merge: true,
            squash: true,
            rebase: true,
        }
    }
}

impl AllowedMergeMethods {
    /// Whether `method` is allowed.
    pub fn allows(&self, method: MergeMethod) -> bool {
        match method {
            MergeMethod::Merge => self.merge,
            MergeMethod::Squash => self.squash,
            MergeMethod::Rebase => self.rebase,
        }
    }
}

/// Why a PR may not merge at all, or `None` when it may (Prow's `isAllowedToMerge`). `method`
/// is the PR's merge method from [`pr_merge_method`].
pub fn not_allowed_to_merge_reason(
    pr: &PullRequest,
    method: Option<MergeMethod>,
    allowed: AllowedMergeMethods,
    policy: MergeBlocksPolicy,
) -> Option<String> {
    if pr.mergeable == Mergeable::Conflicting {
        return Some("PR has a merge conflict.".to_string());
    }
    let Some(method) = method else {
        return Some("PR has conflicting merge method override labels".to_string());
    };
    if method == MergeMethod::Rebase && !pr.can_be_rebased {
        return Some("PR can't be rebased".to_string());
    }
    if !allowed.allows(method) {
        return Some(format!(
            "Merge type \"{}\" disallowed by repo settings",
            method.as_str()
        ));
    }
    if pr.merge_state == MergeStateStatus::Blocked && policy == MergeBlocksPolicy::Block {
        return Some(
            "PR is blocked from merging by GitHub (check branch protection, required reviews, or rulesets)"
                .to_string(),
        );
    }
    None
}
