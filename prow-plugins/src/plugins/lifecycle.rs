//! lifecycle: `/close [not-planned]` and `/reopen` for the author and collaborators, and
//! `/[remove-]lifecycle active|frozen|stale|rotten` for anyone (upstream
//! `pkg/plugins/lifecycle`).
//!
//! Anyone may close an issue or pull request that is already `lifecycle/stale` or
//! `lifecycle/rotten`; `lifecycle/frozen` cannot be put on pull requests. The label is named
//! as the command writes it (`/lifecycle Frozen` adds `lifecycle/Frozen`, which GitHub applies
//! as the existing label), and, as upstream compares exactly, only the lower-case
//! `lifecycle/frozen` is refused on a pull request.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};
use prow_github::types::Permission;

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// Every lifecycle label; an issue carries at most one.
pub const LIFECYCLE_LABELS: [&str; 4] = [
    "lifecycle/active",
    "lifecycle/frozen",
    "lifecycle/stale",
    "lifecycle/rotten",
];
/// The reply to someone who may not close.
pub const CANNOT_CLOSE: &str =
    "You can't close an active issue/PR unless you authored it or you are a collaborator.";
/// The reply to someone who may not reopen.
pub const CANNOT_REOPEN: &str =
    "You can't reopen an issue/PR unless you authored it or you are a collaborator.";

/// `/[remove-]lifecycle <state>` (upstream `lifecycleRe`).
pub static LIFECYCLE_RE: GoRegex = GoRegex::new(
    "pkg/plugins/lifecycle/lifecycle.go",
    r"(?mi)^/(remove-)?lifecycle (active|frozen|stale|rotten)\s*$",
);
/// `/close` (upstream `closeRe`).
pub static CLOSE_RE: GoRegex = GoRegex::new("pkg/plugins/lifecycle/close.go", r"(?mi)^/close\s*$");
/// `/close not-planned` (upstream `closeNotPlannedRe`).
pub static CLOSE_NOT_PLANNED_RE: GoRegex = GoRegex::new(
    "pkg/plugins/lifecycle/close.go",
    r"(?mi)^/close not-planned\s*$",
);
/// `/reopen` (upstream `reopenRe`).
pub static REOPEN_RE: GoRegex =
    GoRegex::new("pkg/plugins/lifecycle/reopen.go", r"(?mi)^/reopen\s*$");

/// What a comment asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Requested {
    /// `/close`: `Some(false)`; `/close not-planned`: `Some(true)`.
    pub close: Option<bool>,
    /// `/reopen`.
    pub reopen: bool,
    /// Each `/[remove-]lifecycle x`: the label and whether to remove it, in order.
    pub lifecycle: Vec<(String, bool)>,
}

impl Requested {
    /// Whether the comment asks nothing of this plugin.
    pub fn is_empty(&self) -> bool {
        self.close.is_none() && !self.reopen && self.lifecycle.is_empty()
    }
}

/// Reads the lifecycle commands of `body`.
pub fn requested(body: &str) -> Requested {
    let close = if CLOSE_NOT_PLANNED_RE.is_match(body) {
        Some(true)
    } else if CLOSE_RE.is_match(body) {
        Some(false)
    } else {
        None
    };
    Requested {
        close,
        reopen: REOPEN_RE.is_match(body),
        lifecycle: LIFECYCLE_RE
            .captures_iter(body)
            .map(|c| {
                // As written, like upstream: `/lifecycle Frozen` is not refused on a pull
                // request, and GitHub applies `lifecycle/frozen` whatever the case.
                (format!("lifecycle/{}", &c[2]), c.get(1).is_some())
            })
            .collect(),
    }
}

/// What is known when deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Facts {
    /// The commenter opened the issue or pull request.
    pub is_author: bool,
    /// The commenter collaborates on the repository.
    pub collaborator: bool,
    /// It is a pull request.
    pub is_pr: bool,
    /// Its state: `open` or `closed`.
    pub state: String,
    /// Its labels now.
    pub labels: Vec<String>,
}

pub use crate::Request;

/// The actions for `want` from `request`, given `facts`.
pub fn decide(request: &Request<'_>, want: &Requested, facts: &Facts) -> Vec<Action> {
    let (org, repo, number) = (
        request.org.to_owned(),
        request.repo.to_owned(),
        request.number,
    );
    let reply = |text: &str| request.reply(text);
    let thing = if facts.is_pr { "PR" } else { "issue" };
    let may = facts.is_author || facts.collaborator;
    let mut actions = Vec::new();
    if want.reopen && facts.state == "closed" {
        if may {
            actions.push(Action::Reopen {
                org: org.clone(),
                repo: repo.clone(),
                number,
            });
            actions.push(reply(&format!("Reopened this {thing}.")));
        } else {
            actions.push(reply(CANNOT_REOPEN));
        }
    }
    if let Some(not_planned) = want.close
        && facts.state == "open"
    {
        let active = !facts
            .labels
            .iter()
            .any(|l| l == "lifecycle/stale" || l == "lifecycle/rotten");
        if !may && active {
            actions.push(reply(CANNOT_CLOSE));
        } else if facts.is_pr && not_planned {
            actions.push(reply("PRs cannot be closed as Not Planned."));
        } else {
            actions.push(Action::Close {
                org: org.clone(),
                repo: repo.clone(),
                number,
                not_planned,
            });
            actions.push(reply(match (facts.is_pr, not_planned) {
                (true, _) => "Closed this PR.",
                (false, true) => "Closing this issue, marking it as \"Not Planned\".",
                (false, false) => "Closing this issue.",
            }));
        }
    }
    let mut labels = facts.labels.clone();
    for (label, remove) in &want.lifecycle {
        if facts.is_pr && !remove && label == "lifecycle/frozen" {
            actions.push(reply(
                "The `lifecycle/frozen` label cannot be applied to Pull Requests.",
            ));
            continue;
        }
        let has = labels.iter().any(|l| l.eq_ignore_ascii_case(label));
        if has && *remove {
            labels.retain(|l| !l.eq_ignore_ascii_case(label));
            actions.push(Action::RemoveLabel {
                org: org.clone(),
                repo: repo.clone(),
                number,
                label: label.clone(),
            });
        } else if !has && !remove {
            for other in LIFECYCLE_LABELS {
                if other != label && labels.iter().any(|l| l.eq_ignore_ascii_case(other)) {
                    actions.push(Action::RemoveLabel {
                        org: org.clone(),
                        repo: repo.clone(),
                        number,
                        label: other.to_owned(),
                    });
                }
            }
            labels.retain(|l| !LIFECYCLE_LABELS.contains(&l.as_str()));
            labels.push(label.clone());
            actions.push(Action::AddLabels {
                org: org.clone(),
                repo: repo.clone(),
                number,
                labels: vec![label.clone()],
            });
        }
    }
    actions
}

/// The lifecycle plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lifecycle;

#[async_trait]
impl Plugin for Lifecycle {
    fn name(&self) -> &'static str {
        "lifecycle"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "Close, reopen, flag and/or unflag an issue or PR as frozen/stale/rotten",
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/close [not-planned]",
            "Closes an issue or PR.",
            "Authors and collaborators on the repository can trigger this command.",
            &["/close", "/close not-planned"],
        )
        .command(
            "/reopen",
            "Reopens an issue or PR",
            "Authors and collaborators on the repository can trigger this command.",
            &["/reopen"],
        )
        .command(
            "/[remove-]lifecycle <frozen|stale|rotten>",
            "Flags an issue or PR as frozen/stale/rotten",
            "Anyone can trigger this command.",
            &["/lifecycle frozen", "/remove-lifecycle stale"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let want = requested(ctx.commands);
        if want.is_empty() {
            return Ok(Vec::new());
        }
        let (org, repo, number, user) = (
            gc.repo.org(),
            gc.repo.name.as_str(),
            gc.number,
            gc.user.login.as_str(),
        );
        let is_author = gc.issue_author.login == user;
        let collaborator = if (want.close.is_some() || want.reopen) && !is_author {
            ctx.github
                .collaborator_permission(org, repo, user)
                .await
                .map_err(PluginError::github(format!(
                    "check whether {user} collaborates on {org}/{repo}"
                )))?
                != Permission::None
        } else {
            false
        };
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let facts = Facts {
            is_author,
            collaborator,
            is_pr: gc.is_pr,
            state: gc.issue_state.clone(),
            labels: labels.into_iter().map(|l| l.name).collect(),
        };
        let request = Request {
            org,
            repo,
            number,
            user,
            body: &gc.body,
            url: &gc.html_url,
        };
        Ok(decide(&request, &want, &facts))
    }
}
