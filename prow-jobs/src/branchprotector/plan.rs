//! branchprotector's walk over GitHub (upstream's `protector`: `protect`, `UpdateOrg`,
//! `UpdateRepo`, `UpdateBranch`): which branches of which repositories the policy covers, the
//! request each needs, and only the changes GitHub does not have yet. Reads GitHub, writes
//! nothing; [`apply`] carries a plan out.
//!
//! Orgs, repositories and branches are visited in name order, so a plan reads the same on
//! every run; upstream walks Go maps in random order with the same outcome.

use std::collections::{BTreeMap, BTreeSet};

use prow_config::Config;
use prow_config::Presubmit;
use prow_config::prow::{BranchProtection, Policy, branch_policy_with_jobs};
use prow_github::GitHubClient;
use prow_github::types::{BranchProtection as GitHubProtection, BranchProtectionRequest};
use regex::Regex;

use super::request::{equal_protection, equal_signatures, make_request};

/// How branchprotector runs (upstream's flags that change the plan).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// `--enable-apps-restrictions`: send the apps of `restrictions`; without it a policy
    /// naming apps is an error.
    pub enable_apps_restrictions: bool,
}

impl Options {
    /// Options with apps restrictions enabled or not.
    pub fn with_apps_restrictions(enable: bool) -> Self {
        Options {
            enable_apps_restrictions: enable,
        }
    }
}

/// What to do to one branch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// `PUT .../protection` with this request, then set commit signatures when the policy
    /// says so.
    Update {
        /// The request body.
        request: Box<BranchProtectionRequest>,
        /// `require_signed_commits` of the policy, applied through its own endpoint.
        signatures: Option<bool>,
    },
    /// `DELETE .../protection`: the policy says `protect: false`.
    Remove,
}

/// A change to one branch.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BranchChange {
    /// The organisation.
    pub org: String,
    /// The repository.
    pub repo: String,
    /// The branch.
    pub branch: String,
    /// The branch's protection on GitHub now (`None`: unprotected).
    pub current: Option<GitHubProtection>,
    /// What to do.
    pub action: Action,
}

/// Every change branchprotector would make, and every error on the way (upstream keeps going
/// and fails at the end).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Plan {
    /// The changes, by org, repo and branch.
    pub changes: Vec<BranchChange>,
    /// What could not be planned, in upstream's words (`update org: update repo: ...`).
    pub errors: Vec<String>,
    /// Branches whose protection already matches their policy.
    pub unchanged: usize,
}

/// Upstream's `SecurityForkNameRE`: private security forks cannot be protected this way.
fn is_security_fork(name: &str) -> bool {
    static FORK: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^[\w-]+-ghsa-[\w-]+$").expect("the security fork pattern compiles")
    });
    FORK.is_match(name)
}

/// Archived repositories and private security forks cannot be protected this way.
fn left_alone(r: &prow_github::types::Repo) -> bool {
    r.archived || (r.private && is_security_fork(&r.name))
}

/// Alternatives of Go regexes joined as upstream joins `include`/`exclude` (`a|b`).
fn joined(patterns: &[String]) -> Result<Option<Regex>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let joined = patterns.join("|");
    prow_config::goregex::compile(&joined)
        .map(Some)
        .map_err(|e| format!("error parsing regexp {joined:?}: {e}"))
}

/// Walks the configured orgs and repositories and plans every change (upstream's `protect`).
pub async fn plan(config: &Config, github: &dyn GitHubClient, options: &Options) -> Plan {
    let mut walk = Walk {
        config,
        github,
        options,
        plan: Plan::default(),
        completed: BTreeSet::new(),
    };
    walk.protect().await;
    walk.plan
}

/// One walk's state.
struct Walk<'a> {
    config: &'a Config,
    github: &'a dyn GitHubClient,
    options: &'a Options,
    plan: Plan,
    completed: BTreeSet<String>,
}

impl<'a> Walk<'a> {
    fn bp(&self) -> &'a BranchProtection {
        &self.config.prow.branch_protection
    }

    async fn protect(&mut self) {
        let bp = self.bp();
        if bp.policy().is_unmanaged()
            && !bp.has_managed_orgs()
            && !bp.has_managed_repos()
            && !bp.has_managed_branches()
        {
            tracing::warn!("Branchprotection has global unmanaged: true, will not do anything");
            return;
        }
        let orgs: Vec<String> = bp.orgs.keys().cloned().collect();
        for org in orgs {
            for e in self.update_org(&org).await {
                self.error(format!("update {org}: {e}"));
            }
        }
        if self.bp().protect_tested != Some(true) {
            return;
        }
        let tested: Vec<String> = self.config.jobs.presubmits.keys().cloned().collect();
        for full in tested {
            if self.completed.contains(&full) {
                continue;
            }
            let Some((org, repo)) = full.split_once('/').filter(|(_, r)| !r.contains('/')) else {
                self.error(format!("bad presubmit repo: {full}"));
                continue;
            };
            for e in self.update_repo(org, repo).await {
                self.error(format!("update {org}/{repo}: {e}"));
            }
        }
    }

    fn error(&mut self, message: String) {
        tracing::info!(error = %message, "branch protection error");
        self.plan.errors.push(message);
    }

    /// Upstream's `UpdateOrg`: every repo of an opinionated org (`protect` set), else the
    /// repos the configuration lists.
    async fn update_org(&mut self, org: &str) -> Vec<String> {
        let bp = self.bp();
        let own = bp.orgs.get(org).cloned().unwrap_or_default();
        let policy = bp.org_policy(org);
        if policy.is_unmanaged() && !own.has_managed_repos() && !own.has_managed_branches() {
            tracing::info!(org, "org is unmanaged");
            return Vec::new();
        }
        let repos: Vec<String> = if policy.protect.is_some() {
            match self.github.org_repos(org).await {
                Ok(rs) => rs
                    .into_iter()
                    .filter(|r| !left_alone(r))
                    .map(|r| r.name)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                Err(e) => return vec![format!("list repos: {e}")],
            }
        } else {
            own.repos.keys().cloned().collect()
        };
        let mut errors = Vec::new();
        for repo in repos {
            for e in self.update_repo(org, &repo).await {
                errors.push(format!("update {repo}: {e}"));
            }
        }
        errors
    }

    /// Upstream's `UpdateRepo`: every branch on GitHub that `include`/`exclude` let through,
    /// plus the branches the configuration names.
    async fn update_repo(&mut self, org: &str, repo: &str) -> Vec<String> {
        self.completed.insert(format!("{org}/{repo}"));
        let bp = self.bp();
        let own = bp
            .orgs
            .get(org)
            .and_then(|o| o.repos.get(repo))
            .cloned()
            .unwrap_or_default();
        let policy = bp.repo_policy(org, repo);
        if policy.is_unmanaged() && !own.has_managed_branches() {
            tracing::info!(org, repo, "repo is unmanaged");
            return Vec::new();
        }
        match self.github.repository(org, repo).await {
            Ok(r) if r.archived => {
                tracing::info!(org, repo, "repo is archived");
                return Vec::new();
            }
            Ok(r) if r.private && is_security_fork(&r.name) => {
                tracing::info!(org, repo, "repo is a private security fork");
                return Vec::new();
            }
            Ok(_) => {}
            Err(e) => return vec![format!("could not get repo to check for archival: {e}")],
        }
        let include = match joined(&policy.include) {
            Ok(r) => r,
            Err(e) => return vec![e],
        };
        let exclude = match joined(&policy.exclude) {
            Ok(r) => r,
            Err(e) => return vec![e],
        };
        // Protected second, so a branch listed twice ends with its protected flag set.
        let mut branches: BTreeMap<String, bool> = BTreeMap::new();
        for only_protected in [false, true] {
            let listed = match self
                .github
                .branches_by_protection(org, repo, only_protected)
                .await
            {
                Ok(b) => b,
                Err(e) => return vec![format!("list branches: {e}")],
            };
            for b in listed {
                let named = own.branches.contains_key(&b.name);
                if !named {
                    if let Some(include) = &include {
                        if !include.is_match(&b.name) {
                            tracing::info!("{org}/{repo}={}: not included", b.name);
                            continue;
                        }
                    } else if exclude.as_ref().is_some_and(|x| x.is_match(&b.name)) {
                        tracing::info!("{org}/{repo}={}: excluded", b.name);
                        continue;
                    }
                }
                branches.insert(b.name, b.protected);
            }
        }
        let mut errors = Vec::new();
        for (branch, protected) in branches {
            match bp.branch_policy(org, repo, &branch) {
                Err(e) => errors.push(format!("get {branch}: {e}")),
                Ok(policy) => {
                    if let Err(e) = self
                        .update_branch(org, repo, &branch, policy, protected)
                        .await
                    {
                        errors.push(format!("update {branch} from protected={protected}: {e}"));
                    }
                }
            }
        }
        errors
    }

    /// Upstream's `UpdateBranch`: the request for one branch, planned only when GitHub
    /// differs.
    async fn update_branch(
        &mut self,
        org: &str,
        repo: &str,
        branch: &str,
        policy: Policy,
        protected: bool,
    ) -> Result<(), String> {
        if policy.is_unmanaged() {
            return Ok(());
        }
        let presubmits: &[Presubmit] = self
            .config
            .jobs
            .presubmits
            .get(&format!("{org}/{repo}"))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let (policy, notes) = branch_policy_with_jobs(
            &self.config.prow,
            (org, repo, branch),
            policy,
            presubmits,
            &|j, b| j.could_run(b),
            Some(protected),
        )
        .map_err(|e| format!("get policy: {e}"))?;
        if notes.disabled_with_required_jobs {
            tracing::warn!(
                branch = %format!("{org}/{repo}/{branch}"),
                "'protect: false' configuration causes branchprotector to not manage branch protection settings at all. If this a desired behavior, use 'unmanaged: true' instead."
            );
        }
        let Some(policy) = policy else {
            return Ok(());
        };
        let Some(protect) = policy.protect else {
            return Ok(());
        };
        if !protected && !protect {
            tracing::info!("{org}/{repo}={branch}: already unprotected");
            return Ok(());
        }
        if !self.options.enable_apps_restrictions
            && policy
                .restrictions
                .as_ref()
                .is_some_and(|r| !r.apps.is_empty())
        {
            return Err(format!(
                "'enable-apps-restrictions' command line flag is not true, but Apps Restrictions are maintained for {org}/{repo}={branch}"
            ));
        }
        let request = protect.then(|| make_request(&policy, self.options.enable_apps_restrictions));
        let current = self
            .github
            .branch_protection(org, repo, branch)
            .await
            .map_err(|e| format!("get current branch protection: {e}"))?;
        let signatures = policy.require_signed_commits;
        if equal_protection(current.as_ref(), request.as_ref())
            && equal_signatures(current.as_ref(), signatures)
        {
            tracing::debug!(
                "{org}/{repo}={branch}: current branch protection matches policy, skipping"
            );
            self.plan.unchanged += 1;
            return Ok(());
        }
        let action = match request {
            Some(request) => Action::Update {
                request: Box::new(request),
                signatures,
            },
            None => Action::Remove,
        };
        self.plan.changes.push(BranchChange {
            org: org.to_owned(),
            repo: repo.to_owned(),
            branch: branch.to_owned(),
            current,
            action,
        });
        Ok(())
    }
}

/// Carries out a plan through GitHub (upstream's `configureBranches`); answers the errors, in
/// upstream's words.
pub async fn apply(github: &dyn GitHubClient, plan: &Plan) -> Vec<String> {
    let mut errors = Vec::new();
    for c in &plan.changes {
        let (org, repo, branch) = (c.org.as_str(), c.repo.as_str(), c.branch.as_str());
        match &c.action {
            Action::Remove => {
                if let Err(e) = github.remove_branch_protection(org, repo, branch).await {
                    errors.push(format!(
                        "remove {org}/{repo}={branch} protection failed: {e}"
                    ));
                } else {
                    tracing::info!(org, repo, branch, "removed branch protection");
                }
            }
            Action::Update {
                request,
                signatures,
            } => {
                match github
                    .update_branch_protection(org, repo, branch, request)
                    .await
                {
                    Err(e) => {
                        let body = serde_json::to_string(request).unwrap_or_default();
                        errors.push(format!(
                            "update {org}/{repo}={branch} protection to {body} failed: {e}"
                        ));
                    }
                    Ok(()) => tracing::info!(org, repo, branch, "updated branch protection"),
                }
                if let Some(wanted) = signatures
                    && let Err(e) = github
                        .set_required_signatures(org, repo, branch, *wanted)
                        .await
                {
                    let verb = if *wanted { "enable" } else { "disable" };
                    errors.push(format!(
                        "{verb} {org}/{repo}={branch} commit sign protection failed: {e}"
                    ));
                }
            }
        }
    }
    errors
}
