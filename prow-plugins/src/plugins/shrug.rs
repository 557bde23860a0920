//! shrug: `/shrug` adds the `¯\_(ツ)_/¯` label, `/unshrug` removes it with a shrug in reply
//! (upstream `pkg/plugins/shrug`). Anyone may use it.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label.
pub const SHRUG_LABEL: &str = r"¯\_(ツ)_/¯";
/// The reply to `/unshrug`: the shrug, escaped for Markdown.
pub const UNSHRUG_REPLY: &str = r"¯\\\_(ツ)\_/¯";

/// `/shrug` (upstream `shrugRe`).
pub static SHRUG_RE: GoRegex = GoRegex::new("pkg/plugins/shrug/shrug.go", r"(?mi)^/shrug\s*$");
/// `/unshrug` (upstream `unshrugRe`).
pub static UNSHRUG_RE: GoRegex = GoRegex::new("pkg/plugins/shrug/shrug.go", r"(?mi)^/unshrug\s*$");

/// What a comment asks: `Some(true)` to shrug, `Some(false)` to stop; `/shrug` wins.
pub fn requested(body: &str) -> Option<bool> {
    if SHRUG_RE.is_match(body) {
        Some(true)
    } else if UNSHRUG_RE.is_match(body) {
        Some(false)
    } else {
        None
    }
}

/// The actions for `want` on `org/repo#number`, given whether it `has_shrug`; replies quote
/// `body` (at `url`, by `user`).
#[allow(clippy::too_many_arguments)]
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    user: &str,
    body: &str,
    url: &str,
    want: bool,
    has_shrug: bool,
) -> Vec<Action> {
    match (want, has_shrug) {
        (true, false) => vec![Action::AddLabels {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            labels: vec![SHRUG_LABEL.to_owned()],
        }],
        (false, true) => vec![
            Action::Comment {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                body: format_response_raw(body, url, user, UNSHRUG_REPLY),
            },
            Action::RemoveLabel {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                label: SHRUG_LABEL.to_owned(),
            },
        ],
        _ => Vec::new(),
    }
}

/// The shrug plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shrug;

#[async_trait]
impl Plugin for Shrug {
    fn name(&self) -> &'static str {
        "shrug"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            SHRUG_LABEL,
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/[un]shrug",
            SHRUG_LABEL,
            &format!("Anyone, {SHRUG_LABEL}"),
            &["/shrug", "/unshrug"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let Some(want) = requested(ctx.commands) else {
            return Ok(Vec::new());
        };
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let has_shrug = labels.iter().any(|l| l.name == SHRUG_LABEL);
        Ok(decide(
            org,
            repo,
            number,
            &gc.user.login,
            &gc.body,
            &gc.html_url,
            want,
            has_shrug,
        ))
    }
}
