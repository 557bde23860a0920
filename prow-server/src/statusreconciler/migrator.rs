//! Retiring and moving status contexts on open pull requests, as upstream's
//! `statusreconciler/migrator`: [`plan`] decides from one head's statuses which statuses to
//! set; [`migrate`] applies a [`Mode`] to every open pull request of a repository.

use prow_github::GitHubClient;
use prow_github::types::{Status, StatusState};

/// What to do with a context.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Upstream's `RetireMode(context, "", "")`: where `context` is set, mark it retired
    /// without replacement.
    Retire {
        /// The context to retire.
        context: String,
    },
    /// Upstream's `MoveMode(from, to, "")`: where `from` is set and `to` is not, copy `from`'s
    /// state to `to` and retire `from` as moved to `to`.
    Move {
        /// The old context.
        from: String,
        /// The new context.
        to: String,
    },
}

/// Upstream's description of a context retired without replacement.
pub const RETIRED: &str = "Context retired without replacement.";

/// Upstream's description of a context whose status moved to `to`.
pub fn moved_description(to: &str) -> String {
    format!("Context retired. Status moved to \"{to}\".")
}

/// The statuses to set on a head whose current statuses are `statuses` (latest per context),
/// in order; empty when the mode's conditions do not hold there.
pub fn plan(mode: &Mode, statuses: &[Status]) -> Vec<Status> {
    // Upstream skips statuses without a context when matching conditions.
    let find = |context: &str| {
        statuses
            .iter()
            .find(|s| !s.context.is_empty() && s.context == context)
    };
    match mode {
        Mode::Retire { context } => match find(context) {
            Some(_) => vec![retired(context, RETIRED.to_owned())],
            None => Vec::new(),
        },
        Mode::Move { from, to } => match (find(from), find(to)) {
            (Some(old), None) => vec![
                Status {
                    state: old.state,
                    target_url: old.target_url.clone(),
                    description: old.description.clone(),
                    context: to.clone(),
                },
                retired(from, moved_description(to)),
            ],
            _ => Vec::new(),
        },
    }
}

fn retired(context: &str, description: String) -> Status {
    Status {
        state: StatusState::Success,
        target_url: None,
        description: Some(description),
        context: context.to_owned(),
    }
}

/// How [`migrate`] goes about it.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct MigrateOptions {
    /// Go on with the next pull request when one fails (`--continue-on-error`).
    pub continue_on_error: bool,
    /// Log the statuses instead of setting them (`--dry-run`).
    pub dry_run: bool,
}

/// Applies `mode` to the head of every open pull request of `org/repo` whose base branch
/// `branch_filter` accepts. Answers the problems met: one per failed pull request with
/// `continue_on_error`, otherwise at most the first.
pub async fn migrate(
    github: &dyn GitHubClient,
    (org, repo): (&str, &str),
    mode: &Mode,
    branch_filter: impl Fn(&str) -> bool,
    options: MigrateOptions,
) -> Vec<String> {
    let prs = match github.pull_requests(org, repo).await {
        Ok(prs) => prs,
        Err(e) => return vec![format!("list the pull requests of {org}/{repo}: {e}")],
    };
    let mut errors = Vec::new();
    for pr in prs.iter().filter(|pr| branch_filter(&pr.base.git_ref)) {
        let sha = pr.head.sha.as_str();
        let outcome = async {
            let combined = github
                .combined_status(org, repo, sha)
                .await
                .map_err(|e| format!("read the statuses of {org}/{repo}@{sha}: {e}"))?;
            for status in plan(mode, &combined.statuses) {
                if options.dry_run {
                    tracing::info!(org, repo, pr = pr.number, sha, context = %status.context, state = ?status.state, description = status.description.as_deref().unwrap_or_default(), "dry run: would set status");
                    continue;
                }
                tracing::info!(org, repo, pr = pr.number, sha, context = %status.context, state = ?status.state, "setting status");
                github
                    .create_status(org, repo, sha, &status)
                    .await
                    .map_err(|e| {
                        format!(
                            "set status {} on {org}/{repo}#{}: {e}",
                            status.context, pr.number
                        )
                    })?;
            }
            Ok::<(), String>(())
        }
        .await;
        if let Err(e) = outcome {
            errors.push(e);
            if !options.continue_on_error {
                break;
            }
        }
    }
    errors
}
