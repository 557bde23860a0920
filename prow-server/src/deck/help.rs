//! `/plugin-help.js`: every plugin's help and where each is enabled, in the shape of Prow's
//! `pluginhelp.Help` (the same data hook serves at `/plugin-help`).

use std::collections::BTreeMap;
use std::sync::Arc;

use prow_config::plugins::PluginConfig;
use serde::Serialize;

use crate::plugins::{Plugin, PluginHelp};

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

/// The help of `plugins` under `config`, as Prow's JSON.
pub fn plugin_help(
    plugins: &BTreeMap<&'static str, Arc<dyn Plugin>>,
    config: &PluginConfig,
) -> serde_json::Value {
    let repo_plugins: BTreeMap<String, Vec<String>> = config
        .plugins
        .iter()
        .map(|(key, entry)| (key.clone(), entry.plugins.clone()))
        .collect();
    let repo_external_plugins = config
        .external_plugins
        .iter()
        .map(|(key, entries)| {
            (
                key.clone(),
                entries.iter().map(|e| e.name.clone()).collect(),
            )
        })
        .collect();
    let help = Help {
        all_repos: repo_plugins.keys().cloned().collect(),
        repo_plugins,
        repo_external_plugins,
        plugin_help: plugins
            .iter()
            .map(|(name, plugin)| ((*name).to_owned(), plugin.help(config)))
            .collect(),
        external_plugin_help: BTreeMap::new(),
    };
    serde_json::to_value(help).unwrap_or_default()
}
