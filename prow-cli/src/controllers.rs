//! The job controllers as commands: `prow plank`, `prow horologium`, `prow sinker` and the
//! hidden `prow run-pod` that plays one local pod in a process of its own.
//!
//! Each runs on the embedded default: the SQLite store, local pods and local artifacts under
//! one data directory, so several of them (or several restarts of one) share their state.
//! With `--kubeconfig`, `--kubeconfig-dir` or `--in-cluster` they run on Kubernetes instead:
//! ProwJob custom resources in `prowjob_namespace` and Pods in `pod_namespace` of the build
//! cluster each job names, as Prow's own controllers do.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prow_jobs::clock::SystemClock;
use prow_jobs::kube::{BuildClusters, IN_CLUSTER_ALIAS, KubeStore, load_cluster_configs};
use prow_jobs::runner::{ContainerRuntime, Launch, LocalOptions, LocalRunner, Runner};
use prow_jobs::store::{JobStore, SqliteStore};

/// Where the embedded default keeps its state.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// The directory for the job store (`prow.db`), pods (`pods/`) and artifacts (`artifacts/`).
    #[arg(long, value_name = "DIR", default_value = "prow-data")]
    pub data_dir: PathBuf,
    /// Kubernetes instead of the embedded default.
    #[command(flatten)]
    pub kube: KubeArgs,
}

/// Which Kubernetes clusters to use, as Prow's `--kubeconfig` flags: each kubeconfig context is
/// a build cluster alias; ProwJobs live in the cluster this runs in (or the current context).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KubeArgs {
    /// A kubeconfig file whose contexts are build clusters.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// A directory of kubeconfig files (a mounted secret), each context a build cluster.
    #[arg(long, value_name = "DIR")]
    pub kubeconfig_dir: Option<PathBuf>,
    /// Use Kubernetes through this pod's service account alone.
    #[arg(long)]
    pub in_cluster: bool,
}

impl KubeArgs {
    /// Whether any Kubernetes flag was given.
    pub fn enabled(&self) -> bool {
        self.in_cluster || self.kubeconfig.is_some() || self.kubeconfig_dir.is_some()
    }
}

/// The job store and the pods, on whichever backend the flags chose.
pub struct Backend {
    /// Where the ProwJobs are.
    pub store: Arc<dyn JobStore>,
    /// The pods, by build cluster alias (one `default` entry on the embedded default).
    pub clusters: Vec<(String, Arc<dyn Runner>)>,
    /// All of them as one runner, choosing the cluster by the job's alias.
    pub runner: Arc<dyn Runner>,
    /// Where things are, for people.
    pub description: String,
    /// The Kubernetes clients by cluster alias, the cluster this runs in as `default` unless a
    /// build cluster has that alias (empty on the embedded default).
    pub kube_clients: std::collections::BTreeMap<String, kube::Client>,
}

impl Backend {
    /// The built-in plugins, with config-updater writing ConfigMaps through Kubernetes when
    /// this backend is a cluster (the embedded default keeps its local-directory sink).
    pub fn plugins(
        &self,
    ) -> std::collections::BTreeMap<&'static str, Arc<dyn prow_server::plugins::Plugin>> {
        use prow_server::plugins::config_updater::{ConfigUpdater, KubeSink};
        let mut plugins = prow_server::plugins::builtin();
        let Some(home) = self.kube_clients.get("default") else {
            return plugins;
        };
        let sink = self
            .kube_clients
            .iter()
            .fold(KubeSink::new(home.clone()), |sink, (alias, client)| {
                sink.with_cluster(alias, client.clone())
            });
        let updater: Arc<dyn prow_server::plugins::Plugin> =
            Arc::new(ConfigUpdater::new(Arc::new(sink)));
        plugins.insert(updater.name(), updater);
        plugins
    }
}

impl DataArgs {
    /// The store and runner the flags chose: Kubernetes when a Kubernetes flag is given, the
    /// embedded default under `--data-dir` otherwise. `prow` holds the namespaces.
    pub async fn backend(
        &self,
        prow: &prow_config::prow::ProwConfig,
        runtime: ContainerRuntime,
    ) -> anyhow::Result<Backend> {
        if !self.kube.enabled() {
            let store = self.store().await?;
            let runner: Arc<dyn Runner> = Arc::new(self.runner(runtime)?);
            return Ok(Backend {
                store,
                clusters: vec![("default".to_owned(), runner.clone())],
                runner,
                kube_clients: Default::default(),
                description: format!(
                    "jobs in {}, pods under {}",
                    self.database().display(),
                    self.data_dir.join("pods").display()
                ),
            });
        }
        let configs = load_cluster_configs(
            self.kube.kubeconfig.as_deref(),
            self.kube.kubeconfig_dir.as_deref(),
        )
        .await?;
        let home = configs
            .get(IN_CLUSTER_ALIAS)
            .context("no cluster for the ProwJobs")?;
        let client = prow_jobs::kube::client(home.clone()).context("kube client")?;
        let store: Arc<dyn JobStore> =
            Arc::new(KubeStore::new(client.clone(), &prow.prowjob_namespace));
        let mut kube_clients = std::collections::BTreeMap::from([("default".to_owned(), client)]);
        let mut clusters: Vec<(String, Arc<dyn Runner>)> = Vec::new();
        for (alias, config) in &configs {
            if alias == IN_CLUSTER_ALIAS {
                continue;
            }
            let client = prow_jobs::kube::client(config.clone())
                .with_context(|| format!("kube client for build cluster {alias:?}"))?;
            kube_clients.insert(alias.clone(), client.clone());
            clusters.push((
                alias.clone(),
                Arc::new(prow_jobs::kube::KubeRunner::new(
                    client,
                    &prow.pod_namespace,
                    alias,
                )),
            ));
        }
        let runner: Arc<dyn Runner> =
            Arc::new(BuildClusters::from_configs(&configs, &prow.pod_namespace)?);
        let aliases: Vec<&str> = clusters.iter().map(|(a, _)| a.as_str()).collect();
        let description = format!(
            "prowjobs in namespace {:?}, pods in namespace {:?} of build clusters {}",
            prow.prowjob_namespace,
            prow.pod_namespace,
            aliases.join(", ")
        );
        Ok(Backend {
            store,
            clusters,
            runner,
            description,
            kube_clients,
        })
    }

    /// The SQLite file.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("prow.db")
    }

    /// Opens the store, creating the directory when needed.
    pub async fn store(&self) -> anyhow::Result<Arc<dyn JobStore>> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("create {}", self.data_dir.display()))?;
        let store = SqliteStore::open(self.database()).await?;
        Ok(Arc::new(store))
    }

    /// The local runner: pods under `pods/`, artifacts under `artifacts/`, each pod played by
    /// this very program (`run-pod`) in a process of its own so that pods outlive it.
    pub fn runner(&self, runtime: ContainerRuntime) -> anyhow::Result<LocalRunner> {
        let mut options = LocalOptions::new(self.data_dir.join("pods"));
        options.artifacts = Some(self.data_dir.join("artifacts"));
        options.runtime = runtime;
        options.launch = Launch::Command {
            program: std::env::current_exe().context("find this program")?,
            args: vec!["run-pod".into()],
        };
        Ok(LocalRunner::new(options)?)
    }
}

/// Which configuration to read.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Path to config.yaml.
    #[arg(long, value_name = "FILE")]
    pub config_path: PathBuf,
    /// Path to the job config file or directory.
    #[arg(long, value_name = "PATH")]
    pub job_config_path: Option<PathBuf>,
}

impl ConfigArgs {
    /// Loads the configuration, with every problem in the error.
    pub fn load(&self) -> anyhow::Result<prow_config::Config> {
        let options =
            prow_config::LoadOptions::new(&self.config_path, self.job_config_path.clone());
        prow_config::load(&options).map_err(|e| anyhow::anyhow!("error loading prow config: {e}"))
    }
}

/// Where containers run, as a flag.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RuntimeFlag {
    /// docker or podman when one answers, else the host.
    Auto,
    /// Always the host.
    Host,
    /// docker.
    Docker,
    /// podman.
    Podman,
}

impl From<RuntimeFlag> for ContainerRuntime {
    fn from(flag: RuntimeFlag) -> Self {
        match flag {
            RuntimeFlag::Auto => ContainerRuntime::Auto,
            RuntimeFlag::Host => ContainerRuntime::Host,
            RuntimeFlag::Docker => ContainerRuntime::Docker,
            RuntimeFlag::Podman => ContainerRuntime::Podman,
        }
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// `prow plank`: runs triggered ProwJobs to completion until stopped.
pub async fn plank(
    config: &ConfigArgs,
    data: &DataArgs,
    runtime: RuntimeFlag,
    resync: Duration,
) -> anyhow::Result<()> {
    let prow = config.load()?.prow;
    let backend = data.backend(&prow, runtime.into()).await?;
    let loaded = Arc::new(prow.plank);
    eprintln!("plank: {}", backend.description);
    let controller = prow_jobs::plank::Controller::new(
        backend.store,
        backend.runner,
        Arc::new(move || loaded.clone()),
        Arc::new(SystemClock),
    );
    controller.run(resync, shutdown_signal()).await;
    eprintln!("plank: stopped; running pods carry on and the next plank picks them up");
    Ok(())
}

/// `prow horologium`: starts periodics on schedule until stopped.
pub async fn horologium(config: &ConfigArgs, data: &DataArgs) -> anyhow::Result<()> {
    let loaded = config.load()?;
    let settings =
        prow_jobs::horologium::Settings::of(&loaded.jobs.periodics, &loaded.prow.horologium);
    let store = data
        .backend(&loaded.prow, ContainerRuntime::Host)
        .await?
        .store;
    prow_jobs::horologium::run(
        store.as_ref(),
        &SystemClock,
        move || settings.clone(),
        shutdown_signal(),
        |pass| match pass {
            Ok(report) => {
                for created in &report.created {
                    eprintln!("horologium: started {created:?}");
                }
                for error in &report.errors {
                    eprintln!("horologium: {error}");
                }
            }
            Err(e) => eprintln!("horologium: {e}"),
        },
    )
    .await;
    Ok(())
}

/// `prow sinker`: deletes old ProwJobs and pods until stopped.
pub async fn sinker(config: &ConfigArgs, data: &DataArgs) -> anyhow::Result<()> {
    let loaded = config.load()?;
    let settings = prow_jobs::sinker::Settings::of(&loaded.prow.sinker);
    let periodics = loaded.jobs.periodics.clone();
    let backend = data.backend(&loaded.prow, ContainerRuntime::Host).await?;
    let clusters: Vec<prow_jobs::sinker::Cluster<'_>> = backend
        .clusters
        .iter()
        .map(|(alias, runner)| prow_jobs::sinker::Cluster::new(alias, runner.as_ref()))
        .collect();
    prow_jobs::sinker::run(
        backend.store.as_ref(),
        &clusters,
        &SystemClock,
        move || (settings.clone(), periodics.clone()),
        shutdown_signal(),
        |pass| match pass {
            Ok(report) => eprintln!("sinker: {report:?}"),
            Err(e) => eprintln!("sinker: {e}"),
        },
    )
    .await;
    Ok(())
}

/// `prow run-pod DIR`: plays the local pod in `DIR` and exits with its code.
pub async fn run_pod(dir: &Path) -> i32 {
    prow_jobs::runner::run_pod_process(dir).await.code
}

/// How to reach GitHub.
#[derive(Debug, Clone, clap::Args)]
pub struct GitHubArgs {
    /// GitHub's API endpoint.
    #[arg(long, default_value = "https://api.github.com")]
    pub github_endpoint: String,
    /// A file holding the OAuth token.
    #[arg(long, value_name = "FILE")]
    pub github_token_path: PathBuf,
}

/// `prow crier`: reports ProwJob states to GitHub until stopped.
pub async fn crier(
    config: &ConfigArgs,
    data: &DataArgs,
    github: &GitHubArgs,
) -> anyhow::Result<()> {
    let loaded = config.load()?;
    let client = prow_github::octo::OctocrabClient::with_token_file(
        &github.github_endpoint,
        &github.github_token_path,
    )?;
    let reporter = prow_jobs::crier::GitHubReporter::new(Arc::new(client));
    let store = data
        .backend(&loaded.prow, ContainerRuntime::Host)
        .await?
        .store;
    let (_keep, settings) = tokio::sync::watch::channel(loaded.prow.github_reporter);
    prow_jobs::crier::run(
        store,
        reporter,
        settings,
        prow_jobs::crier::RunOptions::default(),
        shutdown_signal(),
        |pass| {
            for error in &pass.errors {
                eprintln!("crier: {error}");
            }
        },
    )
    .await;
    Ok(())
}

/// `prow hook`'s flags beyond the configuration and data ones (upstream hook's names).
#[derive(Debug, Clone, clap::Args)]
pub struct HookArgs {
    /// The port to listen on.
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// The path deliveries are posted to.
    #[arg(long, default_value = "/hook")]
    pub webhook_path: String,
    /// The HMAC secret file (a token, or Prow's YAML of tokens by org/repo).
    #[arg(long, value_name = "FILE", default_value = "/etc/webhook/hmac")]
    pub hmac_secret_file: PathBuf,
    /// Path to plugins.yaml.
    #[arg(long, value_name = "FILE", default_value = "/etc/plugins/plugins.yaml")]
    pub plugin_config: PathBuf,
    /// Log what plugins would do instead of doing it.
    #[arg(long)]
    pub dry_run: bool,
    /// GitHub's API endpoint.
    #[arg(long, default_value = "https://api.github.com")]
    pub github_endpoint: String,
    /// A file holding the OAuth token.
    #[arg(long, value_name = "FILE")]
    pub github_token_path: Option<PathBuf>,
    /// Use the in-memory fake GitHub seeded from this YAML file instead of GitHub.
    #[arg(long, value_name = "FILE", conflicts_with = "github_token_path")]
    pub github_fake: Option<PathBuf>,
    /// The bot's login (asked of GitHub when a token is given).
    #[arg(long, default_value = "")]
    pub bot_name: String,
    /// Act as this GitHub App instead of with a token (with `--github-app-private-key-path`).
    #[arg(long, value_name = "ID", requires = "github_app_private_key_path")]
    pub github_app_id: Option<u64>,
    /// The App's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "github_app_id")]
    pub github_app_private_key_path: Option<PathBuf>,
    /// The organisation whose installation of the App acts (ours: Prow finds one per org; we
    /// use one installation per process for now).
    #[arg(long, value_name = "ORG", requires = "github_app_id")]
    pub github_app_org: Option<String>,
}

/// The GitHub client and bot login `args` choose.
async fn hook_github(
    args: &HookArgs,
) -> anyhow::Result<(Arc<dyn prow_github::GitHubClient>, String)> {
    if let Some(path) = &args.github_fake {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
        let fake = prow_github::fake::FakeGitHub::from_seed_yaml(&text)
            .with_context(|| path.display().to_string())?;
        let bot = fake.state().bot.login.clone();
        return Ok((Arc::new(fake), bot));
    }
    let client = match (&args.github_app_id, &args.github_app_private_key_path) {
        (Some(app_id), Some(key)) => {
            let Some(org) = &args.github_app_org else {
                anyhow::bail!("a GitHub App also needs --github-app-org (whose installation acts)");
            };
            if args.bot_name.is_empty() {
                anyhow::bail!("a GitHub App also needs --bot-name (its `NAME[bot]` login)");
            }
            let pem = std::fs::read(key).with_context(|| format!("read {}", key.display()))?;
            prow_github::octo::OctocrabClient::with_app_for_org(
                &args.github_endpoint,
                *app_id,
                &pem,
                org,
            )
            .await?
        }
        _ => {
            let Some(token) = &args.github_token_path else {
                anyhow::bail!(
                    "give --github-token-path, --github-app-id with --github-app-private-key-path, or --github-fake FILE for the in-memory GitHub"
                );
            };
            prow_github::octo::OctocrabClient::with_token_file(&args.github_endpoint, token)?
        }
    };
    let bot = if args.bot_name.is_empty() {
        use prow_github::GitHubClient;
        client.bot_user().await?.login
    } else {
        args.bot_name.clone()
    };
    Ok((Arc::new(client), bot))
}

/// `prow hook`: serves the webhook until SIGTERM or SIGINT, then finishes the accepted events.
pub async fn hook(config: &ConfigArgs, data: &DataArgs, args: &HookArgs) -> anyhow::Result<()> {
    let loaded = config.load()?;
    let (plugins, warnings) = prow_config::plugins::load_plugins(
        &prow_config::plugins::PluginLoadOptions::new(&args.plugin_config),
    )
    .map_err(|e| anyhow::anyhow!("error loading plugin config: {e}"))?;
    for warning in warnings {
        eprintln!("hook: warning: {warning}");
    }
    let secret = std::fs::read(&args.hmac_secret_file)
        .with_context(|| format!("read {}", args.hmac_secret_file.display()))?;
    let secrets = prow_github::HmacSecrets::parse(&secret);
    let backend = data.backend(&loaded.prow, ContainerRuntime::Host).await?;
    let builtin = backend.plugins();
    let (github, bot) = hook_github(args).await?;
    let mut options = prow_server::hook::Options::default();
    options.webhook_path.clone_from(&args.webhook_path);
    options.dry_run = args.dry_run;
    let deps = prow_server::hook::Deps::new(
        github,
        backend.store,
        bot,
        secrets,
        prow_server::hook::HookConfig::new(loaded, plugins),
    );
    let agent = config_agent(config, args, &deps);
    let metrics = prow_server::metrics::Exporter::new()
        .with_store(deps.store.clone())
        .with_github(&deps.bot, deps.github.clone())
        .with_config_agent(agent.clone());
    let hook = prow_server::hook::Hook::start_with_plugins(options, deps, builtin);
    let metrics = metrics.with_hook(hook.metrics());
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", args.port))
        .await
        .with_context(|| format!("listen on port {}", args.port))?;
    eprintln!(
        "hook: listening on {} at {}",
        listener.local_addr()?,
        args.webhook_path
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    let server = async {
        let served = prow_server::serve::serve(
            listener,
            hook.router().merge(metrics.router()),
            shutdown_signal(),
        )
        .await;
        let _ = stop.send(true);
        served
    };
    let (served, ()) = tokio::join!(server, reload_config(&agent, "hook", None, until_stopped()));
    served?;
    eprintln!("hook: stopped accepting; finishing accepted events");
    hook.drain().await;
    Ok(())
}

/// A part of `prow serve` that `--without` switches off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Component {
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
}

/// `prow serve`: hook, plank, horologium, sinker, crier, tide, deck and metrics in one process
/// on one port, plus `/healthz` and `/healthz/ready`, each part but the health endpoints
/// switched off by naming it in `without`; SIGTERM or SIGINT stops accepting, lets the accepted
/// webhooks finish, and leaves running pods to the next start.
pub async fn serve(
    config: &ConfigArgs,
    data: &DataArgs,
    args: &HookArgs,
    runtime: RuntimeFlag,
    without: &[Component],
) -> anyhow::Result<()> {
    serve_until(config, data, args, runtime, without, shutdown_signal()).await
}

/// [`serve`] until `shutdown` completes (instead of until a signal).
pub async fn serve_until(
    config: &ConfigArgs,
    data: &DataArgs,
    args: &HookArgs,
    runtime: RuntimeFlag,
    without: &[Component],
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let on = |c: Component| !without.contains(&c);
    use axum::routing::get;

    let loaded = config.load()?;
    let (plugins, warnings) = prow_config::plugins::load_plugins(
        &prow_config::plugins::PluginLoadOptions::new(&args.plugin_config),
    )
    .map_err(|e| anyhow::anyhow!("error loading plugin config: {e}"))?;
    for warning in warnings {
        eprintln!("serve: warning: {warning}");
    }
    let secret = std::fs::read(&args.hmac_secret_file)
        .with_context(|| format!("read {}", args.hmac_secret_file.display()))?;
    let backend = data.backend(&loaded.prow, runtime.into()).await?;
    let (github, bot) = hook_github(args).await?;
    eprintln!("serve: {}", backend.description);

    let (reporter_config, reporter_settings) =
        tokio::sync::watch::channel(loaded.prow.github_reporter.clone());

    let mut options = prow_server::hook::Options::default();
    options.webhook_path.clone_from(&args.webhook_path);
    options.dry_run = args.dry_run;
    let deps = prow_server::hook::Deps::new(
        github.clone(),
        backend.store.clone(),
        bot,
        prow_github::HmacSecrets::parse(&secret),
        prow_server::hook::HookConfig::new(loaded, plugins),
    );
    let agent = config_agent(config, args, &deps);
    let figures = prow_server::metrics::TideFiguresCell::default();
    let metrics = prow_server::metrics::Exporter::new()
        .with_store(backend.store.clone())
        .with_github(&deps.bot, github.clone())
        .with_config_agent(agent.clone())
        .with_tide(figures.clone());
    let tide = Arc::new(
        prow_server::tide::Controller::new(
            github.clone(),
            backend.store.clone(),
            {
                let agent = agent.clone();
                Arc::new(move || agent.config().config.clone())
            },
            Arc::new(SystemClock),
        )
        .with_figures(figures),
    );
    let deck = prow_server::deck::Deck::new(
        backend.store.clone(),
        prow_server::deck::Deck::config_of(deps.config.clone()),
    )
    .github(github.clone())
    .tide_routes(prow_server::tide::router(tide.clone()));
    let deck = if data.kube.enabled() {
        deck
    } else {
        deck.artifacts_dir(data.data_dir.join("artifacts"))
            .pods_dir(data.data_dir.join("pods"))
    };
    let hook = prow_server::hook::Hook::start_with_plugins(options, deps, backend.plugins());
    let metrics = metrics.with_hook(hook.metrics());
    let mut app = axum::Router::new()
        .route("/healthz", get(|| async { "OK" }))
        .route("/healthz/ready", get(|| async { "OK" }));
    if on(Component::Hook) {
        app = app.merge(hook.router());
    }
    if on(Component::Metrics) {
        app = app.merge(metrics.router());
    }
    // deck answers its own paths (`/`, `/prowjobs.js`, `/tide.js`, ...); the rest goes on.
    let app = if on(Component::Deck) {
        deck.router().fallback_service(app)
    } else if on(Component::Tide) {
        app.merge(prow_server::tide::router(tide.clone()))
    } else {
        app
    };
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", args.port))
        .await
        .with_context(|| format!("listen on port {}", args.port))?;
    eprintln!("serve: listening on {}", listener.local_addr()?);

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|s| *s).await;
        }
    };
    let plank = prow_jobs::plank::Controller::new(
        backend.store.clone(),
        backend.runner.clone(),
        {
            let agent = agent.clone();
            Arc::new(move || Arc::new(agent.config().config.prow.plank.clone()))
        },
        Arc::new(SystemClock),
    );
    let clusters: Vec<prow_jobs::sinker::Cluster<'_>> = backend
        .clusters
        .iter()
        .map(|(alias, runner)| prow_jobs::sinker::Cluster::new(alias, runner.as_ref()))
        .collect();
    let reporter = prow_jobs::crier::GitHubReporter::new(github);
    let server = async {
        let served = prow_server::serve::serve(listener, app, shutdown).await;
        eprintln!("serve: stopped accepting; finishing accepted webhooks");
        let _ = stop.send(true);
        served
    };
    let (served, (), (), (), (), (), ()) = tokio::join!(
        server,
        reload_config(&agent, "serve", Some(&reporter_config), until_stopped()),
        when(on(Component::Tide), tide.clone().run(until_stopped())),
        when(
            on(Component::Plank),
            plank.run(Duration::from_secs(1), until_stopped())
        ),
        when(
            on(Component::Horologium),
            prow_jobs::horologium::run(
                backend.store.as_ref(),
                &SystemClock,
                || {
                    let config = agent.config();
                    prow_jobs::horologium::Settings::of(
                        &config.config.jobs.periodics,
                        &config.config.prow.horologium,
                    )
                },
                until_stopped(),
                |pass| {
                    if let Ok(report) = pass {
                        for created in &report.created {
                            eprintln!("horologium: started {created:?}");
                        }
                    }
                },
            )
        ),
        when(
            on(Component::Sinker),
            prow_jobs::sinker::run(
                backend.store.as_ref(),
                &clusters,
                &SystemClock,
                || {
                    let config = agent.config();
                    (
                        prow_jobs::sinker::Settings::of(&config.config.prow.sinker),
                        config.config.jobs.periodics.clone(),
                    )
                },
                until_stopped(),
                |_| {},
            )
        ),
        when(
            on(Component::Crier),
            prow_jobs::crier::run(
                backend.store.clone(),
                reporter,
                reporter_settings,
                prow_jobs::crier::RunOptions::default(),
                until_stopped(),
                |pass| {
                    for error in &pass.errors {
                        eprintln!("crier: {error}");
                    }
                },
            )
        ),
    );
    hook.drain().await;
    served?;
    Ok(())
}

/// How often `prow hook` and `prow serve` look for configuration changes.
const CONFIG_POLL: Duration = Duration::from_secs(2);

/// The config agent over the files the flags name, starting from the configuration hook
/// already loaded, and keeping hook's copy current.
fn config_agent(
    config: &ConfigArgs,
    args: &HookArgs,
    deps: &prow_server::hook::Deps,
) -> Arc<prow_server::config_agent::ConfigAgent> {
    let paths = prow_server::config_agent::ConfigPaths::new(
        &config.config_path,
        config.job_config_path.clone(),
    )
    .with_plugin_config(&args.plugin_config);
    let loaded = deps
        .config
        .read()
        .map(|c| c.clone())
        .unwrap_or_else(|e| e.into_inner().clone());
    let agent = Arc::new(prow_server::config_agent::ConfigAgent::with_config(
        paths, loaded,
    ));
    agent.keep_updated(deps.config.clone());
    agent
}

/// Looks for configuration changes until `stop`, says on stderr what became of each, and hands
/// crier's settings on when there is a crier.
async fn reload_config(
    agent: &prow_server::config_agent::ConfigAgent,
    component: &str,
    reporter: Option<&tokio::sync::watch::Sender<prow_config::prow::GitHubReporter>>,
    stop: impl Future<Output = ()>,
) {
    let mut status = agent.subscribe_status();
    let mut configs = agent.subscribe();
    let follow = async {
        loop {
            tokio::select! {
                changed = status.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let status = status.borrow_and_update().clone();
                    if status.errors.is_empty() {
                        eprintln!("{component}: configuration reloaded");
                    } else {
                        eprintln!(
                            "{component}: new configuration rejected, the previous one keeps serving:"
                        );
                        for error in &status.errors {
                            eprintln!("{component}:   {error}");
                        }
                    }
                }
                changed = configs.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let config = configs.borrow_and_update().clone();
                    if let Some(reporter) = reporter {
                        reporter.send_replace(config.config.prow.github_reporter.clone());
                    }
                }
            }
        }
    };
    tokio::select! {
        () = agent.run(CONFIG_POLL, stop) => {}
        () = follow => {}
    }
}

/// Runs `part` when `enabled`, else finishes at once.
async fn when(enabled: bool, part: impl Future<Output = ()>) {
    if enabled {
        part.await;
    }
}

/// `prow tide`: tide alone, syncing its pools and setting the `tide` context until SIGTERM or
/// SIGINT, serving `/tide.js`, `/tide-history.js`, `/metrics` and `/healthz` on `port`.
pub async fn tide(
    config: &ConfigArgs,
    data: &DataArgs,
    github: &GitHubArgs,
    port: u16,
) -> anyhow::Result<()> {
    use axum::routing::get;

    let loaded = Arc::new(config.load()?);
    let client: Arc<dyn prow_github::client::GitHubClient> =
        Arc::new(prow_github::octo::OctocrabClient::with_token_file(
            &github.github_endpoint,
            &github.github_token_path,
        )?);
    let store = data
        .backend(&loaded.prow, ContainerRuntime::Host)
        .await?
        .store;
    let figures = prow_server::metrics::TideFiguresCell::default();
    let tide = Arc::new(
        prow_server::tide::Controller::new(
            client.clone(),
            store.clone(),
            Arc::new(move || loaded.clone()),
            Arc::new(SystemClock),
        )
        .with_figures(figures.clone()),
    );
    let metrics = prow_server::metrics::Exporter::new()
        .with_store(store)
        .with_github("tide", client)
        .with_tide(figures);
    let app = prow_server::tide::router(tide.clone())
        .merge(metrics.router())
        .route("/healthz", get(|| async { "OK" }));
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("listen on port {port}"))?;
    eprintln!("tide: listening on {}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let server = async {
        let served = prow_server::serve::serve(listener, app, shutdown_signal()).await;
        let _ = stop.send(true);
        served
    };
    let until_stopped = async move {
        let mut stopped = stopped;
        let _ = stopped.wait_for(|s| *s).await;
    };
    let (served, ()) = tokio::join!(server, tide.run(until_stopped));
    served?;
    Ok(())
}

/// The flags `prow demo` hands to `prow serve`.
#[derive(clap::Parser)]
struct DemoServe {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    hook: HookArgs,
}

/// `prow demo`: `prow serve` on the demo files in `dir` (`examples/prow/`) with the fake
/// GitHub, then the demo's signed `/test all` comment sent to it like `phony` would. With
/// `once`, stops when the jobs it started have finished and answers whether all passed;
/// otherwise serves until SIGTERM or SIGINT.
pub async fn demo(
    dir: &Path,
    data_dir: &Path,
    port: u16,
    runtime: RuntimeFlag,
    once: bool,
) -> anyhow::Result<bool> {
    if !dir.join("config.yaml").is_file() {
        anyhow::bail!(
            "{} not found: run prow demo from a prow-rs checkout, or prow serve with your own files",
            dir.join("config.yaml").display()
        );
    }
    let path = |name: &str| dir.join(name).display().to_string();
    let parsed = <DemoServe as clap::Parser>::try_parse_from([
        "demo".to_owned(),
        "--config-path".to_owned(),
        path("config.yaml"),
        "--job-config-path".to_owned(),
        path("jobs"),
        "--plugin-config".to_owned(),
        path("plugins.yaml"),
        "--hmac-secret-file".to_owned(),
        path("hmac"),
        "--github-fake".to_owned(),
        path("github-fake.yaml"),
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
        "--port".to_owned(),
        port.to_string(),
    ])?;
    let secret = std::fs::read_to_string(dir.join("hmac"))
        .with_context(|| format!("read {}", path("hmac")))?;
    let payload = std::fs::read(dir.join("payloads/test-comment.json"))
        .with_context(|| format!("read {}", path("payloads/test-comment.json")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            () = shutdown_signal() => {}
            _ = stopped => {}
        }
    };
    let server = serve_until(
        &parsed.config,
        &parsed.data,
        &parsed.hook,
        runtime,
        &[],
        shutdown,
    );
    let base = format!("http://127.0.0.1:{port}");
    let driver = async {
        let client = reqwest::Client::new();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let answer = client.get(format!("{base}/healthz/ready")).send().await;
                if answer.is_ok_and(|a| a.status().is_success()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        ready
            .await
            .map_err(|_| anyhow::anyhow!("prow serve was not ready within 60 s"))?;
        let reply = prow_github::phony::deliver(
            &client,
            &format!("{base}/hook"),
            "issue_comment",
            &payload,
            secret.trim().as_bytes(),
        )
        .await?;
        eprintln!(
            "demo: sent the signed `/test all` comment on prow-demo/hello#1 ({}); deck: http://localhost:{port}/",
            reply.status
        );
        if !once {
            return Ok(true);
        }
        wait_for_finished_jobs(&client, &base).await
    };
    tokio::pin!(server);
    tokio::select! {
        served = &mut server => {
            served?;
            anyhow::bail!("prow serve stopped before the demo's jobs finished")
        }
        driven = driver => {
            let passed = driven?;
            if once {
                let _ = stop.send(());
            }
            server.await?;
            Ok(passed)
        }
    }
}

/// Polls `/prowjobs.js` until there are jobs and all have finished, prints each one's state and
/// answers whether all passed.
async fn wait_for_finished_jobs(client: &reqwest::Client, base: &str) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    loop {
        let body = client
            .get(format!("{base}/prowjobs.js"))
            .send()
            .await?
            .bytes()
            .await?;
        let jobs: serde_json::Value = serde_json::from_slice(&body)?;
        let states: Vec<(String, String)> = jobs["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|j| {
                        (
                            j["spec"]["job"].as_str().unwrap_or_default().to_owned(),
                            j["status"]["state"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let finished = |s: &str| matches!(s, "success" | "failure" | "aborted" | "error");
        if !states.is_empty() && states.iter().all(|(_, s)| finished(s)) {
            for (job, state) in &states {
                println!("{job}: {state}");
            }
            return Ok(states.iter().all(|(_, s)| s == "success"));
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("the demo's jobs did not finish within 10 minutes: {states:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `prow deck`: deck alone over the job store on `data` (read-only but for reruns and aborts),
/// with `/metrics` and `/healthz`, until SIGTERM or SIGINT.
pub async fn deck(
    config: &ConfigArgs,
    data: &DataArgs,
    plugin_config: Option<&Path>,
    port: u16,
) -> anyhow::Result<()> {
    use axum::routing::get;

    let loaded = config.load()?;
    let plugins = match plugin_config {
        Some(path) => {
            prow_config::plugins::load_plugins(&prow_config::plugins::PluginLoadOptions::new(path))
                .map_err(|e| anyhow::anyhow!("error loading plugin config: {e}"))?
                .0
        }
        None => prow_config::plugins::PluginConfig::default(),
    };
    let backend = data.backend(&loaded.prow, ContainerRuntime::Host).await?;
    let shared = Arc::new(prow_server::hook::HookConfig::new(loaded, plugins));
    let deck =
        prow_server::deck::Deck::new(backend.store.clone(), Arc::new(move || shared.clone()));
    let deck = if data.kube.enabled() {
        deck
    } else {
        deck.artifacts_dir(data.data_dir.join("artifacts"))
            .pods_dir(data.data_dir.join("pods"))
    };
    let metrics = prow_server::metrics::Exporter::new().with_store(backend.store.clone());
    let app = deck.router().fallback_service(
        metrics
            .router()
            .route("/healthz", get(|| async { "OK" }))
            .route("/healthz/ready", get(|| async { "OK" })),
    );
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .with_context(|| format!("listen on port {port}"))?;
    eprintln!("deck: listening on {}", listener.local_addr()?);
    prow_server::serve::serve(listener, app, shutdown_signal()).await?;
    Ok(())
}
