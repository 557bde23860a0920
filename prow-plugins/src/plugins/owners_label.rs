//! owners-label: adds the labels that OWNERS files list (`labels:`) for the files a pull
//! request changes (upstream `pkg/plugins/owners-label`).
//!
//! Labels the repository does not define are skipped with a log line, as Prow does.

use std::collections::BTreeSet;

use async_trait::async_trait;
use prow_config::owners::RepoOwners;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;

use crate::owners_loader::OwnersLoader;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The labels to add: those OWNERS name for `files`, that the repository defines and the pull
/// request lacks; and those it would add but the repository does not define.
pub fn decide(
    owners: &RepoOwners,
    files: &[String],
    repo_labels: &BTreeSet<String>,
    current: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let needed: BTreeSet<String> = files.iter().flat_map(|f| owners.labels_for(f)).collect();
    let mut add = Vec::new();
    let mut missing = Vec::new();
    for label in needed.difference(current) {
        if repo_labels.contains(label) {
            add.push(label.clone());
        } else {
            missing.push(label.clone());
        }
    }
    (add, missing)
}

/// The owners-label plugin.
#[derive(Debug, Default)]
pub struct OwnersLabel {
    loader: OwnersLoader,
}

#[async_trait]
impl Plugin for OwnersLabel {
    fn name(&self) -> &'static str {
        "owners-label"
    }

    fn help(&self, _plugins: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The owners-label plugin automatically adds labels to PRs based on the files they touch. Specifically, the 'labels' sections of OWNERS files are used to determine which labels apply to the changes.",
            &["pull_request"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if !matches!(pe.action.as_str(), "opened" | "reopened" | "synchronize") {
            return Ok(Vec::new());
        }
        let org = pe.repository.org();
        let repo = pe.repository.name.as_str();
        let number = pe.number;
        let gh = ctx.github;
        let what = |w: &str| PluginError::github(format!("read the {w} of {org}/{repo}#{number}"));
        let files: Vec<String> = gh
            .pull_request_files(org, repo, number)
            .await
            .map_err(what("files"))?
            .into_iter()
            .map(|f| f.filename)
            .collect();
        let owners = self
            .loader
            .load_at_base(ctx, org, repo, &pe.pull_request.base, &files)
            .await?;
        if files.iter().all(|f| owners.labels_for(f).is_empty()) {
            return Ok(Vec::new());
        }
        let repo_labels = ctx.repo_labels(org, repo).await?.into_iter().collect();
        let current = gh
            .issue_labels(org, repo, number)
            .await
            .map_err(what("labels"))?
            .into_iter()
            .map(|l| l.name)
            .collect();
        let (add, missing) = decide(&owners, &files, &repo_labels, &current);
        if !missing.is_empty() {
            tracing::warn!(
                org,
                repo,
                number,
                ?missing,
                "unable to add nonexistent labels"
            );
        }
        if add.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![Action::AddLabels {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            labels: add,
        }])
    }
}
