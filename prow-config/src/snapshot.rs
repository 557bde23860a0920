//! One version of the whole configuration: `config.yaml` with the job configs, and
//! `plugins.yaml`, loaded together so that every component of a process reads the same pair.
//!
//! [`load_snapshot`] is the one call that reads both (what Prow's config agent and plugin agent
//! do between them); every server part reads its settings from the [`ConfigSnapshot`] it
//! returns.

use std::path::PathBuf;
use std::sync::Arc;

use crate::plugins::{PluginConfig, PluginLoadOptions, load_plugins};
use crate::{Config, Error, LoadOptions, load};

/// `config.yaml`, the jobs and `plugins.yaml` of one moment, shared and never changed in place:
/// a reload makes a new snapshot.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConfigSnapshot {
    /// `config.yaml` and the job configuration.
    pub config: Arc<Config>,
    /// `plugins.yaml` (empty when the process reads none).
    pub plugins: Arc<PluginConfig>,
}

impl ConfigSnapshot {
    /// A snapshot of two parts already shared.
    pub fn from_shared(config: Arc<Config>, plugins: Arc<PluginConfig>) -> Self {
        ConfigSnapshot { config, plugins }
    }

    /// A snapshot of these two parts.
    pub fn new(config: Config, plugins: PluginConfig) -> Self {
        ConfigSnapshot {
            config: Arc::new(config),
            plugins: Arc::new(plugins),
        }
    }
}

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

/// A configuration that could not be loaded, with every problem found in any of its files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("load configuration: {} error(s): {}", errors.len(), errors.join("; "))]
#[non_exhaustive]
pub struct SnapshotError {
    /// Every problem, each naming its file (and field or line when known).
    pub errors: Vec<String>,
}

/// Loads `config.yaml`, the jobs and `plugins.yaml` that `paths` name: the snapshot and every
/// warning, or every error of all the files together.
pub fn load_snapshot(paths: &ConfigPaths) -> Result<(ConfigSnapshot, Vec<String>), SnapshotError> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let options = LoadOptions::new(&paths.config_path, paths.job_config_path.clone());
    let config = match load(&options) {
        Ok(config) => {
            warnings.extend(config.warnings.iter().map(ToString::to_string));
            Some(config)
        }
        Err(e) => {
            errors.extend(error_lines(&e));
            None
        }
    };
    let plugins = match &paths.plugin_config {
        None => Some(PluginConfig::default()),
        Some(path) => match load_plugins(&PluginLoadOptions::new(path)) {
            Ok((plugins, found)) => {
                warnings.extend(found.iter().map(ToString::to_string));
                Some(plugins)
            }
            Err(e) => {
                errors.extend(error_lines(&e));
                None
            }
        },
    };
    match (config, plugins) {
        (Some(config), Some(plugins)) if errors.is_empty() => {
            Ok((ConfigSnapshot::new(config, plugins), warnings))
        }
        _ => Err(SnapshotError { errors }),
    }
}

/// One line per problem of a load error, causes included.
pub fn error_lines(error: &Error) -> Vec<String> {
    match error {
        Error::Invalid { errors } => errors.iter().map(ToString::to_string).collect(),
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
