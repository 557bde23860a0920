//! retitle: `/retitle <title>` renames an issue or pull request for trusted users who cannot
//! edit it themselves (upstream `pkg/plugins/retitle`).

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event, GenericCommentEvent};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp, Request};

/// `/retitle <title>` (upstream `retitleRe`).
pub static RETITLE_RE: GoRegex =
    GoRegex::new("pkg/plugins/retitle/retitle.go", r"(?mi)^/retitle\s*(.*)$");

/// Keywords that close issues (upstream `invalidcommitmsg.CloseIssueRegex`, which retitle
/// uses).
pub use super::invalidcommitmsg::CLOSE_ISSUE_RE;

/// The reply to an untrusted user.
pub const NOT_TRUSTED: &str =
    "Re-titling can only be requested by trusted users, like repository collaborators.";
/// The reply to `/retitle` without a title.
pub const EMPTY: &str = "Titles may not be empty.";
/// The reply to a title that would close issues.
pub const CLOSES_ISSUES: &str = "Titles may not contain [keywords](https://help.github.com/articles/closing-issues-using-keywords) which can automatically close issues.";

/// The title a comment asks for: `None` without a `/retitle`, else its trimmed text (maybe
/// empty).
pub fn requested(body: &str) -> Option<String> {
    RETITLE_RE
        .captures(body)
        .map(|c| c.get(1).map_or("", |m| m.as_str()).trim().to_owned())
}

/// What to do about `/retitle` in `request`, asked by a user who is `trusted` or not.
pub fn decide(request: &Request<'_>, trusted: bool) -> Vec<Action> {
    let Some(title) = requested(request.body) else {
        return Vec::new();
    };
    if !trusted {
        return vec![request.reply(NOT_TRUSTED)];
    }
    if title.is_empty() {
        return vec![request.reply(EMPTY)];
    }
    if CLOSE_ISSUE_RE.is_match(&title) {
        return vec![request.reply(CLOSES_ISSUES)];
    }
    vec![Action::EditTitle {
        org: request.org.to_owned(),
        repo: request.repo.to_owned(),
        number: request.number,
        title,
    }]
}

/// Whether the plugin looks at `gc` at all: new comments on open issues (or any, with
/// `allow_closed_issues`).
pub fn applies(gc: &GenericCommentEvent, allow_closed_issues: bool) -> bool {
    (allow_closed_issues || gc.issue_state == "open") && gc.action == CommentAction::Created
}

/// The retitle plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Retitle;

#[async_trait]
impl Plugin for Retitle {
    fn name(&self) -> &'static str {
        "retitle"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let config = if plugins.retitle.allow_closed_issues {
            "The retitle plugin also allows retitling closed/merged issues and PRs."
        } else {
            "The retitle plugin does not allow retitling closed/merged issues and PRs."
        };
        let mut help = PluginHelp::new(
            "The retitle plugin allows users to re-title pull requests and issues where GitHub permissions don't allow them to.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/retitle <title>",
            "Edits the pull request or issue title.",
            "Collaborators on the repository.",
            &["/retitle New Title"],
        )
        .featured();
        help.config.insert(String::new(), config.to_owned());
        help
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if !applies(gc, ctx.plugins.retitle.allow_closed_issues)
            || requested(ctx.commands).is_none()
        {
            return Ok(Vec::new());
        }
        let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
        let trigger = ctx.plugins.trigger_for(org, repo);
        let trusted =
            crate::trust::trusted_user(ctx.github, &trigger, ctx.bot, &gc.user.login, org, repo)
                .await?;
        let request = Request::of(gc);
        Ok(decide(&request, trusted))
    }
}
