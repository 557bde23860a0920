//! Plugin help (Prow's `pluginhelp`): what each plugin says about itself, and the document of
//! every plugin's help and where each is enabled that hook serves at `/plugin-help` and deck at
//! `/plugin-help.js`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use prow_config::plugins::PluginConfig;
use serde::{Deserialize, Serialize};

use crate::Plugin;

/// One command a plugin understands, for `/plugin-help` and deck's command page (Prow's
/// `pluginhelp.Command`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
    #[serde(deserialize_with = "null_as_default")]
    pub examples: Vec<String>,
}

/// A plugin's help (Prow's `pluginhelp.PluginHelp`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PluginHelp {
    /// What the plugin does.
    #[serde(rename = "Description")]
    pub description: String,
    /// How it is configured for the repositories it is enabled in, by `org` or `org/repo`.
    #[serde(rename = "Config")]
    #[serde(deserialize_with = "null_as_default")]
    pub config: BTreeMap<String, String>,
    /// The events it handles.
    #[serde(rename = "Events")]
    #[serde(deserialize_with = "null_as_default")]
    pub events: Vec<String>,
    /// Its commands.
    #[serde(rename = "Commands")]
    #[serde(deserialize_with = "null_as_default")]
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

/// How long the help document waits for the external plugins' help by default, as Prow's
/// hook does.
pub const EXTERNAL_HELP_DEADLINE: Duration = Duration::from_secs(1);

/// The most help the document reads from one external plugin.
pub const EXTERNAL_HELP_MAX_BYTES: usize = 1 << 20;

/// The help of `plugins` under `config`, as Prow's JSON (`pluginhelp.Help`): what hook
/// serves at `/plugin-help` and deck at `/plugin-help.js`.
///
/// As Prow's `HelpAgent`: `RepoPlugins[""]` and `RepoExternalPlugins[""]` list every plugin,
/// and each external plugin's help is asked of its endpoint (`POST <endpoint>/help` with the
/// repositories it is enabled in); one that does not answer within
/// `deadline` (Prow's is [`EXTERNAL_HELP_DEADLINE`]) is left out and logged. Unlike Prow, an org in `plugins.yaml`
/// is not expanded to its repositories (that needs GitHub): `AllRepos` lists it as written.
pub async fn help_document(
    plugins: &BTreeMap<&'static str, Arc<dyn Plugin>>,
    config: &PluginConfig,
    http: &reqwest::Client,
    deadline: Duration,
) -> serde_json::Value {
    let mut repo_plugins: BTreeMap<String, Vec<String>> = config
        .plugins
        .iter()
        .map(|(key, entry)| (key.clone(), entry.plugins.clone()))
        .collect();
    repo_plugins.insert(
        String::new(),
        plugins.keys().map(|name| (*name).to_owned()).collect(),
    );
    let mut repo_external_plugins: BTreeMap<String, Vec<String>> = config
        .external_plugins
        .iter()
        .map(|(key, entries)| {
            (
                key.clone(),
                entries.iter().map(|e| e.name.clone()).collect(),
            )
        })
        .collect();
    let externals = external_endpoints(config);
    repo_external_plugins.insert(String::new(), externals.keys().cloned().collect());
    let all_repos: BTreeSet<String> = config
        .plugins
        .keys()
        .chain(config.external_plugins.keys())
        .cloned()
        .collect();
    let help = Help {
        all_repos: all_repos.into_iter().collect(),
        repo_plugins,
        repo_external_plugins,
        plugin_help: plugins
            .iter()
            .map(|(name, plugin)| ((*name).to_owned(), plugin.help(config)))
            .collect(),
        external_plugin_help: external_help(&externals, http, deadline).await,
    };
    serde_json::to_value(help).unwrap_or_default()
}

/// An external plugin as the help document asks it: where it listens, the events it is
/// sent, and the `org` / `org/repo` keys it is enabled for.
#[derive(Default)]
struct External {
    endpoint: String,
    events: Vec<String>,
    keys: Vec<String>,
}

/// One endpoint per external plugin name (the last listed wins, as in Prow's map).
fn external_endpoints(config: &PluginConfig) -> BTreeMap<String, External> {
    let mut externals: BTreeMap<String, External> = BTreeMap::new();
    for (key, entries) in config.external_plugins.iter() {
        for entry in entries {
            let slot = externals.entry(entry.name.clone()).or_default();
            slot.endpoint.clone_from(&entry.endpoint);
            slot.events.clone_from(&entry.events);
            slot.keys.push(key.clone());
        }
    }
    externals
}

/// Prow's `config.OrgRepo` as its JSON (the body of an external plugin's `/help` request).
#[derive(Debug, Serialize, Deserialize)]
pub struct OrgRepo {
    /// The org.
    #[serde(rename = "Org")]
    pub org: String,
    /// The repository, empty for a whole org.
    #[serde(rename = "Repo", default)]
    pub repo: String,
}

/// Asks every external plugin for its help, concurrently; keeps the answers that arrive
/// within `deadline`.
async fn external_help(
    externals: &BTreeMap<String, External>,
    http: &reqwest::Client,
    deadline: Duration,
) -> BTreeMap<String, PluginHelp> {
    let mut asks: FuturesUnordered<_> = externals
        .iter()
        .map(|(name, external)| async move {
            let enabled: Vec<OrgRepo> = external
                .keys
                .iter()
                .map(|key| {
                    let (org, repo) = key.split_once('/').unwrap_or((key, ""));
                    OrgRepo {
                        org: org.to_owned(),
                        repo: repo.to_owned(),
                    }
                })
                .collect();
            let url = format!("{}/help", external.endpoint.trim_end_matches('/'));
            let answer = async {
                let body = serde_json::to_vec(&enabled).unwrap_or_default();
                let response = http
                    .post(&url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await?
                    .error_for_status()?;
                let mut response = response;
                let mut bytes = Vec::new();
                while let Some(chunk) = response.chunk().await? {
                    if bytes.len() + chunk.len() > EXTERNAL_HELP_MAX_BYTES {
                        return Err(format!("help is larger than {EXTERNAL_HELP_MAX_BYTES} bytes").into());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(serde_json::from_slice::<PluginHelp>(&bytes)?)
            };
            match answer.await {
                Ok(mut help) => {
                    help.events.clone_from(&external.events);
                    Some((name.clone(), help))
                }
                Err(e) => {
                    tracing::warn!(target: "plugin-help", plugin = %name, %url, "getting help from external plugin: {e}");
                    None
                }
            }
        })
        .collect();
    let mut help = BTreeMap::new();
    let deadline_passed = tokio::time::sleep(deadline);
    tokio::pin!(deadline_passed);
    loop {
        tokio::select! {
            next = asks.next() => match next {
                Some(Some((name, answer))) => {
                    help.insert(name, answer);
                }
                Some(None) => {}
                None => break,
            },
            () = &mut deadline_passed => {
                tracing::warn!(target: "plugin-help", waiting = asks.len(), "external plugins did not answer within {deadline:?}");
                break;
            }
        }
    }
    help
}

/// Go's `null` for an empty slice or map, read as the empty value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
