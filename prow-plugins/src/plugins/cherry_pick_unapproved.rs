//! cherry-pick-unapproved: pull requests against release branches (`branchregexp`) that lack
//! `cherry-pick-approved` get `do-not-merge/cherry-pick-not-approved` and the configured
//! comment; approval removes the label and the comments (upstream
//! `pkg/plugins/cherrypickunapproved`).

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{Event, PullRequestEvent};
use regex::Regex;

use crate::label_note::LabelNote;
use crate::respond::format_simple_response;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The approval label (upstream `labels.CpApproved`).
pub const APPROVED: &str = "cherry-pick-approved";
/// The label this plugin manages (upstream `labels.CpUnapproved`).
pub const UNAPPROVED: &str = "do-not-merge/cherry-pick-not-approved";

/// What the event asks the plugin to do (upstream `handlePR`'s cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing.
    None,
    /// Put the labels right for a cherry-pick pull request (`ensureLabels`).
    Ensure,
    /// The base moved off a release branch: drop both labels and the comments (`pruneLabels`).
    Prune,
}

/// The step for `event` under `branch_re`.
pub fn step(event: &PullRequestEvent, branch_re: &Regex) -> Step {
    let base = &event.pull_request.base.git_ref;
    match event.action.as_str() {
        "opened" | "reopened" if branch_re.is_match(base) => Step::Ensure,
        "labeled" | "unlabeled" if branch_re.is_match(base) => {
            match event.label.as_ref().map(|l| l.name.as_str()) {
                Some(APPROVED | UNAPPROVED) => Step::Ensure,
                _ => Step::None,
            }
        }
        "edited" => {
            let from = event
                .changes
                .as_ref()
                .and_then(|c| c.pointer("/base/ref/from"))
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if from.is_empty() {
                Step::None
            } else if branch_re.is_match(base) && !branch_re.is_match(from) {
                Step::Ensure
            } else if !branch_re.is_match(base) && branch_re.is_match(from) {
                Step::Prune
            } else {
                Step::None
            }
        }
        _ => Step::None,
    }
}

/// The actions of `step` on `org/repo#number` with its `labels` and the bot's comments, the
/// configured `comment` being the explanation.
pub fn decide(
    step: Step,
    (org, repo, number): (&str, &str, u64),
    labels: &[String],
    comment: &str,
    bot_comments: &[(u64, String)],
) -> Vec<Action> {
    let has = |l: &str| labels.iter().any(|x| x.eq_ignore_ascii_case(l));
    let note = LabelNote {
        org,
        repo,
        number,
        label: UNAPPROVED,
        marker: comment,
    };
    match step {
        Step::None => Vec::new(),
        Step::Ensure if has(APPROVED) => {
            let mut actions = Vec::new();
            if has(UNAPPROVED) {
                actions.push(Action::label(org, repo, number, UNAPPROVED, false));
            }
            actions.extend(note.prune(bot_comments));
            actions
        }
        Step::Ensure => note.decide(
            has(UNAPPROVED),
            true,
            || format_simple_response(comment),
            &[],
        ),
        Step::Prune => {
            let mut actions: Vec<Action> = [APPROVED, UNAPPROVED]
                .into_iter()
                .filter(|l| has(l))
                .map(|l| Action::label(org, repo, number, l, false))
                .collect();
            actions.extend(note.prune(bot_comments));
            actions
        }
    }
}

/// The cherry-pick-unapproved plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct CherryPickUnapproved;

#[async_trait]
impl Plugin for CherryPickUnapproved {
    fn name(&self) -> &'static str {
        "cherry-pick-unapproved"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let settings = &plugins.cherry_pick_unapproved;
        let mut help = PluginHelp::new(
            "Label PRs against a release branch which do not have the `cherry-pick-approved` label with the `do-not-merge/cherry-pick-not-approved` label.",
            &["pull_request"],
        );
        help.config.insert(
            String::new(),
            format!(
                "The cherry-pick-unapproved plugin treats PRs against branch names satisfying the regular expression `{}` as cherry-pick PRs and adds the following comment:\n{}",
                settings.branchregexp, settings.comment
            ),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        let settings = &ctx.plugins.cherry_pick_unapproved;
        let branch_re = prow_config::goregex::shared(&settings.branchregexp).map_err(|e| {
            PluginError::Other(format!(
                "cherry_pick_unapproved.branchregexp {:?}: {e}",
                settings.branchregexp
            ))
        })?;
        let step = step(pe, &branch_re);
        if step == Step::None {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (pe.repository.org(), pe.repository.name.as_str(), pe.number);
        let labels = ctx.labels(org, repo, number).await?;
        let comments = ctx.bot_comments(org, repo, number).await?;
        Ok(decide(
            step,
            (org, repo, number),
            &labels,
            &settings.comment,
            &comments,
        ))
    }
}
