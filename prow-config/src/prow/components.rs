//! The smaller sections of `config.yaml`: reporters, Gerrit, Gangway, scheduler, webhooks and
//! the like.

use std::collections::BTreeMap;

use prow_core::MetaDuration;

use super::section;

section! {
    /// Tekton pipeline controller settings.
    pub struct Pipeline {
        /// Let duplicate postsubmit PipelineRuns run instead of aborting older ones.
        pub allow_concurrent_postsubmit_jobs: bool,
    }
}

section! {
    /// In-repo configuration settings.
    pub struct InRepoConfig {
        /// Enabled by `*`, org or org/repo; the narrowest key wins.
        pub enabled: BTreeMap<String, Option<bool>>,
        /// Clusters in-repo jobs may use, by `*`, org or org/repo.
        pub allowed_clusters: BTreeMap<String, Vec<String>>,
    }
}

section! {
    /// The Gerrit adapter's settings.
    pub struct Gerrit {
        /// How often the adapter syncs (default 1m).
        pub tick_interval: Option<MetaDuration>,
        /// Queries per second against Gerrit (default 5).
        #[serde(rename = "ratelimit")]
        pub rate_limit: i64,
        /// Root URL of Deck, for links to job runs.
        pub deck_url: String,
        /// Gerrit hosts and repositories.
        pub org_repos_config: Option<Vec<GerritOrgRepoConfig>>,
        /// Regex of change messages that may trigger presubmits.
        #[serde(rename = "allowed_presubmit_trigger_re")]
        pub allowed_presubmit_trigger_re: String,
    }
}

section! {
    /// A Gerrit host and its repositories.
    pub struct GerritOrgRepoConfig {
        /// The Gerrit host URL.
        pub org: String,
        /// Repository names.
        pub repos: Vec<String>,
        /// Do not post the help message.
        pub opt_out_help: bool,
        /// Which changes are considered.
        pub filters: Option<GerritQueryFilter>,
    }
}

section! {
    /// Which Gerrit changes are considered.
    pub struct GerritQueryFilter {
        /// Only these branches.
        pub branches: Vec<String>,
        /// Not these branches.
        pub excluded_branches: Vec<String>,
        /// Consider changes unless they opt out.
        pub opt_in_by_default: bool,
    }
}

section! {
    /// Crier's GitHub reporter.
    pub struct GitHubReporter {
        /// Job types reported (default presubmit and postsubmit).
        pub job_types_to_report: Vec<String>,
        /// Orgs and org/repos that get statuses but no failure comments.
        pub no_comment_repos: Vec<String>,
        /// Orgs and org/repos whose failure comment waits for every job of the SHA.
        pub summary_comment_repos: Vec<String>,
    }
}

section! {
    /// A Slack reporter: where and what to report.
    pub struct SlackReporter {
        /// Job types reported.
        pub job_types_to_report: Vec<String>,
        /// Slack host.
        pub host: String,
        /// Slack channel (required).
        pub channel: String,
        /// Job states reported.
        pub job_states_to_report: Option<Vec<String>>,
        /// Go template of the message.
        pub report_template: String,
        /// Whether to report at all.
        pub report: Option<bool>,
    }
}

section! {
    /// Horologium's settings.
    pub struct Horologium {
        /// How often periodics are checked (default 1m).
        pub tick_interval: Option<MetaDuration>,
    }
}

section! {
    /// A Jenkins operator's settings.
    pub struct JenkinsOperator {
        /// Go template of job URLs.
        pub job_url_template: String,
        /// Go template of report comments (older form).
        pub report_template: String,
        /// Go templates of report comments by `*`, org or org/repo.
        pub report_templates: BTreeMap<String, String>,
        /// Most jobs running at once; 0 is unlimited.
        pub max_concurrency: i64,
        /// Most goroutines (default 20).
        pub max_goroutines: i64,
        /// Label selector of the operator's jobs (only with several operators).
        pub label_selector: String,
    }
}

section! {
    /// Gangway: which API clients may trigger which jobs.
    pub struct Gangway {
        /// The allowed clients.
        pub allowed_api_clients: Vec<AllowedApiClient>,
    }
}

section! {
    /// An API client allowed to trigger jobs.
    pub struct AllowedApiClient {
        /// The client's Google Cloud identity.
        pub gcp: Option<ApiClientGcp>,
        /// Which jobs it may trigger.
        pub allowed_jobs_filters: Vec<AllowedJobsFilter>,
    }
}

section! {
    /// A Google Cloud API client identity.
    pub struct ApiClientGcp {
        /// Expected `x-endpoint-api-consumer-type` (`PROJECT`).
        pub endpoint_api_consumer_type: String,
        /// Expected `x-endpoint-api-consumer-number` (a project number).
        pub endpoint_api_consumer_number: String,
    }
}

section! {
    /// Jobs an API client may trigger.
    pub struct AllowedJobsFilter {
        /// Jobs of this tenant.
        pub tenant_id: String,
    }
}

section! {
    /// Moonraker's settings.
    pub struct Moonraker {
        /// Timeout of requests to Moonraker (default 10m).
        pub client_timeout: Option<MetaDuration>,
    }
}

section! {
    /// The scheduler's settings.
    pub struct Scheduler {
        /// Whether the scheduler runs.
        pub enabled: bool,
        /// Failover scheduling.
        pub failover: Option<FailoverScheduling>,
        /// External scheduling.
        pub external: Option<ExternalScheduling>,
    }
}

section! {
    /// Failover scheduling: clusters replaced by others.
    pub struct FailoverScheduling {
        /// Replacement cluster by cluster.
        pub mappings: BTreeMap<String, String>,
    }
}

section! {
    /// External scheduling: a REST service chooses the cluster.
    pub struct ExternalScheduling {
        /// The service URL.
        pub url: String,
        /// Cache of its answers.
        pub cache: ExternalSchedulingCache,
    }
}

section! {
    /// The external scheduler's answer cache.
    pub struct ExternalSchedulingCache {
        /// How long an answer stays.
        pub entry_timeout_interval: Option<MetaDuration>,
        /// How often the cache is cleaned.
        pub cleanup_interval: Option<MetaDuration>,
    }
}

section! {
    /// The Prometheus push gateway.
    pub struct PushGateway {
        /// Where metrics are pushed.
        pub endpoint: String,
        /// How often (default 1m).
        pub interval: Option<MetaDuration>,
        /// Whether components serve metrics.
        pub serve_metrics: bool,
    }
}

section! {
    /// Directories ignored when looking for OWNERS files.
    pub struct OwnersDirDenylist {
        /// Regexes by org or org/repo.
        pub repos: BTreeMap<String, Vec<String>>,
        /// Regexes for every repo.
        pub default: Vec<String>,
        /// Do not add Prow's own defaults (`\.git$`, `_output$`, `vendor/.*/.*`).
        pub ignore_preconfigured_defaults: bool,
    }
}

section! {
    /// A Pub/Sub project whose topics trigger jobs.
    pub struct PubSubTrigger {
        /// GCP project.
        pub project: String,
        /// Subscription ids.
        pub topics: Vec<String>,
        /// Clusters jobs may run on.
        pub allowed_clusters: Vec<String>,
        /// Most unacknowledged messages (default 10).
        pub max_outstanding_messages: i64,
    }
}

section! {
    /// How GitHub links are written.
    pub struct GitHubOptions {
        /// Base URL of GitHub links (default `https://github.com`).
        pub link_url: String,
    }
}

section! {
    /// Repositories and orgs with their own webhook token.
    pub struct ManagedWebhooks {
        /// Also accept the global token.
        pub respect_legacy_global_token: bool,
        /// Accept admin invitations of managed orgs and repos.
        pub auto_accept_invitation: bool,
        /// Settings by org or org/repo.
        pub org_repo_config: BTreeMap<String, ManagedWebhookInfo>,
    }
}

section! {
    /// One managed webhook.
    pub struct ManagedWebhookInfo {
        /// When the token was created (RFC 3339).
        pub token_created_after: String,
    }
}

impl OwnersDirDenylist {
    /// Regexes of directories ignored in `org/repo`, as Prow's `ListIgnoredDirs`.
    pub fn ignored_dirs(&self, org: &str, repo: &str) -> Vec<String> {
        let mut out = self.default.clone();
        for key in [org.to_owned(), format!("{org}/{repo}")] {
            if let Some(list) = self.repos.get(&key) {
                out.extend(list.iter().cloned());
            }
        }
        if !self.ignore_preconfigured_defaults {
            out.extend([r"\.git$", "_output$", "vendor/.*/.*"].map(str::to_owned));
        }
        out
    }
}

impl InRepoConfig {
    /// Whether in-repo config is enabled for `org/repo` (narrowest key wins).
    pub fn enabled_for(&self, org: &str, repo: &str) -> bool {
        [format!("{org}/{repo}"), org.to_owned(), "*".to_owned()]
            .iter()
            .find_map(|k| self.enabled.get(k).copied().flatten())
            .unwrap_or(false)
    }
}
