//! refresh: `/refresh` on an open pull request sets again the commit statuses of its latest
//! presubmits at its head, for when GitHub lost them (upstream `cmd/external-plugins/refresh`).
//! It runs built in (`plugins: [refresh]`) or as the external plugin server
//! `prow external-plugin refresh`.
//!
//! Upstream reads the jobs from deck's `/prowjobs.js`; here they come from the job store, and
//! each status is the one crier's GitHub reporter sets
//! ([`prow_jobs::crier::status::status_update`] under `github_reporter`).

use std::collections::BTreeMap;

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_core::{ProwJob, ProwJobType};
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The plugin's name.
pub const NAME: &str = "refresh";

/// `/refresh` (upstream `refreshRe`).
pub static REFRESH_RE: GoRegex = GoRegex::new(
    "cmd/external-plugins/refresh/server.go",
    r"(?mi)^/refresh\s*$",
);

/// Whether a comment asks for a refresh.
pub fn requested(body: &str) -> bool {
    REFRESH_RE.is_match(body)
}

/// The statuses to set again for pull request `number` at `head`: of the reported presubmits
/// that tested that commit, the latest run of each job (upstream `GetLatestProwJobs`).
pub fn statuses(
    jobs: &[ProwJob],
    number: u64,
    head: &str,
    reporter: &prow_config::prow::GitHubReporter,
) -> Vec<Action> {
    let mut latest: BTreeMap<&str, &ProwJob> = BTreeMap::new();
    for job in jobs {
        let spec = &job.spec;
        let tested = spec
            .refs
            .as_ref()
            .and_then(|r| r.pulls.first())
            .is_some_and(|p| p.number == number && p.sha == head);
        if spec.job_type != ProwJobType::Presubmit || !spec.report || !tested {
            continue;
        }
        let started = |j: &ProwJob| j.status.as_ref().and_then(|s| s.start_time.clone());
        match latest.get(spec.job.as_str()) {
            Some(seen) if started(seen) >= started(job) => {}
            _ => {
                latest.insert(&spec.job, job);
            }
        }
    }
    latest
        .values()
        .filter_map(|job| prow_jobs::crier::status::status_update(job, reporter))
        .map(|u| Action::Status {
            org: u.org,
            repo: u.repo,
            sha: u.sha,
            status: u.status,
        })
        .collect()
}

/// The refresh plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refresh;

#[async_trait]
impl Plugin for Refresh {
    fn name(&self) -> &'static str {
        NAME
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The refresh plugin is used for refreshing status contexts in PRs. Useful in case GitHub breaks down.",
            &["issue_comment"],
        )
        .command(
            "/refresh",
            "Refresh status contexts on a PR.",
            "Anyone",
            &["/refresh"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let (Event::IssueComment(_), Some(gc)) = (event, ctx.comment) else {
            return Ok(Vec::new());
        };
        if !gc.is_pr
            || gc.action != CommentAction::Created
            || gc.issue_state == "closed"
            || !requested(ctx.commands)
        {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        tracing::info!(
            plugin = NAME,
            org,
            repo,
            pr = number,
            "requested a status refresh"
        );
        let jobs = ctx.presubmits(org, repo, number).await?;
        let pr = ctx.pull_request_of(gc).await?;
        let actions = statuses(
            &jobs,
            number,
            &pr.head.sha,
            &ctx.config.prow.github_reporter,
        );
        if actions.is_empty() {
            tracing::info!(plugin = NAME, org, repo, pr = number, "no prowjobs found");
        }
        Ok(actions)
    }
}
