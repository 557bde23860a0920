//! checkconfig's warnings about `plugins.yaml` (`validate-owners`, `validate-label`,
//! `validate-config-updater-acls`, and with the jobs `missing-trigger`): Prow still loads such
//! a file, `--strict` refuses it.

use std::collections::{BTreeMap, BTreeSet};

use super::config::PluginConfig;
use super::locate::{Seg, render};
use crate::error::Finding;
use crate::jobs::JobConfig;

/// One checkconfig warning and the name `--warnings` / `--exclude-warning` know it by.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamedWarning {
    /// checkconfig's name of the check, such as `validate-owners`.
    pub name: &'static str,
    /// What is wrong (field path set, no file: the caller knows which file it checked).
    pub finding: Finding,
}

/// Plugins that read OWNERS files, so their repos need `verify-owners`.
const OWNERS_PLUGINS: [&str; 4] = ["approve", "blunderbuss", "rifle", "owners-label"];

/// checkconfig's default warnings that look at the plugin configuration only.
pub fn checkconfig_warnings(c: &PluginConfig) -> Vec<NamedWarning> {
    let mut out = Vec::new();
    let warn = |name, field: String, message: String| NamedWarning {
        name,
        finding: Finding::warning(message).at(field),
    };

    // validate-owners
    let using_owners = OWNERS_PLUGINS
        .iter()
        .map(|p| OrgRepos::enabled(c, p))
        .reduce(|a, b| a.union(&b))
        .unwrap_or_default();
    let invalid = using_owners.difference(&OrgRepos::enabled(c, "verify-owners"));
    let items = invalid.items();
    if !items.is_empty() {
        out.push(warn(
            "validate-owners",
            "plugins".to_owned(),
            format!(
                "the following orgs or repos enable at least one plugin that uses OWNERS files ({}) but do not enable the verify-owners plugin to ensure validity of OWNERS files: [{}]",
                OWNERS_PLUGINS.join(", "),
                items.join(" ")
            ),
        ));
    }

    // validate-label
    let mut both: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut empty: Vec<&str> = Vec::new();
    for (org_repo, labels) in c.label.restricted_labels.iter() {
        for l in labels {
            if c.label.additional_labels.contains(&l.label) {
                both.entry(&l.label).or_default().push(org_repo);
            }
            if l.label.is_empty() {
                empty.push(org_repo);
            }
        }
    }
    for (label, repos) in both {
        out.push(warn(
            "validate-label",
            "label.restricted_labels".to_owned(),
            format!(
                "the following orgs or repos have configuration of label plugin using the restricted label {label} which is also configured as an additional label: {}",
                repos.join(", ")
            ),
        ));
    }
    if !empty.is_empty() {
        out.push(warn(
            "validate-label",
            "label.restricted_labels".to_owned(),
            format!(
                "the following orgs or repos have configuration of label plugin using the empty string as label name in restricted labels: {}",
                empty.join(", ")
            ),
        ));
    }

    // validate-config-updater-acls
    for (pattern, spec) in c.config_updater.maps.iter() {
        for (list, entries) in [
            ("allowed_repos", &spec.allowed_repos),
            ("denied_repos", &spec.denied_repos),
        ] {
            for (i, entry) in entries.iter().enumerate() {
                if let Some(reason) = repo_name_problem(entry) {
                    out.push(warn(
                        "validate-config-updater-acls",
                        render(&[
                            Seg::from("config_updater"),
                            Seg::from("maps"),
                            Seg::from(pattern),
                            Seg::from(list),
                            Seg::from(i),
                        ]),
                        // Prow prefixes `config_updater.maps["<pattern>"].<list>: `, which
                        // the field path already says (with the index too).
                        reason.to_owned(),
                    ));
                }
            }
        }
    }
    out
}

/// checkconfig's `missing-trigger` warning: repos with presubmits or postsubmits where the
/// trigger plugin is not enabled, so their jobs would never run.
pub fn missing_trigger_warning(c: &PluginConfig, jobs: &JobConfig) -> Option<NamedWarning> {
    let configured = OrgRepos {
        org_exceptions: BTreeMap::new(),
        repos: jobs
            .presubmits
            .keys()
            .chain(jobs.postsubmits.keys())
            .cloned()
            .collect(),
    };
    let missing = configured
        .difference(&OrgRepos::enabled(c, "trigger"))
        .items();
    (!missing.is_empty()).then(|| NamedWarning {
        name: "missing-trigger",
        finding: Finding::warning(format!(
            "the following repos have jobs configured but do not have the trigger plugin enabled: {}",
            missing.join(", ")
        ))
        .at("plugins"),
    })
}

/// checkconfig's `validateRepoName`.
fn repo_name_problem(repo: &str) -> Option<&'static str> {
    if repo.is_empty() {
        return Some("org/repo cannot be empty");
    }
    let parts: Vec<&str> = repo.splitn(3, '/').collect();
    if parts.len() > 2 {
        return Some("org/repo contains too many slashes '/'");
    }
    if parts[0].is_empty() {
        return Some("you cannot set a repo without an org");
    }
    None
}

/// A set of repos: whole orgs minus some `org/repo`s, plus single `org/repo`s (checkconfig's
/// `orgRepoConfig`).
#[derive(Debug, Clone, Default)]
struct OrgRepos {
    /// Org to the `org/repo`s it leaves out.
    org_exceptions: BTreeMap<String, BTreeSet<String>>,
    /// Single `org/repo`s.
    repos: BTreeSet<String>,
}

fn org_of(repo: &str) -> Option<&str> {
    repo.split_once('/').map(|(org, _)| org)
}

impl OrgRepos {
    /// Where `plugin` is enabled (Prow's `EnabledReposForPlugin`).
    fn enabled(c: &PluginConfig, plugin: &str) -> Self {
        let mut set = OrgRepos::default();
        for (key, org_plugins) in c.plugins.iter() {
            if !org_plugins.plugins.iter().any(|p| p == plugin) {
                continue;
            }
            if key.contains('/') {
                set.repos.insert(key.clone());
            } else {
                let excluded = org_plugins
                    .excluded_repos
                    .iter()
                    .map(|r| format!("{key}/{r}"))
                    .collect();
                set.org_exceptions.insert(key.clone(), excluded);
            }
        }
        for repo in &set.repos {
            if let Some(org) = org_of(repo)
                && let Some(excepts) = set.org_exceptions.get_mut(org)
            {
                excepts.remove(repo);
            }
        }
        set
    }

    fn union(&self, other: &OrgRepos) -> OrgRepos {
        let mut res = OrgRepos::default();
        for (org, excepts1) in &self.org_exceptions {
            let pruned: BTreeSet<String> = excepts1.difference(&other.repos).cloned().collect();
            let merged = match other.org_exceptions.get(org) {
                Some(excepts2) => {
                    let e2: BTreeSet<String> = excepts2.difference(&self.repos).cloned().collect();
                    pruned.intersection(&e2).cloned().collect()
                }
                None => pruned,
            };
            res.org_exceptions.insert(org.clone(), merged);
        }
        for (org, excepts2) in &other.org_exceptions {
            if !res.org_exceptions.contains_key(org) {
                let e: BTreeSet<String> = excepts2.difference(&self.repos).cloned().collect();
                res.org_exceptions.insert(org.clone(), e);
            }
        }
        for repo in self.repos.union(&other.repos) {
            // Malformed keys are only logged by Prow.
            if let Some(org) = org_of(repo)
                && !res.org_exceptions.contains_key(org)
            {
                res.repos.insert(repo.clone());
            }
        }
        res
    }

    fn difference(&self, other: &OrgRepos) -> OrgRepos {
        let mut res = OrgRepos {
            org_exceptions: BTreeMap::new(),
            repos: self.repos.clone(),
        };
        for (org, excepts1) in &self.org_exceptions {
            match other.org_exceptions.get(org) {
                Some(excepts2) => res.repos.extend(excepts2.difference(excepts1).cloned()),
                None => {
                    let mut excepts = excepts1.clone();
                    excepts.extend(
                        other
                            .repos
                            .iter()
                            .filter(|r| org_of(r) == Some(org.as_str()))
                            .cloned(),
                    );
                    res.org_exceptions.insert(org.clone(), excepts);
                }
            }
        }
        res.repos = res.repos.difference(&other.repos).cloned().collect();
        res.repos.retain(|repo| match org_of(repo) {
            Some(org) => other
                .org_exceptions
                .get(org)
                .is_none_or(|excepts2| excepts2.contains(repo)),
            None => true,
        });
        res
    }

    /// Prow's listing: `org: o without repo(s) o/a 'o/a'`, then `repo: o/r`.
    fn items(&self) -> Vec<String> {
        let mut items = Vec::new();
        for (org, excepts) in &self.org_exceptions {
            let mut item = format!("org: {org}");
            if !excepts.is_empty() {
                let list: Vec<&str> = excepts.iter().map(String::as_str).collect();
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
