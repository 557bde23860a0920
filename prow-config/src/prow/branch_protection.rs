//! Branch protection: a policy at every level (global, org, repo, branch), children
//! overriding parents, and upstream's policy engine over it (`pkg/config/branch_protection.go`):
//! [`Policy::apply`], the merged policy of an org, repo or branch, the contexts jobs require
//! ([`branch_requirements`]) and the policy branchprotector applies to a branch
//! ([`branch_policy_with_jobs`], upstream's `GetPolicy`). Pure: nothing here asks GitHub.

use std::collections::{BTreeMap, BTreeSet};

use super::ProwConfig;
use super::section;
use crate::jobs::Presubmit;

/// Declares a policy struct: the policy fields Go embeds inline, plus `extra` fields.
macro_rules! policy_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($rest:tt)* }) => {
        section! {
            $(#[$m])*
            pub struct $name {
                /// Leave this branch protection alone.
                pub unmanaged: Option<bool>,
                /// Whether branch protection is enabled.
                pub protect: Option<bool>,
                /// Required status contexts.
                pub required_status_checks: Option<ContextPolicy>,
                /// Whether protections apply to admins.
                #[serde(rename = "enforce_admins")]
                pub admins: Option<bool>,
                /// Who may push.
                pub restrictions: Option<Restrictions>,
                /// Require contexts of jobs that only run when triggered by hand.
                pub require_manually_triggered_jobs: Option<bool>,
                /// Review requirements.
                pub required_pull_request_reviews: Option<ReviewPolicy>,
                /// Forbid merge commits.
                pub required_linear_history: Option<bool>,
                /// Allow force pushes.
                pub allow_force_pushes: Option<bool>,
                /// Allow deleting the branch.
                pub allow_deletions: Option<bool>,
                /// Require signed commits.
                pub require_signed_commits: Option<bool>,
                /// Regexes of branches excluded from the policy (exclusive with `include`).
                pub exclude: Vec<String>,
                /// Regexes of branches the policy is limited to (exclusive with `exclude`).
                pub include: Vec<String>,
                $($rest)*
            }
        }
    };
}

policy_struct! {
    /// One level's protection options, as merged for a branch.
    pub struct Policy {}
}

policy_struct! {
    /// The global branch protection policy with per-org policies.
    pub struct BranchProtection {
        /// Protect every repo Prow has jobs for, even if not listed.
        #[serde(rename = "protect-tested-repos")]
        pub protect_tested: Option<bool>,
        /// Policies by org.
        pub orgs: BTreeMap<String, OrgPolicy>,
        /// Let a child disable protection inherited from a parent.
        pub allow_disabled_policies: Option<bool>,
        /// Let a branch opt out even when Prow has required jobs for it.
        pub allow_disabled_job_policies: Option<bool>,
        /// Manage required contexts of repos that only have optional jobs.
        pub protect_repos_with_optional_jobs: Option<bool>,
    }
}

policy_struct! {
    /// An org's policy with per-repo policies.
    pub struct OrgPolicy {
        /// Policies by repo name.
        pub repos: BTreeMap<String, RepoPolicy>,
    }
}

policy_struct! {
    /// A repo's policy with per-branch policies.
    pub struct RepoPolicy {
        /// Policies by branch name.
        pub branches: BTreeMap<String, BranchPolicy>,
    }
}

policy_struct! {
    /// A branch's policy.
    pub struct BranchPolicy {}
}

section! {
    /// Required status contexts.
    pub struct ContextPolicy {
        /// Contexts that must be green (appended to the parent's).
        pub contexts: Vec<String>,
        /// Require branches to be up to date before merging.
        pub strict: Option<bool>,
    }
}

section! {
    /// Review requirements.
    pub struct ReviewPolicy {
        /// Who may dismiss reviews.
        pub dismissal_restrictions: Option<DismissalRestrictions>,
        /// New commits dismiss old reviews.
        #[serde(rename = "dismiss_stale_reviews")]
        pub dismiss_stale: Option<bool>,
        /// CODEOWNERS must approve.
        #[serde(rename = "require_code_owner_reviews")]
        pub require_owners: Option<bool>,
        /// Number of approvals required.
        #[serde(rename = "required_approving_review_count")]
        pub approvals: Option<i64>,
        /// Who may bypass the review requirements.
        #[serde(rename = "bypass_pull_request_allowances")]
        pub bypass_restrictions: Option<BypassRestrictions>,
    }
}

section! {
    /// Users and teams that may dismiss reviews.
    pub struct DismissalRestrictions {
        /// User logins.
        pub users: Vec<String>,
        /// Team slugs.
        pub teams: Vec<String>,
    }
}

section! {
    /// Users and teams that may bypass review requirements.
    pub struct BypassRestrictions {
        /// User logins.
        pub users: Vec<String>,
        /// Team slugs.
        pub teams: Vec<String>,
    }
}

section! {
    /// Apps, users and teams that may push.
    pub struct Restrictions {
        /// App slugs.
        pub apps: Vec<String>,
        /// User logins.
        pub users: Vec<String>,
        /// Team slugs.
        pub teams: Vec<String>,
    }
}

/// Copies the policy fields of any policy struct into a [`Policy`].
macro_rules! own_policy {
    ($v:expr) => {
        Policy {
            unmanaged: $v.unmanaged,
            protect: $v.protect,
            required_status_checks: $v.required_status_checks.clone(),
            admins: $v.admins,
            restrictions: $v.restrictions.clone(),
            require_manually_triggered_jobs: $v.require_manually_triggered_jobs,
            required_pull_request_reviews: $v.required_pull_request_reviews.clone(),
            required_linear_history: $v.required_linear_history,
            allow_force_pushes: $v.allow_force_pushes,
            allow_deletions: $v.allow_deletions,
            require_signed_commits: $v.require_signed_commits,
            exclude: $v.exclude.clone(),
            include: $v.include.clone(),
        }
    };
}

impl BranchProtection {
    /// The global level's own policy.
    pub fn policy(&self) -> Policy {
        own_policy!(self)
    }

    /// The levels that apply to `branch` of `org/repo`, global first, with their field paths.
    pub fn levels(&self, org: &str, repo: &str, branch: &str) -> Vec<(String, Policy)> {
        let mut out = vec![("branch-protection".to_owned(), own_policy!(self))];
        if let Some(o) = self.orgs.get(org) {
            let at = format!("branch-protection.orgs[{org:?}]");
            out.push((at.clone(), own_policy!(o)));
            if let Some(r) = o.repos.get(repo) {
                let at = format!("{at}.repos[{repo:?}]");
                out.push((at.clone(), own_policy!(r)));
                if let Some(b) = r.branches.get(branch) {
                    out.push((format!("{at}.branches[{branch:?}]"), own_policy!(b)));
                }
            }
        }
        out
    }
}

/// `select`: the child's value when set, else the parent's.
fn pick<T: Clone>(parent: &Option<T>, child: &Option<T>) -> Option<T> {
    child.clone().or_else(|| parent.clone())
}

/// Prow's `unionStrings`: an unset (empty) side yields the other unchanged, else the sorted
/// union.
fn union(parent: &[String], child: &[String]) -> Vec<String> {
    if child.is_empty() {
        return parent.to_vec();
    }
    if parent.is_empty() {
        return child.to_vec();
    }
    parent
        .iter()
        .chain(child)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Merges an optional child section into an optional parent one: unset inherits, both set
/// merge with `merge`.
fn merge_opt<T: Clone>(
    parent: &Option<T>,
    child: &Option<T>,
    merge: impl Fn(&T, &T) -> T,
) -> Option<T> {
    match (parent, child) {
        (_, None) => parent.clone(),
        (None, Some(c)) => Some(c.clone()),
        (Some(a), Some(b)) => Some(merge(a, b)),
    }
}

impl Policy {
    /// Prow's `Policy.Apply`: `child` merged into this policy (set values win, lists are
    /// unioned).
    pub fn apply(&self, child: &Policy) -> Policy {
        let p = self;
        Policy {
            unmanaged: pick(&p.unmanaged, &child.unmanaged),
            protect: pick(&p.protect, &child.protect),
            required_status_checks: merge_opt(
                &p.required_status_checks,
                &child.required_status_checks,
                |a, b| ContextPolicy {
                    contexts: union(&a.contexts, &b.contexts),
                    strict: pick(&a.strict, &b.strict),
                },
            ),
            admins: pick(&p.admins, &child.admins),
            restrictions: merge_opt(&p.restrictions, &child.restrictions, |a, b| Restrictions {
                apps: union(&a.apps, &b.apps),
                users: union(&a.users, &b.users),
                teams: union(&a.teams, &b.teams),
            }),
            require_manually_triggered_jobs: pick(
                &p.require_manually_triggered_jobs,
                &child.require_manually_triggered_jobs,
            ),
            required_pull_request_reviews: merge_opt(
                &p.required_pull_request_reviews,
                &child.required_pull_request_reviews,
                |a, b| ReviewPolicy {
                    dismissal_restrictions: merge_opt(
                        &a.dismissal_restrictions,
                        &b.dismissal_restrictions,
                        |x, y| DismissalRestrictions {
                            users: union(&x.users, &y.users),
                            teams: union(&x.teams, &y.teams),
                        },
                    ),
                    dismiss_stale: pick(&a.dismiss_stale, &b.dismiss_stale),
                    require_owners: pick(&a.require_owners, &b.require_owners),
                    approvals: pick(&a.approvals, &b.approvals),
                    bypass_restrictions: merge_opt(
                        &a.bypass_restrictions,
                        &b.bypass_restrictions,
                        |x, y| BypassRestrictions {
                            users: union(&x.users, &y.users),
                            teams: union(&x.teams, &y.teams),
                        },
                    ),
                },
            ),
            required_linear_history: pick(
                &p.required_linear_history,
                &child.required_linear_history,
            ),
            allow_force_pushes: pick(&p.allow_force_pushes, &child.allow_force_pushes),
            allow_deletions: pick(&p.allow_deletions, &child.allow_deletions),
            require_signed_commits: pick(&p.require_signed_commits, &child.require_signed_commits),
            exclude: union(&p.exclude, &child.exclude),
            include: union(&p.include, &child.include),
        }
    }

    /// Whether the policy sets anything but `unmanaged`, `exclude` and `include` (Prow's
    /// `defined`).
    pub fn defined(&self) -> bool {
        let p = self;
        p.protect.is_some()
            || p.required_status_checks.is_some()
            || p.admins.is_some()
            || p.restrictions.is_some()
            || p.require_manually_triggered_jobs.is_some()
            || p.required_pull_request_reviews.is_some()
            || p.required_linear_history.is_some()
            || p.allow_force_pushes.is_some()
            || p.allow_deletions.is_some()
            || p.require_signed_commits.is_some()
    }

    /// Prow's `Managed`: `unmanaged: false` is written explicitly.
    pub fn managed(&self) -> bool {
        self.unmanaged == Some(false)
    }

    /// Whether `unmanaged: true` is set.
    pub fn is_unmanaged(&self) -> bool {
        self.unmanaged == Some(true)
    }
}

/// Merges a child branch-protection policy into its parent, like Prow's `Policy.Apply`.
pub fn apply_policy(parent: &Policy, child: &Policy) -> Policy {
    parent.apply(child)
}

impl BranchProtection {
    /// Prow's `GetOrg(...).Policy`: the org's policy with the global one merged in (the global
    /// one alone for an org not listed).
    pub fn org_policy(&self, org: &str) -> Policy {
        match self.orgs.get(org) {
            Some(o) => self.policy().apply(&own_policy!(o)),
            None => self.policy(),
        }
    }

    /// Prow's `GetOrg(org).GetRepo(repo).Policy`: the repo's policy with the org's and the
    /// global one merged in.
    pub fn repo_policy(&self, org: &str, repo: &str) -> Policy {
        let org_policy = self.org_policy(org);
        match self.orgs.get(org).and_then(|o| o.repos.get(repo)) {
            Some(r) => org_policy.apply(&own_policy!(r)),
            None => org_policy,
        }
    }

    /// Prow's `GetBranch`: the branch's policy with every parent merged in; a listed branch
    /// must, once merged, set `protect` or `unmanaged: true`.
    pub fn branch_policy(&self, org: &str, repo: &str, branch: &str) -> Result<Policy, String> {
        let repo_policy = self.repo_policy(org, repo);
        match self
            .orgs
            .get(org)
            .and_then(|o| o.repos.get(repo))
            .and_then(|r| r.branches.get(branch))
        {
            Some(b) => {
                let merged = repo_policy.apply(&own_policy!(b));
                if merged.protect.is_none() && !merged.is_unmanaged() {
                    return Err(
                        "defined branch policies must set protect or unmanaged=true".to_owned()
                    );
                }
                Ok(merged)
            }
            None => Ok(repo_policy),
        }
    }

    /// Prow's `HasManagedOrgs`: some org writes `unmanaged: false`.
    pub fn has_managed_orgs(&self) -> bool {
        self.orgs.values().any(|o| o.unmanaged == Some(false))
    }

    /// Prow's `HasManagedRepos`: some repo writes `unmanaged: false`.
    pub fn has_managed_repos(&self) -> bool {
        self.orgs.values().any(OrgPolicy::has_managed_repos)
    }

    /// Prow's `HasManagedBranches`: some branch writes `unmanaged: false`.
    pub fn has_managed_branches(&self) -> bool {
        self.orgs.values().any(OrgPolicy::has_managed_branches)
    }
}

impl OrgPolicy {
    /// Prow's `Org.HasManagedRepos`.
    pub fn has_managed_repos(&self) -> bool {
        self.repos.values().any(|r| r.unmanaged == Some(false))
    }

    /// Prow's `Org.HasManagedBranches`.
    pub fn has_managed_branches(&self) -> bool {
        self.repos.values().any(RepoPolicy::has_managed_branches)
    }
}

impl RepoPolicy {
    /// Prow's `Repo.HasManagedBranches`.
    pub fn has_managed_branches(&self) -> bool {
        self.branches.values().any(|b| b.unmanaged == Some(false))
    }
}

/// The merged policies of the org, the repo and the branch, as Prow's `GetOrg`, `GetRepo`
/// and `GetBranch` compute them; the branch fails when it is listed but, after merging, sets
/// neither `protect` nor `unmanaged: true`.
pub fn merged_branch_policy(
    bp: &BranchProtection,
    org: &str,
    repo: &str,
    branch: &str,
) -> Result<Policy, String> {
    bp.branch_policy(org, repo, branch)
}

/// Prow's `BranchRequirements`: the contexts of `jobs` that could run on `branch`, split into
/// always required, required when present, and optional.
pub fn branch_requirements(
    branch: &str,
    jobs: &[Presubmit],
    require_manually_triggered_jobs: Option<bool>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    branch_requirements_with(branch, jobs, require_manually_triggered_jobs, &|j, b| {
        j.could_run(b)
    })
}

/// [`branch_requirements`] deciding which jobs could run with `could_run`.
pub fn branch_requirements_with<'a>(
    branch: &str,
    jobs: &'a [Presubmit],
    require_manually_triggered_jobs: Option<bool>,
    could_run: &(dyn Fn(&'a Presubmit, &str) -> bool + 'a),
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let manual = require_manually_triggered_jobs == Some(true);
    let (mut required, mut if_present, mut optional) = (Vec::new(), Vec::new(), Vec::new());
    for j in jobs.iter().filter(|j| could_run(j, branch)) {
        if !j.context_required() {
            optional.push(j.context.clone());
        } else if manual && j.needs_explicit_trigger() {
            required.push(j.context.clone());
        } else if j.triggers_conditionally() {
            if_present.push(j.context.clone());
        } else {
            required.push(j.context.clone());
        }
    }
    (required, if_present, optional)
}

/// What [`branch_policy_with_jobs`] decided besides the policy, for the caller to log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyNotes {
    /// `protect: false` on a branch Prow's jobs require, allowed by
    /// `allow_disabled_job_policies`, while the branch is protected on GitHub: upstream warns
    /// that branchprotector then leaves it alone entirely.
    pub disabled_with_required_jobs: bool,
}

/// Prow's `GetPolicy`: the merged `policy` of `(org, repo, branch)` with the contexts of
/// `presubmits` that always run on the branch required; `Ok(None)` when there is nothing to
/// apply.
/// `protected_on_github` only affects [`PolicyNotes`].
pub fn branch_policy_with_jobs<'a>(
    prow: &ProwConfig,
    (org, repo, branch): (&str, &str, &str),
    policy: Policy,
    presubmits: &'a [Presubmit],
    could_run: &(dyn Fn(&'a Presubmit, &str) -> bool + 'a),
    protected_on_github: Option<bool>,
) -> Result<(Option<Policy>, PolicyNotes), String> {
    let bp = &prow.branch_protection;
    let mut policy = policy;
    let mut notes = PolicyNotes::default();
    let (required, if_present, optional) = branch_requirements_with(
        branch,
        presubmits,
        policy.require_manually_triggered_jobs,
        could_run,
    );
    let manage = !required.is_empty()
        || (bp.protect_repos_with_optional_jobs == Some(true)
            && (!if_present.is_empty() || !optional.is_empty()));
    if manage {
        if policy.protect == Some(false) {
            if bp.allow_disabled_job_policies == Some(true) {
                notes.disabled_with_required_jobs = protected_on_github == Some(true);
                return Ok((None, notes));
            }
            return Err("required prow jobs require branch protection".to_owned());
        }
        let jobs = Policy {
            required_status_checks: Some(ContextPolicy {
                contexts: required,
                strict: None,
            }),
            protect: (bp.protect_tested == Some(true)).then_some(true),
            ..Policy::default()
        };
        policy = policy.apply(&jobs);
    }
    if policy.protect == Some(false) {
        let without = Policy {
            protect: None,
            ..policy.clone()
        };
        if without.defined() && bp.allow_disabled_policies != Some(true) {
            return Err(format!(
                "{org}/{repo}={branch} defines a policy, which requires protect: true"
            ));
        }
    }
    Ok((policy.defined().then_some(policy), notes))
}

/// Prow's `GetBranchProtection`: the policy the branchprotector applies to `branch`, with the
/// contexts of `presubmits` required; `Ok(None)` when the org is not configured or nothing is
/// protected.
pub fn branch_protection_for(
    prow: &ProwConfig,
    org: &str,
    repo: &str,
    branch: &str,
    presubmits: &[Presubmit],
) -> Result<Option<Policy>, String> {
    protection_for_with(prow, org, repo, branch, presubmits, &|j, b| j.could_run(b))
}

/// [`branch_protection_for`] deciding which jobs could run with `could_run`.
pub fn protection_for_with<'a>(
    prow: &ProwConfig,
    org: &str,
    repo: &str,
    branch: &str,
    presubmits: &'a [Presubmit],
    could_run: &(dyn Fn(&'a Presubmit, &str) -> bool + 'a),
) -> Result<Option<Policy>, String> {
    let bp = &prow.branch_protection;
    if !bp.orgs.contains_key(org) {
        return Ok(None);
    }
    let policy = bp.branch_policy(org, repo, branch)?;
    branch_policy_with_jobs(
        prow,
        (org, repo, branch),
        policy,
        presubmits,
        could_run,
        None,
    )
    .map(|(p, _)| p)
}
