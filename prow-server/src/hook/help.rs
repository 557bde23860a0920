//! `/plugin-help`: every plugin's help and where each is enabled, in the shape of Prow's
//! `pluginhelp.Help` (deck's command page reads it); and, on an external plugin server,
//! `POST /help`: that plugin's help, as Prow's `externalplugins.ServeExternalPluginHelp`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Front;

pub(super) async fn plugin_help(State(shared): State<Arc<Front>>) -> Json<serde_json::Value> {
    let config = shared.deps.config.current();
    // The same document deck serves at `/plugin-help.js`.
    Json(
        prow_plugins::help_document(
            &shared.plugins,
            &config.plugins,
            &shared.http,
            prow_plugins::EXTERNAL_HELP_DEADLINE,
        )
        .await,
    )
}

/// An external plugin's help. The body lists the repositories it is enabled in (Prow's
/// `[]config.OrgRepo`); it is read to refuse a malformed request, as Prow does, but the help
/// does not depend on it.
pub(super) async fn external_help(
    State(shared): State<Arc<Front>>,
    body: axum::body::Bytes,
) -> Response {
    if let Err(e) = serde_json::from_slice::<Vec<prow_plugins::OrgRepo>>(&body) {
        tracing::warn!(target: "hook", "plugin help request: {e}");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("500 Internal server error unmarshalling request body: {e}"),
        )
            .into_response();
    }
    let config = shared.deps.config.current();
    match shared.plugins.values().next() {
        Some(plugin) => Json(plugin.help(&config.plugins)).into_response(),
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal server error generating plugin help: help provider is nil",
        )
            .into_response(),
    }
}
