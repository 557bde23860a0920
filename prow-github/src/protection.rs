//! Branch protection as GitHub reports it ([`BranchProtection`]) and as Prow's branchprotector
//! asks for it ([`BranchProtectionRequest`], the body of
//! `PUT /repos/{owner}/{repo}/branches/{branch}/protection`).
//!
//! The request keeps upstream's JSON shape exactly: `required_status_checks`,
//! `enforce_admins`, `required_pull_request_reviews` and `restrictions` are written as `null`
//! when unset, and the user/team/app lists inside are left out when unset, which GitHub reads
//! differently from an empty list.

use serde::{Deserialize, Serialize};

/// A branch's protection as GitHub reports it: the parts Prow reads and writes, with users
/// as logins and teams and apps as slugs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BranchProtection {
    /// Contexts that must pass before merging.
    pub required_status_checks: Option<RequiredStatusChecks>,
    /// Whether admins are held to the rules.
    pub enforce_admins: bool,
    /// Review requirements, when reviews are required.
    pub required_pull_request_reviews: Option<PullRequestReviews>,
    /// Who may push, when pushing is restricted.
    pub restrictions: Option<PushRestrictions>,
    /// Whether merge commits are refused.
    pub required_linear_history: bool,
    /// Whether anyone with push access may force-push.
    pub allow_force_pushes: bool,
    /// Whether anyone with push access may delete the branch.
    pub allow_deletions: bool,
    /// Whether commits must carry verified signatures.
    pub required_signatures: bool,
}

/// Required status checks of a protected branch (the same shape in requests and answers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequiredStatusChecks {
    /// Whether the branch must be up to date before merging.
    pub strict: bool,
    /// The required contexts.
    pub contexts: Vec<String>,
}

/// Review requirements of a protected branch, as GitHub reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PullRequestReviews {
    /// Who may dismiss reviews; `None` when GitHub reports no restriction.
    pub dismissal_restrictions: Option<ReviewAllowances>,
    /// Whether new commits dismiss approving reviews.
    pub dismiss_stale_reviews: bool,
    /// Whether code owners must approve.
    pub require_code_owner_reviews: bool,
    /// Approving reviews needed.
    pub required_approving_review_count: u32,
    /// Who may merge without the reviews; `None` when GitHub reports nobody.
    pub bypass_pull_request_allowances: Option<ReviewAllowances>,
}

/// Users (logins) and teams (slugs) named by a review rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviewAllowances {
    /// User logins.
    pub users: Vec<String>,
    /// Team slugs.
    pub teams: Vec<String>,
}

/// Who may push to a protected branch, as GitHub reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PushRestrictions {
    /// App slugs.
    pub apps: Vec<String>,
    /// User logins.
    pub users: Vec<String>,
    /// Team slugs.
    pub teams: Vec<String>,
}

/// The body of `PUT .../branches/{branch}/protection`, in upstream's
/// `github.BranchProtectionRequest` shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchProtectionRequest {
    /// Required contexts; `null` turns status checks off.
    pub required_status_checks: Option<RequiredStatusChecks>,
    /// Whether admins are held to the rules.
    pub enforce_admins: Option<bool>,
    /// Review requirements; `null` turns required reviews off.
    pub required_pull_request_reviews: Option<PullRequestReviewsRequest>,
    /// Who may push; `null` lets everyone with push access push.
    pub restrictions: Option<RestrictionsRequest>,
    /// Refuse merge commits.
    pub required_linear_history: bool,
    /// Let anyone with push access force-push.
    pub allow_force_pushes: bool,
    /// Let anyone with push access delete the branch.
    pub allow_deletions: bool,
}

/// Review requirements in a [`BranchProtectionRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequestReviewsRequest {
    /// Who may dismiss reviews (an empty object: no restriction).
    pub dismissal_restrictions: ReviewAllowancesRequest,
    /// New commits dismiss approving reviews.
    pub dismiss_stale_reviews: bool,
    /// Code owners must approve.
    pub require_code_owner_reviews: bool,
    /// Approving reviews needed.
    pub required_approving_review_count: i64,
    /// Who may merge without the reviews.
    pub bypass_pull_request_allowances: ReviewAllowancesRequest,
}

/// Users and teams in a review rule of a request; an unset list is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewAllowancesRequest {
    /// User logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// Team slugs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
}

/// Who may push, in a request; an unset list is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestrictionsRequest {
    /// App slugs (sent only when apps restrictions are enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<Vec<String>>,
    /// User logins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    /// Team slugs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub teams: Option<Vec<String>>,
}

impl ReviewAllowancesRequest {
    /// What GitHub reports after this was set: nothing when neither list was sent.
    fn reported(&self) -> Option<ReviewAllowances> {
        (self.users.is_some() || self.teams.is_some()).then(|| ReviewAllowances {
            users: self.users.clone().unwrap_or_default(),
            teams: self.teams.clone().unwrap_or_default(),
        })
    }
}

impl BranchProtection {
    /// The protection GitHub reports once `request` is applied to a branch (the in-memory
    /// fake uses it), with the commit-signature setting kept from `self`.
    pub fn applied(&self, request: &BranchProtectionRequest) -> BranchProtection {
        BranchProtection {
            required_status_checks: request.required_status_checks.clone(),
            enforce_admins: request.enforce_admins == Some(true),
            required_pull_request_reviews: request.required_pull_request_reviews.as_ref().map(
                |r| PullRequestReviews {
                    dismissal_restrictions: r.dismissal_restrictions.reported(),
                    dismiss_stale_reviews: r.dismiss_stale_reviews,
                    require_code_owner_reviews: r.require_code_owner_reviews,
                    required_approving_review_count: u32::try_from(
                        r.required_approving_review_count,
                    )
                    .unwrap_or_default(),
                    bypass_pull_request_allowances: r.bypass_pull_request_allowances.reported(),
                },
            ),
            restrictions: request.restrictions.as_ref().and_then(|r| {
                (r.apps.is_some() || r.users.is_some() || r.teams.is_some()).then(|| {
                    PushRestrictions {
                        apps: r.apps.clone().unwrap_or_default(),
                        users: r.users.clone().unwrap_or_default(),
                        teams: r.teams.clone().unwrap_or_default(),
                    }
                })
            }),
            required_linear_history: request.required_linear_history,
            allow_force_pushes: request.allow_force_pushes,
            allow_deletions: request.allow_deletions,
            required_signatures: self.required_signatures,
        }
    }
}
