//! help: `/help` and `/good-first-issue` put `help wanted` and `good first issue` on open
//! issues with the guidelines in reply; `/remove-help` and `/remove-good-first-issue` take
//! them off and delete the bot's guideline replies (upstream `pkg/plugins/help`). Anyone may
//! use the commands; pull requests are left alone.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::Event;

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The help label.
pub const HELP_LABEL: &str = "help wanted";
/// The good-first-issue label.
pub const GOOD_FIRST_ISSUE_LABEL: &str = "good first issue";
/// What the bot's help reply contains, to find it again.
pub const HELP_MARK: &str = "This request has been marked as needing help from a contributor.";
/// What the bot's good-first-issue reply contains, to find it again.
pub const GOOD_FIRST_ISSUE_MARK: &str =
    "This request has been marked as suitable for new contributors.";

/// `/help` (upstream `helpRe`).
pub static HELP_RE: GoRegex = GoRegex::new("pkg/plugins/help/help.go", r"(?mi)^/help\s*$");
/// `/remove-help` (upstream `helpRemoveRe`).
pub static REMOVE_HELP_RE: GoRegex =
    GoRegex::new("pkg/plugins/help/help.go", r"(?mi)^/remove-help\s*$");
/// `/good-first-issue` (upstream `helpGoodFirstIssueRe`).
pub static GOOD_FIRST_ISSUE_RE: GoRegex =
    GoRegex::new("pkg/plugins/help/help.go", r"(?mi)^/good-first-issue\s*$");
/// `/remove-good-first-issue` (upstream `helpGoodFirstIssueRemoveRe`).
pub static REMOVE_GOOD_FIRST_ISSUE_RE: GoRegex = GoRegex::new(
    "pkg/plugins/help/help.go",
    r"(?mi)^/remove-good-first-issue\s*$",
);

/// The guidelines the replies point to (`help.help_guidelines_url` and `_summary`).
#[derive(Debug, Clone, Copy)]
pub struct Guidelines<'a> {
    /// Where they are.
    pub url: &'a str,
    /// Their summary, if any.
    pub summary: &'a str,
}

impl Guidelines<'_> {
    /// The reply to `/help`.
    pub fn help_message(&self) -> String {
        if self.summary.is_empty() {
            format!(
                "\n\t{HELP_MARK}\n\nPlease ensure the request meets the requirements listed [here]({}).\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-help` command.\n",
                self.url
            )
        } else {
            format!(
                "\n\t{HELP_MARK}\n\n### Guidelines\n{}\n\nFor more details on the requirements of such an issue, please see [here]({}) and ensure that they are met.\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-help` command.\n",
                self.summary, self.url
            )
        }
    }

    /// The reply to `/good-first-issue`.
    pub fn good_first_issue_message(&self) -> String {
        if self.summary.is_empty() {
            format!(
                "\n\t{GOOD_FIRST_ISSUE_MARK}\n\nPlease ensure the request meets the requirements listed [here]({}#good-first-issue).\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-good-first-issue` command.\n",
                self.url
            )
        } else {
            format!(
                "\n\t{GOOD_FIRST_ISSUE_MARK}\n\n### Guidelines\n{}\n\nFor more details on the requirements of such an issue, please see [here]({}#good-first-issue) and ensure that they are met.\n\nIf this request no longer meets these requirements, the label can be removed\nby commenting with the `/remove-good-first-issue` command.\n",
                self.summary, self.url
            )
        }
    }
}

/// What is known when deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Facts {
    /// The issue has `help wanted`.
    pub has_help: bool,
    /// The issue has `good first issue`.
    pub has_good_first_issue: bool,
    /// The bot's earlier replies on the issue: id and text.
    pub bot_comments: Vec<(u64, String)>,
}

/// The comment the commands came in.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The repository.
    pub repo: &'a str,
    /// The issue.
    pub number: u64,
    /// The commenter.
    pub user: &'a str,
    /// The comment.
    pub body: &'a str,
    /// The issue's link (Prow links replies to the issue).
    pub issue_url: &'a str,
}

/// Whether `body` has any of the plugin's commands.
pub fn mentioned(body: &str) -> bool {
    [
        &HELP_RE,
        &REMOVE_HELP_RE,
        &GOOD_FIRST_ISSUE_RE,
        &REMOVE_GOOD_FIRST_ISSUE_RE,
    ]
    .iter()
    .any(|re| re.is_match(body))
}

/// The actions for `request` on an open issue, given `facts` and the `guidelines`. One
/// command is acted on, in Prow's order: remove-help, good-first-issue, help,
/// remove-good-first-issue.
pub fn decide(request: &Request<'_>, facts: &Facts, guidelines: &Guidelines<'_>) -> Vec<Action> {
    let body = request.body;
    let (org, repo, number) = (
        request.org.to_owned(),
        request.repo.to_owned(),
        request.number,
    );
    let remove = |label: &str| Action::RemoveLabel {
        org: org.clone(),
        repo: repo.clone(),
        number,
        label: label.to_owned(),
    };
    let add = |label: &str| Action::AddLabels {
        org: org.clone(),
        repo: repo.clone(),
        number,
        labels: vec![label.to_owned()],
    };
    let reply = |text: &str| Action::Comment {
        org: org.clone(),
        repo: repo.clone(),
        number,
        body: format_response_raw(request.body, request.issue_url, request.user, text),
    };
    let prune = |mark: &str| -> Vec<Action> {
        facts
            .bot_comments
            .iter()
            .filter(|(_, text)| text.contains(mark))
            .map(|(id, _)| Action::DeleteComment {
                org: org.clone(),
                repo: repo.clone(),
                id: *id,
            })
            .collect()
    };
    let mut actions = Vec::new();
    if facts.has_help && REMOVE_HELP_RE.is_match(body) {
        actions.push(remove(HELP_LABEL));
        actions.extend(prune(HELP_MARK));
        if facts.has_good_first_issue {
            actions.push(remove(GOOD_FIRST_ISSUE_LABEL));
            actions.extend(prune(GOOD_FIRST_ISSUE_MARK));
        }
    } else if !facts.has_good_first_issue && GOOD_FIRST_ISSUE_RE.is_match(body) {
        actions.push(reply(&guidelines.good_first_issue_message()));
        actions.push(add(GOOD_FIRST_ISSUE_LABEL));
        if !facts.has_help {
            actions.push(add(HELP_LABEL));
        }
    } else if !facts.has_help && HELP_RE.is_match(body) {
        actions.push(reply(&guidelines.help_message()));
        actions.push(add(HELP_LABEL));
    } else if facts.has_good_first_issue && REMOVE_GOOD_FIRST_ISSUE_RE.is_match(body) {
        actions.push(remove(GOOD_FIRST_ISSUE_LABEL));
        actions.extend(prune(GOOD_FIRST_ISSUE_MARK));
    }
    actions
}

/// The help plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Help;

#[async_trait]
impl Plugin for Help {
    fn name(&self) -> &'static str {
        "help"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            format!("The help plugin provides commands that add or remove the '{HELP_LABEL}' and the '{GOOD_FIRST_ISSUE_LABEL}' labels from issues."),
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/[remove-](help|good-first-issue)",
            &format!("Applies or removes the '{HELP_LABEL}' and '{GOOD_FIRST_ISSUE_LABEL}' labels to an issue."),
            "Anyone can trigger this command on a PR.",
            &["/help", "/remove-help", "/good-first-issue", "/remove-good-first-issue"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.is_pr || !gc.is_new_on_open() {
            return Ok(Vec::new());
        }
        if !mentioned(ctx.commands) {
            return Ok(Vec::new());
        }
        let (org, repo, number) = (gc.repo.org(), gc.repo.name.as_str(), gc.number);
        let labels =
            ctx.github
                .issue_labels(org, repo, number)
                .await
                .map_err(PluginError::github(format!(
                    "read the labels of {org}/{repo}#{number}"
                )))?;
        let has = |name: &str| labels.iter().any(|l| l.name.eq_ignore_ascii_case(name));
        let mut facts = Facts {
            has_help: has(HELP_LABEL),
            has_good_first_issue: has(GOOD_FIRST_ISSUE_LABEL),
            bot_comments: Vec::new(),
        };
        let removing = REMOVE_HELP_RE.is_match(ctx.commands)
            || REMOVE_GOOD_FIRST_ISSUE_RE.is_match(ctx.commands);
        if removing {
            facts.bot_comments = ctx.bot_comments(org, repo, number).await?;
        }
        let request = Request {
            org,
            repo,
            number,
            user: &gc.user.login,
            body: &gc.body,
            issue_url: &gc.issue_html_url,
        };
        let settings = &ctx.plugins.help;
        let guidelines = Guidelines {
            url: &settings.help_guidelines_url,
            summary: &settings.help_guidelines_summary,
        };
        Ok(decide(&request, &facts, &guidelines))
    }
}
