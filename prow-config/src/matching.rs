//! Which jobs run for a change: Prow's branchers, change matchers and the presubmit and
//! postsubmit predicates (`pkg/config/jobs.go`), each able to say why.
//!
//! Branch regexes are unanchored, as upstream: `release-4.1` also matches `release-4.10`. A
//! job's regexes compile once, on first use, and stay cached in the job.

use std::fmt;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use crate::jobs::{Postsubmit, Presubmit};

/// A failure to learn which files a change touches (for example a GitHub error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error getting changed files: {0}")]
pub struct ChangesError(pub String);

/// The files a change touches, looked up only when some job needs them (Prow's
/// `ChangedFilesProvider`).
pub trait ChangedFiles {
    /// The changed file paths.
    fn changed_files(&self) -> Result<&[String], ChangesError>;
}

impl ChangedFiles for [String] {
    fn changed_files(&self) -> Result<&[String], ChangesError> {
        Ok(self)
    }
}

impl ChangedFiles for Vec<String> {
    fn changed_files(&self) -> Result<&[String], ChangesError> {
        Ok(self)
    }
}

/// Changed files fetched on first use and remembered, like Prow's deferred GitHub provider.
pub struct LazyChanges<F> {
    fetch: F,
    files: OnceLock<Result<Vec<String>, ChangesError>>,
}

impl<F: Fn() -> Result<Vec<String>, ChangesError>> LazyChanges<F> {
    /// Wraps a fetch that runs at most once.
    pub fn new(fetch: F) -> Self {
        Self {
            fetch,
            files: OnceLock::new(),
        }
    }

    /// Whether the files have been fetched.
    pub fn fetched(&self) -> bool {
        self.files.get().is_some()
    }
}

impl<F: Fn() -> Result<Vec<String>, ChangesError>> ChangedFiles for LazyChanges<F> {
    fn changed_files(&self) -> Result<&[String], ChangesError> {
        self.files
            .get_or_init(|| (self.fetch)())
            .as_deref()
            .map_err(Clone::clone)
    }
}

impl<F> fmt::Debug for LazyChanges<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyChanges")
            .field("files", &self.files.get())
            .finish()
    }
}

/// Compiles `patterns` joined with `|`, as Prow does for `branches` and `skip_branches`.
fn joined(patterns: &[String]) -> Result<Option<Regex>, regex::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    Regex::new(&patterns.join("|")).map(Some)
}

/// Prow's `Brancher`: the branches a job runs on.
#[derive(Debug, Clone, Default)]
pub struct Brancher {
    branches: Vec<String>,
    skip_branches: Vec<String>,
    re: Option<Regex>,
    re_skip: Option<Regex>,
}

/// Why a brancher lets a job run on a branch, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchVerdict {
    /// Neither `branches` nor `skip_branches` is set.
    AllBranches,
    /// A `branches` regex matches (or only `skip_branches` is set and none matches).
    Included,
    /// A `skip_branches` regex matches; skipping wins over `branches`.
    Skipped,
    /// `branches` is set and none matches.
    NotListed,
}

impl BranchVerdict {
    /// Whether the job may run on the branch.
    pub fn runs(self) -> bool {
        matches!(self, Self::AllBranches | Self::Included)
    }
}

impl Brancher {
    /// Compiles the two lists; the error names which one failed, in Prow's words.
    pub fn new(branches: &[String], skip_branches: &[String]) -> Result<Self, String> {
        let re = joined(branches)
            .map_err(|e| format!("could not compile positive branch regex: {e}"))?;
        let re_skip = joined(skip_branches)
            .map_err(|e| format!("could not compile negative branch regex: {e}"))?;
        Ok(Self {
            branches: branches.to_vec(),
            skip_branches: skip_branches.to_vec(),
            re,
            re_skip,
        })
    }

    /// Whether neither list is set.
    pub fn runs_against_all_branches(&self) -> bool {
        self.branches.is_empty() && self.skip_branches.is_empty()
    }

    /// Prow's `Brancher.ShouldRun`, with the reason.
    pub fn verdict(&self, branch: &str) -> BranchVerdict {
        if self.runs_against_all_branches() {
            return BranchVerdict::AllBranches;
        }
        if self.re_skip.as_ref().is_some_and(|re| re.is_match(branch)) {
            return BranchVerdict::Skipped;
        }
        match &self.re {
            Some(re) if !re.is_match(branch) => BranchVerdict::NotListed,
            _ => BranchVerdict::Included,
        }
    }

    /// Prow's `Brancher.ShouldRun`: skip wins, unanchored regexes.
    pub fn should_run(&self, branch: &str) -> bool {
        self.verdict(branch).runs()
    }

    /// Prow's `Brancher.Intersects`: whether two jobs could both run on some branch. Used to
    /// find duplicate jobs and contexts.
    pub fn intersects(&self, other: &Brancher) -> bool {
        if self.runs_against_all_branches() || other.runs_against_all_branches() {
            return true;
        }
        if !self.branches.is_empty() {
            if !other.branches.is_empty() {
                return self.branches.iter().any(|b| other.branches.contains(b));
            }
            return self.branches.iter().any(|b| other.should_run(b));
        }
        if other.branches.is_empty() {
            return true;
        }
        other.intersects(self)
    }

    /// The patterns of the list that decided `verdict`, for explanations.
    pub fn deciding_patterns(&self, branch: &str, verdict: BranchVerdict) -> Vec<&str> {
        let list = match verdict {
            BranchVerdict::Skipped => &self.skip_branches,
            BranchVerdict::NotListed => return self.branches.iter().map(String::as_str).collect(),
            BranchVerdict::Included => &self.branches,
            BranchVerdict::AllBranches => return Vec::new(),
        };
        let hits: Vec<&str> = list
            .iter()
            .filter(|p| Regex::new(p).is_ok_and(|re| re.is_match(branch)))
            .map(String::as_str)
            .collect();
        // A pattern may only compile joined with its neighbours; then name them all.
        if hits.is_empty() {
            list.iter().map(String::as_str).collect()
        } else {
            hits
        }
    }
}

/// Which change rule a job uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeRule {
    /// Run when any changed file matches.
    RunIfChanged,
    /// Skip when every changed file matches.
    SkipIfOnlyChanged,
}

/// Prow's `RegexpChangeMatcher`: `run_if_changed` or `skip_if_only_changed`.
#[derive(Debug, Clone, Default)]
pub struct ChangeMatcher {
    rule: Option<(ChangeRule, Regex)>,
}

impl ChangeMatcher {
    /// Compiles the rule; `run_if_changed` wins when both are set (validation rejects that).
    pub fn new(run_if_changed: &str, skip_if_only_changed: &str) -> Result<Self, String> {
        let (rule, pattern, field) = if !run_if_changed.is_empty() {
            (ChangeRule::RunIfChanged, run_if_changed, "run_if_changed")
        } else if !skip_if_only_changed.is_empty() {
            (
                ChangeRule::SkipIfOnlyChanged,
                skip_if_only_changed,
                "skip_if_only_changed",
            )
        } else {
            return Ok(Self::default());
        };
        let re =
            Regex::new(pattern).map_err(|e| format!("could not compile {field} regex: {e}"))?;
        Ok(Self {
            rule: Some((rule, re)),
        })
    }

    /// The rule and its regex, when set.
    pub fn rule(&self) -> Option<(ChangeRule, &Regex)> {
        self.rule.as_ref().map(|(rule, re)| (*rule, re))
    }

    /// Prow's `CouldRun`: whether a change rule is set.
    pub fn could_run(&self) -> bool {
        self.rule.is_some()
    }

    /// The file that makes the job run: the first matching one for `run_if_changed`, the first
    /// not matching one for `skip_if_only_changed`. `None` means the job does not run; an
    /// empty change list never runs it.
    pub fn deciding_file<'c>(&self, changes: &'c [String]) -> Option<&'c str> {
        let (rule, re) = self.rule.as_ref()?;
        let run_if = *rule == ChangeRule::RunIfChanged;
        changes
            .iter()
            .find(|f| re.is_match(f) == run_if)
            .map(String::as_str)
    }

    /// Prow's `RunsAgainstChanges`.
    pub fn runs_against_changes(&self, changes: &[String]) -> bool {
        self.deciding_file(changes).is_some()
    }
}

/// The first rules every job applies: its regexes compile and its branch rules allow
/// `branch`. Passes the change rule on, or says why the job does not run.
fn branch_gate<'m>(
    brancher: Result<&Brancher, &str>,
    changes: Result<&'m ChangeMatcher, &str>,
    branch: &str,
) -> Result<&'m ChangeMatcher, Decision<'static>> {
    let (Ok(brancher), Ok(matcher)) = (brancher, changes) else {
        return Err(Decision::new(false, Why::InvalidRegex));
    };
    let verdict = brancher.verdict(branch);
    if verdict.runs() {
        Ok(matcher)
    } else {
        Err(Decision::new(false, Why::Branch(verdict)))
    }
}

/// A job's regexes, each compiled on first use: a branch check compiles only the branch
/// rules, so checking thousands of jobs against branches does not compile their triggers.
/// It is a cache: it takes no part in equality.
#[derive(Clone, Default)]
pub(crate) struct Compiled {
    trigger: OnceLock<Arc<Option<Regex>>>,
    brancher: OnceLock<Arc<Result<Brancher, String>>>,
    changes: OnceLock<Arc<Result<ChangeMatcher, String>>>,
}

impl Compiled {
    /// The trigger regex, when set and valid.
    fn trigger(&self, trigger: &str) -> Option<&Regex> {
        self.trigger
            .get_or_init(|| {
                Arc::new(
                    (!trigger.is_empty())
                        .then(|| crate::goregex::compile(trigger).ok())
                        .flatten(),
                )
            })
            .as_ref()
            .as_ref()
    }

    /// The branch rules, or the compile error.
    fn brancher(&self, branches: &[String], skip: &[String]) -> Result<&Brancher, &str> {
        self.brancher
            .get_or_init(|| Arc::new(Brancher::new(branches, skip)))
            .as_ref()
            .as_ref()
            .map_err(String::as_str)
    }

    /// The change rule, or the compile error.
    fn changes(&self, ric: &str, sioc: &str) -> Result<&ChangeMatcher, &str> {
        self.changes
            .get_or_init(|| Arc::new(ChangeMatcher::new(ric, sioc)))
            .as_ref()
            .as_ref()
            .map_err(String::as_str)
    }
}

impl PartialEq for Compiled {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled")
            .field("trigger", &self.trigger.get().is_some())
            .field("brancher", &self.brancher.get().is_some())
            .field("changes", &self.changes.get().is_some())
            .finish()
    }
}

/// Why a job runs for a change, or does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Why<'a> {
    /// The branch is excluded (by `skip_branches`, or absent from `branches`).
    Branch(BranchVerdict),
    /// A branch or change regex does not compile (validation reports it).
    InvalidRegex,
    /// `always_run: true`.
    AlwaysRun,
    /// A command (`/test foo`, `/test-manual-required`) forces it.
    Forced,
    /// `run_if_changed` matched this file.
    RunIfChangedMatched(&'a str),
    /// `run_if_changed` matched no changed file.
    RunIfChangedNoMatch,
    /// This file does not match `skip_if_only_changed`.
    SkipIfOnlyChangedOther(&'a str),
    /// Every changed file matches `skip_if_only_changed`.
    SkipIfOnlyChangedAllMatched,
    /// The change touches no files, so change rules do not run the job.
    NoChangedFiles,
    /// No change rule; the filter's default decides (run when true).
    Default(bool),
    /// Postsubmit with `always_run: false` and no change rule.
    AlwaysRunFalse,
    /// Postsubmit with neither `always_run` nor a change rule: runs on every push.
    EveryPush,
}

/// A decision with its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision<'a> {
    /// Whether the job runs.
    pub runs: bool,
    /// Why.
    pub why: Why<'a>,
}

impl<'a> Decision<'a> {
    fn new(runs: bool, why: Why<'a>) -> Self {
        Self { runs, why }
    }
}

/// Decides a change rule that is set, lazily fetching the files.
fn decide_changes<'a>(
    matcher: &ChangeMatcher,
    changes: &'a (impl ChangedFiles + ?Sized),
) -> Result<Decision<'a>, ChangesError> {
    let files = changes.changed_files()?;
    if files.is_empty() {
        return Ok(Decision::new(false, Why::NoChangedFiles));
    }
    let file = matcher.deciding_file(files);
    let rule = matcher.rule().map(|(rule, _)| rule);
    Ok(match (rule, file) {
        (Some(ChangeRule::RunIfChanged), Some(f)) => {
            Decision::new(true, Why::RunIfChangedMatched(f))
        }
        (Some(ChangeRule::RunIfChanged), None) => Decision::new(false, Why::RunIfChangedNoMatch),
        (_, Some(f)) => Decision::new(true, Why::SkipIfOnlyChangedOther(f)),
        (_, None) => Decision::new(false, Why::SkipIfOnlyChangedAllMatched),
    })
}

/// The accessors presubmits and postsubmits share over their compiled regexes.
macro_rules! compiled_accessors {
    () => {
        /// Compiles the job's regexes now instead of on first use.
        pub fn compile_matchers(&self) {
            self.trigger_regex();
            let _ = self.brancher();
            let _ = self.change_matcher();
        }

        /// The compiled branch rules (an error when a regex does not compile).
        pub fn brancher(&self) -> Result<&Brancher, &str> {
            self.matchers.brancher(&self.branches, &self.skip_branches)
        }

        /// The compiled change rule (an error when its regex does not compile).
        pub fn change_matcher(&self) -> Result<&ChangeMatcher, &str> {
            self.matchers
                .changes(&self.run_if_changed, &self.skip_if_only_changed)
        }

        /// Prow's `CouldRun`: whether the branch rules allow `branch`.
        pub fn could_run(&self, branch: &str) -> bool {
            self.brancher().is_ok_and(|b| b.should_run(branch))
        }

        /// The rules before a change is looked at (see [`branch_gate`]).
        fn branch_gate(&self, branch: &str) -> Result<&ChangeMatcher, Decision<'static>> {
            branch_gate(self.brancher(), self.change_matcher(), branch)
        }
    };
}

impl Presubmit {
    /// The trigger regex, when set and valid.
    fn trigger_regex(&self) -> Option<&Regex> {
        self.matchers.trigger(&self.trigger)
    }

    compiled_accessors!();

    /// Whether `run_if_changed` or `skip_if_only_changed` is set.
    pub fn has_change_rule(&self) -> bool {
        !self.run_if_changed.is_empty() || !self.skip_if_only_changed.is_empty()
    }

    /// Prow's `NeedsExplicitTrigger`: neither `always_run` nor a change rule.
    pub fn needs_explicit_trigger(&self) -> bool {
        !self.always_run && !self.has_change_rule()
    }

    /// Prow's `TriggersConditionally`.
    pub fn triggers_conditionally(&self) -> bool {
        self.needs_explicit_trigger() || self.has_change_rule()
    }

    /// Prow's `ContextRequired`: neither optional nor skipping its report.
    pub fn context_required(&self) -> bool {
        !self.optional && !self.skip_report
    }

    /// Prow's `TriggerMatches`: the trigger is set and matches the comment body.
    pub fn trigger_matches(&self, body: &str) -> bool {
        self.trigger_regex().is_some_and(|re| re.is_match(body))
    }

    /// The text of `body` the trigger matched, for explanations.
    pub fn trigger_match<'b>(&self, body: &'b str) -> Option<&'b str> {
        let m = self.trigger_regex()?.find(body)?;
        Some(body[m.start()..].lines().next().unwrap_or_default().trim())
    }

    /// Prow's `Presubmit.ShouldRun` with its reason: the branch must match; then `always_run`
    /// or `forced` runs it; then a change rule decides; otherwise `defaults` does.
    pub fn decide<'a>(
        &self,
        branch: &str,
        changes: &'a (impl ChangedFiles + ?Sized),
        forced: bool,
        defaults: bool,
    ) -> Result<Decision<'a>, ChangesError> {
        let matcher = match self.branch_gate(branch) {
            Ok(matcher) => matcher,
            Err(decision) => return Ok(decision),
        };
        if self.always_run {
            return Ok(Decision::new(true, Why::AlwaysRun));
        }
        if forced {
            return Ok(Decision::new(true, Why::Forced));
        }
        if matcher.could_run() {
            let decision = decide_changes(matcher, changes)?;
            if decision.runs || !defaults {
                return Ok(decision);
            }
        }
        Ok(Decision::new(defaults, Why::Default(defaults)))
    }

    /// Prow's `Presubmit.ShouldRun`.
    pub fn should_run(
        &self,
        branch: &str,
        changes: &(impl ChangedFiles + ?Sized),
        forced: bool,
        defaults: bool,
    ) -> Result<bool, ChangesError> {
        self.decide(branch, changes, forced, defaults)
            .map(|d| d.runs)
    }
}

impl Postsubmit {
    /// Postsubmits have no trigger.
    fn trigger_regex(&self) -> Option<&Regex> {
        None
    }

    compiled_accessors!();

    /// Prow's `Postsubmit.ShouldRun` with its reason: the branch must match; a change rule
    /// decides when set; otherwise `always_run` when set; otherwise it runs.
    pub fn decide<'a>(
        &self,
        branch: &str,
        changes: &'a (impl ChangedFiles + ?Sized),
    ) -> Result<Decision<'a>, ChangesError> {
        let matcher = match self.branch_gate(branch) {
            Ok(matcher) => matcher,
            Err(decision) => return Ok(decision),
        };
        if matcher.could_run() {
            return decide_changes(matcher, changes);
        }
        Ok(match self.always_run {
            Some(true) => Decision::new(true, Why::AlwaysRun),
            Some(false) => Decision::new(false, Why::AlwaysRunFalse),
            None => Decision::new(true, Why::EveryPush),
        })
    }

    /// Prow's `Postsubmit.ShouldRun`.
    pub fn should_run(
        &self,
        branch: &str,
        changes: &(impl ChangedFiles + ?Sized),
    ) -> Result<bool, ChangesError> {
        self.decide(branch, changes).map(|d| d.runs)
    }
}
