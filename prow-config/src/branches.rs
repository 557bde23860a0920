//! The `unanchored-branches` warning, beyond Prow: a `branches` or `skip_branches` entry
//! written as a plain branch name is an unanchored regex, so `release-4.1` also selects
//! `release-4.10`. This names every such entry that matches another branch name the same
//! repository's configuration uses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regex::Regex;

use crate::error::Finding;
use crate::jobs::JobConfig;

/// The warning's name for `checkconfig --warnings`.
pub const UNANCHORED_BRANCHES: &str = "unanchored-branches";

/// The branch an entry names when it is written as a plain name, optionally anchored on one
/// side: `release-4.1`, `^main`, `main$`. Entries with other regex syntax (`release-.*`,
/// `^(main|dev)$`) or ending in a separator (`^release-`) say what they mean and are left
/// alone; a `.` counts as literal since that is how people write version numbers.
fn plain_name(pattern: &str) -> Option<&str> {
    let name = pattern.strip_prefix('^').unwrap_or(pattern);
    let name = name.strip_suffix('$').unwrap_or(name);
    // A name ending in a separator (`^release-`) is a prefix on purpose.
    let plain = name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    plain.then_some(name)
}

/// One job's branch entries, with where they are.
struct Entry<'a> {
    kind: &'static str,
    repo: &'a str,
    index: usize,
    job: &'a str,
    file: &'a str,
    list: &'static str,
    patterns: &'a [String],
}

fn entries(jobs: &JobConfig) -> Vec<Entry<'_>> {
    let pre = jobs.presubmits.iter().flat_map(|(repo, list)| {
        list.iter().map(move |j| {
            let lists = [
                ("branches", &j.branches),
                ("skip_branches", &j.skip_branches),
            ];
            (
                "presubmits",
                repo,
                &j.name,
                j.source_index,
                &j.source_path,
                lists,
            )
        })
    });
    let post = jobs.postsubmits.iter().flat_map(|(repo, list)| {
        list.iter().map(move |j| {
            let lists = [
                ("branches", &j.branches),
                ("skip_branches", &j.skip_branches),
            ];
            (
                "postsubmits",
                repo,
                &j.name,
                j.source_index,
                &j.source_path,
                lists,
            )
        })
    });
    let mut out = Vec::new();
    for (kind, repo, job, index, file, lists) in pre.chain(post) {
        for (list, patterns) in lists {
            out.push(Entry {
                kind,
                repo,
                index,
                job,
                file,
                list,
                patterns,
            });
        }
    }
    out
}

/// Branch names each repository's configuration mentions: plain `branches` and
/// `skip_branches` entries of its jobs, and the `base_ref` of refs cloned by periodics.
fn names_in_use(jobs: &JobConfig, entries: &[Entry<'_>]) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in entries {
        let set = names.entry(e.repo.to_owned()).or_default();
        set.extend(
            e.patterns
                .iter()
                .filter_map(|p| plain_name(p))
                .map(str::to_owned),
        );
    }
    let refs = jobs.periodics.iter().flat_map(|p| &p.extra_refs);
    let refs = refs.chain(
        jobs.presubmits
            .values()
            .flatten()
            .flat_map(|j| &j.extra_refs),
    );
    let refs = refs.chain(
        jobs.postsubmits
            .values()
            .flatten()
            .flat_map(|j| &j.extra_refs),
    );
    for r in refs {
        if !r.base_ref.is_empty() {
            let repo = format!("{}/{}", r.org, r.repo);
            names.entry(repo).or_default().insert(r.base_ref.clone());
        }
    }
    names
}

/// Escapes a plain name as an anchored regex, the fix the warning suggests.
fn anchored(name: &str) -> String {
    // Plain names hold only letters, digits, `_`, `-`, `/` and `.`; only `.` needs escaping.
    format!("^{}$", name.replace('.', r"\."))
}

/// Every plain-name branch entry that also matches another branch name in use in its repo.
pub fn unanchored_branches(jobs: &JobConfig) -> Vec<Finding> {
    let entries = entries(jobs);
    let names = names_in_use(jobs, &entries);
    // Thousands of jobs repeat a few patterns: each is compiled once.
    let mut compiled: HashMap<&str, Option<Regex>> = HashMap::new();
    let mut findings = Vec::new();
    for e in &entries {
        let Some(in_use) = names.get(e.repo) else {
            continue;
        };
        for (i, pattern) in e.patterns.iter().enumerate() {
            let Some(name) = plain_name(pattern) else {
                continue;
            };
            let Some(re) = compiled
                .entry(pattern)
                .or_insert_with(|| Regex::new(pattern).ok())
            else {
                continue;
            };
            let others: Vec<&str> = in_use
                .iter()
                .filter(|b| b.as_str() != name && re.is_match(b))
                .map(String::as_str)
                .collect();
            if others.is_empty() {
                continue;
            }
            let field = format!("{}[{:?}][{}].{}[{i}]", e.kind, e.repo, e.index, e.list);
            let message = format!(
                "{} entry {pattern:?} is an unanchored regex and also matches {}; write '{}' to mean only {name}",
                e.list,
                others.join(", "),
                anchored(name),
            );
            let mut finding = Finding::warning(message).at(field).for_job(e.job);
            if !e.file.is_empty() {
                finding = finding.in_file(e.file);
            }
            findings.push(finding);
        }
    }
    findings
}
