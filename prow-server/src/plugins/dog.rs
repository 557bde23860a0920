//! dog: `/woof` and `/bark` reply with a dog picture, `/this-is-fine`, `/this-is-not-fine` and
//! `/this-is-unbearable` with their pictures (upstream `pkg/plugins/dog`). Prow asks
//! random.dog; this plugin picks from a list of image links, built in or given, so it needs
//! no network. Anyone may use it.

use std::sync::LazyLock;

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};
use regex::Regex;

use super::respond::format_response_raw;
use super::{Action, Context, Plugin, PluginError, PluginHelp};

/// Where Prow's "this is fine" pictures live.
pub const FINE_ROOT: &str = "https://storage.googleapis.com/this-is-fine-images/";

/// The built-in dogs.
pub const DOGS: &[&str] = &[
    "https://upload.wikimedia.org/wikipedia/commons/2/26/YellowLabradorLooking_new.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/d/d9/Collage_of_Nine_Dogs.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/6/6e/Golde33443.jpg",
];

static WOOF_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?mi)^/(woof|bark)\s*$").expect("valid regex"));
static FINE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?mi)^/this-is-fine\s*$").expect("valid regex"));
static NOT_FINE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?mi)^/this-is-not-fine\s*$").expect("valid regex"));
static UNBEARABLE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?mi)^/this-is-unbearable\s*$").expect("valid regex"));

/// The picture a comment asks for, given the dog `images` and the `seed` (delivery id).
pub fn reply(body: &str, images: &[String], seed: &str) -> Option<String> {
    let body = super::commands::strip_quoted(body);
    let url = if FINE_RE.is_match(&body) {
        format!("{FINE_ROOT}this_is_fine.png")
    } else if NOT_FINE_RE.is_match(&body) {
        format!("{FINE_ROOT}this_is_not_fine.png")
    } else if UNBEARABLE_RE.is_match(&body) {
        format!("{FINE_ROOT}this_is_unbearable.jpg")
    } else if WOOF_RE.is_match(&body) {
        super::fun::pick(images, seed)?.clone()
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
