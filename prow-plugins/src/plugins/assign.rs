//! assign: `/assign`, `/unassign`, `/cc` and `/uncc`, with `@user` lists or the commenter
//! when none is given (upstream `pkg/plugins/assign`).
//!
//! Anyone may use the commands. Prow learns from GitHub's answer which users it refused; here
//! the same rule is checked before asking: an assignee must be an org member, a collaborator
//! or have commented on the issue; a reviewer must be an org member or a collaborator, and not
//! the pull request's author. Refused users get Prow's reply.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event, GenericCommentEvent};
use prow_github::types::Permission;
use regex::Regex;

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

const ASSIGN_GO: &str = "pkg/plugins/assign/assign.go";
/// `/[un]assign [[@]user ...]` (upstream `assignRe`).
pub static ASSIGN_RE: GoRegex = GoRegex::new(ASSIGN_GO, r"(?mi)^/(un)?assign(( @?[-\w]+?)*)\s*$");
/// `/[un]cc [[@]user ...]` (upstream `CCRegexp`, which blunderbuss shares).
pub static CC_RE: GoRegex = GoRegex::new(ASSIGN_GO, r"(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$");

/// Users to add and remove, each login once (its last command wins), sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// Logins to add.
    pub add: Vec<String>,
    /// Logins to remove.
    pub remove: Vec<String>,
}

impl Change {
    /// Whether nothing is asked.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

fn parse(re: &Regex, body: &str, commenter: &str) -> Change {
    let mut users: BTreeMap<String, bool> = BTreeMap::new();
    for caps in re.captures_iter(body) {
        // Upstream compares the prefix with `"un"` exactly: `/UNASSIGN` assigns.
        let add = caps.get(1).is_none_or(|un| un.as_str() != "un");
        let args = caps.get(2).map_or("", |m| m.as_str());
        if args.is_empty() {
            users.insert(commenter.to_owned(), add);
            continue;
        }
        for login in args.split(' ') {
            let login = login.trim_matches(|c| c == '@' || c == ' ');
            if !login.is_empty() {
                users.insert(login.to_owned(), add);
            }
        }
    }
    let (add, remove): (Vec<_>, Vec<_>) = users.into_iter().partition(|(_, add)| *add);
    Change {
        add: add.into_iter().map(|(l, _)| l).collect(),
        remove: remove.into_iter().map(|(l, _)| l).collect(),
    }
}

/// The assignees `/assign` and `/unassign` lines of `body` by `commenter` ask for.
pub fn assignees(body: &str, commenter: &str) -> Change {
    parse(&ASSIGN_RE, body, commenter)
}

/// The reviewers `/cc` and `/uncc` lines of `body` by `commenter` ask for.
pub fn reviewers(body: &str, commenter: &str) -> Change {
    parse(&CC_RE, body, commenter)
}

/// The comment the commands came in.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The repository.
    pub repo: &'a str,
    /// The issue or pull request.
    pub number: u64,
    /// The commenter.
    pub user: &'a str,
    /// The comment.
    pub body: &'a str,
    /// Its link.
    pub url: &'a str,
    /// Whether it is on a pull request (only those have reviewers).
    pub is_pr: bool,
}

/// Who GitHub would accept, lower-cased.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Facts {
    /// Logins that may be assigned.
    pub assignable: BTreeSet<String>,
    /// Logins that may be asked to review.
    pub reviewable: BTreeSet<String>,
}

/// The reply naming assignees GitHub refuses.
pub fn assign_refused(org: &str, users: &[String]) -> String {
    format!(
        "GitHub didn't allow me to assign the following users: {}.\n\nNote that only [{org} members](https://github.com/orgs/{org}/people) with read permissions, repo collaborators and people who have commented on this issue/PR can be assigned. Additionally, issues/PRs can only have 10 assignees at the same time.\nFor more information please see [the contributor guide](https://git.k8s.io/community/contributors/guide/first-contribution.md#issue-assignment-in-github)",
        users.join(", ")
    )
}

/// The reply naming reviewers GitHub refuses.
pub fn review_refused(org: &str, users: &[String]) -> String {
    format!(
        "GitHub didn't allow me to request PR reviews from the following users: {}.\n\nNote that only [{org} members](https://github.com/orgs/{org}/people) and repo collaborators can review this PR, and authors cannot review their own PRs.",
        users.join(", ")
    )
}

/// The actions for `assign` and `review` changes asked in `request`, given `facts`.
pub fn decide(
    request: &Request<'_>,
    assign: &Change,
    review: &Change,
    facts: &Facts,
) -> Vec<Action> {
    let (org, repo, number) = (
        request.org.to_owned(),
        request.repo.to_owned(),
        request.number,
    );
    let reply = |text: String| Action::Comment {
        org: org.clone(),
        repo: repo.clone(),
        number,
        body: format_response_raw(request.body, request.url, request.user, &text),
    };
    let split = |logins: &[String], ok: &BTreeSet<String>| -> (Vec<String>, Vec<String>) {
        logins
            .iter()
            .cloned()
            .partition(|l| ok.contains(&l.to_lowercase()))
    };
    let mut actions = Vec::new();
    if !assign.remove.is_empty() {
        actions.push(Action::Unassign {
            org: org.clone(),
            repo: repo.clone(),
            number,
            logins: assign.remove.clone(),
        });
    }
    let (ok, refused) = split(&assign.add, &facts.assignable);
    if !ok.is_empty() {
        actions.push(Action::Assign {
            org: org.clone(),
            repo: repo.clone(),
            number,
            logins: ok,
        });
    }
    if !refused.is_empty() {
        actions.push(reply(assign_refused(request.org, &refused)));
    }
    if !request.is_pr {
        return actions;
    }
    if !review.remove.is_empty() {
        actions.push(Action::UnrequestReview {
            org: org.clone(),
            repo: repo.clone(),
            number,
            logins: review.remove.clone(),
        });
    }
    let (ok, refused) = split(&review.add, &facts.reviewable);
    if !ok.is_empty() {
        actions.push(Action::RequestReview {
            org: org.clone(),
            repo: repo.clone(),
            number,
            logins: ok,
        });
    }
    if !refused.is_empty() {
        actions.push(reply(review_refused(request.org, &refused)));
    }
    actions
}

/// The assign plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Assign;

#[async_trait]
impl Plugin for Assign {
    fn name(&self) -> &'static str {
        "assign"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The assign plugin assigns or requests reviews from users/teams. Specific users can be assigned with the command '/assign @user1' or have reviews requested of them with the command '/cc @user1'. If no users are specified, the commands default to targeting the user who created the command. Assignments and requested reviews can be removed in the same way that they are added by prefixing the commands with 'un'.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/[un]assign [[@]<username>...|[@]<orgname/teamname>...]",
            "Assigns assignee(s) or team(s) to the PR",
            "Anyone can use the command, but the target user(s) must be an org member, a repo collaborator, or should have previously commented on the issue or PR.",
            &["/assign", "/unassign", "/assign @spongebob", "/assign spongebob patrick", "/assign @kubernetes/sig-foo-bar"],
        )
        .command(
            "/[un]cc [[@]<username>...|[@]<orgname/teamname>...]",
            "Requests a review from the user(s) or team(s).",
            "Anyone can use the command, but the target user(s) must be a member of the org that owns the repository.",
            &["/cc", "/uncc", "/cc @spongebob", "/cc spongebob patrick", "/cc @kubernetes/sig-foo-bar"],
        );
        for c in &mut help.commands {
            c.featured = true;
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let assign = assignees(ctx.commands, &gc.user.login);
        let review = if gc.is_pr {
            reviewers(ctx.commands, &gc.user.login)
        } else {
            Change::default()
        };
        if assign.is_empty() && review.is_empty() {
            return Ok(Vec::new());
        }
        let facts = facts(ctx, gc, &assign.add, &review.add).await?;
        let request = Request {
            org: gc.repo.org(),
            repo: &gc.repo.name,
            number: gc.number,
            user: &gc.user.login,
            body: &gc.body,
            url: &gc.html_url,
            is_pr: gc.is_pr,
        };
        Ok(decide(&request, &assign, &review, &facts))
    }
}

async fn facts(
    ctx: &Context<'_>,
    gc: &GenericCommentEvent,
    assign: &[String],
    review: &[String],
) -> Result<Facts, PluginError> {
    let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
    let mut member_or_collaborator: BTreeMap<String, bool> = BTreeMap::new();
    for login in assign.iter().chain(review) {
        let key = login.to_lowercase();
        if member_or_collaborator.contains_key(&key) {
            continue;
        }
        let mut ok = ctx
            .github
            .is_org_member(org, login)
            .await
            .map_err(PluginError::github(format!(
                "check whether {login} belongs to {org}"
            )))?;
        if !ok {
            ok = ctx
                .github
                .collaborator_permission(org, repo, login)
                .await
                .map_err(PluginError::github(format!(
                    "check whether {login} collaborates on {org}/{repo}"
                )))?
                != Permission::None;
        }
        member_or_collaborator.insert(key, ok);
    }
    let mut commenters: BTreeSet<String> = BTreeSet::new();
    let known = |l: &String| {
        member_or_collaborator
            .get(&l.to_lowercase())
            .copied()
            .unwrap_or(false)
    };
    if !assign.iter().all(known) {
        commenters.insert(gc.user.login.to_lowercase());
        commenters.insert(gc.issue_author.login.to_lowercase());
        let comments = ctx.issue_comments(org, repo, number).await?;
        commenters.extend(comments.iter().map(|c| c.user.login.to_lowercase()));
    }
    let author = gc.issue_author.login.to_lowercase();
    let mut facts = Facts::default();
    for (login, ok) in member_or_collaborator {
        if ok || commenters.contains(&login) {
            facts.assignable.insert(login.clone());
        }
        if ok && login != author {
            facts.reviewable.insert(login);
        }
    }
    Ok(facts)
}
