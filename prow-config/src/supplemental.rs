//! Supplemental prow-config files (`--supplemental-prow-config-dir`): merged into
//! `config.yaml` as Prow's `mergeFrom` does, and checkconfig's hierarchy check.

use std::path::{Path, PathBuf};

use crate::error::{Error, Finding};
use crate::files::read_maybe_gzip;
use crate::load::LoadOptions;
use crate::locate::push_key;
use crate::parse::{parse, yaml_value};
use crate::prow::ProwConfig;

/// Sections a supplemental prow-config file may set.
const SUPPLEMENTAL_ONLY: &str = "only 'branch-protection', 'slack_reporter_configs', 'tide.merge_method' and 'tide.queries' may be set via additional config, all other fields have no merging logic yet";

/// The fields of a branch-protection policy, at every level.
const POLICY_KEYS: &[&str] = &[
    "unmanaged",
    "protect",
    "required_status_checks",
    "enforce_admins",
    "restrictions",
    "require_manually_triggered_jobs",
    "required_pull_request_reviews",
    "required_linear_history",
    "allow_force_pushes",
    "allow_deletions",
    "require_signed_commits",
    "exclude",
    "include",
];

/// Top-level branch-protection switches that only one file may set.
const PROTECTION_SWITCHES: &[&str] = &[
    "protect-tested-repos",
    "allow_disabled_policies",
    "allow_disabled_job_policies",
    "protect_repos_with_optional_jobs",
];

/// Files under `dir` whose path ends in `suffix`, in walk order, skipping `..` entries.
fn supplemental_files(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().to_string_lossy().starts_with("..") {
            continue;
        }
        let path = entry.path();
        if std::fs::metadata(&path).map_err(io)?.is_dir() {
            supplemental_files(&path, suffix, out)?;
        } else if path.to_string_lossy().ends_with(suffix) {
            out.push(path);
        }
    }
    Ok(())
}

/// Merges every supplemental prow-config file into `config.yaml`'s document, as Prow's
/// `mergeFrom`: only branch protection, Slack reporter configs and Tide's merge methods and
/// queries may be set there. Each file is parsed on its own first, so its errors carry its
/// lines. Returns the merged document (`None` when `config.yaml` does not parse) and every
/// problem.
pub(crate) fn supplemental_merge(
    text: &str,
    options: &LoadOptions,
) -> Result<(Option<serde_yaml::Value>, Vec<Finding>), Error> {
    let mut found = Vec::new();
    let mut base = yaml_value(text);
    if let Some(v) = &base
        && v.is_null()
    {
        base = Some(serde_yaml::Value::Mapping(serde_yaml::Mapping::new()));
    }
    let mut files = Vec::new();
    for dir in &options.supplemental_prow_config_dirs {
        supplemental_files(dir, &options.supplemental_prow_configs_suffix, &mut files)?;
    }
    for file in files {
        let text = read_maybe_gzip(&file)?;
        let unknown = match parse::<ProwConfig>(&text, &file) {
            Ok((_, unknown)) => unknown,
            Err(f) => {
                found.push(f);
                continue;
            }
        };
        let Some(serde_yaml::Value::Mapping(extra)) = yaml_value(&text) else {
            found.extend(unknown);
            continue;
        };
        let mut errors = Vec::new();
        for (key, value) in &extra {
            let Some(key) = key.as_str() else { continue };
            if value.is_null() || unknown.iter().any(|w| w.field == key) {
                continue;
            }
            match (key, value) {
                ("branch-protection" | "slack_reporter_configs", _) => {}
                ("tide", serde_yaml::Value::Mapping(tide)) => {
                    for (sub, v) in tide {
                        let sub = sub.as_str().unwrap_or_default();
                        if !v.is_null() && sub != "merge_method" && sub != "queries" {
                            errors.push(
                                Finding::error(SUPPLEMENTAL_ONLY)
                                    .in_file(&file)
                                    .at(format!("tide.{sub}")),
                            );
                        }
                    }
                }
                _ => errors.push(Finding::error(SUPPLEMENTAL_ONLY).in_file(&file).at(key)),
            }
        }
        found.extend(unknown);
        if let Some(serde_yaml::Value::Mapping(base)) = &mut base {
            merge_supplemental(base, &extra, &file, &mut errors);
        }
        found.extend(errors);
    }
    Ok((base, found))
}

/// The mapping under `key` in `map`, created when absent or null.
fn child_mapping<'m>(map: &'m mut serde_yaml::Mapping, key: &str) -> &'m mut serde_yaml::Mapping {
    let entry = map
        .entry(serde_yaml::Value::String(key.to_owned()))
        .or_insert(serde_yaml::Value::Null);
    if !entry.is_mapping() {
        *entry = serde_yaml::Value::Mapping(serde_yaml::Mapping::new());
    }
    match entry {
        serde_yaml::Value::Mapping(m) => m,
        _ => unreachable!("just made a mapping"),
    }
}

/// Adds the keys of `extra` to `base`, each key only once.
fn merge_keyed(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    what: &str,
    at: &str,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    for (k, v) in extra {
        if base.contains_key(k) {
            let name = k.as_str().unwrap_or_default();
            let mut field = at.to_owned();
            push_key(&mut field, name);
            errors.push(
                Finding::error(format!(
                    "failed to merge {what} config: config for org or repo {name} passed more than once"
                ))
                .in_file(file)
                .at(field),
            );
        } else {
            base.insert(k.clone(), v.clone());
        }
    }
}

/// Prow's `ProwConfig.mergeFrom` over YAML values.
fn merge_supplemental(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    if let Some(serde_yaml::Value::Mapping(tide)) = extra.get("tide") {
        let base_tide = child_mapping(base, "tide");
        if let Some(serde_yaml::Value::Sequence(queries)) = tide.get("queries") {
            let entry = base_tide
                .entry(serde_yaml::Value::String("queries".to_owned()))
                .or_insert(serde_yaml::Value::Null);
            if !entry.is_sequence() {
                *entry = serde_yaml::Value::Sequence(Vec::new());
            }
            if let serde_yaml::Value::Sequence(list) = entry {
                list.extend(queries.iter().cloned());
            }
        }
        if let Some(serde_yaml::Value::Mapping(methods)) = tide.get("merge_method") {
            let base_methods = child_mapping(base_tide, "merge_method");
            merge_keyed(
                base_methods,
                methods,
                "tide",
                "tide.merge_method",
                file,
                errors,
            );
        }
    }
    if let Some(serde_yaml::Value::Mapping(slack)) = extra.get("slack_reporter_configs") {
        let base_slack = child_mapping(base, "slack_reporter_configs");
        merge_keyed(
            base_slack,
            slack,
            "slack-reporter",
            "slack_reporter_configs",
            file,
            errors,
        );
    }
    if let Some(serde_yaml::Value::Mapping(bp)) = extra.get("branch-protection") {
        let base_bp = child_mapping(base, "branch-protection");
        merge_protection(base_bp, bp, file, errors);
    }
}

/// Whether a branch-protection level sets any policy field.
fn policy_set(level: &serde_yaml::Mapping) -> bool {
    POLICY_KEYS
        .iter()
        .any(|k| level.get(*k).is_some_and(|v| !v.is_null()))
}

/// Copies the policy fields of `extra` into `base` when `base` has none; both set is an error.
fn merge_policy(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    clash: String,
    at: &str,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    if !policy_set(extra) {
        return;
    }
    if policy_set(base) {
        errors.push(
            Finding::error(format!("failed to merge branch protection config: {clash}"))
                .in_file(file)
                .at(at),
        );
        return;
    }
    for key in POLICY_KEYS {
        if let Some(v) = extra.get(*key) {
            base.insert(serde_yaml::Value::String((*key).to_owned()), v.clone());
        }
    }
}

/// Prow's `BranchProtection.merge` over YAML values: policies per org, repo and branch.
fn merge_protection(
    base: &mut serde_yaml::Mapping,
    extra: &serde_yaml::Mapping,
    file: &Path,
    errors: &mut Vec<Finding>,
) {
    let at = "branch-protection";
    merge_policy(
        base,
        extra,
        "both brachprotection configs set a top-level policy".to_owned(),
        at,
        file,
        errors,
    );
    for switch in PROTECTION_SWITCHES {
        let Some(v) = extra.get(*switch).filter(|v| !v.is_null()) else {
            continue;
        };
        if base.get(*switch).is_some_and(|v| !v.is_null()) {
            errors.push(
                Finding::error(format!(
                    "failed to merge branch protection config: both branchprotection configs set {switch}"
                ))
                .in_file(file)
                .at(format!("{at}.{switch}")),
            );
        } else {
            base.insert(serde_yaml::Value::String((*switch).to_owned()), v.clone());
        }
    }
    let Some(serde_yaml::Value::Mapping(orgs)) = extra.get("orgs") else {
        return;
    };
    let empty = serde_yaml::Mapping::new();
    for (org, org_extra) in orgs {
        let org_name = org.as_str().unwrap_or_default();
        let org_extra = org_extra.as_mapping().unwrap_or(&empty);
        let base_org = child_mapping(child_mapping(base, "orgs"), org_name);
        let mut org_at = format!("{at}.orgs");
        push_key(&mut org_at, org_name);
        merge_policy(
            base_org,
            org_extra,
            format!("both branchprotection configs define a policy for org {org_name}"),
            &org_at,
            file,
            errors,
        );
        let Some(serde_yaml::Value::Mapping(repos)) = org_extra.get("repos") else {
            continue;
        };
        for (repo, repo_extra) in repos {
            let repo_name = repo.as_str().unwrap_or_default();
            let repo_extra = repo_extra.as_mapping().unwrap_or(&empty);
            let base_repo = child_mapping(child_mapping(base_org, "repos"), repo_name);
            let mut repo_at = format!("{org_at}.repos");
            push_key(&mut repo_at, repo_name);
            merge_policy(
                base_repo,
                repo_extra,
                format!(
                    "both branchprotection configs define a policy for repo {org_name}/{repo_name}"
                ),
                &repo_at,
                file,
                errors,
            );
            let Some(serde_yaml::Value::Mapping(branches)) = repo_extra.get("branches") else {
                continue;
            };
            for (branch, branch_extra) in branches {
                let branch_name = branch.as_str().unwrap_or_default();
                let branch_extra = branch_extra.as_mapping().unwrap_or(&empty);
                let base_branch = child_mapping(child_mapping(base_repo, "branches"), branch_name);
                let mut branch_at = format!("{repo_at}.branches");
                push_key(&mut branch_at, branch_name);
                merge_policy(
                    base_branch,
                    branch_extra,
                    format!(
                        "both branchprotection configs define a policy for branch {branch_name} in repo {org_name}/{repo_name}"
                    ),
                    &branch_at,
                    file,
                    errors,
                );
            }
        }
    }
}

/// What a supplemental prow-config file configures: anything global, and which orgs and repos
/// (Prow's `HasConfigFor`).
fn supplemental_scope(
    value: &serde_yaml::Value,
    unknown: &[Finding],
) -> (
    bool,
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<String>,
) {
    let mut global = false;
    let mut orgs = std::collections::BTreeSet::new();
    let mut repos = std::collections::BTreeSet::new();
    let org_or_repo = |key: &str,
                       orgs: &mut std::collections::BTreeSet<String>,
                       repos: &mut std::collections::BTreeSet<String>| {
        if key.contains('/') {
            repos.insert(key.to_owned());
        } else {
            orgs.insert(key.to_owned());
        }
    };
    let Some(map) = value.as_mapping() else {
        return (false, orgs, repos);
    };
    let keys = |v: &serde_yaml::Value| -> Vec<String> {
        v.as_mapping()
            .map(|m| {
                m.keys()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (key, value) in map {
        let Some(key) = key.as_str() else { continue };
        if value.is_null() || unknown.iter().any(|w| w.field == key) {
            continue;
        }
        match key {
            "branch-protection" => {
                let bp = value.as_mapping();
                if bp.is_some_and(policy_set)
                    || PROTECTION_SWITCHES
                        .iter()
                        .any(|s| value.get(*s).is_some_and(|v| !v.is_null()))
                {
                    global = true;
                }
                if let Some(serde_yaml::Value::Mapping(org_map)) = value.get("orgs") {
                    for (org, org_value) in org_map {
                        let org = org.as_str().unwrap_or_default();
                        if org_value.as_mapping().is_some_and(policy_set) {
                            orgs.insert(org.to_owned());
                        }
                        for repo in org_value.get("repos").map(keys).unwrap_or_default() {
                            repos.insert(format!("{org}/{repo}"));
                        }
                    }
                }
            }
            "slack_reporter_configs" => {
                for k in keys(value) {
                    if k == "*" {
                        global = true;
                    } else {
                        org_or_repo(&k, &mut orgs, &mut repos);
                    }
                }
            }
            "tide" => {
                for (sub, v) in value.as_mapping().into_iter().flatten() {
                    match sub.as_str() {
                        Some("merge_method") => {
                            for k in keys(v) {
                                org_or_repo(&k, &mut orgs, &mut repos);
                            }
                        }
                        Some("queries") => {
                            for query in v.as_sequence().into_iter().flatten() {
                                for (field, set) in [("orgs", false), ("repos", true)] {
                                    for item in query
                                        .get(field)
                                        .and_then(|l| l.as_sequence())
                                        .into_iter()
                                        .flatten()
                                        .filter_map(|i| i.as_str())
                                    {
                                        if set {
                                            repos.insert(item.to_owned());
                                        } else {
                                            orgs.insert(item.to_owned());
                                        }
                                    }
                                }
                            }
                        }
                        _ if !v.is_null() => global = true,
                        _ => {}
                    }
                }
            }
            _ => global = true,
        }
    }
    (global, orgs, repos)
}

/// checkconfig's `validate-supplemental-prow-config-hierarchy`: a supplemental file in
/// `<dir>/<org>/` may configure only that org, one in `<dir>/<org>/<repo>/` only that repo.
pub(crate) fn supplemental_hierarchy(dirs: &[PathBuf], suffix: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for root in dirs {
        let mut files = Vec::new();
        if let Err(e) = supplemental_files(root, suffix, &mut files) {
            out.push(Finding::warning(format!("error when walking: {e}")).in_file(root));
            continue;
        }
        for file in files {
            let rel: Vec<String> = file
                .strip_prefix(root)
                .unwrap_or(&file)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let shown = file.display();
            let (expected, is_org) = match rel.as_slice() {
                [_] => continue,
                [org, _] => (org.clone(), true),
                [org, repo, _] => (format!("{org}/{repo}"), false),
                _ => {
                    out.push(Finding::warning(format!(
                        "config {shown} is at an invalid location. All configs must be below {}. If they are org-specific, they must be in a folder named like the org. If they are repo-specific, they must be in a folder named like the repo below a folder named like the org.",
                        root.display()
                    )).in_file(&file));
                    continue;
                }
            };
            let Ok(text) = read_maybe_gzip(&file) else {
                continue;
            };
            let unknown = match parse::<ProwConfig>(&text, &file) {
                Ok((_, unknown)) => unknown,
                Err(_) => continue,
            };
            let Some(value) = yaml_value(&text) else {
                continue;
            };
            let (global, mut orgs, mut repos) = supplemental_scope(&value, &unknown);
            let fine = if is_org {
                !global && orgs.len() == 1 && orgs.contains(&expected) && repos.is_empty()
            } else {
                !global && orgs.is_empty() && repos.len() == 1 && repos.contains(&expected)
            };
            if fine {
                continue;
            }
            let mut message = if is_org {
                orgs.remove(&expected);
                format!(
                    "config {shown} is invalid: Must contain only config for org {expected}, but"
                )
            } else {
                repos.remove(&expected);
                format!(
                    "config {shown} is invalid: Must only contain config for repo {expected}, but"
                )
            };
            let mut parts = Vec::new();
            if global {
                parts.push("contains global config".to_owned());
            }
            parts.extend(orgs.iter().map(|o| format!("contains config for org {o}")));
            parts.extend(
                repos
                    .iter()
                    .map(|r| format!("contains config for repo {r}")),
            );
            message.push(' ');
            message.push_str(&parts.join(" and "));
            out.push(Finding::warning(message).in_file(&file));
        }
    }
    out
}
