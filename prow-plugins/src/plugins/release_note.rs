//! release-note: keeps one release-note label on each pull request from the `release-note`
//! block of its description, answers `/release-note-none`, and rewrites the description's
//! block with the one of an org member's `/release-note-edit` comment (upstream
//! `pkg/plugins/releasenote`).
//!
//! Not here (yet): the cherry-pick rule by which a pull request
//! whose parents all have release notes needs none of its own; every pull request follows
//! the process.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// A release note is needed and missing.
pub const NEEDED: &str = "do-not-merge/release-note-label-needed";
/// The pull request has a release note.
pub const NOTE: &str = "release-note";
/// The pull request needs no release note.
pub const NONE: &str = "release-note-none";
/// The release note asks users to act.
pub const ACTION_REQUIRED: &str = "release-note-action-required";
/// Deprecations always need a note.
pub const DEPRECATION: &str = "kind/deprecation";
/// Every release-note label.
pub const ALL: [&str; 4] = [NONE, ACTION_REQUIRED, NEEDED, NOTE];

const RELEASE_NOTE_GO: &str = "pkg/plugins/releasenote/releasenote.go";
/// The release-note block of a pull request's body (upstream `noteMatcherRE`).
static NOTE_RE: GoRegex = GoRegex::new(
    RELEASE_NOTE_GO,
    r"(?s)(?:Release note\*\*:\s*(?:<!--[^<>]*-->\s*)?```(?:release-note)?|```release-note)(.+?)```",
);
/// A release note that says there is none (upstream `noneRe`).
static NONE_RE: GoRegex = GoRegex::new(RELEASE_NOTE_GO, r"(?i)^\W*(NONE|NO)\W*$");
/// `/release-note` (upstream `releaseNoteRe`).
pub static RELEASE_NOTE_RE: GoRegex = GoRegex::new(RELEASE_NOTE_GO, r"(?mi)^/release-note\s*$");
/// `/release-note-edit` (upstream `releaseNoteEditRe`).
pub static RELEASE_NOTE_EDIT_RE: GoRegex =
    GoRegex::new(RELEASE_NOTE_GO, r"(?mi)^/release-note-edit\s*$");
/// `/release-note-none` (upstream `releaseNoteNoneRe`).
pub static RELEASE_NOTE_NONE_RE: GoRegex =
    GoRegex::new(RELEASE_NOTE_GO, r"(?mi)^/release-note-none\s*$");
/// `/release-note-action-required` (upstream `releaseNoteActionRequiredRe`).
pub static RELEASE_NOTE_ACTION_REQUIRED_RE: GoRegex =
    GoRegex::new(RELEASE_NOTE_GO, r"(?mi)^/release-note-action-required\s*$");

/// The comment asking for a release note, pointing to `guidelines`.
pub fn needed_message(guidelines: &str) -> String {
    format!(
        "Adding the \"{NEEDED}\" label because no release-note block was detected, please follow our [release note process]({guidelines}) to remove it."
    )
}

/// The comment when a deprecation lacks a note.
pub fn deprecation_message() -> String {
    format!(
        "Adding the \"{NEEDED}\" label and removing any existing \"{NONE}\" label because there is a \"{DEPRECATION}\" label on the PR."
    )
}

/// The reply to the deprecated `/release-note` and `/release-note-action-required`.
pub fn deprecated_commands_message() -> String {
    format!(
        "the `/{NOTE}` and `/{ACTION_REQUIRED}` commands have been deprecated.\nPlease edit the `release-note` block in the PR body text to include the release note. If the release note requires additional action include the string `action required` in the release note. For example:\n````\n```release-note\nSome release note with action required.\n```\n````"
    )
}

/// The text of the `release-note` block of `body`, trimmed (empty without one).
pub fn release_note(body: &str) -> String {
    NOTE_RE
        .captures(body)
        .and_then(|c| c.get(1))
        .map_or_else(String::new, |m| m.as_str().trim().to_owned())
}

/// The label a pull request with `body` and `labels` should carry.
pub fn label_for(body: &str, labels: &[String]) -> &'static str {
    let note = release_note(body).to_lowercase();
    let has = |l: &str| labels.iter().any(|x| x == l);
    let none = NONE_RE.is_match(&note);
    match () {
        _ if note.is_empty() && has(DEPRECATION) => NEEDED,
        _ if note.is_empty() && has(NONE) => NONE,
        _ if note.is_empty() => NEEDED,
        _ if none && has(DEPRECATION) => NEEDED,
        _ if none => NONE,
        _ if note.contains("action required") => ACTION_REQUIRED,
        _ => NOTE,
    }
}

/// What is known about a pull request when deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrFacts {
    /// Its description.
    pub body: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// It is merged.
    pub merged: bool,
    /// Some comment on it says `/release-note-none`.
    pub none_commented: bool,
    /// The bot's comments on it: id and text.
    pub bot_comments: Vec<(u64, String)>,
}

/// The actions that keep `org/repo#number`'s release-note label right, given `facts` and the
/// `guidelines` link.
pub fn decide_pr(
    org: &str,
    repo: &str,
    number: u64,
    facts: &PrFacts,
    guidelines: &str,
) -> Vec<Action> {
    let has = |l: &str| facts.labels.iter().any(|x| x == l);
    let mut want = label_for(&facts.body, &facts.labels);
    let mut actions = Vec::new();
    let comment = |text: String| Action::Comment {
        org: org.to_owned(),
        repo: repo.to_owned(),
        number,
        body: crate::respond::format_simple_response(&text),
    };
    if want == NEEDED {
        if facts.merged {
            return actions;
        }
        if has(DEPRECATION) {
            if !has(NEEDED) {
                actions.push(comment(deprecation_message()));
            }
        } else if facts.none_commented {
            want = NONE;
        } else if !has(NEEDED) {
            actions.push(comment(needed_message(guidelines)));
        }
    }
    if !has(want) {
        actions.push(Action::AddLabels {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            labels: vec![want.to_owned()],
        });
    }
    for other in ALL {
        if other != want && has(other) {
            actions.push(Action::RemoveLabel {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                label: other.to_owned(),
            });
        }
    }
    if want != NEEDED {
        let stale = needed_message(guidelines);
        actions.extend(
            facts
                .bot_comments
                .iter()
                .filter(|(_, text)| text.contains(&stale))
                .map(|(id, _)| Action::DeleteComment {
                    org: org.to_owned(),
                    repo: repo.to_owned(),
                    id: *id,
                }),
        );
    }
    actions
}

/// What is known about a `/release-note-none` comment when deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommentFacts {
    /// The commenter belongs to the org.
    pub is_member: bool,
    /// The commenter wrote the pull request.
    pub is_author: bool,
    /// The pull request's description.
    pub pr_body: String,
    /// Its labels.
    pub labels: Vec<String>,
    /// The pull request's link (upstream answers a non-member's `/release-note-edit` there).
    pub issue_url: String,
}

pub use crate::Request;

/// Whether a comment has one of the plugin's commands.
pub fn mentioned(body: &str) -> bool {
    RELEASE_NOTE_EDIT_RE.is_match(body)
        || RELEASE_NOTE_RE.is_match(body)
        || RELEASE_NOTE_NONE_RE.is_match(body)
        || RELEASE_NOTE_ACTION_REQUIRED_RE.is_match(body)
}

/// The reply to `/release-note-edit` by someone outside the org.
pub const EDIT_NOT_MEMBER: &str = "You must be an org member to edit the release note.";
/// The reply to `/release-note-edit` without a release-note block.
pub const EDIT_NEEDS_BLOCK: &str = "/release-note-edit must be used with a release note block.";
/// The reply to `/release-note-edit` when the description has no release-note block.
pub const EDIT_NEEDS_SINGLE_BLOCK: &str =
    "/release-note-edit must be used with a single release note block.";

/// Upstream's `editReleaseNote` splice: `pr_body` with the content of its release-note block
/// replaced by the (trimmed) note of `comment`, between `\r\n`s; the reply instead when either
/// has no block.
pub fn edited_body(comment: &str, pr_body: &str) -> Result<String, &'static str> {
    let note = release_note(comment);
    if note.is_empty() {
        return Err(EDIT_NEEDS_BLOCK);
    }
    let Some(old) = NOTE_RE.captures(pr_body).and_then(|c| c.get(1)) else {
        return Err(EDIT_NEEDS_SINGLE_BLOCK);
    };
    Ok(format!(
        "{}\r\n{note}\r\n{}",
        &pr_body[..old.start()],
        &pr_body[old.end()..]
    ))
}

/// The actions for a release-note command in `request`, given `facts`. As upstream, the first
/// of `/release-note-edit`, `/release-note`, `/release-note-none` and
/// `/release-note-action-required` in the comment decides.
pub fn decide_comment(request: &Request<'_>, facts: &CommentFacts) -> Vec<Action> {
    let (org, repo, number) = (request.org, request.repo, request.number);
    let reply = |text: &str| vec![request.reply(text)];
    if RELEASE_NOTE_EDIT_RE.is_match(request.body) {
        if !facts.is_member {
            return vec![Action::Comment {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                body: crate::respond::format_response_raw(
                    request.body,
                    &facts.issue_url,
                    request.user,
                    EDIT_NOT_MEMBER,
                ),
            }];
        }
        return match edited_body(request.body, &facts.pr_body) {
            Ok(body) => vec![Action::EditBody {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                body,
            }],
            Err(text) => reply(text),
        };
    }
    if RELEASE_NOTE_RE.is_match(request.body) {
        return reply(&deprecated_commands_message());
    }
    if !RELEASE_NOTE_NONE_RE.is_match(request.body) {
        if RELEASE_NOTE_ACTION_REQUIRED_RE.is_match(request.body) {
            return reply(&deprecated_commands_message());
        }
        return Vec::new();
    }
    if !facts.is_member && !facts.is_author {
        return reply(&format!(
            "you can only set the release note label to {NONE} if you are the PR author or an org member."
        ));
    }
    let block = label_for(&facts.pr_body, &facts.labels);
    if block == NOTE || block == ACTION_REQUIRED {
        return reply(&format!(
            "you can only set the release note label to {NONE} if the release-note block in the PR body text is empty or \"none\"."
        ));
    }
    let has = |l: &str| facts.labels.iter().any(|x| x == l);
    if has(DEPRECATION) {
        return reply(&format!(
            "you can not set the release note label to \"{NONE}\" because the PR has the label \"{DEPRECATION}\"."
        ));
    }
    let mut actions = Vec::new();
    if !has(NONE) {
        actions.push(Action::AddLabels {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            labels: vec![NONE.to_owned()],
        });
    }
    for other in ALL {
        if other != NONE && has(other) {
            actions.push(Action::RemoveLabel {
                org: org.to_owned(),
                repo: repo.to_owned(),
                number,
                label: other.to_owned(),
            });
        }
    }
    actions
}

/// The release-note plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReleaseNote;

#[async_trait]
impl Plugin for ReleaseNote {
    fn name(&self) -> &'static str {
        "release-note"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let url = &plugins.release_note.guidelines_url;
        PluginHelp::new(
            format!("The releasenote plugin implements a release note process that uses a markdown 'release-note' code block to associate a release note with a pull request. Until the 'release-note' block in the pull request body is populated the PR will be assigned the '{NEEDED}' label.\n<br>There are three valid types of release notes that can replace this label:\n<ol><li>PRs with a normal release note in the 'release-note' block are given the label '{NOTE}'.</li>\n<li>PRs that have a release note of 'none' in the block are given the label '{NONE}' to indicate that the PR does not warrant a release note.</li>\n<li>PRs that contain 'action required' in their 'release-note' block are given the label '{ACTION_REQUIRED}' to indicate that the PR introduces potentially breaking changes that necessitate user action before upgrading to the release.</li></ol>\nTo use the plugin, in the pull request body text:\n\n```release-note\n<release note content>\n```"),
            &["issue_comment", "pull_request"],
        )
        .command(
            "/release-note-none",
            &format!("Adds the '{NONE}' label to indicate that the PR does not warrant a release note. This is deprecated and ideally <a href=\"{url}\">the release note process</a> should be followed in the PR body instead."),
            "PR Authors and Org Members.",
            &["/release-note-none"],
        )
        .command(
            "/release-note-edit",
            "Replaces the release note block in the top level comment with the provided one.",
            "Org Members.",
            &["/release-note-edit\r\n```release-note\r\nThe new release note\r\n```"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        match event {
            Event::PullRequest(pe) => {
                let wanted = match pe.action.as_str() {
                    "opened" | "edited" | "ready_for_review" => true,
                    "labeled" => pe
                        .label
                        .as_ref()
                        .is_some_and(|l| ALL.contains(&l.name.as_str())),
                    _ => false,
                };
                if !wanted {
                    return Ok(Vec::new());
                }
                let pr = &pe.pull_request;
                let (org, repo, number) =
                    (pe.repository.org(), pe.repository.name.as_str(), pr.number);
                let labels = ctx.github.issue_labels(org, repo, number).await.map_err(
                    PluginError::github(format!("read the labels of {org}/{repo}#{number}")),
                )?;
                let comments = ctx.issue_comments(org, repo, number).await?;
                let facts = PrFacts {
                    body: pr.body.clone().unwrap_or_default(),
                    labels: labels.into_iter().map(|l| l.name).collect(),
                    merged: pr.merged.unwrap_or(false),
                    none_commented: comments.iter().any(|c| {
                        RELEASE_NOTE_NONE_RE.is_match(c.body.as_deref().unwrap_or_default())
                    }),
                    bot_comments: comments
                        .iter()
                        .filter(|c| c.user.login.eq_ignore_ascii_case(ctx.bot))
                        .map(|c| (c.id, c.body.clone().unwrap_or_default()))
                        .collect(),
                };
                Ok(decide_pr(
                    org,
                    repo,
                    number,
                    &facts,
                    &ctx.plugins.release_note.guidelines_url,
                ))
            }
            Event::IssueComment(_) => {
                let Some(gc) = ctx.comment else {
                    return Ok(Vec::new());
                };
                if !gc.is_pr || gc.action != CommentAction::Created || !mentioned(ctx.commands) {
                    return Ok(Vec::new());
                }
                let (org, repo, number, user) = (
                    gc.repo.org(),
                    gc.repo.name.as_str(),
                    gc.number,
                    gc.user.login.as_str(),
                );
                let is_member =
                    ctx.github
                        .is_org_member(org, user)
                        .await
                        .map_err(PluginError::github(format!(
                            "check whether {user} belongs to {org}"
                        )))?;
                let labels = ctx.github.issue_labels(org, repo, number).await.map_err(
                    PluginError::github(format!("read the labels of {org}/{repo}#{number}")),
                )?;
                let facts = CommentFacts {
                    is_member,
                    is_author: gc.issue_author.login.eq_ignore_ascii_case(user),
                    pr_body: gc.issue_body.clone(),
                    labels: labels.into_iter().map(|l| l.name).collect(),
                    issue_url: gc.issue_html_url.clone(),
                };
                let request = Request {
                    org,
                    repo,
                    number,
                    user,
                    body: &gc.body,
                    url: &gc.html_url,
                };
                Ok(decide_comment(&request, &facts))
            }
            _ => Ok(Vec::new()),
        }
    }
}
