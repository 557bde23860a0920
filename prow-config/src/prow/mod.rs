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
mod tide_ext;

use std::collections::BTreeMap;

use prow_core::MetaDuration;
use serde::{Deserialize, Deserializer};

pub use branch_protection::{
    BranchPolicy, BranchProtection, BypassRestrictions, ContextPolicy, DismissalRestrictions,
    OrgPolicy, Policy, PolicyNotes, RepoPolicy, Restrictions, ReviewPolicy, apply_policy,
    branch_policy_with_jobs, branch_protection_for, branch_requirements, branch_requirements_with,
    merged_branch_policy, protection_for_with,
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
pub use tide_ext::{DEFAULT_EJECT_LABEL, TideMergeQueue, engine_context_policy};

/// A raw section prow-rs does not type; it is kept so nothing is dropped.
pub type Raw = Option<serde_yaml::Value>;

/// `skip_serializing_if` for Go's `omitempty`: the field is left out when it has its default.
pub(crate) fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// How a config value reads YAML `null`: as its default, like Go's JSON decoding, also inside
/// lists and map values (`viewers: {"": null}` is an empty list of viewers).
pub(crate) trait Nullable: Sized {
    /// Reads the value, `null` giving the default.
    fn from_yaml<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// A value read through [`Nullable`].
struct NullOr<T>(T);

impl<'de, T: Nullable> Deserialize<'de> for NullOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::from_yaml(d).map(NullOr)
    }
}

/// `deserialize_with` for every field of a [`section!`] struct.
pub(crate) fn nullable<'de, D: Deserializer<'de>, T: Nullable>(d: D) -> Result<T, D::Error> {
    T::from_yaml(d)
}

/// Implements [`Nullable`] for types whose `null` is their default and that hold no nested
/// nullable values.
macro_rules! nullable_leaf {
    ($($ty:ty),* $(,)?) => {
        $(
            impl crate::prow::Nullable for $ty {
                fn from_yaml<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    Ok(<Option<$ty> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
                }
            }
        )*
    };
}
pub(crate) use nullable_leaf;

nullable_leaf!(
    String,
    bool,
    i64,
    u64,
    MetaDuration,
    prow_core::DecorationConfig,
    prow_core::ProwJobDefault,
    prow_core::RerunAuthConfig,
);

impl<T: for<'a> Deserialize<'a>> Nullable for Option<T> {
    fn from_yaml<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d)
    }
}

impl<T: Nullable> Nullable for Vec<T> {
    fn from_yaml<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Option::<Vec<NullOr<T>>>::deserialize(d)?.unwrap_or_default();
        Ok(list.into_iter().map(|v| v.0).collect())
    }
}

impl<V: Nullable> Nullable for BTreeMap<String, V> {
    fn from_yaml<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Option::<BTreeMap<String, NullOr<V>>>::deserialize(d)?.unwrap_or_default();
        Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
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
                    deserialize_with = "crate::prow::nullable",
                    skip_serializing_if = "crate::prow::is_default"
                )]
                pub $field: $ty,
            )*
        }

        crate::prow::nullable_leaf!($name);
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
        pub slack_reporter_configs: BTreeMap<String, SlackReporter>,
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
        pub pubsub_subscriptions: BTreeMap<String, Vec<String>>,
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

/// Compiles a regex, describing a failure on one line like Go's `regexp.Compile`
/// (``error parsing regexp: missing closing ): `(x` ``).
pub(crate) fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| {
        crate::goregex::go_error(pattern)
            .unwrap_or_else(|| format!("error parsing regexp: {e}: `{pattern}`"))
    })
}

/// The sorted, de-duplicated union of two string lists (how Prow merges label and context
/// lists).
pub(crate) fn sorted_union(a: &[String], b: &[String]) -> Vec<String> {
    a.iter()
        .chain(b)
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}
