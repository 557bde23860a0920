//! Blocking issues: open issues with the `blocker_label` stop merges to a repo or, when their
//! title names `branch:<name>`, to those branches (upstream `pkg/tide/blockers`).

use std::sync::LazyLock;

use regex::Regex;

static BRANCH_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?im)\bbranch:[^\w-]*([\w\-./]+)\b").ok());

/// One blocking issue.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Blocker {
    /// The issue number.
    pub number: u64,
    /// The issue title.
    pub title: String,
    /// The issue's URL.
    pub url: String,
    /// The organisation of the issue's repository.
    pub org: String,
    /// The repository.
    pub repo: String,
}

impl Blocker {
    /// A blocking issue in `org/repo`.
    pub fn new(org: &str, repo: &str, number: u64, title: &str) -> Self {
        Blocker {
            number,
            title: title.to_string(),
            url: String::new(),
            org: org.to_string(),
            repo: repo.to_string(),
        }
    }

    /// The branches the title names with `branch:<name>`; empty means the whole repository.
    pub fn branches(&self) -> Vec<String> {
        BRANCH_RE
            .as_ref()
            .map(|re| {
                re.captures_iter(&self.title)
                    .filter_map(|c| c.get(1).map(|m| m.as_str().to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether this issue blocks merges to `branch` of `org/repo`.
    pub fn applies_to(&self, org: &str, repo: &str, branch: &str) -> bool {
        if self.org != org || self.repo != repo {
            return false;
        }
        let branches = self.branches();
        branches.is_empty() || branches.iter().any(|b| b == branch)
    }
}

/// The blockers applicable to `branch` of `org/repo`, by issue number.
pub fn applicable<'a>(
    blockers: &'a [Blocker],
    org: &str,
    repo: &str,
    branch: &str,
) -> Vec<&'a Blocker> {
    let mut out: Vec<&Blocker> = blockers
        .iter()
        .filter(|b| b.applies_to(org, repo, branch))
        .collect();
    out.sort_by_key(|b| b.number);
    out
}
