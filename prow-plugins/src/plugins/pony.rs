//! pony: `/pony [name]` replies with a pony picture (upstream `pkg/plugins/pony`). Prow asks
//! theponyapi.com; this plugin picks from a list of named image links, built in or given, so
//! it needs no network. A name picks a pony whose name contains it. Anyone may use it.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// The reply when no pony has the name asked for.
pub const NO_MATCH: &str = "Couldn't find a pony matching given tag(s).";

/// The built-in ponies: name and picture.
pub const PONIES: &[(&str, &str)] = &[
    (
        "Shetland pony",
        "https://upload.wikimedia.org/wikipedia/commons/6/6a/Shetland_Pony_on_Belstone_Common%2C_Dartmoor.jpg",
    ),
    (
        "Welsh pony",
        "https://upload.wikimedia.org/wikipedia/commons/1/1f/Welsh_Pony_Section_A.jpg",
    ),
    (
        "Dartmoor pony",
        "https://upload.wikimedia.org/wikipedia/commons/0/0c/Dartmoor_pony.jpg",
    ),
];

/// `/pony [name]` (upstream `match`).
pub static PONY_RE: GoRegex = GoRegex::new(
    "pkg/plugins/pony/pony.go",
    r"(?mi)^/(?:pony)(?: +(.+?))?\s*$",
);

/// Upstream's `maxPonies`: the most `/pony` lines one comment gets answers for.
pub const MAX_PONIES: usize = 5;

/// The names asked for by each `/pony` line of `body` (empty for any pony), the first
/// [`MAX_PONIES`] of them.
pub fn requested(body: &str) -> Vec<String> {
    PONY_RE
        .captures_iter(body)
        .take(MAX_PONIES)
        .map(|c| c.get(1).map_or_else(String::new, |m| m.as_str().to_owned()))
        .collect()
}

/// The reply to `names` from `ponies` (name, link), `seed` choosing among the candidates.
pub fn reply(names: &[String], ponies: &[(String, String)], seed: &str) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    for name in names {
        let wanted = name.to_lowercase();
        let candidates: Vec<&(String, String)> = ponies
            .iter()
            .filter(|(n, _)| n.to_lowercase().contains(&wanted))
            .collect();
        let Some((_, url)) = crate::fun::pick(&candidates, seed).copied() else {
            return Some(NO_MATCH.to_owned());
        };
        lines.push(format!("[![pony image]({url})]({url})"));
    }
    Some(lines.join("\n"))
}

/// The pony plugin with its pictures.
#[derive(Debug, Clone)]
pub struct Pony {
    images: Vec<(String, String)>,
}

impl Default for Pony {
    fn default() -> Self {
        Pony::with_images(
            PONIES
                .iter()
                .map(|(n, u)| ((*n).to_owned(), (*u).to_owned()))
                .collect(),
        )
    }
}

impl Pony {
    /// A pony plugin that picks from `images`: name and link.
    pub fn with_images(images: Vec<(String, String)>) -> Self {
        Pony { images }
    }
}

#[async_trait]
impl Plugin for Pony {
    fn name(&self) -> &'static str {
        "pony"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The pony plugin adds a pony image to an issue or PR in response to the `/pony` command.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/(pony) [pony]",
            "Add a little pony image to the issue or PR. A particular pony can optionally be named for a picture of that specific pony.",
            "Anyone",
            &["/pony", "/pony Twilight Sparkle"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let Some(text) = reply(&requested(ctx.commands), &self.images, ctx.delivery) else {
            return Ok(Vec::new());
        };
        Ok(vec![Action::Comment {
            org: gc.repo.org().to_owned(),
            repo: gc.repo.name.clone(),
            number: gc.number,
            body: format_response_raw(&gc.body, &gc.html_url, &gc.user.login, &text),
        }])
    }
}
