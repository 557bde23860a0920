//! The dry run's text: one block per branch in the plan's order, then a summary. Pure.

use std::fmt::Write;

use prow_github::types::{BranchProtectionRequest, ReviewAllowancesRequest};

use super::plan::{Action, Plan};
use super::request::differing_fields;

/// `[a, b]`.
fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// `users=[..] teams=[..]`, unset lists left out.
fn allowances(a: &ReviewAllowancesRequest) -> String {
    let mut parts = Vec::new();
    if let Some(users) = &a.users {
        parts.push(format!("users={}", list(users)));
    }
    if let Some(teams) = &a.teams {
        parts.push(format!("teams={}", list(teams)));
    }
    if parts.is_empty() {
        "none".to_owned()
    } else {
        parts.join(" ")
    }
}

/// The request, one setting a line; settings that are off are left out.
fn request_lines(out: &mut String, r: &BranchProtectionRequest) {
    if let Some(c) = &r.required_status_checks {
        let _ = writeln!(
            out,
            "  required_status_checks: strict={} contexts={}",
            c.strict,
            list(&c.contexts)
        );
    }
    if r.enforce_admins == Some(true) {
        out.push_str("  enforce_admins: true\n");
    }
    if let Some(p) = &r.required_pull_request_reviews {
        {
            let _ = writeln!(
                out,
                "  required_pull_request_reviews: approvals={} dismiss_stale_reviews={} require_code_owner_reviews={} dismissal_restrictions: {} bypass_pull_request_allowances: {}",
                p.required_approving_review_count,
                p.dismiss_stale_reviews,
                p.require_code_owner_reviews,
                allowances(&p.dismissal_restrictions),
                allowances(&p.bypass_pull_request_allowances),
            );
        }
    }
    if let Some(x) = &r.restrictions {
        {
            let mut parts = Vec::new();
            if let Some(apps) = &x.apps {
                parts.push(format!("apps={}", list(apps)));
            }
            if let Some(users) = &x.users {
                parts.push(format!("users={}", list(users)));
            }
            if let Some(teams) = &x.teams {
                parts.push(format!("teams={}", list(teams)));
            }
            let _ = writeln!(out, "  restrictions: {}", parts.join(" "));
        }
    }
    for (name, on) in [
        ("required_linear_history", r.required_linear_history),
        ("allow_force_pushes", r.allow_force_pushes),
        ("allow_deletions", r.allow_deletions),
    ] {
        if on {
            let _ = writeln!(out, "  {name}: true");
        }
    }
}

/// The plan as text: for each branch `PUT org/repo=branch` with the settings it turns on (and
/// what differs from GitHub now) or `DELETE org/repo=branch`, then the errors and a count.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let (mut puts, mut deletes) = (0, 0);
    for c in &plan.changes {
        let at = format!("{}/{}={}", c.org, c.repo, c.branch);
        match &c.action {
            Action::Remove => {
                deletes += 1;
                let _ = writeln!(out, "DELETE {at}");
            }
            Action::Update {
                request,
                signatures,
            } => {
                puts += 1;
                let now = match &c.current {
                    None => "unprotected now".to_owned(),
                    Some(current) => {
                        let differ = differing_fields(current, request);
                        if differ.is_empty() {
                            "protected now, commit signatures differ".to_owned()
                        } else {
                            format!("protected now, differs in {}", differ.join(", "))
                        }
                    }
                };
                let _ = writeln!(out, "PUT {at} ({now})");
                request_lines(&mut out, request);
                if let Some(s) = signatures {
                    let _ = writeln!(out, "  required_signatures: {s}");
                }
            }
        }
    }
    for e in &plan.errors {
        let _ = writeln!(out, "error: {e}");
    }
    let _ = writeln!(
        out,
        "{} to change ({puts} to protect or update, {deletes} to unprotect), {} already as configured, {} errors",
        puts + deletes,
        plan.unchanged,
        plan.errors.len()
    );
    out
}
