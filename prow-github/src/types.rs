//! GitHub's objects as its API and webhooks return them: users, repositories, issues, pull
//! requests, comments, reviews, statuses and checks (the fields Prow uses).

use serde::{Deserialize, Serialize};

/// A GitHub account (user, bot or organisation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// The login.
    pub login: String,
    /// The numeric ID.
    pub id: u64,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The profile page.
    pub html_url: String,
}

/// A repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Repo {
    /// The numeric ID.
    pub id: u64,
    /// The name within its owner.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// The owner (`login`, or `name` in push events).
    pub owner: Owner,
    /// The repository's page.
    pub html_url: String,
    /// Whether it is private.
    pub private: bool,
    /// Whether it is a fork.
    pub fork: bool,
    /// The default branch.
    pub default_branch: String,
    /// Whether it is archived.
    pub archived: bool,
    /// Its GraphQL node ID.
    pub node_id: String,
}

/// A repository owner; push events name it by `name`, the others by `login`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Owner {
    /// The login.
    pub login: String,
    /// The name (push events).
    pub name: Option<String>,
    /// The numeric ID.
    pub id: u64,
}

impl Repo {
    /// The organisation (or user) owning the repository.
    pub fn org(&self) -> &str {
        if self.owner.login.is_empty() {
            self.owner.name.as_deref().unwrap_or_default()
        } else {
            &self.owner.login
        }
    }
}

/// A label on an issue or pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Label {
    /// The label's name.
    pub name: String,
    /// Its colour, as hex.
    pub color: String,
    /// Its description.
    pub description: Option<String>,
}

/// An issue, or the issue side of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issue {
    /// The numeric ID.
    pub id: u64,
    /// The issue number.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The body, when there is one.
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// The author.
    pub user: User,
    /// Its labels.
    pub labels: Vec<Label>,
    /// Its assignees.
    pub assignees: Vec<User>,
    /// Its page.
    pub html_url: String,
    /// Present when the issue is a pull request.
    pub pull_request: Option<serde_json::Value>,
    /// The API URL of the issue's repository (search results name the repository this way).
    pub repository_url: String,
    /// When the issue last changed (a push, a label, a comment; not a commit status), as GitHub
    /// writes it; empty when unknown.
    pub updated_at: String,
    /// Its milestone, if any.
    pub milestone: Option<Milestone>,
    /// Its GraphQL node ID.
    pub node_id: String,
}

impl Issue {
    /// Whether this issue is a pull request.
    pub fn is_pull_request(&self) -> bool {
        self.pull_request.is_some()
    }
}

/// A comment on an issue or pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Comment {
    /// The numeric ID.
    pub id: u64,
    /// The text.
    pub body: Option<String>,
    /// The author.
    pub user: User,
    /// The comment's link.
    pub html_url: String,
    /// When it was written.
    pub created_at: String,
    /// When it was last edited.
    pub updated_at: String,
}

/// One end of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Branch {
    /// The branch name.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit.
    pub sha: String,
    /// `owner:branch`.
    pub label: String,
    /// The repository (absent when a fork was deleted).
    pub repo: Option<Repo>,
}

/// A pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequest {
    /// The numeric ID.
    pub id: u64,
    /// The pull request number.
    pub number: u64,
    /// The title.
    pub title: String,
    /// The description, when there is one.
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// The author.
    pub user: User,
    /// Its labels.
    pub labels: Vec<Label>,
    /// Where it comes from.
    pub head: Branch,
    /// Where it goes.
    pub base: Branch,
    /// Its page.
    pub html_url: String,
    /// Whether it was merged.
    pub merged: Option<bool>,
    /// Whether GitHub can merge it (unknown while GitHub computes it).
    pub mergeable: Option<bool>,
    /// The merge commit, once merged (or GitHub's test merge).
    pub merge_commit_sha: Option<String>,
    /// Whether it is a draft.
    pub draft: Option<bool>,
    /// Its assignees.
    pub assignees: Vec<User>,
    /// Reviewers asked for.
    pub requested_reviewers: Vec<User>,
    /// How many commits it has (0 when the payload does not say).
    pub commits: u64,
}

/// A pull request review.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Review {
    /// The numeric ID.
    pub id: u64,
    /// The reviewer.
    pub user: User,
    /// The review text.
    pub body: Option<String>,
    /// `approved`, `changes_requested`, `commented` or `dismissed`.
    pub state: String,
    /// The review's link.
    pub html_url: String,
    /// When it was submitted.
    pub submitted_at: Option<String>,
}

/// A comment on a pull request's diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewComment {
    /// The numeric ID.
    pub id: u64,
    /// The text.
    pub body: Option<String>,
    /// The author.
    pub user: User,
    /// The file commented on.
    pub path: String,
    /// The commit commented on.
    pub commit_id: String,
    /// The comment's link.
    pub html_url: String,
}

/// A commit in a push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushCommit {
    /// The SHA.
    pub id: String,
    /// The message.
    pub message: String,
    /// Files added.
    pub added: Vec<String>,
    /// Files removed.
    pub removed: Vec<String>,
    /// Files modified.
    pub modified: Vec<String>,
}

/// A check run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckRun {
    /// The numeric ID.
    pub id: u64,
    /// The check's name (its context).
    pub name: String,
    /// The commit checked.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// How it ended, once completed.
    pub conclusion: Option<String>,
    /// Its page.
    pub html_url: Option<String>,
}

/// A check suite.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckSuite {
    /// The numeric ID.
    pub id: u64,
    /// The branch, when there is one.
    pub head_branch: Option<String>,
    /// The commit checked.
    pub head_sha: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: Option<String>,
    /// How it ended, once completed.
    pub conclusion: Option<String>,
}

/// A file changed by a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequestFile {
    /// The path.
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, ...
    pub status: String,
    /// Lines added.
    pub additions: u64,
    /// Lines removed.
    pub deletions: u64,
    /// Lines changed.
    pub changes: u64,
    /// The old path of a renamed file.
    pub previous_filename: Option<String>,
    /// The unified diff of the file (absent for binary or very large changes).
    pub patch: Option<String>,
    /// The file's page at the pull request's head.
    pub blob_url: String,
}

/// Lines of a file last changed by one commit (GraphQL `blame`; rifle).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BlameRange {
    /// The first line, from 1.
    pub starting_line: u64,
    /// The last line.
    pub ending_line: u64,
    /// The commit author's login, lower case; empty when the author is no GitHub user.
    pub author_login: String,
    /// When the commit was authored, RFC 3339.
    pub date: String,
}

impl BlameRange {
    /// Lines `starting_line..=ending_line` by `author_login` on `date`.
    pub fn new(starting_line: u64, ending_line: u64, author_login: &str, date: &str) -> Self {
        BlameRange {
            starting_line,
            ending_line,
            author_login: author_login.to_owned(),
            date: date.to_owned(),
        }
    }
}

/// A commit of a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitInfo {
    /// The SHA.
    pub sha: String,
    /// The message.
    pub message: String,
    /// The tree the commit records.
    pub tree_sha: String,
    /// The author's GitHub login, when GitHub knows it.
    pub author_login: Option<String>,
    /// The parents' SHAs (two or more for a merge commit).
    pub parents: Vec<String>,
}

/// The state of a commit status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusState {
    /// Still running.
    #[default]
    Pending,
    /// Passed.
    Success,
    /// Failed.
    Failure,
    /// Could not run.
    Error,
}

/// A commit status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// The state.
    pub state: StatusState,
    /// Where to see details.
    pub target_url: Option<String>,
    /// A short description (GitHub keeps 140 characters).
    pub description: Option<String>,
    /// The context, such as `pull-unit` or `tide`.
    pub context: String,
}

/// Every status of a ref, latest per context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CombinedStatus {
    /// The commit.
    pub sha: String,
    /// The combined state.
    pub state: StatusState,
    /// The statuses, one per context.
    pub statuses: Vec<Status>,
}

/// A collaborator's permission on a repository.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// No access.
    #[default]
    None,
    /// Read.
    Read,
    /// Triage.
    Triage,
    /// Write.
    Write,
    /// Maintain.
    Maintain,
    /// Admin.
    Admin,
}

/// How a pull request is merged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeMethod {
    /// A merge commit.
    #[default]
    Merge,
    /// One squashed commit.
    Squash,
    /// The commits rebased onto the base.
    Rebase,
}

/// A request to merge a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRequest {
    /// Merge only if the head is still this commit.
    pub sha: Option<String>,
    /// How to merge.
    pub method: MergeMethod,
    /// The merge commit's title.
    pub commit_title: Option<String>,
    /// The merge commit's message.
    pub commit_message: Option<String>,
}

/// A branch and its head.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchHead {
    /// The branch name.
    pub name: String,
    /// Its head commit.
    pub sha: String,
    /// Whether branch protection is on.
    pub protected: bool,
}

pub use crate::protection::{
    BranchProtection, BranchProtectionRequest, PullRequestReviews, PullRequestReviewsRequest,
    PushRestrictions, RequiredStatusChecks, RestrictionsRequest, ReviewAllowances,
    ReviewAllowancesRequest,
};

/// The rate limit of the credentials in use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u64,
    /// Requests left in this window.
    pub remaining: u64,
    /// When the window resets, in Unix seconds.
    pub reset: u64,
}

/// A milestone of a repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Milestone {
    /// Its number in the repository.
    pub number: u64,
    /// Its title, as `/milestone` names it.
    pub title: String,
    /// `open` or `closed`.
    pub state: String,
}

// Classic projects (project, project-manager).

/// A classic project board of a repository or an organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Project {
    /// The numeric ID (global across GitHub).
    pub id: u64,
    /// The board's name, as `/project` names it.
    pub name: String,
}

/// A column of a classic project board.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectColumn {
    /// The numeric ID (global across GitHub).
    pub id: u64,
    /// The column's name.
    pub name: String,
}

/// A card in a column of a classic project board.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectCard {
    /// The numeric ID.
    pub id: u64,
    /// The API address of the issue or pull request the card stands for
    /// (`https://api.github.com/repos/o/r/issues/7`, for pull requests too); empty for notes.
    pub content_url: String,
}

impl ProjectCard {
    /// Whether the card stands for issue or pull request `org/repo#number`, whatever the API
    /// host (github.com or an Enterprise server).
    pub fn is_for(&self, org: &str, repo: &str, number: u64) -> bool {
        self.content_url
            .to_lowercase()
            .ends_with(&format!("/repos/{org}/{repo}/issues/{number}").to_lowercase())
    }
}

/// What a new card stands for: an issue or a pull request, by its numeric ID (not its number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardContent {
    /// The issue's or pull request's numeric ID.
    pub content_id: u64,
    /// `Issue` or `PullRequest`.
    pub content_type: CardContentType,
}

/// The kind of thing a card stands for, as GitHub names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CardContentType {
    /// An issue.
    Issue,
    /// A pull request.
    PullRequest,
}

impl CardContent {
    /// A card for the issue (or, when `is_pr`, the pull request) with numeric ID `id`.
    pub fn of(id: u64, is_pr: bool) -> Self {
        CardContent {
            content_id: id,
            content_type: if is_pr {
                CardContentType::PullRequest
            } else {
                CardContentType::Issue
            },
        }
    }
}
