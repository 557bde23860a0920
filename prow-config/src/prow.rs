//! The component part of `config.yaml` (`ProwConfig`): typed where prow-rs acts, raw elsewhere.

use std::collections::BTreeMap;

use prow_core::{DecorationConfig, MetaDuration};
use serde::Deserialize;

use crate::jobs::nullable;

/// A raw section prow-rs does not type yet; it is kept so nothing is dropped.
pub type Raw = Option<serde_yaml::Value>;

/// Prow's component configuration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ProwConfig {
    /// Plank: decoration defaults, timeouts, job URLs.
    #[serde(default, deserialize_with = "nullable")]
    pub plank: Plank,
    /// Sinker: garbage collection of ProwJobs and pods.
    #[serde(default, deserialize_with = "nullable")]
    pub sinker: Sinker,
    /// Namespace of test pods (default `default`).
    #[serde(default, deserialize_with = "nullable")]
    pub pod_namespace: String,
    /// Namespace of ProwJobs (default `default`).
    #[serde(default, deserialize_with = "nullable")]
    pub prowjob_namespace: String,
    /// In-repo `.prow.yaml` settings.
    #[serde(default, deserialize_with = "nullable")]
    pub in_repo_config: InRepoConfig,
    /// Set from the `VERSION` file next to `config.yaml`.
    #[serde(default, deserialize_with = "nullable")]
    pub config_version_sha: String,
    /// Log level of the components.
    #[serde(default, deserialize_with = "nullable")]
    pub log_level: String,
    /// Link shown in error statuses.
    #[serde(default, deserialize_with = "nullable")]
    pub status_error_link: String,
    /// Timeout of jobs that set none.
    #[serde(default)]
    pub default_job_timeout: Option<MetaDuration>,
    /// Tide (raw for now).
    #[serde(default)]
    pub tide: Raw,
    /// Tekton pipeline controller (raw for now).
    #[serde(default)]
    pub pipeline: Raw,
    /// Deck (raw for now).
    #[serde(default)]
    pub deck: Raw,
    /// Branch protection (raw for now).
    #[serde(default, rename = "branch-protection")]
    pub branch_protection: Raw,
    /// Gerrit (raw for now).
    #[serde(default)]
    pub gerrit: Raw,
    /// GitHub reporter (raw for now).
    #[serde(default)]
    pub github_reporter: Raw,
    /// Horologium (raw for now).
    #[serde(default)]
    pub horologium: Raw,
    /// Slack reporters by org/repo (raw for now).
    #[serde(default)]
    pub slack_reporter_configs: Raw,
    /// Gangway (raw for now).
    #[serde(default)]
    pub gangway: Raw,
    /// Moonraker (raw for now).
    #[serde(default)]
    pub moonraker: Raw,
    /// Scheduler (raw for now).
    #[serde(default)]
    pub scheduler: Raw,
    /// Jenkins operators (raw for now).
    #[serde(default)]
    pub jenkins_operators: Raw,
    /// Prometheus push gateway (raw for now).
    #[serde(default)]
    pub push_gateway: Raw,
    /// OWNERS directories ignored (raw for now).
    #[serde(default)]
    pub owners_dir_denylist: Raw,
    /// Pub/Sub subscriptions (raw for now).
    #[serde(default)]
    pub pubsub_subscriptions: Raw,
    /// Pub/Sub triggers (raw for now).
    #[serde(default)]
    pub pubsub_triggers: Raw,
    /// GitHub client options (raw for now).
    #[serde(default)]
    pub github: Raw,
    /// Managed webhooks (raw for now).
    #[serde(default)]
    pub managed_webhooks: Raw,
    /// Defaults stamped on ProwJobs by repository and cluster, merged in order.
    #[serde(default, deserialize_with = "nullable")]
    pub prowjob_default_entries: Vec<ProwJobDefaultEntry>,
    /// Clusters not to schedule on (raw for now).
    #[serde(default)]
    pub disabled_clusters: Raw,
}

/// Plank's settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Plank {
    /// Decoration defaults by `org`, `org/repo` or `*` (older form).
    #[serde(default, deserialize_with = "nullable")]
    pub default_decoration_configs: BTreeMap<String, DecorationConfig>,
    /// Decoration defaults by repo and cluster, applied in order (newer form).
    #[serde(default, deserialize_with = "nullable")]
    pub default_decoration_config_entries: Vec<DefaultDecorationConfigEntry>,
    /// Pods pending longer than this fail.
    #[serde(default)]
    pub pod_pending_timeout: Option<MetaDuration>,
    /// Pods running longer than this fail.
    #[serde(default)]
    pub pod_running_timeout: Option<MetaDuration>,
    /// Pods unscheduled longer than this fail.
    #[serde(default)]
    pub pod_unscheduled_timeout: Option<MetaDuration>,
    /// How often an evicted pod is recreated.
    #[serde(default)]
    pub max_revivals: Option<i64>,
    /// Job URL prefixes by org/repo.
    #[serde(default, deserialize_with = "nullable")]
    pub job_url_prefix_config: BTreeMap<String, String>,
    /// Do not append the storage provider to job URLs.
    #[serde(default, rename = "jobURLPrefixDisableAppendStorageProvider")]
    pub job_url_prefix_disable_append_storage_provider: bool,
    /// File with build cluster statuses.
    #[serde(default, deserialize_with = "nullable")]
    pub build_cluster_status_file: String,
    /// Queue capacities by name.
    #[serde(default, deserialize_with = "nullable")]
    pub job_queue_capacities: BTreeMap<String, i64>,
    /// Go template of job URLs.
    #[serde(default, deserialize_with = "nullable")]
    pub job_url_template: String,
    /// Go template of report comments (older form).
    #[serde(default, deserialize_with = "nullable")]
    pub report_template: String,
    /// Go templates of report comments by org/repo.
    #[serde(default, deserialize_with = "nullable")]
    pub report_templates: BTreeMap<String, String>,
    /// Most jobs running at once.
    #[serde(default)]
    pub max_concurrency: i64,
    /// Most goroutines of the controller.
    #[serde(default)]
    pub max_goroutines: i64,
}

/// One decoration default: applies to jobs of `repo` (or org, or all when empty) on `cluster`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct DefaultDecorationConfigEntry {
    /// `org`, `org/repo`, or empty/`*` for all.
    #[serde(default, rename = "repo", deserialize_with = "nullable")]
    pub org_repo: String,
    /// Build cluster, or empty/`*` for all.
    #[serde(default, deserialize_with = "nullable")]
    pub cluster: String,
    /// The decoration defaults.
    #[serde(default)]
    pub config: Option<DecorationConfig>,
}

/// One ProwJob default: applies to jobs of `repo` (or org, or all when empty) on `cluster`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct ProwJobDefaultEntry {
    /// `org`, `org/repo`, or empty/`*` for all.
    #[serde(default, rename = "repo", deserialize_with = "nullable")]
    pub org_repo: String,
    /// Build cluster, or empty/`*` for all.
    #[serde(default, deserialize_with = "nullable")]
    pub cluster: String,
    /// The defaults.
    #[serde(default)]
    pub config: Option<prow_core::ProwJobDefault>,
}

/// Sinker's settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Sinker {
    /// How often sinker runs.
    #[serde(default)]
    pub resync_period: Option<MetaDuration>,
    /// ProwJobs older than this are deleted.
    #[serde(default)]
    pub max_prowjob_age: Option<MetaDuration>,
    /// Pods older than this are deleted.
    #[serde(default)]
    pub max_pod_age: Option<MetaDuration>,
    /// Finished pods are deleted after this.
    #[serde(default)]
    pub terminated_pod_ttl: Option<MetaDuration>,
    /// Clusters sinker leaves alone.
    #[serde(default, deserialize_with = "nullable")]
    pub exclude_clusters: Vec<String>,
}

/// In-repo configuration settings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct InRepoConfig {
    /// Enabled by `*`, org or org/repo.
    #[serde(default, deserialize_with = "nullable")]
    pub enabled: BTreeMap<String, Option<bool>>,
    /// Clusters in-repo jobs may use, by `*`, org or org/repo.
    #[serde(default, deserialize_with = "nullable")]
    pub allowed_clusters: BTreeMap<String, Vec<String>>,
}
