//! The ProwJobs tide starts (retests and batches, built the way trigger builds presubmits) and
//! what it reads back from them.

use std::collections::BTreeMap;

use prow_config::Presubmit;
use prow_core::k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use prow_core::k8s_openapi::jiff::Timestamp;
use prow_core::labels::CREATED_BY_TIDE;
use prow_core::tide::strategy::RunOutcome;
use prow_core::tide::{Context, ContextState, PullRequest};
use prow_core::{ProwJob, ProwJobState, Pull};
use prow_jobs::pjutil;
use prow_jobs::store::JobStore;

use super::TideError;

/// The presubmits of `org/repo` that decide whether PRs to `branch` may merge: those whose
/// context is required (not optional, reported) and which run on the branch.
pub(crate) fn branch_presubmits<'a>(
    presubmits: &'a [Presubmit],
    branch: &str,
) -> Vec<&'a Presubmit> {
    presubmits
        .iter()
        .filter(|j| j.context_required() && j.could_run(branch))
        .collect()
}

/// The contexts tide requires of one PR: always-run presubmits, and presubmits with a change
/// rule that reported on the PR's head (they run for its changes). Presubmits run only on
/// demand are not required, as in Prow.
pub(crate) fn required_contexts(jobs: &[&Presubmit], contexts: &[Context]) -> Vec<String> {
    let mut out: Vec<String> = jobs
        .iter()
        .filter(|j| {
            j.always_run
                || (j.has_change_rule()
                    && contexts
                        .iter()
                        .any(|c| c.name == j.context && c.state != ContextState::Expected))
        })
        .map(|j| j.context.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn pull_of(pr: &PullRequest) -> Pull {
    Pull {
        number: pr.number,
        author: pr.author.clone(),
        sha: pr.head_sha.clone(),
        title: pr.title.clone(),
        head_ref: pr.head_ref.clone(),
        ..Pull::default()
    }
}

/// The refs of a run testing `prs` (in merge order) on `base_sha` of `branch`.
pub(crate) fn refs_for(
    org: &str,
    repo: &str,
    branch: &str,
    base_sha: &str,
    prs: &[&PullRequest],
) -> Option<prow_core::Refs> {
    let first = prs.first()?;
    let mut refs = pjutil::pull_refs(org, repo, branch, base_sha, pull_of(first));
    for pr in &prs[1..] {
        let one = pjutil::pull_refs(org, repo, branch, base_sha, pull_of(pr));
        refs.pulls.extend(one.pulls);
    }
    Some(refs)
}

/// Builds the ProwJobs of one run: a `presubmit` for a single PR, a `batch` for several, for
/// every presubmit whose context is in `contexts`.
pub(crate) fn build_run(
    jobs: &[&Presubmit],
    contexts: &[String],
    refs: &prow_core::Refs,
    now: Timestamp,
) -> Result<Vec<ProwJob>, TideError> {
    let mut extra = BTreeMap::new();
    extra.insert(CREATED_BY_TIDE.to_owned(), "true".to_owned());
    let batch = refs.pulls.len() > 1;
    let mut out = Vec::new();
    for job in jobs.iter().filter(|j| contexts.contains(&j.context)) {
        let spec = if batch {
            pjutil::batch_spec(job, refs.clone())
        } else {
            pjutil::presubmit_spec(job, refs.clone())
        }
        .map_err(|e| TideError::Job {
            job: job.name.clone(),
            reason: e.to_string(),
        })?;
        let labels = pjutil::presubmit_labels(job, "", &extra);
        out.push(pjutil::new_prowjob(
            spec,
            &labels,
            &job.annotations,
            Time(now),
        ));
    }
    Ok(out)
}

/// Creates jobs in the store; returns their names.
pub(crate) async fn create_all(
    store: &dyn JobStore,
    jobs: Vec<ProwJob>,
) -> Result<Vec<String>, TideError> {
    let mut names = Vec::new();
    for job in jobs {
        let name = job.spec.job.clone();
        let created = store.create(job).await.map_err(|e| TideError::Store {
            what: format!("create ProwJob for {name}"),
            reason: e.to_string(),
        })?;
        names.push(created.metadata.name.unwrap_or_default());
    }
    Ok(names)
}

fn finished(state: ProwJobState) -> bool {
    matches!(
        state,
        ProwJobState::Success | ProwJobState::Failure | ProwJobState::Aborted | ProwJobState::Error
    )
}

/// The outcome of a run once every one of its jobs finished; `None` while any runs. A job
/// that disappeared from the store counts as failed.
pub(crate) async fn run_outcome(
    store: &dyn JobStore,
    names: &[String],
) -> Result<Option<RunOutcome>, TideError> {
    let mut failed = Vec::new();
    for name in names {
        let job = store.get(name).await.map_err(|e| TideError::Store {
            what: format!("read ProwJob {name}"),
            reason: e.to_string(),
        })?;
        let Some(job) = job else {
            failed.push(name.clone());
            continue;
        };
        let state = job.status.as_ref().map(|s| s.state).unwrap_or_default();
        if !finished(state) {
            return Ok(None);
        }
        if state != ProwJobState::Success && !failed.contains(&job.spec.job) {
            failed.push(job.spec.job.clone());
        }
    }
    Ok(Some(if failed.is_empty() {
        RunOutcome::pass()
    } else {
        RunOutcome::fail(failed)
    }))
}

/// Aborts the jobs of a run whose result no longer matters (finished jobs are left alone;
/// plank stops their pods and completes them).
pub(crate) async fn abort_all(
    store: &dyn JobStore,
    names: &[String],
    why: &str,
) -> Result<(), TideError> {
    for name in names {
        prow_jobs::abort::abort(store, name, prow_jobs::abort::AbortOptions::describe(why))
            .await
            .map_err(|e| TideError::Store {
                what: format!("abort ProwJob {name}"),
                reason: e.to_string(),
            })?;
    }
    Ok(())
}
