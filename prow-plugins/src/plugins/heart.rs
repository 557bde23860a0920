//! heart: reacts to comments on pull requests by the configured `adorees` that match
//! `commentregexp`, and to pull requests that add lines to OWNERS or OWNERS_ALIASES files
//! (upstream `pkg/plugins/heart`). The reaction is one of 👍 ❤️ 🎉, chosen per delivery.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::PullRequestFile;

use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The reactions to choose from.
pub const REACTIONS: [&str; 3] = ["+1", "heart", "hooray"];

/// The reaction for `seed` (the delivery id).
pub fn reaction(seed: &str) -> &'static str {
    crate::fun::pick(&REACTIONS, seed)
        .copied()
        .unwrap_or(REACTIONS[0])
}

/// Whether a comment by `login` saying `body` is celebrated, given the `adorees` and the
/// comment regex (an unset or invalid one celebrates nothing).
pub fn adored(login: &str, body: &str, adorees: &[String], regexp: &str) -> bool {
    if adorees.is_empty() || regexp.is_empty() || !adorees.iter().any(|a| a == login) {
        return false;
    }
    prow_config::goregex::shared(regexp).is_ok_and(|re| re.is_match(body))
}

/// Whether `files` add lines to a file named `owners` or `aliases` (in any directory).
pub fn adds_owners(files: &[PullRequestFile], owners: &str, aliases: &str) -> bool {
    files.iter().any(|f| {
        let name = f.filename.rsplit('/').next().unwrap_or_default();
        (name == owners || name == aliases) && f.additions > 0
    })
}

/// The heart plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Heart;

#[async_trait]
impl Plugin for Heart {
    fn name(&self) -> &'static str {
        "heart"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The heart plugin celebrates certain GitHub actions with the reaction emojis. Emojis are added to pull requests that make additions to OWNERS or OWNERS_ALIASES files and to comments left by specified \"adorees\".",
            &["issue_comment", "pull_request"],
        );
        help.config.insert(
            String::new(),
            format!(
                "The heart plugin is configured to react to comments,  satisfying the regular expression {}, left by the following GitHub users: {}.",
                plugins.heart.commentregexp,
                plugins.heart.adorees.join(", ")
            ),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        match event {
            Event::IssueComment(ic) => {
                let settings = &ctx.plugins.heart;
                if !ic.issue.is_pull_request()
                    || ic.action != "created"
                    || !adored(
                        &ic.comment.user.login,
                        ic.comment.body.as_deref().unwrap_or_default(),
                        &settings.adorees,
                        &settings.commentregexp,
                    )
                {
                    return Ok(Vec::new());
                }
                Ok(vec![Action::React {
                    org: ic.repository.org().to_owned(),
                    repo: ic.repository.name.clone(),
                    number: ic.issue.number,
                    comment_id: Some(ic.comment.id),
                    reaction: reaction(ctx.delivery).to_owned(),
                }])
            }
            Event::PullRequest(pe) if pe.action == "opened" => {
                let (org, repo, number) = (
                    pe.repository.org(),
                    pe.repository.name.as_str(),
                    pe.pull_request.number,
                );
                let files = ctx
                    .github
                    .pull_request_files(org, repo, number)
                    .await
                    .map_err(PluginError::github(format!(
                        "read the changes of {org}/{repo}#{number}"
                    )))?;
                let names = ctx.plugins.owners_filenames(org, repo);
                if !adds_owners(&files, &names.owners, &names.owners_aliases) {
                    return Ok(Vec::new());
                }
                Ok(vec![Action::React {
                    org: org.to_owned(),
                    repo: repo.to_owned(),
                    number,
                    comment_id: None,
                    reaction: reaction(ctx.delivery).to_owned(),
                }])
            }
            _ => Ok(Vec::new()),
        }
    }
}
