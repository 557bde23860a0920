//! Tide's configuration: queries, merge methods, context policies, and the lookups the merge
//! engine needs (`merge_method`, `TideQuery::query_string`, `TideContextPolicyOptions::policy_for`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use prow_core::{MergeMethod, MetaDuration};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::components::GerritOrgRepoConfig;
use super::section;

section! {
    /// Tide's settings.
    pub struct Tide {
        /// Tide for Gerrit.
        pub gerrit: Option<TideGerritConfig>,
        /// How often Tide syncs with GitHub (default 1m).
        pub sync_period: Option<MetaDuration>,
        /// How often Tide updates its status contexts (default `sync_period`).
        pub status_update_period: Option<MetaDuration>,
        /// Most goroutines of the sync loop (default 20).
        pub max_goroutines: i64,
        /// Batch size limit by `*`, org or org/repo: 0 unlimited, -1 no batches.
        pub batch_size_limit: BTreeMap<String, i64>,
        /// Whether to keep testing existing batches, by `*`, org or org/repo (default true).
        pub prioritize_existing_batches: BTreeMap<String, bool>,
        /// How GitHub's `BLOCKED` merge state is treated, by `*`, org or org/repo:
        /// `ignore`, `permit` (default) or `block`.
        pub github_merge_blocks_policy: BTreeMap<String, String>,
        /// The GitHub searches that together select mergeable pull requests.
        pub queries: Vec<TideQuery>,
        /// Merge method by org (string or repo map), `org/repo` or `org/repo@branch`.
        pub merge_method: BTreeMap<String, TideOrgMergeType>,
        /// Merge commit title and body templates by org or org/repo.
        pub merge_commit_template: BTreeMap<String, TideMergeCommitTemplate>,
        /// Link of the `tide` status context (older form of `target_urls["*"]`).
        pub target_url: String,
        /// Link of the `tide` status context by `*`, org or org/repo.
        pub target_urls: BTreeMap<String, String>,
        /// Base of the PR status page link (older form of `pr_status_base_urls["*"]`).
        pub pr_status_base_url: String,
        /// Base of the PR status page link by `*`, org or org/repo.
        pub pr_status_base_urls: BTreeMap<String, String>,
        /// Label of issues that block merging.
        pub blocker_label: String,
        /// Label that asks for a squash merge.
        pub squash_label: String,
        /// Label that asks for a rebase merge.
        pub rebase_label: String,
        /// Label that asks for a merge commit.
        pub merge_label: String,
        /// Which contexts are required, optional or required if present.
        pub context_options: TideContextPolicyOptions,
        /// Label sets that are merged first, highest priority first.
        pub priority: Vec<TidePriority>,
        /// Show every query's missing requirements in the status, not only the closest one.
        #[serde(rename = "display_all_tide_queries_in_status")]
        pub display_all_queries_in_status: bool,
        /// prow-rs: merge strategy, flake retries and CI capacity (see `TideMergeQueue`).
        pub merge_queue: super::tide_ext::TideMergeQueue,
    }
}

section! {
    /// Tide for Gerrit: the repositories it watches.
    pub struct TideGerritConfig {
        /// Gerrit hosts and repositories.
        pub queries: Vec<GerritOrgRepoConfig>,
        /// Queries per second against Gerrit (default 5).
        #[serde(rename = "ratelimit")]
        pub rate_limit: i64,
    }
}

section! {
    /// One GitHub search for pull requests that may merge.
    pub struct TideQuery {
        /// Only pull requests by this author.
        pub author: String,
        /// Required labels; an entry `a,b` means `a` or `b`.
        pub labels: Vec<String>,
        /// Forbidden labels.
        #[serde(rename = "missingLabels")]
        pub missing_labels: Vec<String>,
        /// Base branches not searched.
        #[serde(rename = "excludedBranches")]
        pub excluded_branches: Vec<String>,
        /// The only base branches searched.
        #[serde(rename = "includedBranches")]
        pub included_branches: Vec<String>,
        /// Required milestone.
        pub milestone: String,
        /// Require an approving GitHub review.
        #[serde(rename = "reviewApprovedRequired")]
        pub review_approved_required: bool,
        /// Organisations searched.
        pub orgs: Vec<String>,
        /// Repositories (`org/repo`) searched.
        pub repos: Vec<String>,
        /// Repositories of `orgs` not searched.
        #[serde(rename = "excludedRepos")]
        pub excluded_repos: Vec<String>,
    }
}

section! {
    /// Templates of the merge commit title and body.
    pub struct TideMergeCommitTemplate {
        /// Go template of the title.
        pub title: String,
        /// Go template of the body.
        pub body: String,
    }
}

section! {
    /// A set of labels; pull requests carrying all of them are merged first.
    pub struct TidePriority {
        /// The labels.
        pub labels: Vec<String>,
    }
}

/// Declares a context-policy struct: the policy fields Go embeds inline, plus `extra` fields.
macro_rules! context_policy_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($rest:tt)* }) => {
        section! {
            $(#[$m])*
            pub struct $name {
                /// Treat contexts that are neither required nor optional as optional.
                #[serde(rename = "skip-unknown-contexts")]
                pub skip_unknown_contexts: Option<bool>,
                /// Contexts that must be present and green.
                #[serde(rename = "required-contexts")]
                pub required_contexts: Vec<String>,
                /// Contexts that must be green when present.
                #[serde(rename = "required-if-present-contexts")]
                pub required_if_present_contexts: Vec<String>,
                /// Contexts that never block.
                #[serde(rename = "optional-contexts")]
                pub optional_contexts: Vec<String>,
                /// Regexes of contexts that never block.
                #[serde(rename = "optional-regex-contexts")]
                pub optional_regex_contexts: Vec<String>,
                /// Add the branch protection's required contexts.
                #[serde(rename = "from-branch-protection")]
                pub from_branch_protection: Option<bool>,
                /// After a batch merge, overwrite pending contexts with success.
                #[serde(rename = "overwrite-pending-contexts")]
                pub overwrite_pending_contexts: Option<bool>,
                $($rest)*
            }
        }
    };
}

context_policy_struct! {
    /// Which contexts Tide requires, for one branch or as merged for a pull request.
    pub struct TideContextPolicy {}
}

context_policy_struct! {
    /// The global context policy, with per-org overrides.
    pub struct TideContextPolicyOptions {
        /// Policies by org.
        pub orgs: BTreeMap<String, TideOrgContextPolicy>,
    }
}

context_policy_struct! {
    /// An org's context policy, with per-repo overrides.
    pub struct TideOrgContextPolicy {
        /// Policies by repo name.
        pub repos: BTreeMap<String, TideRepoContextPolicy>,
    }
}

context_policy_struct! {
    /// A repo's context policy, with per-branch overrides.
    pub struct TideRepoContextPolicy {
        /// Policies by branch name.
        pub branches: BTreeMap<String, TideContextPolicy>,
    }
}

/// Copies the policy fields of any context-policy struct into a [`TideContextPolicy`].
macro_rules! own_policy {
    ($v:expr) => {
        TideContextPolicy {
            skip_unknown_contexts: $v.skip_unknown_contexts,
            required_contexts: $v.required_contexts.clone(),
            required_if_present_contexts: $v.required_if_present_contexts.clone(),
            optional_contexts: $v.optional_contexts.clone(),
            optional_regex_contexts: $v.optional_regex_contexts.clone(),
            from_branch_protection: $v.from_branch_protection,
            overwrite_pending_contexts: $v.overwrite_pending_contexts,
        }
    };
}

/// `github_merge_blocks_policy` values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum GitHubMergeBlocksPolicy {
    /// Ignore GitHub's `BLOCKED` state.
    Ignore,
    /// Merge anyway, logging a warning (the default).
    #[default]
    Permit,
    /// Do not merge blocked pull requests.
    Block,
}

impl GitHubMergeBlocksPolicy {
    /// Parses Prow's name for the policy.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ignore" => Some(Self::Ignore),
            "permit" => Some(Self::Permit),
            "block" => Some(Self::Block),
            _ => None,
        }
    }
}

/// Parses a merge method name as Tide accepts it.
pub(crate) fn parse_merge_method(text: &str) -> Option<MergeMethod> {
    match text {
        "merge" => Some(MergeMethod::Merge),
        "squash" => Some(MergeMethod::Squash),
        "rebase" => Some(MergeMethod::Rebase),
        _ => None,
    }
}

/// An org's merge method: one method, or methods by repo.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TideOrgMergeType {
    /// The method for the whole org (or the `org/repo[@branch]` key); empty when by repo.
    pub merge_type: String,
    /// Methods by repo name (`*` for every repo).
    pub repos: BTreeMap<String, TideRepoMergeType>,
}

/// A repo's merge method: one method, or methods by branch regex.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TideRepoMergeType {
    /// The method for the whole repo; empty when by branch.
    pub merge_type: String,
    /// Methods by branch regex (unanchored, tried in key order).
    pub branches: BTreeMap<String, TideBranchMergeType>,
}

/// The merge method of branches matching a regex.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
#[non_exhaustive]
pub struct TideBranchMergeType {
    /// `merge`, `squash` or `rebase`.
    pub merge_type: String,
}

/// Reads a merge method string, or a map whose values are read by `T` (Go tries the string
/// first, then the map).
struct StringOrMap<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for StringOrMap<T> {
    type Value = (String, BTreeMap<String, T>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a merge method (merge, squash, rebase) or a map of them")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok((v.to_owned(), BTreeMap::new()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Default::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Default::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((k, v)) = map.next_entry::<String, T>()? {
            out.insert(k, v);
        }
        Ok((String::new(), out))
    }
}

/// Writes the method when set, else the map (Go's `MarshalJSON`).
fn serialize_string_or_map<S: Serializer, T: Serialize>(
    s: S,
    method: &str,
    map: &BTreeMap<String, T>,
) -> Result<S::Ok, S::Error> {
    if method.is_empty() && !map.is_empty() {
        map.serialize(s)
    } else {
        s.serialize_str(method)
    }
}

impl<'de> Deserialize<'de> for TideOrgMergeType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (merge_type, repos) = d.deserialize_any(StringOrMap(std::marker::PhantomData))?;
        Ok(TideOrgMergeType { merge_type, repos })
    }
}

impl Serialize for TideOrgMergeType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_string_or_map(s, &self.merge_type, &self.repos)
    }
}

impl<'de> Deserialize<'de> for TideRepoMergeType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (merge_type, branches) = d.deserialize_any(StringOrMap(std::marker::PhantomData))?;
        Ok(TideRepoMergeType {
            merge_type,
            branches,
        })
    }
}

impl Serialize for TideRepoMergeType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_string_or_map(s, &self.merge_type, &self.branches)
    }
}

impl TideOrgMergeType {
    /// One method for the whole org or key.
    pub fn method(method: &str) -> Self {
        TideOrgMergeType {
            merge_type: method.to_owned(),
            repos: BTreeMap::new(),
        }
    }
}

/// The value of a `*`/org/org-repo keyed map for `org/repo`: repo, then org, then `*`.
fn by_org_repo<'a, T>(map: &'a BTreeMap<String, T>, org: &str, repo: &str) -> Option<&'a T> {
    map.get(&format!("{org}/{repo}"))
        .or_else(|| map.get(org))
        .or_else(|| map.get("*"))
}

impl Tide {
    /// The merge method for a pull request to `branch` of `org/repo`, with Prow's precedence:
    /// `org/repo@branch`, then the first branch regex (in key order) of the repo (or repo `*`)
    /// under the org, then `org/repo`, then the repo under the org, then the org; `merge` when
    /// nothing matches. Branch regexes are tried even for an empty `branch`, as in Prow.
    pub fn merge_method(&self, org: &str, repo: &str, branch: &str) -> MergeMethod {
        let methods = &self.merge_method;
        let set = |text: &str| {
            (!text.is_empty())
                .then(|| parse_merge_method(text))
                .flatten()
        };
        let org_entry = (!org.is_empty()).then(|| methods.get(org)).flatten();
        let repo_entry = org_entry
            .filter(|_| !repo.is_empty())
            .and_then(|o| o.repos.get(repo).or_else(|| o.repos.get("*")));
        if !org.is_empty()
            && !repo.is_empty()
            && !branch.is_empty()
            && let Some(m) = methods
                .get(&format!("{org}/{repo}@{branch}"))
                .and_then(|e| set(&e.merge_type))
        {
            return m;
        }
        if let Some(repo_entry) = repo_entry {
            for (pattern, method) in &repo_entry.branches {
                let matched = regex::Regex::new(pattern)
                    .map(|re| re.is_match(branch))
                    .unwrap_or(false);
                if matched {
                    return parse_merge_method(&method.merge_type).unwrap_or_default();
                }
            }
        }
        if !org.is_empty()
            && !repo.is_empty()
            && let Some(m) = methods
                .get(&format!("{org}/{repo}"))
                .and_then(|e| set(&e.merge_type))
        {
            return m;
        }
        repo_entry
            .and_then(|r| set(&r.merge_type))
            .or_else(|| org_entry.and_then(|o| set(&o.merge_type)))
            .unwrap_or(MergeMethod::Merge)
    }

    /// The batch size limit of `org/repo` (0 unlimited, -1 no batches).
    pub fn batch_size_limit_for(&self, org: &str, repo: &str) -> i64 {
        by_org_repo(&self.batch_size_limit, org, repo)
            .copied()
            .unwrap_or(0)
    }

    /// Whether Tide keeps testing existing batches of `org/repo` (default true).
    pub fn prioritize_existing_batches_for(&self, org: &str, repo: &str) -> bool {
        by_org_repo(&self.prioritize_existing_batches, org, repo)
            .copied()
            .unwrap_or(true)
    }

    /// How GitHub's `BLOCKED` state is treated for `org/repo` (default `permit`).
    pub fn github_merge_blocks_policy_for(&self, org: &str, repo: &str) -> GitHubMergeBlocksPolicy {
        by_org_repo(&self.github_merge_blocks_policy, org, repo)
            .and_then(|p| GitHubMergeBlocksPolicy::parse(p))
            .unwrap_or_default()
    }

    /// The link of the `tide` status context for `org/repo` (after defaulting, `target_url`
    /// is `target_urls["*"]`).
    pub fn target_url_for(&self, org: &str, repo: &str) -> &str {
        by_org_repo(&self.target_urls, org, repo).map_or("", String::as_str)
    }

    /// The PR status page base for `org/repo` (after defaulting, `pr_status_base_url` is
    /// `pr_status_base_urls["*"]`).
    pub fn pr_status_base_url_for(&self, org: &str, repo: &str) -> &str {
        by_org_repo(&self.pr_status_base_urls, org, repo).map_or("", String::as_str)
    }

    /// The merge commit templates for `org/repo`: by repo, else by org (no `*`, as in Prow).
    pub fn merge_commit_template_for(&self, org: &str, repo: &str) -> TideMergeCommitTemplate {
        let templates = &self.merge_commit_template;
        templates
            .get(&format!("{org}/{repo}"))
            .or_else(|| templates.get(org))
            .cloned()
            .unwrap_or_default()
    }
}

impl TideQuery {
    /// The GitHub search string of this query, like Prow's `Query()`.
    ///
    /// Prow emits the `org:`/`repo:` terms grouped by org in Go's random map order; here the
    /// groups come in org-name order so the string is stable.
    pub fn query_string(&self) -> String {
        let (by_org, base) = self.parts();
        let mut tokens = vec![base];
        tokens.extend(by_org.into_values().flatten());
        tokens.join(" ")
    }

    /// One search string per org, like Prow's `OrgQueries()` (used with GitHub App auth).
    pub fn org_queries(&self) -> BTreeMap<String, String> {
        let (by_org, base) = self.parts();
        by_org
            .into_iter()
            .map(|(org, terms)| (org, format!("{base} {}", terms.join(" "))))
            .collect()
    }

    /// The org-scoped `org:`/`repo:`/`-repo:` terms, and the rest of the query.
    fn parts(&self) -> (BTreeMap<String, Vec<String>>, String) {
        let mut by_org: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for org in &self.orgs {
            by_org
                .entry(org.clone())
                .or_insert_with(|| vec![format!("org:\"{org}\"")]);
        }
        for (repos, prefix) in [(&self.repos, "repo"), (&self.excluded_repos, "-repo")] {
            for repo in repos {
                if let Some((org, _)) = split_org_repo(repo) {
                    by_org
                        .entry(org.to_owned())
                        .or_default()
                        .push(format!("{prefix}:\"{repo}\""));
                }
            }
        }
        let mut terms = vec![
            "is:pr".to_owned(),
            "state:open".to_owned(),
            "archived:false".to_owned(),
        ];
        if !self.author.is_empty() {
            terms.push(format!("author:\"{}\"", self.author));
        }
        terms.extend(
            self.excluded_branches
                .iter()
                .map(|b| format!("-base:\"{b}\"")),
        );
        terms.extend(
            self.included_branches
                .iter()
                .map(|b| format!("base:\"{b}\"")),
        );
        for label in &self.labels {
            let alternatives: Vec<String> = label.split(',').map(|l| format!("\"{l}\"")).collect();
            terms.push(format!("label:{}", alternatives.join(",")));
        }
        terms.extend(
            self.missing_labels
                .iter()
                .map(|l| format!("-label:\"{l}\"")),
        );
        if !self.milestone.is_empty() {
            terms.push(format!("milestone:\"{}\"", self.milestone));
        }
        if self.review_approved_required {
            terms.push("review:approved".to_owned());
        }
        (by_org, terms.join(" "))
    }

    /// Whether this query covers `org/repo` (listed org and not excluded, or listed repo).
    pub fn for_repo(&self, org: &str, repo: &str) -> bool {
        let full = format!("{org}/{repo}");
        if self.orgs.iter().any(|o| o == org) {
            return !self.excluded_repos.contains(&full);
        }
        self.repos.contains(&full)
    }

    /// Checks the query like Prow's `TideQuery.Validate`; the first problem is returned as
    /// the offending field (`orgs`, `labels`, ...) and Prow's message.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let mut orgs = BTreeSet::new();
        for (i, org) in self.orgs.iter().enumerate() {
            if org.contains('/') {
                return Err((
                    "orgs",
                    format!("orgs[{i}]: {org:?} contains a '/' which is not valid"),
                ));
            }
            if org.is_empty() {
                return Err(("orgs", format!("orgs[{i}]: is an empty string")));
            }
            orgs.insert(org.as_str());
        }
        duplicates("orgs", &self.orgs)?;
        for (i, repo) in self.repos.iter().enumerate() {
            let Some((org, _)) =
                split_org_repo(repo).filter(|(o, r)| !o.is_empty() && !r.is_empty())
            else {
                return Err((
                    "repos",
                    format!("repos[{i}]: {repo:?} is not of the form \"org/repo\""),
                ));
            };
            if orgs.contains(org) {
                return Err((
                    "repos",
                    format!("repos[{i}]: {repo:?} is already included via org: {org:?}"),
                ));
            }
        }
        duplicates("repos", &self.repos)?;
        if self.orgs.is_empty() && self.repos.is_empty() {
            return Err(("orgs", "'orgs' and 'repos' cannot both be empty".to_owned()));
        }
        for (i, repo) in self.excluded_repos.iter().enumerate() {
            let Some((org, _)) =
                split_org_repo(repo).filter(|(o, r)| !o.is_empty() && !r.is_empty())
            else {
                return Err((
                    "excludedRepos",
                    format!("excludedRepos[{i}]: {repo:?} is not of the form \"org/repo\""),
                ));
            };
            if !orgs.contains(org) {
                return Err((
                    "excludedRepos",
                    format!(
                        "excludedRepos[{i}]: {repo:?} has no effect because org {org:?} is not included"
                    ),
                ));
            }
        }
        duplicates("excludedRepos", &self.excluded_repos)?;
        let required: BTreeSet<&String> = self.labels.iter().collect();
        let both: Vec<&String> = self
            .missing_labels
            .iter()
            .filter(|l| required.contains(l))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !both.is_empty() {
            return Err((
                "labels",
                format!(
                    "the labels: {} are both required and forbidden",
                    go_quoted_list(&both)
                ),
            ));
        }
        duplicates("labels", &self.labels)?;
        duplicates("missingLabels", &self.missing_labels)?;
        if !self.excluded_branches.is_empty() && !self.included_branches.is_empty() {
            return Err((
                "includedBranches",
                "both 'includedBranches' and 'excludedBranches' are specified ('excludedBranches' have no effect)"
                    .to_owned(),
            ));
        }
        duplicates("includedBranches", &self.included_branches)?;
        duplicates("excludedBranches", &self.excluded_branches)?;
        Ok(())
    }
}

/// Go's `%q` of a string slice: `["a" "b"]`.
fn go_quoted_list(items: &[&String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(" "))
}

/// Prow's duplicate check: `"field" contains N duplicate entries: a, b`.
fn duplicates(field: &'static str, list: &[String]) -> Result<(), (&'static str, String)> {
    let mut seen = BTreeSet::new();
    let mut dups = BTreeSet::new();
    for item in list {
        if !seen.insert(item.as_str()) {
            dups.insert(item.as_str());
        }
    }
    let count = list.len() - seen.len();
    if count == 0 {
        return Ok(());
    }
    let dups: Vec<&str> = dups.into_iter().collect();
    Err((
        field,
        format!(
            "{field:?} contains {count} duplicate entries: {}",
            dups.join(", ")
        ),
    ))
}

/// Splits `org/repo` into its two parts; `None` unless there is exactly one `/`.
fn split_org_repo(text: &str) -> Option<(&str, &str)> {
    let mut parts = text.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(org), Some(repo), None) => Some((org, repo)),
        _ => None,
    }
}

impl TideContextPolicy {
    /// Merges `child` over `self`: lists are unioned and sorted, set booleans win.
    pub fn merged_with(&self, child: &TideContextPolicy) -> TideContextPolicy {
        let union = crate::prow::sorted_union;
        TideContextPolicy {
            skip_unknown_contexts: child.skip_unknown_contexts.or(self.skip_unknown_contexts),
            required_contexts: union(&self.required_contexts, &child.required_contexts),
            required_if_present_contexts: union(
                &self.required_if_present_contexts,
                &child.required_if_present_contexts,
            ),
            optional_contexts: union(&self.optional_contexts, &child.optional_contexts),
            optional_regex_contexts: union(
                &self.optional_regex_contexts,
                &child.optional_regex_contexts,
            ),
            from_branch_protection: child.from_branch_protection.or(self.from_branch_protection),
            overwrite_pending_contexts: child
                .overwrite_pending_contexts
                .or(self.overwrite_pending_contexts),
        }
    }

    /// Adds contexts Prow derives elsewhere (branch protection, jobs) to this policy, as in
    /// `GetTideContextPolicy`.
    pub fn with_contexts(
        &self,
        required: &[String],
        required_if_present: &[String],
        optional: &[String],
    ) -> TideContextPolicy {
        self.merged_with(&TideContextPolicy {
            required_contexts: required.to_vec(),
            required_if_present_contexts: required_if_present.to_vec(),
            optional_contexts: optional.to_vec(),
            ..TideContextPolicy::default()
        })
    }

    /// Checks that no context is in two lists and that optional regexes compile and match no
    /// required context, like Prow's `TideContextPolicy.Validate`.
    pub fn validate(&self) -> Result<(), String> {
        let pairs = [
            (
                &self.required_contexts,
                &self.optional_contexts,
                "required and optional",
            ),
            (
                &self.required_contexts,
                &self.required_if_present_contexts,
                "required and required if present",
            ),
            (
                &self.optional_contexts,
                &self.required_if_present_contexts,
                "optional and required if present",
            ),
        ];
        for (a, b, what) in pairs {
            let a: BTreeSet<&String> = a.iter().collect();
            let both: Vec<&str> = b
                .iter()
                .filter(|c| a.contains(c))
                .map(String::as_str)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if !both.is_empty() {
                return Err(format!(
                    "contexts {} are defined as {what}",
                    both.join(", ")
                ));
            }
        }
        for pattern in &self.optional_regex_contexts {
            let re = super::compile_regex(pattern)
                .map_err(|e| format!("optional context regex {pattern:?} doesn't compile: {e}"))?;
            if let Some(c) = self.required_contexts.iter().find(|c| re.is_match(c)) {
                return Err(format!(
                    "optional context regex {pattern:?} matches required context {c}"
                ));
            }
            if let Some(c) = self
                .required_if_present_contexts
                .iter()
                .find(|c| re.is_match(c))
            {
                return Err(format!(
                    "optional context regex {pattern:?} matches required if present context {c}"
                ));
            }
        }
        Ok(())
    }

    /// Whether `context` need not pass: listed or regex-matched optional, else not required
    /// and `skip-unknown-contexts` set.
    pub fn is_optional(&self, context: &str) -> bool {
        if self.optional_contexts.iter().any(|c| c == context) {
            return true;
        }
        let by_regex = self.optional_regex_contexts.iter().any(|p| {
            regex::Regex::new(p)
                .map(|re| re.is_match(context))
                .unwrap_or(false)
        });
        if by_regex {
            return true;
        }
        if self.required_contexts.iter().any(|c| c == context)
            || self
                .required_if_present_contexts
                .iter()
                .any(|c| c == context)
        {
            return false;
        }
        self.skip_unknown_contexts == Some(true)
    }

    /// Required contexts absent from `present`, sorted.
    pub fn missing_required_contexts(&self, present: &[&str]) -> Vec<String> {
        let present: BTreeSet<&str> = present.iter().copied().collect();
        self.required_contexts
            .iter()
            .filter(|c| !present.contains(c.as_str()))
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

impl TideContextPolicyOptions {
    /// The configured policy for `branch` of `org/repo`: global, then org, then repo, then
    /// branch (Prow's `ParseTideContextPolicyOptions`; exact keys only).
    pub fn policy_for(&self, org: &str, repo: &str, branch: &str) -> TideContextPolicy {
        let mut policy = own_policy!(self);
        if let Some(o) = self.orgs.get(org) {
            policy = policy.merged_with(&own_policy!(o));
            if let Some(r) = o.repos.get(repo) {
                policy = policy.merged_with(&own_policy!(r));
                if let Some(b) = r.branches.get(branch) {
                    policy = policy.merged_with(b);
                }
            }
        }
        policy
    }
}

super::nullable_leaf!(TideOrgMergeType, TideRepoMergeType, TideBranchMergeType);

impl super::ProwConfig {
    /// The tenant of ProwJobs of `org_repo` (org or org/repo) on `cluster`: the last
    /// matching `prowjob_default_entries` entry that names one, else the global default.
    pub fn tenant_id(&self, org_repo: &str, cluster: &str) -> String {
        self.prowjob_default_entries
            .iter()
            .filter(|e| crate::defaults::matches(&e.org_repo, &e.cluster, org_repo, cluster))
            .filter_map(|e| e.config.as_ref())
            .map(|c| c.tenant_id.as_str())
            .rfind(|t| !t.is_empty())
            .unwrap_or(prow_core::reporting::DEFAULT_TENANT_ID)
            .to_owned()
    }

    /// Tide's queries with the ones that differ only in their orgs and repos merged, ordered
    /// by their JSON form, as Prow does at load (`deduplicateTideQueries`). Queries whose
    /// repos belong to different tenants stay apart.
    pub fn deduplicated_tide_queries(&self) -> Vec<TideQuery> {
        let mut groups: Vec<(String, TideQuery)> = Vec::new();
        for query in &self.tide.queries {
            let sorted = |v: &[String]| {
                let mut v = v.to_vec();
                v.sort();
                v
            };
            let mut shape = TideQuery {
                author: query.author.clone(),
                excluded_branches: sorted(&query.excluded_branches),
                included_branches: sorted(&query.included_branches),
                labels: sorted(&query.labels),
                missing_labels: sorted(&query.missing_labels),
                milestone: query.milestone.clone(),
                review_approved_required: query.review_approved_required,
                ..TideQuery::default()
            };
            let tenants: BTreeSet<String> = query
                .orgs
                .iter()
                .chain(&query.repos)
                .map(|r| self.tenant_id(r, "*"))
                .collect();
            let key = format!("{}{tenants:?}", go_json(&shape));
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, merged)) => {
                    merged.orgs.extend(query.orgs.iter().cloned());
                    merged.repos.extend(query.repos.iter().cloned());
                    merged
                        .excluded_repos
                        .extend(query.excluded_repos.iter().cloned());
                }
                None => {
                    shape.orgs.clone_from(&query.orgs);
                    shape.repos.clone_from(&query.repos);
                    shape.excluded_repos.clone_from(&query.excluded_repos);
                    groups.push((key, shape));
                }
            }
        }
        let mut out: Vec<TideQuery> = groups.into_iter().map(|(_, q)| q).collect();
        out.sort_by_cached_key(go_json);
        out
    }
}

/// A query as Go's `encoding/json` writes it (field order and `omitempty` of `TideQuery`),
/// which is what Prow sorts deduplicated queries by.
fn go_json(q: &TideQuery) -> String {
    fn string(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '<' | '>' | '&' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
    let mut fields = Vec::new();
    if !q.author.is_empty() {
        fields.push(format!("\"author\":{}", string(&q.author)));
    }
    let lists = [
        ("labels", &q.labels),
        ("missingLabels", &q.missing_labels),
        ("excludedBranches", &q.excluded_branches),
        ("includedBranches", &q.included_branches),
    ];
    for (name, list) in lists {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|s| string(s)).collect();
            fields.push(format!("\"{name}\":[{}]", items.join(",")));
        }
    }
    if !q.milestone.is_empty() {
        fields.push(format!("\"milestone\":{}", string(&q.milestone)));
    }
    if q.review_approved_required {
        fields.push("\"reviewApprovedRequired\":true".to_owned());
    }
    for (name, list) in [
        ("orgs", &q.orgs),
        ("repos", &q.repos),
        ("excludedRepos", &q.excluded_repos),
    ] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|s| string(s)).collect();
            fields.push(format!("\"{name}\":[{}]", items.join(",")));
        }
    }
    format!("{{{}}}", fields.join(","))
}
