//! Deck (the web front end) and Spyglass (its artifact viewers).

use std::collections::BTreeMap;

use prow_core::{MetaDuration, RerunAuthConfig};

use super::section;

section! {
    /// Deck's settings.
    pub struct Deck {
        /// Which lenses show which artifacts.
        pub spyglass: Spyglass,
        /// How often Deck fetches Tide's status (default 10s).
        pub tide_update_period: Option<MetaDuration>,
        /// Orgs and org/repos Deck does not show.
        pub hidden_repos: Vec<String>,
        /// Log links of agents other than plank.
        pub external_agent_logs: Vec<ExternalAgentLog>,
        /// Logo, favicon and colours.
        pub branding: Option<Branding>,
        /// Google Analytics tracking code.
        pub google_analytics: String,
        /// Who may rerun jobs, by `*`, org or org/repo (older form).
        pub rerun_auth_configs: BTreeMap<String, RerunAuthConfig>,
        /// Who may rerun jobs, by repo and cluster (newer form).
        pub default_rerun_auth_configs: Vec<DefaultRerunAuthConfigEntry>,
        /// Allow artifact requests to any bucket.
        pub skip_storage_path_validation: Option<bool>,
        /// Buckets allowed besides those of the decoration configs.
        pub additional_allowed_buckets: Vec<String>,
    }
}

section! {
    /// Spyglass: artifact viewers in Deck.
    pub struct Spyglass {
        /// Lenses and the artifacts they show.
        pub lenses: Vec<LensFileConfig>,
        /// Viewers by artifact regex (deprecated; turned into lenses at load).
        pub viewers: BTreeMap<String, Vec<String>>,
        /// Largest artifact read, in bytes (default 100e6).
        pub size_limit: i64,
        /// Link prefix of a GCS browser (older form of `gcs_browser_prefixes["*"]`).
        pub gcs_browser_prefix: String,
        /// GCS browser prefixes by `*`, org or org/repo.
        pub gcs_browser_prefixes: BTreeMap<String, String>,
        /// GCS browser prefixes by `*` or bucket.
        pub gcs_browser_prefixes_by_bucket: BTreeMap<String, String>,
        /// Go HTML template shown at the top of every Spyglass page.
        pub announcement: String,
        /// Path of the TestGrid config.
        pub testgrid_config: String,
        /// Root URL of TestGrid.
        pub testgrid_root: String,
        /// Hide the PR history link.
        pub hide_pr_history_link: bool,
        /// Template of the PR history link.
        pub pr_history_link_template: String,
        /// Bucket names by alias.
        pub bucket_aliases: BTreeMap<String, String>,
    }
}

section! {
    /// A lens and the artifact files it needs.
    pub struct LensFileConfig {
        /// Regexes of files that must all be present.
        pub required_files: Vec<String>,
        /// Regexes of files given to the lens when present.
        pub optional_files: Vec<String>,
        /// The lens.
        pub lens: LensConfig,
        /// How to reach a remote lens.
        pub remote_config: Option<LensRemoteConfig>,
    }
}

section! {
    /// A lens by name, with its own configuration.
    pub struct LensConfig {
        /// The lens name.
        pub name: String,
        /// Lens-specific configuration, kept as written.
        pub config: Option<serde_yaml::Value>,
    }
}

section! {
    /// Where a remote lens is served.
    pub struct LensRemoteConfig {
        /// The lens endpoint.
        pub endpoint: String,
        /// The endpoint of its static files.
        pub static_root: String,
        /// Human-readable title.
        pub title: String,
        /// Ordering, lowest first.
        pub priority: Option<u64>,
        /// Hide the title once the lens is loaded.
        pub hide_title: Option<bool>,
    }
}

section! {
    /// Log links of an external agent.
    pub struct ExternalAgentLog {
        /// The agent.
        pub agent: String,
        /// Label selector of its ProwJobs.
        pub selector: String,
        /// Go template of the log URL.
        pub url_template: String,
    }
}

section! {
    /// Deck's look.
    pub struct Branding {
        /// Logo location.
        pub logo: String,
        /// Favicon location.
        pub favicon: String,
        /// Background colour.
        pub background_color: String,
        /// Header colour.
        pub header_color: String,
    }
}

section! {
    /// Who may rerun jobs of `repo` (or org, or all when empty) on `cluster`.
    pub struct DefaultRerunAuthConfigEntry {
        /// `org`, `org/repo`, or empty/`*` for all.
        #[serde(rename = "repo")]
        pub org_repo: String,
        /// Build cluster, or empty/`*` for all.
        pub cluster: String,
        /// Who may rerun.
        #[serde(rename = "rerun_auth_configs")]
        pub config: Option<RerunAuthConfig>,
    }
}

impl Spyglass {
    /// The GCS browser prefix for `org/repo` in `bucket`: repo, org, bucket, then the `*`
    /// entries, as Prow's `GetGCSBrowserPrefix`.
    pub fn gcs_browser_prefix_for(&self, org: &str, repo: &str, bucket: &str) -> &str {
        let by_repo = &self.gcs_browser_prefixes;
        let by_bucket = &self.gcs_browser_prefixes_by_bucket;
        let found = (!org.is_empty())
            .then(|| {
                by_repo
                    .get(&format!("{org}/{repo}"))
                    .or_else(|| by_repo.get(org))
            })
            .flatten()
            .or_else(|| {
                (!bucket.is_empty())
                    .then(|| by_bucket.get(bucket))
                    .flatten()
            })
            .or_else(|| by_repo.get("*"))
            .or_else(|| by_bucket.get("*"));
        found.map_or("", String::as_str)
    }
}
