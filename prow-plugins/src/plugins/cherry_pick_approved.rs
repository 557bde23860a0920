//! cherry-pick-approved: a configured cherry-pick approver's approving review of a pull request
//! to a release branch adds `cherry-pick-approved` (and removes
//! `do-not-merge/cherry-pick-not-approved`) once the pull request has `lgtm` and `approved`, no
//! failing status and no blocking label (upstream `pkg/plugins/cherrypickapproved`).
//!
//! Only the approvers listed for the repository count; anybody else's review changes nothing
//! and gets no reply, as upstream.

use async_trait::async_trait;
use prow_config::plugins::{CherryPickApproved as Settings, PluginConfig};
use prow_github::events::Event;
use prow_github::types::StatusState;

use super::cherry_pick_unapproved::{APPROVED, UNAPPROVED};
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The branches of cherry-picks when `branchregexp` is unset (upstream's default).
pub const DEFAULT_BRANCHES: &str = "^release-.*$";

/// Labels that keep a pull request from being approved for cherry-picking (upstream's list).
pub const BLOCKING: [&str; 10] = [
    super::blockade::LABEL,
    super::cla::CLA_NO,
    super::hold::HOLD_LABEL,
    super::verify_owners::INVALID_OWNERS,
    "bugzilla/invalid-bug",
    super::mergecommitblocker::LABEL,
    crate::trust::NEEDS_OK_TO_TEST,
    super::needs_rebase::LABEL,
    super::release_note::NEEDED,
    super::wip::WIP_LABEL,
];

/// The settings of `org/repo`: the last entry naming both (upstream reads them all and keeps the
/// last).
pub fn settings_for<'a>(all: &'a [Settings], org: &str, repo: &str) -> Option<&'a Settings> {
    all.iter().rev().find(|s| s.org == org && s.repo == repo)
}

/// Whether a review on a pull request to `branch` by `reviewer` is one the plugin acts on under
/// `settings`: approvers configured, the branch a cherry-pick branch, the reviewer one of them.
pub fn applies(settings: &Settings, branch: &str, reviewer: &str) -> bool {
    if settings.approvers.is_empty() {
        return false;
    }
    let pattern = if settings.branchregexp.is_empty() {
        DEFAULT_BRANCHES
    } else {
        &settings.branchregexp
    };
    let branch_ok = match prow_config::goregex::shared(pattern) {
        Ok(re) => re.is_match(branch),
        Err(e) => {
            tracing::error!(plugin = "cherry-pick-approved", pattern, error = %e, "failed to compile the branch regexp");
            false
        }
    };
    branch_ok && settings.approvers.iter().any(|a| a == reviewer)
}

/// The label changes on `org/repo#number` with `labels` and commit statuses `states`.
pub fn decide(
    settings: &Settings,
    org: &str,
    repo: &str,
    number: u64,
    labels: &[String],
    states: &[StatusState],
) -> Vec<Action> {
    if states
        .iter()
        .any(|s| matches!(s, StatusState::Error | StatusState::Failure))
    {
        return Vec::new();
    }
    let has = |l: &str| labels.iter().any(|x| x.eq_ignore_ascii_case(l));
    let lgtm = has(super::lgtm::LGTM_LABEL) || settings.allow_missing_lgtm_label;
    let approved = has(super::approve::APPROVED_LABEL) || settings.allow_missing_approved_label;
    if !lgtm || !approved || BLOCKING.iter().any(|l| has(l)) {
        return Vec::new();
    }
    let mut actions = Vec::new();
    if !has(APPROVED) {
        actions.push(Action::label(org, repo, number, APPROVED, true));
    }
    if has(UNAPPROVED) {
        actions.push(Action::label(org, repo, number, UNAPPROVED, false));
    }
    actions
}

/// The cherry-pick-approved plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct CherryPickApprovedPlugin;

#[async_trait]
impl Plugin for CherryPickApprovedPlugin {
    fn name(&self) -> &'static str {
        "cherry-pick-approved"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The cherry-pick-approved plugin helps a defined set of maintainers to approve cherry-picks by using GitHub reviews",
            &["pull_request_review"],
        );
        help.config.insert(
            String::new(),
            "The cherry-pick-approved plugin treats PRs against branch names satisfying the `branchregexp` as cherry-pick PRs. There needs to be a defined `approvers` list for the plugin to be able to distinguish cherry-pick approvers from regular maintainers.".to_owned(),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequestReview(re) = event else {
            return Ok(Vec::new());
        };
        let (org, repo) = (re.repository.org(), re.repository.name.as_str());
        let pr = &re.pull_request;
        let Some(settings) = settings_for(&ctx.plugins.cherry_pick_approved, org, repo) else {
            return Ok(Vec::new());
        };
        let reviewer = &re.review.user.login;
        if !applies(settings, &pr.base.git_ref, reviewer)
            || re.action != "submitted"
            || !re.review.state.eq_ignore_ascii_case("approved")
        {
            tracing::debug!(plugin = "cherry-pick-approved", org, repo, pr = pr.number, reviewer = %reviewer, "not a cherry-pick approval");
            return Ok(Vec::new());
        }
        let status = ctx.combined_status(org, repo, &pr.head.sha).await?;
        let states: Vec<StatusState> = status.statuses.iter().map(|s| s.state).collect();
        let labels = ctx.labels(org, repo, pr.number).await?;
        Ok(decide(settings, org, repo, pr.number, &labels, &states))
    }
}
