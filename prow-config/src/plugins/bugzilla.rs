//! The bugzilla plugin's settings resolved for one branch: global, then org, then repo, then
//! branch, each level's `*` before its named branch (upstream `pkg/plugins/config.go`:
//! `OptionsForBranch`, `OptionsForRepo`, `ResolveBugzillaOptions`).
//!
//! The deprecated `status*` fields are folded into the matching `state*` fields and cleared,
//! as upstream does, so users of the resolved options read only the `state*` fields.

use std::collections::{BTreeMap, BTreeSet};

use super::config::{Bugzilla, BugzillaBranchOptions, BugzillaBugState, LenientMap};

/// The branch name that stands for every branch.
pub const BUGZILLA_WILDCARD: &str = "*";

impl BugzillaBugState {
    /// The state as upstream words it (`bugzilla.PrettyStatus`): `STATUS`, `STATUS
    /// (RESOLUTION)`, or `any status with resolution RESOLUTION`.
    pub fn pretty(&self) -> String {
        pretty_status(&self.status, &self.resolution)
    }

    /// A state with this status and no resolution.
    pub fn of_status(status: &str) -> Self {
        BugzillaBugState {
            status: status.to_owned(),
            resolution: String::new(),
        }
    }

    /// A state with this status and resolution.
    pub fn new(status: &str, resolution: &str) -> Self {
        BugzillaBugState {
            status: status.to_owned(),
            resolution: resolution.to_owned(),
        }
    }

    /// Whether a bug with `status` and `resolution` is in this state (an empty field matches
    /// anything).
    pub fn matches(&self, status: &str, resolution: &str) -> bool {
        (self.status.is_empty() || self.status == status)
            && (self.resolution.is_empty() || self.resolution == resolution)
    }
}

/// `STATUS`, `STATUS (RESOLUTION)` or `any status with resolution RESOLUTION` (upstream
/// `bugzilla.PrettyStatus`).
pub fn pretty_status(status: &str, resolution: &str) -> String {
    if resolution.is_empty() {
        status.to_owned()
    } else if status.is_empty() {
        format!("any status with resolution {resolution}")
    } else {
        format!("{status} ({resolution})")
    }
}

impl Bugzilla {
    /// The options for `branch` of `org/repo` (upstream `OptionsForBranch`).
    pub fn options_for_branch(&self, org: &str, repo: &str, branch: &str) -> BugzillaBranchOptions {
        let mut options = options_for_item(branch, self.default.as_ref());
        let Some(org_options) = self.orgs.get(org) else {
            return options;
        };
        options = resolve_bugzilla_options(
            &options,
            &options_for_item(branch, org_options.default.as_ref()),
        );
        let Some(repo_options) = org_options.repos.get(repo) else {
            return options;
        };
        resolve_bugzilla_options(
            &options,
            &options_for_item(branch, Some(&repo_options.branches)),
        )
    }

    /// The options of every branch of `org/repo` that is named at some level, `*` included;
    /// branches whose options equal `*`'s are left out (upstream `OptionsForRepo`).
    pub fn options_for_repo(
        &self,
        org: &str,
        repo: &str,
    ) -> BTreeMap<String, BugzillaBranchOptions> {
        let mut branches: BTreeSet<&str> = BTreeSet::new();
        branches.extend(
            self.default
                .iter()
                .flat_map(|m| m.keys().map(String::as_str)),
        );
        if let Some(org_options) = self.orgs.get(org) {
            branches.extend(
                org_options
                    .default
                    .iter()
                    .flat_map(|m| m.keys().map(String::as_str)),
            );
            if let Some(repo_options) = org_options.repos.get(repo) {
                branches.extend(repo_options.branches.keys().map(String::as_str));
            }
        }
        let options: BTreeMap<String, BugzillaBranchOptions> = branches
            .into_iter()
            .map(|b| (b.to_owned(), self.options_for_branch(org, repo, b)))
            .collect();
        let wildcard = options.get(BUGZILLA_WILDCARD).cloned().unwrap_or_default();
        options
            .into_iter()
            .filter(|(branch, o)| branch == BUGZILLA_WILDCARD || !same_rules(o, &wildcard))
            .collect()
    }
}

/// Whether two resolved options check and change bugs alike (upstream `matches`: the fields
/// shown in help).
fn same_rules(a: &BugzillaBranchOptions, b: &BugzillaBranchOptions) -> bool {
    let states = |s: &Option<Vec<BugzillaBugState>>| {
        s.as_ref()
            .map(|v| v.iter().map(key).collect::<BTreeSet<_>>())
    };
    a.validate_by_default == b.validate_by_default
        && a.is_open == b.is_open
        && a.target_release == b.target_release
        && states(&a.valid_states) == states(&b.valid_states)
        && states(&a.dependent_bug_states) == states(&b.dependent_bug_states)
        && a.state_after_validation == b.state_after_validation
        && a.add_external_link == b.add_external_link
        && a.state_after_merge == b.state_after_merge
}

fn key(state: &BugzillaBugState) -> (String, String) {
    (state.status.clone(), state.resolution.clone())
}

/// `*`'s options overridden by `item`'s (upstream `OptionsForItem`).
fn options_for_item(
    item: &str,
    config: Option<&LenientMap<BugzillaBranchOptions>>,
) -> BugzillaBranchOptions {
    let get = |k: &str| config.and_then(|c| c.get(k)).cloned().unwrap_or_default();
    resolve_bugzilla_options(&get(BUGZILLA_WILDCARD), &get(item))
}

/// `states` and the states of `statuses` together, without repeats, sorted by status then
/// resolution; `None` when both are empty (upstream `mergeStatusesIntoStates`).
fn merge_statuses_into_states(
    states: Option<&Vec<BugzillaBugState>>,
    statuses: Option<&Vec<String>>,
) -> Option<Vec<BugzillaBugState>> {
    let set: BTreeSet<(String, String)> = states
        .into_iter()
        .flatten()
        .map(key)
        .chain(
            statuses
                .into_iter()
                .flatten()
                .map(|s| (s.clone(), String::new())),
        )
        .collect();
    (!set.is_empty()).then(|| {
        set.into_iter()
            .map(|(status, resolution)| BugzillaBugState { status, resolution })
            .collect()
    })
}

/// `child` over `parent`, unless `child` excludes defaults (upstream
/// `ResolveBugzillaOptions`); the deprecated `status*` fields come out folded into `state*`.
pub fn resolve_bugzilla_options(
    parent: &BugzillaBranchOptions,
    child: &BugzillaBranchOptions,
) -> BugzillaBranchOptions {
    let mut out = BugzillaBranchOptions::default();
    if child.exclude_defaults != Some(true) {
        out.exclude_defaults = parent.exclude_defaults;
        out.validate_by_default = parent.validate_by_default;
        out.is_open = parent.is_open;
        out.target_release.clone_from(&parent.target_release);
        out.valid_states.clone_from(&parent.valid_states);
        if parent.statuses.is_some() {
            out.valid_states =
                merge_statuses_into_states(out.valid_states.as_ref(), parent.statuses.as_ref());
        }
        out.dependent_bug_states
            .clone_from(&parent.dependent_bug_states);
        if parent.dependent_bug_statuses.is_some() {
            out.dependent_bug_states = merge_statuses_into_states(
                out.dependent_bug_states.as_ref(),
                parent.dependent_bug_statuses.as_ref(),
            );
        }
        out.dependent_bug_target_releases
            .clone_from(&parent.dependent_bug_target_releases);
        if let Some(release) = &parent.dependent_bug_target_release {
            add_release(
                &mut out,
                parent.dependent_bug_target_releases.as_ref(),
                release,
            );
        }
        if let Some(status) = &parent.status_after_validation {
            out.state_after_validation = Some(BugzillaBugState::of_status(status));
        }
        if parent.state_after_validation.is_some() {
            out.state_after_validation
                .clone_from(&parent.state_after_validation);
        }
        out.add_external_link = parent.add_external_link;
        if let Some(status) = &parent.status_after_merge {
            out.state_after_merge = Some(BugzillaBugState::of_status(status));
        }
        if parent.state_after_merge.is_some() {
            out.state_after_merge.clone_from(&parent.state_after_merge);
        }
        out.state_after_close.clone_from(&parent.state_after_close);
        out.enable_backporting = parent.enable_backporting;
        out.allowed_groups = union(&out.allowed_groups, &parent.allowed_groups);
    }

    if child.exclude_defaults.is_some() {
        out.exclude_defaults = child.exclude_defaults;
    }
    if child.validate_by_default.is_some() {
        out.validate_by_default = child.validate_by_default;
    }
    if child.is_open.is_some() {
        out.is_open = child.is_open;
    }
    if child.target_release.is_some() {
        out.target_release.clone_from(&child.target_release);
    }
    if child.valid_states.is_some() {
        out.valid_states.clone_from(&child.valid_states);
    }
    if child.statuses.is_some() {
        if child.valid_states.is_none() {
            out.valid_states = None;
        }
        out.valid_states =
            merge_statuses_into_states(out.valid_states.as_ref(), child.statuses.as_ref());
    }
    if child.dependent_bug_states.is_some() {
        out.dependent_bug_states
            .clone_from(&child.dependent_bug_states);
    }
    if child.dependent_bug_statuses.is_some() {
        if child.dependent_bug_states.is_none() {
            out.dependent_bug_states = None;
        }
        out.dependent_bug_states = merge_statuses_into_states(
            out.dependent_bug_states.as_ref(),
            child.dependent_bug_statuses.as_ref(),
        );
    }
    if child.dependent_bug_target_releases.is_some() {
        out.dependent_bug_target_releases
            .clone_from(&child.dependent_bug_target_releases);
    }
    if let Some(release) = &child.dependent_bug_target_release {
        add_release(
            &mut out,
            child.dependent_bug_target_releases.as_ref(),
            release,
        );
    }
    if let Some(status) = &child.status_after_validation
        && child.state_after_validation.is_none()
    {
        out.state_after_validation = Some(BugzillaBugState::of_status(status));
    }
    if child.state_after_validation.is_some() {
        out.state_after_validation
            .clone_from(&child.state_after_validation);
    }
    if child.add_external_link.is_some() {
        out.add_external_link = child.add_external_link;
    }
    if let Some(status) = &child.status_after_merge
        && child.state_after_merge.is_none()
    {
        out.state_after_merge = Some(BugzillaBugState::of_status(status));
    }
    if child.state_after_merge.is_some() {
        out.state_after_merge.clone_from(&child.state_after_merge);
    }
    if child.state_after_close.is_some() {
        out.state_after_close.clone_from(&child.state_after_close);
    }
    if child.enable_backporting.is_some() {
        out.enable_backporting = child.enable_backporting;
    }
    out.allowed_groups = union(&out.allowed_groups, &child.allowed_groups);
    out
}

/// The deprecated single dependent target release: the whole list when the level has no
/// list, else added to it when missing.
fn add_release(out: &mut BugzillaBranchOptions, level: Option<&Vec<String>>, release: &str) {
    match level {
        None => out.dependent_bug_target_releases = Some(vec![release.to_owned()]),
        Some(list) if !list.iter().any(|r| r == release) => out
            .dependent_bug_target_releases
            .get_or_insert_with(Vec::new)
            .push(release.to_owned()),
        Some(_) => {}
    }
}

fn union(a: &[String], b: &[String]) -> Vec<String> {
    a.iter()
        .chain(b)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
