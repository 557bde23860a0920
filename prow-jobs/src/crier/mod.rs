//! crier: reports ProwJob state changes to GitHub as Prow's crier does with its GitHub
//! reporter (upstream `pkg/crier`, `pkg/crier/reporters/github`, `pkg/github/report`).
//!
//! - [`status`] and [`comment`] decide, in pure code: whether a job is reported, the commit
//!   status it gets, and what happens to the failed-tests comment on its pull request.
//! - [`GitHubReporter`] carries those decisions out through
//!   [`GitHubClient`](prow_github::GitHubClient).
//! - [`sync_once`] and [`run`] drive it over a [`JobStore`](crate::store::JobStore): a job is
//!   reported when its state differs from `status.prev_report_states["github-reporter"]`, which
//!   is written back once GitHub has it, so each state is reported once and failures are
//!   retried on the next pass.
//! - The other reporters implement [`JobReporter`] and run under [`ReporterLoop`], each
//!   recording its own name in `prev_report_states`: [`SlackReporter`] (`slack_reporter_configs`
//!   and `reporter_config.slack`, posted to `chat.postMessage`) and [`GcsReporter`] (the job's
//!   `prowjob.json` in its artifacts). Templates are rendered by [`crate::template`].

pub mod comment;
mod controller;
#[cfg(feature = "test-util")]
pub mod fake_slack;
pub mod gcs;
mod github;
pub mod reporter;
pub mod slack;
pub mod status;

use prow_github::Error as GitHubError;

use crate::store::StoreError;

pub use comment::{CommentPlan, CommentWrite, plan_comment, summary_jobs};
pub use controller::{
    Crier, DEFAULT_RESYNC_PERIOD, MAX_UPDATE_ATTEMPTS, Reported, SyncReport, mark_reported,
    sync_job, sync_once,
};
pub use gcs::{GCS_REPORTER_NAME, GcsReporter};
pub use github::{GitHubReporter, ReportOutcome};
pub use reporter::{JobReporter, ReportedBy, ReporterLoop, ReporterPass};
pub use slack::{DEFAULT_SLACK_API, SLACK_REPORTER_NAME, SlackClient, SlackMessage, SlackReporter};
pub use status::{
    REPORTER_NAME, StatusUpdate, description_with_base_sha, should_report, status_update,
};

/// Why crier could not report a job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrierError {
    /// GitHub refused or failed a request.
    #[error("report prowjob {job:?} to github: {action}")]
    GitHub {
        /// The ProwJob's name.
        job: String,
        /// What was being done, such as `set status`.
        action: &'static str,
        /// GitHub's error.
        #[source]
        source: GitHubError,
    },
    /// Slack refused or failed the message, or it could not be made.
    #[error("report prowjob {job:?} to slack: {reason}")]
    Slack {
        /// The ProwJob's name.
        job: String,
        /// Why.
        reason: String,
    },
    /// Writing the job's state to its artifacts failed.
    #[error("upload prowjob {job:?} to its artifacts")]
    Storage {
        /// The ProwJob's name.
        job: String,
        /// The storage error.
        #[source]
        source: crate::Error,
    },
    /// The job store failed.
    #[error("report prowjob {job:?}: {action}")]
    Store {
        /// The ProwJob's name (empty when listing).
        job: String,
        /// What was being done, such as `record the reported state`.
        action: &'static str,
        /// The store's error.
        #[source]
        source: StoreError,
    },
}

impl CrierError {
    /// The name of the ProwJob the error is about (empty for a failed listing).
    pub fn job(&self) -> &str {
        match self {
            CrierError::GitHub { job, .. }
            | CrierError::Slack { job, .. }
            | CrierError::Storage { job, .. }
            | CrierError::Store { job, .. } => job,
        }
    }
}
