//! yuks: `/joke` replies with a joke (upstream `pkg/plugins/yuks`). Prow asks
//! icanhazdadjoke.com; this plugin tells one of its own, so it needs no network. Anyone may
//! use it.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The jokes.
pub const JOKES: &[&str] = &[
    "Why do programmers prefer dark mode? Because light attracts bugs.",
    "I told my cluster a joke about UDP. I'm not sure it got it.",
    "Why did the pod break up with the node? It needed more space.",
    "There are 10 kinds of people: those who read binary and those who don't.",
    "Why was the YAML file so calm? It had plenty of whitespace.",
    "I would tell you a joke about flaky tests, but it only works sometimes.",
    "Why did the developer go broke? Because he used up all his cache.",
    "What do you call a retry loop with a sense of humour? A running gag.",
    "Why don't bots ever get lonely? They always have a queue.",
    "How many programmers does it take to change a light bulb? None, that's a hardware problem.",
];

/// `/joke` (upstream `match`).
pub static JOKE_RE: GoRegex = GoRegex::new("pkg/plugins/yuks/yuks.go", r"(?mi)^/joke\s*$");

/// Whether `body` asks for a joke.
pub fn requested(body: &str) -> bool {
    JOKE_RE.is_match(body)
}

/// The joke for `seed` (the delivery id).
pub fn joke(seed: &str) -> &'static str {
    crate::fun::pick(JOKES, seed).copied().unwrap_or(JOKES[0])
}

/// The yuks plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct Yuks;

#[async_trait]
impl Plugin for Yuks {
    fn name(&self) -> &'static str {
        "yuks"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The yuks plugin comments with jokes in response to the `/joke` command.",
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/joke",
            "Tells a joke.",
            "Anyone can use the `/joke` command.",
            &["/joke"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created || !requested(ctx.commands) {
            return Ok(Vec::new());
        }
        Ok(vec![Action::Comment {
            org: gc.repo.org().to_owned(),
            repo: gc.repo.name.clone(),
            number: gc.number,
            body: format_response_raw(&gc.body, &gc.html_url, &gc.user.login, joke(ctx.delivery)),
        }])
    }
}
