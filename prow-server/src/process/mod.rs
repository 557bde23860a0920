//! The whole process, assembled in one place from options: the config agent and its one
//! configuration handle, the backend (store and runners), GitHub, and the parts asked for —
//! hook, plank, horologium, sinker, crier, tide, deck, metrics and status-reconciler — on one
//! port, with `/healthz` and `/healthz/ready`.
//!
//! Like bors's `create_bors_process`, [`Process::build`] wires everything and
//! [`Process::run`] runs it: the HTTP server, the config agent and every controller under the
//! one driver ([`prow_jobs::controller::drive`]). On shutdown it stops accepting, lets the
//! requests in flight and the accepted webhooks finish, lets each controller finish its pass,
//! and returns within the grace period whatever clients do.

mod backend;
mod error;
mod github;
mod trackers;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use prow_config::ConfigPaths;
use prow_github::GitHubClient;
use prow_jobs::clock::SystemClock;
use prow_jobs::config::ConfigHandle;
use prow_jobs::controller::{Controller, ControllerMetrics};
use prow_jobs::store::JobStore;
use tokio::sync::watch;

pub use backend::{Backend, BackendOptions};
pub use error::ProcessError;
pub use github::{Connected, DEFAULT_ENDPOINT, GitHubOptions, connect as connect_github};
pub use trackers::TrackerOptions;

use crate::config_agent::{ConfigAgent, WatchOptions};

/// A part of the process, named as Prow's components are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Part {
    /// The webhook endpoint and the plugins.
    Hook,
    /// Starting and watching jobs.
    Plank,
    /// Periodic jobs.
    Horologium,
    /// Deleting old jobs and pods.
    Sinker,
    /// Reporting to GitHub.
    Crier,
    /// Merging.
    Tide,
    /// The web UI and its JSON.
    Deck,
    /// `/metrics`.
    Metrics,
    /// Statuses of open pull requests kept in step with the presubmits.
    StatusReconciler,
}

impl Part {
    /// Every part: what `prow serve` runs.
    pub const ALL: [Part; 9] = [
        Part::Hook,
        Part::Plank,
        Part::Horologium,
        Part::Sinker,
        Part::Crier,
        Part::Tide,
        Part::Deck,
        Part::Metrics,
        Part::StatusReconciler,
    ];

    /// Prow's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Part::Hook => "hook",
            Part::Plank => "plank",
            Part::Horologium => "horologium",
            Part::Sinker => "sinker",
            Part::Crier => "crier",
            Part::Tide => "tide",
            Part::Deck => "deck",
            Part::Metrics => "metrics",
            Part::StatusReconciler => "status-reconciler",
        }
    }
}

/// How long a stop may take by default: Kubernetes' default termination grace period.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);

/// Everything the process is built from (the parsed flags).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProcessOptions {
    /// The configuration files.
    pub config: ConfigPaths,
    /// The parts to run.
    pub parts: BTreeSet<Part>,
    /// Where ProwJobs and pods live.
    pub backend: BackendOptions,
    /// Where GitHub is.
    pub github: GitHubOptions,
    /// Where to serve HTTP; `None` serves nothing (a controller on its own).
    pub listen: Option<SocketAddr>,
    /// The HMAC secret file deliveries are signed with (hook needs it).
    pub hmac_secret_file: Option<PathBuf>,
    /// hook's settings.
    pub hook: crate::hook::Options,
    /// The issue trackers of the jira and bugzilla plugins (`--jira-*`, `--bugzilla-*`).
    pub trackers: TrackerOptions,
    /// The request header an authenticating proxy in front of deck sets to the user's GitHub
    /// login; `None` trusts no header (reruns then need `allow_anyone` or a GitHub login).
    pub deck_trusted_proxy_header: Option<String>,
    /// The GitHub login deck's reruns and aborts act as when a request names none
    /// ([`Deck::acting_user`](crate::deck::Deck::acting_user)); only for `prow demo`.
    pub deck_acting_user: Option<String>,
    /// deck's GitHub login: upstream's `github_oauth_config` file and the cookie secret file
    /// (`--github-oauth-config-file`, `--cookie-secret`).
    pub deck_oauth: Option<(PathBuf, PathBuf)>,
    /// Credentials deck reads GCS artifacts with (`--gcs-credentials-file`).
    pub gcs_credentials_file: Option<PathBuf>,
    /// Credentials deck reads S3 artifacts with (`--s3-credentials-file`).
    pub s3_credentials_file: Option<PathBuf>,
    /// crier's reporters besides GitHub's.
    pub crier: CrierOptions,
    /// status-reconciler's settings.
    pub status_reconciler: crate::statusreconciler::Options,
    /// How often plank looks at every job when nothing woke it.
    pub plank_resync: Duration,
    /// How the config agent notices changes.
    pub config_watch: WatchOptions,
    /// How long a stop may take after the shutdown signal.
    pub grace_period: Duration,
    /// Where the git mirrors for in-repo configuration live; `None` is `git-cache` under the
    /// backend's data dir.
    pub inrepo_cache_dir: Option<PathBuf>,
}

impl ProcessOptions {
    /// Options running `parts` over the configuration `config`, on the embedded default in
    /// `prow-data`, without GitHub or HTTP.
    pub fn new(config: ConfigPaths, parts: impl IntoIterator<Item = Part>) -> Self {
        ProcessOptions {
            config,
            parts: parts.into_iter().collect(),
            backend: BackendOptions::embedded("prow-data"),
            github: GitHubOptions::None,
            listen: None,
            hmac_secret_file: None,
            hook: crate::hook::Options::default(),
            trackers: TrackerOptions::default(),
            deck_trusted_proxy_header: None,
            deck_acting_user: None,
            deck_oauth: None,
            gcs_credentials_file: None,
            s3_credentials_file: None,
            crier: CrierOptions::default(),
            status_reconciler: crate::statusreconciler::Options::default(),
            plank_resync: prow_jobs::plank::DEFAULT_RESYNC,
            config_watch: WatchOptions::default(),
            grace_period: DEFAULT_GRACE_PERIOD,
            inrepo_cache_dir: None,
        }
    }
}

/// A process ready to run: built by [`Process::build`], run by [`Process::run`].
pub struct Process {
    agent: Arc<ConfigAgent>,
    backend: Backend,
    listener: Option<tokio::net::TcpListener>,
    app: Router,
    hook: Option<crate::hook::Hook>,
    controllers: Vec<Arc<dyn Controller>>,
    controller_metrics: ControllerMetrics,
    health: Arc<Health>,
    options: ProcessOptions,
}

impl std::fmt::Debug for Process {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Process")
            .field("parts", &self.options.parts)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// What `/healthz/ready` looks at.
struct Health {
    store: Arc<dyn JobStore>,
    stopping: AtomicBool,
}

impl Process {
    /// Loads the configuration (it must load), opens the backend, connects to GitHub, binds
    /// the port and wires the parts together. Nothing runs until [`Process::run`].
    pub async fn build(options: ProcessOptions) -> Result<Process, ProcessError> {
        Self::build_on(options, None).await
    }

    /// [`Process::build`] on a backend the caller made (an embedder's own store or runner)
    /// instead of the one `options.backend` names.
    pub async fn build_with_backend(
        options: ProcessOptions,
        backend: Backend,
    ) -> Result<Process, ProcessError> {
        Self::build_on(options, Some(backend)).await
    }

    async fn build_on(
        options: ProcessOptions,
        backend: Option<Backend>,
    ) -> Result<Process, ProcessError> {
        let on = |part: Part| options.parts.contains(&part);
        let agent = {
            let paths = options.config.clone();
            tokio::task::spawn_blocking(move || ConfigAgent::load(paths))
                .await
                .map_err(|e| ProcessError::Options(format!("load the configuration: {e}")))??
        };
        let agent = Arc::new(agent);
        let handle = agent.handle();
        let prow = agent.config().config.prow.clone();
        let backend = match backend {
            Some(backend) => backend,
            None => Backend::open(&options.backend, &prow).await?,
        };
        tracing::info!("{}", backend.description);
        let github = github::connect(&options.github).await?;
        let needs_github = |part: Part| -> Result<(Arc<dyn GitHubClient>, String), ProcessError> {
            github.clone().ok_or_else(|| {
                ProcessError::Options(format!(
                    "{} needs GitHub: give --github-token-path, --github-app-id with --github-app-private-key-path, or --github-fake FILE",
                    part.name()
                ))
            })
        };

        let controller_metrics = ControllerMetrics::default();
        let mut metrics = crate::metrics::Exporter::new()
            .with_store(backend.store.clone())
            .with_config_agent(agent.clone())
            .with_controllers(controller_metrics.clone());
        if let Some((client, bot)) = &github {
            metrics = metrics.with_github(bot, client.clone());
        }
        let mut controllers: Vec<Arc<dyn Controller>> = Vec::new();
        let clock = Arc::new(SystemClock);
        // One git cache for every part that reads in-repo configuration (hook's trigger,
        // tide): mirrors fetched for one are reused by the other.
        let inrepo = Arc::new(prow_jobs::inrepo::InRepoConfigCache::new(
            options
                .inrepo_cache_dir
                .clone()
                .unwrap_or_else(|| options.backend.data_dir.join("git-cache")),
        ));

        // The plugins hook runs and deck describes: config-updater on the backend's clusters,
        // jira and bugzilla on the trackers the flags name.
        let plugins = options.trackers.plugins(backend.plugins())?;
        let mut hook = None;
        if on(Part::Hook) {
            let (client, bot) = needs_github(Part::Hook)?;
            let path = options
                .hmac_secret_file
                .clone()
                .ok_or_else(|| ProcessError::Options("hook needs --hmac-secret-file".into()))?;
            let secret = std::fs::read(&path).map_err(|source| ProcessError::Read {
                path: path.clone(),
                source,
            })?;
            let deps = crate::hook::Deps::new(
                client,
                backend.store.clone(),
                bot,
                prow_github::HmacSecrets::parse(&secret),
                handle.clone(),
            )
            .with_inrepo(inrepo.clone());
            let mut plugins = plugins.clone();
            if let Some(client) = slack_client(&options)? {
                let slack: Arc<dyn prow_plugins::Plugin> = Arc::new(
                    prow_plugins::plugins::slackevents::SlackEvents::new(Some(client)),
                );
                plugins.insert(slack.name(), slack);
            }
            let started =
                crate::hook::Hook::start_with_plugins(options.hook.clone(), deps, plugins);
            metrics = metrics.with_hook(started.metrics());
            hook = Some(started);
        }
        if on(Part::Plank) {
            let plank = prow_jobs::plank::Controller::new(
                backend.store.clone(),
                backend.runner.clone(),
                clock.clone(),
            )
            .with_resync(options.plank_resync);
            controllers.push(Arc::new(plank));
        }
        if on(Part::Horologium) {
            controllers.push(Arc::new(prow_jobs::horologium::Horologium::new(
                backend.store.clone(),
                clock.clone(),
            )));
        }
        if on(Part::Sinker) {
            controllers.push(Arc::new(prow_jobs::sinker::Sinker::new(
                backend.store.clone(),
                backend.clusters.clone(),
                clock.clone(),
            )));
        }
        if on(Part::Crier) {
            let others = crier_reporters(&options)?;
            // GitHub's reporter runs whenever GitHub is there; crier without it must have
            // another reporter.
            if github.is_some() || others.is_empty() {
                let (client, _) = needs_github(Part::Crier)?;
                controllers.push(Arc::new(prow_jobs::crier::Crier::new(
                    backend.store.clone(),
                    prow_jobs::crier::GitHubReporter::new(client),
                )));
            }
            for reporter in others {
                tracing::info!(
                    reporter = reporter.name(),
                    "crier reports with {}",
                    reporter.name()
                );
                controllers.push(Arc::new(prow_jobs::crier::ReporterLoop::new(
                    backend.store.clone(),
                    reporter,
                )));
            }
        }
        let mut tide_routes = None;
        if on(Part::Tide) {
            let (client, _) = needs_github(Part::Tide)?;
            let figures = crate::metrics::TideFiguresCell::default();
            let tide = Arc::new(
                crate::tide::Controller::new(
                    client,
                    backend.store.clone(),
                    handle.clone(),
                    clock.clone(),
                )
                .with_figures(figures.clone())
                .with_inrepo(inrepo.clone()),
            );
            metrics = metrics.with_tide(figures);
            controllers.push(Arc::new(crate::tide::SyncController(tide.clone())));
            controllers.push(Arc::new(crate::tide::StatusController(tide.clone())));
            tide_routes = Some(crate::tide::router(tide));
        }

        if on(Part::StatusReconciler) {
            let (client, bot) = needs_github(Part::StatusReconciler)?;
            controllers.push(Arc::new(crate::statusreconciler::StatusReconciler::new(
                client,
                backend.store.clone(),
                &bot,
                clock.clone(),
                options.status_reconciler.clone(),
            )));
        }

        let health = Arc::new(Health {
            store: backend.store.clone(),
            stopping: AtomicBool::new(false),
        });
        let mut app = Router::new()
            .route("/healthz", get(|| async { "OK" }))
            .route("/healthz/ready", get(ready))
            .with_state(health.clone());
        if let Some(hook) = &hook {
            app = app.merge(hook.router());
        }
        if on(Part::Metrics) {
            app = app.merge(metrics.router());
        }
        let app = if on(Part::Deck) {
            let mut deck = crate::deck::Deck::new(backend.store.clone(), handle.clone())
                .plugins(plugins.clone());
            if let Some((client, _)) = &github {
                deck = deck.github(client.clone());
            }
            if let Some(header) = &options.deck_trusted_proxy_header {
                deck = deck.trusted_proxy_header(Some(header.clone()));
            }
            deck = deck.acting_user(options.deck_acting_user.clone());
            if let Some(routes) = tide_routes {
                deck = deck.tide_routes(routes);
            }
            if let Some((config, secret)) = &options.deck_oauth {
                let oauth = crate::deck::oauth::OAuthConfig::from_file(config)
                    .map_err(|e| ProcessError::Options(format!("deck's GitHub login: {e}")))?;
                let secret = std::fs::read(secret).map_err(|source| ProcessError::Read {
                    path: secret.clone(),
                    source,
                })?;
                let login = crate::deck::oauth::Login::new(oauth, &secret)
                    .map_err(|e| ProcessError::Options(format!("deck's GitHub login: {e}")))?;
                deck = deck.github_oauth(login);
            }
            if let Some(path) = &options.gcs_credentials_file {
                deck = deck.gcs_credentials_file(path.display().to_string());
            }
            if let Some(path) = &options.s3_credentials_file {
                deck = deck.s3_credentials_file(path.display().to_string());
            }
            for (alias, client) in &backend.kube_clients {
                deck = deck.kube_pod_logs(alias, client.clone(), &prow.pod_namespace);
            }
            if let Some((artifacts, pods)) = &backend.local_dirs {
                deck = deck.artifacts_dir(artifacts).pods_dir(pods);
            }
            // deck answers its own paths (`/`, `/prowjobs.js`, `/tide.js`, ...); the rest goes on.
            deck.router().fallback_service(app)
        } else if let Some(routes) = tide_routes {
            app.merge(routes)
        } else {
            app
        };

        let listener = match options.listen {
            None => None,
            Some(address) => Some(
                tokio::net::TcpListener::bind(address)
                    .await
                    .map_err(|source| ProcessError::Listen { address, source })?,
            ),
        };
        Ok(Process {
            agent,
            backend,
            listener,
            app,
            hook,
            controllers,
            controller_metrics,
            health,
            options,
        })
    }

    /// Where the server listens, when it does.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The process's configuration handle.
    pub fn config(&self) -> ConfigHandle {
        self.agent.handle()
    }

    /// The config agent (its record of reloads).
    pub fn config_agent(&self) -> Arc<ConfigAgent> {
        self.agent.clone()
    }

    /// The backend the parts run on.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Runs every part until `shutdown` completes, then stops: the server stops accepting and
    /// answers the requests in flight, hook processes the deliveries it accepted, each
    /// controller finishes its pass. Whatever is still running when the grace period after
    /// `shutdown` ends is abandoned (running pods carry on; the next start picks them up).
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ProcessError> {
        let Process {
            agent,
            backend: _backend,
            listener,
            app,
            hook,
            controllers,
            controller_metrics,
            health,
            options,
        } = self;
        let (stop, stopped) = watch::channel(false);
        let until_stopped = || {
            let mut stopped = stopped.clone();
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            }
        };
        let signal = async {
            shutdown.await;
            health.stopping.store(true, Ordering::SeqCst);
            tracing::info!(
                grace_period = ?options.grace_period,
                "stopping: no new requests; finishing accepted webhooks and running passes"
            );
            let _ = stop.send(true);
            std::future::pending::<()>().await;
        };
        let server = async {
            match listener {
                Some(listener) => {
                    if let Ok(address) = listener.local_addr() {
                        tracing::info!(%address, "listening");
                    }
                    crate::serve::serve(listener, app, until_stopped()).await
                }
                None => {
                    drop(app);
                    Ok(())
                }
            }
        };
        let config = agent.handle();
        let parts = async {
            let drivers = controllers.iter().map(|controller| {
                prow_jobs::controller::drive(
                    controller.as_ref(),
                    config.clone(),
                    until_stopped(),
                    &controller_metrics,
                )
            });
            let (served, (), _) = tokio::join!(
                server,
                agent.clone().run(options.config_watch, until_stopped()),
                futures::future::join_all(drivers),
            );
            if let Some(hook) = hook {
                hook.drain().await;
            }
            served
        };
        let deadline = async {
            until_stopped().await;
            tokio::time::sleep(options.grace_period).await;
        };
        let finished = async {
            tokio::select! {
                served = parts => served.map_err(ProcessError::Serve),
                () = deadline => {
                    tracing::warn!(
                        grace_period = ?options.grace_period,
                        "the grace period is over; exiting with work unfinished"
                    );
                    Ok(())
                }
            }
        };
        tokio::select! {
            () = signal => unreachable!("the signal future never completes"),
            outcome = finished => outcome,
        }
    }
}

/// `/healthz/ready`: 200 while the store can be written and the process is not stopping.
async fn ready(State(health): State<Arc<Health>>) -> axum::response::Response {
    if health.stopping.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "stopping").into_response();
    }
    match health.store.ready().await {
        Ok(()) => (StatusCode::OK, "OK").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the job store cannot be written");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the job store cannot be written: {e}"),
            )
                .into_response()
        }
    }
}

/// crier's reporters besides GitHub's (upstream crier's Slack and blob-storage flags).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CrierOptions {
    /// The Slack bot token file (`--slack-token-file`); the Slack reporter runs when it is set.
    pub slack_token_file: Option<PathBuf>,
    /// Tokens for other Slack hosts (`--additional-slack-token-files host=path`).
    pub additional_slack_token_files: Vec<(String, PathBuf)>,
    /// Slack's Web API (default [`prow_jobs::crier::DEFAULT_SLACK_API`]).
    pub slack_api_url: Option<String>,
    /// Whether the blob-storage reporter uploads `prowjob.json` (`--blob-storage-workers`,
    /// `--gcs-workers` above zero).
    pub blob_storage: bool,
}

/// The Slack client of `--slack-token-file` (crier's Slack reporter and hook's slackevents).
fn slack_client(
    options: &ProcessOptions,
) -> Result<Option<prow_jobs::crier::SlackClient>, ProcessError> {
    let crier = &options.crier;
    let Some(path) = &crier.slack_token_file else {
        return Ok(None);
    };
    let api = crier
        .slack_api_url
        .as_deref()
        .unwrap_or(prow_jobs::crier::DEFAULT_SLACK_API);
    let mut client =
        prow_jobs::crier::SlackClient::from_token_file(api, path).map_err(ProcessError::Options)?;
    for (host, path) in &crier.additional_slack_token_files {
        let token = std::fs::read_to_string(path).map_err(|source| ProcessError::Read {
            path: path.clone(),
            source,
        })?;
        client = client.with_host_token(host, &token);
    }
    Ok(Some(client))
}

/// The reporters [`CrierOptions`] ask for, besides GitHub's.
fn crier_reporters(
    options: &ProcessOptions,
) -> Result<Vec<Arc<dyn prow_jobs::crier::JobReporter>>, ProcessError> {
    let crier = &options.crier;
    let mut reporters: Vec<Arc<dyn prow_jobs::crier::JobReporter>> = Vec::new();
    if let Some(client) = slack_client(options)? {
        reporters.push(Arc::new(prow_jobs::crier::SlackReporter::new(client)));
    }
    if crier.blob_storage {
        let path = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        reporters.push(Arc::new(prow_jobs::crier::GcsReporter::new(
            &path(&options.gcs_credentials_file),
            &path(&options.s3_credentials_file),
        )));
    }
    Ok(reporters)
}
