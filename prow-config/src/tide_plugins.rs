//! Checkconfig's warnings that compare Tide's queries and jobs with where plugins are enabled:
//! `mismatched-tide`, `mismatched-tide-lenient`, `validate-owners` and `missing-trigger` (`cmd/checkconfig/main.go`).

use std::collections::{BTreeMap, BTreeSet};

use crate::error::Finding;
use crate::jobs::JobConfig;
use crate::load::Config;
use crate::orgrepo::{OrgRepoSet, label_plugin_enabled, tide_and_plugin_agree};
use crate::prow::TideQuery;
use crate::validate::WarningOptions;

/// Where plugins are enabled (implemented by the plugin configuration).
pub trait PluginEnablement {
    /// The orgs (with excluded repos) and repos enabling `plugin`; `external` asks about an
    /// external plugin (Prow's `EnabledReposForPlugin` / `EnabledReposForExternalPlugin`).
    fn enabled_for(&self, plugin: &str, external: bool) -> OrgRepoSet;
}

/// The orgs (minus excluded repos) and repos a set of Tide queries covers (Prow's
/// `TideQueries.OrgExceptionsAndRepos`).
pub fn tide_coverage<'q>(queries: impl IntoIterator<Item = &'q TideQuery>) -> OrgRepoSet {
    let queries: Vec<&TideQuery> = queries.into_iter().collect();
    let mut orgs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for q in &queries {
        for org in &q.orgs {
            let prefix = format!("{org}/");
            let applicable: BTreeSet<String> = q
                .excluded_repos
                .iter()
                .filter(|r| r.starts_with(&prefix))
                .cloned()
                .collect();
            match orgs.get_mut(org) {
                None => {
                    orgs.insert(org.clone(), applicable);
                }
                Some(excepts) => excepts.retain(|r| applicable.contains(r)),
            }
        }
    }
    let repos: BTreeSet<String> = queries
        .iter()
        .flat_map(|q| q.repos.iter().cloned())
        .collect();
    for excepts in orgs.values_mut() {
        excepts.retain(|r| !repos.contains(r));
    }
    OrgRepoSet {
        org_exceptions: orgs,
        repos,
    }
}

/// A label Tide should require or forbid where a plugin manages it.
struct Pair {
    plugin: &'static str,
    label: &'static str,
    external: bool,
    forbid: bool,
}

const LGTM: Pair = Pair {
    plugin: "lgtm",
    label: "lgtm",
    external: false,
    forbid: false,
};
const APPROVE: Pair = Pair {
    plugin: "approve",
    label: "approved",
    external: false,
    forbid: false,
};
const FORBIDDEN: [Pair; 7] = [
    Pair {
        plugin: "hold",
        label: "do-not-merge/hold",
        external: false,
        forbid: true,
    },
    Pair {
        plugin: "wip",
        label: "do-not-merge/work-in-progress",
        external: false,
        forbid: true,
    },
    Pair {
        plugin: "bugzilla",
        label: "bugzilla/invalid-bug",
        external: false,
        forbid: true,
    },
    Pair {
        plugin: "verify-owners",
        label: "do-not-merge/invalid-owners-file",
        external: false,
        forbid: true,
    },
    Pair {
        plugin: "release-note",
        label: "do-not-merge/release-note-label-needed",
        external: false,
        forbid: true,
    },
    Pair {
        plugin: "cherry-pick-unapproved",
        label: "do-not-merge/cherry-pick-not-approved",
        external: false,
        forbid: true,
    },
    Pair {
        plugin: "blockade",
        label: "do-not-merge/blocked-paths",
        external: false,
        forbid: true,
    },
];
const NEEDS_REBASE: Pair = Pair {
    plugin: "needs-rebase",
    label: "needs-rebase",
    external: true,
    forbid: true,
};

impl Pair {
    fn verb(&self) -> &'static str {
        if self.forbid { "forbid" } else { "require" }
    }

    fn tide_subset(&self, queries: &[TideQuery]) -> OrgRepoSet {
        tide_coverage(queries.iter().filter(|q| {
            let list = if self.forbid {
                &q.missing_labels
            } else {
                &q.labels
            };
            list.iter().any(|l| l == self.label)
        }))
    }
}

/// `mismatched-tide` (`strict`: also the labels Tide should forbid) and
/// `mismatched-tide-lenient` (only `lgtm` and `approved`): Tide's merge requirements and the
/// plugins that manage those labels must agree (`validateTideRequirements`).
pub fn mismatched_tide(
    queries: &[TideQuery],
    plugins: &dyn PluginEnablement,
    strict: bool,
) -> Vec<Finding> {
    let superset = tide_coverage(queries);
    let mut pairs = vec![&LGTM, &APPROVE];
    if strict {
        pairs.extend(FORBIDDEN.iter());
    }
    let mut problems = Vec::new();
    for pair in pairs {
        problems.extend(tide_and_plugin_agree(
            pair.plugin,
            pair.label,
            pair.verb(),
            &pair.tide_subset(queries),
            &superset,
            &plugins.enabled_for(pair.plugin, pair.external),
        ));
    }
    if strict {
        let pair = &NEEDS_REBASE;
        problems.extend(label_plugin_enabled(
            pair.plugin,
            pair.label,
            pair.verb(),
            &pair.tide_subset(queries),
            &plugins.enabled_for(pair.plugin, pair.external),
        ));
    }
    problems
        .into_iter()
        .map(|m| Finding::warning(m).at("tide.queries"))
        .collect()
}

/// The plugins that read OWNERS files.
const OWNERS_PLUGINS: [&str; 4] = ["approve", "blunderbuss", "rifle", "owners-label"];

/// `validate-owners`: repos using OWNERS files should enable `verify-owners`
/// (`verifyOwnersPlugin`).
pub fn validate_owners(plugins: &dyn PluginEnablement) -> Vec<Finding> {
    let using = OWNERS_PLUGINS
        .iter()
        .map(|p| plugins.enabled_for(p, false))
        .reduce(|a, b| a.union(&b))
        .unwrap_or_default();
    let invalid = using
        .difference(&plugins.enabled_for("verify-owners", false))
        .items();
    if invalid.is_empty() {
        return Vec::new();
    }
    vec![Finding::warning(format!(
        "the following orgs or repos enable at least one plugin that uses OWNERS files ({}) but do not enable the verify-owners plugin to ensure validity of OWNERS files: [{}]",
        OWNERS_PLUGINS.join(", "),
        invalid.join(" ")
    ))
    .at("plugins")]
}

/// `missing-trigger`: every repo with jobs should enable the trigger plugin
/// (`validateTriggers`).
pub fn missing_trigger(jobs: &JobConfig, plugins: &dyn PluginEnablement) -> Vec<Finding> {
    let configured = OrgRepoSet {
        org_exceptions: BTreeMap::new(),
        repos: jobs
            .presubmits
            .keys()
            .chain(jobs.postsubmits.keys())
            .cloned()
            .collect(),
    };
    let missing = configured
        .difference(&plugins.enabled_for("trigger", false))
        .items();
    if missing.is_empty() {
        return Vec::new();
    }
    vec![Finding::warning(format!(
        "the following repos have jobs configured but do not have the trigger plugin enabled: {}",
        missing.join(", ")
    ))
    .at("plugins")]
}

/// Checkconfig's warnings that need `plugins.yaml`, those `options` enables: `mismatched-tide`
/// (or else `mismatched-tide-lenient`), `validate-owners`, `missing-trigger`, `validate-label`
/// and `validate-config-updater-acls`. Findings without a file belong to `plugins.yaml`.
pub fn check_plugin_warnings(
    config: &Config,
    plugins: &crate::plugins::PluginConfig,
    options: &WarningOptions,
) -> Vec<Finding> {
    let on = |name: &str| options.enabled.contains(name);
    let queries = &config.prow.tide.queries;
    let mut out = Vec::new();
    let strict = on("mismatched-tide");
    if strict || on("mismatched-tide-lenient") {
        let found = mismatched_tide(queries, plugins, strict);
        out.extend(found.into_iter().map(|f| f.in_file(&options.config_path)));
    }
    out.extend(
        crate::plugins::checkconfig_warnings(plugins)
            .into_iter()
            .filter(|w| on(w.name))
            .map(|w| w.finding),
    );
    if on("missing-trigger") {
        out.extend(missing_trigger(&config.jobs, plugins));
    }
    out
}
