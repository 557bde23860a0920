//! prow-config: everything read from Prow configuration.
//!
//! Owns `config.yaml`, job-config folders, presets, `plugins.yaml`, supplemental config
//! directories and in-repo `.prow.yaml` / `.prow/`; defaulting; validation that reports every
//! problem with file, line, field path and reason; and the rules that decide whether a job
//! matches a change (branches, `run_if_changed`, triggers).
//!
//! Must never know about: GitHub, Kubernetes, the network. Configuration is data in, values and
//! problems out.
//!
//! Entry point: [`load`] reads `--config-path` and `--job-config-path` as Prow does, applies
//! Prow's defaults (`defaults`) and load-time rules (`validate`), and returns the [`Config`]
//! with its warnings, or every error as [`Finding`]s (file, line when the YAML parser knows it,
//! field path, job, reason). `yaml11` bridges the YAML 1.1 habits Go accepts (octal modes,
//! merge keys, repeated keys). [`load_plugins`] does the same for `plugins.yaml` ([`plugins`]).

mod branches;
mod casefold;
mod defaults;
mod error;
mod files;
pub mod filter;
pub mod goregex;
mod index;
pub mod inrepo;
mod jobfiles;
mod jobs;
mod lines;
mod load;
mod locate;
mod matching;
pub mod orgrepo;
pub mod owners;
mod parallel;
mod parse;
pub mod plugins;
pub mod prow;
mod snapshot;
mod supplemental;
#[cfg(feature = "test-util")]
pub mod synthetic;
pub mod tide_plugins;
mod validate;
pub mod warnings;
mod yaml11;

pub use branches::{UNANCHORED_BRANCHES, unanchored_branches};
pub use defaults::default_trigger_for;
pub use error::{Error, Finding, Severity};
pub use filter::{
    Available, CommentDecision, Contexts, JobReason, NotSelected, Outcome, PresubmitFilter,
    Selected, available_presubmits, comment_matches_trigger, decide_comment, drop_code_block,
    evaluate, explain_postsubmit, explain_presubmit, filter_presubmits, help_message, help_note,
    is_help_comment, may_need_help_comment, prunes_help, why_postsubmits, why_presubmits,
};
pub use goregex::GoRegex;
pub use index::PresubmitIndex;
pub use jobfiles::read_job_config;
pub use jobs::{BaseMut, JobBase, JobConfig, Periodic, Postsubmit, Preset, Presubmit};
pub use load::{Config, DEFAULT_SUPPLEMENTAL_SUFFIX, LoadOptions, load};
pub use matching::{
    BranchVerdict, Brancher, ChangeMatcher, ChangeRule, ChangedFiles, ChangesError, Decision,
    LazyChanges, Why,
};
pub use parse::UNKNOWN_FIELD;
pub use plugins::{PluginConfig, PluginLoadOptions, load_plugins};
pub use prow::{
    DefaultDecorationConfigEntry, InRepoConfig, Plank, ProwConfig, ProwJobDefaultEntry, Raw, Sinker,
};
pub use snapshot::{ConfigPaths, ConfigSnapshot, SnapshotError, error_lines, load_snapshot};
pub use validate::{
    DEFAULT_WARNINGS, EXPENSIVE_WARNINGS, OPTIONAL_WARNINGS, WarningOptions, all_warnings,
    check_warnings,
};
