//! status-reconciler, as upstream's `cmd/status-reconciler` and `pkg/statusreconciler`: when
//! the job configuration changes, open pull requests get the newly required presubmits run
//! (on trusted pull requests only), the contexts of removed presubmits retired and renamed
//! contexts moved, so that no pull request waits for a status nothing will ever set.
//!
//! [`diff`] decides what a change means, [`migrator`] plans and sets statuses, and
//! [`StatusReconciler`] is the controller run by [`prow_jobs::controller::drive`].
//!
//! As upstream, only the central presubmits (`presubmits:` in the job configuration) are
//! compared: in-repo presubmits (`.prow.yaml`) change with the pull request itself, whose push
//! runs them through trigger.

mod controller;
pub mod diff;
pub mod migrator;
mod state;

pub use controller::{Options, StatusReconciler};
