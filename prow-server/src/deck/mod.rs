//! deck: Prow's web front end and its JSON API, over the job store and the local artifacts.
//!
//! Pages (plain HTML with a little JavaScript, embedded in the binary): the job list `/` with
//! Prow's filters as query parameters (`repo`, `job`, `type`, `state`, `author`, `pull`), the
//! job page `/job?prowjob=NAME` with the live build log, the build-log and JUnit lenses and an
//! artifact browser, the PR page `/pr?org=&repo=&pr=`, the tide page `/tide` (it reads
//! `/tide.js` and `/tide-history.js`, which tide serves) and the command help
//! `/command-help`.
//!
//! JSON and files as Prow serves them: `/prowjobs.js`, `/plugin-help.js` (and, with its HTML
//! sanitised for the help page, `/deck/command-help.json`), `/badge.svg`,
//! `/log?job=&id=`, `/artifacts/<path>`, `/rerun?prowjob=` and `/abort?prowjob=`. Only
//! `POST` changes anything, and only for users the `rerun_auth_configs` allow: see [`auth`]
//! for how deck learns who the user is: GitHub login ([`oauth`]) or a trusted proxy's header.
//!
//! Over artifact storage (the local artifacts folder, or GCS and S3 buckets): spyglass
//! `/view/<storage>/<bucket>/<path>` with upstream's lenses as `deck.spyglass` configures
//! them ([`spyglass`]), `/job-history/<storage>/<bucket>/<job folder>` and `/pr-history`
//! ([`history`]), and `/configured-jobs/<org>/<repo>`.

pub mod artifacts;
pub mod auth;
pub mod badge;
pub mod buildlog;
mod handlers;
pub mod helphtml;
pub mod history;
pub(crate) mod html;
pub mod jobs;
pub mod junit;
mod listing;
mod login;
pub mod oauth;
pub mod rerun;
pub mod spyglass;
mod view;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use prow_github::client::GitHubClient;
use prow_jobs::storage::ArtifactReader;
use prow_jobs::store::JobStore;

use prow_jobs::config::ConfigHandle;
use prow_plugins::Plugin;

/// Deck: build it with [`Deck::new`] and the setters, then serve [`Deck::router`].
#[derive(Clone)]
pub struct Deck {
    store: Arc<dyn JobStore>,
    config: ConfigHandle,
    artifacts: Option<PathBuf>,
    pods: Option<PathBuf>,
    github: Option<Arc<dyn GitHubClient>>,
    plugins: BTreeMap<&'static str, Arc<dyn Plugin>>,
    user_header: Option<String>,
    acting_user: Option<String>,
    tide: Option<Router>,
    gcs_credentials_file: String,
    s3_credentials_file: String,
    login: Option<Arc<oauth::Login>>,
    /// Build clusters' pod APIs by alias, for running jobs' logs.
    pod_logs: BTreeMap<String, (kube::Client, String)>,
    /// Asks external plugins for their help.
    http: reqwest::Client,
    /// How long `/plugin-help.js` waits for external plugins' help.
    external_help_deadline: std::time::Duration,
    /// Buckets opened so far, by `provider://bucket`.
    readers: Arc<std::sync::Mutex<BTreeMap<String, Arc<dyn ArtifactReader>>>>,
    /// `/prowjobs.js` bodies by store version, so that 10,000 jobs are read and written as
    /// JSON once per change rather than once per request.
    prowjobs_bodies: Arc<listing::BodyCache>,
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
    /// help, no artifacts, no GitHub and no user header: until [`Deck::trusted_proxy_header`]
    /// names one, no request can claim a user.
    pub fn new(store: Arc<dyn JobStore>, config: impl Into<ConfigHandle>) -> Deck {
        Deck {
            store,
            config: config.into(),
            artifacts: None,
            pods: None,
            github: None,
            plugins: prow_plugins::builtin(),
            user_header: None,
            acting_user: None,
            tide: None,
            gcs_credentials_file: String::new(),
            s3_credentials_file: String::new(),
            readers: Arc::default(),
            prowjobs_bodies: Arc::default(),
            login: None,
            pod_logs: BTreeMap::new(),
            http: reqwest::Client::new(),
            external_help_deadline: prow_plugins::EXTERNAL_HELP_DEADLINE,
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

    /// How long `/plugin-help.js` waits for the external plugins' help (Prow's one second by
    /// default); the ones that have not answered by then are left out.
    pub fn external_help_deadline(mut self, deadline: std::time::Duration) -> Deck {
        self.external_help_deadline = deadline;
        self
    }

    /// The request header carrying the user's GitHub login, set by a trusted authenticating
    /// proxy in front of deck ([`auth::DEFAULT_USER_HEADER`] is what oauth2-proxy sets).
    /// `None`, the default, trusts no header: any client could send one, so without a proxy
    /// that sets it (and drops the client's own) only `allow_anyone` jobs can be rerun.
    pub fn trusted_proxy_header(mut self, header: Option<String>) -> Deck {
        self.user_header = header.filter(|h| !h.trim().is_empty());
        self
    }

    /// Treats every request that names no user (no GitHub session, no trusted header) as
    /// coming from `login`, for reruns and aborts. Only for a deck nobody else reaches: `prow
    /// demo` acts as its fake GitHub's admin so its rerun button works without a login.
    pub fn acting_user(mut self, login: Option<String>) -> Deck {
        self.acting_user = login.filter(|l| !l.trim().is_empty());
        self
    }

    /// The GCS service-account file deck reads `gs://` buckets with (Prow's
    /// `--gcs-credentials-file`); without one, the environment's credentials.
    pub fn gcs_credentials_file(mut self, path: impl Into<String>) -> Deck {
        self.gcs_credentials_file = path.into();
        self
    }

    /// Prow's S3 credentials file (region, endpoint, keys) deck reads `s3://` buckets with
    /// (`--s3-credentials-file`); without one, the environment's credentials.
    pub fn s3_credentials_file(mut self, path: impl Into<String>) -> Deck {
        self.s3_credentials_file = path.into();
        self
    }

    /// GitHub login (`github_oauth_config` and the cookie secret): reruns and aborts then
    /// follow `rerun_auth_configs` for the logged-in user, `POST`s need the session's CSRF
    /// token, and the PR page lists the user's pull requests.
    pub fn github_oauth(mut self, login: oauth::Login) -> Deck {
        self.login = Some(Arc::new(login));
        self
    }

    /// A build cluster (by alias; `default` for jobs that name none) whose pods in
    /// `namespace` deck reads running jobs' logs from (Kubernetes mode).
    pub fn kube_pod_logs(
        mut self,
        alias: impl Into<String>,
        client: kube::Client,
        namespace: impl Into<String>,
    ) -> Deck {
        self.pod_logs
            .insert(alias.into(), (client, namespace.into()));
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
        let shared = Arc::new(self.clone());
        let router = handlers::routes(shared.clone())
            .merge(view::routes(shared.clone()))
            .merge(login::routes(shared));
        match tide {
            Some(tide) => router.merge(tide),
            None => router,
        }
    }
}
