//! `/link-issue` and `/unlink-issue`: org members add issues to, or take them off, the `Fixes`
//! line of a pull request's body (upstream `link-issue.go`).

use std::collections::BTreeSet;

use prow_github::events::{CommentAction, GenericCommentEvent};

use super::{LINK_ISSUE_RE, UNLINK_ISSUE_RE, is_member};
use crate::commands::GoRegex;
use crate::{Action, Context, PluginError, Request};

/// A `Fixes ...` line of a body (upstream `fixesRegex`), matched line by line.
pub static FIXES_RE: GoRegex = GoRegex::new(
    "pkg/plugins/issue-management/link-issue.go",
    r"(?i)^fixes\s+(.*)$",
);

/// The reply on an issue.
pub const ONLY_PULL_REQUESTS: &str =
    "`/link-issue` and `/unlink-issue` can only be used on pull requests.";
/// The reply to someone outside the org.
pub const NOT_MEMBER: &str = "You must be an org member to use this command.";
/// The reply once the body changed.
pub const UPDATED: &str = "Updated the `Fixes` line in the pull request body.";
/// The reply when the body already said so.
pub const UP_TO_DATE: &str = "The PR body is already up-to-date. No changes were made.";
/// What introduces the list of bad references.
pub const ERRORS: &str =
    "there are one or more errors with issue references provided. Please cross check and retry.\n";

/// The references every `/link-issue` and every `/unlink-issue` of `body` names, in order,
/// split at white space.
pub fn references(body: &str) -> (Vec<String>, Vec<String>) {
    let extract = |re: &GoRegex| -> Vec<String> {
        re.captures_iter(body)
            .filter_map(|c| c.get(1))
            .flat_map(|m| m.as_str().split_whitespace().map(str::to_owned))
            .collect()
    };
    (extract(&LINK_ISSUE_RE), extract(&UNLINK_ISSUE_RE))
}

/// An issue reference: `org/repo#number`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueRef {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The number, as Go's `strconv.Atoi` reads it (a sign is allowed).
    pub number: i64,
}

impl IssueRef {
    /// The reference as the `Fixes` line writes it: `#N` in `org/repo`, else `org/repo#N`.
    pub fn format(&self, org: &str, repo: &str) -> String {
        if self.org == org && self.repo == repo {
            format!("#{}", self.number)
        } else {
            format!("{}/{}#{}", self.org, self.repo, self.number)
        }
    }
}

/// Reads `text` as `N` (an issue of `org/repo`) or `org/repo#N`, as upstream's
/// `parseIssueRef` does; `None` for anything else.
pub fn parse_issue_ref(text: &str, org: &str, repo: &str) -> Option<IssueRef> {
    if let Ok(number) = text.parse::<i64>() {
        return Some(IssueRef {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
        });
    }
    if !text.contains('/') {
        return None;
    }
    let [org_repo, number] = text.split('#').collect::<Vec<_>>()[..] else {
        return None;
    };
    let [org, repo] = org_repo.split('/').collect::<Vec<_>>()[..] else {
        return None;
    };
    Some(IssueRef {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number: number.parse().ok()?,
    })
}

/// `body` with its first `Fixes` line listing what it listed less `remove`, plus `add`,
/// sorted; without any, the line goes. A body without one gets one at its end, after an empty
/// line (upstream `updateFixesLine`).
pub fn update_fixes_line(body: &str, add: &[String], remove: &[String]) -> String {
    let mut lines: Vec<&str> = body.split('\n').collect();
    let found = lines.iter().position(|l| FIXES_RE.is_match(l));
    let mut issues: BTreeSet<&str> = found
        .and_then(|i| FIXES_RE.captures(lines[i]))
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().split_whitespace().collect())
        .unwrap_or_default();
    for gone in remove {
        issues.remove(gone.as_str());
    }
    issues.extend(add.iter().map(String::as_str));
    if issues.is_empty() {
        if let Some(i) = found {
            lines.remove(i);
        }
        return lines.join("\n");
    }
    let fixes = format!("Fixes {}", issues.into_iter().collect::<Vec<_>>().join(" "));
    match found {
        Some(i) => lines[i] = &fixes,
        None => {
            if lines.last().is_some_and(|l| !l.is_empty()) {
                lines.push("");
            }
            lines.push(&fixes);
        }
    }
    lines.join("\n")
}

/// The reply to `/link-issue` or `/unlink-issue`: whether the body changed (`None` when there
/// was nothing to link or unlink), then the problems with references, if any.
pub fn reply(changed: Option<bool>, errors: &[String]) -> String {
    let mut out = match changed {
        Some(true) => UPDATED.to_owned(),
        Some(false) => UP_TO_DATE.to_owned(),
        None => String::new(),
    };
    if !errors.is_empty() {
        if !out.is_empty() {
            out.push_str("\n\nHowever, ");
        }
        out.push_str(ERRORS);
        for e in errors {
            out.push_str(&format!("* {e}\n"));
        }
    }
    out
}

/// The problem with a reference that is neither `N` nor `org/repo#N`.
pub fn invalid_format(issue: &str) -> String {
    format!(
        "Invalid format for issue **{issue}**. Supported formats are **issue-number** (e.g., `123`) and **organization/repository#issue-number** (e.g., `kubernetes/test-infra#456`)"
    )
}

/// The problem with a reference to a repository that does not exist.
pub fn no_repository(org: &str, repo: &str) -> String {
    format!("Repository **{org}/{repo}** does not exist.")
}

/// The problem with a reference to an issue that does not exist.
pub fn no_issue(number: i64, org: &str, repo: &str) -> String {
    format!("Issue **#{number}** in repository **{org}/{repo}** does not exist.")
}

/// The problem with a reference to a pull request.
pub fn is_pull_request(number: u64, org: &str, repo: &str) -> String {
    format!("Skipped issue #{number} of **{org}/{repo}** as it is a ***pull request***.")
}

/// Checks a reference to link: its repository (when another) and issue exist, and the issue
/// is not a pull request. Answers what the `Fixes` line writes, or the problem.
async fn check_link(
    ctx: &Context<'_>,
    text: &str,
    (org, repo): (&str, &str),
) -> Result<String, String> {
    let Some(r) = parse_issue_ref(text, org, repo) else {
        return Err(invalid_format(text));
    };
    if (r.org.as_str(), r.repo.as_str()) != (org, repo)
        && let Err(e) = ctx.github.repository(&r.org, &r.repo).await
    {
        tracing::debug!(org = r.org, repo = r.repo, error = %e, "linked repository not found");
        return Err(no_repository(&r.org, &r.repo));
    }
    let found = match u64::try_from(r.number) {
        Ok(n) => ctx.github.issue(&r.org, &r.repo, n).await.ok(),
        Err(_) => None,
    };
    match found {
        None => Err(no_issue(r.number, &r.org, &r.repo)),
        Some(issue) if issue.is_pull_request() => {
            Err(is_pull_request(issue.number, &r.org, &r.repo))
        }
        Some(_) => Ok(r.format(org, repo)),
    }
}

/// What to do about `/link-issue` and `/unlink-issue` naming `link` and `unlink` in `gc`.
pub async fn handle(
    ctx: &Context<'_>,
    gc: &GenericCommentEvent,
    link: &[String],
    unlink: &[String],
) -> Result<Vec<Action>, PluginError> {
    let request = Request::of(gc);
    let (org, repo) = (request.org, request.repo);
    if gc.action != CommentAction::Created {
        return Ok(Vec::new());
    }
    if !gc.is_pr {
        tracing::info!(
            org,
            repo,
            number = gc.number,
            "refused /link-issue on an issue"
        );
        return Ok(vec![request.reply(ONLY_PULL_REQUESTS)]);
    }
    if !is_member(ctx, org, request.user).await? {
        tracing::info!(
            org,
            repo,
            number = gc.number,
            user = request.user,
            "refused /link-issue: not an org member"
        );
        return Ok(vec![request.reply(NOT_MEMBER)]);
    }
    let mut errors = Vec::new();
    let mut to_link = Vec::new();
    for text in link {
        match check_link(ctx, text, (org, repo)).await {
            Ok(r) => to_link.push(r),
            Err(e) => errors.push(e),
        }
    }
    // Unlinking takes malformed references as they are, so that they can be removed.
    let to_unlink: Vec<String> = unlink
        .iter()
        .map(|t| parse_issue_ref(t, org, repo).map_or_else(|| t.clone(), |r| r.format(org, repo)))
        .collect();
    let mut actions = Vec::new();
    let mut changed = None;
    if !to_link.is_empty() || !to_unlink.is_empty() {
        let pr = ctx.pull_request(org, repo, gc.number).await?;
        let body = pr.body.unwrap_or_default();
        let new_body = update_fixes_line(&body, &to_link, &to_unlink);
        changed = Some(new_body != body);
        tracing::info!(org, repo, number = gc.number, link = ?to_link, unlink = ?to_unlink, changed = new_body != body, "updating the fixes line");
        if new_body != body {
            actions.push(Action::EditBody {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number: gc.number,
                body: new_body,
            });
        }
    }
    actions.push(request.reply(&reply(changed, &errors)));
    Ok(actions)
}
