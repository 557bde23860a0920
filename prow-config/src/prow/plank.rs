//! Plank (the job controller), sinker (garbage collection) and the per-repo default entries.

use std::collections::BTreeMap;

use prow_core::{DecorationConfig, MetaDuration, ProwJobDefault};

use super::section;

section! {
    /// Plank's settings.
    pub struct Plank {
        /// Go template of job URLs.
        pub job_url_template: String,
        /// Go template of report comments (older form of `report_templates["*"]`).
        pub report_template: String,
        /// Go templates of report comments by `*`, org or org/repo.
        pub report_templates: BTreeMap<String, String>,
        /// Most jobs running at once; 0 is unlimited.
        pub max_concurrency: i64,
        /// Most goroutines of the controller (default 20).
        pub max_goroutines: i64,
        /// Pods pending longer than this fail (default 10m).
        pub pod_pending_timeout: Option<MetaDuration>,
        /// Pods running longer than this fail (default 48h).
        pub pod_running_timeout: Option<MetaDuration>,
        /// Pods unscheduled longer than this fail (default 5m).
        pub pod_unscheduled_timeout: Option<MetaDuration>,
        /// How often an evicted pod is recreated (default 3).
        pub max_revivals: Option<i64>,
        /// Decoration defaults by `org`, `org/repo` or `*` (older form).
        pub default_decoration_configs: BTreeMap<String, DecorationConfig>,
        /// Decoration defaults by repo and cluster, applied in order (newer form).
        pub default_decoration_config_entries: Vec<DefaultDecorationConfigEntry>,
        /// Job URL prefixes by `*`, org or org/repo.
        pub job_url_prefix_config: BTreeMap<String, String>,
        /// Do not append the storage provider to job URLs.
        #[serde(rename = "jobURLPrefixDisableAppendStorageProvider")]
        pub job_url_prefix_disable_append_storage_provider: bool,
        /// Blob storage location where build cluster statuses are published.
        pub build_cluster_status_file: String,
        /// Queue capacities by queue name.
        pub job_queue_capacities: BTreeMap<String, i64>,
    }
}

section! {
    /// One decoration default: applies to jobs of `repo` (or org, or all when empty) on `cluster`.
    pub struct DefaultDecorationConfigEntry {
        /// `org`, `org/repo`, or empty/`*` for all.
        #[serde(rename = "repo")]
        pub org_repo: String,
        /// Build cluster, or empty/`*` for all.
        pub cluster: String,
        /// The decoration defaults.
        pub config: Option<DecorationConfig>,
    }
}

section! {
    /// One ProwJob default: applies to jobs of `repo` (or org, or all when empty) on `cluster`.
    pub struct ProwJobDefaultEntry {
        /// `org`, `org/repo`, or empty/`*` for all.
        #[serde(rename = "repo")]
        pub org_repo: String,
        /// Build cluster, or empty/`*` for all.
        pub cluster: String,
        /// The defaults.
        pub config: Option<ProwJobDefault>,
    }
}

section! {
    /// Sinker's settings.
    pub struct Sinker {
        /// How often sinker runs (default 1h).
        pub resync_period: Option<MetaDuration>,
        /// ProwJobs older than this are deleted (default 168h).
        pub max_prowjob_age: Option<MetaDuration>,
        /// Pods older than this are deleted (default 24h).
        pub max_pod_age: Option<MetaDuration>,
        /// Finished pods are deleted after this (default `max_pod_age`).
        pub terminated_pod_ttl: Option<MetaDuration>,
        /// Build clusters sinker leaves alone.
        pub exclude_clusters: Vec<String>,
    }
}

impl Plank {
    /// The report template for `org/repo`: by repo, then org, then `*` (after defaulting,
    /// `report_template` is `report_templates["*"]`).
    pub fn report_template_for(&self, org: &str, repo: &str) -> Option<&str> {
        let templates = &self.report_templates;
        templates
            .get(&format!("{org}/{repo}"))
            .or_else(|| templates.get(org))
            .or_else(|| templates.get("*"))
            .map(String::as_str)
    }

    /// The job URL prefix for `org/repo`: by repo, then org, then `*`; empty values fall
    /// through as in Prow.
    pub fn job_url_prefix_for(&self, org: &str, repo: &str) -> &str {
        let prefixes = &self.job_url_prefix_config;
        [format!("{org}/{repo}"), org.to_owned(), "*".to_owned()]
            .iter()
            .filter_map(|k| prefixes.get(k))
            .find(|v| !v.is_empty())
            .map(String::as_str)
            .unwrap_or("")
    }
}
