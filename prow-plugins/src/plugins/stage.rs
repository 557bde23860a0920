//! stage: `/stage alpha|beta|stable` labels an issue `stage/<stage>` (replacing another stage
//! label) and `/remove-stage <stage>` removes it; anyone may use it (upstream
//! `pkg/plugins/stage`).

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The stage labels (upstream `stageLabels`).
pub const LABELS: [&str; 3] = ["stage/alpha", "stage/beta", "stage/stable"];

/// `/[remove-]stage <alpha|beta|stable>` (upstream `stageRe`).
pub static STAGE_RE: GoRegex = GoRegex::new(
    "pkg/plugins/stage/stage.go",
    r"(?mi)^/(remove-)?stage (alpha|beta|stable)\s*$",
);

/// The commands of `body` in order: (remove, stage as written).
pub fn requested(body: &str) -> Vec<(bool, String)> {
    STAGE_RE
        .captures_iter(body)
        .map(|c| {
            (
                c.get(1).is_some(),
                c.get(2).map_or("", |m| m.as_str()).to_owned(),
            )
        })
        .collect()
}

/// The label changes on `org/repo#number` with `labels` for `body`'s commands, each applied to
/// the labels the earlier ones left (upstream reads the labels again for each).
pub fn decide(org: &str, repo: &str, number: u64, body: &str, labels: &[String]) -> Vec<Action> {
    let mut labels = labels.to_vec();
    let has = |labels: &[String], l: &str| labels.iter().any(|x| x.eq_ignore_ascii_case(l));
    let mut actions = Vec::new();
    for (remove, stage) in requested(body) {
        let label = format!("stage/{stage}");
        if remove {
            if has(&labels, &label) {
                labels.retain(|l| !l.eq_ignore_ascii_case(&label));
                actions.push(Action::label(org, repo, number, &label, false));
            }
            continue;
        }
        if has(&labels, &label) {
            continue;
        }
        for other in LABELS {
            if !other.eq_ignore_ascii_case(&label) && has(&labels, other) {
                labels.retain(|l| !l.eq_ignore_ascii_case(other));
                actions.push(Action::label(org, repo, number, other, false));
            }
        }
        labels.push(label.clone());
        actions.push(Action::label(org, repo, number, &label, true));
    }
    actions
}

/// The stage plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stage;

#[async_trait]
impl Plugin for Stage {
    fn name(&self) -> &'static str {
        "stage"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "Label the stage of an issue as alpha/beta/stable",
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/[remove-]stage <alpha|beta|stable>",
            "Labels the stage of an issue as alpha/beta/stable",
            "Anyone can trigger this command.",
            &["/stage alpha", "/remove-stage alpha"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created || !STAGE_RE.is_match(ctx.commands) {
            return Ok(Vec::new());
        }
        let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
        let labels = ctx.labels(org, repo, gc.number).await?;
        Ok(decide(org, repo, gc.number, ctx.commands, &labels))
    }
}
