//! merge-method-comment: tells pull requests with more than one commit how tide will merge
//! them and which label asks for the other method (upstream `pkg/plugins/merge-method-comment`).
//!
//! The comment is written once: a pull request that already carries the bot's comment with the
//! same text gets no second one.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_config::prow::Tide;
use prow_core::refs::MergeMethod;
use prow_github::events::Event;

use crate::respond::format_simple_response;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The text for a pull request of `org/repo` with `commits` commits under `tide`; `None` for a
/// single commit (upstream `needsComment`).
pub fn text(tide: &Tide, org: &str, repo: &str, commits: u64) -> Option<String> {
    if commits <= 1 {
        return None;
    }
    let method = tide.merge_method(org, repo, "");
    let mut text = format!(
        "This PR has multiple commits, and the default merge method is: {}.\n",
        method.as_str()
    );
    match method {
        MergeMethod::Squash if !tide.merge_label.is_empty() => text.push_str(&format!(
            "You can request commits to be merged using the label: {}",
            tide.merge_label
        )),
        MergeMethod::Squash => {
            text.push_str("Commits will be squashed, as no merge labels are defined")
        }
        MergeMethod::Merge if !tide.squash_label.is_empty() => text.push_str(&format!(
            "You can request commits to be squashed using the label: {}",
            tide.squash_label
        )),
        MergeMethod::Merge => {
            text.push_str("Commits will be merged, as no squash labels are defined")
        }
        MergeMethod::Rebase => {}
    }
    Some(text)
}

/// The actions for `org/repo#number` given the `text` to say and the bot's comments' texts.
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    text: &str,
    bot_comments: &[(u64, String)],
) -> Vec<Action> {
    if bot_comments.iter().any(|(_, body)| body.contains(text)) {
        return Vec::new();
    }
    vec![Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: format_simple_response(text),
    }]
}

/// The merge-method-comment plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct MergeMethodComment;

#[async_trait]
impl Plugin for MergeMethodComment {
    fn name(&self) -> &'static str {
        "merge-method-comment"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The merge-method-comment plugin adds a comment on how to request a different-from-default merge method to PRs with more than 1 commit",
            &["pull_request"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if !super::invalidcommitmsg::changes(&pe.action) {
            return Ok(Vec::new());
        }
        let pr = &pe.pull_request;
        let (org, repo, number) = (pe.repository.org(), pe.repository.name.as_str(), pr.number);
        let Some(text) = text(&ctx.config.prow.tide, org, repo, pr.commits) else {
            return Ok(Vec::new());
        };
        let comments = ctx.bot_comments(org, repo, number).await?;
        Ok(decide(org, repo, number, &text, &comments))
    }
}
