//! hook's plugins: each decides in pure code what to do about an event and returns
//! [`Action`]s, which hook carries out through GitHub and the job store.
//!
//! A plugin's `handle` gathers what it needs to know (labels, membership, files) through the
//! [`Context`], then calls a pure `decide` function of the event, its configuration and that
//! snapshot; the `decide` functions are what the table tests exercise.

mod action;
pub mod approve;
pub mod assign;
pub mod blunderbuss;
pub mod cat;
pub mod cla;
pub mod commands;
pub mod config_updater;
pub mod dco;
pub mod dog;
pub mod fun;
pub mod golint;
pub mod heart;
pub mod help;
pub mod hold;
pub mod label;
pub mod lgtm;
pub mod lifecycle;
pub mod milestone;
pub mod milestone_applier;
pub mod override_;
pub mod owners_label;
pub mod owners_loader;
pub mod pony;
pub mod release_note;
pub mod require_matching_label;
pub mod respond;
pub mod shrug;
pub mod size;
pub mod skip;
pub mod slackevents;
pub mod trigger;
pub mod trust;
pub mod verify_owners;
pub mod welcome;
pub mod wip;
pub mod yuks;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::client::GitHubClient;
use prow_github::events::Event;
use prow_jobs::store::JobStore;

pub use action::{Action, ActionError, execute};

/// What hook gives a plugin besides the event.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct Context<'a> {
    /// GitHub, to read what the plugin needs to know (not to act: actions do that).
    pub github: &'a dyn GitHubClient,
    /// `plugins.yaml`.
    pub plugins: &'a PluginConfig,
    /// `config.yaml` and the jobs.
    pub config: &'a prow_config::Config,
    /// The jobs, to read running ProwJobs (trigger aborts superseded ones).
    pub store: &'a dyn JobStore,
    /// The bot's login.
    pub bot: &'a str,
    /// The delivery (`X-GitHub-Delivery`) this event came in.
    pub delivery: &'a str,
    /// The event's comment-like view ([`Event::generic_comment`]), built once for every plugin.
    pub comment: Option<&'a prow_github::events::GenericCommentEvent>,
    /// That comment from its first line starting with `/` ([`commands::command_lines`]; empty
    /// when no line does): every command regex is anchored at such a line, so matching this
    /// instead of the whole body gives the same answer, and a comment without commands costs
    /// each plugin nothing.
    pub commands: &'a str,
    /// This run is one a plugin asked for with [`Action::Recheck`], not the delivery itself.
    pub recheck: bool,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("bot", &self.bot)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

/// The comment a command came in, to address what a plugin does about it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The organisation.
    pub org: &'a str,
    /// The repository.
    pub repo: &'a str,
    /// The issue or pull request.
    pub number: u64,
    /// The commenter (or reviewer).
    pub user: &'a str,
    /// The comment (or review) text.
    pub body: &'a str,
    /// Its link.
    pub url: &'a str,
}

impl Request<'_> {
    /// A reply to the comment saying `text`, quoting it, in Prow's format.
    pub fn reply(&self, text: &str) -> Action {
        Action::Comment {
            org: self.org.to_owned(),
            repo: self.repo.to_owned(),
            number: self.number,
            body: respond::format_response_raw(self.body, self.url, self.user, text),
        }
    }

    /// Adds `labels` to the issue or pull request.
    pub fn add_labels(&self, labels: Vec<String>) -> Action {
        Action::AddLabels {
            org: self.org.to_owned(),
            repo: self.repo.to_owned(),
            number: self.number,
            labels,
        }
    }

    /// Removes `label` from the issue or pull request.
    pub fn remove_label(&self, label: &str) -> Action {
        Action::RemoveLabel {
            org: self.org.to_owned(),
            repo: self.repo.to_owned(),
            number: self.number,
            label: label.to_owned(),
        }
    }
}

impl Context<'_> {
    /// Pull request `org/repo#number`, read from GitHub.
    pub async fn pull_request(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<prow_github::types::PullRequest, PluginError> {
        self.github
            .pull_request(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read pull request {org}/{repo}#{number}"
            )))
    }

    /// The comments on issue or pull request `org/repo#number`, read from GitHub.
    pub async fn issue_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<prow_github::types::Comment>, PluginError> {
        self.github
            .issue_comments(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read the comments of {org}/{repo}#{number}"
            )))
    }

    /// The bot's own comments on `org/repo#number`, id and text: its earlier replies, to edit
    /// or prune.
    pub async fn bot_comments(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<(u64, String)>, PluginError> {
        Ok(self
            .issue_comments(org, repo, number)
            .await?
            .into_iter()
            .filter(|c| c.user.login.eq_ignore_ascii_case(self.bot))
            .map(|c| (c.id, c.body.unwrap_or_default()))
            .collect())
    }

    /// The pull request `comment` was made on, read from GitHub.
    pub async fn pull_request_of(
        &self,
        comment: &prow_github::events::GenericCommentEvent,
    ) -> Result<prow_github::types::PullRequest, PluginError> {
        self.pull_request(comment.repo.org(), &comment.repo.name, comment.number)
            .await
    }
}

/// Why a plugin could not decide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// Reading from GitHub failed.
    #[error("{what}: {source}")]
    GitHub {
        /// What the plugin was reading.
        what: String,
        /// The error.
        #[source]
        source: prow_github::Error,
    },
    /// Reading the job store failed.
    #[error("{what}: {source}")]
    Store {
        /// What the plugin was reading.
        what: String,
        /// The error.
        #[source]
        source: prow_jobs::store::StoreError,
    },
    /// Anything else, in words.
    #[error("{0}")]
    Other(String),
}

impl PluginError {
    /// A GitHub read that failed while doing `what`.
    pub fn github(what: impl Into<String>) -> impl FnOnce(prow_github::Error) -> PluginError {
        let what = what.into();
        move |source| PluginError::GitHub { what, source }
    }
}

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

/// A hook plugin.
#[async_trait]
pub trait Plugin: Send + Sync {
    /// Its name in `plugins.yaml`.
    fn name(&self) -> &'static str;

    /// Its help, given the configuration.
    fn help(&self, plugins: &PluginConfig) -> PluginHelp;

    /// What to do about `event`; most events are none of the plugin's business and give no
    /// actions.
    async fn handle(&self, ctx: &Context<'_>, event: &Event) -> Result<Vec<Action>, PluginError>;
}

/// Every built-in plugin, by name.
pub fn builtin() -> BTreeMap<&'static str, Arc<dyn Plugin>> {
    let all: Vec<Arc<dyn Plugin>> = vec![
        Arc::new(trigger::Trigger),
        Arc::new(lgtm::Lgtm),
        Arc::new(hold::Hold),
        Arc::new(label::LabelPlugin),
        Arc::new(size::SizePlugin),
        Arc::new(assign::Assign),
        Arc::new(wip::Wip),
        Arc::new(lifecycle::Lifecycle),
        Arc::new(help::Help),
        Arc::new(shrug::Shrug),
        Arc::new(yuks::Yuks),
        Arc::new(cat::Cat::default()),
        Arc::new(dog::Dog::default()),
        Arc::new(pony::Pony::default()),
        Arc::new(skip::Skip),
        Arc::new(release_note::ReleaseNote),
        Arc::new(dco::DcoPlugin),
        Arc::new(welcome::WelcomePlugin),
        Arc::new(require_matching_label::RequireMatchingLabelPlugin),
        Arc::new(milestone::MilestonePlugin),
        Arc::new(milestone_applier::MilestoneApplier),
        Arc::new(heart::Heart),
        Arc::new(approve::Approve::default()),
        Arc::new(verify_owners::VerifyOwners::default()),
        Arc::new(owners_label::OwnersLabel::default()),
        Arc::new(blunderbuss::Blunderbuss::default()),
        Arc::new(cla::Cla::default()),
        Arc::new(override_::OverridePlugin),
        Arc::new(slackevents::SlackEvents::from_env()),
        Arc::new(config_updater::ConfigUpdater::from_env()),
        Arc::new(golint::Lint::from_env()),
    ];
    all.into_iter().map(|p| (p.name(), p)).collect()
}
