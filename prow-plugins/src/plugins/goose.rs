//! goose: `/honk` replies with a goose picture (upstream `pkg/plugins/goose`). Upstream asks
//! unsplash.com with the API key in `goose.key_path`; we ask `goose.endpoint` when set (our
//! extension), else unsplash.com when a key is configured, and fall back to built-in pictures
//! when there is neither or the endpoint fails, so the plugin works offline. Anyone may use it.
//!
//! Deviation: upstream also checks the image's size with a HEAD request; we do not.

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::events::{CommentAction, Event};

use crate::Action;
use crate::commands::GoRegex;
use crate::{Context, Plugin, PluginError, PluginHelp, Request};

/// `/honk` (upstream `match`).
pub static HONK_RE: GoRegex = GoRegex::new("pkg/plugins/goose/goose.go", r"(?mi)^/(honk)\s*$");

/// Upstream's image endpoint, used when `key_path` is set and `endpoint` is not.
pub const UNSPLASH: &str = "https://api.unsplash.com/photos/random?query=goose";

/// The reply when no goose could be found (upstream's).
pub const NO_GOOSE: &str = "Unable to find goose. Have you checked the garden?";

/// The built-in geese.
pub const GEESE: &[&str] = &[
    "https://upload.wikimedia.org/wikipedia/commons/3/39/Domestic_Goose.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/2/2d/Anser_anser_1_%28Martin_Mecnarowski%29.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/4/45/Canada_goose_on_Seedskadee_NWR_%2827826185489%29.jpg",
];

/// Whether `body` asks for a goose.
pub fn requested(body: &str) -> bool {
    HONK_RE.is_match(body)
}

/// The endpoint to ask, with the API key read from `key_path` (upstream appends it as
/// `client_id`); `None` to use the built-in geese.
pub fn endpoint(settings: &prow_config::plugins::Goose) -> Option<String> {
    let key = if settings.key_path.is_empty() {
        String::new()
    } else {
        match std::fs::read_to_string(&settings.key_path) {
            Ok(key) => key.trim().to_owned(),
            Err(e) => {
                tracing::error!(plugin = "goose", path = %settings.key_path, error = %e, "failed to read the key");
                String::new()
            }
        }
    };
    let base = if !settings.endpoint.is_empty() {
        settings.endpoint.clone()
    } else if !key.is_empty() {
        UNSPLASH.to_owned()
    } else {
        return None;
    };
    if key.is_empty() {
        return Some(base);
    }
    let mut url = reqwest::Url::parse(&base).ok()?;
    url.query_pairs_mut().append_pair("client_id", &key);
    Some(url.into())
}

/// The reply's text for `image` (`None`: no goose found).
pub fn reply_text(image: Option<&str>) -> String {
    image.map_or_else(|| NO_GOOSE.to_owned(), |i| format!("\n![goose image]({i})"))
}

/// The goose plugin with its built-in pictures.
#[derive(Debug, Clone)]
pub struct Goose {
    pictures: crate::fun::Pictures,
}

impl Default for Goose {
    fn default() -> Self {
        Goose::with_fallback(GEESE.iter().map(|s| (*s).to_owned()).collect())
    }
}

impl Goose {
    /// A goose plugin whose built-in pictures are `fallback`.
    pub fn with_fallback(fallback: Vec<String>) -> Self {
        Goose {
            pictures: crate::fun::Pictures::new(fallback),
        }
    }
}

#[async_trait]
impl Plugin for Goose {
    fn name(&self) -> &'static str {
        "goose"
    }

    fn help(&self, plugins: &PluginConfig) -> PluginHelp {
        let mut help = PluginHelp::new(
            "The goose plugin adds a goose image to an issue or PR in response to the `/honk` command.",
            &["issue_comment", "pull_request_review", "pull_request_review_comment"],
        )
        .command("/honk", "Add a goose image to the issue or PR", "Anyone", &["/honk"]);
        help.config.insert(
            String::new(),
            format!(
                "The goose plugin uses an api key for unsplash.com stored in {}.",
                plugins.goose.key_path
            ),
        );
        help
    }

    async fn handle(&self, ctx: &Context<'_>, _event: &Event) -> Result<Vec<Action>, PluginError> {
        let Some(gc) = ctx.comment else {
            return Ok(Vec::new());
        };
        if gc.action != CommentAction::Created || !requested(ctx.commands) {
            return Ok(Vec::new());
        }
        let endpoint = endpoint(&ctx.plugins.goose);
        let image = self
            .pictures
            .image("goose", endpoint.as_deref(), ctx.delivery)
            .await;
        Ok(vec![Request::of(gc).reply(&reply_text(image.as_deref()))])
    }
}
