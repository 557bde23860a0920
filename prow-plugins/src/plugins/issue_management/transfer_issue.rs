//! `/transfer[-issue] <repo>`: org members move an issue to another repository of the same
//! org (upstream `transfer-issue.go`).

use prow_github::events::{CommentAction, GenericCommentEvent};

use super::{TRANSFER_RE, is_member};
use crate::{Action, Context, PluginError, Request};

/// The reply on a pull request.
pub const ONLY_ISSUES: &str =
    "The `/transfer-issue` command is only supported on issues, not pull requests.";
/// The reply to several commands, or one without a destination.
pub const ONCE: &str =
    "`/transfer-issue` must only be used once and with a single destination repo.";
/// The reply to someone outside the org.
pub const NOT_MEMBER: &str = "You must be an org member to transfer this issue.";

/// The reply when the destination cannot be read.
pub fn no_destination(org: &str, repo: &str) -> String {
    format!("Something went wrong or the destination repo **{org}/{repo}** does not exist.")
}

/// What a comment's `/transfer` commands come to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// No command, or one to ignore (an edited or deleted comment).
    None,
    /// A command to refuse, with the reply.
    Refuse(&'static str),
    /// Transfer to this repository of the same org.
    Repo(String),
}

/// Reads the `/transfer` commands of `body` in a comment on a pull request (`is_pr`) or an
/// issue, `created` or not (upstream `parseTransferCommand`).
pub fn destination(body: &str, is_pr: bool, created: bool) -> Destination {
    let matches: Vec<_> = TRANSFER_RE.captures_iter(body).collect();
    if matches.is_empty() {
        return Destination::None;
    }
    if is_pr {
        return Destination::Refuse(ONLY_ISSUES);
    }
    if !created {
        return Destination::None;
    }
    match matches[..] {
        [ref only] => match only.get(1).map(|m| m.as_str()) {
            Some(repo) if !repo.is_empty() => Destination::Repo(repo.trim().to_owned()),
            _ => Destination::Refuse(ONCE),
        },
        _ => Destination::Refuse(ONCE),
    }
}

/// What to do about `/transfer[-issue]` in `gc`.
pub async fn handle(
    ctx: &Context<'_>,
    gc: &GenericCommentEvent,
) -> Result<Vec<Action>, PluginError> {
    let request = Request::of(gc);
    let (org, repo, number) = (request.org, request.repo, request.number);
    let to_repo = match destination(ctx.commands, gc.is_pr, gc.action == CommentAction::Created) {
        Destination::None => return Ok(Vec::new()),
        Destination::Refuse(reply) => {
            tracing::info!(org, repo, number, reply, "refused /transfer-issue");
            return Ok(vec![request.reply(reply)]);
        }
        Destination::Repo(to) => to,
    };
    // Upstream looks the destination up before it checks membership; so do we, so that
    // everyone gets the same reply.
    let destination = match ctx.github.repository(org, &to_repo).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(org, repo, number, to_repo, error = %e, "could not fetch destination repo");
            return Ok(vec![request.reply(&no_destination(org, &to_repo))]);
        }
    };
    if !is_member(ctx, org, request.user).await? {
        tracing::info!(
            org,
            repo,
            number,
            user = request.user,
            "refused /transfer-issue: not an org member"
        );
        return Ok(vec![request.reply(NOT_MEMBER)]);
    }
    Ok(vec![Action::TransferIssue {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        issue_id: gc.node_id.clone(),
        to_repo,
        to_repo_id: destination.node_id,
    }])
}
