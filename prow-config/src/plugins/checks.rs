//! checkconfig's warnings about `plugins.yaml` (`validate-owners`, `validate-label`,
//! `validate-config-updater-acls`, and with the jobs `missing-trigger`): Prow still loads such
//! a file, `--strict` refuses it.

use std::collections::{BTreeMap, BTreeSet};

use super::config::PluginConfig;
use crate::error::Finding;
use crate::jobs::JobConfig;
use crate::locate::{FieldSegment as Seg, render_field_path as render};
use crate::orgrepo::OrgRepoSet;
use crate::tide_plugins::PluginEnablement;

/// One checkconfig warning and the name `--warnings` / `--exclude-warning` know it by.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamedWarning {
    /// checkconfig's name of the check, such as `validate-owners`.
    pub name: &'static str,
    /// What is wrong (field path set, no file: the caller knows which file it checked).
    pub finding: Finding,
}

/// checkconfig's default warnings that look at the plugin configuration only.
pub fn checkconfig_warnings(c: &PluginConfig) -> Vec<NamedWarning> {
    let mut out = Vec::new();
    let warn = |name, field: String, message: String| NamedWarning {
        name,
        finding: Finding::warning(message).at(field),
    };

    // validate-owners
    out.extend(
        crate::tide_plugins::validate_owners(c)
            .into_iter()
            .map(|finding| NamedWarning {
                name: "validate-owners",
                finding,
            }),
    );

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
    let finding = crate::tide_plugins::missing_trigger(jobs, c)
        .into_iter()
        .next()?;
    Some(NamedWarning {
        name: "missing-trigger",
        finding,
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

impl PluginEnablement for PluginConfig {
    /// Prow's `EnabledReposForPlugin` (an org's `excluded_repos` become its exceptions, and a
    /// repo listing the plugin itself is no exception) and `EnabledReposForExternalPlugin`.
    fn enabled_for(&self, plugin: &str, external: bool) -> OrgRepoSet {
        let mut set = OrgRepoSet::default();
        if external {
            for (key, list) in self.external_plugins.iter() {
                if list.iter().any(|p| p.name == plugin) {
                    if key.contains('/') {
                        set.repos.insert(key.clone());
                    } else {
                        set.org_exceptions.insert(key.clone(), BTreeSet::new());
                    }
                }
            }
            return set;
        }
        for (key, org_plugins) in self.plugins.iter() {
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
            if let Some((org, _)) = repo.split_once('/')
                && let Some(excepts) = set.org_exceptions.get_mut(org)
            {
                excepts.remove(repo);
            }
        }
        set
    }
}
