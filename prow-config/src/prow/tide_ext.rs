//! prow-rs extensions under `tide:` (the `merge_queue` block), and the conversion of Tide's
//! configuration into the inputs of `prow_core::tide`'s pure engine.
//!
//! ```yaml
//! tide:
//!   batch_size_limit: {"*": 10}
//!   merge_queue:
//!     strategy: {"*": tide, "kubernetes/kubernetes": bisect}
//!     flake_retries: {"*": 2}
//!     ci_capacity: {"*": 10}
//!     eject_label: do-not-merge/tide-ejected
//! ```
//!
//! Without `merge_queue`, Tide behaves like Prow's.

use std::collections::BTreeMap;

use prow_core::tide::status::QueryRequirements;
use prow_core::tide::{
    ContextPolicy, MergeBlocksPolicy, MergeLabels, StrategyKind, StrategyOptions,
};
use regex::Regex;

use super::section;
use super::tide::{GitHubMergeBlocksPolicy, Tide, TideContextPolicy, TideQuery};

section! {
    /// How Tide tests and merges (prow-rs only); each map is keyed by `*`, org or `org/repo`,
    /// the most specific key winning, like `batch_size_limit`.
    pub struct TideMergeQueue {
        /// The merge strategy: `tide` (Prow's behaviour, the default), `serial` (one PR at a
        /// time), `bisect` (a failed batch is split and the parts tested in parallel on the
        /// current base; a passing part merges only if the base has not moved since, a PR that
        /// fails alone is ejected) or `speculative` (batches stacked Zuul-style, each tested on
        /// top of the ones ahead of it, bounded by `ci_capacity`). Every one of them merges a
        /// set of PRs only after a run tested exactly that set on the base it lands on.
        /// `unsafe-bisect` drops that rule (it merges passing parts after the base moved) and is
        /// only ever used when named.
        pub strategy: BTreeMap<String, String>,
        /// How many times a single PR's failed run is repeated before the PR is blamed; a PR
        /// that passes on a retry merges and its failed jobs are counted as flaky (default 0,
        /// not used by `tide`).
        pub flake_retries: BTreeMap<String, i64>,
        /// The most CI runs the queue of one repository keeps in flight (default 0: no limit;
        /// set it for `speculative`).
        pub ci_capacity: BTreeMap<String, i64>,
        /// The label put on a PR the queue ejects, next to a comment naming the failed run
        /// (default `do-not-merge/tide-ejected`). Tide keeps a labelled PR out of its queue and
        /// removes the label when the PR's head changes; leave the label out of the queries'
        /// `missingLabels`, or tide cannot see the push.
        pub eject_label: String,
    }
}

/// The label tide puts on PRs its merge queue ejects, unless `eject_label` says otherwise.
pub const DEFAULT_EJECT_LABEL: &str = "do-not-merge/tide-ejected";

fn by_org_repo<'a, T>(map: &'a BTreeMap<String, T>, org: &str, repo: &str) -> Option<&'a T> {
    map.get(&format!("{org}/{repo}"))
        .or_else(|| map.get(org))
        .or_else(|| map.get("*"))
}

impl TideMergeQueue {
    /// The label put on ejected PRs.
    pub fn eject_label(&self) -> &str {
        if self.eject_label.is_empty() {
            DEFAULT_EJECT_LABEL
        } else {
            &self.eject_label
        }
    }

    /// Every problem in the block, as `field[key]: reason` lines.
    pub fn problems(&self) -> Vec<String> {
        let negative = |field: &str, map: &BTreeMap<String, i64>| {
            map.iter()
                .filter(|(_, v)| **v < 0)
                .map(|(k, v)| {
                    format!("tide.merge_queue.{field}[{k:?}]: must not be negative, got {v}")
                })
                .collect::<Vec<_>>()
        };
        let mut out = negative("flake_retries", &self.flake_retries);
        out.extend(negative("ci_capacity", &self.ci_capacity));
        out.extend(self.strategy
            .iter()
            .filter(|(_, v)| StrategyKind::parse(v).is_none())
            .map(|(k, v)| {
                format!(
                    "tide.merge_queue.strategy[{k:?}]: unknown strategy {v:?} (want tide, serial, bisect or speculative)"
                )
            }));
        out
    }
}

impl Tide {
    /// The merge-queue settings for `org/repo`: strategy, batch size (from `batch_size_limit`:
    /// 0 unlimited, -1 no batches), CI capacity and flake retries.
    pub fn strategy_options_for(&self, org: &str, repo: &str) -> Result<StrategyOptions, String> {
        let mq = &self.merge_queue;
        let kind = match by_org_repo(&mq.strategy, org, repo) {
            None => StrategyKind::Tide,
            Some(name) => StrategyKind::parse(name).ok_or_else(|| {
                format!("tide.merge_queue.strategy for {org}/{repo}: unknown strategy {name:?}")
            })?,
        };
        let batch = match self.batch_size_limit_for(org, repo) {
            n if n < 0 => 1,
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let capacity = match by_org_repo(&mq.ci_capacity, org, repo)
            .copied()
            .unwrap_or(0)
        {
            n if n <= 0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let retries = by_org_repo(&mq.flake_retries, org, repo)
            .copied()
            .unwrap_or(0);
        let retries = u32::try_from(retries.max(0)).unwrap_or(u32::MAX);
        Ok(StrategyOptions::new(kind, batch, capacity).with_flake_retries(retries))
    }

    /// The merge-method override labels.
    pub fn merge_labels(&self) -> MergeLabels {
        MergeLabels::new(&self.squash_label, &self.rebase_label, &self.merge_label)
    }

    /// The GitHub merge-blocks policy of `org/repo` in the engine's terms.
    pub fn merge_blocks_policy_for(&self, org: &str, repo: &str) -> MergeBlocksPolicy {
        match self.github_merge_blocks_policy_for(org, repo) {
            GitHubMergeBlocksPolicy::Ignore => MergeBlocksPolicy::Ignore,
            GitHubMergeBlocksPolicy::Block => MergeBlocksPolicy::Block,
            _ => MergeBlocksPolicy::Permit,
        }
    }

    /// The configured context policy of `branch` of `org/repo` in the engine's terms (the
    /// controller adds branch protection and job contexts with `TideContextPolicy::with_contexts`
    /// before converting).
    pub fn engine_context_policy_for(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<ContextPolicy, String> {
        engine_context_policy(&self.context_options.policy_for(org, repo, branch))
    }

    /// The priority label sets, highest first.
    pub fn priority_label_sets(&self) -> Vec<Vec<String>> {
        self.priority.iter().map(|p| p.labels.clone()).collect()
    }
}

/// Converts a merged context policy into the engine's, compiling `optional-regex-contexts`.
pub fn engine_context_policy(policy: &TideContextPolicy) -> Result<ContextPolicy, String> {
    let mut out = ContextPolicy::default();
    out.required = policy.required_contexts.clone();
    out.required_if_present = policy.required_if_present_contexts.clone();
    out.optional = policy.optional_contexts.clone();
    out.optional_regex = policy
        .optional_regex_contexts
        .iter()
        .map(|r| Regex::new(r).map_err(|e| format!("optional-regex-contexts {r:?}: {e}")))
        .collect::<Result<_, _>>()?;
    out.skip_unknown = policy.skip_unknown_contexts.unwrap_or(false);
    Ok(out)
}

impl TideQuery {
    /// What the status controller compares PRs against for this query.
    pub fn requirements(&self) -> QueryRequirements {
        let mut q = QueryRequirements::default();
        q.author = self.author.clone();
        q.labels = self.labels.clone();
        q.missing_labels = self.missing_labels.clone();
        q.included_branches = self.included_branches.clone();
        q.excluded_branches = self.excluded_branches.clone();
        q.milestone = self.milestone.clone();
        q.review_approved_required = self.review_approved_required;
        q
    }
}
