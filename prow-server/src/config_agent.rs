//! The config agent: watches `config.yaml`, the job-config tree and `plugins.yaml`, reloads
//! them when their content changes, and publishes each good configuration on the process's one
//! [`ConfigHandle`]; a bad one is reported (a log line per finding, a counter, the error list)
//! and the last good one keeps serving, as Prow's config agents do.
//!
//! Changes are found by file events (inotify through `notify`, watching the directories so that
//! Kubernetes' ConfigMap symlink swaps are seen), settled for a short debounce so that a `git
//! pull` touching many files reloads once, and confirmed by a hash of the files' content (so an
//! event that changed nothing reloads nothing). A slow poll of that hash catches what events
//! miss (network file systems, a watcher the kernel refused). Loading and validating run on
//! tokio's blocking pool, never on the workers that serve requests and run the controllers, so
//! a reload of a large tree does not stall `/healthz`. [`ConfigAgent::check_now`] does one check
//! on the caller's thread, so tests need no clock at all.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use prow_config::{ConfigPaths, SnapshotError as LoadError};
use prow_config::{ConfigSnapshot, load_snapshot};
use prow_jobs::config::ConfigHandle;
use tokio::sync::{Notify, watch};

/// How the agent notices changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchOptions {
    /// How long the files must stay quiet after an event before they are read.
    pub debounce: Duration,
    /// How often the files' hash is checked even without events.
    pub poll: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(300),
            poll: Duration::from_secs(60),
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
    current: watch::Sender<Arc<ConfigSnapshot>>,
    status: watch::Sender<ReloadStatus>,
    /// The fingerprint of the files at the last check, loaded or not.
    seen: Mutex<u64>,
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
        let (config, warnings) = load_snapshot(&paths)?;
        for warning in &warnings {
            tracing::warn!(component = "config", "{warning}");
        }
        Ok(ConfigAgent::with_config(paths, Arc::new(config)).seen_as(seen))
    }

    /// An agent over a configuration its caller already loaded from `paths`, so that start-up
    /// loads only once. Changes made between that load and this call are found at the next
    /// change after it.
    pub fn with_config(paths: ConfigPaths, config: Arc<ConfigSnapshot>) -> ConfigAgent {
        ConfigAgent {
            seen: Mutex::new(fingerprint(&paths)),
            paths,
            current: watch::Sender::new(config),
            status: watch::Sender::new(ReloadStatus::default()),
        }
    }

    fn seen_as(self, seen: u64) -> Self {
        *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = seen;
        self
    }

    /// The files watched.
    pub fn paths(&self) -> &ConfigPaths {
        &self.paths
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<ConfigSnapshot> {
        self.current.borrow().clone()
    }

    /// The process's configuration handle: every part reads the configuration through a clone
    /// of it and sees each one this agent publishes.
    pub fn handle(&self) -> ConfigHandle {
        ConfigHandle::new(self.current.subscribe())
    }

    /// The record of reloads.
    pub fn status(&self) -> ReloadStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every change of the record (each check that found a change).
    pub fn subscribe_status(&self) -> watch::Receiver<ReloadStatus> {
        self.status.subscribe()
    }

    /// Checks the files once, on this thread: reloads and publishes when their content
    /// changed. Blocks while reading and validating; async callers use
    /// [`ConfigAgent::check`].
    pub fn check_now(&self) -> Reload {
        let now = fingerprint(&self.paths);
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if *seen == now {
                return Reload::Unchanged;
            }
            *seen = now;
        }
        let path = self.paths.config_path.display().to_string();
        match load_snapshot(&self.paths) {
            Ok((config, warnings)) => {
                for warning in &warnings {
                    tracing::warn!(component = "config", "{warning}");
                }
                self.current.send_replace(Arc::new(config));
                self.status.send_modify(|s| {
                    s.reloads += 1;
                    s.errors.clear();
                });
                tracing::info!(component = "config", path = %path, "configuration reloaded");
                Reload::Reloaded
            }
            Err(e) => {
                tracing::error!(
                    component = "config",
                    path = %path,
                    errors = e.errors.len(),
                    "new configuration rejected, the previous one keeps serving"
                );
                for error in &e.errors {
                    tracing::error!(component = "config", "{error}");
                }
                self.status.send_modify(|s| {
                    s.failures += 1;
                    s.errors.clone_from(&e.errors);
                });
                Reload::Rejected(e)
            }
        }
    }

    /// [`ConfigAgent::check_now`] on tokio's blocking pool.
    pub async fn check(self: &Arc<Self>) -> Reload {
        let agent = Arc::clone(self);
        match tokio::task::spawn_blocking(move || agent.check_now()).await {
            Ok(reload) => reload,
            Err(e) => {
                tracing::error!(component = "config", "configuration check failed: {e}");
                Reload::Unchanged
            }
        }
    }

    /// Follows the files until `shutdown` completes: a check after every burst of file events
    /// has been quiet for `options.debounce`, and one every `options.poll` regardless.
    pub async fn run(self: Arc<Self>, options: WatchOptions, shutdown: impl Future<Output = ()>) {
        let events = Arc::new(Notify::new());
        // Kept alive for as long as the loop runs; dropping it stops the events.
        let _watcher = match watch_files(&self.paths, events.clone()) {
            Ok(watcher) => Some(watcher),
            Err(e) => {
                tracing::warn!(
                    component = "config",
                    "cannot watch the configuration files ({e}); checking every {:?} instead",
                    options.poll
                );
                None
            }
        };
        let mut poll = tokio::time::interval(options.poll);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick completes at once; the configuration was just loaded.
        poll.tick().await;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                _ = poll.tick() => {}
                () = events.notified() => {
                    // Wait for the burst to end: every further event restarts the wait.
                    loop {
                        tokio::select! {
                            () = &mut shutdown => return,
                            () = events.notified() => {}
                            () = tokio::time::sleep(options.debounce) => break,
                        }
                    }
                }
            }
            self.check().await;
        }
    }
}

/// Watches the directories the configuration lives in: `config.yaml`'s and `plugins.yaml`'s
/// directories (not recursively) and the job-config tree (recursively).
fn watch_files(
    paths: &ConfigPaths,
    events: Arc<Notify>,
) -> notify::Result<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            events.notify_one();
        }
    })?;
    let parent = |file: &Path| {
        file.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    watcher.watch(&parent(&paths.config_path), RecursiveMode::NonRecursive)?;
    if let Some(plugins) = &paths.plugin_config {
        watcher.watch(&parent(plugins), RecursiveMode::NonRecursive)?;
    }
    if let Some(jobs) = &paths.job_config_path {
        if jobs.is_dir() {
            watcher.watch(jobs, RecursiveMode::Recursive)?;
        } else {
            watcher.watch(&parent(jobs), RecursiveMode::NonRecursive)?;
        }
    }
    Ok(watcher)
}
