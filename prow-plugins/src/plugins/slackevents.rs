//! slackevents: tells Slack about manual merges (pushes by users not exempted in
//! `slack.mergewarnings`) and repeats SIG team mentions in the SIG's channel when it is one of
//! `slack.mentionchannels` (upstream `pkg/plugins/slackevents`).
//!
//! As upstream, messages go out with `chat.postMessage` and the bot token of hook's
//! `--slack-token-file` (the [`SlackClient`] crier's Slack reporter uses), one per channel, in
//! upstream's words. Without a token the plugin only logs what it would post.
//!
//! Push events carry no `pusher` here, so only the sender is matched against the exemptions.

use async_trait::async_trait;
use prow_config::plugins::{MergeWarning, PluginConfig, Slack};
use prow_github::events::{CommentAction, Event, GenericCommentEvent, PushEvent};

use prow_jobs::crier::{SlackClient, SlackMessage};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

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
    client: Option<SlackClient>,
}

impl SlackEvents {
    /// The plugin posting with `client` (none: log only).
    pub fn new(client: Option<SlackClient>) -> Self {
        SlackEvents { client }
    }

    async fn post(&self, messages: Vec<Message>) -> Result<(), PluginError> {
        for message in messages {
            let Some(client) = &self.client else {
                tracing::info!(target: "hook", plugin = "slackevents", channel = %message.channel, "no Slack token configured (--slack-token-file); would post: {}", message.text);
                continue;
            };
            client
                .post(&SlackMessage::new("", &message.channel, &message.text))
                .await
                .map_err(PluginError::Other)?;
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
