//! The component part of `config.yaml` (`ProwConfig`), typed section by section with Prow's
//! YAML names, plus its defaults ([`ProwConfig::apply_defaults`]) and load-time rules
//! ([`ProwConfig::validate`]).
//!
//! Every struct reads YAML `null` as empty, writes only what is set (Go's `omitempty`), and
//! round-trips: config → YAML → config gives the same value.

mod branch_protection;
mod check;
mod components;
mod deck;
mod plank;
mod tide;

use prow_core::MetaDuration;

pub use branch_protection::{
    BranchPolicy, BranchProtection, BypassRestrictions, ContextPolicy, DismissalRestrictions,
    OrgPolicy, Policy, RepoPolicy, Restrictions, ReviewPolicy,
};
pub use check::check;
pub use components::{
    AllowedApiClient, AllowedJobsFilter, ApiClientGcp, ExternalScheduling, ExternalSchedulingCache,
    FailoverScheduling, Gangway, Gerrit, GerritOrgRepoConfig, GerritQueryFilter, GitHubOptions,
    GitHubReporter, Horologium, InRepoConfig, JenkinsOperator, ManagedWebhookInfo, ManagedWebhooks,
    Moonraker, OwnersDirDenylist, Pipeline, PubSubTrigger, PushGateway, Scheduler, SlackReporter,
};
pub use deck::{
    Branding, Deck, DefaultRerunAuthConfigEntry, ExternalAgentLog, LensConfig, LensFileConfig,
    LensRemoteConfig, Spyglass,
};
pub use plank::{DefaultDecorationConfigEntry, Plank, ProwJobDefaultEntry, Sinker};
pub use tide::{
    GitHubMergeBlocksPolicy, Tide, TideBranchMergeType, TideContextPolicy,
    TideContextPolicyOptions, TideGerritConfig, TideMergeCommitTemplate, TideOrgContextPolicy,
    TideOrgMergeType, TidePriority, TideQuery, TideRepoContextPolicy, TideRepoMergeType,
};

/// A raw section prow-rs does not type; it is kept so nothing is dropped.
pub type Raw = Option<serde_yaml::Value>;

/// `skip_serializing_if` for Go's `omitempty`: the field is left out when it has its default.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Declares a config struct whose every field defaults when absent or `null` and is written
/// only when set, so the YAML names, docs and extra serde attributes are all a field needs.
macro_rules! section {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(
                    default,
                    deserialize_with = "crate::jobs::nullable",
                    skip_serializing_if = "crate::prow::is_default"
                )]
                pub $field: $ty,
            )*
        }
    };
}
pub(crate) use section;

section! {
    /// Prow's component configuration: everything in `config.yaml` but the jobs.
    pub struct ProwConfig {
        /// Tide: the merge automation.
        pub tide: Tide,
        /// Plank: decoration defaults, timeouts, job URLs.
        pub plank: Plank,
        /// Tekton pipeline controller.
        pub pipeline: Pipeline,
        /// Sinker: garbage collection of ProwJobs and pods.
        pub sinker: Sinker,
        /// Deck: the web front end and Spyglass.
        pub deck: Deck,
        /// Branch protection applied by the branchprotector.
        #[serde(rename = "branch-protection")]
        pub branch_protection: BranchProtection,
        /// Gerrit adapter.
        pub gerrit: Gerrit,
        /// Crier's GitHub reporter.
        pub github_reporter: GitHubReporter,
        /// Horologium: periodic job trigger.
        pub horologium: Horologium,
        /// Slack reporters by `*`, org or org/repo.
        pub slack_reporter_configs: std::collections::BTreeMap<String, SlackReporter>,
        /// In-repo `.prow.yaml` settings.
        pub in_repo_config: InRepoConfig,
        /// Gangway: the API server that triggers jobs for allowed clients.
        pub gangway: Gangway,
        /// Moonraker: the config cache server.
        pub moonraker: Moonraker,
        /// Scheduler: chooses build clusters for ProwJobs.
        pub scheduler: Scheduler,
        /// Jenkins operators.
        pub jenkins_operators: Vec<JenkinsOperator>,
        /// Namespace of ProwJobs (default `default`).
        pub prowjob_namespace: String,
        /// Namespace of test pods (default `default`).
        pub pod_namespace: String,
        /// Log level of the components (default `info`).
        pub log_level: String,
        /// Prometheus push gateway.
        pub push_gateway: PushGateway,
        /// Directories ignored when looking for OWNERS files.
        pub owners_dir_denylist: Option<OwnersDirDenylist>,
        /// Pub/Sub subscription ids by GCP project (older form of `pubsub_triggers`).
        pub pubsub_subscriptions: std::collections::BTreeMap<String, Vec<String>>,
        /// Pub/Sub subscriptions that trigger jobs.
        pub pubsub_triggers: Vec<PubSubTrigger>,
        /// How GitHub links are written.
        pub github: GitHubOptions,
        /// Link shown in error statuses.
        pub status_error_link: String,
        /// Timeout of jobs that set none (default 24h).
        pub default_job_timeout: Option<MetaDuration>,
        /// Repositories and orgs using their own webhook HMAC token.
        pub managed_webhooks: ManagedWebhooks,
        /// Defaults stamped on ProwJobs by repository and cluster, merged in order.
        pub prowjob_default_entries: Vec<ProwJobDefaultEntry>,
        /// Build clusters to ignore.
        pub disabled_clusters: Vec<String>,
        /// Set from the `VERSION` file next to `config.yaml`.
        pub config_version_sha: String,
    }
}
