//! The job controllers as commands: `prow plank`, `prow horologium`, `prow sinker` and the
//! hidden `prow run-pod` that plays one local pod in a process of its own.
//!
//! Each runs on the embedded default: the SQLite store, local pods and local artifacts under
//! one data directory, so several of them (or several restarts of one) share their state.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prow_jobs::clock::SystemClock;
use prow_jobs::runner::{ContainerRuntime, Launch, LocalOptions, LocalRunner};
use prow_jobs::store::{JobStore, SqliteStore};

/// Where the embedded default keeps its state.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// The directory for the job store (`prow.db`), pods (`pods/`) and artifacts (`artifacts/`).
    #[arg(long, value_name = "DIR", default_value = "prow-data")]
    pub data_dir: PathBuf,
}

impl DataArgs {
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
    let loaded = Arc::new(config.load()?.prow.plank);
    let store = data.store().await?;
    let runner = Arc::new(data.runner(runtime.into())?);
    eprintln!(
        "plank: jobs in {}, pods {} under {}",
        data.database().display(),
        runner.runtime().place(),
        data.data_dir.join("pods").display()
    );
    let controller = prow_jobs::plank::Controller::new(
        store,
        runner,
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
    let store = data.store().await?;
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
    let store = data.store().await?;
    let runner = data.runner(ContainerRuntime::Host)?;
    let clusters = [prow_jobs::sinker::Cluster::new("default", &runner)];
    prow_jobs::sinker::run(
        store.as_ref(),
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
    let (_keep, settings) = tokio::sync::watch::channel(loaded.prow.github_reporter);
    let store = data.store().await?;
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
