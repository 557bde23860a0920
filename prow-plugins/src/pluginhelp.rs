//! Plugin help (Prow's `pluginhelp`): what each plugin says about itself, and the document of
//! every plugin's help and where each is enabled that hook serves at `/plugin-help` and deck at
//! `/plugin-help.js`.

use std::collections::BTreeMap;
use std::sync::Arc;

use prow_config::plugins::PluginConfig;
use serde::Serialize;

use crate::Plugin;

/// One command a plugin understands, for `/plugin-help` and deck's command page (Prow's
/// `pluginhelp.Command`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Command {
    /// How to write it, e.g. `/lgtm [cancel]`.
    #[serde(rename = "Usage")]
    pub usage: String,
    /// What it does.
    #[serde(rename = "Description")]
    pub description: String,
    /// Whether it works on issues and/or pull requests.
    #[serde(rename = "Featured")]
    pub featured: bool,
    /// Who may use it.
    #[serde(rename = "WhoCanUse")]
    pub who_can_use: String,
    /// Examples.
    #[serde(rename = "Examples")]
    pub examples: Vec<String>,
}

/// A plugin's help (Prow's `pluginhelp.PluginHelp`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PluginHelp {
    /// What the plugin does.
    #[serde(rename = "Description")]
    pub description: String,
    /// How it is configured for the repositories it is enabled in, by `org` or `org/repo`.
    #[serde(rename = "Config")]
    pub config: BTreeMap<String, String>,
    /// The events it handles.
    #[serde(rename = "Events")]
    pub events: Vec<String>,
    /// Its commands.
    #[serde(rename = "Commands")]
    pub commands: Vec<Command>,
}

impl PluginHelp {
    /// Help with `description` for `events`.
    pub fn new(description: impl Into<String>, events: &[&str]) -> Self {
        PluginHelp {
            description: description.into(),
            events: events.iter().map(|e| (*e).to_owned()).collect(),
            ..PluginHelp::default()
        }
    }

    /// Marks the last command added as featured (shown first on the command page).
    pub fn featured(mut self) -> Self {
        if let Some(last) = self.commands.last_mut() {
            last.featured = true;
        }
        self
    }

    /// Adds a command.
    pub fn command(
        mut self,
        usage: &str,
        description: &str,
        who_can_use: &str,
        examples: &[&str],
    ) -> Self {
        self.commands.push(Command {
            usage: usage.to_owned(),
            description: description.to_owned(),
            featured: false,
            who_can_use: who_can_use.to_owned(),
            examples: examples.iter().map(|e| (*e).to_owned()).collect(),
        });
        self
    }
}

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

/// The help of `plugins` under `config`, as Prow's JSON (`pluginhelp.Help`): what hook
/// serves at `/plugin-help` and deck at `/plugin-help.js`.
pub fn help_document(
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
