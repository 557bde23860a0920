//! Sets of repositories written the way Prow's configuration names them: whole orgs (minus
//! some of their repos) and single `org/repo`s, with the set algebra checkconfig uses to compare
//! where Tide requires a label with where the plugin adding it is enabled
//! (`cmd/checkconfig/main.go: orgRepoConfig`).

use std::collections::{BTreeMap, BTreeSet};

/// Orgs with their excepted repos, plus single repos.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgRepoSet {
    /// Whole orgs, each with the `org/repo`s it leaves out.
    pub org_exceptions: BTreeMap<String, BTreeSet<String>>,
    /// Single `org/repo`s.
    pub repos: BTreeSet<String>,
}

fn org_of(repo: &str) -> Option<&str> {
    repo.split_once('/').map(|(org, _)| org)
}

/// The repos of `org` in the sorted set `repos`, found by range rather than by a scan of all,
/// so comparing sets of many orgs and repos stays near-linear.
fn repos_of<'r>(repos: &'r BTreeSet<String>, org: &str) -> impl Iterator<Item = &'r String> {
    // An org with a slash in it owns no repo (`org_of` splits at the first slash).
    let prefix = (!org.contains('/')).then(|| format!("{org}/"));
    let start = prefix.clone().unwrap_or_default();
    repos
        .range(start..)
        .take_while(move |r| prefix.as_deref().is_some_and(|p| r.starts_with(p)))
}

impl OrgRepoSet {
    /// A set of orgs (with their exceptions) and repos.
    pub fn new(
        org_exceptions: impl IntoIterator<Item = (String, BTreeSet<String>)>,
        repos: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            org_exceptions: org_exceptions.into_iter().collect(),
            repos: repos.into_iter().collect(),
        }
    }

    /// Whether the set names nothing.
    pub fn is_empty(&self) -> bool {
        self.org_exceptions.is_empty() && self.repos.is_empty()
    }

    /// The set as Prow lists it in messages: `org: o without repo(s) o/a 'o/a'`, `repo: o/r`.
    pub fn items(&self) -> Vec<String> {
        let mut items = Vec::with_capacity(self.org_exceptions.len() + self.repos.len());
        for (org, excepts) in &self.org_exceptions {
            let mut item = format!("org: {org}");
            if !excepts.is_empty() {
                let list: Vec<&str> = excepts.iter().map(String::as_str).collect();
                item.push_str(" without repo(s) ");
                item.push_str(&list.join(", "));
                for repo in excepts {
                    item.push_str(&format!(" '{repo}'"));
                }
            }
            items.push(item);
        }
        items.extend(self.repos.iter().map(|r| format!("repo: {r}")));
        items
    }

    /// The repos of `self` not in `other`.
    pub fn difference(&self, other: &OrgRepoSet) -> OrgRepoSet {
        let mut out = OrgRepoSet {
            org_exceptions: BTreeMap::new(),
            repos: self.repos.clone(),
        };
        for (org, excepts1) in &self.org_exceptions {
            if let Some(excepts2) = other.org_exceptions.get(org) {
                out.repos.extend(excepts2.difference(excepts1).cloned());
            } else {
                let mut excepts = excepts1.clone();
                excepts.extend(repos_of(&other.repos, org).cloned());
                out.org_exceptions.insert(org.clone(), excepts);
            }
        }
        out.repos.retain(|r| !other.repos.contains(r));
        out.repos.retain(|r| {
            let covered = org_of(r)
                .and_then(|org| other.org_exceptions.get(org))
                .is_some_and(|excepts2| !excepts2.contains(r));
            !covered
        });
        out
    }

    /// The repos in both.
    pub fn intersection(&self, other: &OrgRepoSet) -> OrgRepoSet {
        let mut out = OrgRepoSet::default();
        for (org, excepts1) in &self.org_exceptions {
            if let Some(excepts2) = other.org_exceptions.get(org) {
                out.org_exceptions
                    .insert(org.clone(), excepts1.union(excepts2).cloned().collect());
            } else {
                out.repos.extend(
                    repos_of(&other.repos, org)
                        .filter(|r| !excepts1.contains(*r))
                        .cloned(),
                );
            }
        }
        for repo in &self.repos {
            let in_other_org = org_of(repo)
                .and_then(|org| other.org_exceptions.get(org))
                .is_some_and(|excepts2| !excepts2.contains(repo));
            if other.repos.contains(repo) || in_other_org {
                out.repos.insert(repo.clone());
            }
        }
        out
    }

    /// The repos in either.
    pub fn union(&self, other: &OrgRepoSet) -> OrgRepoSet {
        let mut out = OrgRepoSet::default();
        for (org, excepts1) in &self.org_exceptions {
            let pruned: BTreeSet<String> = excepts1.difference(&other.repos).cloned().collect();
            let excepts = match other.org_exceptions.get(org) {
                Some(excepts2) => {
                    let e2: BTreeSet<String> = excepts2.difference(&self.repos).cloned().collect();
                    pruned.intersection(&e2).cloned().collect()
                }
                None => pruned,
            };
            out.org_exceptions.insert(org.clone(), excepts);
        }
        for (org, excepts2) in &other.org_exceptions {
            out.org_exceptions
                .entry(org.clone())
                .or_insert_with(|| excepts2.difference(&self.repos).cloned().collect());
        }
        for repo in self.repos.union(&other.repos) {
            // A name without a slash is malformed; Prow logs and skips it.
            if let Some(org) = org_of(repo)
                && !out.org_exceptions.contains_key(org)
            {
                out.repos.insert(repo.clone());
            }
        }
        out
    }
}

/// Checkconfig's rule that Tide and a plugin agree on a label: every org or repo where Tide
/// `verb`s (`require`s or `forbid`s) the label for merging must enable the plugin
/// (`ensureLabelPluginEnabled`).
pub fn label_plugin_enabled(
    plugin: &str,
    label: &str,
    verb: &str,
    tide_subset: &OrgRepoSet,
    plugins_subset: &OrgRepoSet,
) -> Option<String> {
    let not_enabled = tide_subset.difference(plugins_subset).items();
    (!not_enabled.is_empty()).then(|| {
        format!(
            "the following orgs or repos {verb} the {label} label for merging but do not enable the {plugin} plugin: [{}]",
            not_enabled.join(" ")
        )
    })
}

/// Both directions of the agreement (`ensureValidConfiguration`): the plugin is enabled
/// wherever Tide honours the label, and wherever the plugin is enabled and Tide merges, Tide
/// honours the label.
pub fn tide_and_plugin_agree(
    plugin: &str,
    label: &str,
    verb: &str,
    tide_subset: &OrgRepoSet,
    tide_superset: &OrgRepoSet,
    plugins_subset: &OrgRepoSet,
) -> Vec<String> {
    let mut problems: Vec<String> =
        label_plugin_enabled(plugin, label, verb, tide_subset, plugins_subset)
            .into_iter()
            .collect();
    let not_required = plugins_subset
        .intersection(tide_superset)
        .difference(tide_subset)
        .items();
    if !not_required.is_empty() {
        problems.push(format!(
            "the following orgs or repos enable the {plugin} plugin but do not {verb} the {label} label for merging: [{}]",
            not_required.join(" ")
        ));
    }
    problems
}
