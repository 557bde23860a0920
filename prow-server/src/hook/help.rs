//! `/plugin-help`: every plugin's help and where each is enabled, in the shape of Prow's
//! `pluginhelp.Help` (deck's command page reads it).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::Front;
use crate::plugins::PluginHelp;

/// Prow's `pluginhelp.Help`.
#[derive(Debug, Serialize)]
struct Help {
    #[serde(rename = "AllRepos")]
    all_repos: Vec<String>,
    #[serde(rename = "RepoPlugins")]
    repo_plugins: BTreeMap<String, Vec<String>>,
    #[serde(rename = "RepoExternalPlugins")]
    repo_external_plugins: BTreeMap<String, Vec<String>>,
    #[serde(rename = "PluginHelp")]
    plugin_help: BTreeMap<String, PluginHelp>,
    #[serde(rename = "ExternalPluginHelp")]
    external_plugin_help: BTreeMap<String, PluginHelp>,
}

pub(super) async fn plugin_help(State(shared): State<Arc<Front>>) -> Json<serde_json::Value> {
    let config = shared
        .deps
        .config
        .read()
        .map(|c| c.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    let plugins = &config.plugins;
    let mut repo_plugins = BTreeMap::new();
    for (key, entry) in plugins.plugins.iter() {
        repo_plugins.insert(key.clone(), entry.plugins.clone());
    }
    let mut repo_external_plugins = BTreeMap::new();
    for (key, entries) in plugins.external_plugins.iter() {
        repo_external_plugins.insert(
            key.clone(),
            entries.iter().map(|e| e.name.clone()).collect(),
        );
    }
    let plugin_help = shared
        .plugins
        .iter()
        .map(|(name, plugin)| ((*name).to_owned(), plugin.help(plugins)))
        .collect();
    let help = Help {
        all_repos: repo_plugins.keys().cloned().collect(),
        repo_plugins,
        repo_external_plugins,
        plugin_help,
        external_plugin_help: BTreeMap::new(),
    };
    Json(serde_json::to_value(help).unwrap_or_default())
}
