//! Webhook events: the payloads Prow acts on, as a closed enum, and the generic comment event
//! hook derives from every comment-like one.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
pub use crate::types::{
    Branch, CheckRun, CheckSuite, Comment, Issue, Label, Owner, PullRequest, PushCommit, Repo,
    Review, ReviewComment, User,
};

/// `issues`: an issue was opened, edited, labelled, closed, ...
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct IssueEvent {
    /// What happened.
    pub action: String,
    /// The issue.
    pub issue: Issue,
    /// The label added or removed, for `labeled`/`unlabeled`.
    pub label: Option<Label>,
    /// The user assigned or unassigned.
    pub assignee: Option<User>,
    /// The repository.
    pub repository: Repo,
    /// Who did it.
    pub sender: User,
}

/// `issue_comment`: a comment on an issue or pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct IssueCommentEvent {
    /// `created`, `edited` or `deleted`.
    pub action: String,
    /// The issue (or pull request) commented on.
    pub issue: Issue,
    /// The comment.
    pub comment: Comment,
    /// The repository.
    pub repository: Repo,
    /// Who did it.
    pub sender: User,
}

/// `pull_request`: a pull request was opened, pushed to, labelled, closed, ...
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PullRequestEvent {
    /// What happened.
    pub action: String,
    /// The pull request number.
    pub number: u64,
    /// The pull request.
    pub pull_request: PullRequest,
    /// The label added or removed, for `labeled`/`unlabeled`.
    pub label: Option<Label>,
    /// What changed, for `edited` (the base branch, title or body).
    pub changes: Option<serde_json::Value>,
    /// The repository.
    pub repository: Repo,
    /// Who did it.
    pub sender: User,
}

/// `pull_request_review`: a review was submitted, edited or dismissed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ReviewEvent {
    /// What happened.
    pub action: String,
    /// The review.
    pub review: Review,
    /// The pull request reviewed.
    pub pull_request: PullRequest,
    /// The repository.
    pub repository: Repo,
    /// Who did it.
    pub sender: User,
}

/// `pull_request_review_comment`: a comment on a pull request's diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ReviewCommentEvent {
    /// `created`, `edited` or `deleted`.
    pub action: String,
    /// The comment.
    pub comment: ReviewComment,
    /// The pull request.
    pub pull_request: PullRequest,
    /// The repository.
    pub repository: Repo,
    /// Who did it.
    pub sender: User,
}

/// `push`: commits were pushed to a branch or tag.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PushEvent {
    /// The full ref pushed, such as `refs/heads/main`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The SHA before.
    pub before: String,
    /// The SHA after (all zeros for a deletion).
    pub after: String,
    /// Whether the ref was created.
    pub created: bool,
    /// Whether the ref was deleted.
    pub deleted: bool,
    /// Whether it was a force push.
    pub forced: bool,
    /// A link comparing before and after.
    pub compare: String,
    /// The commits pushed.
    pub commits: Vec<PushCommit>,
    /// The repository.
    pub repository: Repo,
    /// Who pushed.
    pub sender: User,
}

impl PushEvent {
    /// The branch pushed to (`refs/heads/` removed).
    pub fn branch(&self) -> &str {
        self.git_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&self.git_ref)
    }

    /// Whether the push deleted the ref (Prow ignores these).
    pub fn is_deletion(&self) -> bool {
        self.deleted || (!self.after.is_empty() && self.after.bytes().all(|b| b == b'0'))
    }

    /// Every file added, removed or modified by the pushed commits.
    pub fn changed_files(&self) -> Vec<&str> {
        let mut files: Vec<&str> = self
            .commits
            .iter()
            .flat_map(|c| c.added.iter().chain(&c.removed).chain(&c.modified))
            .map(String::as_str)
            .collect();
        files.sort_unstable();
        files.dedup();
        files
    }
}

/// `status`: a commit status was set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct StatusEvent {
    /// The commit.
    pub sha: String,
    /// The status context.
    pub context: String,
    /// `pending`, `success`, `failure` or `error`.
    pub state: String,
    /// The description.
    pub description: Option<String>,
    /// The link.
    pub target_url: Option<String>,
    /// The repository.
    pub repository: Repo,
    /// Who set it.
    pub sender: User,
}

/// `check_run`: a check run was created, completed or re-requested.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CheckRunEvent {
    /// What happened.
    pub action: String,
    /// The check run.
    pub check_run: CheckRun,
    /// The repository.
    pub repository: Repo,
    /// Who did it.
    pub sender: User,
}

/// `check_suite`: a check suite was requested or completed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CheckSuiteEvent {
    /// What happened.
    pub action: String,
    /// The check suite.
    pub check_suite: CheckSuite,
    /// The repository.
    pub repository: Repo,
    /// Who did it.
    pub sender: User,
}

/// `ping`: sent when a webhook is set up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct PingEvent {
    /// GitHub's zen saying.
    pub zen: Option<String>,
    /// The hook's ID.
    pub hook_id: Option<u64>,
}

/// `create`: a branch or tag was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CreateEvent {
    /// The branch or tag name (without `refs/heads/` or `refs/tags/`).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// `branch` or `tag`.
    pub ref_type: String,
    /// The repository's default branch.
    pub master_branch: String,
    /// The repository.
    pub repository: Repo,
    /// Who created it.
    pub sender: User,
}

/// `delete`: a branch or tag was deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DeleteEvent {
    /// The branch or tag name (without `refs/heads/` or `refs/tags/`).
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// `branch` or `tag`.
    pub ref_type: String,
    /// The repository.
    pub repository: Repo,
    /// Who deleted it.
    pub sender: User,
}

/// A webhook event Prow handles; others are kept as raw JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `ping`.
    Ping(PingEvent),
    /// `issues`.
    Issues(Box<IssueEvent>),
    /// `issue_comment`.
    IssueComment(Box<IssueCommentEvent>),
    /// `pull_request`.
    PullRequest(Box<PullRequestEvent>),
    /// `pull_request_review`.
    PullRequestReview(Box<ReviewEvent>),
    /// `pull_request_review_comment`.
    PullRequestReviewComment(Box<ReviewCommentEvent>),
    /// `push`.
    Push(Box<PushEvent>),
    /// `status`.
    Status(Box<StatusEvent>),
    /// `check_run`.
    CheckRun(Box<CheckRunEvent>),
    /// `check_suite`.
    CheckSuite(Box<CheckSuiteEvent>),
    /// `create`.
    Create(Box<CreateEvent>),
    /// `delete`.
    Delete(Box<DeleteEvent>),
    /// An event Prow has no typed form for (`release`, `member`, ...), as it came: external
    /// plugins still receive it.
    Other {
        /// The event name.
        name: String,
        /// The payload.
        payload: serde_json::Value,
    },
}

fn parse<T: DeserializeOwned>(event: &str, payload: &[u8]) -> Result<T, Error> {
    // Tracking the field path costs about a third of the parse, so it is done only to explain
    // a payload that failed.
    serde_json::from_slice(payload).or_else(|_| {
        let mut deserializer = serde_json::Deserializer::from_slice(payload);
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| Error::Payload {
            event: event.to_owned(),
            path: e.path().to_string(),
            reason: e.into_inner().to_string(),
        })
    })
}

/// Reads a typed event whose struct keeps `repository` from a top-level object and, in the
/// same pass over the payload, reads its `organization` as Prow's owner read does (no typed
/// event keeps it). `None` says only that one of the two failed (or the payload is not an
/// object); the caller asks which by reading again.
fn parse_checking_owner<T: DeserializeOwned>(payload: &[u8]) -> Option<T> {
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    let event = serde::Deserializer::deserialize_map(
        &mut deserializer,
        owner_check::TopLevel::<T>::default(),
    )
    .ok()?;
    deserializer.end().ok()?;
    Some(event)
}

/// Reads a correctly signed payload in one pass: see [`Event::owner_checking_reader`].
pub(crate) type OnePassReader = fn(&[u8]) -> Option<Event>;

mod owner_check {
    //! A pass-through over a payload's top-level object that also reads its `organization` as
    //! [`OrgName`](crate::hmac::OrgName), so that one pass both builds the typed event and
    //! checks what Prow's owner read would refuse. Keys are handed on borrowed from the payload.

    use std::borrow::Cow;
    use std::marker::PhantomData;

    use serde::de::value::{BorrowedStrDeserializer, MapAccessDeserializer, StringDeserializer};
    use serde::de::{self, Deserialize, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};

    use crate::hmac::OrgName;

    /// Visits the top-level object and hands it to `T` through [`Watch`].
    pub(super) struct TopLevel<T>(PhantomData<T>);

    impl<T> Default for TopLevel<T> {
        fn default() -> Self {
            TopLevel(PhantomData)
        }
    }

    impl<'de, T: Deserialize<'de>> Visitor<'de> for TopLevel<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an event object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(Watch {
                map,
                organization_next: false,
                organization_seen: false,
            }))
        }
    }

    /// The top-level object's entries, passed on as they are but for `organization`, which is
    /// read here and handed on as `()` (what a struct that skips the field accepts). A second
    /// `organization` fails the read, as it fails the owner read.
    struct Watch<A> {
        map: A,
        organization_next: bool,
        organization_seen: bool,
    }

    impl<'de, A: MapAccess<'de>> MapAccess<'de> for Watch<A> {
        type Error = A::Error;

        fn next_key_seed<K: DeserializeSeed<'de>>(
            &mut self,
            seed: K,
        ) -> Result<Option<K::Value>, A::Error> {
            let Some(Key(key)) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            self.organization_next = key == "organization";
            if self.organization_next && std::mem::replace(&mut self.organization_seen, true) {
                return Err(de::Error::duplicate_field("organization"));
            }
            match key {
                Cow::Borrowed(key) => seed.deserialize(BorrowedStrDeserializer::new(key)),
                Cow::Owned(key) => seed.deserialize(StringDeserializer::new(key)),
            }
            .map(Some)
        }

        fn next_value_seed<V: DeserializeSeed<'de>>(
            &mut self,
            seed: V,
        ) -> Result<V::Value, A::Error> {
            if std::mem::take(&mut self.organization_next) {
                self.map.next_value::<Option<OrgName<'de>>>()?;
                return seed.deserialize(().into_deserializer());
            }
            self.map.next_value_seed(seed)
        }

        fn size_hint(&self) -> Option<usize> {
            self.map.size_hint()
        }
    }

    /// An object key, borrowed from the payload unless it had escapes.
    struct Key<'de>(Cow<'de, str>);

    impl<'de> Deserialize<'de> for Key<'de> {
        fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct KeyVisitor;
            impl<'de> Visitor<'de> for KeyVisitor {
                type Value = Key<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a key")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(v.to_owned())))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                    Ok(Key(Cow::Owned(v)))
                }
            }
            deserializer.deserialize_str(KeyVisitor)
        }
    }
}

impl Event {
    /// The one-pass reader of `name`'s payload, for a payload whose signature is already known
    /// good: [`Event::parse`] and Prow's owner read together (see [`crate::verify_and_parse`]).
    /// `None` for events whose typed form keeps no `repository` (`ping` and untyped events),
    /// which the owner read needs; the reader answers `None` for a payload that failed one of
    /// the two reads.
    pub(crate) fn owner_checking_reader(name: &str) -> Option<OnePassReader> {
        use parse_checking_owner as read;
        Some(match name {
            "issues" => |p| Some(Event::Issues(read(p)?)),
            "issue_comment" => |p| Some(Event::IssueComment(read(p)?)),
            "pull_request" => |p| Some(Event::PullRequest(read(p)?)),
            "pull_request_review" => |p| Some(Event::PullRequestReview(read(p)?)),
            "pull_request_review_comment" => |p| Some(Event::PullRequestReviewComment(read(p)?)),
            "push" => |p| Some(Event::Push(read(p)?)),
            "status" => |p| Some(Event::Status(read(p)?)),
            "check_run" => |p| Some(Event::CheckRun(read(p)?)),
            "check_suite" => |p| Some(Event::CheckSuite(read(p)?)),
            "create" => |p| Some(Event::Create(read(p)?)),
            "delete" => |p| Some(Event::Delete(read(p)?)),
            _ => return None,
        })
    }

    /// Reads the payload of an `X-GitHub-Event: name` delivery.
    pub fn parse(name: &str, payload: &[u8]) -> Result<Event, Error> {
        Ok(match name {
            "ping" => Event::Ping(parse(name, payload)?),
            "issues" => Event::Issues(parse(name, payload)?),
            "issue_comment" => Event::IssueComment(parse(name, payload)?),
            "pull_request" => Event::PullRequest(parse(name, payload)?),
            "pull_request_review" => Event::PullRequestReview(parse(name, payload)?),
            "pull_request_review_comment" => Event::PullRequestReviewComment(parse(name, payload)?),
            "push" => Event::Push(parse(name, payload)?),
            "status" => Event::Status(parse(name, payload)?),
            "check_run" => Event::CheckRun(parse(name, payload)?),
            "check_suite" => Event::CheckSuite(parse(name, payload)?),
            "create" => Event::Create(parse(name, payload)?),
            "delete" => Event::Delete(parse(name, payload)?),
            other => Event::Other {
                name: other.to_owned(),
                payload: parse(name, payload)?,
            },
        })
    }

    /// The event name, as in `X-GitHub-Event`.
    pub fn name(&self) -> &str {
        match self {
            Event::Ping(_) => "ping",
            Event::Issues(_) => "issues",
            Event::IssueComment(_) => "issue_comment",
            Event::PullRequest(_) => "pull_request",
            Event::PullRequestReview(_) => "pull_request_review",
            Event::PullRequestReviewComment(_) => "pull_request_review_comment",
            Event::Push(_) => "push",
            Event::Status(_) => "status",
            Event::CheckRun(_) => "check_run",
            Event::CheckSuite(_) => "check_suite",
            Event::Create(_) => "create",
            Event::Delete(_) => "delete",
            Event::Other { name, .. } => name,
        }
    }

    /// The repository the event happened in; `None` for `ping`, other untyped events and
    /// organisation-level deliveries without one.
    pub fn repository(&self) -> Option<&Repo> {
        let repo = match self {
            Event::Ping(_) | Event::Other { .. } => return None,
            Event::Issues(e) => &e.repository,
            Event::IssueComment(e) => &e.repository,
            Event::PullRequest(e) => &e.repository,
            Event::PullRequestReview(e) => &e.repository,
            Event::PullRequestReviewComment(e) => &e.repository,
            Event::Push(e) => &e.repository,
            Event::Status(e) => &e.repository,
            Event::CheckRun(e) => &e.repository,
            Event::CheckSuite(e) => &e.repository,
            Event::Create(e) => &e.repository,
            Event::Delete(e) => &e.repository,
        };
        Some(repo).filter(|r| !r.full_name.is_empty())
    }

    /// The comment-like view of this event, when it has one (see [`GenericCommentEvent`]).
    pub fn generic_comment(&self) -> Option<GenericCommentEvent> {
        let (action, is_pr, body, html_url, number, repo, user, issue) = match self {
            Event::Issues(e) => (
                &e.action,
                e.issue.is_pull_request(),
                &e.issue.body,
                &e.issue.html_url,
                e.issue.number,
                &e.repository,
                &e.issue.user,
                IssueSide::of_issue(&e.issue),
            ),
            Event::IssueComment(e) => (
                &e.action,
                e.issue.is_pull_request(),
                &e.comment.body,
                &e.comment.html_url,
                e.issue.number,
                &e.repository,
                &e.comment.user,
                IssueSide::of_issue(&e.issue),
            ),
            Event::PullRequest(e) => (
                &e.action,
                true,
                &e.pull_request.body,
                &e.pull_request.html_url,
                e.pull_request.number,
                &e.repository,
                &e.pull_request.user,
                IssueSide::of_pull(&e.pull_request),
            ),
            Event::PullRequestReview(e) => (
                &e.action,
                true,
                &e.review.body,
                &e.review.html_url,
                e.pull_request.number,
                &e.repository,
                &e.review.user,
                IssueSide::of_pull(&e.pull_request),
            ),
            Event::PullRequestReviewComment(e) => (
                &e.action,
                true,
                &e.comment.body,
                &e.comment.html_url,
                e.pull_request.number,
                &e.repository,
                &e.comment.user,
                IssueSide::of_pull(&e.pull_request),
            ),
            _ => return None,
        };
        Some(GenericCommentEvent {
            action: CommentAction::from_action(action)?,
            is_pr,
            body: body.clone().unwrap_or_default(),
            html_url: html_url.clone(),
            number,
            repo: repo.clone(),
            user: user.clone(),
            issue_author: issue.author.clone(),
            assignees: issue.assignees.to_vec(),
            issue_state: issue.state.to_owned(),
            issue_title: issue.title.to_owned(),
            issue_body: issue.body.clone().unwrap_or_default(),
            issue_html_url: issue.html_url.to_owned(),
            node_id: issue.node_id.to_owned(),
        })
    }
}

/// The issue (or pull request) a comment-like event is about.
struct IssueSide<'a> {
    author: &'a User,
    assignees: &'a [User],
    state: &'a str,
    title: &'a str,
    body: &'a Option<String>,
    html_url: &'a str,
    node_id: &'a str,
}

impl<'a> IssueSide<'a> {
    fn of_issue(issue: &'a Issue) -> Self {
        IssueSide {
            author: &issue.user,
            assignees: &issue.assignees,
            state: &issue.state,
            title: &issue.title,
            body: &issue.body,
            html_url: &issue.html_url,
            node_id: &issue.node_id,
        }
    }

    fn of_pull(pull: &'a PullRequest) -> Self {
        IssueSide {
            author: &pull.user,
            assignees: &pull.assignees,
            state: &pull.state,
            title: &pull.title,
            body: &pull.body,
            html_url: &pull.html_url,
            node_id: "",
        }
    }
}

/// What happened to the text of a comment-like event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    /// Written (`created`, `opened`, `submitted`).
    Created,
    /// Changed (`edited`).
    Edited,
    /// Removed (`deleted`, `dismissed`).
    Deleted,
}

impl CommentAction {
    /// Prow's mapping of event actions; actions that do not touch the text give `None`.
    pub fn from_action(action: &str) -> Option<Self> {
        match action {
            "created" | "opened" | "submitted" => Some(CommentAction::Created),
            "edited" => Some(CommentAction::Edited),
            "deleted" | "dismissed" => Some(CommentAction::Deleted),
            _ => None,
        }
    }
}

/// Any event carrying comment-like text (issue and PR comments, reviews, review comments, and
/// issue or PR descriptions when opened or edited), in one shape, as hook gives plugins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericCommentEvent {
    /// What happened to the text.
    pub action: CommentAction,
    /// Whether the issue is a pull request.
    pub is_pr: bool,
    /// The text.
    pub body: String,
    /// The link to the text.
    pub html_url: String,
    /// The issue or pull request number.
    pub number: u64,
    /// The repository.
    pub repo: Repo,
    /// Who wrote the text.
    pub user: User,
    /// Who opened the issue or pull request.
    pub issue_author: User,
    /// The issue's assignees.
    pub assignees: Vec<User>,
    /// The issue's state.
    pub issue_state: String,
    /// The issue's title.
    pub issue_title: String,
    /// The issue's body.
    pub issue_body: String,
    /// The issue's link.
    pub issue_html_url: String,
    /// The issue's GraphQL node ID (upstream's `NodeID`; empty for pull request events, whose
    /// payloads this crate reads no node ID from).
    pub node_id: String,
}

impl GenericCommentEvent {
    /// A comment just written (not edited or deleted) on an open issue or pull request: what
    /// most of Prow's command plugins answer.
    pub fn is_new_on_open(&self) -> bool {
        self.action == CommentAction::Created && self.issue_state == "open"
    }

    /// [`GenericCommentEvent::is_new_on_open`], on a pull request.
    pub fn is_new_on_open_pull_request(&self) -> bool {
        self.is_pr && self.is_new_on_open()
    }
}

#[cfg(test)]
mod tests {
    use super::Event;

    #[test]
    fn typed_events_are_read_with_their_owner_in_one_pass() {
        let read = Event::owner_checking_reader("issue_comment").expect("a one-pass reader");
        let payload = br#"{"action":"created","organization":{"login":"o"},"repository":{"full_name":"o/r"}}"#;
        let one = read(payload).expect("one pass");
        assert_eq!(one, Event::parse("issue_comment", payload).unwrap());
        // What the owner read refuses, the one pass leaves to the two-pass read.
        for refused in [
            &br#"{"organization":7}"#[..],
            br#"{"organization":{},"organization":{}}"#,
            br#"[]"#,
            br#"null"#,
            br#"{"action":"created"} x"#,
        ] {
            assert_eq!(read(refused), None);
        }
        // Events without a typed `repository` are not read this way.
        assert!(Event::owner_checking_reader("ping").is_none());
        assert!(Event::owner_checking_reader("release").is_none());
    }
}
