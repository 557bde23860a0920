//! branchcleaner: deletes the source branch of a merged pull request between two branches of
//! the same repository, unless the branch is preserved (upstream `pkg/plugins/branchcleaner`).

use async_trait::async_trait;
use prow_config::plugins::{BranchCleaner, PluginConfig};
use prow_github::events::Event;
use prow_github::events::PullRequestEvent;

use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// Whether `branch` of `org/repo` is preserved: named, or matched as a regex, under `org/repo`
/// or `org` (upstream `IsPreservedBranch`; a pattern that does not compile only names).
pub fn is_preserved(config: &BranchCleaner, org: &str, repo: &str, branch: &str) -> bool {
    [format!("{org}/{repo}"), org.to_owned()]
        .iter()
        .filter_map(|key| config.preserved_branches.get(key))
        .flatten()
        .any(|p| p == branch || prow_config::goregex::shared(p).is_ok_and(|re| re.is_match(branch)))
}

/// The ref to delete after `pe`: `heads/<branch>` of a merged pull request from the same
/// repository whose branch is not preserved.
pub fn decide(config: &BranchCleaner, pe: &PullRequestEvent) -> Option<Action> {
    let pr = &pe.pull_request;
    if pe.action != "closed" || pr.merged != Some(true) {
        return None;
    }
    let full_name = |b: &prow_github::types::Branch| b.repo.as_ref().map(|r| r.full_name.clone());
    let base = full_name(&pr.base)?;
    if Some(&base) != full_name(&pr.head).as_ref() {
        return None;
    }
    let (org, repo) = (pe.repository.org(), pe.repository.name.as_str());
    if is_preserved(config, org, repo, &pr.head.git_ref) {
        return None;
    }
    Some(Action::DeleteRef {
        org: org.to_owned(),
        repo: repo.to_owned(),
        git_ref: format!("heads/{}", pr.head.git_ref),
    })
}

/// The branchcleaner plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct BranchCleanerPlugin;

#[async_trait]
impl Plugin for BranchCleanerPlugin {
    fn name(&self) -> &'static str {
        "branchcleaner"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The branchcleaner plugin automatically deletes source branches for merged PRs between two branches on the same repository. This is helpful to keep repos that don't allow forking clean.",
            &["pull_request"],
        );
        for (repo, branches) in plugins.branch_cleaner.preserved_branches.iter() {
            help.config.insert(
                repo.clone(),
                format!(
                    "The preserved branches for repo {repo} is [{}]",
                    branches.join(" ")
                ),
            );
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        Ok(decide(&ctx.plugins.branch_cleaner, pe)
            .into_iter()
            .collect())
    }
}
