//! Branch protection: a policy at every level (global, org, repo, branch), children
//! overriding parents.

use std::collections::BTreeMap;

use super::section;

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
