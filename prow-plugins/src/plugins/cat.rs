//! cat: `/meow` and `/meowvie` reply with a cat picture (upstream `pkg/plugins/cat`). Prow
//! asks thecatapi.com; this plugin picks from a list of image links, built in or given, so it
//! needs no network. `/meow grumpy` (or `no`) always gets Grumpy Cat. Anyone may use it.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// Grumpy Cat, for `/meow grumpy` and `/meow no`.
pub const GRUMPY: &str =
    "https://upload.wikimedia.org/wikipedia/commons/e/ee/Grumpy_Cat_by_Gage_Skidmore.jpg";

/// The built-in cats.
pub const CATS: &[&str] = &[
    "https://upload.wikimedia.org/wikipedia/commons/3/3a/Cat03.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/4/4d/Cat_November_2010-1a.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/b/bb/Kittyply_edit1.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/e/ee/Grumpy_Cat_by_Gage_Skidmore.jpg",
];

/// `/meow[vie] [category]` (upstream `match`).
pub static MEOW_RE: GoRegex =
    GoRegex::new("pkg/plugins/cat/cat.go", r"(?mi)^/meow(vie)?(?: (.+))?\s*$");
/// The categories that get Grumpy Cat (upstream `grumpyKeywords`).
static GRUMPY_RE: GoRegex = GoRegex::new("pkg/plugins/cat/cat.go", r"(?mi)^(no|grumpy)\s*$");

/// The category of the first `/meow` line (empty for none), or `None` without one.
pub fn requested(body: &str) -> Option<String> {
    MEOW_RE.captures(body).map(|c| {
        c.get(2)
            .map_or_else(String::new, |m| m.as_str().trim().to_owned())
    })
}

/// The reply to a `/meow` with `category`: Grumpy Cat when asked, else the cat of `images`
/// for `seed`.
pub fn reply(category: &str, images: &[String], seed: &str) -> Option<String> {
    if GRUMPY_RE.is_match(category) {
        return Some(format!("![cat image]({GRUMPY})"));
    }
    crate::fun::pick(images, seed).map(|url| format!("![cat image]({url})"))
}

/// The cat plugin with its pictures.
#[derive(Debug, Clone)]
pub struct Cat {
    images: Vec<String>,
}

impl Default for Cat {
    fn default() -> Self {
        Cat::with_images(CATS.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl Cat {
    /// A cat plugin that picks from `images`.
    pub fn with_images(images: Vec<String>) -> Self {
        Cat { images }
    }
}

#[async_trait]
impl Plugin for Cat {
    fn name(&self) -> &'static str {
        "cat"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The cat plugin adds a cat image to an issue or PR in response to the `/meow` command.",
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/meow(vie) [CATegory]",
            "Add a cat image to the issue or PR",
            "Anyone",
            &["/meow", "/meow caturday", "/meowvie clothes"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let Some(category) = requested(ctx.commands) else {
            return Ok(Vec::new());
        };
        let Some(text) = reply(&category, &self.images, ctx.delivery) else {
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
