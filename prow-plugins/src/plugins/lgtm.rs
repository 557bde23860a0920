//! lgtm: `/lgtm` and `/lgtm cancel` (or `/remove-lgtm`) add and remove the `lgtm` label on
//! pull requests, and with `review_acts_as_lgtm` approving and change-requesting reviews do the
//! same (upstream `pkg/plugins/lgtm`).
//!
//! Collaborators may change the label; authors may cancel but not add it on their own pull
//! request; a collaborator who is not yet assigned is assigned, as Prow does.
//!
//! New commits pushed to a pull request remove `lgtm` with a comment. With `store_tree_hash`
//! the bot records the git tree hash in a comment when it adds the label, and a push that
//! keeps that tree (a squash or a rebase without changes) keeps the label. Authors in
//! `trusted_team_for_sticky_lgtm` (taken as the team's slug) keep it across any push.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;
use prow_github::types::Permission;

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label.
pub const LGTM_LABEL: &str = "lgtm";
/// The reply to an author's `/lgtm`.
pub const OWN_PR: &str = "you cannot LGTM your own PR.";
/// The reply to a non-collaborator.
pub const RESTRICTED: &str = "changing LGTM is restricted to collaborators";
/// The comment recording the tree hash when the label is added (`store_tree_hash`).
pub const ADDED_WITH_TREE: &str = "LGTM label has been added.  <details>Git tree hash: ";
/// The comment when new commits remove the label.
pub const REMOVED_BY_PUSH: &str = "New changes are detected. LGTM label has been removed.";

/// The comment recording `tree` as the tree that got `lgtm`.
pub fn added_notification(tree: &str) -> String {
    format!("{ADDED_WITH_TREE}{tree}</details>")
}

/// The tree hash a bot comment recorded when it added `lgtm`, if it is such a comment.
pub fn recorded_tree(body: &str) -> Option<&str> {
    let rest = &body[body.find(ADDED_WITH_TREE)? + ADDED_WITH_TREE.len()..];
    let end = rest.find("</details>")?;
    Some(rest[..end].trim())
}

/// What a push to a pull request with `lgtm` does to the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushVerdict {
    /// The label stays: no label, or the tree is the one that got `lgtm`.
    Keep,
    /// The label goes, with [`REMOVED_BY_PUSH`].
    Remove,
}

/// Prow's rule for pushes: with `store_tree_hash` and a recorded tree equal to the new
/// head's, `lgtm` stays; otherwise it is removed.
pub fn on_push(
    has_lgtm: bool,
    store_tree_hash: bool,
    recorded: Option<&str>,
    head_tree: Option<&str>,
) -> PushVerdict {
    if !has_lgtm {
        return PushVerdict::Keep;
    }
    match (store_tree_hash, recorded, head_tree) {
        (true, Some(recorded), Some(head)) if !recorded.is_empty() && recorded == head => {
            PushVerdict::Keep
        }
        _ => PushVerdict::Remove,
    }
}

/// `/lgtm [no-issue]` (upstream `LGTMRe`).
pub static LGTM_RE: GoRegex =
    GoRegex::new("pkg/plugins/lgtm/lgtm.go", r"(?mi)^/lgtm(?: no-issue)?\s*$");
/// `/lgtm cancel` and `/remove-lgtm` (upstream `LGTMCancelRe`).
pub static LGTM_CANCEL_RE: GoRegex = GoRegex::new(
    "pkg/plugins/lgtm/lgtm.go",
    r"(?mi)^/(remove-lgtm|lgtm cancel)\s*$",
);

/// What a comment asks: `Some(true)` to add the label, `Some(false)` to remove it. Upstream
/// looks for `/lgtm` first, so in a comment with both `/lgtm` wins.
pub fn requested(body: &str) -> Option<bool> {
    if LGTM_RE.is_match(body) {
        Some(true)
    } else if LGTM_CANCEL_RE.is_match(body) {
        Some(false)
    } else {
        None
    }
}

/// What is known when deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Facts {
    /// The commenter wrote the pull request.
    pub is_author: bool,
    /// The commenter is assigned already.
    pub is_assignee: bool,
    /// The commenter is a collaborator of the repository.
    pub collaborator: bool,
    /// `skip_collaborators` is set for the repository (OWNERS decide instead).
    pub skip_collaborators: bool,
    /// The pull request has the label now.
    pub has_lgtm: bool,
}

pub use crate::Request;

/// The actions for `want` (add or remove the label) by `request`'s user, given `facts`.
pub fn decide(want: bool, request: &Request<'_>, facts: &Facts) -> Vec<Action> {
    let reply = |text: &str| vec![request.reply(text)];
    if facts.is_author && want {
        return reply(OWN_PR);
    }
    if !facts.is_author && !facts.skip_collaborators && !facts.collaborator {
        return reply(RESTRICTED);
    }
    let mut actions = Vec::new();
    if !facts.is_author && !facts.is_assignee && !facts.skip_collaborators {
        actions.push(Action::Assign {
            org: request.org.to_owned(),
            repo: request.repo.to_owned(),
            number: request.number,
            logins: vec![request.user.to_owned()],
        });
    }
    match (want, facts.has_lgtm) {
        (true, false) => actions.push(request.add_labels(vec![LGTM_LABEL.to_owned()])),
        (false, true) => actions.push(request.remove_label(LGTM_LABEL)),
        _ => {}
    }
    actions
}

/// The lgtm plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lgtm;

#[async_trait]
impl Plugin for Lgtm {
    fn name(&self) -> &'static str {
        "lgtm"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The lgtm plugin manages the application and removal of the 'lgtm' (Looks Good To Me) label which is typically used to gate merging.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/[remove-]lgtm [cancel] or GitHub Review action",
            "Adds or removes the 'lgtm' label which is typically used to gate merging.",
            "Collaborators on the repository. '/lgtm cancel' can be used additionally by the PR author.",
            &["/lgtm", "/lgtm cancel", "/remove-lgtm", "<a href=\"https://help.github.com/articles/about-pull-request-reviews/\">'Approve' or 'Request Changes'</a>"],
        );
        for entry in &plugins.lgtm {
            let mut text = String::new();
            if entry.review_acts_as_lgtm {
                text.push_str(
                    "'Approve' and 'Request Changes' reviews act as '/lgtm' and '/lgtm cancel'. ",
                );
            }
            if entry.store_tree_hash {
                text.push_str("Squashing commits does not remove LGTM.");
            }
            for repo in &entry.repos {
                help.config.insert(repo.clone(), text.trim_end().to_owned());
            }
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let (want, request, author, assignees) = match event {
            Event::PullRequestReview(review) => {
                let org = review.repository.org();
                let settings = ctx.plugins.lgtm_for(org, &review.repository.name);
                if !settings.review_acts_as_lgtm || review.action != "submitted" {
                    return Ok(Vec::new());
                }
                // As upstream: bots' reviews never count, and a review whose body has `/lgtm`
                // or `/lgtm cancel` is left to the comment handling.
                let reviewer = &review.review.user;
                if reviewer.login.eq_ignore_ascii_case(ctx.bot)
                    || reviewer.kind == "Bot"
                    || requested(review.review.body.as_deref().unwrap_or_default()).is_some()
                {
                    return Ok(Vec::new());
                }
                let want = match review.review.state.to_ascii_uppercase().as_str() {
                    "APPROVED" => true,
                    "CHANGES_REQUESTED" => false,
                    _ => return Ok(Vec::new()),
                };
                let pr = &review.pull_request;
                (
                    want,
                    Request {
                        org,
                        repo: &review.repository.name,
                        number: pr.number,
                        user: &review.review.user.login,
                        body: review.review.body.as_deref().unwrap_or_default(),
                        url: &review.review.html_url,
                    },
                    pr.user.login.clone(),
                    pr.assignees
                        .iter()
                        .map(|u| u.login.clone())
                        .collect::<Vec<_>>(),
                )
            }
            Event::PullRequest(pe)
                if pe.action == "synchronize" && pe.pull_request.merged != Some(true) =>
            {
                return self.pushed(ctx, pe).await;
            }
            _ => {
                let Some(gc) = ctx.comment else {
                    return Ok(Vec::new());
                };
                if !gc.is_new_on_open_pull_request() {
                    return Ok(Vec::new());
                }
                let Some(want) = requested(ctx.commands) else {
                    return Ok(Vec::new());
                };
                return self.comment(ctx, want, gc).await;
            }
        };
        self.act(ctx, want, &request, &author, &assignees).await
    }
}

impl Lgtm {
    async fn comment(
        &self,
        ctx: &Context<'_>,
        want: bool,
        gc: &prow_github::GenericCommentEvent,
    ) -> Result<Vec<Action>, PluginError> {
        let request = Request {
            org: gc.repo.org(),
            repo: &gc.repo.name,
            number: gc.number,
            user: &gc.user.login,
            body: &gc.body,
            url: &gc.html_url,
        };
        let assignees: Vec<String> = gc.assignees.iter().map(|u| u.login.clone()).collect();
        self.act(ctx, want, &request, &gc.issue_author.login, &assignees)
            .await
    }

    async fn act(
        &self,
        ctx: &Context<'_>,
        want: bool,
        request: &Request<'_>,
        author: &str,
        assignees: &[String],
    ) -> Result<Vec<Action>, PluginError> {
        let (org, repo, number, user) = (request.org, request.repo, request.number, request.user);
        let skip_collaborators = ctx.plugins.skip_collaborators(org, repo);
        let collaborator = ctx
            .github
            .collaborator_permission(org, repo, user)
            .await
            .map_err(PluginError::github(format!(
                "check whether {user} collaborates on {org}/{repo}"
            )))?
            != Permission::None;
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let facts = Facts {
            is_author: user.eq_ignore_ascii_case(author),
            is_assignee: assignees.iter().any(|a| a.eq_ignore_ascii_case(user)),
            collaborator,
            skip_collaborators,
            has_lgtm: labels.iter().any(|l| l.name == LGTM_LABEL),
        };
        let mut actions = decide(want, request, &facts);
        let settings = ctx.plugins.lgtm_for(org, repo);
        let adds = actions
            .iter()
            .any(|a| matches!(a, Action::AddLabels { labels, .. } if labels.iter().any(|l| l == LGTM_LABEL)));
        let removes = actions
            .iter()
            .any(|a| matches!(a, Action::RemoveLabel { label, .. } if label == LGTM_LABEL));
        if (adds || removes) && settings.store_tree_hash {
            let bot_comments = self.bot_comments(ctx, org, repo, number).await?;
            if adds {
                let pr = ctx.pull_request(org, repo, number).await?;
                let tree = ctx
                    .github
                    .commit_tree(org, repo, &pr.head.sha)
                    .await
                    .map_err(PluginError::github(format!(
                        "read the tree of {org}/{repo}@{}",
                        pr.head.sha
                    )))?;
                actions.push(Action::Comment {
                    org: org.to_owned(),
                    repo: repo.to_owned(),
                    number,
                    body: added_notification(&tree),
                });
                actions.extend(prune(org, repo, &bot_comments, |b| {
                    b.contains(REMOVED_BY_PUSH)
                }));
            } else {
                actions.push(Action::RequestReview {
                    org: org.to_owned(),
                    repo: repo.to_owned(),
                    number,
                    logins: assignees.to_vec(),
                });
                actions.extend(prune(org, repo, &bot_comments, |b| {
                    recorded_tree(b).is_some()
                }));
            }
        }
        Ok(actions)
    }

    async fn bot_comments(
        &self,
        ctx: &Context<'_>,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<(u64, String)>, PluginError> {
        ctx.bot_comments(org, repo, number).await
    }

    /// New commits on a pull request: `lgtm` goes unless the tree is the one approved.
    async fn pushed(
        &self,
        ctx: &Context<'_>,
        pe: &prow_github::events::PullRequestEvent,
    ) -> Result<Vec<Action>, PluginError> {
        let org = pe.repository.org();
        let repo = pe.repository.name.as_str();
        let number = pe.pull_request.number;
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let has_lgtm = labels.iter().any(|l| l.name == LGTM_LABEL);
        if !has_lgtm {
            return Ok(Vec::new());
        }
        let settings = ctx.plugins.lgtm_for(org, repo);
        // Authors in `trusted_team_for_sticky_lgtm` keep `lgtm` across pushes.
        if !settings.sticky_lgtm_team.is_empty() {
            let author = &pe.pull_request.user.login;
            let team = &settings.sticky_lgtm_team;
            let sticky =
                ctx.github
                    .is_team_member(org, team, author)
                    .await
                    .map_err(PluginError::github(format!(
                        "check whether {author} is in team {org}/{team}"
                    )))?;
            if sticky {
                return Ok(Vec::new());
            }
        }
        let store_tree_hash = settings.store_tree_hash;
        let (mut recorded, mut head_tree) = (None, None);
        if store_tree_hash {
            let comments = self.bot_comments(ctx, org, repo, number).await?;
            recorded = comments
                .iter()
                .rev()
                .find_map(|(_, body)| recorded_tree(body).map(str::to_owned));
            if recorded.is_some() {
                let sha = &pe.pull_request.head.sha;
                head_tree = Some(ctx.github.commit_tree(org, repo, sha).await.map_err(
                    PluginError::github(format!("read the tree of {org}/{repo}@{sha}")),
                )?);
            }
        }
        if on_push(
            has_lgtm,
            store_tree_hash,
            recorded.as_deref(),
            head_tree.as_deref(),
        ) == PushVerdict::Keep
        {
            return Ok(Vec::new());
        }
        let mut actions = vec![Action::RemoveLabel {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            label: LGTM_LABEL.to_owned(),
        }];
        if store_tree_hash {
            actions.push(Action::RequestReview {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                logins: pe
                    .pull_request
                    .assignees
                    .iter()
                    .map(|u| u.login.clone())
                    .collect(),
            });
        }
        actions.push(Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            body: REMOVED_BY_PUSH.to_owned(),
        });
        Ok(actions)
    }
}

/// Deletes the bot's comments (`(id, body)`) that `stale` picks.
fn prune(
    org: &str,
    repo: &str,
    comments: &[(u64, String)],
    stale: impl Fn(&str) -> bool,
) -> Vec<Action> {
    comments
        .iter()
        .filter(|(_, body)| stale(body))
        .map(|(id, _)| Action::DeleteComment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            id: *id,
        })
        .collect()
}
