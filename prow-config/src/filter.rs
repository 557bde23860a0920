//! Which presubmits a comment or a pull-request event starts (Prow's `pkg/pjutil/filter.go`),
//! and the `/test` help reply (`pkg/pjutil/help.go`).
//!
//! A [`PresubmitFilter`] is built from a comment body. It keeps Prow's order: an explicit
//! trigger (`/test foo`) first, then `/retest`, `/retest-required`, `/test-manual-required`,
//! and `/ok-to-test` or `/test all`; the first filter that matches a job decides how it runs.
//!
//! The commands are upstream's regexes, copied verbatim and read with Go's classes
//! ([`GoRegex`]): a command counts only at the very start of a line (`(?m)^/retest`), so an
//! indented (`    /ok-to-test`, Markdown code) or quoted (`> /retest`) one never does, and
//! they are case-sensitive as upstream's are. Trigger itself drops fenced code blocks from the
//! comment first ([`drop_code_block`]) to decide whether it is concerned at all, handle
//! `/ok-to-test` and the help reply; like upstream it then builds the [`PresubmitFilter`] from
//! the whole comment.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

use crate::goregex::GoRegex;
use crate::jobs::Presubmit;
use crate::matching::{BranchVerdict, ChangedFiles, ChangesError, Decision, Why};

const FILTER_GO: &str = "pkg/pjutil/filter.go";
const HELP_GO: &str = "pkg/pjutil/help.go";

/// `/test all` (upstream `TestAllRe`).
pub static TEST_ALL_RE: GoRegex = GoRegex::new(FILTER_GO, r"(?m)^/test all,?($|\s.*)");
/// `/retest` (upstream `RetestRe`).
pub static RETEST_RE: GoRegex = GoRegex::new(FILTER_GO, r"(?m)^/retest\s*$");
/// `/retest-required` (upstream `RetestRequiredRe`).
pub static RETEST_REQUIRED_RE: GoRegex = GoRegex::new(FILTER_GO, r"(?m)^/retest-required\s*$");
/// `/test-manual-required` (upstream `TestManualRequiredRe`).
pub static TEST_MANUAL_REQUIRED_RE: GoRegex =
    GoRegex::new(FILTER_GO, r"(?m)^/test-manual-required\s*$");
/// `/ok-to-test` (upstream `OkToTestRe`).
pub static OK_TO_TEST_RE: GoRegex = GoRegex::new(FILTER_GO, r"(?m)^/ok-to-test\s*$");
/// `/ok-to-test cancel` (upstream `OkToTestCancelRe`).
pub static OK_TO_TEST_CANCEL_RE: GoRegex =
    GoRegex::new(FILTER_GO, r"(?m)^/ok-to-test\s+cancel\s*$");
/// `/test ?` (upstream `TestHelpRe`).
pub static TEST_HELP_RE: GoRegex = GoRegex::new(HELP_GO, r"(?m)^/test[ \t]*\?\s*$");
/// `/test` with nothing after it (upstream `EmptyTestRe`).
pub static EMPTY_TEST_RE: GoRegex = GoRegex::new(HELP_GO, r"(?m)^/test\s*$");
/// `/retest <something>` (upstream `RetestWithTargetRe`).
pub static RETEST_WITH_TARGET_RE: GoRegex = GoRegex::new(HELP_GO, r"(?m)^/retest[ \t]+\S+");
/// `/test <something>` (upstream `TestWithAnyTargetRe`).
pub static TEST_WITH_ANY_TARGET_RE: GoRegex = GoRegex::new(HELP_GO, r"(?m)^/test[ \t]+\S+");
/// Any `/test` or `/retest` (upstream `anyTestRe`).
pub static ANY_TEST_RE: GoRegex = GoRegex::new(HELP_GO, r"(?m)^/(?:re)?test\b");
/// A fenced code block at the start of a line (upstream `codeBlockRe`).
pub static CODE_BLOCK_RE: GoRegex = GoRegex::new(
    "pkg/markdown/code_block.go",
    "(?msU)^```.*(\n```\n|\n```$)|(?msU)^~~~.*(\n~~~\n|\n~~~$)",
);

/// Upstream's `markdown.DropCodeBlock`: `text` without its fenced code blocks. As upstream's
/// regex reads them, a block opens with three backticks (or tildes) at the start of a line and
/// closes at the next line that is exactly those three characters; an indented fence, or one
/// never closed, stays.
pub fn drop_code_block(text: &str) -> Cow<'_, str> {
    CODE_BLOCK_RE.replace_all(text, "")
}

/// Upstream trigger's `commentMatchesTrigger`: whether `text` (a comment with its code blocks
/// dropped) holds one of trigger's commands or matches some presubmit's trigger.
pub fn comment_matches_trigger(text: &str, presubmits: &[Presubmit]) -> bool {
    RETEST_RE.is_match(text)
        || RETEST_REQUIRED_RE.is_match(text)
        || TEST_MANUAL_REQUIRED_RE.is_match(text)
        || OK_TO_TEST_RE.is_match(text)
        || OK_TO_TEST_CANCEL_RE.is_match(text)
        || TEST_ALL_RE.is_match(text)
        || may_need_help_comment(text)
        || presubmits.iter().any(|p| p.trigger_matches(text))
}

/// The note for `/test` without targets.
pub const TEST_WITHOUT_TARGET_NOTE: &str = "The `/test` command needs one or more targets.\n";
/// The note for `/retest` with targets.
pub const RETEST_WITH_TARGET_NOTE: &str = "The `/retest` command does not accept any targets.\n";
/// The note for `/test` naming no known job.
pub const TARGET_NOT_FOUND_NOTE: &str = "The specified target(s) for `/test` were not found.\n";
/// The note for `/test all` when nothing runs with it.
pub const NO_TEST_ALL_JOBS_NOTE: &str = "No jobs can be run with `/test all`.\n";
const REQUIRED_NOTE: &str = "The following commands are available to trigger required jobs:";
const OPTIONAL_NOTE: &str = "The following commands are available to trigger optional jobs:";

/// Contexts of the pull request's head commit: the failed (failure or error) ones and all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contexts {
    /// Contexts whose state is failure or error.
    pub failed: HashSet<String>,
    /// Every context reported so far.
    pub all: HashSet<String>,
}

/// One of Prow's filters.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    /// A job whose trigger matches the comment is forced.
    Command(String),
    /// `/retest`: failed contexts, and automatic jobs not yet reported.
    Retest(Contexts),
    /// `/retest-required`: as `/retest`, never optional jobs.
    RetestRequired(Contexts),
    /// `/test-manual-required`: required jobs that only run when asked.
    TestManualRequired,
    /// `/test all`, `/ok-to-test` or a new pull request: every job that does not need an
    /// explicit trigger, subject to its change rule.
    TestAll,
}

/// How a filter selected a job: Prow's `(matches, forced, defaultBehavior)` and which filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selected {
    /// The comment names it (its trigger matched).
    Command,
    /// `/retest` and its context failed.
    RetestFailed,
    /// `/retest` and its context has not been reported.
    RetestUnreported,
    /// `/retest-required` and its context failed.
    RetestRequiredFailed,
    /// `/retest-required` and its context has not been reported.
    RetestRequiredUnreported,
    /// `/test-manual-required`.
    TestManualRequired,
    /// `/test all`, `/ok-to-test` or a pull request event.
    TestAll,
}

impl Selected {
    /// Whether the job runs regardless of its change rule.
    pub fn forced(self) -> bool {
        matches!(self, Self::Command | Self::TestManualRequired)
    }

    /// Whether the job runs when no change rule says otherwise.
    pub fn defaults(self) -> bool {
        matches!(
            self,
            Self::Command | Self::RetestFailed | Self::RetestRequiredFailed
        )
    }
}

/// Why no filter selected a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotSelected {
    /// The comment does not name it.
    NotRequested,
    /// It only runs when asked with its trigger.
    NeedsExplicitTrigger,
    /// `/retest`: its context did not fail.
    ContextNotFailed,
    /// `/retest-required` does not rerun optional jobs.
    Optional,
}

/// Prow's `PresubmitFilter`: the filters a comment (or a pull-request event) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresubmitFilter {
    filters: Vec<Filter>,
}

impl PresubmitFilter {
    /// The filter for a new or updated pull request (Prow's `TestAllFilter`).
    pub fn test_all() -> Self {
        Self {
            filters: vec![Filter::TestAll],
        }
    }

    /// The filter for a comment. `contexts` is called only when the comment holds `/retest`
    /// or `/retest-required`; `honor_ok_to_test` is false when the repository sets
    /// `ignore_ok_to_test`.
    pub fn for_comment<E>(
        body: &str,
        honor_ok_to_test: bool,
        contexts: impl FnOnce() -> Result<Contexts, E>,
    ) -> Result<Self, E> {
        let mut filters = vec![Filter::Command(body.to_owned())];
        let retest = RETEST_RE.is_match(body);
        let retest_required = RETEST_REQUIRED_RE.is_match(body);
        if retest || retest_required {
            let contexts = contexts()?;
            if retest {
                filters.push(Filter::Retest(contexts.clone()));
            }
            if retest_required {
                filters.push(Filter::RetestRequired(contexts));
            }
        }
        if TEST_MANUAL_REQUIRED_RE.is_match(body) {
            filters.push(Filter::TestManualRequired);
        }
        if (honor_ok_to_test && OK_TO_TEST_RE.is_match(body)) || TEST_ALL_RE.is_match(body) {
            filters.push(Filter::TestAll);
        }
        Ok(Self { filters })
    }

    /// The comment this filter was built from, if any.
    pub fn comment(&self) -> Option<&str> {
        self.filters.iter().find_map(|f| match f {
            Filter::Command(body) => Some(body.as_str()),
            _ => None,
        })
    }

    /// Whether the filter can select jobs only by their trigger (a plain `/test foo`).
    pub fn is_command_only(&self) -> bool {
        matches!(self.filters.as_slice(), [Filter::Command(_)])
    }

    /// Whether any filter selects the job, and how (the first that does wins).
    pub fn select(&self, job: &Presubmit) -> Result<Selected, NotSelected> {
        let mut why_not = NotSelected::NotRequested;
        for filter in &self.filters {
            let (selected, not) = match filter {
                Filter::Command(body) => (
                    job.trigger_matches(body).then_some(Selected::Command),
                    NotSelected::NotRequested,
                ),
                Filter::Retest(contexts) => retest(job, contexts, false),
                Filter::RetestRequired(contexts) => retest(job, contexts, true),
                Filter::TestManualRequired => {
                    let ok = !job.optional && job.needs_explicit_trigger();
                    (
                        ok.then_some(Selected::TestManualRequired),
                        NotSelected::NeedsExplicitTrigger,
                    )
                }
                Filter::TestAll => (
                    (!job.needs_explicit_trigger()).then_some(Selected::TestAll),
                    NotSelected::NeedsExplicitTrigger,
                ),
            };
            if let Some(selected) = selected {
                return Ok(selected);
            }
            why_not = not;
        }
        Err(why_not)
    }
}

fn retest(job: &Presubmit, contexts: &Contexts, required: bool) -> (Option<Selected>, NotSelected) {
    if required && job.optional {
        return (None, NotSelected::Optional);
    }
    let failed = contexts.failed.contains(&job.context);
    let unreported = !job.needs_explicit_trigger() && !contexts.all.contains(&job.context);
    let selected = match (failed, unreported, required) {
        (true, _, false) => Some(Selected::RetestFailed),
        (true, _, true) => Some(Selected::RetestRequiredFailed),
        (false, true, false) => Some(Selected::RetestUnreported),
        (false, true, true) => Some(Selected::RetestRequiredUnreported),
        (false, false, _) => None,
    };
    let not = if job.needs_explicit_trigger() {
        NotSelected::NeedsExplicitTrigger
    } else {
        NotSelected::ContextNotFailed
    };
    (selected, not)
}

/// The outcome for one presubmit: selected by a filter (then decided) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// A filter selected the job and `Presubmit::decide` ruled.
    Selected(Selected, Decision<'a>),
    /// No filter selected the job.
    NotSelected(NotSelected),
}

impl Outcome<'_> {
    /// Whether the job runs.
    pub fn runs(&self) -> bool {
        matches!(self, Self::Selected(_, d) if d.runs)
    }
}

/// Runs the filter and the job's own rules for one presubmit.
pub fn evaluate<'a>(
    filter: &PresubmitFilter,
    job: &Presubmit,
    branch: &str,
    changes: &'a (impl ChangedFiles + ?Sized),
) -> Result<Outcome<'a>, ChangesError> {
    match filter.select(job) {
        Ok(selected) => {
            let decision = job.decide(branch, changes, selected.forced(), selected.defaults())?;
            Ok(Outcome::Selected(selected, decision))
        }
        Err(not) => Ok(Outcome::NotSelected(not)),
    }
}

/// Prow's `FilterPresubmits`: the presubmits to start, in configuration order.
pub fn filter_presubmits<'j>(
    filter: &PresubmitFilter,
    changes: &(impl ChangedFiles + ?Sized),
    branch: &str,
    presubmits: &'j [Presubmit],
) -> Result<Vec<&'j Presubmit>, ChangesError> {
    let mut out = Vec::new();
    for job in presubmits {
        if evaluate(filter, job, branch, changes)?.runs() {
            out.push(job);
        }
    }
    Ok(out)
}

/// A sentence saying why a presubmit runs or not, as `prow triggers` prints it.
pub fn explain_presubmit(
    job: &Presubmit,
    branch: &str,
    outcome: &Outcome<'_>,
    comment: Option<&str>,
) -> String {
    match outcome {
        Outcome::NotSelected(not) => match not {
            NotSelected::NotRequested if comment.is_some() => {
                format!(
                    "not requested by the comment (rerun with {:?})",
                    job.rerun_command
                )
            }
            NotSelected::NotRequested | NotSelected::NeedsExplicitTrigger => {
                format!("needs an explicit /test ({})", job.rerun_command)
            }
            NotSelected::ContextNotFailed => "/retest: context did not fail".to_owned(),
            NotSelected::Optional => "/retest-required: optional job".to_owned(),
        },
        Outcome::Selected(selected, decision) => {
            let pattern = if job.run_if_changed.is_empty() {
                &job.skip_if_only_changed
            } else {
                &job.run_if_changed
            };
            let why = explain_why(branch, decision, pattern, |b, v| {
                explain_branch(job.brancher().ok(), b, v)
            });
            let why = match decision.why {
                Why::Forced if *selected == Selected::Command => {
                    let line = comment
                        .and_then(|c| job.trigger_match(c))
                        .unwrap_or_default();
                    format!("forced by {line}")
                }
                Why::Forced => "forced by /test-manual-required".to_owned(),
                _ => why,
            };
            match selected {
                Selected::RetestFailed | Selected::RetestRequiredFailed
                    if decision.why == Why::Default(true) =>
                {
                    format!(
                        "{}: context failed",
                        if *selected == Selected::RetestFailed {
                            "/retest"
                        } else {
                            "/retest-required"
                        }
                    )
                }
                Selected::RetestFailed => format!("/retest: context failed; {why}"),
                Selected::RetestUnreported => format!("/retest: context not yet reported; {why}"),
                Selected::RetestRequiredFailed => {
                    format!("/retest-required: context failed; {why}")
                }
                Selected::RetestRequiredUnreported => {
                    format!("/retest-required: context not yet reported; {why}")
                }
                Selected::Command if !matches!(decision.why, Why::Forced) => {
                    format!("requested by the comment; {why}")
                }
                _ => why,
            }
        }
    }
}

/// A sentence saying why a postsubmit runs for a push or not, as `prow triggers` prints it.
pub fn explain_postsubmit(
    job: &crate::jobs::Postsubmit,
    branch: &str,
    decision: &Decision<'_>,
) -> String {
    let pattern = if job.run_if_changed.is_empty() {
        &job.skip_if_only_changed
    } else {
        &job.run_if_changed
    };
    explain_why(branch, decision, pattern, |b, v| {
        explain_branch(job.brancher().ok(), b, v)
    })
}

/// One job in a "why did it (not) run" report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JobReason {
    /// The job name.
    pub name: String,
    /// Its GitHub status context.
    pub context: String,
    /// Whether it runs.
    pub runs: bool,
    /// Why, in one sentence.
    pub reason: String,
}

/// For every presubmit, whether `filter` starts it on `branch` and why.
pub fn why_presubmits(
    filter: &PresubmitFilter,
    changes: &(impl ChangedFiles + ?Sized),
    branch: &str,
    presubmits: &[Presubmit],
) -> Result<Vec<JobReason>, ChangesError> {
    let mut out = Vec::with_capacity(presubmits.len());
    for job in presubmits {
        let outcome = evaluate(filter, job, branch, changes)?;
        out.push(JobReason {
            name: job.name.clone(),
            context: job.context.clone(),
            runs: outcome.runs(),
            reason: explain_presubmit(job, branch, &outcome, filter.comment()),
        });
    }
    Ok(out)
}

/// Trigger's decision about a whole pull-request comment, apart from who may ask: which
/// presubmits it runs and whether it gets the `/test` help reply instead. The trigger plugin
/// and `prow triggers` both decide with [`decide_comment`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommentDecision {
    /// Whether the comment has a trigger command outside fenced code blocks at all.
    pub concerns_trigger: bool,
    /// The help reply's note when trigger answers with the help comment (and runs nothing).
    pub help: Option<String>,
    /// Every presubmit, whether the comment runs it and why.
    pub jobs: Vec<JobReason>,
}

impl CommentDecision {
    /// The names of the presubmits the comment runs.
    pub fn runs(&self) -> impl Iterator<Item = &str> {
        self.jobs.iter().filter(|j| j.runs).map(|j| j.name.as_str())
    }
}

/// Decides a comment as upstream's `handleGenericComment` does once the commenter may trigger:
/// code blocks dropped before deciding whether the comment concerns trigger, `/ok-to-test
/// cancel` and help requests running nothing, the job filter reading the whole comment.
pub fn decide_comment(
    body: &str,
    honor_ok_to_test: bool,
    contexts: Contexts,
    changes: &(impl ChangedFiles + ?Sized),
    branch: &str,
    presubmits: &[Presubmit],
) -> Result<CommentDecision, ChangesError> {
    let text = drop_code_block(body);
    let Ok(filter) = PresubmitFilter::for_comment(body, honor_ok_to_test, || {
        Ok::<_, std::convert::Infallible>(contexts)
    });
    let mut jobs = why_presubmits(&filter, changes, branch, presubmits)?;
    let silence = |jobs: &mut Vec<JobReason>, why: &str| {
        for job in jobs.iter_mut().filter(|j| j.runs) {
            job.runs = false;
            job.reason = why.to_owned();
        }
    };
    if !comment_matches_trigger(&text, presubmits) {
        silence(&mut jobs, "no trigger command outside code blocks");
        return Ok(CommentDecision {
            concerns_trigger: false,
            help: None,
            jobs,
        });
    }
    if honor_ok_to_test && OK_TO_TEST_CANCEL_RE.is_match(&text) {
        silence(&mut jobs, "/ok-to-test cancel runs nothing");
        return Ok(CommentDecision {
            concerns_trigger: true,
            help: None,
            jobs,
        });
    }
    let count = jobs.iter().filter(|j| j.runs).count();
    let help = if may_need_help_comment(&text) {
        help_note(&text, count).map(str::to_owned)
    } else {
        None
    };
    if help.is_some() {
        silence(&mut jobs, "the comment gets the help reply instead");
    }
    Ok(CommentDecision {
        concerns_trigger: true,
        help,
        jobs,
    })
}

/// For every postsubmit, whether a push to `branch` starts it and why.
pub fn why_postsubmits(
    changes: &(impl ChangedFiles + ?Sized),
    branch: &str,
    postsubmits: &[crate::jobs::Postsubmit],
) -> Result<Vec<JobReason>, ChangesError> {
    let mut out = Vec::with_capacity(postsubmits.len());
    for job in postsubmits {
        let decision = job.decide(branch, changes)?;
        out.push(JobReason {
            name: job.name.clone(),
            context: job.context.clone(),
            runs: decision.runs,
            reason: explain_postsubmit(job, branch, &decision),
        });
    }
    Ok(out)
}

/// The reason a branch verdict names, with the deciding patterns.
pub(crate) fn explain_branch(
    brancher: Option<&crate::matching::Brancher>,
    branch: &str,
    verdict: BranchVerdict,
) -> String {
    let patterns = brancher
        .map(|b| b.deciding_patterns(branch, verdict).join(" "))
        .unwrap_or_default();
    match verdict {
        BranchVerdict::Skipped => format!("branch {branch} excluded by skip_branches {patterns}"),
        BranchVerdict::NotListed => format!("branch {branch} not matched by branches {patterns}"),
        BranchVerdict::Included => format!("branch {branch} matched by branches {patterns}"),
        BranchVerdict::AllBranches => "runs on all branches".to_owned(),
    }
}

/// The reason a job decision names.
pub(crate) fn explain_why(
    branch: &str,
    decision: &Decision<'_>,
    pattern: &str,
    branch_reason: impl Fn(&str, BranchVerdict) -> String,
) -> String {
    match decision.why {
        Why::Branch(verdict) => branch_reason(branch, verdict),
        Why::InvalidRegex => "a branch or change regex does not compile".to_owned(),
        Why::AlwaysRun => "always_run".to_owned(),
        Why::Forced => "forced".to_owned(),
        Why::RunIfChangedMatched(file) => format!("run_if_changed matched {file}"),
        Why::RunIfChangedNoMatch => format!("run_if_changed: no changed file matched {pattern}"),
        Why::SkipIfOnlyChangedOther(file) => {
            format!("skip_if_only_changed: {file} did not match")
        }
        Why::SkipIfOnlyChangedAllMatched => {
            format!("skip_if_only_changed: all files matched {pattern}")
        }
        Why::NoChangedFiles => "the change touches no files".to_owned(),
        Why::Default(true) => "runs by default".to_owned(),
        Why::Default(false) => "no change rule and not requested".to_owned(),
        Why::AlwaysRunFalse => "always_run: false".to_owned(),
        Why::EveryPush => "runs on every push (always_run unset)".to_owned(),
    }
}

/// Prow's `MayNeedHelpComment`: whether the comment might get a `/test` help reply.
pub fn may_need_help_comment(body: &str) -> bool {
    EMPTY_TEST_RE.is_match(body)
        || RETEST_WITH_TARGET_RE.is_match(body)
        || TEST_WITH_ANY_TARGET_RE.is_match(body)
        || TEST_HELP_RE.is_match(body)
}

/// Prow's `ShouldRespondWithHelp`: `Some(note)` when the comment gets a help reply, given how
/// many jobs it runs or skips. The note is empty for `/test ?`.
pub fn help_note(body: &str, to_run_or_skip: usize) -> Option<&'static str> {
    if TEST_HELP_RE.is_match(body) {
        Some("")
    } else if EMPTY_TEST_RE.is_match(body) {
        Some(TEST_WITHOUT_TARGET_NOTE)
    } else if RETEST_WITH_TARGET_RE.is_match(body) {
        Some(RETEST_WITH_TARGET_NOTE)
    } else if to_run_or_skip == 0 && TEST_ALL_RE.is_match(body) {
        Some(NO_TEST_ALL_JOBS_NOTE)
    } else if to_run_or_skip == 0 && TEST_WITH_ANY_TARGET_RE.is_match(body) {
        Some(TARGET_NOT_FOUND_NOTE)
    } else {
        None
    }
}

/// Prow's `ShouldRespondByPruningHelp`: any `/test` or `/retest` prunes earlier help replies.
pub fn prunes_help(body: &str) -> bool {
    ANY_TEST_RE.is_match(body)
}

/// Prow's `IsHelpComment`: whether a comment is one of our help replies.
pub fn is_help_comment(body: &str) -> bool {
    [
        TEST_WITHOUT_TARGET_NOTE,
        RETEST_WITH_TARGET_NOTE,
        TARGET_NOT_FOUND_NOTE,
        NO_TEST_ALL_JOBS_NOTE,
        REQUIRED_NOTE,
        OPTIONAL_NOTE,
    ]
    .iter()
    .any(|note| body.contains(note))
}

/// What `/test` can start on a branch (Prow's `AvailablePresubmits`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Available {
    /// Jobs `/test all` starts.
    pub test_all: BTreeSet<String>,
    /// Rerun commands of optional jobs.
    pub optional: BTreeSet<String>,
    /// Rerun commands of required jobs.
    pub required: BTreeSet<String>,
}

/// Prow's `AvailablePresubmits`: the jobs `/test all` would start, and the rerun commands
/// that start a job on this branch, split by optional and required.
pub fn available_presubmits(
    changes: &(impl ChangedFiles + ?Sized),
    branch: &str,
    presubmits: &[Presubmit],
) -> Result<Available, ChangesError> {
    let mut out = Available::default();
    for job in filter_presubmits(&PresubmitFilter::test_all(), changes, branch, presubmits)? {
        out.test_all.insert(job.name.clone());
    }
    for job in presubmits {
        let selected = presubmits
            .iter()
            .any(|p| job.trigger_matches(&p.rerun_command));
        if selected && job.should_run(branch, changes, true, true)? {
            let set = if job.optional {
                &mut out.optional
            } else {
                &mut out.required
            };
            set.insert(job.rerun_command.clone());
        }
    }
    Ok(out)
}

/// Prow's `HelpMessage`: the reply listing the commands available on `org/repo@branch`.
pub fn help_message(
    org: &str,
    repo: &str,
    branch: &str,
    note: &str,
    available: &Available,
) -> String {
    let Available {
        test_all,
        optional,
        required,
    } = available;
    if test_all.len() + optional.len() + required.len() == 0 {
        return format!("No presubmit jobs available for {org}/{repo}@{branch}");
    }
    let list = |names: &BTreeSet<String>| {
        let mut s = String::new();
        for name in names {
            let _ = write!(s, "\n```\n{name}\n```");
        }
        s
    };
    let mut out = note.to_owned();
    if !required.is_empty() {
        let _ = write!(out, "{REQUIRED_NOTE}{}\n\n", list(required));
    }
    if !optional.is_empty() {
        let _ = write!(out, "{OPTIONAL_NOTE}{}\n\n", list(optional));
    }
    if test_all.len() == optional.len() + required.len() {
        out.push_str("Use `/test all` to run all jobs.\n");
    } else if !test_all.is_empty() {
        let _ = write!(
            out,
            "Use `/test all` to run the following jobs that were automatically triggered:{}\n\n",
            list(test_all)
        );
    }
    out
}
