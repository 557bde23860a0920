//! dog: `/woof` and `/bark` reply with a dog picture, `/this-is-fine`, `/this-is-not-fine` and
//! `/this-is-unbearable` with their pictures (upstream `pkg/plugins/dog`). Prow asks
//! random.dog; this plugin picks from a list of image links, built in or given, so it needs
//! no network. Anyone may use it.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::respond::format_response_raw;
use crate::{Action, Context, Plugin, PluginError, PluginHelp};

/// Where Prow's "this is fine" pictures live.
pub const FINE_ROOT: &str = "https://storage.googleapis.com/this-is-fine-images/";

/// The built-in dogs.
pub const DOGS: &[&str] = &[
    "https://upload.wikimedia.org/wikipedia/commons/2/26/YellowLabradorLooking_new.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/d/d9/Collage_of_Nine_Dogs.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/6/6e/Golde33443.jpg",
];

/// `/woof` and `/bark` (upstream `match`).
pub static WOOF_RE: GoRegex = GoRegex::new("pkg/plugins/dog/dog.go", r"(?mi)^/(woof|bark)\s*$");
/// `/this-is-fine` (upstream `fineRegex`).
pub static FINE_RE: GoRegex = GoRegex::new("pkg/plugins/dog/dog.go", r"(?mi)^/this-is-fine\s*$");
/// `/this-is-not-fine` (upstream `notFineRegex`).
pub static NOT_FINE_RE: GoRegex =
    GoRegex::new("pkg/plugins/dog/dog.go", r"(?mi)^/this-is-not-fine\s*$");
/// `/this-is-unbearable` (upstream `unbearableRegex`).
pub static UNBEARABLE_RE: GoRegex =
    GoRegex::new("pkg/plugins/dog/dog.go", r"(?mi)^/this-is-unbearable\s*$");

/// The picture a comment asks for, given the dog `images` and the `seed` (delivery id).
pub fn reply(body: &str, images: &[String], seed: &str) -> Option<String> {
    // Upstream asks for a dog first and looks for the famous ones only without `/woof`.
    let url = if WOOF_RE.is_match(body) {
        crate::fun::pick(images, seed)?.clone()
    } else if FINE_RE.is_match(body) {
        format!("{FINE_ROOT}this_is_fine.png")
    } else if NOT_FINE_RE.is_match(body) {
        format!("{FINE_ROOT}this_is_not_fine.png")
    } else if UNBEARABLE_RE.is_match(body) {
        format!("{FINE_ROOT}this_is_unbearable.jpg")
    } else {
        return None;
    };
    Some(format!("[![dog image]({url})]({url})"))
}

/// The dog plugin with its pictures.
#[derive(Debug, Clone)]
pub struct Dog {
    images: Vec<String>,
}

impl Default for Dog {
    fn default() -> Self {
        Dog::with_images(DOGS.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl Dog {
    /// A dog plugin that picks from `images`.
    pub fn with_images(images: Vec<String>) -> Self {
        Dog { images }
    }
}

#[async_trait]
impl Plugin for Dog {
    fn name(&self) -> &'static str {
        "dog"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The dog plugin adds a dog image to an issue or PR in response to the `/woof` command.",
            &[
                "issue_comment",
                "pull_request_review",
                "pull_request_review_comment",
            ],
        )
        .command(
            "/(woof|bark|this-is-{fine|not-fine|unbearable})",
            "Add a dog image to the issue or PR",
            "Anyone",
            &["/woof", "/bark", "/this-is-{fine|not-fine|unbearable}"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created {
            return Ok(Vec::new());
        }
        let Some(text) = reply(ctx.commands, &self.images, ctx.delivery) else {
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
