//! milestone: `/milestone v1.2` sets and `/milestone clear` clears the milestone of an issue
//! or pull request, for members of the repository's milestone maintainers team
//! (`repo_milestone`, by `org/repo` or the empty key for the default) (upstream
//! `pkg/plugins/milestone`).
//!
//! The team is checked by its slug (`maintainers_team`); a configuration with only the
//! deprecated numeric `maintainers_id` lets nobody set milestones here.

use async_trait::async_trait;
use prow_config::plugins::{Milestone as MilestoneSettings, PluginConfig};
use prow_github::events::{CommentAction, Event};
use prow_github::types::Milestone;

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The argument that clears the milestone.
pub const CLEAR: &str = "clear";

/// `/milestone <name>` (upstream `milestoneRegex`; case-sensitive).
pub static MILESTONE_RE: GoRegex = GoRegex::new(
    "pkg/plugins/milestone/milestone.go",
    r"(?m)^/milestone\s+(.+?)\s*$",
);

/// The milestone the first `/milestone` line of `body` names.
pub fn requested(body: &str) -> Option<String> {
    MILESTONE_RE.captures(body).map(|c| c[1].to_owned())
}

/// The settings for `org/repo`: its own entry, else the default (empty key).
pub fn settings_for(plugins: &PluginConfig, org: &str, repo: &str) -> MilestoneSettings {
    plugins
        .repo_milestone
        .get(&format!("{org}/{repo}"))
        .or_else(|| plugins.repo_milestone.get(""))
        .cloned()
        .unwrap_or_else(|| {
            let mut s = MilestoneSettings::default();
            s.maintainers_friendly_name = "SIG Chairs/TLs".to_owned();
            s
        })
}

pub use crate::Request;

/// The actions for `wanted` (a title or `clear`) from `request`, given whether the commenter
/// `is_maintainer`, the repository's `milestones` and `settings`.
pub fn decide(
    request: &Request<'_>,
    wanted: &str,
    is_maintainer: bool,
    milestones: &[Milestone],
    settings: &MilestoneSettings,
) -> Vec<Action> {
    let (org, repo, number) = (request.org, request.repo, request.number);
    let reply = |text: &str| vec![request.reply(text)];
    if !is_maintainer {
        let team = &settings.maintainers_team;
        return reply(&format!(
            "You must be a member of the [{org}/{team}](https://github.com/orgs/{org}/teams/{team}/members) GitHub team to set the milestone. If you believe you should be able to issue the /milestone command, please contact your {} and have them propose you as an additional delegate for this responsibility.",
            settings.maintainers_friendly_name
        ));
    }
    let set = |milestone| {
        vec![Action::SetMilestone {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            milestone,
        }]
    };
    if wanted == CLEAR {
        return set(None);
    }
    match milestones.iter().find(|m| m.title == wanted) {
        Some(m) => set(Some(m.number)),
        None => {
            let mut titles: Vec<String> = milestones
                .iter()
                .map(|m| format!("`{}`", m.title))
                .collect();
            titles.sort();
            titles.dedup();
            reply(&format!(
                "The provided milestone is not valid for this repository. Milestones in this repository: [{}]\n\nUse `/milestone {CLEAR}` to clear the milestone.",
                titles.join(", ")
            ))
        }
    }
}

/// The milestone plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct MilestonePlugin;

#[async_trait]
impl Plugin for MilestonePlugin {
    fn name(&self) -> &'static str {
        "milestone"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The milestone plugin allows members of a configurable GitHub team to set the milestone on an issue or pull request.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/milestone <version> or /milestone clear",
            "Updates the milestone for an issue or PR",
            "Members of the milestone maintainers GitHub team can use the '/milestone' command.",
            &["/milestone v1.10", "/milestone v1.9", "/milestone clear"],
        );
        for (key, team) in plugins.repo_milestone.iter() {
            help.config.insert(
                key.clone(),
                format!(
                    "The milestone maintainers team is the GitHub team {:?} with ID: {}.",
                    team.maintainers_team, team.maintainers_id
                ),
            );
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let Some(wanted) = requested(ctx.commands) else {
            return Ok(Vec::new());
        };
        let (org, repo, user) = (gc.repo.org(), gc.repo.name.as_str(), gc.user.login.as_str());
        let settings = settings_for(ctx.plugins, org, repo);
        let is_maintainer = if settings.maintainers_team.is_empty() {
            false
        } else {
            ctx.github
                .is_team_member(org, &settings.maintainers_team, user)
                .await
                .map_err(PluginError::github(format!(
                    "check whether {user} belongs to team {org}/{}",
                    settings.maintainers_team
                )))?
        };
        let milestones = if is_maintainer && wanted != CLEAR {
            ctx.github
                .milestones(org, repo)
                .await
                .map_err(PluginError::github(format!(
                    "list the milestones of {org}/{repo}"
                )))?
        } else {
            Vec::new()
        };
        let request = Request {
            org,
            repo,
            number: gc.number,
            user,
            body: &gc.body,
            url: &gc.html_url,
        };
        Ok(decide(
            &request,
            &wanted,
            is_maintainer,
            &milestones,
            &settings,
        ))
    }
}
