//! dco: checks that every commit of a pull request is signed off (`Signed-off-by:`), keeps
//! the `dco` status and the `dco-signoff: yes|no` labels in step, and lists the unsigned
//! commits in a comment; `/check-dco` checks again (upstream `pkg/plugins/dco`).
//!
//! With `skip_dco_check_for_members`, `skip_dco_check_for_collaborators` or `trusted_apps`,
//! commits by trusted authors need no sign-off. Merge commits are not told apart (the commit
//! listing carries no parents): they need a sign-off too.

use async_trait::async_trait;
use prow_config::plugins::{Dco, PluginConfig, Trigger};
use prow_github::events::{CommentAction, Event};
use prow_github::types::{CommitInfo, PullRequest, Status, StatusState};

use crate::commands::GoRegex;
use crate::respond::ABOUT_THIS_BOT;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The status context.
pub const CONTEXT: &str = "dco";
/// The label of a signed-off pull request.
pub const YES: &str = "dco-signoff: yes";
/// The label of a pull request with unsigned commits.
pub const NO: &str = "dco-signoff: no";
/// The status description on failure.
pub const FAILED: &str = "Commits in PR missing Signed-off-by";
/// The status description on success.
pub const SUCCEEDED: &str = "All commits have Signed-off-by";
/// What the bot's comment starts with, to find it again.
pub const MARK: &str = "Thanks for your pull request. Before we can look at it, you'll need to add a 'DCO signoff' to your commits.";
/// The line telling how to use the bot's commands (Prow's `AboutThisBotCommands`).
const ABOUT_COMMANDS: &str =
    "I understand the commands that are listed [here](https://go.k8s.io/bot-commands).";

/// `/check-dco` (upstream `checkDCORe`).
pub static CHECK_DCO_RE: GoRegex = GoRegex::new("pkg/plugins/dco/dco.go", r"(?mi)^/check-dco\s*$");
/// A sign-off line in a commit message (upstream `testRe`).
static SIGNED_OFF_RE: GoRegex = GoRegex::new("pkg/plugins/dco/dco.go", r"(?mi)^signed-off-by:");

/// Whether a commit `message` is signed off.
pub fn signed_off(message: &str) -> bool {
    SIGNED_OFF_RE.is_match(message)
}

/// The page the status and the comment link to.
pub fn contributing_url(org: &str, repo: &str, settings: &Dco) -> String {
    let or = |v: &str, d: String| if v.is_empty() { d } else { v.to_owned() };
    format!(
        "https://github.com/{}/blob/{}/{}",
        or(&settings.contributing_repo, format!("{org}/{repo}")),
        or(&settings.contributing_branch, "master".to_owned()),
        or(&settings.contributing_path, "CONTRIBUTING.md".to_owned()),
    )
}

/// The list of unsigned commits, as Prow writes it.
pub fn sha_list(org: &str, repo: &str, commits: &[CommitInfo]) -> String {
    commits
        .iter()
        .map(|c| {
            if c.sha.is_empty() {
                return String::new();
            }
            let short: String = c.sha.chars().take(7).collect();
            let first = c.message.split('\n').next().unwrap_or_default();
            format!(
                "- [{short}](https://github.com/{org}/{repo}/commits/{}) {first}",
                c.sha
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What is known when deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Facts {
    /// Unsigned commits by untrusted authors.
    pub missing: Vec<CommitInfo>,
    /// The `dco` status now, if any.
    pub status: Option<StatusState>,
    /// The pull request has `dco-signoff: yes`.
    pub has_yes: bool,
    /// It has `dco-signoff: no`.
    pub has_no: bool,
    /// The bot's comments: id and text.
    pub bot_comments: Vec<(u64, String)>,
}

/// The actions for pull request `number` at `sha` of `org/repo`, given `facts`; `comment`
/// says whether to explain a failure (on opening and pushes, and `/check-dco`).
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    sha: &str,
    facts: &Facts,
    url: &str,
    comment: bool,
) -> Vec<Action> {
    let label = |add: bool, name: &str| Action::label(org, repo, number, name, add);

    let status = |state: StatusState, description: &str| Action::Status {
        org: org.to_owned(),
        repo: repo.to_owned(),
        sha: sha.to_owned(),
        status: Status {
            state,
            context: CONTEXT.to_owned(),
            target_url: Some(url.to_owned()),
            description: Some(description.to_owned()),
        },
    };
    let prune = || {
        facts
            .bot_comments
            .iter()
            .filter(|(_, t)| t.contains(MARK))
            .map(|(id, _)| Action::DeleteComment {
                org: org.to_owned(),
                repo: repo.to_owned(),
                id: *id,
            })
            .collect::<Vec<_>>()
    };
    let mut actions = Vec::new();
    if facts.missing.is_empty() {
        if facts.has_no {
            actions.push(label(false, NO));
        }
        if !facts.has_yes {
            actions.push(label(true, YES));
        }
        if facts.status != Some(StatusState::Success) {
            actions.push(status(StatusState::Success, SUCCEEDED));
        }
        actions.extend(prune());
        return actions;
    }
    if !facts.has_no {
        actions.push(label(true, NO));
    }
    if facts.has_yes {
        actions.push(label(false, YES));
    }
    if facts.status != Some(StatusState::Failure) {
        actions.push(status(StatusState::Failure, FAILED));
    }
    if comment {
        actions.extend(prune());
        actions.push(Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            body: format!(
                "{MARK}\n\n:memo: **Please follow instructions in the [contributing guide]({url}) to update your commits with the DCO**\n\nFull details of the Developer Certificate of Origin can be found at [developercertificate.org](https://developercertificate.org/).\n\n**The list of commits missing DCO signoff**:\n\n{}\n\n<details>\n\n{ABOUT_THIS_BOT} {ABOUT_COMMANDS}\n</details>\n",
                sha_list(org, repo, &facts.missing)
            ),
        });
    }
    actions
}

/// The dco plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct DcoPlugin;

#[async_trait]
impl Plugin for DcoPlugin {
    fn name(&self) -> &'static str {
        "dco"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            format!("The dco plugin checks pull request commits for 'DCO sign off' and maintains the '{CONTEXT}' status context, as well as the 'dco' label."),
            &["pull_request", "issue_comment"],
        )
        .command("/check-dco", "Forces rechecking of the DCO status.", "Anyone", &["/check-dco"]);
        for c in &mut help.commands {
            c.featured = true;
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let (org, repo, pr, comment) = match event {
            Event::PullRequest(pe) => {
                let comment = match pe.action.as_str() {
                    "opened" | "synchronize" => true,
                    "reopened" => false,
                    _ => return Ok(Vec::new()),
                };
                (
                    pe.repository.org().to_owned(),
                    pe.repository.name.clone(),
                    pe.pull_request.clone(),
                    comment,
                )
            }
            _ => {
                let Some(gc) = ctx.comment else {
                    return Ok(Vec::new());
                };
                if !gc.is_pr
                    || gc.action != CommentAction::Created
                    || !CHECK_DCO_RE.is_match(ctx.commands)
                {
                    return Ok(Vec::new());
                }
                let (org, repo) = (gc.repo.org().to_owned(), gc.repo.name.clone());
                let pr = ctx.pull_request(&org, &repo, gc.number).await?;
                (org, repo, pr, true)
            }
        };
        check(ctx, &org, &repo, &pr, comment).await
    }
}

async fn check(
    ctx: &Context<'_>,
    org: &str,
    repo: &str,
    pr: &PullRequest,
    comment: bool,
) -> Result<Vec<Action>, PluginError> {
    let number = pr.number;
    let settings = ctx.plugins.dco_for(org, repo);
    let commits = ctx
        .github
        .pull_request_commits(org, repo, number)
        .await
        .map_err(PluginError::github(format!(
            "list the commits of {org}/{repo}#{number}"
        )))?;
    let mut missing: Vec<CommitInfo> = commits
        .into_iter()
        .filter(|c| !signed_off(&c.message))
        .collect();
    if settings.skip_dco_check_for_members
        || settings.skip_dco_check_for_collaborators
        || !settings.trusted_apps.is_empty()
    {
        let mut trust = Trigger::default();
        trust.only_org_members = !settings.skip_dco_check_for_collaborators;
        trust.trusted_apps.clone_from(&settings.trusted_apps);
        trust.trusted_org.clone_from(&settings.trusted_org);
        let mut untrusted = Vec::new();
        for commit in missing {
            let login = commit.author_login.clone().unwrap_or_default();
            let trusted = !login.is_empty()
                && crate::trust::trusted_user(ctx.github, &trust, ctx.bot, &login, org, repo)
                    .await?;
            if !trusted {
                untrusted.push(commit);
            }
        }
        missing = untrusted;
    }
    let combined = ctx.combined_status(org, repo, &pr.head.sha).await?;
    let labels = ctx
        .github
        .issue_labels(org, repo, number)
        .await
        .map_err(PluginError::github(format!(
            "read the labels of {org}/{repo}#{number}"
        )))?;
    let bot_comments = if comment || missing.is_empty() {
        ctx.bot_comments(org, repo, number).await?
    } else {
        Vec::new()
    };
    let facts = Facts {
        missing,
        status: combined
            .statuses
            .iter()
            .find(|s| s.context == CONTEXT)
            .map(|s| s.state),
        has_yes: labels.iter().any(|l| l.name == YES),
        has_no: labels.iter().any(|l| l.name == NO),
        bot_comments,
    };
    Ok(decide(
        org,
        repo,
        number,
        &pr.head.sha,
        &facts,
        &contributing_url(org, repo, &settings),
        comment,
    ))
}
