//! The long-running commands (`prow serve`, `hook`, `plank`, `horologium`, `sinker`, `crier`,
//! `tide`, `deck`, `status-reconciler`) as flags with Prow's names, turned into one
//! [`ProcessOptions`](prow_server::process::ProcessOptions) and handed to
//! [`Process`](prow_server::process::Process), which assembles and runs the parts.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::exit::{MissingFile, require_file};
use anyhow::Context;
use prow_server::process::{
    BackendOptions, DEFAULT_ENDPOINT, GitHubOptions, Part, Process, ProcessOptions,
};

/// `--plugin-config`'s default, where Prow's manifests mount plugins.yaml.
pub const DEFAULT_PLUGIN_CONFIG: &str = "/etc/plugins/plugins.yaml";
/// `--hmac-secret-file`'s default, where Prow's manifests mount the webhook secret.
pub const DEFAULT_HMAC_SECRET_FILE: &str = "/etc/webhook/hmac";

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

/// Where the embedded default keeps its state, or which Kubernetes clusters to use instead
/// (Prow's `--kubeconfig` flags: each context a build cluster alias; ProwJobs live in the
/// cluster this runs in, or the current context).
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// The directory for the job store (`prow.db`), pods (`pods/`) and artifacts (`artifacts/`).
    #[arg(long, value_name = "DIR", default_value = "prow-data")]
    pub data_dir: PathBuf,
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

impl From<RuntimeFlag> for prow_jobs::runner::ContainerRuntime {
    fn from(flag: RuntimeFlag) -> Self {
        match flag {
            RuntimeFlag::Auto => Self::Auto,
            RuntimeFlag::Host => Self::Host,
            RuntimeFlag::Docker => Self::Docker,
            RuntimeFlag::Podman => Self::Podman,
        }
    }
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
    /// Statuses of open pull requests kept in step with the presubmits.
    StatusReconciler,
}

/// Every part but those in `without`.
pub fn parts_without(without: &[Component]) -> Vec<Part> {
    let part = |c: &Component| match c {
        Component::Hook => Part::Hook,
        Component::Plank => Part::Plank,
        Component::Horologium => Part::Horologium,
        Component::Sinker => Part::Sinker,
        Component::Crier => Part::Crier,
        Component::Tide => Part::Tide,
        Component::Deck => Part::Deck,
        Component::Metrics => Part::Metrics,
        Component::StatusReconciler => Part::StatusReconciler,
    };
    let off: Vec<Part> = without.iter().map(part).collect();
    Part::ALL.into_iter().filter(|p| !off.contains(p)).collect()
}

/// status-reconciler's flags (upstream `status-reconciler`'s names).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StatusReconcilerArgs {
    /// Go on with the next pull request or repository when one fails.
    #[arg(long)]
    pub continue_on_error: bool,
    /// Org or org/repo whose added presubmits are not run (repeatable).
    #[arg(long, value_name = "ORG[/REPO]")]
    pub denylist: Vec<String>,
    /// Org or org/repo left entirely alone: no added presubmits run, no context retired or
    /// moved (repeatable).
    #[arg(long, value_name = "ORG[/REPO]")]
    pub denylist_all: Vec<String>,
    /// A local file keeping the presubmits last reconciled, so that a change made while
    /// status-reconciler was stopped is reconciled when it starts.
    #[arg(long, value_name = "FILE")]
    pub status_path: Option<PathBuf>,
}

impl StatusReconcilerArgs {
    /// The reconciler's options from these flags; `dry_run` as the command decides.
    pub fn options(&self, dry_run: bool) -> anyhow::Result<prow_server::statusreconciler::Options> {
        if let Some(path) = &self.status_path {
            let text = path.to_string_lossy();
            if text.starts_with("gs://") || text.starts_with("s3://") {
                anyhow::bail!(
                    "--status-path {text}: only a local file is supported, not object storage"
                );
            }
        }
        Ok(prow_server::statusreconciler::Options::default()
            .with_continue_on_error(self.continue_on_error)
            .with_denylist(self.denylist.iter().cloned())
            .with_denylist_all(self.denylist_all.iter().cloned())
            .with_dry_run(dry_run)
            .with_status_path(self.status_path.clone()))
    }
}

/// How to reach GitHub (upstream's flag names).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GitHubArgs {
    /// GitHub's API endpoint.
    #[arg(long, default_value = DEFAULT_ENDPOINT)]
    pub github_endpoint: String,
    /// A file holding the bot's OAuth token.
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
    /// An organisation the App must be installed in, checked at start (optional: each call
    /// acts through the installation of the organisation it names).
    #[arg(long, value_name = "ORG", requires = "github_app_id")]
    pub github_app_org: Option<String>,
}

/// hook's flags (upstream hook's names).
#[derive(Debug, Clone, clap::Args)]
pub struct HookArgs {
    /// The port to listen on.
    #[arg(long, default_value_t = 8888)]
    pub port: u16,
    /// The path deliveries are posted to.
    #[arg(long, default_value = "/hook")]
    pub webhook_path: String,
    /// The HMAC secret file (a token, or Prow's YAML of tokens by org/repo).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_HMAC_SECRET_FILE)]
    pub hmac_secret_file: PathBuf,
    /// Path to plugins.yaml.
    #[arg(long, value_name = "FILE", default_value = DEFAULT_PLUGIN_CONFIG)]
    pub plugin_config: PathBuf,
    /// Log what plugins would do instead of doing it.
    #[arg(long)]
    pub dry_run: bool,
    /// The issue trackers of the jira and bugzilla plugins.
    #[command(flatten)]
    pub trackers: TrackerArgs,
}

/// The issue trackers of the jira and bugzilla plugins (upstream's `--jira-*` and
/// `--bugzilla-*` flags).
#[derive(Debug, Clone, clap::Args)]
pub struct TrackerArgs {
    /// The Jira endpoint to use (the jira plugin does nothing without one).
    #[arg(long, value_name = "URL")]
    pub jira_endpoint: Option<String>,
    /// The username to use for Jira basic auth.
    #[arg(long, value_name = "USER")]
    pub jira_username: Option<String>,
    /// Location to a file containing the Jira basic auth password.
    #[arg(long, value_name = "FILE")]
    pub jira_password_file: Option<PathBuf>,
    /// Location to a file containing the Jira bearer authorization token.
    #[arg(long, value_name = "FILE")]
    pub jira_bearer_token_file: Option<PathBuf>,
    /// Bugzilla's API endpoint (the bugzilla plugin does nothing without one).
    #[arg(long, value_name = "URL")]
    pub bugzilla_endpoint: Option<String>,
    /// Path to the file containing the Bugzilla API key.
    #[arg(long, value_name = "FILE")]
    pub bugzilla_api_key_path: Option<PathBuf>,
    /// Which authorization method will be used. Values can be bearer, query or
    /// x-bugzilla-api-key.
    #[arg(long, value_name = "METHOD", default_value = "")]
    pub bugzilla_auth_method: String,
    /// The ext_type_id for GitHub external bugs, optional.
    #[arg(long, value_name = "ID", default_value_t = 0)]
    pub bugzilla_github_external_tracker_id: u64,
}

impl TrackerArgs {
    /// The process's tracker options.
    pub fn options(&self) -> prow_server::process::TrackerOptions {
        let mut options = prow_server::process::TrackerOptions::default();
        options.jira_endpoint.clone_from(&self.jira_endpoint);
        options.jira_username.clone_from(&self.jira_username);
        options
            .jira_password_file
            .clone_from(&self.jira_password_file);
        options
            .jira_bearer_token_file
            .clone_from(&self.jira_bearer_token_file);
        options
            .bugzilla_endpoint
            .clone_from(&self.bugzilla_endpoint);
        options
            .bugzilla_api_key_path
            .clone_from(&self.bugzilla_api_key_path);
        options
            .bugzilla_auth_method
            .clone_from(&self.bugzilla_auth_method);
        options.bugzilla_github_external_tracker_id = self.bugzilla_github_external_tracker_id;
        options
    }
}

/// Flags of every long-running command.
#[derive(Debug, Clone, clap::Args)]
pub struct ProcessArgs {
    /// How long a stop may take after SIGTERM: accepted webhooks and running passes finish
    /// within it, whatever clients do.
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub grace_period: prow_core::Duration,
    /// The header an authenticating proxy in front of deck sets to the user's GitHub login
    /// (such as `X-Forwarded-User`). Without it deck trusts no header, and reruns and aborts
    /// need `allow_anyone`.
    #[arg(long, value_name = "HEADER")]
    pub deck_trusted_proxy_header: Option<String>,
    /// deck's GitHub login: upstream's `github_oauth_config` YAML (with `--cookie-secret`).
    #[arg(long, value_name = "FILE", requires = "cookie_secret")]
    pub github_oauth_config_file: Option<PathBuf>,
    /// The file holding the key deck signs its session cookies with (32 bytes or more).
    #[arg(long, value_name = "FILE", requires = "github_oauth_config_file")]
    pub cookie_secret: Option<PathBuf>,
    /// Credentials for reading artifacts from GCS.
    #[arg(long, value_name = "FILE")]
    pub gcs_credentials_file: Option<PathBuf>,
    /// Credentials for reading artifacts from S3.
    #[arg(long, value_name = "FILE")]
    pub s3_credentials_file: Option<PathBuf>,
    /// crier's reporters besides GitHub's.
    #[command(flatten)]
    pub crier: CrierArgs,
}

/// crier's Slack and blob-storage reporters (upstream crier's flag names).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CrierArgs {
    /// The Slack bot token file; the Slack reporter runs when it is given.
    #[arg(long, value_name = "FILE")]
    pub slack_token_file: Option<PathBuf>,
    /// Tokens for other Slack hosts, as `host=path` (repeatable).
    #[arg(long, value_name = "HOST=FILE", value_parser = parse_host_token)]
    pub additional_slack_token_files: Vec<(String, PathBuf)>,
    /// Slack's Web API (a test server, a proxy).
    #[arg(long, value_name = "URL")]
    pub slack_api_url: Option<String>,
    /// Above zero, crier writes each job's `prowjob.json` into its artifacts.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub blob_storage_workers: u32,
    /// The older name of `--blob-storage-workers`.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub gcs_workers: u32,
}

/// `host=path`, as upstream's Slack hosts flag reads it.
fn parse_host_token(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        Some((host, path)) if !host.is_empty() && !path.is_empty() => {
            Ok((host.to_owned(), PathBuf::from(path)))
        }
        _ => Err(format!("{value} not in the form of host=token-path")),
    }
}

/// What a command runs, from its flags.
#[derive(Debug)]
pub struct Command<'a> {
    /// The configuration files.
    pub config: &'a ConfigArgs,
    /// `plugins.yaml`, when the command reads it.
    pub plugin_config: Option<&'a Path>,
    /// The backend.
    pub data: &'a DataArgs,
    /// Where containers run.
    pub runtime: RuntimeFlag,
    /// GitHub, when the command reaches it.
    pub github: Option<&'a GitHubArgs>,
    /// The port to serve on, if any.
    pub port: Option<u16>,
    /// The parts.
    pub parts: Vec<Part>,
}

impl<'a> Command<'a> {
    /// The same command with containers running as `runtime` says.
    pub fn runtime(mut self, runtime: RuntimeFlag) -> Self {
        self.runtime = runtime;
        self
    }

    /// The same command reaching GitHub as `github` says.
    pub fn github(mut self, github: &'a GitHubArgs) -> Self {
        self.github = Some(github);
        self
    }

    /// The same command serving HTTP on `port`.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Fails, naming the flag, when a file the flags name does not exist.
    fn check_files(&self, process: &ProcessArgs) -> Result<(), MissingFile> {
        require_file("--config-path", &self.config.config_path, None)?;
        if let Some(jobs) = &self.config.job_config_path {
            require_file("--job-config-path", jobs, None)?;
        }
        if let Some(plugins) = self.plugin_config {
            require_file("--plugin-config", plugins, Some(DEFAULT_PLUGIN_CONFIG))?;
        }
        if let Some(github) = self.github {
            let files = [
                ("--github-token-path", &github.github_token_path),
                ("--github-fake", &github.github_fake),
                (
                    "--github-app-private-key-path",
                    &github.github_app_private_key_path,
                ),
            ];
            for (flag, path) in files {
                if let Some(path) = path {
                    require_file(flag, path, None)?;
                }
            }
        }
        let files = [
            ("--kubeconfig", &self.data.kubeconfig),
            ("--kubeconfig-dir", &self.data.kubeconfig_dir),
            (
                "--github-oauth-config-file",
                &process.github_oauth_config_file,
            ),
            ("--cookie-secret", &process.cookie_secret),
            ("--gcs-credentials-file", &process.gcs_credentials_file),
            ("--s3-credentials-file", &process.s3_credentials_file),
        ];
        for (flag, path) in files {
            if let Some(path) = path {
                require_file(flag, path, None)?;
            }
        }
        Ok(())
    }

    /// The process options these flags describe; a file they name that does not exist fails
    /// here, naming its flag.
    pub fn options(&self, process: &ProcessArgs) -> anyhow::Result<ProcessOptions> {
        self.check_files(process)?;
        let mut paths = prow_config::ConfigPaths::new(
            &self.config.config_path,
            self.config.job_config_path.clone(),
        );
        if let Some(plugins) = self.plugin_config {
            paths = paths.with_plugin_config(plugins);
        }
        let mut options = ProcessOptions::new(paths, self.parts.iter().copied());
        let mut backend = BackendOptions::embedded(&self.data.data_dir);
        backend.kubeconfig.clone_from(&self.data.kubeconfig);
        backend.kubeconfig_dir.clone_from(&self.data.kubeconfig_dir);
        backend.in_cluster = self.data.in_cluster;
        backend.runtime = self.runtime.into();
        backend.launch = Some(prow_jobs::runner::Launch::Command {
            program: std::env::current_exe().context("find this program")?,
            args: vec!["run-pod".into()],
        });
        options.backend = backend;
        if let Some(github) = self.github {
            options.github = github_options(github)?;
        }
        options.listen = self
            .port
            .map(|port| SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
        options.grace_period = process
            .grace_period
            .to_std()
            .context("--grace-period must not be negative")?;
        options
            .deck_trusted_proxy_header
            .clone_from(&process.deck_trusted_proxy_header);
        options.deck_oauth = process
            .github_oauth_config_file
            .clone()
            .zip(process.cookie_secret.clone());
        options
            .gcs_credentials_file
            .clone_from(&process.gcs_credentials_file);
        options
            .s3_credentials_file
            .clone_from(&process.s3_credentials_file);
        let crier = &process.crier;
        options
            .crier
            .slack_token_file
            .clone_from(&crier.slack_token_file);
        options
            .crier
            .additional_slack_token_files
            .clone_from(&crier.additional_slack_token_files);
        options.crier.slack_api_url.clone_from(&crier.slack_api_url);
        options.crier.blob_storage = crier.blob_storage_workers > 0 || crier.gcs_workers > 0;
        Ok(options)
    }
}

/// The GitHub options the flags give.
pub fn github_options(args: &GitHubArgs) -> anyhow::Result<GitHubOptions> {
    if let Some(path) = &args.github_fake {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("read {} (the --github-fake seed file)", path.display()))?;
        let fake = prow_github::fake::FakeGitHub::from_seed_yaml(&text)
            .with_context(|| path.display().to_string())?;
        let bot = fake.state().bot.login.clone();
        return Ok(GitHubOptions::Client(std::sync::Arc::new(fake), bot));
    }
    if let (Some(app_id), Some(key)) = (args.github_app_id, &args.github_app_private_key_path) {
        return Ok(GitHubOptions::App {
            endpoint: args.github_endpoint.clone(),
            app_id,
            private_key_path: key.clone(),
            org: args.github_app_org.clone(),
            bot: args.bot_name.clone(),
        });
    }
    Ok(match &args.github_token_path {
        Some(token_path) => GitHubOptions::Token {
            endpoint: args.github_endpoint.clone(),
            token_path: token_path.clone(),
            bot: args.bot_name.clone(),
        },
        None => GitHubOptions::None,
    })
}

/// Builds the process and runs it until SIGTERM or SIGINT.
pub async fn run(options: ProcessOptions) -> anyhow::Result<()> {
    run_until(options, shutdown_signal()).await
}

/// Builds the process and runs it until `shutdown` completes.
pub async fn run_until(
    options: ProcessOptions,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let process = Process::build(options).await?;
    process.run(shutdown).await?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a signal that arrives while the process is still starting
/// its parts stops it gracefully instead of killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let streams = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    async move {
        let (Ok(mut term), Ok(mut int)) = streams else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
}

/// `prow run-pod DIR`: plays the local pod in `DIR` and exits with its code.
pub async fn run_pod(dir: &Path) -> i32 {
    prow_jobs::runner::run_pod_process(dir).await.code
}
