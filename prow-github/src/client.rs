//! The GitHub client trait: everything hook, the plugins, trigger, tide, crier and mkpj ask of
//! GitHub, with typed errors.
//!
//! It is an object-safe async trait (`async_trait`) so components hold `Arc<dyn GitHubClient>`
//! and tests swap in the in-memory fake without generics spreading through every signature.
//! Listing methods return every page.

use async_trait::async_trait;

use crate::error::Error;
use crate::types::{
    BranchHead, BranchProtection, BranchProtectionRequest, CheckRun, CombinedStatus, Comment,
    CommitInfo, Issue, Label, MergeRequest, Milestone, Permission, PullRequest, PullRequestFile,
    RateLimit, Repo, Review, Status, User,
};

/// A shorthand for results of [`GitHubClient`] calls.
pub type Result<T> = std::result::Result<T, Error>;

/// The GitHub operations Prow needs.
#[async_trait]
pub trait GitHubClient: Send + Sync {
    /// The account these credentials act as.
    async fn bot_user(&self) -> Result<User>;

    /// A pull request.
    async fn pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest>;
    /// Every file a pull request changes.
    async fn pull_request_files(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestFile>>;
    /// Every commit of a pull request.
    async fn pull_request_commits(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<CommitInfo>>;
    /// Every review of a pull request.
    async fn reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>>;
    /// Asks these users to review a pull request.
    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()>;
    /// Withdraws review requests from these users.
    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()>;
    /// Adds a reaction (`+1`, `heart`, `hooray`, ...) to an issue comment.
    async fn create_comment_reaction(
        &self,
        org: &str,
        repo: &str,
        comment_id: u64,
        reaction: &str,
    ) -> Result<()>;
    /// Adds a reaction to an issue or pull request.
    async fn create_issue_reaction(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        reaction: &str,
    ) -> Result<()>;
    /// Every milestone of a repository, open and closed.
    async fn milestones(&self, org: &str, repo: &str) -> Result<Vec<Milestone>>;
    /// Sets the milestone of an issue or pull request by number, or clears it with `None`.
    async fn set_milestone(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        milestone: Option<u64>,
    ) -> Result<()>;
    /// Closes an issue or pull request (`state: closed`), for an issue with `not_planned` as
    /// "not planned" (`state_reason: not_planned`).
    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        not_planned: bool,
    ) -> Result<()>;
    /// Reopens a closed issue or pull request (`state: open`).
    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()>;
    /// Replaces the body (description) of an issue or pull request.
    async fn edit_issue_body(&self, org: &str, repo: &str, number: u64, body: &str) -> Result<()>;
    /// Replaces the title of an issue or pull request.
    async fn edit_issue_title(&self, org: &str, repo: &str, number: u64, title: &str)
    -> Result<()>;
    /// Merges a pull request, refusing if its head is no longer `request.sha`.
    async fn merge(&self, org: &str, repo: &str, number: u64, request: &MergeRequest)
    -> Result<()>;

    /// The latest status per context of a ref.
    async fn combined_status(&self, org: &str, repo: &str, git_ref: &str)
    -> Result<CombinedStatus>;
    /// The check runs of a ref.
    async fn check_runs(&self, org: &str, repo: &str, git_ref: &str) -> Result<Vec<CheckRun>>;
    /// Sets a commit status.
    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()>;

    /// The labels of an issue or pull request.
    async fn issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>>;
    /// Adds labels to an issue or pull request.
    async fn add_labels(&self, org: &str, repo: &str, number: u64, labels: &[String])
    -> Result<()>;
    /// Removes a label from an issue or pull request.
    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()>;
    /// The labels defined in a repository.
    async fn repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>>;
    /// Defines a label in a repository.
    async fn create_repo_label(&self, org: &str, repo: &str, label: &Label) -> Result<()>;
    /// Changes a repository label (renaming it from `name`).
    async fn update_repo_label(
        &self,
        org: &str,
        repo: &str,
        name: &str,
        label: &Label,
    ) -> Result<()>;

    /// Every comment on an issue or pull request.
    async fn issue_comments(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Comment>>;
    /// Comments on an issue or pull request; returns the comment's ID.
    async fn create_comment(&self, org: &str, repo: &str, number: u64, body: &str) -> Result<u64>;
    /// Replaces a comment's text.
    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()>;
    /// Deletes a comment.
    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()>;

    /// Assigns users to an issue or pull request.
    async fn add_assignees(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()>;
    /// Unassigns users from an issue or pull request.
    async fn remove_assignees(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()>;

    /// A user's permission on a repository.
    async fn collaborator_permission(
        &self,
        org: &str,
        repo: &str,
        user: &str,
    ) -> Result<Permission>;
    /// Whether a user belongs to an organisation.
    async fn is_org_member(&self, org: &str, user: &str) -> Result<bool>;
    /// Whether a user belongs to a team of an organisation.
    async fn is_team_member(&self, org: &str, team_slug: &str, user: &str) -> Result<bool>;

    /// Issues and pull requests matching a search query (every page).
    async fn search_issues(&self, query: &str) -> Result<Vec<Issue>>;

    /// A file's contents at a ref, `None` when the file does not exist.
    async fn file_contents(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>>;
    /// The commit a ref (`heads/main`, a branch name or a SHA) points at.
    async fn ref_sha(&self, org: &str, repo: &str, git_ref: &str) -> Result<String>;
    /// The branches of a repository.
    async fn branches(&self, org: &str, repo: &str) -> Result<Vec<BranchHead>>;
    /// A branch's protection, `None` when it is not protected.
    async fn branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<BranchProtection>>;
    /// Replaces a branch's protection with `request` (`PUT .../branches/{branch}/protection`).
    async fn update_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        request: &BranchProtectionRequest,
    ) -> Result<()> {
        let _ = request;
        Err(unsupported(format!(
            "update the protection of {org}/{repo}={branch}"
        )))
    }
    /// Removes a branch's protection (`DELETE .../branches/{branch}/protection`).
    async fn remove_branch_protection(&self, org: &str, repo: &str, branch: &str) -> Result<()> {
        Err(unsupported(format!(
            "remove the protection of {org}/{repo}={branch}"
        )))
    }
    /// Requires (or stops requiring) signed commits on a protected branch
    /// (`POST`/`DELETE .../protection/required_signatures`).
    async fn set_required_signatures(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        required: bool,
    ) -> Result<()> {
        let _ = required;
        Err(unsupported(format!(
            "change commit signature protection of {org}/{repo}={branch}"
        )))
    }
    /// The branches of a repository that are protected (`protected: true`) or that are not
    /// (`protected: false`), as GitHub's `?protected=` filter answers.
    async fn branches_by_protection(
        &self,
        org: &str,
        repo: &str,
        protected: bool,
    ) -> Result<Vec<BranchHead>> {
        let mut all = self.branches(org, repo).await?;
        all.retain(|b| b.protected == protected);
        Ok(all)
    }
    /// A repository (archived and private flags included).
    async fn repository(&self, org: &str, repo: &str) -> Result<Repo> {
        Err(unsupported(format!("read repository {org}/{repo}")))
    }
    /// Every repository of an organisation.
    async fn org_repos(&self, org: &str) -> Result<Vec<Repo>> {
        Err(unsupported(format!("list the repositories of {org}")))
    }

    /// The rate limit of these credentials.
    async fn rate_limit(&self) -> Result<RateLimit>;

    /// The git tree hash of commit `sha` (lgtm's `store_tree_hash`).
    async fn commit_tree(&self, org: &str, repo: &str, sha: &str) -> Result<String> {
        Err(unsupported(format!("read the tree of {org}/{repo}@{sha}")))
    }

    /// Creates a review with line comments on pull request `number` (the lint plugin).
    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &DraftReview,
    ) -> Result<()> {
        let _ = review;
        Err(unsupported(format!(
            "create a review on {org}/{repo}#{number}"
        )))
    }
    /// Where git clones `org/repo` from and pushes to, credentials included when the client
    /// has them (upstream's git client factory). The default is github.com without credentials.
    /// Never log it: it may carry a token.
    async fn git_remote(&self, org: &str, repo: &str) -> Result<String> {
        Ok(format!("https://github.com/{org}/{repo}.git"))
    }

    /// Makes sure `user` has a fork of `org/repo` and answers its name (upstream `EnsureFork`;
    /// a fork may have been renamed). Forbidden for repositories that may not be forked.
    async fn ensure_fork(&self, user: &str, org: &str, repo: &str) -> Result<String> {
        Err(unsupported(format!("fork {org}/{repo} for {user}")))
    }

    /// Opens a pull request from `head` (`branch` or `owner:branch`) into `base` and answers its
    /// number.
    async fn create_pull_request(
        &self,
        org: &str,
        repo: &str,
        new: &NewPullRequest,
    ) -> Result<u64> {
        Err(unsupported(format!(
            "open a pull request from {} into {org}/{repo}:{}",
            new.head, new.base
        )))
    }

    /// The open pull requests of `org/repo`.
    async fn pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        Err(unsupported(format!(
            "list the pull requests of {org}/{repo}"
        )))
    }

    /// The logins of every member of `org`.
    async fn org_members(&self, org: &str) -> Result<Vec<String>> {
        Err(unsupported(format!("list the members of {org}")))
    }

    /// Opens an issue assigned to `assignees` and answers its number.
    async fn create_issue(
        &self,
        org: &str,
        repo: &str,
        title: &str,
        body: &str,
        assignees: &[String],
    ) -> Result<u64> {
        let _ = (title, body, assignees);
        Err(unsupported(format!("open an issue in {org}/{repo}")))
    }

    /// Deletes git reference `git_ref` (`heads/<branch>`) of `org/repo` (branchcleaner).
    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        Err(unsupported(format!("delete ref {git_ref} of {org}/{repo}")))
    }

    // Added with issue 21 (pla): rifle's blame and merge base.

    /// Who last changed each range of lines of `path` at `git_ref` of `org/repo` (GraphQL
    /// `blame`, upstream `GetBlame`; rifle).
    async fn blame(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
        path: &str,
    ) -> Result<Vec<crate::types::BlameRange>> {
        Err(unsupported(format!(
            "read the blame of {path} at {org}/{repo}@{git_ref}"
        )))
    }

    /// The merge base of `base` and `head` in `org/repo` (the compare API, upstream
    /// `GetMergeBase`; rifle).
    async fn merge_base(&self, org: &str, repo: &str, base: &str, head: &str) -> Result<String> {
        Err(unsupported(format!(
            "find the merge base of {base}...{head} in {org}/{repo}"
        )))
    }

    /// Who last added `label` to `org/repo#number`, from the issue's events; `None` when no
    /// event records it (the bugzilla plugin's `WasLabelAddedByHuman`).
    async fn label_added_by(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        label: &str,
    ) -> Result<Option<String>> {
        Err(unsupported(format!(
            "read who added {label} to {org}/{repo}#{number}"
        )))
    }

    /// The logins of users whose public email is `email` (the bugzilla plugin's QA contact
    /// search; at most GitHub's first page).
    async fn users_by_email(&self, email: &str) -> Result<Vec<String>> {
        Err(unsupported(format!("search users with email {email}")))
    }

    // Classic projects (project, project-manager).
    // Project, column and card IDs are global, but each call names the organisation the
    // plugin works in, as upstream's client does, so a GitHub App acts through that
    // organisation's installation.

    /// The classic project boards of `org/repo` (upstream `GetRepoProjects`).
    async fn repo_projects(&self, org: &str, repo: &str) -> Result<Vec<crate::types::Project>> {
        Err(unsupported(format!("list the projects of {org}/{repo}")))
    }

    /// The classic project boards of organisation `org` (upstream `GetOrgProjects`).
    async fn org_projects(&self, org: &str) -> Result<Vec<crate::types::Project>> {
        Err(unsupported(format!("list the projects of {org}")))
    }

    /// The columns of project `project_id`, in board order (upstream `GetProjectColumns`).
    async fn project_columns(
        &self,
        org: &str,
        project_id: u64,
    ) -> Result<Vec<crate::types::ProjectColumn>> {
        Err(unsupported(format!(
            "list the columns of project {project_id} in {org}"
        )))
    }

    /// The cards in column `column_id` (upstream `GetColumnProjectCards`).
    async fn column_cards(
        &self,
        org: &str,
        column_id: u64,
    ) -> Result<Vec<crate::types::ProjectCard>> {
        Err(unsupported(format!(
            "list the cards of project column {column_id} in {org}"
        )))
    }

    /// Adds a card for `content` to column `column_id` (upstream `CreateProjectCard`).
    async fn create_project_card(
        &self,
        org: &str,
        column_id: u64,
        content: crate::types::CardContent,
    ) -> Result<crate::types::ProjectCard> {
        let _ = content;
        Err(unsupported(format!(
            "add a card to project column {column_id} in {org}"
        )))
    }

    /// Moves card `card_id` to the top of column `column_id` of its project (upstream
    /// `MoveProjectCard`).
    async fn move_project_card(&self, org: &str, card_id: u64, column_id: u64) -> Result<()> {
        Err(unsupported(format!(
            "move project card {card_id} to column {column_id} in {org}"
        )))
    }

    /// Deletes card `card_id` (upstream `DeleteProjectCard`).
    async fn delete_project_card(&self, org: &str, card_id: u64) -> Result<()> {
        Err(unsupported(format!(
            "delete project card {card_id} in {org}"
        )))
    }

    /// Whether `user` belongs to the team with numeric ID `team_id` of `org` (upstream
    /// `TeamHasMember`, which lists the team's members of every role).
    async fn team_has_member(&self, org: &str, team_id: u64, user: &str) -> Result<bool> {
        Err(unsupported(format!(
            "check whether {user} belongs to team {team_id} of {org}"
        )))
    }

    // issue-management: transfer, pin.

    /// Issue (or pull request) `org/repo#number` as the issues API answers it, with its
    /// GraphQL node ID (upstream `GetIssue`).
    async fn issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        Err(unsupported(format!("read issue {org}/{repo}#{number}")))
    }

    /// Pins the issue with GraphQL node ID `issue_id` to its repository in `org` (GraphQL
    /// `pinIssue`).
    async fn pin_issue(&self, org: &str, issue_id: &str) -> Result<()> {
        Err(unsupported(format!("pin issue {issue_id} in {org}")))
    }

    /// Unpins the issue with GraphQL node ID `issue_id` from its repository in `org` (GraphQL
    /// `unpinIssue`).
    async fn unpin_issue(&self, org: &str, issue_id: &str) -> Result<()> {
        Err(unsupported(format!("unpin issue {issue_id} in {org}")))
    }

    /// Moves the issue with node ID `issue_id` to the repository with node ID `repo_id`, both
    /// in `org` (GraphQL `transferIssue`); answers the issue's new address.
    async fn transfer_issue(&self, org: &str, issue_id: &str, repo_id: &str) -> Result<String> {
        Err(unsupported(format!(
            "transfer issue {issue_id} to repository {repo_id} in {org}"
        )))
    }

    /// What this client has spent of GitHub's budget so far, for clients that keep count
    /// (metrics read it at scrape time); `None` for clients that do not.
    fn api_usage(&self) -> Option<ApiUsage> {
        None
    }
}

fn unsupported(what: String) -> Error {
    Error::Validation {
        what,
        message: "this GitHub client does not support it".to_owned(),
    }
}

/// A review to create: its body, its verdict and its comments on lines of the diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DraftReview {
    /// The review's text.
    pub body: String,
    /// `COMMENT`, `APPROVE` or `REQUEST_CHANGES`.
    pub event: String,
    /// The commit reviewed; empty for the pull request's head.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub commit_id: String,
    /// Comments on lines.
    pub comments: Vec<DraftReviewComment>,
}

impl DraftReview {
    /// A `COMMENT` review of `commit_id` saying `body` with `comments`.
    pub fn comment(body: &str, commit_id: &str, comments: Vec<DraftReviewComment>) -> Self {
        DraftReview {
            body: body.to_owned(),
            event: "COMMENT".to_owned(),
            commit_id: commit_id.to_owned(),
            comments,
        }
    }
}

/// One comment of a [`DraftReview`], on a line of a file in the diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DraftReviewComment {
    /// The file.
    pub path: String,
    /// The line in the file's new version.
    pub line: u64,
    /// `RIGHT` (the new version).
    pub side: String,
    /// The text.
    pub body: String,
}

impl DraftReviewComment {
    /// A comment saying `body` on `line` of `path` as changed.
    pub fn new(path: &str, line: u64, body: &str) -> Self {
        DraftReviewComment {
            path: path.to_owned(),
            line,
            side: "RIGHT".to_owned(),
            body: body.to_owned(),
        }
    }
}

/// Requests a client sent, how many the ETag cache answered, and the rate limit GitHub last
/// reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiUsage {
    /// Requests sent to GitHub.
    pub requests: u64,
    /// Requests answered `304 Not Modified` from the ETag cache (free of rate limit).
    pub cache_hits: u64,
    /// The rate limit GitHub reported with its last answer, if any.
    pub rate_limit: Option<RateLimit>,
}

/// A pull request to open ([`GitHubClient::create_pull_request`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct NewPullRequest {
    /// Its title.
    pub title: String,
    /// Its description.
    pub body: String,
    /// The branch with the changes: `branch` in the same repository, `owner:branch` in a fork.
    pub head: String,
    /// The branch it merges into.
    pub base: String,
    /// Whether maintainers may push to its branch.
    pub maintainer_can_modify: bool,
}

impl NewPullRequest {
    /// A pull request titled `title` from `head` into `base` with the description `body`,
    /// which maintainers may change.
    pub fn new(title: &str, body: &str, head: &str, base: &str) -> Self {
        NewPullRequest {
            title: title.to_owned(),
            body: body.to_owned(),
            head: head.to_owned(),
            base: base.to_owned(),
            maintainer_can_modify: true,
        }
    }
}
