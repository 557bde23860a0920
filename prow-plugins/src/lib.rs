//! prow-plugins: hook's plugins and the framework they share.
//!
//! Each plugin decides in pure code what to do about an event and returns [`Action`]s, which
//! hook carries out through GitHub and the job store ([`execute`]). A plugin's `handle` gathers
//! what it needs to know (labels, membership, files) through the [`Context`], then calls a pure
//! `decide` function of the event, its configuration and that snapshot; the `decide` functions
//! are what the table tests exercise.
//!
//! The framework lives at the root: [`Context`], [`Action`] and its execution, [`commands`]
//! (the shared command reading and the table of every plugin's command regexes), [`respond`]
//! (Prow's reply format), [`trust`] (who may trigger tests), [`owners_loader`] (OWNERS at a
//! commit), [`pluginhelp`] (each plugin's help and the `/plugin-help` document hook and deck
//! serve). The plugins live in [`plugins`], one module each, named as upstream names them;
//! [`plugins::builtin`] is the registry.
//!
//! Must never know about: HTTP servers, webhooks' wire format, clap.

mod action;
pub mod commands;
pub mod fun;
pub mod git;
pub mod label_note;
pub mod owners_loader;
pub mod pluginhelp;
pub mod plugins;
pub mod respond;
#[cfg(feature = "test-util")]
pub mod stand_in;
pub mod trust;

use async_trait::async_trait;
use prow_config::plugins::PluginConfig;
use prow_github::client::GitHubClient;
use prow_github::events::Event;
use prow_jobs::store::JobStore;

pub use action::{Action, ActionError, Announce, CardChange, Reply, execute};
pub use pluginhelp::{Command, EXTERNAL_HELP_DEADLINE, OrgRepo, PluginHelp, help_document};
pub use plugins::builtin;

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
    /// Where in-repo configuration (`.prow.yaml`, `.prow/`) is read from; `None` reads none
    /// (the central jobs only).
    pub inrepo: Option<&'a prow_jobs::inrepo::InRepoConfigCache>,
}

impl<'a> Context<'a> {
    /// The context of delivery `delivery` for a plugin: GitHub to read from, the configuration,
    /// the job store and the bot's login; no comment view and not a recheck until set with
    /// [`Context::with_comment`] and [`Context::as_recheck`].
    pub fn new(
        github: &'a dyn GitHubClient,
        plugins: &'a PluginConfig,
        config: &'a prow_config::Config,
        store: &'a dyn JobStore,
        bot: &'a str,
        delivery: &'a str,
    ) -> Self {
        Context {
            github,
            plugins,
            config,
            store,
            bot,
            delivery,
            comment: None,
            commands: "",
            recheck: false,
            inrepo: None,
        }
    }

    /// The same context reading in-repo configuration through `cache`.
    pub fn with_inrepo(mut self, cache: Option<&'a prow_jobs::inrepo::InRepoConfigCache>) -> Self {
        self.inrepo = cache;
        self
    }

    /// The same context with the event's comment view and its command lines
    /// ([`commands::command_lines`] of its body).
    pub fn with_comment(
        mut self,
        comment: Option<&'a prow_github::events::GenericCommentEvent>,
        commands: &'a str,
    ) -> Self {
        self.comment = comment;
        self.commands = commands;
        self
    }

    /// The same context for a run a plugin asked for with [`Action::Recheck`].
    pub fn as_recheck(mut self, recheck: bool) -> Self {
        self.recheck = recheck;
        self
    }
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

impl<'a> Request<'a> {
    /// The request of a comment-like event: its repository, number, author, text and link.
    pub fn of(comment: &'a prow_github::events::GenericCommentEvent) -> Self {
        Request {
            org: comment.repo.org(),
            repo: &comment.repo.name,
            number: comment.number,
            user: &comment.user.login,
            body: &comment.body,
            url: &comment.html_url,
        }
    }

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

    /// The labels of issue or pull request `org/repo#number`, read from GitHub.
    pub async fn labels(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<String>, PluginError> {
        Ok(self
            .github
            .issue_labels(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read the labels of {org}/{repo}#{number}"
            )))?
            .into_iter()
            .map(|l| l.name)
            .collect())
    }

    /// The names of every label of repository `org/repo`, read from GitHub.
    pub async fn repo_labels(&self, org: &str, repo: &str) -> Result<Vec<String>, PluginError> {
        Ok(self
            .github
            .repo_labels(org, repo)
            .await
            .map_err(PluginError::github(format!(
                "read the labels of {org}/{repo}"
            )))?
            .into_iter()
            .map(|l| l.name)
            .collect())
    }

    /// The commits of pull request `org/repo#number`, read from GitHub.
    pub async fn pull_request_commits(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<prow_github::types::CommitInfo>, PluginError> {
        self.github
            .pull_request_commits(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "read the commits of {org}/{repo}#{number}"
            )))
    }

    /// The combined status of commit `sha` of `org/repo`, read from GitHub.
    pub async fn combined_status(
        &self,
        org: &str,
        repo: &str,
        sha: &str,
    ) -> Result<prow_github::types::CombinedStatus, PluginError> {
        self.github
            .combined_status(org, repo, sha)
            .await
            .map_err(PluginError::github(format!(
                "read the statuses of {org}/{repo}@{sha}"
            )))
    }

    /// Whether `org/repo#number` has `label`, compared without case as GitHub does.
    pub async fn has_label(
        &self,
        org: &str,
        repo: &str,
        number: u64,
        label: &str,
    ) -> Result<bool, PluginError> {
        Ok(self
            .labels(org, repo, number)
            .await?
            .iter()
            .any(|l| l.eq_ignore_ascii_case(label)))
    }

    /// The presubmit ProwJobs of `org/repo#number` in the job store, by name.
    pub async fn presubmits(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<prow_core::ProwJob>, PluginError> {
        use prow_core::labels;
        let selector = format!(
            "{}=presubmit,{}={org},{}={repo},{}={number}",
            labels::PROW_JOB_TYPE,
            labels::ORG,
            labels::REPO,
            labels::PULL
        );
        let params = prow_jobs::store::ListParams::parse_labels(&selector)
            .map_err(|e| PluginError::Other(format!("selector {selector}: {e}")))?;
        self.store
            .list(&params)
            .await
            .map_err(|source| PluginError::Store {
                what: format!("list the presubmits of {org}/{repo}#{number}"),
                source,
            })
    }

    /// The files pull request `org/repo#number` changes, read from GitHub.
    pub async fn pull_request_files(
        &self,
        org: &str,
        repo: &str,
        number: u64,
    ) -> Result<Vec<prow_github::types::PullRequestFile>, PluginError> {
        self.github
            .pull_request_files(org, repo, number)
            .await
            .map_err(PluginError::github(format!(
                "error getting PR changes of {org}/{repo}#{number}"
            )))
    }

    /// Where git clones `org/repo` from ([`GitHubClient::git_remote`]; may carry a token, so
    /// never log it).
    pub async fn git_remote(&self, org: &str, repo: &str) -> Result<String, PluginError> {
        self.github
            .git_remote(org, repo)
            .await
            .map_err(PluginError::github(format!(
                "find the git remote of {org}/{repo}"
            )))
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
