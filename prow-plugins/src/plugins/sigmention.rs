//! sigmention: a mention of a SIG team (`@kubernetes/sig-testing-bugs`) labels the issue or
//! pull request `sig/testing` (and `kind/bug` for the team's kind), and, when the author is not
//! an org member (whose mentions GitHub does not notify), repeats the mentions in a reply
//! (upstream `pkg/plugins/sigmention`).
//!
//! Only labels the repository has are added, spelt as the repository spells them.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};
use regex::Regex;

use crate::{Action, Context, Plugin, PluginError, PluginHelp, Request};

/// The team-mention regexp when `sigmention.regexp` is unset (upstream's default).
pub const DEFAULT_REGEXP: &str = r"(?m)@kubernetes/sig-([\w-]*)-(misc|test-failures|bugs|feature-requests|proposals|pr-reviews|api-reviews)";

/// The reply's text, before the mentions (upstream `chatBack`).
pub const CHAT_BACK: &str = "Reiterating the mentions to trigger a notification: \n";

/// The kind label of a team suffix (upstream `kindMap`).
pub fn kind_label(suffix: &str) -> Option<&'static str> {
    match suffix {
        "bugs" => Some("kind/bug"),
        "feature-requests" => Some("kind/feature"),
        "api-reviews" => Some("kind/api-change"),
        "proposals" => Some("kind/design"),
        _ => None,
    }
}

/// The configured mention regexp (read as Go reads it: `\w` is ASCII), or the default; `None`
/// (logged) when it does not compile.
pub fn regexp(plugins: &PluginConfig) -> Option<std::sync::Arc<Regex>> {
    let pattern = if plugins.sigmention.regexp.is_empty() {
        DEFAULT_REGEXP
    } else {
        &plugins.sigmention.regexp
    };
    prow_config::goregex::shared(pattern)
        .inspect_err(|e| tracing::error!(plugin = "sigmention", pattern, error = %e, "failed to compile the mention regexp"))
        .ok()
}

/// What is known when deciding.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The issue's labels.
    pub labels: Vec<String>,
    /// The repository's labels.
    pub repo_labels: Vec<String>,
    /// The commenter is a member of the org.
    pub member: bool,
}

/// The actions for the mentions `re` finds in `request`'s comment.
pub fn decide(re: &Regex, request: &Request<'_>, facts: &Facts) -> Vec<Action> {
    let has = |l: &str| facts.labels.iter().any(|x| x.eq_ignore_ascii_case(l));
    let existing = |l: &str| {
        facts
            .repo_labels
            .iter()
            .find(|x| x.eq_ignore_ascii_case(l))
            .cloned()
    };
    let mut add: Vec<String> = Vec::new();
    let mut repeat = Vec::new();
    for m in re.captures_iter(request.body) {
        let sig = m.get(1).map_or("", |g| g.as_str());
        let Some(label) = existing(&format!("sig/{sig}")) else {
            tracing::info!(plugin = "sigmention", label = %format!("sig/{sig}"), "the repository has no such label");
            continue;
        };
        if !has(&label) && !add.contains(&label) {
            add.push(label);
        }
        if let Some(kind) = m.get(2).and_then(|k| kind_label(k.as_str()))
            && !has(kind)
            && !add.iter().any(|a| a == kind)
        {
            add.push(kind.to_owned());
        }
        repeat.push(m.get(0).map_or("", |g| g.as_str()).to_owned());
    }
    let mut actions = Vec::new();
    if !add.is_empty() {
        actions.push(request.add_labels(add));
    }
    if !facts.member && !repeat.is_empty() {
        actions.push(request.reply(&format!("{CHAT_BACK}{}\n", repeat.join(", "))));
    }
    actions
}

/// The sigmention plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct SigMention;

#[async_trait]
impl Plugin for SigMention {
    fn name(&self) -> &'static str {
        "sigmention"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The sigmention plugin responds to SIG (Special Interest Group) GitHub team mentions like '@kubernetes/sig-testing-bugs'. The plugin responds in two ways:\n<ol><li> The appropriate 'sig/*' and 'kind/*' labels are applied to the issue or pull request. In this case 'sig/testing' and 'kind/bug'.</li>\n<li> If the user who mentioned the GitHub team is not a member of the organization that owns the repository the bot will create a comment that repeats the mention. This is necessary because non-member mentions do not trigger GitHub notifications.</li></ol>",
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        );
        let pattern = if plugins.sigmention.regexp.is_empty() {
            DEFAULT_REGEXP
        } else {
            &plugins.sigmention.regexp
        };
        help.config.insert(
            String::new(),
            format!("Labels added by the plugin are triggered by mentions of GitHub teams matching the following regexp:\n{pattern}"),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.user.login.eq_ignore_ascii_case(ctx.bot) || gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let Some(re) = regexp(ctx.plugins) else {
            return Ok(Vec::new());
        };
        // Mentions are not commands: the whole comment counts.
        if !re.is_match(&gc.body) {
            return Ok(Vec::new());
        }
        let (org, repo) = (gc.repo.org(), gc.repo.name.as_str());
        let labels = ctx.labels(org, repo, gc.number).await?;
        let repo_labels = ctx.repo_labels(org, repo).await?;
        let member = match ctx.github.is_org_member(org, &gc.user.login).await {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(plugin = "sigmention", org, user = %gc.user.login, error = %e, "failed to check membership");
                false
            }
        };
        let facts = Facts {
            labels,
            repo_labels,
            member,
        };
        Ok(decide(&re, &Request::of(gc), &facts))
    }
}
