//! A merged branch-protection policy rendered as GitHub's request, and whether a branch's
//! current protection already equals it: upstream's `cmd/branchprotector/request.go` and the
//! `equal*` functions of `protect.go`. Pure.

use std::collections::BTreeSet;

use prow_config::prow::{BypassRestrictions, ContextPolicy, DismissalRestrictions, Policy};
use prow_config::prow::{Restrictions, ReviewPolicy};
use prow_github::types::{
    BranchProtection, BranchProtectionRequest, PullRequestReviews, PullRequestReviewsRequest,
    PushRestrictions, RequiredStatusChecks, RestrictionsRequest, ReviewAllowances,
    ReviewAllowancesRequest,
};

/// Sorted and without repeats (upstream's `sets.List(sets.New(...))`).
fn sorted(list: &[String]) -> Vec<String> {
    list.iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Upstream's `makeRequest`: the policy as the body of `PUT .../protection`. Apps restrictions
/// are sent only with `enable_apps_restrictions`.
pub fn make_request(policy: &Policy, enable_apps_restrictions: bool) -> BranchProtectionRequest {
    BranchProtectionRequest {
        // GitHub is meant to read null as "unset", which does not work: upstream sends false.
        enforce_admins: Some(policy.admins.unwrap_or(false)),
        required_pull_request_reviews: policy
            .required_pull_request_reviews
            .as_ref()
            .and_then(make_reviews),
        required_status_checks: policy.required_status_checks.as_ref().map(make_checks),
        restrictions: policy
            .restrictions
            .as_ref()
            .map(|r| make_restrictions(r, enable_apps_restrictions)),
        required_linear_history: policy.required_linear_history == Some(true),
        allow_force_pushes: policy.allow_force_pushes == Some(true),
        allow_deletions: policy.allow_deletions == Some(true),
    }
}

fn make_checks(cp: &ContextPolicy) -> RequiredStatusChecks {
    RequiredStatusChecks {
        contexts: sorted(&cp.contexts),
        strict: cp.strict == Some(true),
    }
}

fn make_allowances(users: &[String], teams: &[String]) -> ReviewAllowancesRequest {
    ReviewAllowancesRequest {
        users: Some(sorted(users)),
        teams: Some(sorted(teams)),
    }
}

fn make_dismissal(d: &DismissalRestrictions) -> ReviewAllowancesRequest {
    make_allowances(&d.users, &d.teams)
}

fn make_bypass(b: &BypassRestrictions) -> ReviewAllowancesRequest {
    make_allowances(&b.users, &b.teams)
}

fn make_restrictions(r: &Restrictions, enable_apps_restrictions: bool) -> RestrictionsRequest {
    RestrictionsRequest {
        apps: enable_apps_restrictions.then(|| sorted(&r.apps)),
        users: Some(sorted(&r.users)),
        teams: Some(sorted(&r.teams)),
    }
}

/// Upstream's `makeReviews`: `None` without `required_approving_review_count` (upstream warns
/// and turns required reviews off).
fn make_reviews(rp: &ReviewPolicy) -> Option<PullRequestReviewsRequest> {
    let Some(approvals) = rp.approvals else {
        tracing::warn!(
            "required_pull_request_reviews policy does not specify required_approving_review_count, disabling"
        );
        return None;
    };
    Some(PullRequestReviewsRequest {
        dismiss_stale_reviews: rp.dismiss_stale == Some(true),
        require_code_owner_reviews: rp.require_owners == Some(true),
        required_approving_review_count: approvals,
        dismissal_restrictions: rp
            .dismissal_restrictions
            .as_ref()
            .map(make_dismissal)
            .unwrap_or_default(),
        bypass_pull_request_allowances: rp
            .bypass_restrictions
            .as_ref()
            .map(make_bypass)
            .unwrap_or_default(),
    })
}

/// Upstream's `NormLogin`: logins compare without case and without a leading `@`.
fn norm_login(login: &str) -> String {
    login.trim_start_matches('@').to_lowercase()
}

/// Upstream's `equalStringSlices` on two set lists: same members, order ignored.
fn same(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

fn same_users(state: &[String], request: Option<&Vec<String>>) -> bool {
    let state: Vec<String> = state.iter().map(|u| norm_login(u)).collect();
    let request: Vec<String> = request
        .map(|r| r.iter().map(|u| norm_login(u)).collect())
        .unwrap_or_default();
    same(&state, &request)
}

fn same_teams(state: &[String], request: Option<&Vec<String>>) -> bool {
    // Upstream compares the address of GitHub's list with the request's pointer: an unset
    // request list never equals a reported rule, even an empty one.
    request.is_some_and(|r| same(state, r))
}

fn same_allowances(state: Option<&ReviewAllowances>, request: &ReviewAllowancesRequest) -> bool {
    match state {
        // GitHub leaves out a rule naming nobody; a request naming nobody is the same.
        None => request.users.is_none() && request.teams.is_none(),
        Some(s) => {
            same_teams(&s.teams, request.teams.as_ref())
                && same_users(&s.users, request.users.as_ref())
        }
    }
}

fn same_reviews(
    state: Option<&PullRequestReviews>,
    request: Option<&PullRequestReviewsRequest>,
) -> bool {
    match (state, request) {
        (None, None) => true,
        (Some(s), Some(r)) => {
            s.dismiss_stale_reviews == r.dismiss_stale_reviews
                && s.require_code_owner_reviews == r.require_code_owner_reviews
                && i64::from(s.required_approving_review_count) == r.required_approving_review_count
                && same_allowances(s.dismissal_restrictions.as_ref(), &r.dismissal_restrictions)
                && same_allowances(
                    s.bypass_pull_request_allowances.as_ref(),
                    &r.bypass_pull_request_allowances,
                )
        }
        _ => false,
    }
}

fn same_restrictions(
    state: Option<&PushRestrictions>,
    request: Option<&RestrictionsRequest>,
) -> bool {
    match (state, request) {
        (None, None) => true,
        // GitHub leaves out restrictions naming nobody; a request naming nobody is the same.
        (None, Some(r)) => r.apps.is_none() && r.users.is_none() && r.teams.is_none(),
        (Some(s), Some(r)) => {
            // Unset apps are no change (upstream: so that adding apps support broke nothing).
            let apps = r.apps.as_ref().is_none_or(|a| same(&s.apps, a));
            apps && same_teams(&s.teams, r.teams.as_ref()) && same_users(&s.users, r.users.as_ref())
        }
        (Some(_), None) => false,
    }
}

fn same_checks(
    state: Option<&RequiredStatusChecks>,
    request: Option<&RequiredStatusChecks>,
) -> bool {
    match (state, request) {
        (None, None) => true,
        (Some(s), Some(r)) => s.strict == r.strict && same(&s.contexts, &r.contexts),
        _ => false,
    }
}

/// Upstream's `equalBranchProtections`: whether GitHub's current protection (`None`:
/// unprotected) already is what `request` asks (`None`: no protection).
pub fn equal_protection(
    state: Option<&BranchProtection>,
    request: Option<&BranchProtectionRequest>,
) -> bool {
    match (state, request) {
        (None, None) => true,
        (Some(s), Some(r)) => {
            same_checks(
                s.required_status_checks.as_ref(),
                r.required_status_checks.as_ref(),
            )
                // No statement about admins means GitHub's default: admins not bound.
                && s.enforce_admins == r.enforce_admins.unwrap_or(false)
                && same_reviews(
                    s.required_pull_request_reviews.as_ref(),
                    r.required_pull_request_reviews.as_ref(),
                )
                && same_restrictions(s.restrictions.as_ref(), r.restrictions.as_ref())
                && s.allow_force_pushes == r.allow_force_pushes
                && s.required_linear_history == r.required_linear_history
                && s.allow_deletions == r.allow_deletions
        }
        _ => false,
    }
}

/// Upstream's `equalSeparateRequests`: whether commit signatures are already as `wanted`
/// (`None`: the policy says nothing about them).
pub fn equal_signatures(state: Option<&BranchProtection>, wanted: Option<bool>) -> bool {
    match wanted {
        None => true,
        Some(w) => state.is_some_and(|s| s.required_signatures) == w,
    }
}

/// The parts of `request` that GitHub's current protection does not have yet, by their
/// request field names (what a dry run shows).
pub fn differing_fields(
    state: &BranchProtection,
    request: &BranchProtectionRequest,
) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !same_checks(
        state.required_status_checks.as_ref(),
        request.required_status_checks.as_ref(),
    ) {
        out.push("required_status_checks");
    }
    if state.enforce_admins != request.enforce_admins.unwrap_or(false) {
        out.push("enforce_admins");
    }
    if !same_reviews(
        state.required_pull_request_reviews.as_ref(),
        request.required_pull_request_reviews.as_ref(),
    ) {
        out.push("required_pull_request_reviews");
    }
    if !same_restrictions(state.restrictions.as_ref(), request.restrictions.as_ref()) {
        out.push("restrictions");
    }
    if state.required_linear_history != request.required_linear_history {
        out.push("required_linear_history");
    }
    if state.allow_force_pushes != request.allow_force_pushes {
        out.push("allow_force_pushes");
    }
    if state.allow_deletions != request.allow_deletions {
        out.push("allow_deletions");
    }
    out
}
