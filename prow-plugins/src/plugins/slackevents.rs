//! slackevents: tells Slack about manual merges (pushes by users not exempted in
//! `slack.mergewarnings`) and repeats SIG team mentions in the SIG's channel when it is one of
//! `slack.mentionchannels` (upstream `pkg/plugins/slackevents`).
//!
//! Upstream posts with a Slack token; this plugin posts to a Slack incoming-webhook URL, one
//! `{"channel": ..., "text": ...}` message per channel, in upstream's words. The URL is given
//! to [`SlackEvents::new`]; [`SlackEvents::from_env`] (what `prow hook` registers) reads it
//! from `PROW_SLACK_WEBHOOK_URL`. Without a URL the plugin only logs what it would post.
//!
//! Push events carry no `pusher` here, so only the sender is matched against the exemptions.

use async_trait::async_trait;
use prow_config::plugins::{MergeWarning, PluginConfig, Slack};
use prow_github::events::{CommentAction, Event, GenericCommentEvent, PushEvent};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The environment variable [`SlackEvents::from_env`] reads the webhook URL from.
pub const WEBHOOK_ENV: &str = "PROW_SLACK_WEBHOOK_URL";

/// A `@kubernetes/sig-<name>-<group>` mention (upstream `sigMatcher`).
static SIG_MENTION: GoRegex = GoRegex::new(
    "pkg/plugins/slackevents/slackevents.go",
    r"(?m)@kubernetes/sig-([\w-]*)-(misc|test-failures|bugs|feature-requests|proposals|pr-reviews|api-reviews)",
);

/// One message for one Slack channel.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Message {
    /// The channel.
    pub channel: String,
    /// The text, Slack markup.
    pub text: String,
}

/// The merge-warning rule for `org/repo`: one naming the repo wins over one naming the org.
pub fn merge_warning<'a>(config: &'a Slack, org: &str, repo: &str) -> Option<&'a MergeWarning> {
    let full = format!("{org}/{repo}");
    config
        .mergewarnings
        .iter()
        .find(|mw| mw.repos.contains(&full))
        .or_else(|| {
            config
                .mergewarnings
                .iter()
                .find(|mw| mw.repos.iter().any(|r| r == org))
        })
}

/// Whether `user` may push to `branch` without a warning.
pub fn exempted(rule: &MergeWarning, branch: &str, user: &str) -> bool {
    rule.exempt_users
        .iter()
        .chain(rule.exempt_branches.get(branch).into_iter().flatten())
        .any(|login| login.eq_ignore_ascii_case(user))
}

/// The warnings for a push (upstream's texts), none when the pusher is exempted or the repo
/// has no rule.
pub fn push_messages(config: &Slack, push: &PushEvent) -> Vec<Message> {
    let (org, repo) = (push.repository.org(), push.repository.name.as_str());
    let Some(rule) = merge_warning(config, org, repo) else {
        return Vec::new();
    };
    let user = push.sender.login.as_str();
    let branch = push.branch();
    if exempted(rule, branch, user) {
        return Vec::new();
    }
    let compare = &push.compare;
    let text = if push.created {
        format!("*Warning:* {user} (<@{user}>) pushed a new branch ({branch}): {compare}")
    } else if push.deleted {
        format!("*Warning:* {user} (<@{user}>) deleted a branch ({branch}): {compare}")
    } else if push.forced {
        format!(
            "*Warning:* {user} (<@{user}>) *force* merged {} commit(s) into {branch}: {compare}",
            push.commits.len()
        )
    } else {
        format!(
            "*Warning:* {user} (<@{user}>) manually merged {} commit(s) into {branch}: {compare}",
            push.commits.len()
        )
    };
    rule.channels
        .iter()
        .map(|channel| Message {
            channel: channel.clone(),
            text: text.clone(),
        })
        .collect()
}

/// The SIG mentions of a new comment repeated in the SIG's channel, when it is configured and
/// the comment is not the bot's.
pub fn mention_messages(config: &Slack, gc: &GenericCommentEvent, bot: &str) -> Vec<Message> {
    if gc.action != CommentAction::Created || gc.user.login.eq_ignore_ascii_case(bot) {
        return Vec::new();
    }
    let user = &gc.user.login;
    SIG_MENTION
        .captures_iter(&gc.body)
        .filter_map(|m| {
            let sig = format!("sig-{}", &m[1]);
            config.mentionchannels.contains(&sig).then(|| Message {
                text: format!(
                    "{sig} was mentioned by {user} (<@{user}>) on GitHub. ({})\n>>>{}",
                    gc.html_url, gc.body
                ),
                channel: sig,
            })
        })
        .collect()
}

/// The slackevents plugin.
#[derive(Debug, Clone, Default)]
pub struct SlackEvents {
    webhook: Option<String>,
    http: reqwest::Client,
}

impl SlackEvents {
    /// The plugin posting to `webhook` (none: log only).
    pub fn new(webhook: Option<String>) -> Self {
        SlackEvents {
            webhook,
            http: reqwest::Client::new(),
        }
    }

    /// The plugin posting to the URL in `PROW_SLACK_WEBHOOK_URL`, if set.
    pub fn from_env() -> Self {
        Self::new(std::env::var(WEBHOOK_ENV).ok().filter(|u| !u.is_empty()))
    }

    async fn post(&self, messages: Vec<Message>) -> Result<(), PluginError> {
        for message in messages {
            let Some(url) = &self.webhook else {
                tracing::info!(target: "hook", plugin = "slackevents", channel = %message.channel, "no Slack webhook configured ({WEBHOOK_ENV}); would post: {}", message.text);
                continue;
            };
            let fail = |why: String| {
                PluginError::Other(format!(
                    "post a message to Slack channel {}: {why}",
                    message.channel
                ))
            };
            let body = serde_json::to_vec(&message).map_err(|e| fail(e.to_string()))?;
            let response = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body)
                .send()
                .await
                .map_err(|e| fail(e.to_string()))?;
            if !response.status().is_success() {
                return Err(fail(format!("Slack answered {}", response.status())));
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Plugin for SlackEvents {
    fn name(&self) -> &'static str {
        "slackevents"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The slackevents plugin reacts to various GitHub events by commenting in Slack channels.\n<ol><li>The plugin can create comments to alert on manual merges. Manual merges are merges made by a normal user instead of a bot or trusted user.</li>\n<li>The plugin can create comments to reiterate SIG mentions like '@kubernetes/sig-testing-bugs' from GitHub.</li></ol>",
            &[
                "push",
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        );
        help.config.insert(
            String::new(),
            format!(
                "SIG mentions on GitHub are reiterated for the following SIG Slack channels: {}.",
                plugins.slack.mentionchannels.join(", ")
            ),
        );
        for rule in &plugins.slack.mergewarnings {
            let text = format!(
                "In this repo merges are considered manual and trigger manual merge warnings if the user who merged is not a member of this universal exemption list: {} or merged to a branch they are not specifically exempted for: {:?}.<br>Warnings are sent to the following Slack channels: {}.",
                rule.exempt_users.join(", "),
                rule.exempt_branches.0,
                rule.channels.join(", ")
            );
            for repo in &rule.repos {
                help.config.insert(repo.clone(), text.clone());
            }
        }
        help
    }

    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError> {
        let messages = match event {
            Event::Push(push) => push_messages(&ctx.plugins.slack, push),
            _ => match ctx.comment {
                Some(gc) => mention_messages(&ctx.plugins.slack, gc, ctx.bot),
                None => Vec::new(),
            },
        };
        self.post(messages).await?;
        Ok(Vec::new())
    }
}
