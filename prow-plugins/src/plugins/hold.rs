//! hold: `/hold` and `/hold cancel` add and remove `do-not-merge/hold` (upstream
//! `pkg/plugins/hold`). Anyone may use it.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event, GenericCommentEvent};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label that blocks merging.
pub const HOLD_LABEL: &str = "do-not-merge/hold";

/// The hold plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hold;

const HOLD_GO: &str = "pkg/plugins/hold/hold.go";
/// `/hold`, with anything after it (upstream `labelRe`).
pub static HOLD_RE: GoRegex = GoRegex::new(HOLD_GO, r"(?mi)^/hold(\s.*)?$");
/// `/hold cancel`, `/unhold` and `/remove-hold` (upstream `labelCancelRe`).
pub static HOLD_CANCEL_RE: GoRegex = GoRegex::new(
    HOLD_GO,
    r"(?mi)^/(remove-hold|hold\s+cancel|unhold)(\s.*)?$",
);

/// What a comment asks of the hold label: `Some(true)` to hold, `Some(false)` to release.
/// Upstream looks for a release first, so it wins over `/hold` anywhere in the comment.
pub fn requested(body: &str) -> Option<bool> {
    if HOLD_CANCEL_RE.is_match(body) {
        Some(false)
    } else if HOLD_RE.is_match(body) {
        Some(true)
    } else {
        None
    }
}

/// The actions for a comment on an issue or pull request with `has_hold` telling whether the
/// label is there now.
pub fn decide(gc: &GenericCommentEvent, has_hold: bool) -> Vec<Action> {
    let Some(hold) = requested(&gc.body) else {
        return Vec::new();
    };
    let (org, repo) = (gc.repo.org().to_owned(), gc.repo.name.clone());
    match (hold, has_hold) {
        (true, false) => vec![Action::AddLabels {
            org,
            repo,
            number: gc.number,
            labels: vec![HOLD_LABEL.to_owned()],
        }],
        (false, true) => vec![Action::RemoveLabel {
            org,
            repo,
            number: gc.number,
            label: HOLD_LABEL.to_owned(),
        }],
        _ => Vec::new(),
    }
}

#[async_trait]
impl Plugin for Hold {
    fn name(&self) -> &'static str {
        "hold"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The hold plugin allows anyone to add or remove the 'do-not-merge/hold' Label from a pull request in order to temporarily prevent the PR from merging without withholding approval.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/[remove-](hold|unhold)",
            "Adds or removes the `do-not-merge/hold` Label which is used to indicate that the PR should not be automatically merged.",
            "Anyone can use the /hold command to add or remove the 'do-not-merge/hold' Label.",
            &["/hold", "/hold cancel", "/unhold", "/remove-hold"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created || requested(ctx.commands).is_none() {
            return Ok(Vec::new());
        }
        let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
        let labels = ctx
            .github
            .issue_labels(org, repo, gc.number)
            .await
            .map_err(PluginError::github(format!(
                "read the labels of {org}/{repo}#{}",
                gc.number
            )))?;
        let has_hold = labels.iter().any(|l| l.name == HOLD_LABEL);
        Ok(decide(gc, has_hold))
    }
}
