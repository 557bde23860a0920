//! milestonestatus: `/status approved-for-milestone|in-progress|in-review` lets members of the
//! milestone maintainers team put a `status/*` label on an issue or pull request (upstream
//! `pkg/plugins/milestonestatus`).

use async_trait::async_trait;
use prow_config::plugins::{Milestone, PluginConfig};
use prow_github::events::{CommentAction, Event, GenericCommentEvent};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// `/status <status>` (upstream `statusRegex`; case-sensitive).
pub static STATUS_RE: GoRegex = GoRegex::new(
    "pkg/plugins/milestonestatus/milestonestatus.go",
    r"(?m)^/status\s+(.+)$",
);

/// The statuses and their labels (upstream `statusMap`).
pub const STATUSES: [(&str, &str); 3] = [
    ("approved-for-milestone", "status/approved-for-milestone"),
    ("in-progress", "status/in-progress"),
    ("in-review", "status/in-review"),
];

/// The labels `/status` lines in `body` ask for, in order; unknown statuses are skipped.
pub fn requested(body: &str) -> Vec<&'static str> {
    STATUS_RE
        .captures_iter(body)
        .filter_map(|c| {
            let status = c.get(1)?.as_str().trim();
            STATUSES.iter().find(|(s, _)| *s == status).map(|(_, l)| *l)
        })
        .collect()
}

/// The milestone settings of `org/repo` (upstream falls back to the `""` entry).
pub fn settings<'a>(plugins: &'a PluginConfig, org: &str, repo: &str) -> Option<&'a Milestone> {
    plugins
        .repo_milestone
        .get(&format!("{org}/{repo}"))
        .or_else(|| plugins.repo_milestone.get(""))
}

/// The reply to a user outside the team (upstream `mustBeAuthorized`).
pub fn must_be_authorized(org: &str, team: &str, friendly_name: &str) -> String {
    format!(
        "You must be a member of the [{org}/{team}](https://github.com/orgs/{org}/teams/{team}/members) GitHub team to add status labels. If you believe you should be able to issue the /status command, please contact your {friendly_name} and have them propose you as an additional delegate for this responsibility."
    )
}

/// What to do about `/status` in `gc`, by a user who is a member of the maintainers team or
/// not. Upstream comments the refusal without quoting the comment.
pub fn decide(gc: &GenericCommentEvent, milestone: &Milestone, member: bool) -> Vec<Action> {
    let labels = requested(&gc.body);
    if gc.action != CommentAction::Created || !STATUS_RE.is_match(&gc.body) {
        return Vec::new();
    }
    let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
    if !member {
        return vec![Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number: gc.number,
            body: must_be_authorized(
                org,
                &milestone.maintainers_team,
                &milestone.maintainers_friendly_name,
            ),
        }];
    }
    labels
        .into_iter()
        .map(|label| Action::label(org, repo, gc.number, label, true))
        .collect()
}

/// The milestonestatus plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct MilestoneStatus;

#[async_trait]
impl Plugin for MilestoneStatus {
    fn name(&self) -> &'static str {
        "milestonestatus"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The milestonestatus plugin allows members of the milestone maintainers GitHub team to specify the 'status/*' label that should apply to a pull request.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/status (approved-for-milestone|in-progress|in-review)",
            "Applies the 'status/' label to a PR.",
            "Members of the milestone maintainers GitHub team can use the '/status' command. This team is specified in the config by providing the GitHub team's ID.",
            &["/status approved-for-milestone", "/status in-progress", "/status in-review"],
        );
        for (key, team) in plugins.repo_milestone.iter() {
            help.config.insert(
                key.clone(),
                format!(
                    "The milestone maintainers team is the GitHub team {:?}",
                    team.maintainers_team
                ),
            );
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created || !STATUS_RE.is_match(ctx.commands) {
            return Ok(Vec::new());
        }
        let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
        let default = Milestone::default();
        let milestone = settings(ctx.plugins, org, repo).unwrap_or(&default);
        // Upstream can also list a team by its numeric id; GitHub's API asks by slug only.
        let member = !milestone.maintainers_team.is_empty()
            && ctx
                .github
                .is_team_member(org, &milestone.maintainers_team, &gc.user.login)
                .await
                .map_err(PluginError::github(format!(
                    "read the membership of {} in {org}/{}",
                    gc.user.login, milestone.maintainers_team
                )))?;
        if !member {
            tracing::info!(plugin = "milestonestatus", user = %gc.user.login, team = %milestone.maintainers_team, "refused /status: not in the milestone maintainers team");
        }
        Ok(decide(gc, milestone, member))
    }
}
