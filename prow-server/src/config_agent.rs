//! The config agent: watches `config.yaml`, the job-config tree and `plugins.yaml`, reloads
//! them when their content changes, and publishes each good configuration to whoever
//! subscribed; a bad one is reported (log line, counter, the error list) and the last good one
//! keeps serving, as Prow's config agents do.
//!
//! Changes are found by hashing the files' content on an interval (portable, and immune to
//! the same-second mtime problem Prow works around by reloading every ten minutes anyway);
//! [`ConfigAgent::check_now`] does one check on demand, so tests need no clock at all.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::watch;

use crate::hook::HookConfig;

/// Which files make up the configuration (Prow's `--config-path`, `--job-config-path` and
/// `--plugin-config`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigPaths {
    /// `config.yaml`.
    pub config_path: PathBuf,
    /// The job config file or directory tree, if any.
    pub job_config_path: Option<PathBuf>,
    /// `plugins.yaml`, if any (without it the plugin configuration is empty).
    pub plugin_config: Option<PathBuf>,
}

impl ConfigPaths {
    /// `config.yaml` and the job configuration, without plugins.
    pub fn new(config_path: impl Into<PathBuf>, job_config_path: Option<PathBuf>) -> Self {
        ConfigPaths {
            config_path: config_path.into(),
            job_config_path,
            plugin_config: None,
        }
    }

    /// The same paths with `plugins.yaml`.
    pub fn with_plugin_config(mut self, path: impl Into<PathBuf>) -> Self {
        self.plugin_config = Some(path.into());
        self
    }
}

/// A configuration that could not be loaded, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("load configuration: {} error(s): {}", errors.len(), errors.join("; "))]
#[non_exhaustive]
pub struct LoadError {
    /// Every problem, each naming its file (and field or line when known).
    pub errors: Vec<String>,
}

/// Loads the configuration the paths name: every error of `config.yaml`, the jobs and
/// `plugins.yaml` together, or the configuration and its warnings.
pub fn load(paths: &ConfigPaths) -> Result<(HookConfig, Vec<String>), LoadError> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let options = prow_config::LoadOptions::new(&paths.config_path, paths.job_config_path.clone());
    let config = match prow_config::load(&options) {
        Ok(config) => {
            warnings.extend(config.warnings.iter().map(ToString::to_string));
            Some(config)
        }
        Err(e) => {
            errors.extend(config_errors(&e));
            None
        }
    };
    let plugins = match &paths.plugin_config {
        None => Some(prow_config::plugins::PluginConfig::default()),
        Some(path) => {
            match prow_config::plugins::load_plugins(&prow_config::plugins::PluginLoadOptions::new(
                path,
            )) {
                Ok((plugins, found)) => {
                    warnings.extend(found.iter().map(ToString::to_string));
                    Some(plugins)
                }
                Err(e) => {
                    errors.extend(config_errors(&e));
                    None
                }
            }
        }
    };
    match (config, plugins) {
        (Some(config), Some(plugins)) if errors.is_empty() => {
            Ok((HookConfig::new(config, plugins), warnings))
        }
        _ => Err(LoadError { errors }),
    }
}

/// One line per problem of a prow-config error, causes included.
fn config_errors(error: &prow_config::Error) -> Vec<String> {
    match error {
        prow_config::Error::Invalid { errors } => errors.iter().map(ToString::to_string).collect(),
        other => {
            let mut line = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(cause) = source {
                line.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            vec![line]
        }
    }
}

/// A hash of everything the loader reads: each file's path and content, directories walked
/// in name order as the job-config loader walks them (`.yaml`, `.yml` and `.prowignore` files,
/// skipping Kubernetes' `..`-prefixed entries). A missing or unreadable path hashes as such, so
/// it changes the fingerprint and the load that follows reports it.
pub fn fingerprint(paths: &ConfigPaths) -> u64 {
    let mut hasher = DefaultHasher::new();
    hash_file(&paths.config_path, &mut hasher);
    if let Some(jobs) = &paths.job_config_path {
        if jobs.is_dir() {
            hash_dir(jobs, 0, &mut hasher);
        } else {
            hash_file(jobs, &mut hasher);
        }
    }
    if let Some(plugins) = &paths.plugin_config {
        hash_file(plugins, &mut hasher);
    }
    hasher.finish()
}

/// How deep directories are walked: far beyond any real job tree, short of a symlink loop.
const MAX_DEPTH: usize = 64;

fn hash_file(path: &Path, hasher: &mut DefaultHasher) {
    path.hash(hasher);
    match std::fs::read(path) {
        Ok(content) => content.hash(hasher),
        Err(e) => e.kind().to_string().hash(hasher),
    }
}

fn hash_dir(dir: &Path, depth: usize, hasher: &mut DefaultHasher) {
    dir.hash(hasher);
    let Ok(entries) = std::fs::read_dir(dir) else {
        "unreadable directory".hash(hasher);
        return;
    };
    let mut children: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with(".."))
        .collect();
    children.sort();
    for (name, path) in children {
        if path.is_dir() {
            if depth < MAX_DEPTH {
                hash_dir(&path, depth + 1, hasher);
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") || name == ".prowignore" {
            hash_file(&path, hasher);
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reload {
    /// The files are as they were at the last check.
    Unchanged,
    /// The files changed and the new configuration is published.
    Reloaded,
    /// The files changed but do not load; the previous configuration stays.
    Rejected(LoadError),
}

/// The agent's record of reloads, for metrics and health pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReloadStatus {
    /// Configurations published after the first.
    pub reloads: u64,
    /// Changes rejected because they did not load.
    pub failures: u64,
    /// The errors of the files as they are now; empty when they loaded.
    pub errors: Vec<String>,
}

/// Watches the configuration files and publishes each good configuration.
pub struct ConfigAgent {
    paths: ConfigPaths,
    current: watch::Sender<Arc<HookConfig>>,
    status: watch::Sender<ReloadStatus>,
    /// The fingerprint of the files at the last check, loaded or not.
    seen: Mutex<u64>,
    /// Shared configuration slots kept up to date (hook's `Deps::config`).
    targets: Mutex<Vec<Arc<RwLock<Arc<HookConfig>>>>>,
}

impl std::fmt::Debug for ConfigAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigAgent")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl ConfigAgent {
    /// Loads the configuration for the first time; it must load (as Prow's components refuse
    /// to start on a bad configuration). Warnings are logged.
    pub fn load(paths: ConfigPaths) -> Result<ConfigAgent, LoadError> {
        let seen = fingerprint(&paths);
        let (config, warnings) = load(&paths)?;
        for warning in &warnings {
            tracing::warn!(target: "config", "{warning}");
        }
        Ok(ConfigAgent {
            paths,
            current: watch::Sender::new(Arc::new(config)),
            status: watch::Sender::new(ReloadStatus::default()),
            seen: Mutex::new(seen),
            targets: Mutex::default(),
        })
    }

    /// An agent over a configuration its caller already loaded from `paths`, so that start-up
    /// loads only once. Changes made between that load and this call are found at the next
    /// change after it.
    pub fn with_config(paths: ConfigPaths, config: Arc<HookConfig>) -> ConfigAgent {
        ConfigAgent {
            seen: Mutex::new(fingerprint(&paths)),
            paths,
            current: watch::Sender::new(config),
            status: watch::Sender::new(ReloadStatus::default()),
            targets: Mutex::default(),
        }
    }

    /// The files watched.
    pub fn paths(&self) -> &ConfigPaths {
        &self.paths
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<HookConfig> {
        self.current.borrow().clone()
    }

    /// A receiver that sees every configuration published from now on.
    pub fn subscribe(&self) -> watch::Receiver<Arc<HookConfig>> {
        self.current.subscribe()
    }

    /// The record of reloads.
    pub fn status(&self) -> ReloadStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every change of the record (each check that found a change).
    pub fn subscribe_status(&self) -> watch::Receiver<ReloadStatus> {
        self.status.subscribe()
    }

    /// Keeps `slot` (such as hook's `Deps::config`) set to the configuration in force: now,
    /// and at every reload, before [`ConfigAgent::check_now`] returns.
    pub fn keep_updated(&self, slot: Arc<RwLock<Arc<HookConfig>>>) {
        // Under the lock, so that a reload cannot slip between setting and registering.
        let mut targets = self.targets.lock().unwrap_or_else(|e| e.into_inner());
        store(&slot, self.config());
        targets.push(slot);
    }

    /// Checks the files once: reloads and publishes when their content changed.
    pub fn check_now(&self) -> Reload {
        let now = fingerprint(&self.paths);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if *seen == now {
                return Reload::Unchanged;
            }
            *seen = now;
        }
        match load(&self.paths) {
            Ok((config, warnings)) => {
                for warning in &warnings {
                    tracing::warn!(target: "config", "{warning}");
                }
                let config = Arc::new(config);
                let targets = self.targets.lock().unwrap_or_else(|e| e.into_inner());
                for slot in targets.iter() {
                    store(slot, config.clone());
                }
                self.current.send_replace(config);
                drop(targets);
                self.status.send_modify(|s| {
                    s.reloads += 1;
                    s.errors.clear();
                });
                tracing::info!(target: "config", path = %self.paths.config_path.display(), "configuration reloaded");
                Reload::Reloaded
            }
            Err(e) => {
                tracing::error!(target: "config", path = %self.paths.config_path.display(), "new configuration rejected, the previous one stays: {e}");
                self.status.send_modify(|s| {
                    s.failures += 1;
                    s.errors.clone_from(&e.errors);
                });
                Reload::Rejected(e)
            }
        }
    }

    /// Checks the files every `interval` until `shutdown` completes.
    pub async fn run(&self, interval: Duration, shutdown: impl Future<Output = ()>) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes at once; the configuration was just loaded.
        ticks.tick().await;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = ticks.tick() => {
                    self.check_now();
                }
            }
        }
    }
}

fn store(slot: &RwLock<Arc<HookConfig>>, config: Arc<HookConfig>) {
    *slot.write().unwrap_or_else(|e| e.into_inner()) = config;
}
