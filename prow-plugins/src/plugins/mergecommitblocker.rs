//! mergecommitblocker: labels pull requests that contain merge commits
//! `do-not-merge/contains-merge-commits` with a comment asking for a rebase, and removes both
//! once the merge commits are gone (upstream `pkg/plugins/mergecommitblocker`).
//!
//! Upstream clones the repository and walks the commits between the base and the head; we read
//! the pull request's commits from GitHub, which are the same commits, and count a commit with
//! more than one parent as a merge commit.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::CommitInfo;

use crate::label_note::LabelNote;
use crate::respond::format_simple_response;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label (upstream `labels.MergeCommits`).
pub const LABEL: &str = "do-not-merge/contains-merge-commits";

/// The comment's text (upstream `commentBody`); also how the bot's comments are found again.
pub const COMMENT: &str = "Adding label `do-not-merge/contains-merge-commits` because PR contains merge commits, which are not allowed in this repository.\nUse `git rebase` to reapply your commits on top of the target branch. Detailed instructions for doing so can be found [here](https://git.k8s.io/community/contributors/guide/github-workflow.md#4-keep-your-branch-in-sync).";

/// Whether any of `commits` is a merge commit.
pub fn has_merge_commits(commits: &[CommitInfo]) -> bool {
    commits.iter().any(|c| c.parents.len() > 1)
}

/// The actions for `org/repo#number` whose commits do or do not contain merge commits, given
/// whether it has the label and the bot's comments (for pruning).
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    merge_commits: bool,
    has_label: bool,
    bot_comments: &[(u64, String)],
) -> Vec<Action> {
    note(org, repo, number).decide(
        has_label,
        merge_commits,
        || format_simple_response(COMMENT),
        bot_comments,
    )
}

fn note<'a>(org: &'a str, repo: &'a str, number: u64) -> LabelNote<'a> {
    LabelNote {
        org,
        repo,
        number,
        label: LABEL,
        marker: COMMENT,
    }
}

/// The mergecommitblocker plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeCommitBlocker;

#[async_trait]
impl Plugin for MergeCommitBlocker {
    fn name(&self) -> &'static str {
        "mergecommitblocker"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            format!(
                "The merge commit blocker plugin adds the {LABEL} label to pull requests that contain merge commits"
            ),
            &["pull_request"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if !matches!(pe.action.as_str(), "opened" | "reopened" | "synchronize") {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (
            pe.repository.org(),
            pe.repository.name.as_str(),
            pe.pull_request.number,
        );
        let commits = ctx.pull_request_commits(org, repo, number).await?;
        let merge_commits = has_merge_commits(&commits);
        tracing::debug!(
            plugin = "mergecommitblocker",
            org,
            repo,
            pr = number,
            merge_commits,
            "checked the commits"
        );
        note(org, repo, number)
            .apply(ctx, merge_commits, || format_simple_response(COMMENT))
            .await
    }
}
