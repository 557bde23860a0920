//! Tide: Prow's merge automation as pure decisions, plus the merge-queue strategies of prow-rs.
//!
//! Upstream: `pkg/tide/tide.go`, `status.go`, `blockers/`, `pkg/config/tide.go`. Nothing here
//! performs I/O; the tide controller feeds these functions what it read from GitHub and the
//! ProwJob store, and carries out the decisions.
//!
//! - [`context`]: PRs as tide sees them, contexts, the context policy, merge-method labels and
//!   whether a PR may merge at all;
//! - [`pool`]: subpools, accumulation of ProwJob results, batch selection and the sync action;
//! - [`status`]: the `tide` status context with Prow's texts;
//! - [`blockers`]: blocking issues;
//! - [`template`]: merge commit templates;
//! - [`strategy`]: merge-queue strategies (`tide`, `serial`, `bisect`, `speculative`);
//! - [`audit`]: an outside check that every merge was tested on the base it lands on.

pub mod audit;
mod base;
pub mod blockers;
pub mod context;
pub mod pool;
pub mod status;
pub mod strategy;
pub mod template;

pub use audit::{AuditStats, MergeAudit};
pub use blockers::Blocker;
pub use context::{
    AllowedMergeMethods, Context, ContextPolicy, ContextState, MergeBlocksPolicy, MergeLabels,
    MergeStateStatus, Mergeable, PullRequest, STATUS_CONTEXT,
};
pub use pool::{Accumulated, Action, BatchState, Subpool};
pub use status::{QueryRequirements, StatusInput, StatusState};
pub use strategy::{
    MergeQueue, PrNumber, QueueAction, QueueStats, RunId, RunOutcome, StrategyKind, StrategyOptions,
};
pub use template::{MergeTemplate, TemplateError};
