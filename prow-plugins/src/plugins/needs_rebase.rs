//! needs-rebase: keeps `needs-rebase` on pull requests GitHub cannot merge, with a comment
//! asking for a rebase, and removes both once they merge cleanly again (upstream
//! `cmd/external-plugins/needs-rebase`). It runs built in (`plugins: [needs-rebase]`) or as
//! the external plugin server `prow external-plugin needs-rebase`.
//!
//! Upstream waits five seconds before asking GitHub, to let it compute mergeability; here that
//! wait is an [`Action::Recheck`], so no worker is held. A pull request whose mergeability
//! GitHub still does not know is left alone until its next event. Upstream's periodic scan of
//! every open pull request is not built.

use std::time::Duration;

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;

use crate::label_note::LabelNote;
use crate::respond::format_simple_response;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label and the plugin's name (upstream `labels.NeedsRebase`).
pub const LABEL: &str = "needs-rebase";
/// The comment's message (upstream `needsRebaseMessage`); also how its comments are found.
pub const MESSAGE: &str = "PR needs rebase.";
/// What dependabot is told instead, which makes it rebase (upstream `dependabotRebaseMessage`).
pub const DEPENDABOT_MESSAGE: &str = "rebase";
/// Dependabot's login.
pub const DEPENDABOT: &str = "dependabot[bot]";
/// How long GitHub is given to compute mergeability first (upstream sleeps this long).
pub const GRACE: Duration = Duration::from_secs(5);

/// The actions for `org/repo#number` by `author`, mergeable or not, given whether it has the
/// label and the bot's comments (upstream `takeAction`).
pub fn decide(
    (org, repo, number): (&str, &str, u64),
    author: &str,
    mergeable: bool,
    has_label: bool,
    bot_comments: &[(u64, String)],
) -> Vec<Action> {
    note(org, repo, number).decide(has_label, !mergeable, || message(author), bot_comments)
}

fn message(author: &str) -> String {
    format_simple_response(if author == DEPENDABOT {
        DEPENDABOT_MESSAGE
    } else {
        MESSAGE
    })
}

fn note<'a>(org: &'a str, repo: &'a str, number: u64) -> LabelNote<'a> {
    LabelNote {
        org,
        repo,
        number,
        label: LABEL,
        marker: MESSAGE,
    }
}

/// The pull request an event is about, if it is one needs-rebase reacts to: a pull request
/// opened, reopened or pushed to, or any comment on a pull request.
pub fn subject(event: &Event) -> Option<(&str, &str, u64)> {
    match event {
        Event::PullRequest(pe)
            if matches!(pe.action.as_str(), "opened" | "reopened" | "synchronize") =>
        {
            Some((
                pe.repository.org(),
                pe.repository.name.as_str(),
                pe.pull_request.number,
            ))
        }
        Event::IssueComment(ic) if ic.issue.is_pull_request() => Some((
            ic.repository.org(),
            ic.repository.name.as_str(),
            ic.issue.number,
        )),
        _ => None,
    }
}

/// The needs-rebase plugin.
#[derive(Debug, Clone, Copy)]
pub struct NeedsRebase {
    grace: Duration,
}

impl Default for NeedsRebase {
    fn default() -> Self {
        NeedsRebase { grace: GRACE }
    }
}

impl NeedsRebase {
    /// The plugin giving GitHub `grace` to compute mergeability instead of [`GRACE`].
    pub fn with_grace(grace: Duration) -> Self {
        NeedsRebase { grace }
    }
}

#[async_trait]
impl Plugin for NeedsRebase {
    fn name(&self) -> &'static str {
        LABEL
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            format!(
                "The needs-rebase plugin manages the '{LABEL}' label by removing it from Pull Requests that are mergeable and adding it to those which are not.\nThe plugin reacts to commit changes on PRs in addition to periodically scanning all open PRs for any changes to mergeability that could have resulted from changes in other PRs."
            ),
            &["pull_request", "issue_comment"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some((org, repo, number)) = subject(event) else {
            return Ok(Vec::new());
        };
        if !ctx.recheck {
            return Ok(vec![Action::Recheck {
                after: self.grace,
                plugin: LABEL.to_owned(),
                event: Box::new(event.clone()),
            }]);
        }
        let pr = ctx.pull_request(org, repo, number).await?;
        if pr.state != "open" {
            return Ok(Vec::new());
        }
        let Some(mergeable) = pr.mergeable else {
            tracing::info!(
                plugin = LABEL,
                org,
                repo,
                pr = number,
                "GitHub has not computed mergeability yet; left for the next event"
            );
            return Ok(Vec::new());
        };
        note(org, repo, number)
            .apply(ctx, !mergeable, || message(&pr.user.login))
            .await
    }
}
