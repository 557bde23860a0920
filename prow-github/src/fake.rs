//! An in-memory GitHub for tests and demos: stateful, with the same errors as the real one.
//!
//! Seed it with repositories, pull requests, members and files; the code under test then acts
//! through [`GitHubClient`] and the test reads the state back. Every call is counted, so tests
//! of caching can see how many requests reached "GitHub".

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::client::{GitHubClient, NewPullRequest, Result};
use crate::error::Error;
use crate::types::{
    BranchHead, BranchProtection, BranchProtectionRequest, CheckRun, CombinedStatus, Comment,
    CommitInfo, Issue, Label, MergeRequest, Milestone, Permission, PullRequest, PullRequestFile,
    RateLimit, Repo, Review, Status, StatusState, User,
};
// Classic projects (project, project-manager).
use crate::types::{CardContent, Project, ProjectCard, ProjectColumn};

type RepoKey = (String, String);
type IssueKey = (String, String, u64);

/// Everything the fake knows; public so tests can seed and inspect it directly.
#[derive(Debug, Clone, Default)]
pub struct FakeState {
    /// The account the fake acts as.
    pub bot: User,
    /// Issues and the issue side of pull requests (labels, assignees), by `(org, repo, number)`.
    pub issues: BTreeMap<IssueKey, Issue>,
    /// Pull requests by `(org, repo, number)`.
    pub pulls: BTreeMap<IssueKey, PullRequest>,
    /// Files changed by each pull request.
    pub pull_files: BTreeMap<IssueKey, Vec<PullRequestFile>>,
    /// Commits of each pull request.
    pub pull_commits: BTreeMap<IssueKey, Vec<CommitInfo>>,
    /// Reviews of each pull request.
    pub reviews: BTreeMap<IssueKey, Vec<Review>>,
    /// Review requests made, by pull request.
    pub review_requests: BTreeMap<IssueKey, Vec<String>>,
    /// Comments by issue.
    pub comments: BTreeMap<IssueKey, Vec<Comment>>,
    /// Labels defined per repository.
    pub repo_labels: BTreeMap<RepoKey, Vec<Label>>,
    /// Every status set, oldest first, by `(org, repo, sha)`.
    pub statuses: BTreeMap<(String, String, String), Vec<Status>>,
    /// Check runs by `(org, repo, sha)`.
    pub check_runs: BTreeMap<(String, String, String), Vec<CheckRun>>,
    /// Collaborator permissions by `(org, repo, login)`.
    pub collaborators: BTreeMap<(String, String, String), Permission>,
    /// Organisation members.
    pub org_members: BTreeMap<String, BTreeSet<String>>,
    /// Team members by `(org, team slug)`.
    pub team_members: BTreeMap<(String, String), BTreeSet<String>>,
    /// File contents by `(org, repo, ref, path)`.
    pub files: BTreeMap<(String, String, String, String), Vec<u8>>,
    /// Branch heads by `(org, repo, branch)`.
    pub branches: BTreeMap<(String, String, String), String>,
    /// Branch protection by `(org, repo, branch)`.
    pub protections: BTreeMap<(String, String, String), BranchProtection>,
    /// Repositories by `(org, repo)`; a repository with branches but no entry here exists too,
    /// neither archived nor private.
    pub repos: BTreeMap<RepoKey, Repo>,
    /// Merges carried out, in order.
    pub merges: Vec<(IssueKey, MergeRequest)>,
    /// The rate limit reported.
    pub rate_limit: RateLimit,
    /// Calls per method name.
    pub calls: BTreeMap<&'static str, u64>,
    /// Milestones by `(org, repo)`.
    pub milestones: BTreeMap<RepoKey, Vec<Milestone>>,
    /// The milestone number set on each issue or pull request.
    pub issue_milestones: BTreeMap<IssueKey, u64>,
    /// Reactions to comments by `(org, repo, comment id)`, in order.
    pub comment_reactions: BTreeMap<IssueKey, Vec<String>>,
    /// Reactions to issues and pull requests, in order.
    pub issue_reactions: BTreeMap<IssueKey, Vec<String>>,
    /// Pushes that race a merge: once the first pull request merges, the second's head moves
    /// to the given SHA (each applies once).
    pub pushes_on_merge: Vec<(IssueKey, IssueKey, String)>,
    next_id: u64,
    /// Commit to its tree hash, by `(org, repo, sha)`.
    pub commit_trees: BTreeMap<(String, String, String), String>,
    /// Reviews created with line comments, by pull request.
    pub draft_reviews: BTreeMap<IssueKey, Vec<crate::client::DraftReview>>,
    /// Who added each label, oldest first, by issue: `(label, login)` (the bot for labels it
    /// adds; tests add people's).
    pub label_events: BTreeMap<IssueKey, Vec<(String, String)>>,
    /// Logins by public email address.
    pub user_emails: BTreeMap<String, Vec<String>>,
    /// Where the repositories' git data lives: `org/repo` clones from and pushes to the bare
    /// repository `<git_root>/<org>/<repo>.git` (tests create them). Unset, the fake answers
    /// github.com's address, as the default client does.
    pub git_root: Option<std::path::PathBuf>,
    /// Forks made with `ensure_fork`: `(user, org, repo)` to the fork's name.
    pub forks: BTreeMap<(String, String, String), String>,
    /// Blame of each file, by `(org, repo, path)`, at any ref (rifle).
    pub blames: BTreeMap<(String, String, String), Vec<crate::types::BlameRange>>,
    /// Merge bases by `(org, repo, base, head)`; unset ones are not found.
    pub merge_bases: BTreeMap<(String, String, String, String), String>,
    // Classic projects (project, project-manager).
    /// Classic project boards, in creation order ([`FakeGitHub::add_project`]).
    pub projects: Vec<FakeProject>,
    /// Team slugs by `(org, numeric team ID)`; the members are in [`FakeState::team_members`]
    /// under the slug.
    pub team_ids: BTreeMap<(String, u64), String>,
    // issue-management: transfer, pin.
    /// Pinned issues by `(org, repo, number)`; as on GitHub, at most
    /// [`MAX_PINNED_ISSUES`] per repository.
    pub pinned: BTreeSet<IssueKey>,
    /// Issues transferred, oldest first: from `(org, repo, number)` to where it went.
    pub transfers: Vec<(IssueKey, IssueKey)>,
}

// issue-management: transfer, pin.
/// How many issues GitHub lets a repository pin.
pub const MAX_PINNED_ISSUES: usize = 3;

/// The GraphQL node ID of issue `org/repo#number` in the fake, when it was seeded without one.
pub fn issue_node_id(org: &str, repo: &str, number: u64) -> String {
    format!("I_{org}/{repo}#{number}")
}

/// The GraphQL node ID of repository `org/repo` in the fake, when it was seeded without one.
pub fn repo_node_id(org: &str, repo: &str) -> String {
    format!("R_{org}/{repo}")
}

/// The issue with node ID `id` in `org`, by key.
fn issue_by_node_id(state: &FakeState, org: &str, id: &str) -> Result<IssueKey> {
    state
        .issues
        .iter()
        .find(|((o, r, n), i)| {
            o == org && (i.node_id == id || (i.node_id.is_empty() && issue_node_id(o, r, *n) == id))
        })
        .map(|(k, _)| k.clone())
        .ok_or_else(|| not_found(format!("issue {id} in {org}")))
}

/// What makes each failing method fail during an outage, by method name.
type Outages = BTreeMap<&'static str, fn() -> Error>;

/// An in-memory GitHub.
#[derive(Debug, Default)]
pub struct FakeGitHub {
    state: Mutex<FakeState>,
    /// Errors to answer with, by method name, in order (see [`FakeGitHub::fail_next`]).
    failures: Mutex<BTreeMap<&'static str, VecDeque<Error>>>,
    /// Methods that fail on every call until the outage ends ([`FakeGitHub::start_outage`]).
    outages: Mutex<Outages>,
    /// Counts calls, so that tests can wait for the state to change ([`FakeGitHub::wait_until`]).
    changes: tokio::sync::watch::Sender<u64>,
}

fn key(org: &str, repo: &str, number: u64) -> IssueKey {
    (org.to_owned(), repo.to_owned(), number)
}

fn not_found(what: String) -> Error {
    Error::NotFound { what }
}

impl FakeGitHub {
    /// A fake acting as the user `bot`.
    pub fn new(bot: &str) -> Self {
        let state = FakeState {
            bot: User {
                login: bot.to_owned(),
                kind: "Bot".to_owned(),
                ..User::default()
            },
            rate_limit: RateLimit {
                limit: 5000,
                remaining: 5000,
                reset: 0,
            },
            next_id: 1,
            ..FakeState::default()
        };
        FakeGitHub {
            state: Mutex::new(state),
            failures: Mutex::default(),
            outages: Mutex::default(),
            changes: tokio::sync::watch::Sender::new(0),
        }
    }

    /// The state, to seed or inspect.
    pub fn state(&self) -> MutexGuard<'_, FakeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a pull request (and its issue side) to `org/repo`.
    pub fn add_pull_request(&self, org: &str, repo: &str, pr: PullRequest) {
        let mut state = self.state();
        let k = key(org, repo, pr.number);
        state.issues.insert(
            k.clone(),
            Issue {
                id: pr.id,
                number: pr.number,
                title: pr.title.clone(),
                body: pr.body.clone(),
                state: pr.state.clone(),
                user: pr.user.clone(),
                labels: pr.labels.clone(),
                assignees: pr.assignees.clone(),
                html_url: pr.html_url.clone(),
                pull_request: Some(serde_json::json!({})),
                repository_url: format!("https://api.github.com/repos/{org}/{repo}"),
                updated_at: String::new(),
                milestone: None,
                node_id: String::new(),
            },
        );
        state.pulls.insert(k, pr);
    }

    /// Adds an issue (not a pull request) to `org/repo`.
    pub fn add_issue(&self, org: &str, repo: &str, mut issue: Issue) {
        issue.repository_url = format!("https://api.github.com/repos/{org}/{repo}");
        self.state()
            .issues
            .insert(key(org, repo, issue.number), issue);
    }

    /// Waits until `done` holds of the state, looking again after every call the fake answers
    /// (no polling: each call notifies, and the look takes the state's lock, so it sees what
    /// that call changed).
    pub async fn wait_until(&self, done: impl Fn(&FakeState) -> bool) {
        let mut changes = self.changes.subscribe();
        loop {
            changes.mark_unchanged();
            if done(&self.state()) {
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Makes the next call of `method` (a trait method's name, such as `"merge"`) fail with
    /// `error`; several queue up in order. The call is still counted.
    pub fn fail_next(&self, method: &'static str, error: Error) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(method)
            .or_default()
            .push_back(error);
    }

    /// Makes every call of `method` fail with `error()` until [`FakeGitHub::end_outage`], for
    /// tests where how many calls happen in the meantime is up to the scheduler.
    pub fn start_outage(&self, method: &'static str, error: fn() -> Error) {
        self.outages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(method, error);
    }

    /// Ends the outage of `method` started by [`FakeGitHub::start_outage`].
    pub fn end_outage(&self, method: &'static str) {
        self.outages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(method);
    }

    /// Counts a call, spends one request of the rate limit (when one is set; asking for the
    /// rate limit is free, as on GitHub) and answers a queued failure or the spent budget.
    fn call(&self, name: &'static str) -> Result<MutexGuard<'_, FakeState>> {
        let mut state = self.state();
        *state.calls.entry(name).or_default() += 1;
        self.changes.send_modify(|n| *n += 1);
        let queued = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(name)
            .and_then(VecDeque::pop_front);
        if let Some(error) = queued {
            return Err(error);
        }
        let outage = self
            .outages
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied();
        if let Some(error) = outage {
            return Err(error());
        }
        if name != "rate_limit" && state.rate_limit.limit > 0 {
            if state.rate_limit.remaining == 0 {
                return Err(Error::RateLimited {
                    what: name.to_owned(),
                    reset: state.rate_limit.reset,
                });
            }
            state.rate_limit.remaining -= 1;
        }
        Ok(state)
    }
}

/// The next free issue number in `org/repo`.
fn next_number(state: &FakeState, org: &str, repo: &str) -> u64 {
    state
        .issues
        .range(key(org, repo, 0)..=key(org, repo, u64::MAX))
        .map(|(k, _)| k.2)
        .max()
        .unwrap_or(0)
        + 1
}

fn issue<'a>(
    state: &'a mut FakeState,
    org: &str,
    repo: &str,
    number: u64,
) -> Result<&'a mut Issue> {
    state
        .issues
        .get_mut(&key(org, repo, number))
        .ok_or_else(|| not_found(format!("issue {org}/{repo}#{number}")))
}

/// Sets the state of an issue and, for a pull request, of the pull request too.
fn set_state(state: &mut FakeState, org: &str, repo: &str, number: u64, to: &str) -> Result<()> {
    issue(state, org, repo, number)?.state = to.to_owned();
    if let Some(pr) = state.pulls.get_mut(&key(org, repo, number)) {
        pr.state = to.to_owned();
    }
    Ok(())
}

fn pull(state: &FakeState, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
    let k = key(org, repo, number);
    let mut pr = state
        .pulls
        .get(&k)
        .cloned()
        .ok_or_else(|| not_found(format!("pull request {org}/{repo}#{number}")))?;
    // Labels and assignees live on the issue side, as on GitHub.
    if let Some(issue) = state.issues.get(&k) {
        pr.labels.clone_from(&issue.labels);
        pr.assignees.clone_from(&issue.assignees);
    }
    Ok(pr)
}

/// One term of the search syntax the fake understands.
fn matches_term(
    term: &str,
    issue: &Issue,
    pr: Option<&PullRequest>,
    org_repo: (&str, &str),
) -> bool {
    let (negated, term) = match term.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, term),
    };
    let Some((qualifier, value)) = term.split_once(':') else {
        // Free text: matched against the title, or a commit SHA against the head of a pull
        // request (GitHub finds pull requests by their commits).
        let sha = term.len() >= 7 && pr.is_some_and(|p| p.head.sha.starts_with(term));
        return (issue.title.contains(term) || sha) != negated;
    };
    let value = value.trim_matches('"');
    let result = match qualifier {
        "is" => match value {
            "pr" => issue.is_pull_request(),
            "issue" => !issue.is_pull_request(),
            "open" | "closed" => issue.state == value,
            "merged" => pr.is_some_and(|p| p.merged == Some(true)),
            _ => true,
        },
        "state" => issue.state == value,
        "repo" => format!("{}/{}", org_repo.0, org_repo.1) == value,
        "org" | "user" => org_repo.0 == value,
        "label" => value
            .split(',')
            .any(|l| issue.labels.iter().any(|x| x.name == l)),
        "author" => issue.user.login == value,
        "base" => pr.is_some_and(|p| p.base.git_ref == value),
        "head" => pr.is_some_and(|p| p.head.git_ref == value),
        "milestone" | "review" | "archived" | "sort" | "in" => true,
        _ => true,
    };
    result != negated
}

#[async_trait]
impl GitHubClient for FakeGitHub {
    async fn bot_user(&self) -> Result<User> {
        Ok(self.call("bot_user")?.bot.clone())
    }

    async fn pull_request(&self, org: &str, repo: &str, number: u64) -> Result<PullRequest> {
        let state = self.call("pull_request")?;
        pull(&state, org, repo, number)
    }

    async fn pull_request_files(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<PullRequestFile>> {
        let state = self.call("pull_request_files")?;
        pull(&state, org, repo, number)?;
        Ok(state
            .pull_files
            .get(&key(org, repo, number))
            .cloned()
            .unwrap_or_default())
    }

    async fn pull_request_commits(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<CommitInfo>> {
        let state = self.call("pull_request_commits")?;
        pull(&state, org, repo, number)?;
        Ok(state
            .pull_commits
            .get(&key(org, repo, number))
            .cloned()
            .unwrap_or_default())
    }

    async fn reviews(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Review>> {
        let state = self.call("reviews")?;
        pull(&state, org, repo, number)?;
        Ok(state
            .reviews
            .get(&key(org, repo, number))
            .cloned()
            .unwrap_or_default())
    }

    async fn request_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let mut state = self.call("request_review")?;
        pull(&state, org, repo, number)?;
        state
            .review_requests
            .entry(key(org, repo, number))
            .or_default()
            .extend(logins.iter().cloned());
        Ok(())
    }

    async fn unrequest_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let mut state = self.call("unrequest_review")?;
        pull(&state, org, repo, number)?;
        if let Some(requested) = state.review_requests.get_mut(&key(org, repo, number)) {
            requested.retain(|l| !logins.iter().any(|x| x.eq_ignore_ascii_case(l)));
        }
        Ok(())
    }

    async fn close_issue(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        _not_planned: bool,
    ) -> Result<()> {
        let mut state = self.call("close_issue")?;
        set_state(&mut state, org, repo, number, "closed")
    }

    async fn create_comment_reaction(
        &self,
        org: &str,
        repo: &str,
        comment_id: u64,
        reaction: &str,
    ) -> Result<()> {
        let mut state = self.call("create_comment_reaction")?;
        state
            .comment_reactions
            .entry(key(org, repo, comment_id))
            .or_default()
            .push(reaction.to_owned());
        Ok(())
    }

    async fn create_issue_reaction(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        reaction: &str,
    ) -> Result<()> {
        let mut state = self.call("create_issue_reaction")?;
        issue(&mut state, org, repo, number)?;
        state
            .issue_reactions
            .entry(key(org, repo, number))
            .or_default()
            .push(reaction.to_owned());
        Ok(())
    }

    async fn milestones(&self, org: &str, repo: &str) -> Result<Vec<Milestone>> {
        let state = self.call("milestones")?;
        Ok(state
            .milestones
            .get(&(org.to_owned(), repo.to_owned()))
            .cloned()
            .unwrap_or_default())
    }

    async fn set_milestone(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        milestone: Option<u64>,
    ) -> Result<()> {
        let mut state = self.call("set_milestone")?;
        issue(&mut state, org, repo, number)?;
        let k = key(org, repo, number);
        match milestone {
            Some(m) => {
                let known = state
                    .milestones
                    .get(&(org.to_owned(), repo.to_owned()))
                    .is_some_and(|all| all.iter().any(|x| x.number == m));
                if !known {
                    return Err(Error::Validation {
                        what: format!("set the milestone of {org}/{repo}#{number}"),
                        message: format!("milestone {m} does not exist"),
                    });
                }
                state.issue_milestones.insert(k, m);
            }
            None => {
                state.issue_milestones.remove(&k);
            }
        }
        Ok(())
    }

    async fn reopen_issue(&self, org: &str, repo: &str, number: u64) -> Result<()> {
        let mut state = self.call("reopen_issue")?;
        set_state(&mut state, org, repo, number, "open")
    }

    async fn edit_issue_body(&self, org: &str, repo: &str, number: u64, body: &str) -> Result<()> {
        let mut state = self.call("edit_issue_body")?;
        issue(&mut state, org, repo, number)?.body = Some(body.to_owned());
        if let Some(pr) = state.pulls.get_mut(&key(org, repo, number)) {
            pr.body = Some(body.to_owned());
        }
        Ok(())
    }

    async fn edit_issue_title(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        title: &str,
    ) -> Result<()> {
        let mut state = self.call("edit_issue_title")?;
        issue(&mut state, org, repo, number)?.title = title.to_owned();
        if let Some(pr) = state.pulls.get_mut(&key(org, repo, number)) {
            pr.title = title.to_owned();
        }
        Ok(())
    }

    async fn merge(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        request: &MergeRequest,
    ) -> Result<()> {
        let mut state = self.call("merge")?;
        let what = format!("{org}/{repo}#{number}");
        let pr = pull(&state, org, repo, number)?;
        if pr.state != "open" {
            return Err(Error::NotMergeable {
                what,
                reason: "Pull Request is not open".into(),
            });
        }
        if let Some(sha) = &request.sha
            && *sha != pr.head.sha
        {
            return Err(Error::HeadChanged {
                what,
                expected: sha.clone(),
                actual: pr.head.sha,
            });
        }
        if pr.mergeable == Some(false) {
            return Err(Error::NotMergeable {
                what,
                reason: "Merge conflict".into(),
            });
        }
        let k = key(org, repo, number);
        let merge_sha = format!("merge-{}-{}", number, pr.head.sha);
        if let Some(p) = state.pulls.get_mut(&k) {
            p.merged = Some(true);
            p.state = "closed".into();
            p.merge_commit_sha = Some(merge_sha.clone());
        }
        if let Some(i) = state.issues.get_mut(&k) {
            i.state = "closed".into();
        }
        state.branches.insert(
            (org.to_owned(), repo.to_owned(), pr.base.git_ref.clone()),
            merge_sha,
        );
        state.merges.push((k.clone(), request.clone()));
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut state.pushes_on_merge)
            .into_iter()
            .partition(|(after, _, _)| *after == k);
        state.pushes_on_merge = later;
        for (_, target, sha) in due {
            if let Some(p) = state.pulls.get_mut(&target) {
                p.head.sha = sha;
            }
        }
        Ok(())
    }

    async fn combined_status(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
    ) -> Result<CombinedStatus> {
        let state = self.call("combined_status")?;
        let sha = state
            .branches
            .get(&(org.to_owned(), repo.to_owned(), git_ref.to_owned()))
            .cloned()
            .unwrap_or_else(|| git_ref.to_owned());
        let mut latest: BTreeMap<String, Status> = BTreeMap::new();
        for status in state
            .statuses
            .get(&(org.to_owned(), repo.to_owned(), sha.clone()))
            .into_iter()
            .flatten()
        {
            latest.insert(status.context.clone(), status.clone());
        }
        let statuses: Vec<Status> = latest.into_values().collect();
        let combined = if statuses
            .iter()
            .any(|s| matches!(s.state, StatusState::Failure | StatusState::Error))
        {
            StatusState::Failure
        } else if statuses.is_empty() || statuses.iter().any(|s| s.state == StatusState::Pending) {
            StatusState::Pending
        } else {
            StatusState::Success
        };
        Ok(CombinedStatus {
            sha,
            state: combined,
            statuses,
        })
    }

    async fn check_runs(&self, org: &str, repo: &str, git_ref: &str) -> Result<Vec<CheckRun>> {
        let state = self.call("check_runs")?;
        Ok(state
            .check_runs
            .get(&(org.to_owned(), repo.to_owned(), git_ref.to_owned()))
            .cloned()
            .unwrap_or_default())
    }

    async fn create_status(&self, org: &str, repo: &str, sha: &str, status: &Status) -> Result<()> {
        let mut state = self.call("create_status")?;
        if status.context.is_empty() {
            return Err(Error::Validation {
                what: format!("create status on {org}/{repo}@{sha}"),
                message: "context must not be empty".into(),
            });
        }
        state
            .statuses
            .entry((org.to_owned(), repo.to_owned(), sha.to_owned()))
            .or_default()
            .push(status.clone());
        Ok(())
    }

    async fn issue_labels(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Label>> {
        let mut state = self.call("issue_labels")?;
        Ok(issue(&mut state, org, repo, number)?.labels.clone())
    }

    async fn add_labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        labels: &[String],
    ) -> Result<()> {
        let mut state = self.call("add_labels")?;
        let defined = state
            .repo_labels
            .get(&(org.to_owned(), repo.to_owned()))
            .cloned()
            .unwrap_or_default();
        let issue = issue(&mut state, org, repo, number)?;
        let mut added = Vec::new();
        for name in labels {
            if !issue.labels.iter().any(|l| l.name == *name) {
                let label = defined
                    .iter()
                    .find(|l| l.name == *name)
                    .cloned()
                    .unwrap_or_else(|| Label {
                        name: name.clone(),
                        ..Label::default()
                    });
                issue.labels.push(label);
                added.push(name.clone());
            }
        }
        let bot = state.bot.login.clone();
        state
            .label_events
            .entry((org.to_owned(), repo.to_owned(), number))
            .or_default()
            .extend(added.into_iter().map(|name| (name, bot.clone())));
        Ok(())
    }

    async fn remove_label(&self, org: &str, repo: &str, number: u64, label: &str) -> Result<()> {
        let mut state = self.call("remove_label")?;
        let issue = issue(&mut state, org, repo, number)?;
        let before = issue.labels.len();
        issue.labels.retain(|l| l.name != label);
        if issue.labels.len() == before {
            return Err(not_found(format!(
                "label {label:?} on {org}/{repo}#{number}"
            )));
        }
        Ok(())
    }

    async fn repo_labels(&self, org: &str, repo: &str) -> Result<Vec<Label>> {
        let state = self.call("repo_labels")?;
        Ok(state
            .repo_labels
            .get(&(org.to_owned(), repo.to_owned()))
            .cloned()
            .unwrap_or_default())
    }

    async fn create_repo_label(&self, org: &str, repo: &str, label: &Label) -> Result<()> {
        let mut state = self.call("create_repo_label")?;
        let labels = state
            .repo_labels
            .entry((org.to_owned(), repo.to_owned()))
            .or_default();
        if labels
            .iter()
            .any(|l| l.name.eq_ignore_ascii_case(&label.name))
        {
            return Err(Error::Validation {
                what: format!("create label {:?} in {org}/{repo}", label.name),
                message: "already_exists".into(),
            });
        }
        labels.push(label.clone());
        Ok(())
    }

    async fn update_repo_label(
        &self,
        org: &str,
        repo: &str,
        name: &str,
        label: &Label,
    ) -> Result<()> {
        let mut state = self.call("update_repo_label")?;
        let labels = state
            .repo_labels
            .entry((org.to_owned(), repo.to_owned()))
            .or_default();
        let existing = labels
            .iter_mut()
            .find(|l| l.name == name)
            .ok_or_else(|| not_found(format!("label {name:?} in {org}/{repo}")))?;
        *existing = label.clone();
        Ok(())
    }

    async fn issue_comments(&self, org: &str, repo: &str, number: u64) -> Result<Vec<Comment>> {
        let mut state = self.call("issue_comments")?;
        issue(&mut state, org, repo, number)?;
        Ok(state
            .comments
            .get(&key(org, repo, number))
            .cloned()
            .unwrap_or_default())
    }

    async fn blame(
        &self,
        org: &str,
        repo: &str,
        git_ref: &str,
        path: &str,
    ) -> Result<Vec<crate::types::BlameRange>> {
        let state = self.call("blame")?;
        let _ = git_ref;
        Ok(state
            .blames
            .get(&(org.to_owned(), repo.to_owned(), path.to_owned()))
            .cloned()
            .unwrap_or_default())
    }

    async fn merge_base(&self, org: &str, repo: &str, base: &str, head: &str) -> Result<String> {
        let state = self.call("merge_base")?;
        state
            .merge_bases
            .get(&(
                org.to_owned(),
                repo.to_owned(),
                base.to_owned(),
                head.to_owned(),
            ))
            .cloned()
            .ok_or_else(|| not_found(format!("compare {base}...{head} in {org}/{repo}")))
    }

    async fn git_remote(&self, org: &str, repo: &str) -> Result<String> {
        let state = self.call("git_remote")?;
        Ok(match &state.git_root {
            Some(root) => format!("file://{}/{org}/{repo}.git", root.display()),
            None => format!("https://github.com/{org}/{repo}.git"),
        })
    }

    async fn ensure_fork(&self, user: &str, org: &str, repo: &str) -> Result<String> {
        let mut state = self.call("ensure_fork")?;
        Ok(state
            .forks
            .entry((user.to_owned(), org.to_owned(), repo.to_owned()))
            .or_insert_with(|| repo.to_owned())
            .clone())
    }

    async fn create_pull_request(
        &self,
        org: &str,
        repo: &str,
        new: &NewPullRequest,
    ) -> Result<u64> {
        let number = {
            let state = self.call("create_pull_request")?;
            let branch = new.head.rsplit(':').next().unwrap_or(&new.head);
            if state.pulls.iter().any(|(k, pr)| {
                k.0 == org && k.1 == repo && pr.state == "open" && pr.head.label == new.head
            }) {
                return Err(Error::Validation {
                    what: format!("open a pull request from {} in {org}/{repo}", new.head),
                    message: format!("a pull request already exists for {branch}"),
                });
            }
            next_number(&state, org, repo)
        };
        let bot = self.state().bot.clone();
        self.add_pull_request(
            org,
            repo,
            PullRequest {
                id: number,
                number,
                title: new.title.clone(),
                body: Some(new.body.clone()),
                state: "open".to_owned(),
                user: bot,
                head: crate::types::Branch {
                    git_ref: new.head.rsplit(':').next().unwrap_or(&new.head).to_owned(),
                    label: new.head.clone(),
                    ..crate::types::Branch::default()
                },
                base: crate::types::Branch {
                    git_ref: new.base.clone(),
                    label: format!("{org}:{}", new.base),
                    ..crate::types::Branch::default()
                },
                html_url: format!("https://github.com/{org}/{repo}/pull/{number}"),
                ..PullRequest::default()
            },
        );
        Ok(number)
    }

    async fn pull_requests(&self, org: &str, repo: &str) -> Result<Vec<PullRequest>> {
        let state = self.call("pull_requests")?;
        Ok(state
            .pulls
            .iter()
            .filter(|(k, pr)| k.0 == org && k.1 == repo && pr.state == "open")
            .filter_map(|(k, _)| pull(&state, org, repo, k.2).ok())
            .collect())
    }

    async fn label_added_by(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        label: &str,
    ) -> Result<Option<String>> {
        let state = self.call("label_added_by")?;
        Ok(state
            .label_events
            .get(&(org.to_owned(), repo.to_owned(), number))
            .and_then(|events| events.iter().rev().find(|(name, _)| name == label))
            .map(|(_, login)| login.clone()))
    }

    async fn users_by_email(&self, email: &str) -> Result<Vec<String>> {
        let state = self.call("users_by_email")?;
        Ok(state.user_emails.get(email).cloned().unwrap_or_default())
    }

    async fn org_members(&self, org: &str) -> Result<Vec<String>> {
        let state = self.call("org_members")?;
        Ok(state
            .org_members
            .get(org)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default())
    }

    async fn create_issue(
        &self,
        org: &str,
        repo: &str,
        title: &str,
        body: &str,
        assignees: &[String],
    ) -> Result<u64> {
        let number = next_number(&*self.call("create_issue")?, org, repo);
        self.add_issue(
            org,
            repo,
            Issue {
                id: number,
                number,
                title: title.to_owned(),
                body: Some(body.to_owned()),
                state: "open".to_owned(),
                assignees: assignees
                    .iter()
                    .map(|login| User {
                        login: login.clone(),
                        ..User::default()
                    })
                    .collect(),
                html_url: format!("https://github.com/{org}/{repo}/issues/{number}"),
                ..Issue::default()
            },
        );
        Ok(number)
    }

    async fn create_comment(&self, org: &str, repo: &str, number: u64, body: &str) -> Result<u64> {
        let mut state = self.call("create_comment")?;
        issue(&mut state, org, repo, number)?;
        let id = state.next_id;
        state.next_id += 1;
        let user = state.bot.clone();
        state
            .comments
            .entry(key(org, repo, number))
            .or_default()
            .push(Comment {
                id,
                body: Some(body.to_owned()),
                user,
                html_url: format!(
                    "https://github.com/{org}/{repo}/issues/{number}#issuecomment-{id}"
                ),
                ..Comment::default()
            });
        Ok(id)
    }

    async fn edit_comment(&self, org: &str, repo: &str, id: u64, body: &str) -> Result<()> {
        let mut state = self.call("edit_comment")?;
        let comment = state
            .comments
            .iter_mut()
            .filter(|((o, r, _), _)| o == org && r == repo)
            .flat_map(|(_, comments)| comments.iter_mut())
            .find(|c| c.id == id)
            .ok_or_else(|| not_found(format!("comment {id} in {org}/{repo}")))?;
        comment.body = Some(body.to_owned());
        Ok(())
    }

    async fn delete_ref(&self, org: &str, repo: &str, git_ref: &str) -> Result<()> {
        let mut state = self.call("delete_ref")?;
        let branch = git_ref.strip_prefix("heads/").unwrap_or(git_ref);
        state
            .branches
            .remove(&(org.to_owned(), repo.to_owned(), branch.to_owned()))
            .map(|_| ())
            .ok_or_else(|| not_found(format!("ref {git_ref} in {org}/{repo}")))
    }

    async fn delete_comment(&self, org: &str, repo: &str, id: u64) -> Result<()> {
        let mut state = self.call("delete_comment")?;
        for ((o, r, _), comments) in state.comments.iter_mut() {
            if o == org
                && r == repo
                && let Some(i) = comments.iter().position(|c| c.id == id)
            {
                comments.remove(i);
                return Ok(());
            }
        }
        Err(not_found(format!("comment {id} in {org}/{repo}")))
    }

    async fn add_assignees(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let mut state = self.call("add_assignees")?;
        let issue = issue(&mut state, org, repo, number)?;
        for login in logins {
            if !issue.assignees.iter().any(|u| u.login == *login) {
                issue.assignees.push(User {
                    login: login.clone(),
                    ..User::default()
                });
            }
        }
        Ok(())
    }

    async fn remove_assignees(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        logins: &[String],
    ) -> Result<()> {
        let mut state = self.call("remove_assignees")?;
        let issue = issue(&mut state, org, repo, number)?;
        issue.assignees.retain(|u| !logins.contains(&u.login));
        Ok(())
    }

    async fn collaborator_permission(
        &self,
        org: &str,
        repo: &str,
        user: &str,
    ) -> Result<Permission> {
        let state = self.call("collaborator_permission")?;
        Ok(state
            .collaborators
            .get(&(org.to_owned(), repo.to_owned(), user.to_owned()))
            .copied()
            .unwrap_or_default())
    }

    async fn is_org_member(&self, org: &str, user: &str) -> Result<bool> {
        let state = self.call("is_org_member")?;
        Ok(state.org_members.get(org).is_some_and(|m| m.contains(user)))
    }

    async fn is_team_member(&self, org: &str, team_slug: &str, user: &str) -> Result<bool> {
        let state = self.call("is_team_member")?;
        Ok(state
            .team_members
            .get(&(org.to_owned(), team_slug.to_owned()))
            .is_some_and(|m| m.contains(user)))
    }

    async fn search_issues(&self, query: &str) -> Result<Vec<Issue>> {
        let state = self.call("search_issues")?;
        let terms = crate::query::query_terms(query);
        Ok(state
            .issues
            .iter()
            .filter(|((org, repo, _), issue)| {
                let pr = state.pulls.get(&key(org, repo, issue.number));
                terms
                    .iter()
                    .all(|t| matches_term(t, issue, pr, (org, repo)))
            })
            .map(|(_, issue)| issue.clone())
            .collect())
    }

    async fn file_contents(
        &self,
        org: &str,
        repo: &str,
        path: &str,
        git_ref: &str,
    ) -> Result<Option<Vec<u8>>> {
        let state = self.call("file_contents")?;
        Ok(state
            .files
            .get(&(
                org.to_owned(),
                repo.to_owned(),
                git_ref.to_owned(),
                path.to_owned(),
            ))
            .cloned())
    }

    async fn ref_sha(&self, org: &str, repo: &str, git_ref: &str) -> Result<String> {
        let state = self.call("ref_sha")?;
        let branch = git_ref.strip_prefix("heads/").unwrap_or(git_ref);
        state
            .branches
            .get(&(org.to_owned(), repo.to_owned(), branch.to_owned()))
            .cloned()
            .ok_or_else(|| not_found(format!("ref {git_ref} in {org}/{repo}")))
    }

    async fn branches(&self, org: &str, repo: &str) -> Result<Vec<BranchHead>> {
        let state = self.call("branches")?;
        Ok(state
            .branches
            .iter()
            .filter(|((o, r, _), _)| o == org && r == repo)
            .map(|((o, r, name), sha)| BranchHead {
                name: name.clone(),
                sha: sha.clone(),
                protected: state
                    .protections
                    .contains_key(&(o.clone(), r.clone(), name.clone())),
            })
            .collect())
    }

    async fn branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
    ) -> Result<Option<BranchProtection>> {
        let state = self.call("branch_protection")?;
        Ok(state
            .protections
            .get(&(org.to_owned(), repo.to_owned(), branch.to_owned()))
            .cloned())
    }

    async fn rate_limit(&self) -> Result<RateLimit> {
        Ok(self.call("rate_limit")?.rate_limit)
    }

    async fn update_branch_protection(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        request: &BranchProtectionRequest,
    ) -> Result<()> {
        let mut state = self.call("update_branch_protection")?;
        let at = (org.to_owned(), repo.to_owned(), branch.to_owned());
        if !state.branches.contains_key(&at) {
            return Err(not_found(format!("branch {org}/{repo}={branch}")));
        }
        let now = state.protections.get(&at).cloned().unwrap_or_default();
        state.protections.insert(at, now.applied(request));
        Ok(())
    }

    async fn remove_branch_protection(&self, org: &str, repo: &str, branch: &str) -> Result<()> {
        let mut state = self.call("remove_branch_protection")?;
        state
            .protections
            .remove(&(org.to_owned(), repo.to_owned(), branch.to_owned()))
            .map(|_| ())
            .ok_or_else(|| not_found(format!("protection of {org}/{repo}={branch}")))
    }

    async fn set_required_signatures(
        &self,
        org: &str,
        repo: &str,
        branch: &str,
        required: bool,
    ) -> Result<()> {
        let mut state = self.call("set_required_signatures")?;
        let protection = state
            .protections
            .get_mut(&(org.to_owned(), repo.to_owned(), branch.to_owned()))
            .ok_or_else(|| not_found(format!("protection of {org}/{repo}={branch}")))?;
        protection.required_signatures = required;
        Ok(())
    }

    async fn repository(&self, org: &str, repo: &str) -> Result<Repo> {
        let state = self.call("repository")?;
        fake_repos(&state, org)
            .into_iter()
            .find(|r| r.name == repo)
            .ok_or_else(|| not_found(format!("repository {org}/{repo}")))
    }

    async fn org_repos(&self, org: &str) -> Result<Vec<Repo>> {
        let state = self.call("org_repos")?;
        Ok(fake_repos(&state, org))
    }

    async fn commit_tree(&self, org: &str, repo: &str, sha: &str) -> Result<String> {
        let state = self.call("commit_tree")?;
        state
            .commit_trees
            .get(&(org.to_owned(), repo.to_owned(), sha.to_owned()))
            .cloned()
            .ok_or_else(|| not_found(format!("commit {org}/{repo}@{sha}")))
    }

    async fn create_review(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        review: &crate::client::DraftReview,
    ) -> Result<()> {
        let mut state = self.call("create_review")?;
        pull(&state, org, repo, number)?;
        state
            .draft_reviews
            .entry(key(org, repo, number))
            .or_default()
            .push(review.clone());
        Ok(())
    }

    // issue-management: transfer, pin.

    async fn issue(&self, org: &str, repo: &str, number: u64) -> Result<Issue> {
        let mut state = self.call("issue")?;
        let mut found = issue(&mut state, org, repo, number)?.clone();
        if found.node_id.is_empty() {
            found.node_id = issue_node_id(org, repo, number);
        }
        Ok(found)
    }

    async fn pin_issue(&self, org: &str, issue_id: &str) -> Result<()> {
        let mut state = self.call("pin_issue")?;
        let k = issue_by_node_id(&state, org, issue_id)?;
        let pinned_here = state
            .pinned
            .iter()
            .filter(|(o, r, n)| (o, r) == (&k.0, &k.1) && *n != k.2)
            .count();
        if pinned_here >= MAX_PINNED_ISSUES {
            return Err(Error::Validation {
                what: format!("pin issue {}/{}#{}", k.0, k.1, k.2),
                message: format!("a repository may pin at most {MAX_PINNED_ISSUES} issues"),
            });
        }
        state.pinned.insert(k);
        Ok(())
    }

    async fn unpin_issue(&self, org: &str, issue_id: &str) -> Result<()> {
        let mut state = self.call("unpin_issue")?;
        let k = issue_by_node_id(&state, org, issue_id)?;
        state.pinned.remove(&k);
        Ok(())
    }

    async fn transfer_issue(&self, org: &str, issue_id: &str, repo_id: &str) -> Result<String> {
        let mut state = self.call("transfer_issue")?;
        let from = issue_by_node_id(&state, org, issue_id)?;
        let to_repo = fake_repos(&state, org)
            .into_iter()
            .find(|r| r.node_id == repo_id)
            .ok_or_else(|| not_found(format!("repository {repo_id} in {org}")))?
            .name;
        if state.issues[&from].is_pull_request() {
            return Err(Error::Validation {
                what: format!("transfer {}/{}#{}", from.0, from.1, from.2),
                message: "pull requests cannot be transferred".to_owned(),
            });
        }
        let to = key(org, &to_repo, next_number(&state, org, &to_repo));
        let Some(mut moved) = state.issues.remove(&from) else {
            return Err(not_found(format!("issue {issue_id} in {org}")));
        };
        if moved.node_id.is_empty() {
            moved.node_id = issue_node_id(&from.0, &from.1, from.2);
        }
        moved.number = to.2;
        moved.repository_url = format!("https://api.github.com/repos/{org}/{to_repo}");
        moved.html_url = format!("https://github.com/{org}/{to_repo}/issues/{}", to.2);
        let url = moved.html_url.clone();
        state.issues.insert(to.clone(), moved);
        if let Some(comments) = state.comments.remove(&from) {
            state.comments.insert(to.clone(), comments);
        }
        state.pinned.remove(&from);
        state.transfers.push((from, to));
        Ok(url)
    }

    // Classic projects (project, project-manager).

    async fn repo_projects(&self, org: &str, repo: &str) -> Result<Vec<Project>> {
        let state = self.call("repo_projects")?;
        Ok(fake_projects(&state, org, Some(repo)))
    }

    async fn org_projects(&self, org: &str) -> Result<Vec<Project>> {
        let state = self.call("org_projects")?;
        Ok(fake_projects(&state, org, None))
    }

    async fn project_columns(&self, _org: &str, project_id: u64) -> Result<Vec<ProjectColumn>> {
        let state = self.call("project_columns")?;
        let project = state
            .projects
            .iter()
            .find(|p| p.id == project_id)
            .ok_or_else(|| not_found(format!("project {project_id}")))?;
        Ok(project
            .columns
            .iter()
            .map(|c| ProjectColumn {
                id: c.id,
                name: c.name.clone(),
            })
            .collect())
    }

    async fn column_cards(&self, _org: &str, column_id: u64) -> Result<Vec<ProjectCard>> {
        let mut state = self.call("column_cards")?;
        Ok(fake_column(&mut state, column_id)?.cards.clone())
    }

    /// Refuses, as GitHub does, content it does not know and content already on the board.
    async fn create_project_card(
        &self,
        org: &str,
        column_id: u64,
        content: CardContent,
    ) -> Result<ProjectCard> {
        let mut state = self.call("create_project_card")?;
        let what = format!("add a card to project column {column_id} in {org}");
        let Some(((o, r, number), _)) = state
            .issues
            .iter()
            .find(|(_, i)| i.id == content.content_id)
        else {
            return Err(Error::Validation {
                what,
                message: format!("content {} not found", content.content_id),
            });
        };
        let (o, r, number) = (o.clone(), r.clone(), *number);
        let id = state.next_id;
        state.next_id += 1;
        let card = ProjectCard {
            id,
            content_url: format!("https://api.github.com/repos/{o}/{r}/issues/{number}"),
        };
        let project = state
            .projects
            .iter()
            .find(|p| p.columns.iter().any(|c| c.id == column_id))
            .ok_or_else(|| not_found(format!("project column {column_id}")))?;
        if project
            .columns
            .iter()
            .flat_map(|c| &c.cards)
            .any(|c| c.is_for(&o, &r, number))
        {
            return Err(Error::Validation {
                what,
                message: "Project already has the associated issue".to_owned(),
            });
        }
        fake_column(&mut state, column_id)?
            .cards
            .insert(0, card.clone());
        Ok(card)
    }

    async fn move_project_card(&self, _org: &str, card_id: u64, column_id: u64) -> Result<()> {
        let mut state = self.call("move_project_card")?;
        let (p, c, i) = fake_card(&state, card_id)?;
        let Some(to) = state.projects[p]
            .columns
            .iter()
            .position(|col| col.id == column_id)
        else {
            return Err(Error::Validation {
                what: format!("move project card {card_id} to column {column_id}"),
                message: "the column is not in the card's project".to_owned(),
            });
        };
        let card = state.projects[p].columns[c].cards.remove(i);
        state.projects[p].columns[to].cards.insert(0, card);
        Ok(())
    }

    async fn delete_project_card(&self, _org: &str, card_id: u64) -> Result<()> {
        let mut state = self.call("delete_project_card")?;
        let (p, c, i) = fake_card(&state, card_id)?;
        state.projects[p].columns[c].cards.remove(i);
        Ok(())
    }

    async fn team_has_member(&self, org: &str, team_id: u64, user: &str) -> Result<bool> {
        let state = self.call("team_has_member")?;
        let slug = state
            .team_ids
            .get(&(org.to_owned(), team_id))
            .ok_or_else(|| not_found(format!("team {team_id} of {org}")))?;
        Ok(state
            .team_members
            .get(&(org.to_owned(), slug.clone()))
            .is_some_and(|m| m.iter().any(|l| l.eq_ignore_ascii_case(user))))
    }
}

// Classic projects (project, project-manager).

/// A classic project board of the fake.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeProject {
    /// Its numeric ID.
    pub id: u64,
    /// The organisation owning it (directly or through its repository).
    pub org: String,
    /// The repository owning it; `None` for an organisation's board.
    pub repo: Option<String>,
    /// Its name.
    pub name: String,
    /// Its columns, in board order.
    pub columns: Vec<FakeColumn>,
}

/// A column of a [`FakeProject`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeColumn {
    /// Its numeric ID.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its cards, top first.
    pub cards: Vec<ProjectCard>,
}

impl FakeGitHub {
    /// Adds a classic project board named `name` with ID `id` to `owner` (`org` or
    /// `org/repo`), with `columns` as `(id, name)` in board order.
    pub fn add_project(&self, owner: &str, id: u64, name: &str, columns: &[(u64, &str)]) {
        let (org, repo) = match owner.split_once('/') {
            Some((org, repo)) => (org, Some(repo.to_owned())),
            None => (owner, None),
        };
        self.state().projects.push(FakeProject {
            id,
            org: org.to_owned(),
            repo,
            name: name.to_owned(),
            columns: columns
                .iter()
                .map(|(id, name)| FakeColumn {
                    id: *id,
                    name: (*name).to_owned(),
                    cards: Vec::new(),
                })
                .collect(),
        });
    }

    /// Adds team `slug` with numeric ID `id` to `org`, with `members`.
    pub fn add_team(&self, org: &str, slug: &str, id: u64, members: &[&str]) {
        let mut state = self.state();
        state.team_ids.insert((org.to_owned(), id), slug.to_owned());
        state
            .team_members
            .entry((org.to_owned(), slug.to_owned()))
            .or_default()
            .extend(members.iter().map(|m| (*m).to_owned()));
    }

    /// Where each card of `org/repo#number` is: `(project name, column name)`, in board order.
    pub fn cards_of(&self, org: &str, repo: &str, number: u64) -> Vec<(String, String)> {
        let state = self.state();
        let mut found = Vec::new();
        for project in &state.projects {
            for column in &project.columns {
                for card in &column.cards {
                    if card.is_for(org, repo, number) {
                        found.push((project.name.clone(), column.name.clone()));
                    }
                }
            }
        }
        found
    }
}

fn fake_projects(state: &FakeState, org: &str, repo: Option<&str>) -> Vec<Project> {
    state
        .projects
        .iter()
        .filter(|p| p.org == org && p.repo.as_deref() == repo)
        .map(|p| Project {
            id: p.id,
            name: p.name.clone(),
        })
        .collect()
}

fn fake_column(state: &mut FakeState, column_id: u64) -> Result<&mut FakeColumn> {
    state
        .projects
        .iter_mut()
        .flat_map(|p| p.columns.iter_mut())
        .find(|c| c.id == column_id)
        .ok_or_else(|| not_found(format!("project column {column_id}")))
}

/// The project holding card `card_id`, and the card's column and place in it.
fn fake_card(state: &FakeState, card_id: u64) -> Result<(usize, usize, usize)> {
    for (p, project) in state.projects.iter().enumerate() {
        for (c, column) in project.columns.iter().enumerate() {
            if let Some(i) = column.cards.iter().position(|card| card.id == card_id) {
                return Ok((p, c, i));
            }
        }
    }
    Err(not_found(format!("project card {card_id}")))
}

/// The repositories of `org` the fake knows: those in [`FakeState::repos`] and those with
/// branches, by name.
fn fake_repos(state: &FakeState, org: &str) -> Vec<Repo> {
    let mut out: BTreeMap<String, Repo> = state
        .repos
        .iter()
        .filter(|((o, _), _)| o == org)
        .map(|((_, name), r)| (name.clone(), r.clone()))
        .collect();
    for (o, name, _) in state.branches.keys() {
        if o == org && !out.contains_key(name) {
            out.insert(
                name.clone(),
                Repo {
                    name: name.clone(),
                    full_name: format!("{org}/{name}"),
                    ..Repo::default()
                },
            );
        }
    }
    for r in out.values_mut().filter(|r| r.node_id.is_empty()) {
        r.node_id = repo_node_id(org, &r.name);
    }
    out.into_values().collect()
}
