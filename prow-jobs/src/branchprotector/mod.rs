//! branchprotector: applies `branch-protection:` to GitHub as upstream's
//! `cmd/branchprotector` does. [`plan`] walks the configured orgs, repositories and branches
//! and lists the changes GitHub lacks; [`apply`] carries them out; [`render`] is the dry run's
//! text. The policy merging itself is `prow_config::prow::branch_protection`; the GitHub
//! request and its comparison with the current state are [`request`].

mod plan;
mod render;
pub mod request;

pub use plan::{Action, BranchChange, Options, Plan, apply, plan};
pub use render::render;
