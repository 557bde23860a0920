//! deck: Prow's web front end and its JSON API, over the job store and the local artifacts.
//!
//! Pages (plain HTML with a little JavaScript, embedded in the binary): the job list `/` with
//! Prow's filters as query parameters (`repo`, `job`, `type`, `state`, `author`, `pull`), the
//! job page `/job?prowjob=NAME` with the live build log, the build-log and JUnit lenses and an
//! artifact browser, the PR page `/pr?org=&repo=&pr=`, the tide page `/tide` (it reads
//! `/tide.js` and `/tide-history.js`, which tide serves) and the command help
//! `/command-help`.
//!
//! JSON and files as Prow serves them: `/prowjobs.js`, `/plugin-help.js`, `/badge.svg`,
//! `/log?job=&id=`, `/artifacts/<path>`, `/rerun?prowjob=` and `/abort?prowjob=`. Only
//! `POST` changes anything, and only for users the `rerun_auth_configs` allow: see [`auth`]
//! for how deck learns who the user is.

pub mod artifacts;
pub mod auth;
pub mod badge;
pub mod buildlog;
mod handlers;
pub mod help;
pub(crate) mod html;
pub mod jobs;
pub mod junit;
pub mod rerun;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use prow_github::client::GitHubClient;
use prow_jobs::store::JobStore;

use crate::plugins::Plugin;
use prow_jobs::config::ConfigHandle;

/// Deck: build it with [`Deck::new`] and the setters, then serve [`Deck::router`].
#[derive(Clone)]
pub struct Deck {
    store: Arc<dyn JobStore>,
    config: ConfigHandle,
    artifacts: Option<PathBuf>,
    pods: Option<PathBuf>,
    github: Option<Arc<dyn GitHubClient>>,
    plugins: BTreeMap<&'static str, Arc<dyn Plugin>>,
    user_header: String,
    tide: Option<Router>,
}

impl std::fmt::Debug for Deck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deck")
            .field("artifacts", &self.artifacts)
            .field("pods", &self.pods)
            .field("user_header", &self.user_header)
            .finish_non_exhaustive()
    }
}

impl Deck {
    /// Deck over `store` and the configuration `config` gives, with the built-in plugins'
    /// help, no artifacts, no GitHub and the user header [`auth::DEFAULT_USER_HEADER`].
    pub fn new(store: Arc<dyn JobStore>, config: impl Into<ConfigHandle>) -> Deck {
        Deck {
            store,
            config: config.into(),
            artifacts: None,
            pods: None,
            github: None,
            plugins: crate::plugins::builtin(),
            user_header: auth::DEFAULT_USER_HEADER.to_owned(),
            tide: None,
        }
    }

    /// The directory decorated jobs upload to (the local runner's `artifacts`).
    pub fn artifacts_dir(mut self, dir: impl Into<PathBuf>) -> Deck {
        self.artifacts = Some(dir.into());
        self
    }

    /// The local runner's pod directory, where running and undecorated jobs log.
    pub fn pods_dir(mut self, dir: impl Into<PathBuf>) -> Deck {
        self.pods = Some(dir.into());
        self
    }

    /// GitHub, to check org and team membership for reruns.
    pub fn github(mut self, github: Arc<dyn GitHubClient>) -> Deck {
        self.github = Some(github);
        self
    }

    /// The plugins whose help `/plugin-help.js` shows (the built-in ones by default).
    pub fn plugins(mut self, plugins: BTreeMap<&'static str, Arc<dyn Plugin>>) -> Deck {
        self.plugins = plugins;
        self
    }

    /// The request header carrying the user's GitHub login, set by the authenticating proxy
    /// in front of deck.
    pub fn user_header(mut self, header: impl Into<String>) -> Deck {
        self.user_header = header.into();
        self
    }

    /// Routes tide contributes (`/tide.js`, `/tide-history.js`), merged into deck's.
    pub fn tide_routes(mut self, routes: Router) -> Deck {
        self.tide = Some(routes);
        self
    }

    /// Deck's routes, to serve or to put in front of other routes (with
    /// `fallback_service`); it defines no fallback of its own.
    pub fn router(&self) -> Router {
        let tide = self.tide.clone();
        let router = handlers::routes(Arc::new(self.clone()));
        match tide {
            Some(tide) => router.merge(tide),
            None => router,
        }
    }
}
