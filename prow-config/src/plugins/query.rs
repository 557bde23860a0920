//! Per-repo look-ups hook needs: enabled plugins and each plugin's settings for a repo.

use std::collections::BTreeMap;

use super::config::{
    Approve, ConfigMapSpec, ConfigUpdater, Dco, ExternalPlugin, InvalidCommitMsg, Lgtm,
    OwnersFilenames, PluginConfig, RestrictedLabel, Trigger,
};

/// The first entry listing `org/repo`, else the first listing `org` (Prow's `*For` look-ups).
fn for_repo<'a, T>(
    items: &'a [T],
    repos: impl Fn(&T) -> &[String],
    org: &str,
    repo: &str,
) -> Option<&'a T> {
    let full = format!("{org}/{repo}");
    items
        .iter()
        .find(|i| repos(i).contains(&full))
        .or_else(|| items.iter().find(|i| repos(i).iter().any(|r| r == org)))
}

impl PluginConfig {
    /// Plugins enabled for `org/repo`: the org's (unless the repo is excluded) then the
    /// repo's own, as hook's `getPlugins`.
    pub fn plugins_for(&self, org: &str, repo: &str) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(o) = self.plugins.get(org)
            && !o.excluded_repos.iter().any(|r| r == repo)
        {
            out.extend(o.plugins.iter().map(String::as_str));
        }
        if let Some(r) = self.plugins.get(&format!("{org}/{repo}")) {
            out.extend(r.plugins.iter().map(String::as_str));
        }
        out
    }

    /// External plugins for `org/repo`: the org's then the repo's (no exclusions apply).
    pub fn external_plugins_for(&self, org: &str, repo: &str) -> Vec<&ExternalPlugin> {
        [org.to_owned(), format!("{org}/{repo}")]
            .iter()
            .filter_map(|key| self.external_plugins.get(key))
            .flatten()
            .collect()
    }

    /// External plugins of `org/repo` that want `event` (those listing no events want all).
    pub fn external_plugins_for_event(
        &self,
        org: &str,
        repo: &str,
        event: &str,
    ) -> Vec<&ExternalPlugin> {
        self.external_plugins_for(org, repo)
            .into_iter()
            .filter(|p| p.events.is_empty() || p.events.iter().any(|e| e == event))
            .collect()
    }

    /// Trigger settings for `org/repo` (defaults when no entry lists it).
    pub fn trigger_for(&self, org: &str, repo: &str) -> Trigger {
        for_repo(&self.triggers, |t| &t.repos, org, repo)
            .cloned()
            .unwrap_or_default()
    }

    /// Invalidcommitmsg settings for `org/repo` (every check on when no entry lists it).
    pub fn invalid_commit_msg_for(&self, org: &str, repo: &str) -> InvalidCommitMsg {
        for_repo(&self.invalid_commit_msg, |i| &i.repos, org, repo)
            .cloned()
            .unwrap_or_default()
    }

    /// Lgtm settings for `org/repo` (defaults when no entry lists it).
    pub fn lgtm_for(&self, org: &str, repo: &str) -> Lgtm {
        for_repo(&self.lgtm, |l| &l.repos, org, repo)
            .cloned()
            .unwrap_or_default()
    }

    /// Approve settings for `org/repo`, with Prow's default help and process links.
    pub fn approve_for(&self, org: &str, repo: &str) -> Approve {
        let mut a = for_repo(&self.approve, |a| &a.repos, org, repo)
            .cloned()
            .unwrap_or_default();
        if a.command_help_link.is_empty() {
            a.command_help_link = "https://go.k8s.io/bot-commands".to_owned();
        }
        if a.pr_process_link.is_empty() {
            a.pr_process_link =
                "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process"
                    .to_owned();
        }
        a
    }

    /// Dco settings: `org/repo`, else `org`, else `*`, else defaults.
    pub fn dco_for(&self, org: &str, repo: &str) -> Dco {
        [format!("{org}/{repo}"), org.to_owned(), "*".to_owned()]
            .iter()
            .find_map(|k| self.dco.get(k))
            .cloned()
            .unwrap_or_default()
    }

    /// Names of the OWNERS files of `org/repo` (`OWNERS` and `OWNERS_ALIASES` by default).
    pub fn owners_filenames(&self, org: &str, repo: &str) -> OwnersFilenames {
        let names = [format!("{org}/{repo}"), org.to_owned()]
            .iter()
            .find_map(|k| self.owners.filenames.get(k))
            .cloned();
        names.unwrap_or_else(|| OwnersFilenames {
            owners: "OWNERS".to_owned(),
            owners_aliases: "OWNERS_ALIASES".to_owned(),
        })
    }

    /// Whether markdown files of `org/repo` may carry an OWNERS header.
    pub fn mdyaml_enabled(&self, org: &str, repo: &str) -> bool {
        let full = format!("{org}/{repo}");
        self.owners
            .mdyamlrepos
            .iter()
            .any(|e| *e == org || *e == full)
    }

    /// Whether approve and lgtm trust OWNERS files only in `org/repo`.
    pub fn skip_collaborators(&self, org: &str, repo: &str) -> bool {
        let full = format!("{org}/{repo}");
        self.owners
            .skip_collaborators
            .iter()
            .any(|e| *e == org || *e == full)
    }

    /// Restricted labels of `org/repo`, keyed by lower-cased label: entries for `*`, the org
    /// and the repo are merged, allowed users and teams united (as the label plugin does).
    pub fn restricted_labels_for(
        &self,
        org: &str,
        repo: &str,
    ) -> BTreeMap<String, RestrictedLabel> {
        let mut out: BTreeMap<String, RestrictedLabel> = BTreeMap::new();
        for key in ["*".to_owned(), org.to_owned(), format!("{org}/{repo}")] {
            for label in self.label.restricted_labels.get(&key).into_iter().flatten() {
                let slot = out.entry(label.label.to_lowercase());
                let std::collections::btree_map::Entry::Occupied(mut existing) = slot else {
                    slot.or_insert_with(|| label.clone());
                    continue;
                };
                let merged = existing.get_mut();
                let union = crate::prow::sorted_union;
                merged.allowed_users = union(&merged.allowed_users, &label.allowed_users);
                merged.allowed_teams = union(&merged.allowed_teams, &label.allowed_teams);
                let mut assign: BTreeMap<String, _> = merged
                    .assign_on
                    .drain(..)
                    .map(|a| (a.label.clone(), a))
                    .collect();
                assign.extend(label.assign_on.iter().map(|a| (a.label.clone(), a.clone())));
                merged.assign_on = assign.into_values().collect();
            }
        }
        out
    }
}

impl ConfigUpdater {
    /// Cluster alias to namespaces a ConfigMap goes to: its `clusters`, or else the union of
    /// its `cluster_groups` (Prow's `resolve`).
    pub fn clusters_for(&self, spec: &ConfigMapSpec) -> BTreeMap<String, Vec<String>> {
        if !spec.clusters.is_empty() {
            return spec.clusters.0.clone();
        }
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for group in spec
            .cluster_groups
            .iter()
            .filter_map(|g| self.cluster_groups.get(g))
        {
            for cluster in &group.clusters {
                out.entry(cluster.clone())
                    .or_default()
                    .extend(group.namespaces.iter().cloned());
            }
        }
        out
    }
}
