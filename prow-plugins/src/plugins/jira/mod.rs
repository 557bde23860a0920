//! jira: finds Jira issue keys (`ABC-123`) in the text and title of issues, pull requests,
//! comments and reviews, turns each mention of an issue that exists into a link to it, and
//! adds a remote link back to the GitHub issue or pull request on the Jira issue (upstream
//! `pkg/plugins/jira/jira.go`, `pkg/jira`, kubernetes-sigs/prow).
//!
//! As upstream: keys of projects in `jira.disabled_jira_projects` (a case-insensitive prefix)
//! are skipped; keys whose project Jira does not list are never looked up (the project list is
//! read once and kept); text in fenced or indented code blocks, inline code, or already inside
//! a link is left alone; a comment is edited in place, while text without a comment id (an
//! issue or pull request body, a review) edits the issue's body. The remote link is titled
//! `org/repo#N: title`; an existing link to the same URL is updated only when its title
//! changed. Upstream posts no comments.
//!
//! Deviation: upstream edits a review comment through the issue-comment API by its id, which
//! edits nothing or another comment; here a review comment is handled like a review (the
//! body of the pull request is linked instead). The body edited is the one the event carries.
//!
//! Without a Jira client (no `--jira-endpoint`) the plugin logs that and does nothing.

pub mod client;
#[cfg(feature = "test-util")]
pub mod fake;

use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event, GenericCommentEvent};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

pub use client::{JiraAuth, JiraClient, JiraError, RemoteLink};

/// A Jira issue key followed by a space, `:`, `]`, `)` or the end (upstream
/// `issueNameRegex`).
pub static ISSUE_NAME_RE: GoRegex = GoRegex::new(
    "pkg/plugins/jira/jira.go",
    r"\b([a-zA-Z]+-[0-9]+)(\s|:|$|]|\))",
);

/// The issue keys mentioned in `text`, in order, repeats included (upstream
/// `extractCandidatesFromText`).
pub fn candidates(text: &str) -> Vec<String> {
    ISSUE_NAME_RE
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_owned()))
        .collect()
}

/// `keys` without those of disabled projects (a case-insensitive prefix match, as upstream's
/// `filterOutDisabledJiraProjects`), without repeats, sorted.
pub fn enabled(keys: Vec<String>, disabled: &[String]) -> BTreeSet<String> {
    keys.into_iter()
        .filter(|key| {
            let key = key.to_lowercase();
            !disabled
                .iter()
                .any(|project| key.starts_with(&project.to_lowercase()))
        })
        .collect()
}

/// The project of issue key `key`, lowercase, as the project cache keeps it.
pub fn project_of(key: &str) -> String {
    key.split('-').next().unwrap_or_default().to_lowercase()
}

/// `body` with every linkable mention of `issues` turned into a Markdown link to
/// `<jira>/browse/<KEY>`, except on lines in fenced code blocks or indented as code (upstream
/// `insertLinksIntoComment`).
pub fn insert_links(body: &str, issues: &BTreeSet<String>, jira: &str) -> String {
    let jira = jira.trim_end_matches('/');
    let mut fences = 0usize;
    body.split('\n')
        .map(|line| {
            if line.starts_with("```") {
                fences += 1;
            }
            let code = line.starts_with("    ") || fences % 2 == 1;
            if code {
                return line.to_owned();
            }
            issues.iter().fold(line.to_owned(), |line, issue| {
                replace_if_needed(&line, issue, &format!("[{issue}]({jira}/browse/{issue})"))
            })
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with each occurrence of `old` replaced by `new` unless it follows `[`, `/`, a
/// backtick, `-` or a letter or digit, or a letter or digit follows it (upstream
/// `replaceStringIfNeeded`: already linked, part of a link, inline code, or part of a longer
/// key). An issue key cannot overlap itself, so non-overlapping matches find every one.
pub fn replace_if_needed(text: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    for (idx, _) in text.match_indices(old) {
        out.push_str(&text[start..idx]);
        let end = idx + old.len();
        let prefix_ok = idx == 0
            || (!b"[/`-".contains(&bytes[idx - 1]) && !bytes[idx - 1].is_ascii_alphanumeric());
        let suffix_ok = end >= bytes.len() || !bytes[end].is_ascii_alphanumeric();
        out.push_str(if prefix_ok && suffix_ok { new } else { old });
        start = end;
    }
    out.push_str(&text[start..]);
    out
}

/// What to do with the remote links of an issue so that one points at `url` titled `title`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkChange {
    /// Add this link.
    Add(RemoteLink),
    /// Replace the existing link (same id) with this one.
    Update(RemoteLink),
}

/// The change that makes `existing` hold a link to `url` titled `title`, if any: a link with
/// the same URL is the same link, updated when its title differs (upstream
/// `upsertGitHubLinkToIssue`).
pub fn link_change(existing: &[RemoteLink], url: &str, title: &str) -> Option<LinkChange> {
    let wanted = RemoteLink::to_github(url, title);
    match existing.iter().find(|l| l.object.url == url) {
        Some(link) if link.object.title == title => None,
        Some(link) => {
            let mut link = link.clone();
            link.object = wanted.object;
            Some(LinkChange::Update(link))
        }
        None => Some(LinkChange::Add(wanted)),
    }
}

/// The URL and title of the remote link for the issue or pull request of `gc`: its page
/// without the `#fragment` of a comment, and `org/repo#N: title`.
pub fn link_target(gc: &GenericCommentEvent) -> (String, String) {
    let url = gc.html_url.split('#').next().unwrap_or_default().to_owned();
    let title = format!("{}#{}: {}", gc.repo.full_name, gc.number, gc.issue_title);
    (url, title)
}

/// The edit that links `issues` in the text of `gc`: the comment `comment_id` when the text is
/// one, else the issue's body when linking changes it (upstream `updateComment`).
pub fn edit(
    gc: &GenericCommentEvent,
    comment_id: Option<u64>,
    issues: &BTreeSet<String>,
    jira: &str,
) -> Option<Action> {
    let with_links = insert_links(&gc.body, issues, jira);
    if with_links == gc.body {
        return None;
    }
    let (org, repo) = (gc.repo.org().to_owned(), gc.repo.name.clone());
    if let Some(id) = comment_id {
        return Some(Action::EditComment {
            org,
            repo,
            id,
            body: with_links,
        });
    }
    let body = insert_links(&gc.issue_body, issues, jira);
    (body != gc.issue_body).then_some(Action::EditBody {
        org,
        repo,
        number: gc.number,
        body,
    })
}

/// The issue comment an event's text is, if it is one.
fn comment_id(event: &Event) -> Option<u64> {
    match event {
        Event::IssueComment(e) => Some(e.comment.id),
        _ => None,
    }
}

/// The jira plugin.
#[derive(Debug, Clone, Default)]
pub struct Jira {
    client: Option<Arc<JiraClient>>,
    /// The lowercase keys of Jira's projects, read once (upstream's `projectCache`).
    projects: Arc<RwLock<BTreeSet<String>>>,
}

impl Jira {
    /// The plugin talking to `client` (none: log only).
    pub fn new(client: Option<JiraClient>) -> Self {
        Jira {
            client: client.map(Arc::new),
            projects: Arc::default(),
        }
    }

    /// The known projects, read from Jira while none are known.
    async fn projects(&self, client: &JiraClient) -> Result<BTreeSet<String>, PluginError> {
        {
            let known = self.projects.read().unwrap_or_else(|e| e.into_inner());
            if !known.is_empty() {
                return Ok(known.clone());
            }
        }
        let keys = client
            .project_keys()
            .await
            .map_err(|e| PluginError::Other(format!("failed to list jira projects: {e}")))?;
        let mut known = self.projects.write().unwrap_or_else(|e| e.into_inner());
        known.extend(keys.iter().map(|k| k.to_lowercase()));
        Ok(known.clone())
    }

    /// Makes the remote link of `gc` exist on `issue`; failures are logged, as upstream's.
    async fn ensure_link(client: &JiraClient, issue: &str, gc: &GenericCommentEvent) {
        let (url, title) = link_target(gc);
        let outcome = match client.remote_links(issue).await {
            Err(e) => Err(e),
            Ok(links) => match link_change(&links, &url, &title) {
                None => Ok("up to date"),
                Some(LinkChange::Add(link)) => client
                    .add_remote_link(issue, &link)
                    .await
                    .map(|()| "created"),
                Some(LinkChange::Update(link)) => client
                    .update_remote_link(issue, &link)
                    .await
                    .map(|()| "updated"),
            },
        };
        match outcome {
            Ok(what) => {
                tracing::info!(target: "hook", plugin = "jira", issue, %url, "jira link {what}")
            }
            Err(e) => {
                tracing::error!(target: "hook", plugin = "jira", issue, error = %e, "failed to ensure GitHub link on jira issue")
            }
        }
    }
}

#[async_trait]
impl Plugin for Jira {
    fn name(&self) -> &'static str {
        "jira"
    }

    fn help(&self, _plugins: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The Jira plugin links Pull Requests and Issues to Jira issues",
            &[
                "issues",
                "issue_comment",
                "pull_request",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action == CommentAction::Deleted {
            return Ok(Vec::new());
        }
        let Some(client) = &self.client else {
            tracing::debug!(target: "hook", plugin = "jira", "no jira client configured (--jira-endpoint); not linking");
            return Ok(Vec::new());
        };
        let projects = self.projects(client).await?;
        let disabled = ctx
            .plugins
            .jira
            .as_ref()
            .map(|j| j.disabled_jira_projects.as_slice())
            .unwrap_or_default();
        let mut keys = candidates(&gc.body);
        keys.extend(candidates(&gc.issue_title));
        let mut errors = Vec::new();
        let mut referenced = BTreeSet::new();
        for key in enabled(keys, disabled) {
            if !projects.contains(&project_of(&key)) {
                continue;
            }
            match client.issue_exists(&key).await {
                Ok(true) => {
                    referenced.insert(key);
                }
                Ok(false) => {}
                Err(e) => errors.push(format!("failed to get issue {key}: {e}")),
            }
        }
        for issue in &referenced {
            Self::ensure_link(client, issue, gc).await;
        }
        let actions: Vec<Action> = edit(gc, comment_id(event), &referenced, client.url())
            .into_iter()
            .collect();
        if errors.is_empty() {
            return Ok(actions);
        }
        if actions.is_empty() {
            return Err(PluginError::Other(errors.join("; ")));
        }
        // Upstream links what it could and reports the rest; an error here would drop the edit.
        for error in errors {
            tracing::error!(target: "hook", plugin = "jira", %error, "jira issue not checked");
        }
        Ok(actions)
    }
}
