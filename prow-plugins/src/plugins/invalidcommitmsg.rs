//! invalidcommitmsg: labels pull requests `do-not-merge/invalid-commit-message` when a commit
//! message or the title holds keywords that close issues, or a commit is a temporary
//! `fixup!`/`amend!`/`squash!` one, with one comment listing every problem (upstream
//! `pkg/plugins/invalidcommitmsg`).
//!
//! On every change (opened, reopened, synchronize, edited) the bot's earlier explanations are
//! deleted and, while problems remain, a fresh one is written; the label follows.

use async_trait::async_trait;
use prow_config::plugins::{InvalidCommitMsg, PluginConfig};
use prow_github::events::Event;
use prow_github::types::CommitInfo;

use crate::commands::GoRegex;
use crate::plugins::dco::sha_list;
use crate::respond::ABOUT_THIS_BOT;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The label (upstream `invalidCommitMsgLabel`).
pub const LABEL: &str = "do-not-merge/invalid-commit-message";
/// What every explaining comment starts with (upstream `invalidCommitMsgCommentMarker`).
pub const MARKER: &str = "<!-- [prow:invalid-commit-message] -->";
/// Texts of upstream's older comments, pruned as well.
pub const LEGACY_MARKERS: [&str; 2] = [
    "**The list of commits with invalid commit messages**:",
    "not allowed in the title of a Pull Request",
];

/// The check of keywords that close issues.
pub const CHECK_CLOSING: &str = "issueClosingKeywords";
/// The check of temporary commits.
pub const CHECK_FIXUP: &str = "fixupPrefix";

/// Keywords that close issues (upstream `CloseIssueRegex`).
pub static CLOSE_ISSUE_RE: GoRegex = GoRegex::new(
    "pkg/plugins/invalidcommitmsg/invalidcommitmsg.go",
    r"((?i)(clos(?:e[sd]?))|(fix(?:(es|ed)?))|(resolv(?:e[sd]?)))[\s:]+(\w+/\w+)?#(\d+)",
);
/// Temporary commits (upstream `fixupCommitRegex`), matched against the subject line.
pub static FIXUP_RE: GoRegex = GoRegex::new(
    "pkg/plugins/invalidcommitmsg/invalidcommitmsg.go",
    r"^(fixup!|amend!|squash!)",
);

/// What is wrong with a pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// Commits whose messages close issues.
    pub closing: Vec<CommitInfo>,
    /// Temporary commits.
    pub fixups: Vec<CommitInfo>,
    /// The title closes issues.
    pub title: bool,
}

impl Findings {
    /// Whether anything is wrong.
    pub fn any(&self) -> bool {
        !self.closing.is_empty() || !self.fixups.is_empty() || self.title
    }
}

/// What the enabled checks of `settings` find in `commits` and `title`.
pub fn check(settings: &InvalidCommitMsg, commits: &[CommitInfo], title: &str) -> Findings {
    let closing = !settings.is_check_disabled(CHECK_CLOSING);
    let fixup = !settings.is_check_disabled(CHECK_FIXUP);
    let mut findings = Findings {
        title: closing && CLOSE_ISSUE_RE.is_match(title),
        ..Findings::default()
    };
    for commit in commits {
        if closing && CLOSE_ISSUE_RE.is_match(&commit.message) {
            findings.closing.push(commit.clone());
        }
        let subject = commit.message.split('\n').next().unwrap_or_default();
        if fixup && FIXUP_RE.is_match(subject) {
            findings.fixups.push(commit.clone());
        }
    }
    findings
}

/// The comment explaining `findings` on a pull request of `org/repo`.
pub fn comment(org: &str, repo: &str, findings: &Findings) -> String {
    let mut sections = Vec::new();
    if !findings.closing.is_empty() {
        sections.push(format!(
            "### Invalid commit messages\n\n[Keywords](https://help.github.com/articles/closing-issues-using-keywords) which can automatically close issues and hashtag(#) mentions are not allowed.\n\n{}",
            sha_list(org, repo, &findings.closing)
        ));
    }
    if !findings.fixups.is_empty() {
        sections.push(format!(
            "### Fixup/amend/squash commits\n\nTemporary commits like fixup!, amend!, or squash! are not allowed.\n\nUse [git rebase --autosquash](https://git-scm.com/docs/git-rebase#Documentation/git-rebase.txt---autosquash) to fix them.\n\n{}",
            sha_list(org, repo, &findings.fixups)
        ));
    }
    if findings.title {
        sections.push("### Invalid PR title\n\n[Keywords](https://help.github.com/articles/closing-issues-using-keywords) are not allowed in PR titles.\n\nUse `/retitle <new-title>` to fix it.".to_owned());
    }
    format!(
        "{MARKER}\n\nInvalid commit message issues detected\n\n{}\n\n{ABOUT_THIS_BOT}",
        sections.join("\n\n")
    )
}

/// Whether a comment of the bot's is one of this plugin's explanations.
pub fn is_explanation(body: &str) -> bool {
    body.contains(MARKER) || LEGACY_MARKERS.iter().any(|m| body.contains(m))
}

/// The actions on `org/repo#number` with `findings`, whether it `has_label`, and the bot's
/// comments (id and text): the label follows the findings, old explanations go, and a new one
/// is written while anything is wrong.
pub fn decide(
    org: &str,
    repo: &str,
    number: u64,
    findings: &Findings,
    has_label: bool,
    bot_comments: &[(u64, String)],
) -> Vec<Action> {
    let wrong = findings.any();
    let mut actions = Vec::new();
    if wrong != has_label {
        actions.push(Action::label(org, repo, number, LABEL, wrong));
    }
    actions.extend(
        bot_comments
            .iter()
            .filter(|(_, body)| is_explanation(body))
            .map(|(id, _)| Action::DeleteComment {
                org: org.to_owned(),
                repo: repo.to_owned(),
                id: *id,
            }),
    );
    if wrong {
        actions.push(Action::Comment {
            org: org.to_owned(),
            repo: repo.to_owned(),
            number,
            body: comment(org, repo, findings),
        });
    }
    actions
}

/// The pull request actions upstream looks at: those that may change the commits or the title.
pub fn changes(action: &str) -> bool {
    matches!(action, "opened" | "reopened" | "synchronize" | "edited")
}

/// The invalidcommitmsg plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct InvalidCommitMsgPlugin;

#[async_trait]
impl Plugin for InvalidCommitMsgPlugin {
    fn name(&self) -> &'static str {
        "invalidcommitmsg"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            format!(
                "The invalidcommitmsg plugin applies the '{LABEL}' label to pull requests whose commit messages and titles contain keywords which can automatically close issues or contain temporary commits such as fixup!, amend!, or squash!"
            ),
            &["pull_request"],
        );
        help.config.insert(
            String::new(),
            "The plugin can be configured per-check using the 'checks' field. Each check can be individually disabled by setting 'disabled: true'. Available checks: 'fixupPrefix' (for fixup!/amend!/squash! commits) and 'issueClosingKeywords' (for issue-closing keywords in titles/commits).".to_owned(),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let Event::PullRequest(pe) = event else {
            return Ok(Vec::new());
        };
        if !changes(&pe.action) {
            return Ok(Vec::new());
        }
        let pr = &pe.pull_request;
        let (org, repo, number) = (pe.repository.org(), pe.repository.name.as_str(), pr.number);
        let settings = ctx.plugins.invalid_commit_msg_for(org, repo);
        let has_label = ctx.has_label(org, repo, number, LABEL).await?;
        let commits = ctx.pull_request_commits(org, repo, number).await?;
        let findings = check(&settings, &commits, &pr.title);
        tracing::debug!(
            plugin = "invalidcommitmsg",
            org,
            repo,
            pr = number,
            closing = findings.closing.len(),
            fixups = findings.fixups.len(),
            title = findings.title,
            "checked the commit messages"
        );
        let comments = ctx.bot_comments(org, repo, number).await?;
        Ok(decide(org, repo, number, &findings, has_label, &comments))
    }
}
