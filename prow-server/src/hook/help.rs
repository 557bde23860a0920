//! `/plugin-help`: every plugin's help and where each is enabled, in the shape of Prow's
//! `pluginhelp.Help` (deck's command page reads it).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;

use super::Front;

pub(super) async fn plugin_help(State(shared): State<Arc<Front>>) -> Json<serde_json::Value> {
    let config = shared.deps.config.current();
    // The same document deck serves at `/plugin-help.js`.
    Json(prow_plugins::help_document(
        &shared.plugins,
        &config.plugins,
    ))
}
