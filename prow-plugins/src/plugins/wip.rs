//! wip: keeps `do-not-merge/work-in-progress` on pull requests whose title starts with `WIP`
//! (`WIP:`, `[WIP]`, …) or that are drafts, and removes it otherwise (upstream
//! `pkg/plugins/wip`).

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label.
pub const WIP_LABEL: &str = "do-not-merge/work-in-progress";

/// A title that says work in progress (upstream `titleRegex`).
static TITLE_RE: GoRegex = GoRegex::new("pkg/plugins/wip/wip-label.go", r"(?i)^\W?WIP\W");

/// Whether a pull request with `title`, a draft or not, is a work in progress.
pub fn in_progress(title: &str, draft: bool) -> bool {
    draft || TITLE_RE.is_match(title)
}

/// The actions for `org/repo#number` with `title` and `draft`, given whether it `has_label`.
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    title: &str,
    draft: bool,
    has_label: bool,
) -> Vec<Action> {
    match (in_progress(title, draft), has_label) {
        (true, false) => vec![Action::AddLabels {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            labels: vec![WIP_LABEL.to_owned()],
        }],
        (false, true) => vec![Action::RemoveLabel {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            label: WIP_LABEL.to_owned(),
        }],
        _ => Vec::new(),
    }
}

/// The wip plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wip;

#[async_trait]
impl Plugin for Wip {
    fn name(&self) -> &'static str {
        "wip"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            format!(
                "The wip (Work In Progress) plugin applies the '{WIP_LABEL}' Label to pull requests whose title starts with 'WIP' or are in the 'draft' stage, and removes it from pull requests when they remove the title prefix or become ready for review. The '{WIP_LABEL}' Label is typically used to block a pull request from merging while it is still in progress."
            ),
            &["pull_request"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if !matches!(
            pe.action.as_str(),
            "opened" | "reopened" | "edited" | "ready_for_review" | "converted_to_draft"
        ) {
            return Ok(Vec::new());
        }
        let pr = &pe.pull_request;
        let (org, repo, number) = (pe.repository.org(), pe.repository.name.as_str(), pr.number);
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let has_label = labels.iter().any(|l| l.name == WIP_LABEL);
        Ok(decide(
            org,
            repo,
            number,
            &pr.title,
            pr.draft.unwrap_or(false),
            has_label,
        ))
    }
}
