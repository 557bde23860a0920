//! reward-owners: when a pull request that changes OWNERS or OWNERS_ALIASES merges, welcomes
//! the approvers and reviewers it adds (upstream `pkg/plugins/reward-owners`).
//!
//! As upstream, the owners are every approver and reviewer of every OWNERS file in the
//! repository (aliases expanded, logins in lower case) at the pull request's base and at its
//! head; those at the head and not at the base are new. The repository is cloned from
//! [`prow_github::GitHubClient::git_remote`] for each such merge (upstream keeps a cached
//! clone); the head is fetched as `refs/pull/N/head` when the clone lacks it. Not read, as in
//! upstream's plain walk: YAML headers of Markdown files (`owners.mdyamlrepos`).

use std::collections::BTreeSet;

use async_trait::async_trait;
use prow_config::owners::{self, RepoOwners};
use prow_config::plugins::{OwnersFilenames, PluginConfig};
use prow_github::events::Event;
use prow_github::types::PullRequestFile;

use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The plugin's name.
pub const PLUGIN_NAME: &str = "reward-owners";

/// Upstream's `RewardMessage`, with `{}` for the new owners.
pub const REWARD_MESSAGE: &str = "
Thanks to {} for serving the community in this new capacity!

Next steps:
1- Reach out in [slack.k8s.io](http://slack.k8s.io/) -> #sig-contribex for your special badge swag!

2- Join [slack.k8s.io](http://slack.k8s.io/) -> #kubernetes-contributors in slack and [dev@kubernetes.io](https://groups.google.com/a/kubernetes.io/g/dev) for all upstream info

3- Review the [community-membership.md](https://github.com/kubernetes/community/blob/master/community-membership.md) doc for your role. If for some reason you can't perform the duties associated, Emeritus is a great way to take a break! [OWNERs](https://github.com/kubernetes/community/blob/master/contributors/guide/owners.md) is another great resource for how this works.

4- Look over our [governance](https://github.com/kubernetes/community/blob/master/governance.md) docs now that you are actively involved in the maintenance of the project.
";

/// Whether the pull request's `files` change (and do not remove) an OWNERS file or the
/// aliases file.
pub fn owners_modified(files: &[PullRequestFile], names: &OwnersFilenames) -> bool {
    files.iter().any(|f| {
        let base = f.filename.rsplit('/').next().unwrap_or(&f.filename);
        (base == names.owners || f.filename == names.owners_aliases) && f.status != "removed"
    })
}

/// Every approver and reviewer named by `owners_files` (path, text), aliases from
/// `aliases` expanded (upstream `RepoOwners.AllOwners`). Broken files are skipped, as Prow
/// skips them.
pub fn all_owners(owners_files: &[(String, String)], aliases: Option<&str>) -> BTreeSet<String> {
    let aliases = match aliases.map(|text| owners::parse_aliases("OWNERS_ALIASES", text)) {
        Some(Ok(aliases)) => aliases,
        Some(Err(error)) => {
            tracing::warn!(plugin = PLUGIN_NAME, %error, "ignoring a broken aliases file");
            owners::Aliases::new()
        }
        None => owners::Aliases::new(),
    };
    let resolver = RepoOwners::new(aliases);
    let mut all = BTreeSet::new();
    for (path, text) in owners_files {
        match owners::parse_owners(path, text) {
            Ok(file) => {
                for (_, entry) in &file.filters {
                    all.extend(resolver.expand_aliases(&entry.approvers));
                    all.extend(resolver.expand_aliases(&entry.reviewers));
                }
            }
            Err(error) => {
                tracing::warn!(plugin = PLUGIN_NAME, path, %error, "ignoring a broken OWNERS file");
            }
        }
    }
    all
}

/// The welcome for `new_owners` (sorted), or nothing when there are none.
pub fn decide(org: &str, repo: &str, number: u64, new_owners: &BTreeSet<String>) -> Vec<Action> {
    if new_owners.is_empty() {
        return Vec::new();
    }
    let tagged: Vec<String> = new_owners.iter().map(|o| format!("@{o}")).collect();
    vec![Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: REWARD_MESSAGE.replacen("{}", &tagged.join(", "), 1),
    }]
}

/// The OWNERS files and the aliases file of `org/repo` at its base and head, read from a
/// clone of `remote`.
type Snapshot = (Vec<(String, String)>, Option<String>);

fn read_owners(
    remote: &str,
    shas: [&str; 2],
    number: u64,
    names: &OwnersFilenames,
) -> Result<[Snapshot; 2], crate::git::GitError> {
    let copy = crate::git::WorkingCopy::clone(remote)?;
    let refspec = format!("refs/pull/{number}/head");
    let read = |sha: &str| -> Result<Snapshot, crate::git::GitError> {
        let commit = copy.commit_or_fetch(sha, &refspec)?;
        let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        let files = copy
            .files_named(commit, &names.owners)?
            .into_iter()
            .map(|(path, bytes)| (path, text(bytes)))
            .collect();
        let aliases = copy.file_at(commit, &names.owners_aliases)?.map(text);
        Ok((files, aliases))
    };
    Ok([read(shas[0])?, read(shas[1])?])
}

/// The reward-owners plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct RewardOwners;

#[async_trait]
impl Plugin for RewardOwners {
    fn name(&self) -> &'static str {
        PLUGIN_NAME
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The reward-owners plugin watches in OWNERS and OWNERS_ALIASES files for modifications and welcomes new approvers and reviewers.",
            &["pull_request"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pr) = event else {
            return Ok(Vec::new());
        };
        if pr.action != "closed" || pr.pull_request.merged != Some(true) {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (pr.repository.org(), pr.repository.name.as_str(), pr.number);
        let files = ctx.pull_request_files(org, repo, number).await?;
        let names = ctx.plugins.owners_filenames(org, repo);
        if !owners_modified(&files, &names) {
            return Ok(Vec::new());
        }
        let remote = ctx.git_remote(org, repo).await?;
        let shas = [
            pr.pull_request.base.sha.clone(),
            pr.pull_request.head.sha.clone(),
        ];
        let [base, head] = tokio::task::spawn_blocking(move || {
            read_owners(&remote, [&shas[0], &shas[1]], number, &names)
        })
        .await
        .map_err(|e| PluginError::Other(format!("read the owners of {org}/{repo}: {e}")))?
        .map_err(|e| {
            PluginError::Other(format!(
                "resolve the owners of {org}/{repo}#{number} at its base and head: {e}"
            ))
        })?;
        let before = all_owners(&base.0, base.1.as_deref());
        let after = all_owners(&head.0, head.1.as_deref());
        let new: BTreeSet<String> = after.difference(&before).cloned().collect();
        if new.is_empty() {
            tracing::debug!(
                plugin = PLUGIN_NAME,
                org,
                repo,
                pr = number,
                "no new owner to reward"
            );
        }
        Ok(decide(org, repo, number, &new))
    }
}
