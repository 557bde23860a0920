//! skip: `/skip` on a pull request marks the failed statuses of optional presubmits (those
//! whose context is not required) as skipped successes, so that stale failures of
//! non-blocking jobs stop showing (upstream `pkg/plugins/skip`). Anyone may use it.
//!
//! Jobs that a `/test` line of the same comment starts are left alone, as Prow leaves them to
//! trigger.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::{CombinedStatus, Status, StatusState};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// `/skip` (upstream `skipRe`).
pub static SKIP_RE: GoRegex = GoRegex::new("pkg/plugins/skip/skip.go", r"(?mi)^/skip\s*$");

/// Whether `body` asks to skip.
pub fn requested(body: &str) -> bool {
    SKIP_RE.is_match(body)
}

/// A presubmit as skip sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its status context.
    pub context: String,
    /// Whether its context is required (neither optional nor unreported).
    pub required: bool,
    /// Whether the same comment starts it.
    pub triggered: bool,
}

/// The statuses to set on `sha` of `org/repo` for `jobs`, given the commit's `combined`
/// status: a "Skipped" success for each optional job whose status is there and not a success.
pub fn decide(
    org: &str,
    repo: &str,
    sha: &str,
    jobs: &[Job],
    combined: &CombinedStatus,
) -> Vec<Action> {
    if combined.state == StatusState::Success {
        return Vec::new();
    }
    jobs.iter()
        .filter(|j| !j.required && !j.triggered)
        .filter(|j| {
            let mine = combined.statuses.iter().filter(|s| s.context == j.context);
            let mut any = false;
            for s in mine {
                if s.state == StatusState::Success {
                    return false;
                }
                any = true;
            }
            any
        })
        .map(|j| Action::Status {
            org: org.to_owned(),
            repo: repo.to_owned(),
            sha: sha.to_owned(),
            status: Status {
                state: StatusState::Success,
                context: j.context.clone(),
                description: Some("Skipped".to_owned()),
                target_url: None,
            },
        })
        .collect()
}

/// The skip plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Skip;

#[async_trait]
impl Plugin for Skip {
    fn name(&self) -> &'static str {
        "skip"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The skip plugin allows users to clean up GitHub stale commit statuses for non-blocking jobs on a PR.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/skip",
            "Cleans up GitHub stale commit statuses for non-blocking jobs on a PR.",
            "Anyone can trigger this command on a PR.",
            &["/skip"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if !gc.is_new_on_open_pull_request() {
            return Ok(Vec::new());
        }
        if !requested(ctx.commands) {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let pr = ctx.pull_request(org, repo, number).await?;
        let jobs: Vec<Job> = ctx
            .config
            .jobs
            .presubmits
            .get(&format!("{org}/{repo}"))
            .into_iter()
            .flatten()
            .map(|j| Job {
                context: j.context.clone(),
                required: j.context_required(),
                triggered: j.trigger_matches(&gc.body),
            })
            .collect();
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let combined = ctx.combined_status(org, repo, &pr.head.sha).await?;
        Ok(decide(org, repo, &pr.head.sha, &jobs, &combined))
    }
}
