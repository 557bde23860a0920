//! Where ProwJobs and pods live: the embedded default (SQLite and local pods under one data
//! directory) or Kubernetes (ProwJob resources and Pods in build clusters), as the options say.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use prow_jobs::kube::{BuildClusters, IN_CLUSTER_ALIAS, KubeStore, load_cluster_configs};
use prow_jobs::runner::{ContainerRuntime, Launch, LocalOptions, LocalRunner, Runner};
use prow_jobs::store::{CachedStore, JobStore, SqliteStore};

use super::ProcessError;
use prow_plugins::Plugin;

/// Which backend to use.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BackendOptions {
    /// The embedded default's directory: `prow.db`, `pods/` and `artifacts/`.
    pub data_dir: PathBuf,
    /// A kubeconfig file whose contexts are build clusters.
    pub kubeconfig: Option<PathBuf>,
    /// A directory of kubeconfig files, each context a build cluster.
    pub kubeconfig_dir: Option<PathBuf>,
    /// Use Kubernetes through this pod's service account alone.
    pub in_cluster: bool,
    /// Where local pods' containers run.
    pub runtime: ContainerRuntime,
    /// How local pods are played: by default in a process of their own, `PROGRAM run-pod DIR`
    /// with this program, so that pods outlive the server.
    pub launch: Option<Launch>,
}

impl BackendOptions {
    /// The embedded default under `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        BackendOptions {
            data_dir: data_dir.into(),
            kubeconfig: None,
            kubeconfig_dir: None,
            in_cluster: false,
            runtime: ContainerRuntime::Auto,
            launch: None,
        }
    }

    /// Whether the options name Kubernetes.
    pub fn kubernetes(&self) -> bool {
        self.in_cluster || self.kubeconfig.is_some() || self.kubeconfig_dir.is_some()
    }
}

/// The job store and the pods, on whichever backend the options chose.
#[non_exhaustive]
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
    pub kube_clients: BTreeMap<String, kube::Client>,
    /// The local artifacts and pod directories deck reads (embedded default only).
    pub local_dirs: Option<(PathBuf, PathBuf)>,
    /// Embedded mode's ConfigMaps: one folder each under this one (config-updater writes them).
    pub configmaps: Option<PathBuf>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("description", &self.description)
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// Opens the backend `options` name; `prow` gives the Kubernetes namespaces.
    pub async fn open(
        options: &BackendOptions,
        prow: &prow_config::prow::ProwConfig,
    ) -> Result<Backend, ProcessError> {
        if !options.kubernetes() {
            return Self::embedded(options).await;
        }
        let kube = |what: String| {
            move |e: Box<dyn std::error::Error + Send + Sync>| ProcessError::Kubernetes {
                what,
                source: e,
            }
        };
        let configs = load_cluster_configs(
            options.kubeconfig.as_deref(),
            options.kubeconfig_dir.as_deref(),
        )
        .await
        .map_err(|e| kube("load the build clusters".into())(Box::new(e)))?;
        let home = configs.get(IN_CLUSTER_ALIAS).ok_or_else(|| {
            ProcessError::Options(
                "no cluster for the ProwJobs: run in a cluster or give a kubeconfig with a current context".into(),
            )
        })?;
        let client = prow_jobs::kube::client(home.clone())
            .map_err(|e| kube("kube client".into())(Box::new(e)))?;
        let store: Arc<dyn JobStore> =
            Arc::new(KubeStore::new(client.clone(), &prow.prowjob_namespace));
        let mut kube_clients = BTreeMap::from([("default".to_owned(), client)]);
        let mut clusters: Vec<(String, Arc<dyn Runner>)> = Vec::new();
        for (alias, config) in &configs {
            if alias == IN_CLUSTER_ALIAS {
                continue;
            }
            let client = prow_jobs::kube::client(config.clone()).map_err(|e| {
                kube(format!("kube client for build cluster {alias:?}"))(Box::new(e))
            })?;
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
        let runner: Arc<dyn Runner> = Arc::new(
            BuildClusters::from_configs(&configs, &prow.pod_namespace)
                .map_err(|e| kube("build cluster clients".into())(Box::new(e)))?,
        );
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
            local_dirs: None,
            configmaps: None,
        })
    }

    /// A backend of the caller's own store and runner (one `default` cluster).
    pub fn custom(store: Arc<dyn JobStore>, runner: Arc<dyn Runner>) -> Backend {
        Backend {
            store,
            clusters: vec![("default".to_owned(), runner.clone())],
            runner,
            description: "a store and runner of the embedder's".to_owned(),
            kube_clients: BTreeMap::new(),
            local_dirs: None,
            configmaps: None,
        }
    }

    async fn embedded(options: &BackendOptions) -> Result<Backend, ProcessError> {
        let dir = &options.data_dir;
        std::fs::create_dir_all(dir).map_err(|source| ProcessError::DataDir {
            path: dir.clone(),
            source,
        })?;
        let database = dir.join("prow.db");
        // Every part lists the jobs on each pass: they share one decoded copy.
        let store: Arc<dyn JobStore> = Arc::new(CachedStore::new(Arc::new(
            SqliteStore::open(&database)
                .await
                .map_err(ProcessError::Store)?,
        )));
        let mut local = LocalOptions::new(dir.join("pods"));
        local.artifacts = Some(dir.join("artifacts"));
        local.runtime = options.runtime;
        if let Some(launch) = &options.launch {
            local.launch = launch.clone();
        }
        let runner: Arc<dyn Runner> =
            Arc::new(LocalRunner::new(local).map_err(ProcessError::Runner)?);
        Ok(Backend {
            store,
            clusters: vec![("default".to_owned(), runner.clone())],
            runner,
            kube_clients: BTreeMap::new(),
            description: format!(
                "jobs in {}, pods under {}",
                database.display(),
                dir.join("pods").display()
            ),
            local_dirs: Some((dir.join("artifacts"), dir.join("pods"))),
            configmaps: Some(dir.join("configmaps")),
        })
    }

    /// The built-in plugins, with config-updater writing ConfigMaps through Kubernetes when
    /// this backend is a cluster, and into folders under the data directory when embedded.
    pub fn plugins(&self) -> BTreeMap<&'static str, Arc<dyn Plugin>> {
        use prow_plugins::plugins::config_updater::{ConfigUpdater, FileSink, KubeSink};
        let mut plugins = prow_plugins::builtin();
        let Some(home) = self.kube_clients.get("default") else {
            if let Some(dir) = &self.configmaps {
                let updater: Arc<dyn Plugin> =
                    Arc::new(ConfigUpdater::new(Arc::new(FileSink::under(dir))));
                plugins.insert(updater.name(), updater);
            }
            return plugins;
        };
        let sink = self
            .kube_clients
            .iter()
            .fold(KubeSink::new(home.clone()), |sink, (alias, client)| {
                sink.with_cluster(alias, client.clone())
            });
        let updater: Arc<dyn Plugin> = Arc::new(ConfigUpdater::new(Arc::new(sink)));
        plugins.insert(updater.name(), updater);
        plugins
    }
}
