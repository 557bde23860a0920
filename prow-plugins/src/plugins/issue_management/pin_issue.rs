//! `/pin-issue` and `/unpin-issue`: the approvers of a repository's top-level OWNERS file pin
//! an issue to the repository or unpin it (upstream `pin-issue.go`).

use prow_github::events::{CommentAction, GenericCommentEvent};

use crate::owners_loader::OwnersLoader;
use crate::respond::format_response_raw;
use crate::{Action, Context, PluginError, Request};

/// The reply on a pull request.
pub const ONLY_ISSUES: &str =
    "`/pin-issue` and `/unpin-issue` can only be triggered on GitHub issues.";
/// The reply to someone who is not a top-level approver.
pub const NOT_APPROVER: &str = "You are not authorized to pin or unpin issues on this repository. Only approvers from the top-level OWNERS file can use this command.";

/// The reply when the OWNERS files could not be read.
pub fn owners_unknown(user: &str, org: &str, repo: &str) -> String {
    format!(
        "Unable to determine whether {user} is an approver from the top-level OWNERS of {org}/{repo}."
    )
}

/// The reply once issue `number` is pinned (`pin`) or unpinned.
pub fn done(number: u64, pin: bool) -> String {
    let past = if pin { "pinned to" } else { "unpinned from" };
    format!("Issue #{number} has been {past} the repository.")
}

/// The reply when GitHub refused to pin (`pin`) or unpin issue `number`.
pub fn failed(number: u64, pin: bool) -> String {
    let verb = if pin { "pin" } else { "unpin" };
    format!("Unable to {verb} issue #{number}. Please try again later.")
}

/// Whether `user` is an approver in the top-level OWNERS file of `org/repo` at `branch`
/// (aliases expanded, logins compared as GitHub does); `Err` with the reply when the files
/// could not be read.
async fn is_top_level_approver(
    ctx: &Context<'_>,
    loader: &OwnersLoader,
    (org, repo, branch): (&str, &str, &str),
    user: &str,
) -> Result<bool, String> {
    let unknown = |e: &dyn std::fmt::Display| {
        tracing::warn!(org, repo, branch, error = %e, "authorization check failed");
        owners_unknown(user, org, repo)
    };
    // OWNERS is read at the branch's commit, so the loader's cache never serves an old one.
    let sha = ctx
        .github
        .ref_sha(org, repo, &format!("heads/{branch}"))
        .await
        .map_err(|e| unknown(&e))?;
    let names = ctx.plugins.owners_filenames(org, repo);
    let owners = loader
        .load(ctx.github, org, repo, &sha, &names, &[String::new()])
        .await
        .map_err(|e| unknown(&e))?;
    // The root's closest approvers are its own: upstream `TopLevelApprovers`.
    Ok(owners
        .leaf_approvers("")
        .contains(&prow_config::owners::norm_login(user)))
}

/// What to do about `/pin-issue` (`pin`) or `/unpin-issue` in `gc`.
pub async fn handle(
    ctx: &Context<'_>,
    loader: &OwnersLoader,
    gc: &GenericCommentEvent,
    pin: bool,
) -> Result<Vec<Action>, PluginError> {
    let request = Request::of(gc);
    let (org, repo, number) = (request.org, request.repo, request.number);
    if gc.is_pr {
        tracing::info!(org, repo, number, "refused /pin-issue on a pull request");
        return Ok(vec![request.reply(ONLY_ISSUES)]);
    }
    if gc.action != CommentAction::Created {
        return Ok(Vec::new());
    }
    // Webhooks name the default branch; an event without one asks GitHub.
    let branch = match gc.repo.default_branch.as_str() {
        "" => {
            ctx.github
                .repository(org, repo)
                .await
                .map_err(PluginError::github(format!("read repository {org}/{repo}")))?
                .default_branch
        }
        b => b.to_owned(),
    };
    match is_top_level_approver(ctx, loader, (org, repo, &branch), request.user).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(
                org,
                repo,
                number,
                user = request.user,
                pin,
                "refused: not a top-level approver"
            );
            return Ok(vec![request.reply(NOT_APPROVER)]);
        }
        Err(reply) => return Ok(vec![request.reply(&reply)]),
    }
    let issue = ctx
        .github
        .issue(org, repo, number)
        .await
        .map_err(PluginError::github(format!(
            "get issue {org}/{repo}#{number}"
        )))?;
    let say = |text: &str| format_response_raw(request.body, request.url, request.user, text);
    Ok(vec![Action::PinIssue {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        issue_id: issue.node_id,
        pin,
        done: say(&done(number, pin)),
        failed: say(&failed(number, pin)),
    }])
}
