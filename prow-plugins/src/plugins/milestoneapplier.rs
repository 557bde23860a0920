//! milestoneapplier: sets the milestone configured for a pull request's base branch
//! (`milestone_applier: {org/repo: {branch: milestone}}`) when the pull request merges, and
//! for branches other than the default one already when it opens (upstream
//! `pkg/plugins/milestoneapplier`).
//!
//! Webhook payloads as read here do not carry the pull request's current milestone, so the
//! milestone is set even when it is already the right one (GitHub takes that as a no-op).

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::Milestone;

use crate::PluginHelp;
use crate::{Action, Context, Plugin, PluginError};

/// The milestone title configured for `branch` of `org/repo`.
pub fn configured<'a>(
    plugins: &'a PluginConfig,
    org: &str,
    repo: &str,
    branch: &str,
) -> Option<&'a str> {
    plugins
        .milestone_applier
        .get(&format!("{org}/{repo}"))
        .and_then(|branches| branches.get(branch))
        .map(String::as_str)
}

/// Whether the event calls for the milestone: a merge, or the opening of a pull request
/// against a branch other than the default one.
pub fn applies(action: &str, merged: bool, base: &str, default_branch: &str) -> bool {
    let merged = action == "closed" && merged;
    merged || (base != default_branch && action == "opened")
}

/// The action setting `title` on `org/repo#number`, or why it cannot.
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    branch: &str,
    title: &str,
    milestones: &[Milestone],
) -> Result<Action, String> {
    let m = milestones.iter().find(|m| m.title == title).ok_or_else(|| {
        format!(
            "The configured milestone {title} for {branch} branch does not exist in the {org}/{repo} repo"
        )
    })?;
    Ok(Action::SetMilestone {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        milestone: Some(m.number),
    })
}

/// The milestoneapplier plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct MilestoneApplier;

#[async_trait]
impl Plugin for MilestoneApplier {
    fn name(&self) -> &'static str {
        "milestoneapplier"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The milestoneapplier plugin automatically applies the configured milestone for the base branch after a PR is merged. If a PR targets a non-default branch, it also adds the milestone when the PR is opened.",
            &["pull_request"],
        );
        for (repo, branches) in plugins.milestone_applier.iter() {
            let lines: Vec<String> = branches
                .iter()
                .map(|(b, m)| format!("- `{b}`: `{m}`"))
                .collect();
            help.config.insert(
                repo.clone(),
                format!(
                    "The configured branches and milestones for this repo are:\n{}",
                    lines.join("\n")
                ),
            );
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        let pr = &pe.pull_request;
        let (org, repo) = (pe.repository.org(), pe.repository.name.as_str());
        let branch = pr.base.git_ref.as_str();
        let Some(title) = configured(ctx.plugins, org, repo, branch) else {
            return Ok(Vec::new());
        };
        let default_branch = &pe.repository.default_branch;
        if !applies(
            &pe.action,
            pr.merged.unwrap_or(false),
            branch,
            default_branch,
        ) {
            return Ok(Vec::new());
        }
        let milestones = ctx
            .github
            .milestones(org, repo)
            .await
            .map_err(PluginError::github(format!(
                "list the milestones of {org}/{repo}"
            )))?;
        decide(org, repo, pr.number, branch, title, &milestones)
            .map(|a| vec![a])
            .map_err(PluginError::Other)
    }
}
