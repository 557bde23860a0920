//! checkconfig's optional warnings that need only `config.yaml` and the jobs: the names Prow
//! knows, the checks themselves (one pure function each) and Tide's per-branch context policy
//! that some of them rely on.
//!
//! Each check returns every problem it finds as a [`Finding`] with Prow's message text; where
//! Prow lumps several jobs into one message, we report one finding per job so each carries its
//! file and field path. Checks that need `plugins.yaml` or GitHub live elsewhere:
//! [`run_warning`] answers `None` for them.
//!
//! Each check reads every job once, so the work grows linearly with the number of jobs;
//! `tide-context-policy` reads a repository's presubmits once per branch the configuration
//! names for it, asking only their branch rules (a job's trigger and change regexes are not
//! compiled for that).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use crate::error::Finding;
use crate::jobs::Presubmit;
use crate::load::Config;
use crate::matching::Brancher;
use crate::prow::{
    BranchProtection, OrgPolicy, Policy, ProwConfig, RepoPolicy, TideContextPolicy, TideQuery,
};

/// `mismatched-tide`: Tide queries and the lgtm/approve/hold… plugins disagree.
pub const MISMATCHED_TIDE: &str = "mismatched-tide";
/// `mismatched-tide-lenient`: like `mismatched-tide`, for lgtm and approve only.
pub const MISMATCHED_TIDE_LENIENT: &str = "mismatched-tide-lenient";
/// `tide-strict-branch`: strict branch protection on repos Tide merges.
pub const TIDE_STRICT_BRANCH: &str = "tide-strict-branch";
/// `tide-context-policy`: Tide's context policy is contradictory for some branch.
pub const TIDE_CONTEXT_POLICY: &str = "tide-context-policy";
/// `non-decorated-jobs`: kubernetes jobs without the pod utilities.
pub const NON_DECORATED_JOBS: &str = "non-decorated-jobs";
/// `valid-decoration-config`: decorated jobs whose decoration config is incomplete.
pub const VALID_DECORATION_CONFIG: &str = "valid-decoration-config";
/// `long-job-names`: job names longer than a Kubernetes label value.
pub const LONG_JOB_NAMES: &str = "long-job-names";
/// `duplicate-job-refs`: presubmits cloning their own repo again as an extra ref.
pub const DUPLICATE_JOB_REFS: &str = "duplicate-job-refs";
/// `needs-ok-to-test`: a Tide query requiring `lgtm` and forbidding `needs-ok-to-test`.
pub const NEEDS_OK_TO_TEST: &str = "needs-ok-to-test";
/// `managed-webhooks`: an org and one of its repos both have managed webhooks.
pub const MANAGED_WEBHOOKS: &str = "managed-webhooks";
/// `validate-owners`: OWNERS plugins without `verify-owners`.
pub const VALIDATE_OWNERS: &str = "validate-owners";
/// `missing-trigger`: repos with jobs but no trigger plugin.
pub const MISSING_TRIGGER: &str = "missing-trigger";
/// `validate-urls`: `status_error_link` is not a URL.
pub const VALIDATE_URLS: &str = "validate-urls";
/// `unknown-fields`: unknown keys in `config.yaml` and `plugins.yaml`.
pub const UNKNOWN_FIELDS: &str = "unknown-fields";
/// `unknown-fields-all`: unknown keys anywhere, job configs included.
pub const UNKNOWN_FIELDS_ALL: &str = "unknown-fields-all";
/// `verify-owners-presence`: repos using OWNERS plugins have a root OWNERS file (needs GitHub).
pub const VERIFY_OWNERS_PRESENCE: &str = "verify-owners-presence";
/// `validate-cluster-field`: jenkins jobs with a cluster, jobs on unknown clusters.
pub const VALIDATE_CLUSTER_FIELD: &str = "validate-cluster-field";
/// `validate-supplemental-prow-config-hierarchy`: supplemental files configure only their
/// own org or repo.
pub const VALIDATE_SUPPLEMENTAL_HIERARCHY: &str = "validate-supplemental-prow-config-hierarchy";
/// `validate-unmanaged-branchconfig-has-no-subconfig`: unmanaged branch protection levels
/// carry no settings.
pub const VALIDATE_UNMANAGED_BRANCHCONFIG: &str =
    "validate-unmanaged-branchconfig-has-no-subconfig";
/// `validate-github-app-installation`: the GitHub app is installed where configured.
pub const VALIDATE_GITHUB_APP_INSTALLATION: &str = "validate-github-app-installation";
/// `validate-label`: the label plugin's restricted labels.
pub const VALIDATE_LABEL: &str = "validate-label";
/// `required-job-annotations`: every job carries the given annotations.
pub const REQUIRED_JOB_ANNOTATIONS: &str = "required-job-annotations";
/// `periodic-default-clone-config`: periodics setting top-level clone options.
pub const PERIODIC_DEFAULT_CLONE_CONFIG: &str = "periodic-default-clone-config";
/// `validate-config-updater-acls`: config-updater ACL entries are `org` or `org/repo`.
pub const VALIDATE_CONFIG_UPDATER_ACLS: &str = "validate-config-updater-acls";

/// The warnings checkconfig runs when none are named, in Prow's order.
pub const DEFAULT_WARNINGS: &[&str] = &[
    MISMATCHED_TIDE,
    TIDE_STRICT_BRANCH,
    TIDE_CONTEXT_POLICY,
    MISMATCHED_TIDE_LENIENT,
    NON_DECORATED_JOBS,
    LONG_JOB_NAMES,
    DUPLICATE_JOB_REFS,
    NEEDS_OK_TO_TEST,
    MANAGED_WEBHOOKS,
    VALIDATE_OWNERS,
    MISSING_TRIGGER,
    VALIDATE_URLS,
    UNKNOWN_FIELDS,
    VALIDATE_CLUSTER_FIELD,
    VALIDATE_SUPPLEMENTAL_HIERARCHY,
    VALIDATE_UNMANAGED_BRANCHCONFIG,
    VALIDATE_LABEL,
    REQUIRED_JOB_ANNOTATIONS,
    PERIODIC_DEFAULT_CLONE_CONFIG,
    VALIDATE_CONFIG_UPDATER_ACLS,
];

/// Warnings added by `--expensive-checks` (they call GitHub).
pub const EXPENSIVE_WARNINGS: &[&str] = &[VERIFY_OWNERS_PRESENCE];

/// Warnings that run only when named.
pub const OPTIONAL_WARNINGS: &[&str] = &[
    VALID_DECORATION_CONFIG,
    UNKNOWN_FIELDS_ALL,
    VALIDATE_GITHUB_APP_INSTALLATION,
    crate::branches::UNANCHORED_BRANCHES,
];

/// Every warning name checkconfig accepts: default, then expensive, then optional.
pub fn all_warnings() -> Vec<&'static str> {
    DEFAULT_WARNINGS
        .iter()
        .chain(EXPENSIVE_WARNINGS)
        .chain(OPTIONAL_WARNINGS)
        .copied()
        .collect()
}

/// The warnings [`run_warning`] implements here; the others need plugins.yaml, GitHub or the
/// files on disk.
pub const CONFIG_WARNINGS: &[&str] = &[
    TIDE_STRICT_BRANCH,
    TIDE_CONTEXT_POLICY,
    NON_DECORATED_JOBS,
    VALID_DECORATION_CONFIG,
    LONG_JOB_NAMES,
    DUPLICATE_JOB_REFS,
    NEEDS_OK_TO_TEST,
    MANAGED_WEBHOOKS,
    VALIDATE_URLS,
    VALIDATE_CLUSTER_FIELD,
    VALIDATE_UNMANAGED_BRANCHCONFIG,
    REQUIRED_JOB_ANNOTATIONS,
    PERIODIC_DEFAULT_CLONE_CONFIG,
];

/// What some warnings need beyond the configuration.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WarningOptions {
    /// `--config-path`, named in findings about `config.yaml` sections.
    pub config_path: Option<PathBuf>,
    /// `--required-job-annotations`.
    pub required_job_annotations: Vec<String>,
    /// Build cluster statuses by alias (`plank.build_cluster_status_file`'s content), when
    /// the caller could read it; `None` skips the unknown-cluster check as Prow does while
    /// the file does not exist yet.
    pub cluster_statuses: Option<BTreeMap<String, String>>,
}

impl WarningOptions {
    /// Options naming `config.yaml` in findings.
    pub fn new(config_path: Option<PathBuf>) -> Self {
        WarningOptions {
            config_path,
            ..WarningOptions::default()
        }
    }

    /// Sets the annotations every job must carry.
    pub fn with_required_job_annotations(mut self, annotations: Vec<String>) -> Self {
        self.required_job_annotations = annotations;
        self
    }

    /// Sets the build cluster statuses (alias to status, e.g. `Reachable`).
    pub fn with_cluster_statuses(mut self, statuses: BTreeMap<String, String>) -> Self {
        self.cluster_statuses = Some(statuses);
        self
    }

    fn prow_finding(&self, message: String, field: &str) -> Finding {
        let f = Finding::warning(message).at(field);
        match &self.config_path {
            Some(path) => f.in_file(path),
            None => f,
        }
    }
}

/// Runs the warning `name`; `None` when it is not one of [`CONFIG_WARNINGS`].
pub fn run_warning(name: &str, config: &Config, opts: &WarningOptions) -> Option<Vec<Finding>> {
    Some(match name {
        TIDE_STRICT_BRANCH => tide_strict_branch(config, opts),
        TIDE_CONTEXT_POLICY => tide_context_policy_warning(config, opts),
        NON_DECORATED_JOBS => non_decorated_jobs(config),
        VALID_DECORATION_CONFIG => valid_decoration_config(config),
        LONG_JOB_NAMES => long_job_names(config),
        DUPLICATE_JOB_REFS => duplicate_job_refs(config),
        NEEDS_OK_TO_TEST => needs_ok_to_test(config, opts),
        MANAGED_WEBHOOKS => managed_webhooks(config, opts),
        VALIDATE_URLS => validate_urls(config, opts),
        VALIDATE_CLUSTER_FIELD => {
            if opts.cluster_statuses.is_some() {
                validate_cluster_field(config, opts)
            } else {
                match read_cluster_statuses(config) {
                    Ok(statuses) => {
                        let opts = WarningOptions {
                            cluster_statuses: statuses,
                            ..opts.clone()
                        };
                        validate_cluster_field(config, &opts)
                    }
                    Err(e) => vec![opts.prow_finding(e, "plank.build_cluster_status_file")],
                }
            }
        }
        VALIDATE_UNMANAGED_BRANCHCONFIG => unmanaged_branchconfig_has_no_subconfig(config, opts),
        REQUIRED_JOB_ANNOTATIONS => required_job_annotations(config, opts),
        PERIODIC_DEFAULT_CLONE_CONFIG => periodic_default_clone_config(config),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Job locations.

/// A job's kind, repo and position, for field paths.
enum Kind<'a> {
    Presubmit(&'a str),
    Postsubmit(&'a str),
    Periodic,
}

/// Calls `visit` for every job, presubmits, then postsubmits, then periodics.
fn each_job(config: &Config, mut visit: impl FnMut(Kind<'_>, &dyn JobView, usize)) {
    for (repo, jobs) in &config.jobs.presubmits {
        for j in jobs {
            visit(Kind::Presubmit(repo), j, j.source_index);
        }
    }
    for (repo, jobs) in &config.jobs.postsubmits {
        for j in jobs {
            visit(Kind::Postsubmit(repo), j, j.source_index);
        }
    }
    for j in &config.jobs.periodics {
        visit(Kind::Periodic, j, j.source_index);
    }
}

/// The shared job fields the warnings read.
trait JobView {
    fn name(&self) -> &str;
    fn source_path(&self) -> &str;
    fn agent(&self) -> &str;
    fn cluster(&self) -> &str;
    fn decorate(&self) -> Option<bool>;
    fn decoration_config(&self) -> Option<&prow_core::DecorationConfig>;
    fn annotations(&self) -> &BTreeMap<String, String>;
}

macro_rules! job_view {
    ($($t:ty),*) => {$(
        impl JobView for $t {
            fn name(&self) -> &str { &self.name }
            fn source_path(&self) -> &str { &self.source_path }
            fn agent(&self) -> &str { &self.agent }
            fn cluster(&self) -> &str { &self.cluster }
            fn decorate(&self) -> Option<bool> { self.decorate }
            fn decoration_config(&self) -> Option<&prow_core::DecorationConfig> {
                self.decoration_config.as_deref()
            }
            fn annotations(&self) -> &BTreeMap<String, String> { &self.annotations }
        }
    )*};
}
job_view!(
    crate::jobs::Presubmit,
    crate::jobs::Postsubmit,
    crate::jobs::Periodic
);

/// A warning about one job, located by its file and field path.
fn view_finding(
    kind: &Kind<'_>,
    job: &dyn JobView,
    index: usize,
    field: &str,
    message: String,
) -> Finding {
    let at = match kind {
        Kind::Presubmit(repo) => format!("presubmits[{repo:?}][{index}]{field}"),
        Kind::Postsubmit(repo) => format!("postsubmits[{repo:?}][{index}]{field}"),
        Kind::Periodic => format!("periodics[{index}]{field}"),
    };
    let f = Finding::warning(message).at(at).for_job(job.name());
    if job.source_path().is_empty() {
        f
    } else {
        f.in_file(job.source_path())
    }
}

/// Go's `utilerrors.NewAggregate(...).Error()` for a list of messages: one message alone,
/// several in brackets, duplicates dropped.
fn aggregate(messages: &[String]) -> String {
    let mut seen = BTreeSet::new();
    let unique: Vec<&str> = messages
        .iter()
        .filter(|m| seen.insert(m.as_str()))
        .map(String::as_str)
        .collect();
    if unique.len() == 1 {
        unique[0].to_owned()
    } else {
        format!("[{}]", unique.join(", "))
    }
}

// ---------------------------------------------------------------------------------------------
// Job warnings.

/// The longest Kubernetes label value; Prow labels pods with job names.
const LABEL_VALUE_MAX_LENGTH: usize = 63;

/// `long-job-names`: kubernetes jobs whose names do not fit a label value.
pub fn long_job_names(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    each_job(config, |kind, job, i| {
        if job.agent() != "kubernetes" || job.name().len() <= LABEL_VALUE_MAX_LENGTH {
            return;
        }
        let message = match &kind {
            Kind::Presubmit(repo) => format!(
                "name of Presubmit job {:?} (for repo {repo:?}) too long (should be at most 63 characters)",
                job.name()
            ),
            Kind::Postsubmit(repo) => format!(
                "name of Postsubmit job {:?} (for repo {repo:?}) too long (should be at most 63 characters)",
                job.name()
            ),
            Kind::Periodic => format!(
                "name of Periodic job {:?} too long (should be at most 63 characters)",
                job.name()
            ),
        };
        out.push(view_finding(&kind, job, i, ".name", message));
    });
    out
}

/// `duplicate-job-refs`: presubmits whose extra refs repeat their own repo or each other.
pub fn duplicate_job_refs(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    for (repo, jobs) in &config.jobs.presubmits {
        for job in jobs {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            counts.insert(repo.clone(), 1);
            for r in &job.extra_refs {
                *counts.entry(format!("{}/{}", r.org, r.repo)).or_default() += 1;
            }
            let dupes: Vec<&str> = counts
                .iter()
                .filter(|(_, n)| **n > 1)
                .map(|(k, _)| k.as_str())
                .collect();
            if !dupes.is_empty() {
                let message = format!(
                    "invalid job {} on repo {repo}: the following refs specified more than once: {}",
                    job.name,
                    dupes.join(",")
                );
                out.push(view_finding(
                    &Kind::Presubmit(repo),
                    job,
                    job.source_index,
                    ".extra_refs",
                    message,
                ));
            }
        }
    }
    out
}

/// `periodic-default-clone-config`: periodics setting `clone_depth`, `clone_uri` or
/// `path_alias`, which only apply to a job's own repo and periodics have none.
pub fn periodic_default_clone_config(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    for job in &config.jobs.periodics {
        let set: Vec<&str> = [
            ("clone_depth", job.clone_depth != 0),
            ("clone_uri", !job.clone_uri.is_empty()),
            ("path_alias", !job.path_alias.is_empty()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| f)
        .collect();
        if let Some(first) = set.first() {
            let message = format!(
                "periodic jobs might clone 0, 1, or more repos, top level `clone_depth`, `clone_uri`, and `path_alias` don't have any effect. Name: {:?}",
                job.name
            );
            out.push(view_finding(
                &Kind::Periodic,
                job,
                job.source_index,
                &format!(".{first}"),
                message,
            ));
        }
    }
    out
}

/// `non-decorated-jobs`: kubernetes jobs that do not use the pod utilities (one finding per
/// job; Prow lists them all in one message).
pub fn non_decorated_jobs(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    each_job(config, |kind, job, i| {
        if job.agent() == "kubernetes" && !job.decorate().unwrap_or(false) {
            let message = format!(
                "the following jobs use the kubernetes provider but do not use the pod utilities: [{}]",
                job.name()
            );
            out.push(view_finding(&kind, job, i, ".decorate", message));
        }
    });
    out
}

/// `valid-decoration-config`: decorated kubernetes jobs whose merged decoration config lacks
/// what the pod utilities need.
pub fn valid_decoration_config(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    each_job(config, |kind, job, i| {
        if job.agent() != "kubernetes" || job.decorate() != Some(true) {
            return;
        }
        if let Some(Err(e)) = job.decoration_config().map(|d| d.validate()) {
            out.push(view_finding(&kind, job, i, ".decoration_config", e));
        }
    });
    out
}

/// `required-job-annotations`: jobs missing any of `opts.required_job_annotations`.
pub fn required_job_annotations(config: &Config, opts: &WarningOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    if opts.required_job_annotations.is_empty() {
        return out;
    }
    each_job(config, |kind, job, i| {
        let missing: Vec<String> = opts
            .required_job_annotations
            .iter()
            .filter(|a| !job.annotations().contains_key(a.as_str()))
            .cloned()
            .collect();
        if !missing.is_empty() {
            let message = format!(
                "job '{}' is missing required annotations: {}",
                job.name(),
                aggregate(&missing)
            );
            out.push(view_finding(&kind, job, i, ".annotations", message));
        }
    });
    out
}

/// Job agents that run on no build cluster.
const AGENTS_NOT_SUPPORTING_CLUSTER: &[&str] = &["jenkins"];

/// `validate-cluster-field`: jenkins jobs naming a cluster, and, when the build cluster
/// statuses are known, jobs naming a cluster plank does not know.
pub fn validate_cluster_field(config: &Config, opts: &WarningOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    each_job(config, |kind, job, i| {
        let prefix = match &kind {
            Kind::Presubmit(repo) | Kind::Postsubmit(repo) => (*repo).to_owned(),
            Kind::Periodic => "invalid periodic job".to_owned(),
        };
        let cluster = job.cluster();
        if !cluster.is_empty()
            && cluster != "default"
            && AGENTS_NOT_SUPPORTING_CLUSTER.contains(&job.agent())
        {
            let message = format!(
                "{prefix}: {}: cannot set cluster field if agent is {}",
                job.name(),
                job.agent()
            );
            out.push(view_finding(&kind, job, i, ".cluster", message));
            return;
        }
        if let Some(statuses) = &opts.cluster_statuses
            && !statuses.contains_key(cluster)
        {
            let message = format!(
                "{prefix}: job configuration for {:?} specifies unknown 'cluster' value {cluster:?}",
                job.name()
            );
            out.push(view_finding(&kind, job, i, ".cluster", message));
        }
    });
    out
}

/// Reads `plank.build_cluster_status_file` when it is a local file, as Prow's checkconfig
/// does: `Ok(None)` when it is unset or not there yet (plank writes it later), or when it is
/// in a bucket (`gs://`, `s3://`), which this offline check does not fetch; the caller may
/// pass such statuses in [`WarningOptions::cluster_statuses`].
pub fn read_cluster_statuses(config: &Config) -> Result<Option<BTreeMap<String, String>>, String> {
    let location = &config.prow.plank.build_cluster_status_file;
    if location.is_empty() || location.starts_with("gs://") || location.starts_with("s3://") {
        return Ok(None);
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "error opening build cluster status file for reading: {e}"
            ));
        }
    };
    // The file is JSON, which the YAML parser reads too.
    serde_yaml::from_str(&text)
        .map(Some)
        .map_err(|e| format!("error unmarshalling build cluster status file: {e}"))
}

/// The always-on check: every presubmit's `rerun_command` matches
/// `gerrit.allowed_presubmit_trigger_re` (an empty regex matches everything).
pub fn gerrit_rerun_commands(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let raw = &config.prow.gerrit.allowed_presubmit_trigger_re;
    let Ok(re) = crate::prow::compile_regex(raw) else {
        // Loading already reported the bad regex.
        return out;
    };
    for (repo, jobs) in &config.jobs.presubmits {
        for job in jobs {
            if !re.is_match(&job.rerun_command) {
                let message = format!(
                    "rerun command {} in job {} does not conform to test command requirements,please make sure the trigger regex is a subset of {raw} and the rerun command matches the trigger regex",
                    job.rerun_command, job.name
                );
                out.push(view_finding(
                    &Kind::Presubmit(repo),
                    job,
                    job.source_index,
                    ".rerun_command",
                    message,
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// config.yaml section warnings.

/// `needs-ok-to-test`: Tide queries requiring `lgtm` while forbidding `needs-ok-to-test`.
pub fn needs_ok_to_test(config: &Config, opts: &WarningOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, query) in config.prow.tide.queries.iter().enumerate() {
        let lgtm = query.labels.iter().filter(|l| *l == "lgtm").count();
        let forbids = query
            .missing_labels
            .iter()
            .filter(|l| *l == "needs-ok-to-test")
            .count();
        // Prow reports once per pair of matching entries.
        for _ in 0..lgtm * forbids {
            let message = format!(
                "the tide query at position {i}forbids the \"needs-ok-to-test\" label and requires the \"lgtm\" label, which is not recommended; see https://docs.prow.k8s.io/docs/components/core/tide/maintainers/#best-practices for more information"
            );
            // Positions count the queries as deduplicated at load, like Prow's, so the field
            // names no index that could point at a different entry of the file.
            out.push(opts.prow_finding(message, "tide.queries"));
        }
    }
    out
}

/// `managed-webhooks`: repos whose org also has a managed webhook (GitHub would deliver
/// every event twice).
pub fn managed_webhooks(config: &Config, opts: &WarningOptions) -> Vec<Finding> {
    let entries = &config.prow.managed_webhooks.org_repo_config;
    let orgs: BTreeSet<&str> = entries
        .keys()
        .filter(|k| !k.contains('/'))
        .map(String::as_str)
        .collect();
    entries
        .keys()
        .filter_map(|k| k.split_once('/').map(|(org, _)| (k, org)))
        .filter(|(_, org)| orgs.contains(org))
        .map(|(repo, _)| {
            let message = format!(
                "org-level and repo-level webhooks are configured together for {repo:?}, which is not allowed as there will be duplicated webhook events"
            );
            opts.prow_finding(
                message,
                &format!("managed_webhooks.org_repo_config[{repo:?}]"),
            )
        })
        .collect()
}

/// `validate-urls`: `status_error_link` must parse as a URL (Go's `url.Parse` rules).
pub fn validate_urls(config: &Config, opts: &WarningOptions) -> Vec<Finding> {
    let link = &config.prow.status_error_link;
    match go_url_parse_error(link) {
        None => Vec::new(),
        Some(_) => vec![opts.prow_finding(
            format!("status_error_link is not a valid url: {link}"),
            "status_error_link",
        )],
    }
}

/// Why Go's `net/url.Parse` rejects `s`, or `None` when it accepts it.
pub fn go_url_parse_error(s: &str) -> Option<String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Some("net/url: invalid control character in URL".to_owned());
    }
    // Go parses the part before '#' as the URL and unescapes the fragment separately.
    let (rest, fragment) = match s.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (s, None),
    };
    if let Some(f) = fragment
        && let Some(e) = bad_escape(f)
    {
        return Some(e);
    }
    if rest.is_empty() {
        return None;
    }
    // Scheme: letters first, then letters, digits, '+', '-', '.' up to the first ':'.
    let mut scheme_end = None;
    for (i, c) in rest.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' => {
                if i == 0 {
                    return Some("missing protocol scheme".to_owned());
                }
                scheme_end = Some(i);
                break;
            }
            _ => break,
        }
    }
    let mut rest = match scheme_end {
        Some(i) => &rest[i + 1..],
        None => rest,
    };
    if let Some((r, _query)) = rest.split_once('?') {
        rest = r;
    }
    if !rest.starts_with('/') && scheme_end.is_some() {
        // Opaque URL such as `mailto:x`: nothing more is checked.
        return None;
    }
    if scheme_end.is_none() && !rest.starts_with('/') {
        let first = rest.split('/').next().unwrap_or_default();
        if first.contains(':') {
            return Some("first path segment in URL cannot contain colon".to_owned());
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, ""),
        };
        let host = match authority.rsplit_once('@') {
            Some((user, host)) => {
                if user
                    .chars()
                    .any(|c| !(c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c)))
                {
                    return Some("net/url: invalid userinfo".to_owned());
                }
                if let Some(e) = bad_escape(user) {
                    return Some(e);
                }
                host
            }
            None => authority,
        };
        if let Some(e) = bad_host(host) {
            return Some(e);
        }
        rest = path;
    }
    bad_escape(rest)
}

fn bad_escape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok =
                i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !ok {
                let end = (i + 3).min(b.len());
                return Some(format!(
                    "invalid URL escape {:?}",
                    String::from_utf8_lossy(&b[i..end])
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    None
}

fn bad_host(host: &str) -> Option<String> {
    let port = if let Some(rest) = host.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Some("missing ']' in host".to_owned());
        };
        let after = &rest[end + 1..];
        if after.is_empty() {
            return None;
        }
        match after.strip_prefix(':') {
            Some(p) => p,
            None => return Some(format!("invalid port {after:?} after host")),
        }
    } else {
        match host.rfind(':') {
            Some(i) => &host[i + 1..],
            None => "",
        }
    };
    if !port.bytes().all(|c| c.is_ascii_digit()) {
        return Some(format!("invalid port \":{port}\" after host"));
    }
    let name = host.strip_suffix(&format!(":{port}")).unwrap_or(host);
    if name.starts_with('[') {
        return None;
    }
    if let Some(e) = bad_escape(name) {
        return Some(e);
    }
    name.chars()
        .find(|c| {
            c.is_ascii() && !c.is_ascii_alphanumeric() && !"-._~!$&'()*+,;=:[]<>\"%".contains(*c)
        })
        .map(|c| format!("invalid character {:?} in host name", c.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Branch protection: the policy engine lives with the policy types
// (`prow::branch_protection`); these names stay for the checks here and their callers.

pub use crate::prow::{
    apply_policy, branch_protection_for, branch_requirements, merged_branch_policy,
};

/// The own policy of one level (0 global, 1 org, 2 repo, 3 branch), empty when not configured.
fn level(bp: &BranchProtection, org: &str, repo: &str, branch: &str, depth: usize) -> Policy {
    bp.levels(org, repo, branch)
        .into_iter()
        .nth(depth)
        .map(|(_, p)| p)
        .unwrap_or_default()
}

/// Whether a presubmit could run on a branch.
type CouldRun<'a> = dyn Fn(&'a Presubmit, &str) -> bool + 'a;

// ---------------------------------------------------------------------------------------------
// Tide context policy.

/// A context policy Prow would compute but refuse, with the reason.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InvalidContextPolicy {
    /// The policy as computed.
    pub policy: Box<TideContextPolicy>,
    /// Why it is invalid, in Prow's words.
    pub reason: String,
}

/// Prow's `GetTideContextPolicy` for static jobs: the configured `tide.context_options` for
/// the branch, plus branch protection's required contexts when `from-branch-protection` is
/// set, plus the contexts of `presubmits` that could run on the branch.
pub fn tide_context_policy(
    prow: &ProwConfig,
    org: &str,
    repo: &str,
    branch: &str,
    presubmits: &[Presubmit],
) -> Result<TideContextPolicy, InvalidContextPolicy> {
    context_policy(prow, org, repo, branch, presubmits, &|j, b| j.could_run(b))
}

/// [`tide_context_policy`] deciding which jobs could run with `could_run`.
fn context_policy<'a>(
    prow: &ProwConfig,
    org: &str,
    repo: &str,
    branch: &str,
    presubmits: &'a [Presubmit],
    could_run: &CouldRun<'a>,
) -> Result<TideContextPolicy, InvalidContextPolicy> {
    let options = prow.tide.context_options.policy_for(org, repo, branch);
    let mut required: BTreeSet<String> = options.required_contexts.iter().cloned().collect();
    let mut if_present: BTreeSet<String> = options
        .required_if_present_contexts
        .iter()
        .cloned()
        .collect();
    let mut optional: BTreeSet<String> = options.optional_contexts.iter().cloned().collect();
    let mut manual = None;
    if options.from_branch_protection == Some(true) {
        // Prow only logs a branch protection error here and carries on without it.
        if let Ok(Some(bp)) =
            crate::prow::protection_for_with(prow, org, repo, branch, presubmits, could_run)
        {
            manual = bp.require_manually_triggered_jobs;
            if bp.protect == Some(true)
                && let Some(checks) = &bp.required_status_checks
            {
                required.extend(checks.contexts.iter().cloned());
            }
        }
    }
    let (r, p, o) = crate::prow::branch_requirements_with(branch, presubmits, manual, could_run);
    required.extend(r);
    if_present.extend(p);
    optional.extend(o);
    let policy = TideContextPolicy {
        required_contexts: required.into_iter().collect(),
        required_if_present_contexts: if_present.into_iter().collect(),
        optional_contexts: optional.into_iter().collect(),
        optional_regex_contexts: options.optional_regex_contexts.clone(),
        skip_unknown_contexts: options.skip_unknown_contexts,
        overwrite_pending_contexts: options.overwrite_pending_contexts,
        ..TideContextPolicy::default()
    };
    match policy.validate() {
        Ok(()) => Ok(policy),
        Err(reason) => Err(InvalidContextPolicy {
            policy: Box::new(policy),
            reason,
        }),
    }
}

/// Every `org/repo` with the branches the configuration names for it: presubmits' `branches`
/// entries, branch protection and Tide context options; `master` for repos naming none.
///
/// As in Prow, a `branches` entry is taken as written, so a regex such as `^release-.*$` is
/// checked as if it were a branch name; only literal names test the branches they mean.
pub fn known_branches(config: &Config) -> BTreeMap<String, BTreeSet<String>> {
    let mut known: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (repo, jobs) in &config.jobs.presubmits {
        let set = known.entry(repo.clone()).or_default();
        for job in jobs {
            set.extend(job.branches.iter().cloned());
        }
    }
    for (org, o) in &config.prow.branch_protection.orgs {
        for (repo, r) in &o.repos {
            known
                .entry(format!("{org}/{repo}"))
                .or_default()
                .extend(r.branches.keys().cloned());
        }
    }
    for (org, o) in &config.prow.tide.context_options.orgs {
        for (repo, r) in &o.repos {
            known
                .entry(format!("{org}/{repo}"))
                .or_default()
                .extend(r.branches.keys().cloned());
        }
    }
    for branches in known.values_mut() {
        if branches.is_empty() {
            branches.insert("master".to_owned());
        }
    }
    known
}

/// A presubmit's `branches` and `skip_branches`.
type BranchLists<'a> = (&'a [String], &'a [String]);

/// Branchers shared by every presubmit with the same `branches` and `skip_branches`.
///
/// This warning asks every presubmit of a repository whether it could run on each branch the
/// configuration names for that repository. Asking the jobs themselves compiles and keeps a
/// brancher in each of them (k8s-test-infra: thousands of jobs), which made this default
/// warning cost more than loading the whole configuration; many jobs share their branch
/// lists, and one brancher per distinct pair of lists gives the same answers.
#[derive(Default)]
struct SharedBranchers<'a> {
    by_lists: std::cell::RefCell<HashMap<BranchLists<'a>, Option<Brancher>>>,
}

impl<'a> SharedBranchers<'a> {
    /// Prow's `CouldRun` for `job` on `branch`, as [`Presubmit::could_run`] answers it.
    fn could_run(&self, job: &'a Presubmit, branch: &str) -> bool {
        let key = (job.branches.as_slice(), job.skip_branches.as_slice());
        self.by_lists
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| Brancher::new(key.0, key.1).ok())
            .as_ref()
            .is_some_and(|b| b.should_run(branch))
    }
}

/// `tide-context-policy`: the context policy of every known branch is consistent (in-repo
/// jobs are not fetched, as in Prow's checkconfig).
pub fn tide_context_policy_warning(config: &Config, opts: &WarningOptions) -> Vec<Finding> {
    let mut out = Vec::new();
    let empty = Vec::new();
    let branchers = SharedBranchers::default();
    for (org_repo, branches) in known_branches(config) {
        let mut parts = org_repo.split('/');
        let (Some(org), Some(repo), None) = (parts.next(), parts.next(), parts.next()) else {
            // Gerrit hosts and other non-GitHub keys.
            continue;
        };
        let presubmits = config.jobs.presubmits.get(&org_repo).unwrap_or(&empty);
        for branch in branches {
            let could_run = |job, branch: &str| branchers.could_run(job, branch);
            if let Err(e) = context_policy(&config.prow, org, repo, &branch, presubmits, &could_run)
            {
                let message = format!(
                    "context policy for {branch} branch in {org}/{repo} is invalid: {}",
                    e.reason
                );
                let f = match presubmits.first() {
                    Some(job) if !job.source_path.is_empty() => Finding::warning(message)
                        .in_file(&job.source_path)
                        .at(format!("presubmits[{org_repo:?}]")),
                    _ => opts.prow_finding(message, "tide.context_options"),
                };
                out.push(f);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tide and strict branch protection.

/// A set of repos: whole orgs minus exceptions, plus single repos (Prow's `orgRepoConfig`).
#[derive(Debug, Default)]
struct OrgRepos {
    org_exceptions: BTreeMap<String, BTreeSet<String>>,
    repos: BTreeSet<String>,
}

fn org_of(repo: &str) -> Option<&str> {
    repo.split_once('/').map(|(o, _)| o)
}

impl OrgRepos {
    fn intersection(&self, other: &OrgRepos) -> OrgRepos {
        let mut res = OrgRepos::default();
        for (org, ex1) in &self.org_exceptions {
            if let Some(ex2) = other.org_exceptions.get(org) {
                res.org_exceptions
                    .insert(org.clone(), ex1.union(ex2).cloned().collect());
            } else {
                for repo in &other.repos {
                    if org_of(repo) == Some(org) && !ex1.contains(repo) {
                        res.repos.insert(repo.clone());
                    }
                }
            }
        }
        for repo in &self.repos {
            if other.repos.contains(repo) {
                res.repos.insert(repo.clone());
            } else if let Some(org) = org_of(repo)
                && let Some(ex2) = other.org_exceptions.get(org)
                && !ex2.contains(repo)
            {
                res.repos.insert(repo.clone());
            }
        }
        res
    }

    fn items(&self) -> Vec<String> {
        let mut items = Vec::new();
        for (org, ex) in &self.org_exceptions {
            let mut item = format!("org: {org}");
            if !ex.is_empty() {
                let list: Vec<&str> = ex.iter().map(String::as_str).collect();
                item = format!("{item} without repo(s) {}", list.join(", "));
                for repo in list {
                    item = format!("{item} '{repo}'");
                }
            }
            items.push(item);
        }
        items.extend(self.repos.iter().map(|r| format!("repo: {r}")));
        items
    }
}

/// Which orgs (with excluded repos) and repos Tide queries cover (Prow's
/// `OrgExceptionsAndRepos`).
fn tide_org_repos(queries: &[TideQuery]) -> OrgRepos {
    let mut orgs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for q in queries {
        for org in &q.orgs {
            let applicable: BTreeSet<String> = q
                .excluded_repos
                .iter()
                .filter(|r| org_of(r) == Some(org))
                .cloned()
                .collect();
            match orgs.get_mut(org) {
                None => {
                    orgs.insert(org.clone(), applicable);
                }
                Some(ex) => *ex = ex.intersection(&applicable).cloned().collect(),
            }
        }
    }
    let repos: BTreeSet<String> = queries
        .iter()
        .flat_map(|q| q.repos.iter().cloned())
        .collect();
    for ex in orgs.values_mut() {
        ex.retain(|r| !repos.contains(r));
    }
    OrgRepos {
        org_exceptions: orgs,
        repos,
    }
}

fn policy_is_strict(p: &Policy) -> bool {
    p.protect == Some(true)
        && p.required_status_checks
            .as_ref()
            .and_then(|c| c.strict)
            .unwrap_or(false)
}

const STRICT_EXPLANATION: &str = "See #5: https://docs.prow.k8s.io/docs/components/core/tide/maintainers/#best-practices Also note that this validation is imperfect, see the check-config code for details";

/// `tide-strict-branch`: branch protection must not require up-to-date branches where Tide
/// merges (Tide retests against the current base itself). Like Prow, any strict branch marks
/// its whole repo, and any Tide query on a repo marks all of it.
pub fn tide_strict_branch(config: &Config, opts: &WarningOptions) -> Vec<Finding> {
    let prow = &config.prow;
    if prow.tide.queries.is_empty() {
        return Vec::new();
    }
    let bp = &prow.branch_protection;
    let global = bp.policy();
    if policy_is_strict(&global) {
        return vec![opts.prow_finding(
            format!("strict branchprotection context requirements cannot be globally enabled when Tide is configured for use. {STRICT_EXPLANATION}"),
            "branch-protection.required_status_checks.strict",
        )];
    }
    let mut strict = OrgRepos::default();
    let mut out = Vec::new();
    for (org_name, org) in &bp.orgs {
        let org_policy = apply_policy(&global, &level(bp, org_name, "", "", 1));
        let (mut strict_repos, mut lenient_repos) = (BTreeSet::new(), BTreeSet::new());
        for (repo_name, repo) in &org.repos {
            let repo_policy = apply_policy(&org_policy, &level(bp, org_name, repo_name, "", 2));
            let mut is_strict = policy_is_strict(&repo_policy);
            if !is_strict {
                for branch_name in repo.branches.keys() {
                    match merged_branch_policy(bp, org_name, repo_name, branch_name) {
                        Ok(p) if policy_is_strict(&p) => {
                            is_strict = true;
                            break;
                        }
                        Ok(_) => {}
                        Err(e) => {
                            // Prow stops the whole check at the first such error.
                            return vec![opts.prow_finding(
                                format!("error for repo={org_name}/{repo_name} and branch={branch_name}: {e}"),
                                &format!("branch-protection.orgs[{org_name:?}].repos[{repo_name:?}].branches[{branch_name:?}]"),
                            )];
                        }
                    }
                }
            }
            let full = format!("{org_name}/{repo_name}");
            if is_strict {
                strict_repos.insert(full);
            } else {
                lenient_repos.insert(full);
            }
        }
        if policy_is_strict(&org_policy) {
            strict
                .org_exceptions
                .insert(org_name.clone(), lenient_repos);
        } else {
            strict.repos.extend(strict_repos);
        }
    }
    let conflicts = tide_org_repos(&prow.tide.queries)
        .intersection(&strict)
        .items();
    if !conflicts.is_empty() {
        out.push(opts.prow_finding(
            format!(
                "the following enable strict branchprotection context requirements even though Tide handles merges: [{}]. {STRICT_EXPLANATION}",
                conflicts.join("; ")
            ),
            "branch-protection",
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Unmanaged branch protection.

/// Whether a policy sets anything besides `unmanaged` (Prow compares with a policy carrying
/// only `unmanaged`).
fn has_settings(p: &Policy) -> bool {
    let bare = Policy {
        unmanaged: p.unmanaged,
        ..Policy::default()
    };
    *p != bare
}

/// `validate-unmanaged-branchconfig-has-no-subconfig`: levels set to `unmanaged: true` must not
/// carry settings, and levels below them must say `unmanaged: false` to be managed again.
pub fn unmanaged_branchconfig_has_no_subconfig(
    config: &Config,
    opts: &WarningOptions,
) -> Vec<Finding> {
    let bp = &config.prow.branch_protection;
    let mut out = Vec::new();
    let mut push = |message: String, field: String| out.push(opts.prow_finding(message, &field));
    let org_has_managed_repos =
        |o: &OrgPolicy| o.repos.values().any(|r| r.unmanaged == Some(false));
    let repo_has_managed_branches =
        |r: &RepoPolicy| r.branches.values().any(|b| b.unmanaged == Some(false));
    let org_has_managed_branches = |o: &OrgPolicy| o.repos.values().any(repo_has_managed_branches);
    if bp.unmanaged == Some(true) {
        let any_managed_org = bp.orgs.values().any(|o| o.unmanaged == Some(false));
        let any_managed_repo = bp.orgs.values().any(org_has_managed_repos);
        let any_managed_branch = bp.orgs.values().any(org_has_managed_branches);
        if has_settings(&bp.policy())
            && !any_managed_org
            && !any_managed_repo
            && !any_managed_branch
        {
            push(
                "branch protection is globally set to unmanaged, but has configuration".to_owned(),
                "branch-protection".to_owned(),
            );
        }
        for (org_name, org) in &bp.orgs {
            if org_has_managed_repos(org) {
                continue;
            }
            // Prow means to skip orgs with managed branches here too, but its loop only
            // continues the inner loop, so such orgs are reported as well.
            push(
                format!(
                    "branch protection config is globally set to unmanaged but has configuration for org {org_name} without setting the org to unmanaged: false"
                ),
                format!("branch-protection.orgs[{org_name:?}]"),
            );
        }
    }
    for (org_name, org) in &bp.orgs {
        let org_at = format!("branch-protection.orgs[{org_name:?}]");
        if org.unmanaged == Some(true) {
            let own = &level(bp, org_name, "", "", 1);
            if has_settings(own) && !org_has_managed_repos(org) && !org_has_managed_branches(org) {
                push(
                    format!(
                        "branch protection config for org {org_name} is set to unmanaged, but it defines settings"
                    ),
                    org_at.clone(),
                );
            }
            for (repo_name, repo) in &org.repos {
                if repo_has_managed_branches(repo) {
                    continue;
                }
                push(
                    format!(
                        "branch protection config for repo {org_name}/{repo_name} is defined, but branch protection is unmanaged for org {org_name} without setting the repo to unmanaged: false"
                    ),
                    format!("{org_at}.repos[{repo_name:?}]"),
                );
            }
        }
        for (repo_name, repo) in &org.repos {
            let repo_at = format!("{org_at}.repos[{repo_name:?}]");
            if repo.unmanaged == Some(true) {
                let own = &level(bp, org_name, repo_name, "", 2);
                if has_settings(own) && !repo_has_managed_branches(repo) {
                    push(
                        format!(
                            "branch protection config for repo {org_name}/{repo_name} is set to unmanaged, but it defines settings"
                        ),
                        repo_at.clone(),
                    );
                }
                for (branch_name, branch) in &repo.branches {
                    if branch.unmanaged == Some(false) {
                        continue;
                    }
                    push(
                        format!(
                            "branch protection for repo {org_name}/{repo_name} is set to unmanaged, but it defines settings for branch {branch_name} without setting the branch to unmanaged: false"
                        ),
                        format!("{repo_at}.branches[{branch_name:?}]"),
                    );
                }
            }
            for (branch_name, branch) in &repo.branches {
                if branch.unmanaged == Some(true) {
                    let own = &level(bp, org_name, repo_name, branch_name, 3);
                    if has_settings(own) {
                        push(
                            format!(
                                "branch protection config for branch {branch_name} in repo {org_name}/{repo_name} is set to unmanaged but defines settings"
                            ),
                            format!("{repo_at}.branches[{branch_name:?}]"),
                        );
                    }
                }
            }
        }
    }
    out
}
