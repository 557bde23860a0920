//! trick-or-treat: `/trick-or-treat` (or `/trickortreat`) replies with a candy picture
//! (upstream `pkg/plugins/trick-or-treat`). Upstream picks from a fixed list of links; we pick
//! from built-in links too, or ask `trick_or_treat.endpoint` (our extension, unsplash.com's
//! random-photo JSON) first when it is set, falling back to the built-in links when it fails.
//! Anyone may use it.
//!
//! Deviation: upstream checks each image's size with a HEAD request; we do not.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::commands::GoRegex;
use crate::{Action, Context, Plugin, PluginError, PluginHelp, Request};

/// `/trick(-)or(-)treat` (upstream `match`).
pub static TRICK_OR_TREAT_RE: GoRegex = GoRegex::new(
    "pkg/plugins/trick-or-treat/trick-or-treat.go",
    r"(?mi)^/trick(\-)?or(\-)?treat(?: (.+))?\s*$",
);

/// The built-in candies (from upstream's curated list).
pub const CANDIES: &[&str] = &[
    "https://images.pexels.com/photos/1906435/pexels-photo-1906435.jpeg?cs=srgb&dl=fruit-candies-1906435.jpg&fm=jpg",
    "https://static.pexels.com/photos/539447/pexels-photo-539447.jpeg",
    "https://cdn.pixabay.com/photo/2015/04/23/02/21/candy-735595_960_720.jpg",
];

/// Whether `body` asks for a treat.
pub fn requested(body: &str) -> bool {
    TRICK_OR_TREAT_RE.is_match(body)
}

/// The reply's text for `image`.
pub fn reply_text(image: &str) -> String {
    format!("![candy image]({image})")
}

/// The trick-or-treat plugin with its built-in pictures.
#[derive(Debug, Clone)]
pub struct TrickOrTreat {
    pictures: crate::fun::Pictures,
}

impl Default for TrickOrTreat {
    fn default() -> Self {
        TrickOrTreat::with_fallback(CANDIES.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl TrickOrTreat {
    /// A trick-or-treat plugin whose built-in pictures are `fallback`.
    pub fn with_fallback(fallback: Vec<String>) -> Self {
        TrickOrTreat {
            pictures: crate::fun::Pictures::new(fallback),
        }
    }
}

#[async_trait]
impl Plugin for TrickOrTreat {
    fn name(&self) -> &'static str {
        "trick-or-treat"
    }

    fn help(&self, _: &PluginConfig) -> PluginHelp {
        PluginHelp::new(
            "The trick-or-treat plugin adds a candy image to an issue or PR in response to the `/trick-or-treat` command.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command(
            "/trick(-)or(-)treat",
            "Add a candy image to the issue or PR",
            "Anyone",
            &["/trick-or-treat", "/trickortreat"],
        )
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created || !requested(ctx.commands) {
            return Ok(Vec::new());
        }
        let endpoint = &ctx.plugins.trick_or_treat.endpoint;
        let endpoint = (!endpoint.is_empty()).then_some(endpoint.as_str());
        let Some(image) = self
            .pictures
            .image("trick-or-treat", endpoint, ctx.delivery)
            .await
        else {
            return Err(PluginError::Other(
                "could not find a valid candy image".to_owned(),
            ));
        };
        Ok(vec![Request::of(gc).reply(&reply_text(&image))])
    }
}
