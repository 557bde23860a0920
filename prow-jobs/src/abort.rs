//! Aborting a ProwJob, the one way plank (superseded presubmits), tide (runs no longer
//! needed), deck (the abort button) and hook (plugins' aborts) all do it.
//!
//! As upstream's `pjutil.TerminateOlderJobs` says, aborting only marks the job: its state
//! becomes `aborted` with a description, and the agent that runs it (plank) reacts by stopping
//! the pod and then completing the job. The job is read afresh and the write retried when
//! someone else (plank moving it along, crier recording a report) changed it in between; a job
//! that completed meanwhile is left as it is.

use prow_core::{ProwJob, ProwJobState};

use crate::store::{JobStore, StoreError};

/// How many times a conflicting write is retried before the conflict is returned.
pub const MAX_ATTEMPTS: usize = 5;

/// What [`abort`] found.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Aborted {
    /// The job is now aborted; the stored version.
    Now(Box<ProwJob>),
    /// The job had completed already and was left alone.
    AlreadyComplete,
    /// No job has that name.
    NotFound,
}

/// How to abort.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AbortOptions<'a> {
    /// The job's new `status.description` (none keeps the one it has, as trigger's abort of a
    /// closed pull request's jobs does).
    pub description: Option<&'a str>,
    /// Also record the abort as reported to GitHub, so crier does not report it (plank does
    /// this for presubmits a newer run superseded: the newer run reports the context).
    pub quiet: bool,
}

impl<'a> AbortOptions<'a> {
    /// Abort with this description, reported as any other state.
    pub fn describe(description: &'a str) -> Self {
        AbortOptions {
            description: Some(description),
            quiet: false,
        }
    }

    /// The same, recorded as already reported.
    pub fn quiet(mut self) -> Self {
        self.quiet = true;
        self
    }
}

/// Marks the ProwJob `name` aborted (see the module docs).
pub async fn abort(
    store: &dyn JobStore,
    name: &str,
    options: AbortOptions<'_>,
) -> Result<Aborted, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Some(mut job) = store.get(name).await? else {
            return Ok(Aborted::NotFound);
        };
        if job.is_complete() {
            return Ok(Aborted::AlreadyComplete);
        }
        let status = job.status.get_or_insert_default();
        status.state = ProwJobState::Aborted;
        if let Some(description) = options.description {
            description.clone_into(&mut status.description);
        }
        if options.quiet {
            status.prev_report_states.insert(
                crate::crier::REPORTER_NAME.to_owned(),
                ProwJobState::Aborted,
            );
        }
        match store.update(job).await {
            Ok(stored) => {
                tracing::info!(
                    prowjob = name,
                    "aborted prowjob {name}: {}",
                    options.description.unwrap_or_default()
                );
                return Ok(Aborted::Now(Box::new(stored)));
            }
            Err(StoreError::NotFound { .. }) => return Ok(Aborted::NotFound),
            Err(StoreError::Conflict { .. }) if attempt < MAX_ATTEMPTS => {}
            Err(e) => return Err(e),
        }
    }
}
