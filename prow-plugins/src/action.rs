//! What plugins ask hook to do, and how hook does it.

use prow_core::ProwJob;
use prow_github::client::GitHubClient;
use prow_github::types::Status;
use prow_jobs::store::{JobStore, StoreError};

/// Something a plugin decided; hook carries it out (or only logs it in dry-run mode).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Action {
    /// Adds labels to an issue or pull request.
    AddLabels {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The labels.
        labels: Vec<String>,
    },
    /// Removes a label from an issue or pull request.
    RemoveLabel {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The label.
        label: String,
    },
    /// Comments on an issue or pull request.
    Comment {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The comment, Markdown.
        body: String,
    },
    /// Assigns users to an issue or pull request.
    Assign {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The logins.
        logins: Vec<String>,
    },
    /// Sets a commit status.
    Status {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The commit.
        sha: String,
        /// The status.
        status: Status,
    },
    /// Creates a ProwJob (plank runs it).
    CreateProwJob(Box<ProwJob>),
    /// Aborts a running ProwJob (plank stops its pod).
    AbortProwJob {
        /// The job's name.
        name: String,
    },
    /// Unassigns users from an issue or pull request.
    Unassign {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The logins.
        logins: Vec<String>,
    },
    /// Asks users to review a pull request.
    RequestReview {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The pull request.
        number: u64,
        /// The logins.
        logins: Vec<String>,
    },
    /// Withdraws review requests from users.
    UnrequestReview {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The pull request.
        number: u64,
        /// The logins.
        logins: Vec<String>,
    },
    /// Closes an issue or pull request.
    Close {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// Close an issue as "not planned".
        not_planned: bool,
    },
    /// Reopens an issue or pull request.
    Reopen {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
    },
    /// Replaces the body (description) of an issue or pull request.
    EditBody {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The new body.
        body: String,
    },
    /// Renames an issue or pull request.
    EditTitle {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The new title.
        title: String,
    },
    /// Sets the milestone of an issue or pull request, or clears it.
    SetMilestone {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The milestone's number; `None` clears it.
        milestone: Option<u64>,
    },
    /// Reacts to an issue comment (`comment_id`) or, without one, to the issue itself.
    React {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue or pull request.
        number: u64,
        /// The comment reacted to, if any.
        comment_id: Option<u64>,
        /// The reaction: `+1`, `heart`, `hooray`, ...
        reaction: String,
    },
    /// Deletes a comment (the bot's own, no longer true).
    DeleteComment {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The comment's id.
        id: u64,
    },
    /// Deletes a git reference (`heads/<branch>`; branchcleaner).
    DeleteRef {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The reference, without `refs/`.
        git_ref: String,
    },
    /// Replaces the text of a comment (the bot's own notification, kept up to date).
    EditComment {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The comment's id.
        id: u64,
        /// The new text, Markdown.
        body: String,
    },
    /// Creates a review with line comments on a pull request.
    Review {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The pull request.
        number: u64,
        /// The review.
        review: prow_github::client::DraftReview,
    },
    /// Opens a pull request (cherrypicker), labels it, assigns it, and says so on the issue in
    /// `announce`.
    OpenPullRequest {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The pull request.
        pull: prow_github::client::NewPullRequest,
        /// Labels for it.
        labels: Vec<String>,
        /// Who it is assigned to.
        assignees: Vec<String>,
        /// Where to tell of it (`… #N`) or of the failure.
        announce: Announce,
    },
    /// Opens an issue assigned to `assignees` and says so on the issue in `announce`.
    OpenIssue {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// Its title.
        title: String,
        /// Its text.
        body: String,
        /// Who it is assigned to.
        assignees: Vec<String>,
        /// Where to tell of it (`… #N`) or of the failure.
        announce: Announce,
    },
    // Classic projects (project, project-manager).
    /// Adds, moves or removes a classic project card, then, only if that worked, carries out
    /// `then` (the plugin's report of it).
    ProjectCard {
        /// The organisation the plugin works in (a GitHub App acts through its installation).
        org: String,
        /// What to do to the card.
        change: CardChange,
        /// Done once the change is made (a comment saying so); skipped when it failed.
        then: Option<Box<Action>>,
    },
    /// Hands `event` to `plugin` again after `after`, off hook's workers (a grace period that
    /// must not hold a worker). Hook schedules it; [`execute`] on its own does nothing.
    Recheck {
        /// How long to wait.
        after: std::time::Duration,
        /// The plugin to run again.
        plugin: String,
        /// The event it runs on.
        event: Box<prow_github::events::Event>,
    },
    // issue-management: transfer, pin.
    /// Pins an issue to its repository, or unpins it, and says on the issue how that went.
    PinIssue {
        /// The organisation.
        org: String,
        /// The repository.
        repo: String,
        /// The issue.
        number: u64,
        /// The issue's GraphQL node ID.
        issue_id: String,
        /// Pin (`true`) or unpin.
        pin: bool,
        /// The comment once done.
        done: String,
        /// The comment when GitHub refuses.
        failed: String,
    },
    /// Moves an issue to another repository of its organisation.
    TransferIssue {
        /// The organisation.
        org: String,
        /// The repository the issue is in.
        repo: String,
        /// The issue.
        number: u64,
        /// The issue's GraphQL node ID.
        issue_id: String,
        /// The repository it moves to.
        to_repo: String,
        /// That repository's GraphQL node ID.
        to_repo_id: String,
    },
}

// Classic projects (project, project-manager).
/// A change to a classic project card ([`Action::ProjectCard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CardChange {
    /// Adds a card for `content` to the top of column `column_id`.
    Create {
        /// The column.
        column_id: u64,
        /// The issue or pull request the card stands for.
        content: prow_github::types::CardContent,
    },
    /// Moves card `card_id` to the top of column `column_id` of its project.
    Move {
        /// The card.
        card_id: u64,
        /// The column.
        column_id: u64,
    },
    /// Deletes card `card_id`.
    Delete {
        /// The card.
        card_id: u64,
    },
}

/// How an action that creates something tells of it: a comment on `org/repo#number` saying
/// `created` followed by the new number, or `failed` followed by the error, each wrapped by
/// `reply` (a reply quoting the request, or a plain prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announce {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The issue or pull request commented on.
    pub number: u64,
    /// How the text is wrapped.
    pub reply: Reply,
    /// The text before the new number (`new pull request created: #`).
    pub created: String,
    /// The text before the error (`new pull request could not be created: `).
    pub failed: String,
}

/// How a reply is worded around its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Quotes the comment `body` at `url` by `user` (Prow's `FormatICResponse`).
    Quote {
        /// The comment's text.
        body: String,
        /// Its link.
        url: String,
        /// Its author.
        user: String,
    },
    /// The text after this prefix.
    Prefix(String),
}

impl Reply {
    /// The comment saying `text`.
    pub fn wrap(&self, text: &str) -> String {
        match self {
            Reply::Quote { body, url, user } => {
                crate::respond::format_response_raw(body, url, user, text)
            }
            Reply::Prefix(prefix) => format!("{prefix}{text}"),
        }
    }
}

impl Announce {
    async fn tell(
        &self,
        github: &dyn GitHubClient,
        outcome: &Result<u64, prow_github::Error>,
    ) -> Result<(), prow_github::Error> {
        let text = match outcome {
            Ok(n) => format!("{}{n}", self.created),
            Err(e) => format!("{}{e}", self.failed),
        };
        github
            .create_comment(&self.org, &self.repo, self.number, &self.reply.wrap(&text))
            .await
            .map(|_| ())
    }
}

/// Why an action failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// GitHub refused or failed.
    #[error("{action}: {source}")]
    GitHub {
        /// The action, in words.
        action: String,
        /// The error.
        #[source]
        source: prow_github::Error,
    },
    /// The job store refused or failed.
    #[error("{action}: {source}")]
    Store {
        /// The action, in words.
        action: String,
        /// The error.
        #[source]
        source: StoreError,
    },
}

impl Action {
    /// Adds label `name` to `org/repo#number` when `add`, else removes it.
    pub fn label(org: &str, repo: &str, number: u64, name: &str, add: bool) -> Action {
        if add {
            Action::AddLabels {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                labels: vec![name.to_owned()],
            }
        } else {
            Action::RemoveLabel {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                label: name.to_owned(),
            }
        }
    }

    /// The action in words, for logs and errors.
    pub fn describe(&self) -> String {
        match self {
            Action::AddLabels {
                org,
                repo,
                number,
                labels,
            } => {
                format!("add labels {labels:?} to {org}/{repo}#{number}")
            }
            Action::RemoveLabel {
                org,
                repo,
                number,
                label,
            } => {
                format!("remove label {label:?} from {org}/{repo}#{number}")
            }
            Action::Comment {
                org, repo, number, ..
            } => format!("comment on {org}/{repo}#{number}"),
            Action::Assign {
                org,
                repo,
                number,
                logins,
            } => {
                format!("assign {logins:?} to {org}/{repo}#{number}")
            }
            Action::Status {
                org,
                repo,
                sha,
                status,
            } => {
                format!("set status {} on {org}/{repo}@{sha}", status.context)
            }
            Action::CreateProwJob(job) => {
                format!("create prowjob {} ({})", job.name(), job.spec.job)
            }
            Action::AbortProwJob { name } => format!("abort prowjob {name}"),
            Action::Unassign {
                org,
                repo,
                number,
                logins,
            } => format!("unassign {logins:?} from {org}/{repo}#{number}"),
            Action::RequestReview {
                org,
                repo,
                number,
                logins,
            } => format!("request reviews from {logins:?} on {org}/{repo}#{number}"),
            Action::UnrequestReview {
                org,
                repo,
                number,
                logins,
            } => format!("withdraw review requests from {logins:?} on {org}/{repo}#{number}"),
            Action::Close {
                org, repo, number, ..
            } => format!("close {org}/{repo}#{number}"),
            Action::Reopen { org, repo, number } => format!("reopen {org}/{repo}#{number}"),
            Action::EditBody {
                org, repo, number, ..
            } => format!("edit the body of {org}/{repo}#{number}"),
            Action::DeleteComment { org, repo, id } => {
                format!("delete comment {id} in {org}/{repo}")
            }
            Action::EditTitle {
                org, repo, number, ..
            } => format!("edit the title of {org}/{repo}#{number}"),
            Action::Review {
                org,
                repo,
                number,
                review,
            } => format!(
                "review {org}/{repo}#{number} with {} comments",
                review.comments.len()
            ),
            Action::OpenPullRequest {
                org, repo, pull, ..
            } => format!(
                "open a pull request from {} into {org}/{repo}:{}",
                pull.head, pull.base
            ),
            Action::OpenIssue { org, repo, .. } => format!("open an issue in {org}/{repo}"),
            Action::Recheck { after, plugin, .. } => {
                format!("run {plugin} again in {}s", after.as_secs())
            }
            Action::React {
                org,
                repo,
                number,
                comment_id,
                reaction,
            } => match comment_id {
                Some(id) => format!("react {reaction} to comment {id} on {org}/{repo}#{number}"),
                None => format!("react {reaction} to {org}/{repo}#{number}"),
            },
            Action::SetMilestone {
                org,
                repo,
                number,
                milestone,
            } => match milestone {
                Some(m) => format!("set milestone {m} on {org}/{repo}#{number}"),
                None => format!("clear the milestone of {org}/{repo}#{number}"),
            },
            Action::EditComment { org, repo, id, .. } => {
                format!("edit comment {id} in {org}/{repo}")
            }
            // Classic projects (project, project-manager).
            Action::ProjectCard { org, change, .. } => match change {
                CardChange::Create { column_id, content } => format!(
                    "add a card for {:?} {} to project column {column_id} in {org}",
                    content.content_type, content.content_id
                ),
                CardChange::Move { card_id, column_id } => {
                    format!("move project card {card_id} to column {column_id} in {org}")
                }
                CardChange::Delete { card_id } => format!("delete project card {card_id} in {org}"),
            },
            Action::DeleteRef { org, repo, git_ref } => {
                format!("delete ref {git_ref} of {org}/{repo}")
            }
            // issue-management: transfer, pin.
            Action::PinIssue {
                org,
                repo,
                number,
                pin,
                ..
            } => {
                let verb = if *pin { "pin" } else { "unpin" };
                format!("{verb} issue {org}/{repo}#{number}")
            }
            Action::TransferIssue {
                org,
                repo,
                number,
                to_repo,
                ..
            } => format!("transfer issue {org}/{repo}#{number} to {org}/{to_repo}"),
        }
    }
}

/// Carries out `action`.
pub async fn execute(
    action: &Action,
    github: &dyn GitHubClient,
    store: &dyn JobStore,
) -> Result<(), ActionError> {
    let gh = |source| ActionError::GitHub {
        action: action.describe(),
        source,
    };
    let st = |source| ActionError::Store {
        action: action.describe(),
        source,
    };
    match action {
        Action::AddLabels {
            org,
            repo,
            number,
            labels,
        } => github
            .add_labels(org, repo, *number, labels)
            .await
            .map_err(gh),
        Action::RemoveLabel {
            org,
            repo,
            number,
            label,
        } => github
            .remove_label(org, repo, *number, label)
            .await
            .map_err(gh),
        Action::Comment {
            org,
            repo,
            number,
            body,
        } => github
            .create_comment(org, repo, *number, body)
            .await
            .map(|_| ())
            .map_err(gh),
        Action::Assign {
            org,
            repo,
            number,
            logins,
        } => github
            .add_assignees(org, repo, *number, logins)
            .await
            .map_err(gh),
        Action::Status {
            org,
            repo,
            sha,
            status,
        } => github
            .create_status(org, repo, sha, status)
            .await
            .map_err(gh),
        Action::CreateProwJob(job) => store.create((**job).clone()).await.map(|_| ()).map_err(st),
        Action::AbortProwJob { name } => {
            prow_jobs::abort::abort(store, name, prow_jobs::abort::AbortOptions::default())
                .await
                .map(|_| ())
                .map_err(st)
        }
        Action::Unassign {
            org,
            repo,
            number,
            logins,
        } => github
            .remove_assignees(org, repo, *number, logins)
            .await
            .map_err(gh),
        Action::RequestReview {
            org,
            repo,
            number,
            logins,
        } => github
            .request_review(org, repo, *number, logins)
            .await
            .map_err(gh),
        Action::UnrequestReview {
            org,
            repo,
            number,
            logins,
        } => github
            .unrequest_review(org, repo, *number, logins)
            .await
            .map_err(gh),
        Action::Close {
            org,
            repo,
            number,
            not_planned,
        } => github
            .close_issue(org, repo, *number, *not_planned)
            .await
            .map_err(gh),
        Action::Reopen { org, repo, number } => {
            github.reopen_issue(org, repo, *number).await.map_err(gh)
        }
        Action::EditBody {
            org,
            repo,
            number,
            body,
        } => github
            .edit_issue_body(org, repo, *number, body)
            .await
            .map_err(gh),
        Action::DeleteComment { org, repo, id } => {
            github.delete_comment(org, repo, *id).await.map_err(gh)
        }
        Action::EditTitle {
            org,
            repo,
            number,
            title,
        } => github
            .edit_issue_title(org, repo, *number, title)
            .await
            .map_err(gh),
        Action::Review {
            org,
            repo,
            number,
            review,
        } => github
            .create_review(org, repo, *number, review)
            .await
            .map_err(gh),
        Action::OpenPullRequest {
            org,
            repo,
            pull,
            labels,
            assignees,
            announce,
        } => {
            let created = github.create_pull_request(org, repo, pull).await;
            announce.tell(github, &created).await.map_err(gh)?;
            let number = created.map_err(gh)?;
            if !labels.is_empty() {
                github
                    .add_labels(org, repo, number, labels)
                    .await
                    .map_err(gh)?;
            }
            if !assignees.is_empty()
                && let Err(e) = github.add_assignees(org, repo, number, assignees).await
            {
                // Upstream ignores this too: the requester may not be assignable.
                tracing::warn!(org, repo, pr = number, error = %e, "could not assign the new pull request");
            }
            Ok(())
        }
        Action::OpenIssue {
            org,
            repo,
            title,
            body,
            assignees,
            announce,
        } => {
            let created = github.create_issue(org, repo, title, body, assignees).await;
            announce.tell(github, &created).await.map_err(gh)?;
            created.map(|_| ()).map_err(gh)
        }
        // Scheduled by hook, which holds what a later run needs.
        Action::Recheck { .. } => Ok(()),
        Action::React {
            org,
            repo,
            number,
            comment_id,
            reaction,
        } => match comment_id {
            Some(id) => github
                .create_comment_reaction(org, repo, *id, reaction)
                .await
                .map_err(gh),
            None => github
                .create_issue_reaction(org, repo, *number, reaction)
                .await
                .map_err(gh),
        },
        Action::SetMilestone {
            org,
            repo,
            number,
            milestone,
        } => github
            .set_milestone(org, repo, *number, *milestone)
            .await
            .map_err(gh),
        Action::EditComment {
            org,
            repo,
            id,
            body,
        } => github.edit_comment(org, repo, *id, body).await.map_err(gh),
        Action::DeleteRef { org, repo, git_ref } => {
            github.delete_ref(org, repo, git_ref).await.map_err(gh)
        }
        // Classic projects (project, project-manager).
        Action::ProjectCard { org, change, then } => {
            match *change {
                CardChange::Create { column_id, content } => github
                    .create_project_card(org, column_id, content)
                    .await
                    .map(|_| ()),
                CardChange::Move { card_id, column_id } => {
                    github.move_project_card(org, card_id, column_id).await
                }
                CardChange::Delete { card_id } => github.delete_project_card(org, card_id).await,
            }
            .map_err(gh)?;
            match then {
                Some(next) => Box::pin(execute(next, github, store)).await,
                None => Ok(()),
            }
        }
        // issue-management: transfer, pin.
        Action::PinIssue {
            org,
            repo,
            number,
            issue_id,
            pin,
            done,
            failed,
        } => {
            let outcome = if *pin {
                github.pin_issue(org, issue_id).await
            } else {
                github.unpin_issue(org, issue_id).await
            };
            let said = if outcome.is_ok() { done } else { failed };
            github
                .create_comment(org, repo, *number, said)
                .await
                .map_err(gh)?;
            outcome.map_err(gh)
        }
        Action::TransferIssue {
            org,
            repo,
            number,
            issue_id,
            to_repo,
            to_repo_id,
        } => {
            let url = github
                .transfer_issue(org, issue_id, to_repo_id)
                .await
                .map_err(gh)?;
            tracing::info!(org, repo, number, to_repo, url, "transferred the issue");
            Ok(())
        }
    }
}
