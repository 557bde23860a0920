//! Defaults and checks of `plugins.yaml`, as Prow's `Configuration.Validate` and
//! `ValidatePluginsUnknown` do them, except that every problem is collected.

use std::collections::{BTreeMap, BTreeSet};

use super::config::{
    Blunderbuss, ConfigMapSpec, PluginConfig, Plugins, RequireMatchingLabel, Size,
};
use crate::error::Severity;
use crate::locate::{FieldSegment as Seg, field_path as path};

/// Every plugin hook registers, so the names `plugins` may list.
///
/// Taken from the packages `pkg/hook/plugin-imports/plugin-imports.go` imports in
/// kubernetes-sigs/prow (each registers its `PluginName`), plus `reward-owners`: it exists
/// upstream (`pkg/plugins/reward-owners`) but hook does not import it, so Prow rejects the
/// name; prow-rs builds the plugin and accepts it.
pub const KNOWN_PLUGINS: &[&str] = &[
    "approve",
    "assign",
    "blockade",
    "blunderbuss",
    "branchcleaner",
    "bugzilla",
    "buildifier",
    "cat",
    "cherry-pick-approved",
    "cherry-pick-unapproved",
    "cla",
    "config-updater",
    "dco",
    "dog",
    "golint",
    "goose",
    "heart",
    "help",
    "hold",
    "invalidcommitmsg",
    "issue-management",
    "jira",
    "label",
    "lgtm",
    "lifecycle",
    "merge-method-comment",
    "mergecommitblocker",
    "milestone",
    "milestoneapplier",
    "milestonestatus",
    "override",
    "owners-label",
    "pony",
    "project",
    "project-manager",
    "release-note",
    "require-matching-label",
    "retitle",
    "reward-owners",
    "rifle",
    "shrug",
    "sigmention",
    "size",
    "skip",
    "slackevents",
    "stage",
    "testfreeze",
    "trick-or-treat",
    "trigger",
    "verify-owners",
    "welcome",
    "wip",
    "yuks",
];

/// Plugin names Prow no longer registers, and what took their place.
pub const REMOVED_PLUGINS: &[(&str, &str)] = &[
    (
        "transfer-issue",
        "upstream moved /transfer-issue into the issue-management plugin: enable issue-management instead",
    ),
    (
        "requiresig",
        "upstream removed it in favour of require-matching-label: configure a require_matching_label rule instead",
    ),
    (
        "docs-no-retest",
        "upstream removed it without a replacement (it was written for mungegithub, not tide)",
    ),
    (
        "review_assignment",
        "upstream split it into blunderbuss (random reviewers) and rifle (reviewers by blame)",
    ),
];

/// Prow's external plugins: they run as their own services, listed under `external_plugins`.
pub const EXTERNAL_PLUGINS: &[&str] = &["cherrypicker", "needs-rebase", "refresh"];

/// Prow's reason for an unknown plugin name, with what to do about names we recognise.
pub fn unknown_plugin_message(plugin: &str) -> String {
    let hint = REMOVED_PLUGINS
        .iter()
        .find(|(name, _)| *name == plugin)
        .map(|(_, hint)| (*hint).to_owned())
        .or_else(|| {
            EXTERNAL_PLUGINS.contains(&plugin).then(|| {
                format!("{plugin} is an external plugin: list it under external_plugins with its endpoint")
            })
        });
    match hint {
        Some(hint) => format!("unknown plugin: {plugin} ({hint})"),
        None => format!("unknown plugin: {plugin}"),
    }
}

/// One problem, located by field path in the merged configuration.
#[derive(Debug, Clone)]
pub(crate) struct Issue {
    pub(crate) severity: Severity,
    pub(crate) path: Vec<Seg>,
    pub(crate) message: String,
}

impl Issue {
    fn error(path: Vec<Seg>, message: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Error,
            path,
            message: message.into(),
        }
    }
    fn warning(path: Vec<Seg>, message: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Warning,
            path,
            message: message.into(),
        }
    }
}

const WAIT_FOR_STATUS_DESCRIPTION: &str = "Not mergeable. (PullRequest is missing sufficient approving GitHub review\\(s\\)|Needs (lgtm|approved|approved, lgtm) labels?)\\.?";

/// Applies Prow's defaults (`setDefaults`).
pub(crate) fn set_defaults(c: &mut PluginConfig) {
    if c.help.help_guidelines_url.is_empty() {
        c.help.help_guidelines_url =
            "https://git.k8s.io/community/contributors/guide/help-wanted.md".to_owned();
    }
    config_updater_defaults(c);
    for plugins in c.external_plugins.values_mut() {
        for p in plugins.iter_mut().filter(|p| p.endpoint.is_empty()) {
            p.endpoint = format!("http://{}", p.name);
        }
    }
    for b in [&mut c.blunderbuss, &mut c.rifle] {
        b.request_count.get_or_insert(2);
        if let Some(w) = &mut b.wait_for_status {
            if w.context.is_empty() {
                w.context = "tide".to_owned();
            }
            if w.state.is_empty() {
                w.state = "pending".to_owned();
            }
            if w.description.is_empty() {
                w.description = WAIT_FOR_STATUS_DESCRIPTION.to_owned();
            }
        }
    }
    for t in &mut c.triggers {
        if !t.trusted_org.is_empty() && t.join_org_url.is_empty() {
            t.join_org_url = format!("https://github.com/orgs/{}/people", t.trusted_org);
        }
    }
    if c.sigmention.regexp.is_empty() {
        c.sigmention.regexp = r"(?m)@kubernetes/sig-([\w-]*)-(misc|test-failures|bugs|feature-requests|proposals|pr-reviews|api-reviews)".to_owned();
    }
    c.owners
        .labels_denylist
        .get_or_insert_with(|| vec!["approved".to_owned(), "lgtm".to_owned()]);
    // Prow means to default this too, but its loop writes to a copy; the milestone plugin
    // applies the same text when it is empty, so defaulting here changes nothing observable.
    for m in c.repo_milestone.values_mut() {
        if m.maintainers_friendly_name.is_empty() {
            m.maintainers_friendly_name = "SIG Chairs/TLs".to_owned();
        }
    }
    if c.cherry_pick_unapproved.branchregexp.is_empty() {
        c.cherry_pick_unapproved.branchregexp = "^release-.*$".to_owned();
    }
    if c.cherry_pick_unapproved.comment.is_empty() {
        c.cherry_pick_unapproved.comment = "This PR is not for the master branch but does not have the `cherry-pick-approved`  label. Adding the `do-not-merge/cherry-pick-not-approved`  label.".to_owned();
    }
    for cp in &mut c.cherry_pick_approved {
        if cp.branchregexp.is_empty() {
            cp.branchregexp = "^release-.*$".to_owned();
        }
    }
    for r in &mut c.require_matching_label {
        if r.grace_period.is_empty() {
            r.grace_period = "5s".to_owned();
        }
    }
    if c.release_note.guidelines_url.is_empty() {
        c.release_note.guidelines_url =
            "https://git.k8s.io/community/contributors/guide/release-notes.md".to_owned();
    }
}

/// config-updater's defaults: Prow's own config and plugins files, in the default cluster.
fn config_updater_defaults(c: &mut PluginConfig) {
    let maps = &mut c.config_updater.maps;
    if maps.is_empty() {
        for (file, name) in [
            ("config/prow/config.yaml", "config"),
            ("config/prow/plugins.yaml", "plugins"),
        ] {
            let spec = ConfigMapSpec {
                name: name.to_owned(),
                ..ConfigMapSpec::default()
            };
            maps.insert(file.to_owned(), spec);
        }
    }
    for spec in maps.values_mut() {
        if spec.clusters.is_empty() && spec.cluster_groups.is_empty() {
            spec.clusters
                .insert("default".to_owned(), vec![String::new()]);
        }
    }
}

/// Applies defaults and returns every problem, in the order Prow checks them.
pub(crate) fn validate(c: &mut PluginConfig, check_unknown: bool) -> Vec<Issue> {
    let mut out = Vec::new();
    if c.plugins.is_empty() {
        out.push(Issue::warning(
            path!["plugins"],
            "no plugins specified-- check syntax?",
        ));
    }
    set_defaults(c);
    compile(c, &mut out);
    plugin_dupes(&c.plugins, &mut out);
    external_dupes(c, &mut out);
    for (name, b) in [("blunderbuss", &c.blunderbuss), ("rifle", &c.rifle)] {
        request_count(name, b, &mut out);
    }
    mutually_exclusive(&c.plugins, &mut out);
    config_updater(c, &mut out);
    sizes(&c.size, &mut out);
    for (i, r) in c.require_matching_label.iter().enumerate() {
        if let Some(reason) = require_matching_label(r) {
            out.push(Issue::error(
                path!["require_matching_label", i],
                format!("error validating require_matching_label config #{i}: {reason}"),
            ));
        }
    }
    project_manager(c, &mut out);
    for (i, t) in c.triggers.iter().enumerate() {
        if !t.trusted_org.is_empty() {
            out.push(Issue::warning(
                path!["triggers", i, "trusted_org"],
                "trusted_org functionality is deprecated. Please ensure your configuration is updated before the end of December 2019.",
            ));
        }
    }
    repo_dupes("approve", c.approve.iter().map(|a| &a.repos), &mut out);
    repo_dupes("welcome", c.welcome.iter().map(|w| &w.repos), &mut out);
    invalid_commit_msg(c, &mut out);
    repo_dupes(
        "invalid_commit_msg",
        c.invalid_commit_msg.iter().map(|i| &i.repos),
        &mut out,
    );
    for (repo, m) in c.repo_milestone.iter() {
        if m.maintainers_id != 0 {
            out.push(Issue::warning(
                path!["repo_milestone", repo, "maintainers_id"],
                "deprecated field: maintainers_id is configured for repo_milestone, maintainers_team should be used instead",
            ));
        }
    }
    if check_unknown {
        for (key, org) in c.plugins.iter() {
            for (i, plugin) in org.plugins.iter().enumerate() {
                if !KNOWN_PLUGINS.contains(&plugin.as_str()) {
                    out.push(Issue::error(
                        plugin_path(&c.plugins, key, i),
                        unknown_plugin_message(plugin),
                    ));
                }
            }
        }
    }
    out
}

/// Where the `i`th plugin of `key` is written, in either form.
fn plugin_path(plugins: &Plugins, key: &str, i: usize) -> Vec<Seg> {
    if plugins.is_listed(key) {
        path!["plugins", key, i]
    } else {
        path!["plugins", key, "plugins", i]
    }
}

/// The reason a regex does not compile, in one line, worded as Go's.
fn regex_error(pattern: &str) -> Option<String> {
    regex::Regex::new(pattern).err().map(|e| {
        crate::goregex::go_error(pattern)
            .unwrap_or_else(|| format!("error parsing regexp: {e}: `{pattern}`"))
    })
}

/// `compileRegexpsAndDurations`.
fn compile(c: &PluginConfig, out: &mut Vec<Issue>) {
    let mut errors = Vec::new();
    let mut re = |p: Vec<Seg>, pattern: &str, wrap: &dyn Fn(&str) -> String| {
        if let Some(reason) = regex_error(pattern) {
            out.push(Issue::error(p, wrap(&reason)));
        }
    };
    let plain = |reason: &str| reason.to_owned();
    re(path!["sigmention", "regexp"], &c.sigmention.regexp, &plain);
    re(
        path!["cherry_pick_unapproved", "branchregexp"],
        &c.cherry_pick_unapproved.branchregexp,
        &plain,
    );
    for (i, cp) in c.cherry_pick_approved.iter().enumerate() {
        re(
            path!["cherry_pick_approved", i, "branchregexp"],
            &cp.branchregexp,
            &plain,
        );
    }
    for (i, b) in c.blockades.iter().enumerate() {
        if let Some(pattern) = &b.branchregexp {
            re(path!["blockades", i, "branchregexp"], pattern, &|reason| {
                format!("failed to compile blockade branchregexp: {pattern:?}, error: {reason}")
            });
        }
    }
    re(
        path!["heart", "commentregexp"],
        &c.heart.commentregexp,
        &plain,
    );
    for (i, r) in c.require_matching_label.iter().enumerate() {
        re(
            path!["require_matching_label", i, "regexp"],
            &r.regexp,
            &|reason| {
                format!(
                    "failed to compile label regexp: {:?}, error: {reason}",
                    r.regexp
                )
            },
        );
        if let Err(e) = prow_core::Duration::parse(&r.grace_period) {
            errors.push(Issue::error(
                path!["require_matching_label", i, "grace_period"],
                format!(
                    "failed to compile grace period duration: {:?}, error: {e}",
                    r.grace_period
                ),
            ));
        }
    }
    for (name, b) in [("blunderbuss", &c.blunderbuss), ("rifle", &c.rifle)] {
        if let Some(w) = &b.wait_for_status
            && let Some(reason) = regex_error(&w.description)
        {
            errors.push(Issue::error(
                path![name, "wait_for_status", "description"],
                format!(
                    "failed to compile {name} wait for context description regular expression: {:?}, error: {reason}",
                    w.description
                ),
            ));
        }
    }
    out.extend(errors);
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[&str]) -> String {
    format!("[{}]", items.join(" "))
}

/// `validatePluginsDupes`: a repo lists a plugin its org already enables for it.
fn plugin_dupes(plugins: &Plugins, out: &mut Vec<Issue>) {
    for (key, repo_config) in plugins.iter() {
        let Some((org, repo)) = key.split_once('/') else {
            continue;
        };
        // Go splits on every `/` and takes the second part.
        let repo = repo.split('/').next().unwrap_or(repo);
        let org_config = plugins.get(org).cloned().unwrap_or_default();
        if org_config.excluded_repos.iter().any(|r| r == repo) {
            continue;
        }
        let dupes: Vec<&str> = repo_config
            .plugins
            .iter()
            .flat_map(|p| org_config.plugins.iter().filter(move |o| *o == p))
            .map(String::as_str)
            .collect();
        if !dupes.is_empty() {
            out.push(Issue::error(
                path!["plugins", key],
                format!(
                    "plugins {} are duplicated for {repo} and {org}",
                    go_list(&dupes)
                ),
            ));
        }
    }
}

/// `validateExternalPlugins`.
fn external_dupes(c: &PluginConfig, out: &mut Vec<Issue>) {
    for (key, plugins) in c.external_plugins.iter() {
        let Some((org, _)) = key.split_once('/') else {
            continue;
        };
        let org_names: Vec<&str> = c
            .external_plugins
            .get(org)
            .map(|ps| ps.iter().map(|p| p.name.as_str()).collect())
            .unwrap_or_default();
        let dupes: Vec<&str> = plugins
            .iter()
            .flat_map(|p| org_names.iter().filter(move |o| **o == p.name))
            .copied()
            .collect();
        if !dupes.is_empty() {
            out.push(Issue::error(
                path!["external_plugins", key],
                format!(
                    "invalid plugin configuration: external plugins {} are duplicated for {key} and {org}",
                    go_list(&dupes)
                ),
            ));
        }
    }
}

/// `validateBlunderbuss` / `validateRifle`.
fn request_count(name: &str, b: &Blunderbuss, out: &mut Vec<Issue>) {
    if let Some(n) = b.request_count
        && n < 1
    {
        out.push(Issue::error(
            path![name, "request_count"],
            format!("invalid request_count: {n} (needs to be positive)"),
        ));
    }
}

/// `validateMutuallyExclusivePlugins`: blunderbuss and rifle never run together.
fn mutually_exclusive(plugins: &Plugins, out: &mut Vec<Issue>) {
    let has = |list: &[String], name: &str| list.iter().any(|p| p == name);
    for (entry, cfg) in plugins.iter() {
        let bb = has(&cfg.plugins, "blunderbuss");
        let rifle = has(&cfg.plugins, "rifle");
        if bb && rifle {
            out.push(Issue::error(
                path!["plugins", entry],
                format!("{entry}: blunderbuss and rifle plugins are mutually exclusive"),
            ));
            continue;
        }
        let Some((org, repo)) = entry.split_once('/') else {
            continue;
        };
        let repo = repo.split('/').next().unwrap_or(repo);
        let Some(org_cfg) = plugins.get(org) else {
            continue;
        };
        if org_cfg.excluded_repos.iter().any(|r| r == repo) {
            continue;
        }
        let org_bb = has(&org_cfg.plugins, "blunderbuss");
        let org_rifle = has(&org_cfg.plugins, "rifle");
        if (bb && org_rifle) || (rifle && org_bb) {
            out.push(Issue::error(
                path!["plugins", entry],
                format!(
                    "{entry}: blunderbuss and rifle plugins are mutually exclusive (conflict between {org} and {entry} config)"
                ),
            ));
        }
    }
}

/// `validateConfigUpdater` (after its defaults).
fn config_updater(c: &PluginConfig, out: &mut Vec<Issue>) {
    let updater = &c.config_updater;
    // (name, namespace, cluster) to the keys written into it.
    let mut keys: BTreeMap<(String, String, String), BTreeSet<String>> = BTreeMap::new();
    for (file, spec) in updater.maps.iter() {
        let at = || path!["config_updater", "maps", file];
        if !spec.name.is_empty() && !spec.partitioned_names.is_empty() {
            out.push(Issue::error(
                at(),
                "'name' and 'partitioned_names' are mutually exclusive in the config_updater plugin configuration",
            ));
        }
        if spec.partitioned_names.len() > 256 {
            out.push(Issue::error(
                path!["config_updater", "maps", file, "partitioned_names"],
                format!(
                    "the PartitionedNames field in config_updater plugin config currently supports a maximum of 256 partitions, but you have {} defined",
                    spec.partitioned_names.len()
                ),
            ));
        }
        let name = if spec.name.is_empty() {
            spec.partitioned_names.join(",")
        } else {
            spec.name.clone()
        };
        let key = if spec.key.is_empty() {
            file.rsplit('/').next().unwrap_or(file).to_owned()
        } else {
            spec.key.clone()
        };
        for (cluster, namespaces) in spec.clusters.iter() {
            for namespace in namespaces {
                let id = (name.clone(), namespace.clone(), cluster.clone());
                if !keys.entry(id).or_default().insert(key.clone()) {
                    out.push(Issue::error(
                        at(),
                        format!("key {key} in configmap {name} updated with more than one file"),
                    ));
                }
            }
        }
    }
    for (file, spec) in updater.maps.iter() {
        if !spec.clusters.is_empty() && !spec.cluster_groups.is_empty() {
            out.push(Issue::error(
                path!["config_updater", "maps", file],
                format!("item maps.{file} contains both clusters and cluster_groups"),
            ));
            continue;
        }
        if !spec.clusters.is_empty() {
            continue;
        }
        for (i, group) in spec.cluster_groups.iter().enumerate() {
            if !updater.cluster_groups.contains_key(group) {
                out.push(Issue::error(
                    path!["config_updater", "maps", file, "cluster_groups", i],
                    format!(
                        "item maps.{file}.cluster_groups.{i} references inexistent cluster group named {group}"
                    ),
                ));
            }
        }
    }
}

/// `validateSizes`.
fn sizes(s: &Size, out: &mut Vec<Issue>) {
    if s.s > s.m || s.m > s.l || s.l > s.xl || s.xl > s.xxl {
        out.push(Issue::error(
            path!["size"],
            "invalid size plugin configuration - one of the smaller sizes is bigger than a larger one",
        ));
    }
}

/// `RequireMatchingLabel.validate`: the first broken rule of one entry.
fn require_matching_label(r: &RequireMatchingLabel) -> Option<&'static str> {
    if r.org.is_empty() {
        return Some("must specify 'org'");
    }
    if r.repo.contains('/') {
        return Some("'repo' may not contain '/'; specify the organization with 'org'");
    }
    if r.regexp.is_empty() {
        return Some("must specify 'regexp'");
    }
    if r.missing_label.is_empty() {
        return Some("must specify 'missing_label'");
    }
    if r.grace_period.is_empty() {
        return Some("must specify 'grace_period'");
    }
    if !r.prs && !r.issues {
        return Some("must specify 'prs: true' and/or 'issues: true'");
    }
    if !r.prs && !r.branch.is_empty() {
        return Some("branch cannot be specified without `prs: true'");
    }
    // A regex that does not compile is reported by `compile`.
    if regex::Regex::new(&r.regexp).is_ok_and(|re| re.is_match(&r.missing_label)) {
        return Some("'regexp' must not match 'missing_label'");
    }
    None
}

/// `validateProjectManager`: the first problem of each managed org or repo.
fn project_manager(c: &PluginConfig, out: &mut Vec<Issue>) {
    for (org_repo, managed) in c.project_manager.org_repos.iter() {
        let at = |rest: Vec<Seg>| {
            let mut p = path!["project_manager", "orgsRepos", org_repo];
            p.extend(rest);
            p
        };
        if managed.projects.is_empty() {
            out.push(Issue::error(
                at(vec![]),
                format!("Org/repo: {org_repo}, has no projects configured"),
            ));
            continue;
        }
        'projects: for (project, p) in managed.projects.iter() {
            if p.columns.is_empty() {
                out.push(Issue::error(
                    at(path!["projects", project]),
                    format!("Org/repo: {org_repo}, project {project}, has no columns configured"),
                ));
                continue;
            }
            let mut label_sets: Vec<BTreeSet<&str>> = Vec::new();
            for (i, col) in p.columns.iter().enumerate() {
                let col_at = || at(path!["projects", project, "columns", i]);
                let name = &col.name;
                let problem = if col.id.is_none() && name.is_empty() {
                    Some(format!(
                        "Org/repo: {org_repo}, project {project}, column {i}, has no name/id configured"
                    ))
                } else if col.labels.is_empty() {
                    Some(format!(
                        "Org/repo: {org_repo}, project {project}, column {name}, has no labels configured"
                    ))
                } else if col.org.is_empty() {
                    Some(format!(
                        "Org/repo: {org_repo}, project {project}, column {name}, has no org configured"
                    ))
                } else {
                    let set: BTreeSet<&str> = col.labels.iter().map(String::as_str).collect();
                    if label_sets.contains(&set) {
                        Some(format!(
                            "Org/repo: {org_repo}, project {project}, column {name} has same labels configured as another column"
                        ))
                    } else {
                        label_sets.push(set);
                        None
                    }
                };
                if let Some(message) = problem {
                    out.push(Issue::error(col_at(), message));
                    continue 'projects;
                }
            }
        }
    }
}

/// `validateRepoDupes`: an org or repo listed twice in one plugin's list of settings.
///
/// Prow names `'welcome'` in this message whatever the section; we name the real one.
fn repo_dupes<'a>(
    section: &str,
    entries: impl Iterator<Item = &'a Vec<String>>,
    out: &mut Vec<Issue>,
) {
    let mut seen = BTreeSet::new();
    for (i, repos) in entries.enumerate() {
        for (j, entry) in repos.iter().enumerate() {
            if !seen.insert(entry.as_str()) {
                let kind = if entry.contains('/') { "repo" } else { "org" };
                out.push(Issue::error(
                    path![section, i, "repos", j],
                    format!(
                        "The {kind} {entry:?} is duplicated in the '{section}' plugin configuration."
                    ),
                ));
            }
        }
    }
}

/// `validateInvalidCommitMsg`.
fn invalid_commit_msg(c: &PluginConfig, out: &mut Vec<Issue>) {
    const VALID: [&str; 2] = ["fixupPrefix", "issueClosingKeywords"];
    for (i, cfg) in c.invalid_commit_msg.iter().enumerate() {
        for (j, repo) in cfg.repos.iter().enumerate() {
            if repo.trim().is_empty() {
                out.push(Issue::error(
                    path!["invalid_commit_msg", i, "repos", j],
                    format!(
                        "error validating invalid_commit_msg config #{i}: repo {repo:?} must be of form org or org/repo"
                    ),
                ));
            }
        }
        for (j, check) in cfg.checks.iter().enumerate() {
            let at = path!["invalid_commit_msg", i, "checks", j, "name"];
            if check.name.trim().is_empty() {
                out.push(Issue::error(
                    at,
                    format!(
                        "error validating invalid_commit_msg config #{i} check #{j}: check name cannot be empty"
                    ),
                ));
            } else if !VALID.contains(&check.name.as_str()) {
                out.push(Issue::error(
                    at,
                    format!(
                        "error validating invalid_commit_msg config #{i} check #{j}: unknown check name {:?} (valid: {})",
                        check.name,
                        go_list(&VALID)
                    ),
                ));
            }
        }
    }
}
